// swift-tools-version:6.0
import PackageDescription

/// Warnings are errors in every configuration (debug, release and the tests).
let strict: [SwiftSetting] = [
    .unsafeFlags(["-warnings-as-errors"])
]

let package = Package(
    name: "prefork",
    products: [
        .library(name: "Prefork", targets: ["Prefork"]),
        .executable(name: "request-tracker-utils", targets: ["RequestTrackerUtils"]),
        .executable(name: "prefork-fuzz", targets: ["PreforkFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // Small C helpers: macros Swift cannot import (WIFEXITED...), the async-signal-safe
        // handler, the packed epoll_event, and the seqlock'd scoreboard slot.
        .target(name: "CPreforkShims", cSettings: [.unsafeFlags(["-Wall", "-Werror"])]),
        // libsystemd (sd-daemon, sd-journal), imported only by the Systemd module.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The one Swift wrapper of libsystemd: notifications, socket activation, journald.
        .target(
            name: "Systemd",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The one system-call layer: EINTR retried in one place, failures as SystemError (call, errno).
        .target(name: "SystemCalls", swiftSettings: strict),
        // OpenSSL (libcrypto, libssl), imported only by the OpenSSLSupport module.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The one Swift wrapper of OpenSSL: SHA-256, HMAC, random bytes, password hashes.
        .target(name: "OpenSSLSupport", dependencies: ["COpenSSL"], swiftSettings: strict),
        // sqlite3, imported only by the SQLite module.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The one Swift wrapper of sqlite3: connections, cached prepared statements, backups.
        .target(name: "SQLite", dependencies: ["CSQLite"], swiftSettings: strict),
        // The one interface the application's stores are written against (`?` parameters,
        // rows by position, write transactions), over SQLite and PostgreSQL. No Foundation.
        .target(name: "Database", dependencies: ["SQLite", "PostgreSQL"], swiftSettings: strict),
        // libpq (PostgreSQL's client library), imported only by the PostgreSQL module.
        .systemLibrary(name: "CPostgreSQL", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The one Swift wrapper of libpq: blocking connections, parameterized and prepared
        // statements, text results, errors with their SQLSTATE.
        .target(name: "PostgreSQL", dependencies: ["CPostgreSQL"], swiftSettings: strict),
        // libcurl (Debian libcurl4-openssl-dev, nixpkgs curl), imported only by the Curl module.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The one Swift wrapper of libcurl: blocking requests on a reused easy handle (keep-alive,
        // TLS session reuse), one deadline per request, certificate verification, errors by kind.
        .target(name: "Curl", dependencies: ["CCurl"], swiftSettings: strict),
        // Request Tracker's REST 2.0 API: assets, tickets. JSON through FoundationEssentials' coders.
        .target(name: "RequestTracker", dependencies: ["Curl", "PreforkCore"], swiftSettings: strict),
        // Pure parts: HTTP parsing, settings registry, supervision policy, log formats.
        // No syscalls beyond reading a clock; unit-tested without forking.
        .target(
            name: "PreforkCore",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strict
        ),
        // The server: arbiter (master), workers, event loop, command line.
        .target(
            name: "Prefork",
            dependencies: [
                "CPreforkShims", "PreforkCore", "Systemd", "SystemCalls",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        // The reference application, as a library so tests can reach it.
        .target(
            name: "RequestTrackerUtilsApp",
            dependencies: [
                "Prefork", "PreforkCore", "OpenSSLSupport", "LabelGraphics", "RequestTracker",
                "SystemCalls", "Database", "LDAP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Pure Swift label graphics: QR Code (ISO/IEC 18004), Code 128 (ISO/IEC 15417) and the
        // printable asset label, all as SVG text. No dependencies, no Foundation.
        .target(name: "LabelGraphics", swiftSettings: strict),
        .executableTarget(
            name: "RequestTrackerUtils",
            dependencies: ["Prefork", "RequestTrackerUtilsApp"],
            swiftSettings: strict
        ),
        // The fuzz targets (docs/fuzzing.md): a corpus replayer in the ordinary build, libFuzzer
        // with `make fuzz` (-sanitize=fuzzer,address -D FUZZING).
        .executableTarget(
            name: "PreforkFuzz",
            dependencies: ["CPreforkShims", "PreforkCore", "RequestTracker", "RequestTrackerUtilsApp", "SystemCalls"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PreforkCoreTests",
            dependencies: ["PreforkCore"],
            resources: [.copy("Corpus")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PreforkTests", dependencies: ["Prefork", "PreforkCore", "RequestTrackerUtilsApp"],
            swiftSettings: strict),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd"], swiftSettings: strict),
        .testTarget(name: "OpenSSLSupportTests", dependencies: ["OpenSSLSupport"], swiftSettings: strict),
        .testTarget(name: "AppTests", dependencies: ["RequestTrackerUtilsApp", "Database"], swiftSettings: strict),
        .testTarget(name: "DatabaseTests", dependencies: ["Database", "SQLite", "PostgreSQL"], swiftSettings: strict),
        // Unit tests plus decoding of the rendered SVGs with rsvg-convert and zbarimg.
        .testTarget(name: "LabelGraphicsTests", dependencies: ["LabelGraphics"], swiftSettings: strict),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RequestTrackerTests", dependencies: ["RequestTracker", "Curl", "TestSupport"], swiftSettings: strict),
        // The libpq wrapper against a throw-away cluster (Tests/pg/pg-server.sh).
        .testTarget(
            name: "PostgreSQLTests", dependencies: ["PostgreSQL", "Database", "SystemCalls", "TestSupport"],
            swiftSettings: strict),
        // What the tests that start real servers share: running a helper script (posix_spawn).
        .target(name: "TestSupport", dependencies: ["SystemCalls"], path: "Tests/TestSupport", swiftSettings: strict),

        // The directory (issue 11). libldap (OpenLDAP's client library; Debian libldap-dev ships
        // ldap.pc, nixpkgs' openldap too), imported only by the LDAP module.
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap-dev"])]),
        // The one Swift wrapper of libldap: connect (LDAPS or StartTLS, certificate verification,
        // one deadline), simple bind, subtree search, filter and DN escaping. No Foundation.
        .target(name: "LDAP", dependencies: ["CLDAP"], swiftSettings: strict),
        // The libldap wrapper against a throw-away slapd (Tests/ldap/slapd-server.sh).
        .testTarget(name: "LDAPTests", dependencies: ["LDAP", "SystemCalls", "TestSupport"], swiftSettings: strict),
    ]
)
