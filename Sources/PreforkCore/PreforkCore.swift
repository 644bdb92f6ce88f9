/// PreforkCore holds the pure parts of the server: HTTP parsing, the settings registry, the
/// supervision policy and log formats. Nothing here forks, binds or spawns threads.
public enum PreforkCore {
    public static let version = "0.1.0"
}
