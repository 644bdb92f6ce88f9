/// What a device label shows: the asset tag (large, and as a Code 128), three lines of
/// detail, and the QR payload (typically the asset's URL in Request Tracker).
public struct LabelContent: Sendable, Equatable {
    /// The asset tag, e.g. "W12-0001"; printed large and as the Code 128 bar code.
    public var tag: String
    /// The device name or model.
    public var name: String
    /// The serial number.
    public var serial: String
    /// Who the device is assigned to (a person, room or school).
    public var owner: String
    /// What the QR Code holds.
    public var qrPayload: String

    public init(tag: String, name: String, serial: String, owner: String, qrPayload: String) {
        self.tag = tag
        self.name = name
        self.serial = serial
        self.owner = owner
        self.qrPayload = qrPayload
    }
}
