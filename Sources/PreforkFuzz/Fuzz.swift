import CPreforkShims
import PreforkCore
import SystemCalls

#if canImport(Glibc)
    import Glibc
#endif

#if FUZZING
    /// Built by `make fuzz` with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer's entry point,
    /// for the target named by FUZZ_TARGET.
    let selectedTarget: FuzzTarget = {
        let name = getenv("FUZZ_TARGET").map {
            String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self)
        }
        guard let name, let target = FuzzTarget(rawValue: name) else {
            fatalError("set FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }()

    /// SwiftPM names the entry point itself, so libFuzzer's own `main` is not used: this one
    /// hands the command line (`-runs=N`, corpus directories) to libFuzzer's driver.
    @main
    enum Fuzz {
        static func main() {
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
                    return 0
                })
        }
    }
#else
    /// The ordinary build: `prefork-fuzz TARGET FILE|DIRECTORY...` runs each input once through
    /// the target (the corpus and every crash found, as `make test` does), without libFuzzer.
    @main
    enum Replay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let first = arguments.first, let target = FuzzTarget(rawValue: first) else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
                try? FileIO.writeAll(2, Array("usage: prefork-fuzz \(names) FILE|DIRECTORY...\n".utf8))
                exit(2)
            }
            var count = 0
            for path in arguments.dropFirst() {
                for file in files(path) {
                    guard let bytes = try? FileIO.read(file) else { continue }
                    bytes.withUnsafeBytes { target.run($0) }
                    count += 1
                }
            }
            print("\(target.rawValue): \(count) inputs ran")
        }

        /// The file itself, or the files in a directory and its subdirectories.
        static func files(_ path: String) -> [String] {
            guard let directory = opendir(path) else { return [path] }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names += files(path + "/" + name) }
            }
            return names.sorted()
        }
    }
#endif
