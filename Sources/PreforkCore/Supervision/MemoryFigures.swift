/// A process's own memory, read from `/proc/self/smaps_rollup`: its unique set size (USS),
/// the pages no other process shares (private clean, private dirty, private huge pages). The
/// code and the heap the master built before fork stay shared and are not counted, so the
/// figure grows with what the worker itself allocated: leaks, caches, a large request.
public enum MemoryFigures {
    /// USS in KiB from the text of smaps_rollup, or nil when it holds no private figures.
    public static func ownKiB(smapsRollup text: String) -> UInt64? {
        var total: UInt64 = 0
        var found = false
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("Private_") else { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = UInt64(fields[1]) else { continue }
            total += kib
            found = true
        }
        return found ? total : nil
    }

    /// Whether a worker whose own memory is `kib` is over `limitKiB` (0: no limit).
    public static func isOver(kib: UInt64, limitKiB: Int) -> Bool {
        limitKiB > 0 && kib > UInt64(limitKiB)
    }
}
