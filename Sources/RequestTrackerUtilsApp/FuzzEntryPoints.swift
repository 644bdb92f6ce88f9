/// The application's parsers of untrusted input, public for the fuzzer (`prefork-fuzz`); each
/// must return or throw for any bytes, never trap.
public enum FuzzEntryPoints {
    /// The student roster CSV reader (an uploaded or imported file).
    public static func rosterCSV(_ bytes: [UInt8]) {
        if let file = try? RosterCSV.read(bytes) { _ = RosterCSV.write(file.students) }
    }
}
