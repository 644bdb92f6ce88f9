# The part of nixpkgs' `lib` that nixos/service.nix and nixos/module.nix use, small enough to
# read, so the tests can evaluate both with plain `nix-instantiate` and no nixpkgs.
#
# Options are plain attribute sets ({ _type = "option"; type; default; ... }); each type has a
# `check` like nixpkgs' (Tests/nix/eval.nix applies them to defaults and test values). mkIf and
# mkMerge return markers that eval.nix resolves the way the module system would for this
# module: conditions applied, attribute sets merged, lists concatenated.
let
  mkType = name: check: { inherit name check; };
  isPath = x: builtins.isPath x || (builtins.isString x && builtins.substring 0 1 x == "/");
in
rec {
  mkOption = attrs: { _type = "option"; } // attrs;
  mkEnableOption = name: mkOption {
    type = types.bool;
    default = false;
    description = "Whether to enable ${name}.";
  };
  literalExpression = text: { _type = "literalExpression"; inherit text; };
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };

  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalAttrs = cond: attrs: if cond then attrs else { };
  # nixpkgs: versionAtLeast = v1: v2: !versionOlder v1 v2, versionOlder = v1: v2: compareVersions v2 v1 == 1
  versionAtLeast = v1: v2: builtins.compareVersions v1 v2 >= 0;

  types = rec {
    bool = mkType "bool" builtins.isBool;
    int = mkType "int" builtins.isInt;
    float = mkType "float" builtins.isFloat;
    number = mkType "number" (x: builtins.isInt x || builtins.isFloat x);
    str = mkType "str" builtins.isString;
    path = mkType "path" isPath;
    package = mkType "package" (x: builtins.isAttrs x || isPath x);
    port = mkType "port" (x: builtins.isInt x && x >= 0 && x <= 65535);
    ints = {
      positive = mkType "positive int" (x: builtins.isInt x && x > 0);
      between = lo: hi: mkType "int between ${toString lo} and ${toString hi}" (x: builtins.isInt x && x >= lo && x <= hi);
    };
    nullOr = t: mkType "null or ${t.name}" (x: x == null || t.check x);
    listOf = t: mkType "list of ${t.name}" (x: builtins.isList x && builtins.all t.check x);
    attrsOf = t: mkType "attrs of ${t.name}" (x: builtins.isAttrs x && builtins.all t.check (builtins.attrValues x));
    enum = values: mkType "one of ${builtins.concatStringsSep ", " (map builtins.toJSON values)}" (x: builtins.elem x values);
    oneOf = ts: mkType "one of ${builtins.concatStringsSep ", " (map (t: t.name) ts)}" (x: builtins.any (t: t.check x) ts);
    # not in lib.types: what (pkgs.formats.toml { }).type accepts, for Tests/nix/eval.nix's stub
    tomlValue = mkType "TOML value" (
      x:
      builtins.isBool x || builtins.isInt x || builtins.isFloat x || builtins.isString x || builtins.isPath x
      || (builtins.isList x && builtins.all tomlValue.check x)
      || (builtins.isAttrs x && builtins.all tomlValue.check (builtins.attrValues x))
    );
  };
}
