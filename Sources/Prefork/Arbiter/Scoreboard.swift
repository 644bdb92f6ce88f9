import CPreforkShims
import PreforkCore

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

    /// What the worker in a slot last wrote: whether it serves, its in-flight request, its
    /// heartbeat and whether it asks to be retired.
    func reading(at index: Int) -> SlotReading {
        let slot = slots + index
        let state = prefork_slot_load_state(slot)
        return SlotReading(
            serving: state == UInt32(PREFORK_SLOT_IDLE) || state == UInt32(PREFORK_SLOT_BUSY)
                || state == UInt32(PREFORK_SLOT_DRAINING),
            request: request(at: index), heartbeat: prefork_slot_load_heartbeat(slot),
            retireReason: slot.pointee.retire_requested == 2
                ? .memory(kib: slot.pointee.memory_kib) : slot.pointee.retire_requested != 0 ? .maxRequests : nil)
    }

    /// The in-flight request of a slot, if any.
    func request(at index: Int) -> InFlightRequest? {
        var copy = prefork_slot_request()
        guard prefork_slot_read_request(slots + index, &copy) == 1, copy.request_start_ns != 0 else { return nil }
        func text<T>(_ tuple: inout T) -> String {
            withUnsafeBytes(of: &tuple) { raw in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return InFlightRequest(
            start: copy.request_start_ns, method: text(&copy.method), path: text(&copy.path),
            requestID: text(&copy.request_id))
    }
}
