import Prefork

/// The home page: what the tool does, with the day's figures.
struct HomePage {
    let context: AppContext

    /// Renders even before `migrate`, saying what is missing, so the first page an operator
    /// opens explains itself.
    func render(user: String?) -> Response {
        let today = Timestamp.now().localDate
        let figures: HTML
        do {
            let next = try context.tags.peekNext()
            let checkins = try context.checkins.list(from: today, to: today).count
            figures = """
                <div class="stats"><div><b class="tag">\(next)</b>next asset tag</div>
                <div><b>\(checkins)</b>check-ins today</div></div>
                """
        } catch {
            figures = Layout.message(
                "The database is not ready: run `request-tracker-utils migrate` (see /readyz).", ok: false)
        }
        return context.page("Request Tracker Utils", user: user) { page in
            page.append(
                """
                <p>Asset tags, printable labels and device check-in for the IT team.</p>
                \(figures)
                <ul>
                <li><a href="/tags">Issue asset tags</a> and see the ones issued</li>
                <li><a href="/labels">Print labels</a> with a QR code to the asset in Request Tracker and a barcode of its tag</li>
                <li><a href="/checkin">Check in a returned device</a>, and see <a href="/checkins">today's check-ins</a></li>
                <li><a href="/students">Students</a>: who still owes a device, by grade and advisor; import the roster</li>
                <li><a href="/assets">Look up an asset</a> in Request Tracker by tag or serial number</li>
                </ul>
                """)
        }
    }
}
