# Evaluates nixos/module.nix (option declarations and config) and nixos/service.nix without
# nixpkgs, with the stub lib next to this file. Used by Tests/integration/test_nix.py:
#
#   nix-instantiate --eval --strict --json Tests/nix/eval.nix \
#     --argstr overridesJSON '{"port": 9000}' --argstr package /usr/local --argstr configFile /tmp/x.toml \
#     --argstr systemdVersion 254
#
# Returns { options; cfg; service; socket; backupService; backupTimer; configText; manageScript; systemPackages;
# assertions; users; groups; nginx;
# postgresql; tmpfiles; logrotate; firewall } as JSON. Every option value (defaults and overrides) is checked against
# its option's type; a mismatch aborts the evaluation naming the option.
{
  overridesJSON ? "{}",
  # what cfg.package stands for: its bin/request-tracker-utils is run
  package ? "/nonexistent/request-tracker-utils",
  # where pkgs.formats.toml's generate would have put the settings file (the test writes
  # configText there)
  configFile ? "/nonexistent/request-tracker-utils.toml",
  # where pkgs.coreutils would be: ExecReload runs ${coreutils}/bin/kill
  coreutils ? "/usr",
  # where pkgs.findutils would be: the backup prunes with ${findutils}/bin/find
  findutils ? "/usr",
  # where config.systemd.package would be: request-tracker-utils-manage runs ${systemd}/bin/systemd-run
  systemd ? "/usr",
  # config.systemd.package.version: the default is this machine's (Debian 12), whose systemd
  # runs the rendered unit in test_nix.py; NixOS has 253 and later.
  systemdVersion ? "252",
}:
let
  lib = import ./stub-lib.nix;
  overrides = builtins.fromJSON overridesJSON;

  # A STUB of nixpkgs' pkgs.formats.toml { }. The real `type` is a recursive "TOML value" type;
  # the real `generate` is a derivation that runs remarshal's json2toml over
  # builtins.toJSON value, so its output cannot be made here without nixpkgs and a build. The
  # stub returns a derivation-like set (a set, as the real one is: code that wants the path must
  # interpolate it) whose path is `configFile` and whose `text` is what json2toml (remarshal
  # 1.3.0, compared by hand) writes for the values the tests use: top-level
  # `key = value` lines in toJSON's (sorted) order; strings and numbers as toJSON writes them,
  # which is valid TOML (a basic "string", an integer, a float; 100.0 comes out as 100); lists
  # as ["a", "b"], or one item a line with a trailing comma from 6 items on; tables as [name]
  # sections (the assertions keep those from the server, whose parser refuses them). Another
  # writer may lay things out otherwise (the parser also reads 'literal strings').
  tomlFormat = {
    type = lib.types.tomlValue;
    generate = name: value: {
      type = "derivation";
      inherit name;
      outPath = configFile;
      text = tomlText value;
    };
  };
  tomlText =
    let
      key = k: if builtins.match "[A-Za-z0-9_-]+" k != null then k else builtins.toJSON k;
      inline = v: if builtins.isList v then "[" + builtins.concatStringsSep ", " (map inline v) + "]" else builtins.toJSON v;
      value =
        v:
        if builtins.isList v && builtins.length v >= 6 && !builtins.any builtins.isList v then
          "[\n" + builtins.concatStringsSep "" (map (item: "    ${inline item},\n") v) + "]"
        else
          inline v;
      section =
        header: attrs:
        let
          names = builtins.attrNames attrs;
          plain = builtins.filter (k: !builtins.isAttrs attrs.${k}) names;
          tables = builtins.filter (k: builtins.isAttrs attrs.${k}) names;
        in
        (if header == null then "" else "\n[${header}]\n")
        + builtins.concatStringsSep "" (map (k: "${key k} = ${value attrs.${k}}\n") plain)
        + builtins.concatStringsSep "" (
          map (k: section (if header == null then key k else "${header}.${key k}") attrs.${k}) tables
        );
    in
    section null;

  pkgs = {
    callPackage = _: _: throw "eval.nix: the package default needs nixpkgs; pass package=";
    writeTextFile = { name, text, ... }: { inherit name text; };
    formats.toml = { }: tomlFormat;
    inherit coreutils findutils;
  };

  # config.systemd.package: interpolates to its path, and has a version
  systemdPackage = {
    outPath = systemd;
    version = systemdVersion;
  };

  evalModule =
    cfg:
    import ../../nixos/module.nix {
      inherit lib pkgs;
      config = {
        services.requestTrackerUtils = cfg;
        services.nginx.user = "nginx";
        systemd.package = systemdPackage;
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
  # service.nix as module.nix calls it, for what the module keeps to itself (the manage script
  # is in systemPackages, but as a store file here it would need a build)
  unit = import ../../nixos/service.nix {
    inherit lib cfg systemdVersion;
    configFile = if cfg.settings == { } then null else tomlFormat.generate "request-tracker-utils.toml" cfg.settings;
    killBin = "${coreutils}/bin/kill";
    envBin = "${coreutils}/bin/env";
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
    socket = config.systemd.sockets.request-tracker-utils or null;
    backupService = config.systemd.services.request-tracker-utils-backup or null;
    backupTimer = config.systemd.timers.request-tracker-utils-backup or null;
    # what the stub generate writes for cfg.settings (null when there are none: no file)
    configText = if cfg.settings == { } then null else (tomlFormat.generate "request-tracker-utils.toml" cfg.settings).text;
    inherit (unit) manageScript;
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
