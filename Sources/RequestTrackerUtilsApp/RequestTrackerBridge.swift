import Logging
import Prefork
import PreforkCore
import RequestTracker

/// The application's use of Request Tracker: asset details for labels and look-ups, and the
/// owner change and repair ticket of a check-in. Every call has RT_TIMEOUT; a failure is a
/// clear page (502 unreachable or refusing, 504 too slow), never a hung worker.
struct RequestTrackerBridge: AssetDirectory, CheckinSync {
    let client: RTClient
    let baseURL: String
    /// Who owns a device once it is checked in (RT's unassigned user by default).
    let checkinOwner: String
    let repairQueue: String
    let logger: Logger

    // MARK: Look-ups

    func details(tag: String) throws -> AssetDetails? {
        do {
            return Self.details(try client.asset(tag: tag))
        } catch let error where error.kind == .notFound {
            return nil
        }
    }

    static func details(_ asset: RTAsset) -> AssetDetails {
        AssetDetails(
            id: asset.id, name: asset.description.isEmpty ? asset.name : asset.description,
            serial: asset.serial ?? "", owner: asset.owner == "Nobody" ? "" : asset.owner)
    }

    func webURL(tag: String, id: Int?) -> String {
        if let id { return client.assetWebURL(id: id) }
        return baseURL + "/Search/Results.html?Class=RT::Assets&Query=" + PercentEncoding.encode("Name = '\(tag)'")
    }

    // MARK: Check-in

    func checkIn(_ checkin: CheckinStore.Checkin, _ input: CheckinRoutes.Input) -> CheckinSyncResult {
        var assetID: Int?
        var ticketID: Int?
        do {
            let asset: RTAsset
            do {
                asset = try client.asset(tag: checkin.tag)
            } catch let error where error.kind == .notFound {
                return CheckinSyncResult(
                    status: "not in RT",
                    summary: "Request Tracker has no asset named \(checkin.tag); nothing was changed there.",
                    failure: nil)
            }
            assetID = asset.id
            try client.updateAsset(id: asset.id, owner: checkinOwner)
            var summary = "Request Tracker: asset #\(asset.id) now owned by \(checkinOwner)"
            if input.condition == .damaged {
                ticketID = try client.createTicket(
                    queue: repairQueue, subject: "Repair \(checkin.tag): damaged at check-in",
                    text: """
                        \(checkin.tag) (\(asset.description.isEmpty ? asset.name : asset.description)) was checked in \
                        damaged on \(checkin.checkedInOn) from \(checkin.student) (check-in #\(checkin.id)\(Self.by(checkin))).

                        \(checkin.notes)
                        """,
                    refersToAsset: asset.id)
                summary += "; repair ticket #\(ticketID!) opened in \(repairQueue)"
            }
            return CheckinSyncResult(
                assetID: asset.id, ticketID: ticketID,
                status: ticketID.map { "updated, repair ticket #\($0)" } ?? "updated", summary: summary + ".",
                failure: nil)
        } catch {
            logger.error(
                "check-in #\(checkin.id) of \(checkin.tag): Request Tracker not updated: \(error)",
                metadata: checkin.checkedInBy.isEmpty ? nil : ["REMOTE_USER": "\(checkin.checkedInBy)"])
            return CheckinSyncResult(
                assetID: assetID, ticketID: ticketID, status: "failed: \(error.message)",
                summary: "The check-in is saved here (#\(checkin.id)), but Request Tracker was not updated: "
                    + "\(error). Retry from the check-ins page once RT answers.",
                failure: Self.status(error))
        }
    }

    /// Who recorded a check-in, for RT's ticket text: ", recorded by NAME".
    static func by(_ checkin: CheckinStore.Checkin) -> String {
        checkin.checkedInBy.isEmpty ? "" : ", recorded by \(checkin.checkedInBy)"
    }

    /// The status for a page that could not get what it needed from RT.
    static func status(_ error: RTError) -> HTTPStatus {
        switch error.kind {
        case .timeout: return .gatewayTimeout
        case .notFound: return .notFound
        case .configuration: return .serviceUnavailable
        default: return .badGateway
        }
    }
}
