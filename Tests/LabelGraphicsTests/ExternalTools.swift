import Foundation
import Testing

/// Runs rsvg-convert and zbarimg: renders an SVG to PNG and returns what zbar reads from it.
/// A missing tool fails the test (it is never skipped) with the install command.
enum ExternalTools {
    static let installHint = "apt-get install zbar-tools librsvg2-bin"

    /// The symbols zbarimg finds in the rasterised SVG, one string each (zbar prints one per
    /// line with `--raw`). `pixelWidth`/`pixelHeight` or `dpi` choose the resolution.
    static func decode(svg: String, pixelWidth: Int? = nil, pixelHeight: Int? = nil, dpi: Int? = nil) throws -> String {
        let rsvg = try #require(executable("rsvg-convert"), "rsvg-convert not found: \(installHint)")
        let zbar = try #require(executable("zbarimg"), "zbarimg not found: \(installHint)")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("labelgraphics-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let svgFile = directory.appendingPathComponent("symbol.svg")
        let pngFile = directory.appendingPathComponent("symbol.png")
        try Data(svg.utf8).write(to: svgFile)

        var arguments = ["--background-color", "white", "--format", "png", "--output", pngFile.path]
        if let pixelWidth { arguments += ["--width", String(pixelWidth)] }
        if let pixelHeight { arguments += ["--height", String(pixelHeight)] }
        if let dpi { arguments += ["--dpi-x", String(dpi), "--dpi-y", String(dpi)] }
        let rendered = try run(rsvg, arguments + [svgFile.path])
        try #require(rendered.status == 0, "rsvg-convert failed: \(rendered.error)")

        let decoded = try run(zbar, ["--raw", "-q", pngFile.path])
        try #require(decoded.status == 0, "zbarimg found no symbol (status \(decoded.status)) \(decoded.error)")
        var text = decoded.output
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// The full path of a tool on PATH (plus the usual system directories).
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> (
        status: Int32, output: String, error: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self)
        )
    }
}
