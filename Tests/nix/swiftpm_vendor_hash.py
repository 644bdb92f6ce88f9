#!/usr/bin/env python3
"""Computes the `hash` of fetchSwiftPMDeps for nixos/Package.resolved without a network.

nixpkgs' fetchSwiftPMDeps is a fixed-output derivation: `prefetch-swiftpm-deps` copies the
Package.resolved to $out/Package.resolved and runs `nix-prefetch-git --builder
--fetch-submodules` for each pin into $out/Packages/<basename of the URL>, which leaves the
checkout of the pinned revision without .git. Its hash is the SHA-256 of that tree's NAR.
This script rebuilds the same tree from git clones SwiftPM already has (its cache in
~/.cache/org.swift.swiftpm/repositories, or --repos DIR with one clone per package) and
prints the SRI hash with `nix-hash`.

Usage: swiftpm_vendor_hash.py [--resolved nixos/Package.resolved] [--repos DIR]
Exit 0 with the hash on stdout; 1 when a pinned revision is not in any local clone."""
import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REPOS = Path.home() / ".cache" / "org.swift.swiftpm" / "repositories"


def clone_with(repos: Path, name: str, rev: str):
    """A local clone (bare or not) holding `rev`, named after the package."""
    for candidate in sorted(repos.glob(f"{name}*")):
        r = subprocess.run(["git", "-C", str(candidate), "cat-file", "-e", f"{rev}^{{commit}}"],
                           capture_output=True)
        if r.returncode == 0:
            return candidate
    return None


def vendor_tree(resolved: Path, repos: Path, dest: Path) -> None:
    shutil.copyfile(resolved, dest / "Package.resolved")
    pins = json.loads(resolved.read_text())["pins"]
    for pin in pins:
        url, rev = pin["location"], pin["state"]["revision"]
        name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        source = clone_with(repos, name, rev)
        if source is None:
            raise SystemExit(f"{name} {rev}: not in any clone under {repos}")
        out = dest / "Packages" / name
        subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(source), str(out)],
                       check=True)
        subprocess.run(["git", "-C", str(out), "-c", "advice.detachedHead=false", "checkout",
                        "--quiet", rev], check=True)
        # --fetch-submodules: only gitlinks in the tree are fetched (GRDB's .gitmodules names
        # one that the tree no longer has); refuse to guess if there are any.
        gitlinks = subprocess.run(["git", "-C", str(out), "ls-files", "--stage"],
                                  capture_output=True, text=True, check=True).stdout
        if any(line.startswith("160000 ") for line in gitlinks.splitlines()):
            raise SystemExit(f"{name} has submodules: this script does not fetch them")
        shutil.rmtree(out / ".git")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resolved", type=Path, default=ROOT / "nixos" / "Package.resolved")
    parser.add_argument("--repos", type=Path, default=DEFAULT_REPOS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "vendor"
        (dest / "Packages").mkdir(parents=True)
        vendor_tree(args.resolved, args.repos, dest)
        hex_digest = subprocess.run(["nix-hash", "--type", "sha256", str(dest)],
                                    capture_output=True, text=True, check=True).stdout.strip()
    print("sha256-" + base64.b64encode(bytes.fromhex(hex_digest)).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
