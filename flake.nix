{
  description = "Request Tracker Utils on Prefork: package, NixOS module and VM test";

  # Swift >= 6.0 is needed (Package.swift: swift-tools-version 6.0): nixos-unstable since
  # NixOS/nixpkgs#557896 (swift 6.2.4). Pin it with `nix flake lock` on a machine with internet.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        request-tracker-utils = pkgs.callPackage ./nixos/package.nix { };
        default = request-tracker-utils;
      });

      overlays.default = final: _prev: {
        request-tracker-utils = final.callPackage ./nixos/package.nix { };
      };

      nixosModules.requestTrackerUtils =
        { lib, pkgs, ... }:
        {
          imports = [ ./nixos/module.nix ];
          services.requestTrackerUtils.package =
            lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      nixosModules.default = self.nixosModules.requestTrackerUtils;

      checks = forAllSystems (pkgs: {
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        vm = pkgs.testers.runNixOSTest (import ./nixos/tests/vm.nix { inherit self; });
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-rfc-style);
    };
}
