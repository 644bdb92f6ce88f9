import CPreforkShims

/// The shared-memory scoreboard: one slot per worker, mapped by the master before it forks
/// (in the spirit of Apache httpd's). A worker writes only its own slot; the master reads them
/// all to see who is booting, idle, busy (and on what request) or draining.
struct Scoreboard {
    let slots: UnsafeMutablePointer<prefork_slot>
    let capacity: Int

    init(capacity: Int) throws(SystemError) {
        guard let slots = prefork_scoreboard_map(Int32(capacity)) else {
            throw SystemError("mmap", context: "scoreboard")
        }
        self.slots = slots
        self.capacity = capacity
    }

    /// A free slot for a new worker, cleared, or nil if all are in use.
    func claim(pid: Int32 = 0, generation: UInt64) -> Int? {
        for index in 0..<capacity where slots[index].state == UInt32(PREFORK_SLOT_FREE) {
            let slot = slots + index
            memsetZero(slot)
            slot.pointee.generation = generation
            prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_BOOTING))
            return index
        }
        return nil
    }

    func release(_ index: Int) {
        memsetZero(slots + index)
    }

    subscript(index: Int) -> UnsafeMutablePointer<prefork_slot> { slots + index }

    private func memsetZero(_ slot: UnsafeMutablePointer<prefork_slot>) {
        UnsafeMutableRawPointer(slot).initializeMemory(
            as: UInt8.self, repeating: 0, count: MemoryLayout<prefork_slot>.stride)
    }

    /// The in-flight request of a slot, if any.
    func request(at index: Int) -> (start: Int64, method: String, path: String, requestID: String)? {
        var copy = prefork_slot_request()
        guard prefork_slot_read_request(slots + index, &copy) == 1, copy.request_start_ns != 0 else { return nil }
        func text<T>(_ tuple: inout T) -> String {
            withUnsafeBytes(of: &tuple) { raw in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return (copy.request_start_ns, text(&copy.method), text(&copy.path), text(&copy.request_id))
    }
}
