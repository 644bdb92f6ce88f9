# request-tracker-utils built by SwiftPM with the Swift toolchain from nixpkgs.
#
# Needs a nixpkgs with Swift >= 6.0 (Package.swift is swift-tools-version 6.0): nixos-unstable
# since `swift: 5.10.1 -> 6.2.4` (NixOS/nixpkgs#557896), which also brought fetchSwiftPMDeps.
#
# SwiftPM dependencies (swift-log 1.16.2, swift-http-types 1.8.0) are fetched for the sandbox
# by fetchSwiftPMDeps from ./Package.resolved (the repository ignores its own Package.resolved,
# so a copy lives here, as nixpkgs does for swift-format). `swiftpmDeps.hash`
# was computed offline by Tests/nix/swiftpm_vendor_hash.py from the pinned git revisions; after
# changing the pins, run that script (or set the hash to "" and take the one `nix build`
# reports). Tests/integration/test_nix.py fails when the two disagree.
{
  lib,
  stdenv,
  fetchSwiftPMDeps,
  swift,
  swiftpm,
  pkg-config,
  curl,
  sqlite,
  libpq,
  openldap,
  openssl,
  systemdLibs,
}:
let
  root = ../.;
in
stdenv.mkDerivation (finalAttrs: {
  pname = "request-tracker-utils";
  version = "0.1.0";

  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Package.swift
      ../Sources
    ];
  };

  postPatch = ''
    ln -s ${./Package.resolved} Package.resolved
  '';

  swiftpmDeps = fetchSwiftPMDeps {
    inherit (finalAttrs) pname version src postPatch;
    hash = "sha256-FoSObwKSKiGUYVh6RQP20n6gXNCEGKjZ0O0zkBuw5Zo=";
  };

  strictDeps = true;

  nativeBuildInputs = [
    swift
    swiftpm
    pkg-config
  ];

  # libsystemd (sd_notify, sd-journal), sqlite3, libpq, libldap (openldap's dev output has
  # ldap.pc) and libcurl (curl's dev output has libcurl.pc; the client of Request Tracker) are
  # system library targets found with pkg-config; OpenSSL gives libcrypto (hashes, HMAC). `libpq`
  # is nixpkgs' client-only package (NixOS/nixpkgs#359659), whose dev output has libpq-fe.h and
  # libpq.pc; not `postgresql.lib`, an output with the shared library alone, where neither the
  # header nor the .pc file would be found.
  buildInputs = [
    sqlite
    libpq
    openldap
    curl
    openssl
    systemdLibs
  ];

  swiftpmFlags = [
    "--product"
    "request-tracker-utils"
  ];

  # Only the server binary: the Prefork library product is not installed.
  installPhase = ''
    runHook preInstall
    install -D -m 0755 "$(swiftpmBinPath)/request-tracker-utils" "$out/bin/request-tracker-utils"
    runHook postInstall
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    "$out/bin/request-tracker-utils" settings-doc > /dev/null
    runHook postInstallCheck
  '';

  __structuredAttrs = true;

  meta = {
    description = "School district IT tool for asset tags, labels and device check-in, on the Prefork server";
    homepage = "https://github.com/WesternCUSD12/RequestTrackerUtils";
    mainProgram = "request-tracker-utils";
    platforms = lib.platforms.linux;
  };
})
