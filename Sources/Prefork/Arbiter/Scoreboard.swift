import CPreforkShims
import PreforkCore

/// The shared-memory scoreboard: one slot per worker, mapped by the master before it forks
/// (in the spirit of Apache httpd's), beside the totals and application metrics the metrics
/// endpoint reads. A worker writes only its own slot; the master reads them all to see who is
/// booting, idle, busy (and on what request) or draining. It lives in a memfd, so a master
/// re-executed by USR2 maps the same memory as the workers it adopts.
struct Scoreboard {
    let shared: UnsafeMutablePointer<prefork_shared>
    let slots: UnsafeMutablePointer<prefork_slot>
    let capacity: Int
    /// The memfd (close-on-exec, except across a USR2 re-exec).
    let fd: Int32

    init(capacity: Int) throws(SystemError) {
        var fd: Int32 = -1
        guard let shared = prefork_shared_create(Int32(capacity), &fd) else {
            throw SystemError("memfd_create", context: "scoreboard")
        }
        self.init(shared: shared, fd: fd)
        shared.pointee.totals.started_realtime_ns = Clock.realtime()
    }

    /// The scoreboard a previous master (before its USR2 re-exec) left in memfd `fd`.
    init(inheriting fd: Int32) throws(SystemError) {
        guard let shared = prefork_shared_attach(fd) else {
            throw SystemError("mmap", context: "the scoreboard inherited through USR2 (fd \(fd))")
        }
        _ = prefork_set_cloexec(fd, 1)
        self.init(shared: shared, fd: fd)
    }

    private init(shared: UnsafeMutablePointer<prefork_shared>, fd: Int32) {
        self.shared = shared
        self.slots = prefork_shared_slots(shared)
        self.capacity = Int(shared.pointee.slot_count)
        self.fd = fd
    }

    /// A free slot for a new worker, cleared, or nil if all are in use.
    func claim(generation: UInt64, kind: WorkerRecord.Kind) -> Int? {
        for index in 0..<capacity where slots[index].state == UInt32(PREFORK_SLOT_FREE) {
            let slot = slots + index
            UnsafeMutableRawPointer(slot).initializeMemory(
                as: UInt8.self, repeating: 0, count: MemoryLayout<prefork_slot>.stride)
            slot.pointee.generation = generation
            slot.pointee.kind = UInt32(kind == .job ? PREFORK_KIND_JOB : PREFORK_KIND_HTTP)
            prefork_slot_store_state(slot, UInt32(PREFORK_SLOT_BOOTING))
            return index
        }
        return nil
    }

    /// Frees a dead worker's slot, its counters added to the totals first.
    func release(_ index: Int) {
        prefork_shared_retire_slot(shared, Int32(index))
    }

    func countExit(_ cause: ExitCause) {
        prefork_shared_count_exit(shared, Int32(cause.rawValue))
    }

    subscript(index: Int) -> UnsafeMutablePointer<prefork_slot> { slots + index }

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
        return InFlightRequest(
            start: copy.request_start_ns, method: cString(&copy.method), path: cString(&copy.path),
            requestID: cString(&copy.request_id))
    }
}

/// The text of a fixed-size C char array (a tuple in Swift), up to its first NUL.
func cString<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
