/// What an epoll registration is, carried in `epoll_event.data.u64`. The bit layout is private
/// to this type: the top two bits say the kind; a connection keeps its descriptor in the low 32
/// bits and a serial above them, so an event for a descriptor that was closed and reused since
/// the event was queued is recognised as stale.
enum EventToken: Equatable {
    /// The worker's signal pipe (signals queued by the handler).
    case signalPipe
    /// A listening socket, by its index in the worker's listener list.
    case listener(Int)
    /// A client connection.
    case connection(fd: Int32, serial: UInt32)

    /// Serials wrap within this mask (30 bits).
    static let serialMask: UInt32 = (1 << 30) - 1

    private static let kindShift: UInt64 = 62
    private static let connectionKind: UInt64 = 0
    private static let listenerKind: UInt64 = 1
    private static let signalPipeKind: UInt64 = 2

    var rawValue: UInt64 {
        switch self {
        case .connection(let fd, let serial):
            return EventToken.connectionKind << EventToken.kindShift
                | UInt64(serial & EventToken.serialMask) << 32 | UInt64(UInt32(bitPattern: fd))
        case .listener(let index):
            return EventToken.listenerKind << EventToken.kindShift | UInt64(index)
        case .signalPipe:
            return EventToken.signalPipeKind << EventToken.kindShift
        }
    }

    init?(rawValue: UInt64) {
        let payload = rawValue & ((1 << EventToken.kindShift) - 1)
        switch rawValue >> EventToken.kindShift {
        case EventToken.connectionKind:
            self = .connection(
                fd: Int32(bitPattern: UInt32(truncatingIfNeeded: payload)),
                serial: UInt32(truncatingIfNeeded: payload >> 32))
        case EventToken.listenerKind:
            self = .listener(Int(payload))
        case EventToken.signalPipeKind:
            self = .signalPipe
        default:
            return nil
        }
    }

    /// The serial after `serial`, within the mask, never 0.
    static func serial(after serial: UInt32) -> UInt32 {
        let next = (serial &+ 1) & serialMask
        return next == 0 ? 1 : next
    }
}
