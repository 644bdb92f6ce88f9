import Foundation
import Logging
import Testing

@testable import Systemd

@Suite struct NotifyMessageTests {
    @Test func formatsEachState() {
        #expect(NotifyState.ready.line == "READY=1")
        #expect(NotifyState.reloading(monotonicMicros: 42).line == "RELOADING=1\nMONOTONIC_USEC=42")
        #expect(NotifyState.stopping.line == "STOPPING=1")
        #expect(NotifyState.mainPID(7).line == "MAINPID=7")
        #expect(NotifyState.watchdog.line == "WATCHDOG=1")
        #expect(NotifyState.extendTimeout(micros: 5_000_000).line == "EXTEND_TIMEOUT_USEC=5000000")
        #expect(NotifyState.status("2 workers\n(0 busy)").line == "STATUS=2 workers (0 busy)")
        #expect(NotifyState.message([.ready, .mainPID(9)]) == "READY=1\nMAINPID=9")
    }

    @Test func absentWithoutNotifySocket() {
        #expect(ServiceNotifier(environment: [:]) == nil)
        #expect(ServiceNotifier(environment: ["NOTIFY_SOCKET": ""]) == nil)
    }

    /// sd_notify really sends the datagram to the socket named by NOTIFY_SOCKET.
    @Test func sendsToTheNotifySocket() throws {
        let path = NSTemporaryDirectory() + "notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let notifier = try #require(ServiceNotifier(environment: ["NOTIFY_SOCKET": path]))
        #expect(notifier.send(.ready, .status("1 worker")) == nil)
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n > 0)
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "READY=1\nSTATUS=1 worker")
    }
}

@Suite struct JournalFieldTests {
    @Test(arguments: [
        ("request_id", "REQUEST_ID"),
        ("worker_pid", "WORKER_PID"),
        ("http.method", "HTTP_METHOD"),
        ("remote-addr", "REMOTE_ADDR"),
        ("_private", "PRIVATE"),
        ("9lives", "X_9LIVES"),
        ("", "FIELD"),
        ("é", "FIELD"),
    ])
    func normalizes(key: String, expected: String) {
        #expect(JournalFields.normalize(key) == expected)
    }

    @Test func longNamesAreCut() {
        #expect(JournalFields.normalize(String(repeating: "a", count: 100)).count == 64)
    }

    @Test func prioritiesFollowSyslog() {
        #expect(JournalLogHandler.priority(.critical) == 2)
        #expect(JournalLogHandler.priority(.error) == 3)
        #expect(JournalLogHandler.priority(.warning) == 4)
        #expect(JournalLogHandler.priority(.info) == 6)
        #expect(JournalLogHandler.priority(.debug) == 7)
    }

    @Test func journalStreamMustMatchStderr() {
        #expect(!ServiceEnvironment.stderrIsJournal(environment: [:]))
        #expect(!ServiceEnvironment.stderrIsJournal(environment: ["JOURNAL_STREAM": "1:2"]))
        var info = stat()
        fstat(2, &info)
        let matching = "\(info.st_dev):\(info.st_ino)"
        #expect(ServiceEnvironment.stderrIsJournal(environment: ["JOURNAL_STREAM": matching]))
    }
}
