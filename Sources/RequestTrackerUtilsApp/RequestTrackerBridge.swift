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
    /// The deadline of a request that makes many RT calls on purpose (intake): most of the
    /// worker `timeout`, never less than `RT_TIMEOUT`.
    var batchSeconds: Double = 10

    /// One deadline for all the RT calls of one request: `RT_TIMEOUT`, which check-config keeps
    /// below the worker `timeout`, so a slow RT ends the request cleanly before the master would
    /// kill the worker mid-way.
    func deadline() -> RTDeadline { RTDeadline(seconds: client.configuration.timeout) }

    /// One deadline for a batch of RT work (device intake): see ``batchSeconds``.
    func batchDeadline() -> RTDeadline { RTDeadline(seconds: batchSeconds) }

    /// 80 % of the worker `timeout` (the rest is the margin for the database and the answer), at
    /// least `RT_TIMEOUT`; with no worker timeout, six times `RT_TIMEOUT`.
    static func batchSeconds(rtTimeout: Double, workerTimeout: Double) -> Double {
        workerTimeout > 0 ? max(rtTimeout, workerTimeout * 0.8) : rtTimeout * 6
    }

    // MARK: Look-ups

    func details(tag: String, deadline: RTDeadline?) throws(RTError) -> AssetDetails? {
        do {
            return Self.details(try client.asset(tag: tag, deadline: deadline))
        } catch  where error.kind == .notFound {
            return nil
        }
    }

    func tags(matching query: String, limit: Int, deadline: RTDeadline?) throws(RTError) -> [String] {
        let ids = try client.assetIDs(query: query, deadline: deadline)
        guard ids.count <= limit else {
            throw RTError(
                .rejected, url: client.configuration.url,
                "the query selects \(ids.count) assets, more than the \(limit) labels a batch may have: narrow it")
        }
        var tags: [String] = []
        for id in ids { tags.append(try client.asset(id: id, deadline: deadline).name) }
        return tags
    }

    func details(id: Int, deadline: RTDeadline?) throws(RTError) -> AssetDetails? {
        do {
            return Self.details(try client.asset(id: id, deadline: deadline))
        } catch  where error.kind == .notFound {
            return nil
        }
    }

    static func details(_ asset: RTAsset) -> AssetDetails { AssetDetails(asset) }

    func webURL(tag: String, id: Int?) -> String {
        if let id { return client.assetWebURL(id: id) }
        return baseURL + "/Search/Results.html?Class=RT::Assets&Query=" + PercentEncoding.encode("Name = '\(tag)'")
    }

    // MARK: Check-in

    /// Idempotent, so a retry after an unknown outcome changes RT at most once: the asset is
    /// read first (its owner before the change is what the check-in records), the owner set
    /// only if it is not already `checkinOwner`, and a ticket opened only if the check-in has
    /// none yet.
    func checkIn(_ checkin: CheckinStore.Checkin, _ input: CheckinRoutes.Input) -> CheckinSyncResult {
        var result = CheckinSyncResult(status: "", summary: "", failure: nil)
        let deadline = deadline()
        do {
            let asset: RTAsset
            do {
                asset = try client.asset(tag: checkin.tag, deadline: deadline)
            } catch let error where error.kind == .notFound {
                return CheckinSyncResult(
                    status: "not in RT",
                    summary: "Request Tracker has no asset named \(checkin.tag); nothing was changed there.",
                    failure: nil)
            }
            result.assetID = asset.id
            result.deviceType = asset.customFields["Type"]?.first ?? ""
            result.serial = asset.serial ?? ""
            if asset.owner != checkinOwner {
                result.previousOwner = asset.owner
                try client.updateAsset(id: asset.id, owner: checkinOwner, deadline: deadline)
            }
            var summary = "Request Tracker: asset #\(asset.id) now owned by \(checkinOwner)"
            var ticketID = checkin.rtTicketID
            if checkin.wantsTicket && ticketID == nil && checkin.rtStatus != "not sent" {
                // A try before this one may have opened it and died before saving its number:
                // the subject names the check-in, so look for it first.
                ticketID = try client.ticketIDs(
                    query: "Queue = '\(Self.quoted(repairQueue))' AND Subject LIKE '\(Self.quoted(checkin.tag)):' "
                        + "AND Subject LIKE 'check-in #\(checkin.id).' AND Created >= '\(Self.rtTime(checkin.checkedInAt))'",
                    deadline: deadline
                ).first
                result.ticketID = ticketID
            }
            if checkin.wantsTicket && ticketID == nil {
                ticketID = try client.createTicket(
                    queue: repairQueue, subject: Self.ticketSubject(checkin), text: Self.ticketText(checkin, asset),
                    refersToAsset: asset.id, deadline: deadline)
                result.ticketID = ticketID
            }
            if let ticketID { summary += "; repair ticket #\(ticketID) in \(repairQueue)" }
            result.status = ticketID.map { "updated, repair ticket #\($0)" } ?? "updated"
            result.summary = summary + "."
            return result
        } catch {
            logger.error(
                "check-in #\(checkin.id) of \(checkin.tag): Request Tracker not updated: \(error)",
                metadata: checkin.checkedInBy.isEmpty ? nil : ["REMOTE_USER": "\(checkin.checkedInBy)"])
            result.status = "failed: \(error.message)"
            result.summary =
                "The check-in is saved here (#\(checkin.id)), but Request Tracker was not updated: "
                + "\(error). Retry from the check-ins page once RT answers."
            result.failure = Self.status(error)
            return result
        }
    }

    /// A stored UTC timestamp as TicketSQL compares dates (`2026-12-01 05:00:00`, UTC), a minute
    /// early so clocks a little apart do not hide the ticket.
    static func rtTime(_ iso: String) -> String {
        let early = Timestamp(seconds: (Timestamp(iso8601: iso)?.seconds ?? 60) - 60).iso8601
        return String(early.dropLast().map { $0 == "T" ? " " : $0 })
    }

    /// `text` inside single quotes of a TicketSQL query.
    static func quoted(_ text: String) -> String { text.replacingOccurrences("'", "\\'") }

    /// Names the check-in, so a ticket can be found again from it (the final period keeps
    /// `#12.` from matching `#123.`).
    static func ticketSubject(_ checkin: CheckinStore.Checkin) -> String {
        checkin.condition == CheckinStore.Condition.damaged.rawValue
            ? "Repair \(checkin.tag): damaged at check-in #\(checkin.id)."
            : "Check \(checkin.tag): \(checkin.condition) at check-in #\(checkin.id)."
    }

    static func ticketText(_ checkin: CheckinStore.Checkin, _ asset: RTAsset) -> String {
        """
        \(checkin.tag) (\(asset.description.isEmpty ? asset.name : asset.description)) was checked in \
        \(checkin.condition) on \(checkin.checkedInOn) from \(checkin.student) (check-in #\(checkin.id)\(by(checkin))).

        \(checkin.notes)
        """
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
