import Prefork
import PreforkCore
import RequestTracker

/// Whose device this is: the RT asset a scanned tag names, its owner, and the owner's other
/// devices in RT (read before the check-in changes the owner).
struct DeviceOwner: Sendable, Equatable {
    struct Device: Sendable, Equatable {
        var assetID: Int
        var tag: String
        var type: String
        var serial: String
    }
    var device: Device
    /// The RT user name of the owner ("" when the asset has none, or is already checked in).
    var owner: String
    /// The owner's RT user number, when RT gave it.
    var ownerNumber: Int?
    var otherDevices: [Device]
}

enum OwnerLookup: Sendable {
    case found(DeviceOwner)
    case notInRT
    case failed(String, HTTPStatus)
}

extension RequestTrackerBridge {
    /// At most this many of the owner's other devices are read (one RT call each).
    static let otherDevicesShown = 10

    func owner(ofTag tag: String) -> OwnerLookup {
        let deadline = deadline()
        do {
            let asset = try client.asset(tag: tag, deadline: deadline)
            let device = Self.device(asset)
            guard asset.owner != checkinOwner, asset.owner != "Nobody", !asset.owner.isEmpty else {
                return .found(DeviceOwner(device: device, owner: "", otherDevices: []))
            }
            // AssetSQL finds an owner's assets by user number (RT 5 reads `Owner = 'name'` as no match).
            let number = try? client.userNumber(name: asset.owner, deadline: deadline)
            var ids: [Int] = []
            if let number { ids = try client.assetIDs(query: "Owner = '\(number)'", deadline: deadline) }
            var others: [DeviceOwner.Device] = []
            for id in ids where id != asset.id && others.count < Self.otherDevicesShown {
                others.append(Self.device(try client.asset(id: id, deadline: deadline)))
            }
            return .found(DeviceOwner(device: device, owner: asset.owner, ownerNumber: number, otherDevices: others))
        } catch let error where error.kind == .notFound {
            return .notInRT
        } catch {
            return .failed("Request Tracker did not say whose \(tag) is: \(error)", Self.status(error))
        }
    }

    private static func device(_ asset: RTAsset) -> DeviceOwner.Device {
        DeviceOwner.Device(
            assetID: asset.id, tag: asset.name, type: asset.customField("Type") ?? "", serial: asset.serial ?? "")
    }
}

extension CheckinRoutes {
    /// Why a check-in for a roster student cannot go ahead as it is.
    enum StudentProblem {
        case unknown(String)
        case alreadyReturned(RosterCSV.Student, tag: String, on: String)
    }

    /// Fills in the student's name from the roster and checks that they have not already
    /// returned another device (unless the form or API confirmed a second one).
    func checkStudent(_ input: inout Input) throws -> StudentProblem? {
        guard let id = input.studentID else { return nil }
        let students = StudentStore(database: context.database)
        guard let student = try students.find(id: id) else { return .unknown(id) }
        if input.student.isEmpty { input.student = "\(student.firstName) \(student.lastName)" }
        if !input.secondDevice, input.replace == nil,
            let earlier = try students.returned(studentID: id, other: input.tag)
        {
            return .alreadyReturned(student, tag: earlier.tag, on: earlier.on)
        }
        return nil
    }

    static func message(_ problem: StudentProblem, api: Bool) -> String {
        switch problem {
        case .unknown(let id):
            return "student_id \(id) is not on the roster: import the roster, or type the name instead"
        case .alreadyReturned(let student, let tag, let on):
            let confirm =
                api
                ? " To record this device too, send it again with \"second_device\": true."
                : " Check in this device too only if the student had two."
            return "\(student.firstName) \(student.lastName) (\(student.studentID)) already returned \(tag) on \(on)."
                + confirm
        }
    }

    /// The card above the form after a scan: the device in RT, its owner matched to the roster,
    /// and the owner's other devices.
    func ownerCard(_ tag: String, into page: inout HTMLWriter, fields: inout [String: String]) throws {
        guard let bridge = requestTracker as? RequestTrackerBridge else { return }
        switch bridge.owner(ofTag: tag) {
        case .notInRT:
            page.append(
                Layout.message("Request Tracker has no asset named \(tag): type the student's name.", ok: false))
        case .failed(let text, _):
            page.append(Layout.message(text + " Type the student's name.", ok: false))
        case .found(let found):
            page.append(
                """
                <div class="card owner"><p>\(tag): RT asset #\(found.device.assetID)\
                \(found.device.type.isEmpty ? "" : ", \(found.device.type)")\
                \(found.device.serial.isEmpty ? "" : ", serial \(found.device.serial)").</p>
                """)
            let students = StudentStore(database: context.database)
            if found.owner.isEmpty {
                page.append("<p>RT has no owner for it: type the student's name.</p>")
            } else if let student = try students.find(rtUser: found.owner, number: found.ownerNumber) {
                fields["student_id"] = student.studentID
                fields["student"] = "\(student.firstName) \(student.lastName)"
                page.append(
                    """
                    <p>Owner in RT: \(found.owner), that is <b>\(student.firstName) \(student.lastName)</b> \
                    (\(student.studentID), grade \(student.grade), advisor \(student.advisor))\
                    \(raw: student.active ? "" : " <b>(inactive on the roster)</b>").</p>
                    """)
                if let earlier = try students.returned(studentID: student.studentID, other: tag) {
                    page.append("<p><b>Already returned \(earlier.tag) on \(earlier.on).</b></p>")
                }
            } else {
                fields["student"] = fields["student"] ?? found.owner
                page.append("<p>Owner in RT: \(found.owner), who is not on the roster.</p>")
            }
            if !found.otherDevices.isEmpty {
                page.append("<p>Their other devices in RT:</p><ul>")
                for other in found.otherDevices {
                    page.append(
                        "<li><span class=\"tag\">\(other.tag)</span> \(other.type) \(other.serial) (#\(other.assetID))</li>"
                    )
                }
                page.append("</ul>")
            }
            page.append("</div>")
        }
    }
}
