# Evaluates nixos/module.nix (option declarations and config) and nixos/service.nix without
# nixpkgs, with the stub lib next to this file. Used by Tests/integration/test_nix.py:
#
#   nix-instantiate --eval --strict --json Tests/nix/eval.nix \
#     --argstr overridesJSON '{"port": 9000}' --argstr package /usr/local --argstr configFile /tmp/x.toml
#
# Returns { options; cfg; service; backupService; backupTimer; configText; manageScript; systemPackages; assertions;
# users; groups; nginx;
# postgresql; tmpfiles; logrotate; firewall } as JSON. Every option value (defaults and overrides) is checked against
# its option's type; a mismatch aborts the evaluation naming the option.
{
  overridesJSON ? "{}",
  # what cfg.package stands for: its bin/request-tracker-utils is run
  package ? "/nonexistent/request-tracker-utils",
  # where pkgs.writeText would have put the settings file (the test writes configText there)
  configFile ? "/nonexistent/request-tracker-utils.toml",
  # where pkgs.coreutils would be: ExecReload runs ${coreutils}/bin/kill
  coreutils ? "/usr",
  # where pkgs.findutils would be: the backup prunes with ${findutils}/bin/find
  findutils ? "/usr",
  # where config.systemd.package would be: request-tracker-utils-manage runs ${systemd}/bin/systemd-run
  systemd ? "/usr",
}:
let
  lib = import ./stub-lib.nix;
  overrides = builtins.fromJSON overridesJSON;

  pkgs = {
    callPackage = _: _: throw "eval.nix: the package default needs nixpkgs; pass package=";
    writeText = _name: _text: configFile;
    writeTextFile = { name, text, ... }: { inherit name text; };
    inherit coreutils findutils;
  };

  evalModule =
    cfg:
    import ../../nixos/module.nix {
      inherit lib pkgs;
      config = {
        services.requestTrackerUtils = cfg;
        services.nginx.user = "nginx";
        systemd.package = systemd;
      };
    };

  isOption = x: builtins.isAttrs x && (x._type or null) == "option";
  declared = (evalModule cfg).options.services.requestTrackerUtils;

  # { enable = ...; nginx = { enable = ...; }; } from the declarations, overrides on top
  valuesOf =
    decls: over:
    builtins.mapAttrs (
      name: decl:
      if isOption decl then
        over.${name} or decl.default
      else
        valuesOf decl (over.${name} or { })
    ) decls;
  cfg = valuesOf declared ({ enable = true; inherit package; } // overrides);

  unknown = builtins.filter (name: !(declared ? ${name})) (builtins.attrNames overrides);

  # [ { name; type; default?; description } ] for every option, type-checked
  describe =
    prefix: decls: values:
    builtins.concatLists (
      builtins.attrValues (
        builtins.mapAttrs (
          name: decl:
          let
            path = "${prefix}${name}";
          in
          if isOption decl then
            let
              value = values.${name};
              default = builtins.tryEval (builtins.deepSeq decl.default decl.default);
            in
            if name != "package" && !(decl.type.check value) then
              throw "services.requestTrackerUtils.${path}: ${builtins.toJSON value} is not a ${decl.type.name}"
            else
              [
                {
                  name = path;
                  type = decl.type.name;
                  description = decl.description or null;
                  hasDefault = decl ? default;
                  default = if default.success && name != "package" then default.value else null;
                }
              ]
          else
            describe "${path}." decl values.${name}
        ) decls
      )
    );

  # What the module system does with this module's config: mkIf/mkMerge applied.
  resolve =
    x:
    if builtins.isAttrs x && (x._type or null) == "if" then
      (if x.condition then resolve x.content else { })
    else if builtins.isAttrs x && (x._type or null) == "merge" then
      builtins.foldl' merge { } (map resolve x.contents)
    else if builtins.isAttrs x then
      builtins.mapAttrs (_: resolve) x
    else
      x;
  merge =
    a: b:
    a
    // builtins.mapAttrs (
      name: bv:
      if !(a ? ${name}) then bv
      else if builtins.isAttrs a.${name} && builtins.isAttrs bv then merge a.${name} bv
      else if builtins.isList a.${name} && builtins.isList bv then a.${name} ++ bv
      else throw "conflicting definitions of ${name}"
    ) b;

  config = resolve (evalModule cfg).config;
  unit = import ../../nixos/service.nix {
    inherit lib cfg configFile;
    killBin = "${coreutils}/bin/kill";
    systemdRunBin = "${systemd}/bin/systemd-run";
  };
in
if unknown != [ ] then
  throw "no such option: services.requestTrackerUtils.${builtins.head unknown}"
else
  {
    options = describe "" declared cfg;
    cfg = builtins.removeAttrs cfg [ "package" ];
    service = config.systemd.services.request-tracker-utils or null;
    backupService = config.systemd.services.request-tracker-utils-backup or null;
    backupTimer = config.systemd.timers.request-tracker-utils-backup or null;
    inherit (unit) configText manageScript;
    systemPackages = config.environment.systemPackages or [ ];
    assertions = config.assertions or [ ];
    users = config.users.users or { };
    groups = config.users.groups or { };
    nginx = config.services.nginx or null;
    postgresql = config.services.postgresql or null;
    tmpfiles = config.systemd.tmpfiles.settings or { };
    logrotate = config.services.logrotate.settings or { };
    # an unmet mkIf leaves {} here where the module system would leave the default, [ ]
    firewall = let ports = config.networking.firewall.allowedTCPPorts or [ ]; in if ports == { } then [ ] else ports;
  }
