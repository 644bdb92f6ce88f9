/// The addresses a host name resolved to, kept by each process: fresh for a minute, then
/// resolved again; when the resolver fails, the last answer is used for up to ten more minutes.
/// A worker so pays for DNS about once a minute instead of on every call to Request Tracker, and
/// a DNS outage does not take RT down with it. (`getaddrinfo` blocks outside the request's
/// deadline, so fewer calls to it also mean fewer waits that no timeout bounds.)
struct AddressCache {
    /// One `addrinfo` result, copied out of the resolver's list. The numbers are kept as `Int`
    /// on purpose: two adjacent `Int32` fields may be loaded into one 64-bit register and passed
    /// to `socket()` (an assembly syscall stub) with the neighbour in the upper half. The kernel
    /// ignores those bits, but a seccomp filter such as systemd's `RestrictAddressFamilies=`
    /// compares all 64 and refuses the call with EAFNOSUPPORT (seen under the shipped unit).
    struct Address: Equatable, Sendable {
        var family: Int
        var socketType: Int
        var socketProtocol: Int
        var bytes: [UInt8]
    }

    struct Entry {
        var addresses: [Address]
        var resolvedAt: Int64
    }

    var freshNanoseconds: Int64 = 60 * 1_000_000_000
    var staleNanoseconds: Int64 = 600 * 1_000_000_000
    private(set) var entries: [String: Entry] = [:]

    /// The addresses for `key` (host and port), from the cache while fresh, else from `resolve`;
    /// a failed `resolve` falls back to an answer younger than the stale limit.
    mutating func addresses(
        for key: String, now: Int64, resolve: () throws(HTTPClientError) -> [Address]
    ) throws(HTTPClientError) -> [Address] {
        if let entry = entries[key], now - entry.resolvedAt < freshNanoseconds { return entry.addresses }
        do {
            let addresses = try resolve()
            entries[key] = Entry(addresses: addresses, resolvedAt: now)
            return addresses
        } catch {
            if let entry = entries[key], now - entry.resolvedAt < staleNanoseconds { return entry.addresses }
            throw error
        }
    }
}
