import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

extension SignalTable {
    /// The signals a worker's handlers wrote into its (non-blocking) signal pipe since the last
    /// read, in order; none when the pipe is empty.
    static func queued(in pipe: Int32) -> [SignalEntry] {
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = read(pipe, &bytes, bytes.count)
        guard count > 0 else { return [] }
        return bytes[0..<count].compactMap { entry(Int32($0)) }
    }
}
