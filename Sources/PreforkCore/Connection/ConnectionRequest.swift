/// A complete request the state machine hands to the application: a copy of its head (the one
/// allocation a request costs), the parsed head (offsets into `head`) and the whole body.
public struct ConnectionRequest: Sendable {
    public var head: [UInt8]
    public var parsed: HTTPRequestHead
    public var body: [UInt8]

    public init(head: [UInt8], parsed: HTTPRequestHead, body: [UInt8]) {
        self.head = head
        self.parsed = parsed
        self.body = body
    }
}
