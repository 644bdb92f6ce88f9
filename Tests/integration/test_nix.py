"""The NixOS packaging (flake.nix, nixos/), checked on a machine without nixpkgs.

What runs here, with Debian's `nix-bin` (nix-instantiate) and the host's systemd tools:
- every .nix file in the repository parses (`nix-instantiate --parse`);
- nixos/module.nix's option declarations and config, and nixos/service.nix, are evaluated
  with the stub lib in Tests/nix (`nix-instantiate --eval --strict --json Tests/nix/eval.nix`),
  for the defaults and for a customised set; every value is type-checked against its option;
- the service is rendered to a unit file the way NixOS renders systemd.services.<name>, its
  key lines checked, then `systemd-analyze verify` (empty stderr) and
  `systemd-analyze security --offline=true --threshold=2.0` run on it, with ExecStart pointing
  at the REAL release binary (PREFORK_BIN) laid out as a package (PKG/bin/request-tracker-utils);
- the settings file the module writes is read by the real binary (`print-config --config`);
  pkgs.formats.toml is a stub (Tests/nix/eval.nix) that writes what remarshal's json2toml
  writes for the tests' values;
- Type=notify-reload from systemd 253 on (config.systemd.package.version), Type=notify with
  ExecReload= below; socketActivation's .socket unit (as config/systemd's) and the service's
  dependency on it; secretsCredential's LoadCredential= and SECRETS_FILE=%d/..., which the real
  binary reads as its secrets file;
- as root: the rendered unit, with all its hardening, is started under a real systemd 252
  (Tests/systemd/harness.sh): preStart migrates and collects static files, /readyz is 200,
  reload keeps the master and replaces the workers, the access log is written to logs/; the
  socket unit passes its socket (LISTEN_FDNAMES=http) and the service user reads a root-only
  0400 secrets file through LoadCredential=, in the unit and in request-tracker-utils-manage;
- database.url / database.createLocally: DATABASE_URL, the ordering on postgresql.target, the
  services.postgresql values and the assertions; as root, the unit with all its hardening
  reaches a throw-away PostgreSQL over its unix socket by peer authentication;
- the fetchSwiftPMDeps hash in nixos/package.nix matches nixos/Package.resolved (recomputed
  from SwiftPM's local git cache by Tests/nix/swiftpm_vendor_hash.py; skipped without it).

What could NOT be evaluated here (no nixpkgs, no network, no KVM):
- the real module system: option merging, priorities, the real `types` and the NixOS modules
  this one sets (users, nginx, logrotate, tmpfiles, firewall) are only stubbed;
- the real pkgs.formats.toml (a remarshal build); Type=notify-reload and ReloadSignal= under a
  systemd >= 253 (this machine has 252); nixos-rebuild switch restarting the socket-activated
  service in place (stopIfChanged = false: read from switch-to-configuration, not run);
- how NixOS itself renders the unit (it adds PATH, LOCALE_ARCHIVE, TZDIR... to Environment=);
- the package build (`nix build .#default`: Swift 6 from nixpkgs, fetchSwiftPMDeps, nixpkgs'
  `libpq` found through libpq.pc) and the flake's lock; the VM test
  (`nix build .#checks.x86_64-linux.vm`) with nginx in front;
- NixOS's own services.postgresql (ensureDatabases/ensureUsers, postgresql.target): only the
  values this module gives it are checked; the peer-authentication test uses Debian's server
  with the same `local all all peer` line.
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, TEST_SECRET_KEY, free_port, http, wait_for

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "Tests" / "nix" / "eval.nix"
NIX_INSTANTIATE = shutil.which("nix-instantiate")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

pytestmark = pytest.mark.skipif(not NIX_INSTANTIATE,
                                reason="nix-instantiate missing (apt-get install nix-bin)")

UNIT = "request-tracker-utils.service"
HOST_UNIT_NOISE = re.compile(r"^/(usr/)?lib/systemd/system/(?!request-tracker-utils)[^/: ]+:\d+: ")
HARDENING = {
    "NoNewPrivileges": "true", "ProtectSystem": "strict", "ProtectHome": "true",
    "PrivateTmp": "true", "PrivateDevices": "true", "PrivateMounts": "true", "ProtectKernelTunables": "true",
    "ProtectKernelModules": "true", "ProtectKernelLogs": "true", "ProtectControlGroups": "true",
    "ProtectClock": "true", "ProtectHostname": "true", "ProtectProc": "invisible",
    "ProcSubset": "pid", "RestrictNamespaces": "true", "RestrictRealtime": "true",
    "RestrictSUIDSGID": "true", "LockPersonality": "true", "MemoryDenyWriteExecute": "true",
    "SystemCallArchitectures": "native", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
    "PrivateUsers": "true", "UMask": "0027", "DevicePolicy": "closed", "RemoveIPC": "true",
}


# ---------------------------------------------------------------------------------------------
# Evaluation and rendering.
# ---------------------------------------------------------------------------------------------

def nix_eval(overrides=None, package="/nonexistent/request-tracker-utils",
             config_file="/nonexistent/request-tracker-utils.toml", systemd_version="252", check=True):
    """The module evaluated with Tests/nix/eval.nix; systemd_version stands for
    config.systemd.package.version (252 is this machine's, which runs the rendered units)."""
    r = subprocess.run([NIX_INSTANTIATE, "--eval", "--strict", "--json", str(EVAL),
                        "--argstr", "overridesJSON", json.dumps(overrides or {}),
                        "--argstr", "package", str(package),
                        "--argstr", "configFile", str(config_file),
                        "--argstr", "systemdVersion", systemd_version],
                       capture_output=True, text=True, timeout=60)
    if not check:
        return r
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def unit_value(value) -> str:
    """A serviceConfig value as NixOS writes it (bools as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_unit(service: dict) -> str:
    """systemd.services.<name> as a unit file, as nixos/lib/systemd-lib.nix does it: lists
    become repeated keys, environment becomes quoted Environment= lines, stopIfChanged = false
    becomes X-StopIfChanged=false (read by switch-to-configuration, ignored by systemd)."""
    lines = ["[Unit]", f"Description={service['description']}"]
    lines += [f"Documentation={d}" for d in service.get("documentation", [])]
    for key in ("after", "requires", "wants"):
        lines += [f"{key.capitalize()}={u}" for u in service.get(key, [])]
    lines += ["", "[Service]"]
    for key, value in sorted(service["environment"].items()):
        lines.append(f'Environment="{key}={value}"')
    if service.get("stopIfChanged") is False:
        lines.append("X-StopIfChanged=false")
    for key, value in service["serviceConfig"].items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}={unit_value(item)}")
    lines += ["", "[Install]"] + [f"WantedBy={w}" for w in service.get("wantedBy", [])]
    return "\n".join(lines) + "\n"


def render_socket(socket: dict) -> str:
    """systemd.sockets.<name> as a unit file, as systemd-lib.nix's socketToUnit does it."""
    lines = ["[Unit]", f"Description={socket['description']}", "", "[Socket]"]
    lines += [f"{key}={unit_value(value)}" for key, value in socket.get("socketConfig", {}).items()]
    lines += [f"ListenStream={address}" for address in socket["listenStreams"]]
    lines += ["", "[Install]"] + [f"WantedBy={w}" for w in socket.get("wantedBy", [])]
    return "\n".join(lines) + "\n"


def keys(text: str, key: str) -> list:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}=")]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The release binary laid out as a Nix package: PKG/bin/request-tracker-utils."""
    if not Path(BIN).is_file():
        pytest.fail(f"server binary not found: {BIN} (build it or set PREFORK_BIN)")
    pkg = tmp_path_factory.mktemp("package")
    (pkg / "bin").mkdir()
    shutil.copy2(BIN, pkg / "bin" / "request-tracker-utils")
    return pkg


@pytest.fixture(scope="module")
def defaults(package):
    return nix_eval(package=package)


CUSTOM = {
    "host": "0.0.0.0", "port": 9123, "workers": 3, "debug": True,
    "secretsFile": "/run/secrets/rtutils.env",
    "allowedHosts": ["rtutils.example.org", ".example.net"],
    "rtUrl": "https://tickets.example.org", "apiEndpoint": "/rt/REST/2.0",
    "prefix": "HS-", "padding": 5, "labelWidthMm": 90.3, "labelHeightMm": 29,
    "labelSmallWidthMm": 62, "labelSmallHeightMm": 29, "labelSize": "small", "labelFooter": "Western CUSD #12",
    # six proxies: json2toml writes a list of six or more one item a line
    "settings": {"timeout": 60, "graceful_timeout": 20, "max_requests": 1000, "reuse_port": True,
                 "forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                         "::1", "fd00::/8"],
                 "access_log_format": '%(h)s "%(r)s" %(s)s'},
    "nginx": {"enable": True, "virtualHost": "rtutils.example.org"},
    "openFirewall": True,
}


@pytest.fixture(scope="module")
def custom(package, tmp_path_factory):
    config_file = tmp_path_factory.mktemp("config") / "request-tracker-utils.toml"
    result = nix_eval(CUSTOM, package=package, config_file=config_file)
    config_file.write_text(result["configText"])
    result["configFile"] = config_file
    return result


# ---------------------------------------------------------------------------------------------
# Files and options.
# ---------------------------------------------------------------------------------------------

def nix_files():
    return sorted(p for p in ROOT.rglob("*.nix")
                  if not any(part.startswith((".build", ".git")) for part in p.relative_to(ROOT).parts))


def test_every_nix_file_parses():
    files = nix_files()
    names = {str(p.relative_to(ROOT)) for p in files}
    assert {"flake.nix", "nixos/module.nix", "nixos/service.nix", "nixos/package.nix",
            "nixos/tests/vm.nix", "nixos/example.nix", "nixos/example-postgresql.nix",
            "nixos/example-hosts.nix"} <= names, names
    for path in files:
        r = subprocess.run([NIX_INSTANTIATE, "--parse", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, f"{path}: {r.stderr}"


def test_flake_exposes_package_modules_and_vm_check():
    text = (ROOT / "flake.nix").read_text()
    for needle in ("packages = forAllSystems", "default = request-tracker-utils",
                   "nixosModules.requestTrackerUtils", "nixosModules.default",
                   "vm = pkgs.testers.runNixOSTest (import ./nixos/tests/vm.nix"):
        assert needle in text, needle


def test_options_have_types_defaults_and_descriptions(defaults):
    options = {o["name"]: o for o in defaults["options"]}
    expected = {
        "enable": False, "host": "127.0.0.1", "port": 8000, "workers": 4,
        "secretsFile": "/etc/request-tracker-utils/secrets.env", "debug": False,
        "allowedHosts": [], "workingDirectory": "/var/lib/request-tracker-utils",
        "user": "rtutils", "group": "rtutils", "labelWidthMm": 100, "labelHeightMm": 62,
        "labelSmallWidthMm": 90.3, "labelSmallHeightMm": 29, "labelSize": "large", "labelFooter": "",
        "rtUrl": "", "apiEndpoint": "/REST/2.0", "prefix": "W12-", "padding": 4,
        "settings": {}, "openFirewall": False, "nginx.enable": False,
        "accessLogFile": "/var/lib/request-tracker-utils/logs/access.log", "errorLogFile": "/var/lib/request-tracker-utils/logs/error.log",
        "database.url": "", "database.createLocally": False, "backup.enable": True,
        "secretsCredential": None, "socketActivation.enable": False,
        "socketActivation.listenStreams": ["127.0.0.1:8000"],
    }
    for name, default in expected.items():
        assert name in options, f"no option {name}"
        assert options[name]["default"] == default, (name, options[name])
    assert "package" in options and "nginx.virtualHost" in options
    for o in options.values():
        assert o["hasDefault"] and o["description"], o
    assert options["port"]["type"] == "port"
    assert options["secretsFile"]["type"] == "null or path"
    assert options["secretsCredential"]["type"] == "null or path"
    assert options["settings"]["type"] == "TOML value"          # (pkgs.formats.toml { }).type


def test_option_values_are_type_checked(package):
    r = nix_eval({"port": 70000}, package=package, check=False)
    assert r.returncode != 0 and "services.requestTrackerUtils.port: 70000 is not a port" in r.stderr
    r = nix_eval({"workers": 0}, package=package, check=False)
    assert r.returncode != 0 and "workers" in r.stderr
    r = nix_eval({"no_such": 1}, package=package, check=False)
    assert r.returncode != 0 and "no such option: services.requestTrackerUtils.no_such" in r.stderr


def test_assertions_refuse_settings_with_an_option_and_missing_allowed_hosts(defaults, package):
    failed = [a["message"] for a in defaults["assertions"] if not a["assertion"]]
    assert failed == ["services.requestTrackerUtils.allowedHosts must name the site's host "
                      "names unless debug is on."]
    r = nix_eval({"allowedHosts": ["x"], "settings": {"workers": 8, "timeout": 5}}, package=package)
    failed = [a["message"] for a in r["assertions"] if not a["assertion"]]
    assert len(failed) == 1 and failed[0].endswith("not in settings: workers"), failed


# ---------------------------------------------------------------------------------------------
# The unit.
# ---------------------------------------------------------------------------------------------

def test_default_unit(defaults, package):
    text = render_unit(defaults["service"])
    bin_ = f"{package}/bin/request-tracker-utils"
    assert keys(text, "Type") == ["notify"] and keys(text, "NotifyAccess") == ["main"]
    assert keys(text, "ExecStart") == [
        f"{bin_} serve --bind 127.0.0.1:8000 --workers 4 --umask 0027 --error-logfile /var/lib/request-tracker-utils/logs/error.log "
        "--access-logfile /var/lib/request-tracker-utils/logs/access.log"]
    assert keys(text, "ExecStartPre") == [f"{bin_} migrate", f"{bin_} collectstatic"]
    assert keys(text, "ExecReload") == ["/usr/bin/kill -HUP $MAINPID"]   # systemd 252: no notify-reload
    assert keys(text, "ReloadSignal") == []
    assert keys(text, "EnvironmentFile") == ["/etc/request-tracker-utils/secrets.env"]
    assert keys(text, "LoadCredential") == [] and "SECRETS_FILE" not in defaults["service"]["environment"]
    assert not defaults["socket"] and keys(text, "X-StopIfChanged") == []   # no socket unit
    assert keys(text, "StateDirectory") == ["request-tracker-utils", "request-tracker-utils/logs"]
    assert keys(text, "WorkingDirectory") == ["/var/lib/request-tracker-utils"]
    assert keys(text, "User") == ["rtutils"] and keys(text, "Group") == ["rtutils"]
    for key, value in {"KillMode": "mixed", "TimeoutStopSec": "45", "Restart": "on-failure", "OOMPolicy": "continue",
                       "RestartPreventExitStatus": "2 3", "WatchdogSec": "30"}.items():
        assert keys(text, key) == [value], key
    for key, value in HARDENING.items():
        assert keys(text, key) == [value], key
    assert keys(text, "RestrictAddressFamilies") == ["AF_UNIX", "AF_INET", "AF_INET6"]
    assert keys(text, "SystemCallFilter") == ["@system-service", "~@privileged @resources", "setpriority"]
    env = keys(text, "Environment")
    for pair in ('"WORKING_DIR=/var/lib/request-tracker-utils"', '"ALLOWED_HOSTS="', '"DEBUG=false"',
                 '"RT_URL="', '"RT_API_ENDPOINT=/REST/2.0"', '"PREFIX=W12-"', '"PADDING=4"',
                 '"LABEL_WIDTH_MM=100"', '"LABEL_HEIGHT_MM=62"', '"LABEL_SMALL_WIDTH_MM=90.3"',
                 '"LABEL_SMALL_HEIGHT_MM=29"', '"LABEL_SIZE=large"', '"LABEL_FOOTER="'):
        assert pair in env, (pair, env)
    assert "--config" not in keys(text, "ExecStart")[0]           # no settings, no file
    # SQLite in the working directory: no DATABASE_URL, no PostgreSQL, no ordering on it
    assert not any(e.startswith('"DATABASE_URL=') for e in env), env
    assert keys(text, "After") == ["network.target"] and keys(text, "Requires") == []
    assert defaults["postgresql"] == {}
    assert defaults["users"]["rtutils"]["isSystemUser"] is True
    assert defaults["groups"] == {"rtutils": {}}
    assert defaults["nginx"] is None and defaults["firewall"] == []


def test_customised_unit(custom, package):
    text = render_unit(custom["service"])
    bin_ = f"{package}/bin/request-tracker-utils"
    assert keys(text, "ExecStart") == [
        f"{bin_} serve --bind 0.0.0.0:9123 --workers 3 --umask 0027 --error-logfile /var/lib/request-tracker-utils/logs/error.log "
        f"--access-logfile /var/lib/request-tracker-utils/logs/access.log "
        f"--config {custom['configFile']}"]
    assert keys(text, "EnvironmentFile") == ["/run/secrets/rtutils.env"]
    assert keys(text, "TimeoutStopSec") == ["35"]                 # graceful_timeout 20 + 15
    env = keys(text, "Environment")
    for pair in ('"ALLOWED_HOSTS=rtutils.example.org,.example.net"', '"DEBUG=true"',
                 '"RT_URL=https://tickets.example.org"', '"RT_API_ENDPOINT=/rt/REST/2.0"',
                 '"PREFIX=HS-"', '"PADDING=5"', '"LABEL_WIDTH_MM=90.3"', '"LABEL_HEIGHT_MM=29"',
                 '"LABEL_SMALL_WIDTH_MM=62"', '"LABEL_SIZE=small"', '"LABEL_FOOTER=Western CUSD #12"'):
        assert pair in env, (pair, env)
    assert custom["firewall"] == [80, 443]


def test_ipv6_host_is_bracketed_and_odd_arguments_quoted(package):
    r = nix_eval({"host": "::1", "allowedHosts": ["x"], "accessLogFile": "/srv/rt u/100%.log"},
                 package=package)
    start = keys(render_unit(r["service"]), "ExecStart")[0]
    assert "--bind [::1]:8000" in start
    assert start.endswith('--access-logfile "/srv/rt u/100%%.log"'), start


def test_working_directory_outside_var_lib_uses_tmpfiles(package):
    r = nix_eval({"workingDirectory": "/srv/rtutils", "allowedHosts": ["x"]}, package=package)
    text = render_unit(r["service"])
    assert keys(text, "StateDirectory") == [] and keys(text, "ReadWritePaths") == ["/srv/rtutils"]
    rules = r["tmpfiles"]["request-tracker-utils"]
    assert rules["/srv/rtutils"]["d"] == {"user": "rtutils", "group": "rtutils", "mode": "0751"}
    assert "/srv/rtutils/logs" in rules


# ---------------------------------------------------------------------------------------------
# Reload, socket activation, credentials, settings: as NixOS users expect them.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["253", "254", "256.10"])
def test_notify_reload_where_systemd_has_it(version):
    """systemd >= 253: systemd sends the HUP itself (ReloadSignal=) and waits for the READY=1
    that follows the server's RELOADING=1, so there is no ExecReload=."""
    r = nix_eval({"allowedHosts": ["x"]}, systemd_version=version)
    text = render_unit(r["service"])
    assert keys(text, "Type") == ["notify-reload"] and keys(text, "NotifyAccess") == ["main"]
    assert keys(text, "ReloadSignal") == ["SIGHUP"]
    assert keys(text, "ExecReload") == []


def test_notify_and_exec_reload_before_systemd_253():
    r = nix_eval({"allowedHosts": ["x"]}, systemd_version="252")
    text = render_unit(r["service"])
    assert keys(text, "Type") == ["notify"] and keys(text, "NotifyAccess") == ["main"]
    assert keys(text, "ExecReload") == ["/usr/bin/kill -HUP $MAINPID"]
    assert keys(text, "ReloadSignal") == []


def test_socket_activation_renders_the_socket_unit_the_service_requires(package, tmp_path):
    r = nix_eval({"allowedHosts": ["x"], "host": "0.0.0.0", "port": 9123,
                  "socketActivation": {"enable": True}}, package=package)
    assert failed_assertions(r) == []
    socket = r["socket"]
    assert socket["listenStreams"] == ["0.0.0.0:9123"]           # host:port by default
    assert socket["wantedBy"] == ["sockets.target"]
    # the [Socket] settings of config/systemd/request-tracker-utils.socket, value for value
    debian = (ROOT / "config" / "systemd" / "request-tracker-utils.socket").read_text()
    for key, value in socket["socketConfig"].items():
        assert keys(debian, key) == [unit_value(value)], key
    assert set(socket["socketConfig"]) == {"FileDescriptorName", "NoDelay", "Backlog"}
    assert socket["socketConfig"]["FileDescriptorName"] == "http"
    text = render_unit(r["service"])
    assert keys(text, "Requires") == ["request-tracker-utils.socket"]
    assert keys(text, "After") == ["network.target", "request-tracker-utils.socket"]
    assert keys(text, "WantedBy") == ["multi-user.target"]       # still started at boot
    assert keys(text, "X-StopIfChanged") == ["false"]            # a switch restarts it, socket open
    # --bind stays (the server ignores it when systemd passes sockets; nginx's upstream is it)
    assert "--bind 0.0.0.0:9123 " in keys(text, "ExecStart")[0]
    # the pair passes systemd-analyze verify (unknown X- keys are ignored by systemd)
    if SYSTEMD_ANALYZE:
        (tmp_path / "request-tracker-utils.socket").write_text(render_socket(socket))
        (tmp_path / UNIT).write_text(text)
        v = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / "request-tracker-utils.socket"),
                            str(tmp_path / UNIT)], capture_output=True, text=True)
        ours = [line for line in v.stderr.splitlines() if not HOST_UNIT_NOISE.match(line)]
        assert v.returncode == 0 and ours == [], f"rc={v.returncode}\n{v.stderr}"
    # listenStreams of its own; with nginx, host:port (the upstream) must be one of them
    r = nix_eval({"allowedHosts": ["x"], "host": "::1",
                  "socketActivation": {"enable": True, "listenStreams": ["[::1]:8000", "127.0.0.1:8000"]},
                  "nginx": {"enable": True}})
    assert failed_assertions(r) == [] and r["socket"]["listenStreams"] == ["[::1]:8000", "127.0.0.1:8000"]
    r = nix_eval({"allowedHosts": ["x"], "socketActivation": {"enable": True, "listenStreams": ["127.0.0.1:9000"]},
                  "nginx": {"enable": True}})
    assert failed_assertions(r) == ["services.requestTrackerUtils.socketActivation.listenStreams must hold "
                                    "127.0.0.1:8000 (host:port), where nginx proxies to."]


def test_secrets_credential_renders_load_credential_and_the_file_option_still_works(package, tmp_path):
    r = nix_eval({"allowedHosts": ["x"], "secretsCredential": "/run/agenix/rtutils"}, package=package)
    assert failed_assertions(r) == []
    text = render_unit(r["service"])
    assert keys(text, "LoadCredential") == ["secrets.env:/run/agenix/rtutils"]
    # %d: the credentials directory; the server's --secrets-file, for preStart and serve alike
    assert '"SECRETS_FILE=%d/secrets.env"' in keys(text, "Environment")
    assert keys(text, "EnvironmentFile") == []                 # secretsFile now defaults to null
    assert r["cfg"]["secretsFile"] is None
    # request-tracker-utils-manage loads the same credential and names it the same way
    manage = r["manageScript"]
    assert "'--property=LoadCredential=secrets.env:/run/agenix/rtutils'" in manage
    assert (f"'/usr/bin/env' 'SECRETS_FILE=${{CREDENTIALS_DIRECTORY}}/secrets.env' "
            f"'{package}/bin/request-tracker-utils' \"$@\"") in manage
    assert "EnvironmentFile" not in manage
    if SYSTEMD_ANALYZE:                                          # LoadCredential= and %d: systemd >= 248
        (tmp_path / UNIT).write_text(text)
        v = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / UNIT)], capture_output=True, text=True)
        ours = [line for line in v.stderr.splitlines() if not HOST_UNIT_NOISE.match(line)]
        assert v.returncode == 0 and ours == [], f"rc={v.returncode}\n{v.stderr}"
    # both at once: each as it is
    both = nix_eval({"allowedHosts": ["x"], "secretsFile": "/etc/rtu.env", "secretsCredential": "/run/keys/rtu.env"})
    both_text = render_unit(both["service"])
    assert keys(both_text, "EnvironmentFile") == ["/etc/rtu.env"]
    assert keys(both_text, "LoadCredential") == ["secrets.env:/run/keys/rtu.env"]
    # the file option alone, as before: no credential
    plain = render_unit(nix_eval({"allowedHosts": ["x"], "secretsFile": "/run/secrets/rtu.env"})["service"])
    assert keys(plain, "EnvironmentFile") == ["/run/secrets/rtu.env"] and keys(plain, "LoadCredential") == []
    # a secrets file in the world-readable store is refused, either way
    stored = nix_eval({"allowedHosts": ["x"], "secretsCredential": "/nix/store/abc-secrets.env"})
    assert failed_assertions(stored) == [
        "services.requestTrackerUtils.secretsFile and secretsCredential must name a file outside the Nix store "
        '(a string like "/run/agenix/rtutils", not a Nix path): the store is readable by every user.']


def test_the_server_reads_the_secrets_file_the_credential_names(tmp_path):
    """What SECRETS_FILE=%d/secrets.env relies on: the real binary takes SECRET_KEY from the
    file SECRETS_FILE names (the unit's own variables, here ALLOWED_HOSTS, stay above it)."""
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"SECRET_KEY={TEST_SECRET_KEY}\nALLOWED_HOSTS=from-the-file\n")
    secrets.chmod(0o400)
    env = {"WORKING_DIR": str(tmp_path / "var"), "ALLOWED_HOSTS": "x", "PATH": "/usr/bin:/bin"}
    without = subprocess.run([BIN, "check-config"], capture_output=True, text=True, timeout=20, env=env)
    assert without.returncode == 2 and "secret_key" in without.stderr.lower(), without.stderr
    checked = subprocess.run([BIN, "check-config"], capture_output=True, text=True, timeout=20,
                             env={**env, "SECRETS_FILE": str(secrets)})
    assert checked.returncode == 0, checked.stderr
    shown = subprocess.run([BIN, "print-config"], capture_output=True, text=True, timeout=20,
                           env={**env, "SECRETS_FILE": str(secrets)})
    assert shown.returncode == 0, shown.stderr
    assert any(line.startswith('allowed_hosts = ["x"]') for line in shown.stdout.splitlines()), shown.stdout


def test_settings_go_through_formats_toml(custom):
    """pkgs.formats.toml (the stub writes what json2toml writes): sorted key = value lines, a
    list of six one item a line; --config names the generated file."""
    assert custom["configText"] == (
        'access_log_format = "%(h)s \\"%(r)s\\" %(s)s"\n'
        "forwarded_allow_ips = [\n"
        '    "127.0.0.1",\n    "10.0.0.0/8",\n    "172.16.0.0/12",\n    "192.168.0.0/16",\n'
        '    "::1",\n    "fd00::/8",\n'
        "]\n"
        "graceful_timeout = 20\nmax_requests = 1000\nreuse_port = true\ntimeout = 60\n")
    assert keys(render_unit(custom["service"]), "ExecStart")[0].endswith(f" --config {custom['configFile']}")


def test_settings_the_config_file_cannot_hold_are_refused():
    r = nix_eval({"allowedHosts": ["x"], "settings": {"timeout": 60, "logging": {"level": "debug"},
                                                      "ports": [80, 443], "odd name": 1}})
    assert failed_assertions(r) == [
        "services.requestTrackerUtils.settings: the server's config file holds top-level settings whose value is "
        "a string, number, boolean or list of strings; not tables or other lists: logging, ports",
        'services.requestTrackerUtils.settings: not setting names (letters, digits, _ and -; see docs/settings.md): '
        '"odd name"']
    r = nix_eval({"allowedHosts": ["x"], "settings": {"timeout": 60.5, "proc_name": "rtu", "forwarded_allow_ips": []}})
    assert failed_assertions(r) == []
    assert r["configText"] == 'forwarded_allow_ips = []\nproc_name = "rtu"\ntimeout = 60.5\n'


# ---------------------------------------------------------------------------------------------
# The database: SQLite by default, a PostgreSQL URL, or PostgreSQL created on the machine.
# ---------------------------------------------------------------------------------------------

def failed_assertions(result) -> list:
    return [a["message"] for a in result["assertions"] if not a["assertion"]]


def test_database_url_reaches_the_unit_environment(package):
    url = "postgresql://rtutils@db.example.org:5432/rtutils?sslmode=verify-full&connect_timeout=5"
    r = nix_eval({"allowedHosts": ["x"], "database": {"url": url}}, package=package)
    assert failed_assertions(r) == []
    text = render_unit(r["service"])
    assert f'"DATABASE_URL={url}"' in keys(text, "Environment")
    # a server elsewhere: started once the network is up; no local PostgreSQL
    assert keys(text, "After") == ["network.target", "network-online.target"]
    assert keys(text, "Wants") == ["network-online.target"] and keys(text, "Requires") == []
    assert r["postgresql"] == {}
    # the SQLite backup timer is off by default: pg_dump is the backup of a PostgreSQL database
    assert r["cfg"]["backup"]["enable"] is False
    assert not r["backupService"] and not r["backupTimer"]


def test_create_locally_enables_postgresql_with_peer_authentication(package, tmp_path):
    r = nix_eval({"allowedHosts": ["x"], "database": {"createLocally": True}}, package=package)
    assert failed_assertions(r) == []
    pg = r["postgresql"]
    assert pg["enable"] is True
    assert pg["ensureDatabases"] == ["rtutils"]
    assert pg["ensureUsers"] == [{"name": "rtutils", "ensureDBOwnership": True}]
    text = render_unit(r["service"])
    # the unix socket as the service user: peer authentication, no password
    assert '"DATABASE_URL=postgresql:///rtutils?host=/run/postgresql"' in keys(text, "Environment")
    # postgresql.target: reached once the server is up AND postgresql-setup.service has made the
    # role and the database, so `migrate` in ExecStartPre finds them
    assert "postgresql.target" in keys(text, "After") and keys(text, "Requires") == ["postgresql.target"]
    assert "network-online.target" not in keys(text, "After")
    assert r["cfg"]["backup"]["enable"] is False
    if SYSTEMD_ANALYZE:
        # the unit is valid with its dependency (NixOS's postgresql.target: a stand-in here;
        # verify finds units next to the one it checks)
        (tmp_path / "postgresql.target").write_text("[Unit]\nDescription=stand-in for NixOS's postgresql.target\n")
        (tmp_path / UNIT).write_text(text)
        v = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / UNIT)], capture_output=True, text=True)
        ours = [line for line in v.stderr.splitlines() if not HOST_UNIT_NOISE.match(line)]
        assert v.returncode == 0 and ours == [], f"rc={v.returncode}\n{v.stderr}"
    # the role follows the service user
    r = nix_eval({"allowedHosts": ["x"], "user": "tags", "database": {"createLocally": True}}, package=package)
    assert r["postgresql"]["ensureDatabases"] == ["tags"]
    assert r["postgresql"]["ensureUsers"] == [{"name": "tags", "ensureDBOwnership": True}]
    assert r["service"]["environment"]["DATABASE_URL"] == "postgresql:///tags?host=/run/postgresql"
    # the socket form spelled out (with more parameters) is accepted, and used as given
    url = "postgres:///rtutils?host=/run/postgresql&connect_timeout=5"
    r = nix_eval({"allowedHosts": ["x"], "database": {"createLocally": True, "url": url}}, package=package)
    assert failed_assertions(r) == [] and r["service"]["environment"]["DATABASE_URL"] == url


def test_create_locally_with_another_server_is_refused(package):
    url = "postgresql://rtutils@db.example.org/rtutils"
    r = nix_eval({"allowedHosts": ["x"], "database": {"createLocally": True, "url": url}}, package=package)
    assert failed_assertions(r) == [
        "services.requestTrackerUtils.database.createLocally runs PostgreSQL on this machine and connects "
        f'to it over the unix socket, but database.url is "{url}": leave database.url empty (it becomes '
        "postgresql:///rtutils?host=/run/postgresql), or turn createLocally off to use that server."]
    # another database name on the local socket is another server's business too
    r = nix_eval({"allowedHosts": ["x"], "database": {"createLocally": True,
                                                      "url": "postgresql:///other?host=/run/postgresql"}},
                 package=package)
    assert len(failed_assertions(r)) == 1 and "createLocally" in failed_assertions(r)[0]


def test_database_settings_and_passwords_stay_out_of_the_store(package):
    r = nix_eval({"allowedHosts": ["x"], "database": {"url": "postgresql://rtutils:hunter2@db/rtutils"}},
                 package=package)
    assert failed_assertions(r) == [
        "services.requestTrackerUtils.database.url has a password, which would be readable by every user "
        "in the Nix store: remove it and put PGPASSWORD=... in secretsFile."]
    # user@host:port is no password, nor is an IPv6 address
    for url in ("postgresql://rtutils@db:5433/rtutils", "postgresql://rtutils@[::1]:5432/rtutils",
                "postgres://[fd00::5]/rtutils?connect_timeout=5"):
        r = nix_eval({"allowedHosts": ["x"], "database": {"url": url}}, package=package)
        assert failed_assertions(r) == [], url
    r = nix_eval({"allowedHosts": ["x"], "settings": {"database_url": "postgresql://db/x",
                                                      "database_password": "x", "database_timeout": 5}},
                 package=package)
    assert failed_assertions(r) == [
        "services.requestTrackerUtils.settings: set these with their own options or the secrets file, "
        "not in settings: database_password, database_url"]


def test_sqlite_backup_on_postgresql_is_refused(package):
    r = nix_eval({"allowedHosts": ["x"], "database": {"createLocally": True}, "backup": {"enable": True}},
                 package=package)
    assert failed_assertions(r) == [
        "services.requestTrackerUtils.backup copies the SQLite file and refuses on PostgreSQL: set "
        "backup.enable = false and back the database up with pg_dump (services.postgresqlBackup)."]


def test_settings_file_is_read_by_the_real_server(custom):
    r = subprocess.run([BIN, "print-config", "--config", str(custom["configFile"])],
                       capture_output=True, text=True, timeout=20,
                       env={k: v for k, v in os.environ.items() if not k.startswith("PREFORK_")})
    assert r.returncode == 0, r.stderr
    src = f"# config file {custom['configFile']} line"
    expected = ["timeout = 60", "graceful_timeout = 20", "max_requests = 1000", "reuse_port = true",
                'forwarded_allow_ips = ["127.0.0.1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1", "fd00::/8"]',
                'access_log_format = "%(h)s \\"%(r)s\\" %(s)s"']
    for line in expected:
        assert any(out.startswith(line) and src in out for out in r.stdout.splitlines()), \
            f"{line!r} from the file not in:\n{r.stdout}"


def test_nginx_virtual_host(custom):
    nginx = custom["nginx"]
    upstream = nginx["upstreams"]["request-tracker-utils"]
    assert list(upstream["servers"]) == ["0.0.0.0:9123"] and "keepalive" in upstream["extraConfig"]
    vhost = nginx["virtualHosts"]["rtutils.example.org"]
    root = vhost["locations"]["/"]
    assert root["proxyPass"] == "http://request-tracker-utils"
    assert "keepalive_timeout 4s;" in upstream["extraConfig"]
    # other hosts join the upstream: retried on one of them, never a POST that reached a host
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in root["extraConfig"]
    assert "proxy_next_upstream_tries 2;" in root["extraConfig"] and "non_idempotent" not in root["extraConfig"]
    for header in ("Host $host", "X-Real-IP $remote_addr", "X-Forwarded-For $remote_addr",
                   "X-Forwarded-Proto $scheme", "X-Request-ID $request_id"):
        assert f"proxy_set_header {header};" in root["extraConfig"], header
    assert vhost["locations"]["/static/"]["alias"] == "/var/lib/request-tracker-utils/static/"
    hashed = [v for k, v in vhost["locations"].items() if k.startswith("~ ^/static/")]
    assert len(hashed) == 1 and "immutable" in hashed[0]["extraConfig"]
    assert re.search(r"\{12\}", next(k for k in vhost["locations"] if k.startswith("~")))
    assert "nginx" not in custom["users"]        # reads static/ as "other", not as a member
    # the application answers to the virtual host's name (already listed: not twice)
    assert custom["service"]["environment"]["ALLOWED_HOSTS"] == "rtutils.example.org,.example.net"


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze missing")
def test_systemd_analyze_verify_and_security(defaults, tmp_path):
    """ExecStart points at a copy of the real release binary (fixture `package`)."""
    path = tmp_path / UNIT
    path.write_text(render_unit(defaults["service"]))
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", str(path)], capture_output=True, text=True)
    # verify also loads the host's units; their complaints (Debian's request-tracker5.service
    # names mysql, apache2...) are not about this unit
    ours = [line for line in r.stderr.splitlines() if not HOST_UNIT_NOISE.match(line)]
    assert r.returncode == 0 and ours == [], f"rc={r.returncode}\n{r.stderr}"
    # --threshold is in tenths on systemd 252 ("2.0" does not parse): 20 is an exposure of 2.0
    r = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=20",
                        "--no-pager", str(path)], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert r.returncode == 0 and float(m.group(1)) <= 2.0, r.stdout[-3000:]
    print(f"systemd-analyze security: {m.group(0)}")


# ---------------------------------------------------------------------------------------------
# The package's pinned dependencies.
# ---------------------------------------------------------------------------------------------

def test_swiftpm_vendor_hash_matches_package_resolved():
    cache = Path.home() / ".cache" / "org.swift.swiftpm" / "repositories"
    if not cache.is_dir():
        pytest.skip(f"no SwiftPM git cache at {cache} to recompute the hash from")
    pinned = re.search(r'hash = "(sha256-[^"]+)"', (ROOT / "nixos" / "package.nix").read_text())
    assert pinned, "no fetchSwiftPMDeps hash in nixos/package.nix"
    r = subprocess.run(["python3", str(ROOT / "Tests" / "nix" / "swiftpm_vendor_hash.py"),
                        "--repos", str(cache)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and "not in any clone" in (r.stdout + r.stderr):
        pytest.skip(r.stdout + r.stderr)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == pinned.group(1), \
        "nixos/Package.resolved changed: put the new hash in nixos/package.nix"
    # and the pins are those Package.swift resolves to
    pins = {p["identity"]: p["state"]["version"]
            for p in json.loads((ROOT / "nixos" / "Package.resolved").read_text())["pins"]}
    assert pins == {"swift-log": "1.16.2", "swift-http-types": "1.8.0"}


# ---------------------------------------------------------------------------------------------
# The rendered unit under a real systemd.
# ---------------------------------------------------------------------------------------------

SECRET = "nix-test-only-5d2a8f1c7e3b9a6d4f0c8e2b7a5d3f1c9e6b4a2d8f0c"


@pytest.fixture
def rtutils_user():
    """The unit's user; created (and removed afterwards) when the machine has none."""
    created = subprocess.run(["id", "rtutils"], capture_output=True).returncode != 0
    if created:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", "rtutils"], check=True)
    yield "rtutils"
    if created:
        subprocess.run(["userdel", "rtutils"], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="the systemd harness needs root")
def test_rendered_unit_runs_hardened_under_real_systemd(rtutils_user, tmp_path_factory):
    from test_systemd import BIN_DIR, Systemd, harness, remove_leftover_units

    port = free_port()
    name = f"rtu-test-nix-{port}"
    workdir = Path("/var/lib") / name
    # a package outside /home and /root (ProtectHome=true hides them from the service)
    pkg = BIN_DIR.parent / "rtu-test-nix"
    (pkg / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BIN, pkg / "bin" / "request-tracker-utils.new")
    os.replace(pkg / "bin" / "request-tracker-utils.new", pkg / "bin" / "request-tracker-utils")
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.env"
    secrets.write_text(f"SECRET_KEY={SECRET}\n")
    secrets.chmod(0o400)                                          # root's: systemd reads it
    r = nix_eval({"port": port, "workers": 2, "workingDirectory": str(workdir),
                  "secretsFile": str(secrets), "allowedHosts": ["localhost"]}, package=pkg)
    unit = render_unit(r["service"])

    remove_leftover_units()
    harness("start")
    sd = Systemd(tmp_path_factory.mktemp("systemd"))
    try:
        sd.install(f"{name}.service", unit)
        t0 = time.monotonic()
        sd.systemctl("start", f"{name}.service", timeout=60)
        print(f"systemctl start took {time.monotonic() - t0:.2f}s")
        # preStart ran as rtutils inside the sandbox
        assert (workdir / "database.sqlite").is_file()
        manifest = json.loads((workdir / "static" / "staticfiles.json").read_text())
        assert "app.css" in manifest["paths"]
        assert workdir.stat().st_mode & 0o777 == 0o751                # StateDirectoryMode
        assert workdir.stat().st_uid == int(subprocess.check_output(["id", "-u", rtutils_user]))
        # READY=1 means every worker serves: no retry
        assert http(port, "GET", "/readyz").status == 200
        assert http(port, "GET", "/login", headers={"Host": "localhost"}).status == 200
        assert re.search(r'Status: ".*workers', sd.status(f"{name}.service"))
        assert len(sd.procs(f"{name}.service")) == 4             # master + 2 workers + 1 job worker
        assert len(sd.job_workers(f"{name}.service")) == 1
        wait_for(lambda: "GET /readyz" in (workdir / "logs" / "access.log").read_text(), 5,
                 what="the access log line in logs/access.log")
        wait_for(lambda: "Booting worker" in sd.journal_text(f"{name}.service", 200), 5,
                 what="'Booting worker' in journalctl -u")

        # the first administrator, made with request-tracker-utils-manage as the docs say
        manage = pkg / "bin" / "request-tracker-utils-manage"
        manage.write_text(r["manageScript"])
        manage.chmod(0o755)
        made = sd.run("sh", "-c", f"printf 'first admin password\\n' | {manage} user add admin --role tech")
        assert made.returncode == 0 and "added admin (technology staff)" in made.stdout, made.stdout + made.stderr
        listed = sd.run(str(manage), "user", "list")
        assert listed.returncode == 0 and listed.stdout.startswith("admin\ttech\tlocal\tenabled"), listed.stderr
        uid = int(subprocess.check_output(["id", "-u", rtutils_user]))
        assert all(path.stat().st_uid == uid for path in workdir.glob("database.sqlite*"))
        refused = sd.run(str(manage), "user", "passwd", "nobody-here")
        assert refused.returncode == 1 and "no user named nobody-here" in refused.stderr, refused.stderr
        page = http(port, "GET", "/login", headers={"Host": "localhost"})
        csrf = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page.body).group(1).decode()
        signed_in = http(port, "POST", "/login", body=f"csrf_token={csrf}&name=admin&password=first+admin+password".encode(),
                         headers={"Host": "localhost", "Content-Type": "application/x-www-form-urlencoded",
                                  "Cookie": page.header("set-cookie").split(";")[0]})
        assert signed_in.status == 303 and signed_in.header("set-cookie").startswith("rtu_session=")

        main = sd.show(f"{name}.service", "MainPID")
        workers = set(sd.procs(f"{name}.service")) - {int(main)}
        sd.systemctl("reload", f"{name}.service", timeout=60)
        assert sd.show(f"{name}.service", "MainPID") == main
        wait_for(lambda: len(set(sd.procs(f"{name}.service")) - {int(main)} - workers) == 3, 10,
                 what="two new workers and a new job worker after the reload")
        assert http(port, "GET", "/readyz").status == 200

        sd.systemctl("stop", f"{name}.service", timeout=60)
        assert sd.show(f"{name}.service", "Result") == "success", sd.diagnose(f"{name}.service")
        assert sd.show(f"{name}.service", "NRestarts") == "0"
    finally:
        stop_harness(sd, workdir, pkg)


def stop_harness(sd, *paths):
    """After a test in the systemd harness: its units removed, the harness stopped, `paths` deleted."""
    from test_systemd import harness, remove_leftover_units
    try:
        sd.cleanup()
    finally:
        remove_leftover_units()
        harness("stop", check=False)
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)


STAND_IN = """#!/bin/sh
# stands in for request-tracker-utils: says what systemd gave it
echo "user=$(id -un) secrets_file=${SECRETS_FILE:-} listen_fds=${LISTEN_FDS:-} fdnames=${LISTEN_FDNAMES:-}"
cat -- "$SECRETS_FILE"
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the systemd harness needs root")
def test_socket_and_credential_under_real_systemd(rtutils_user, tmp_path_factory):
    """The module's socket unit and secretsCredential under a real systemd 252, with every
    hardening option of the service: the socket is passed (named http), and the service user
    reads a root:root 0400 secrets file through LoadCredential= and SECRETS_FILE=%d/...; so does
    request-tracker-utils-manage. The server is a stand-in script (the real one's side of
    LISTEN_FDS and SECRETS_FILE is tested in test_systemd.py and above)."""
    from test_systemd import BIN_DIR, PREFIX, Systemd, harness, remove_leftover_units

    port = free_port()
    name = f"{PREFIX}nixcred-{port}"
    workdir = Path("/var/lib") / name
    pkg = BIN_DIR.parent / "rtu-test-nix-cred"                  # outside /tmp and /home
    (pkg / "bin").mkdir(parents=True, exist_ok=True)
    (pkg / "bin" / "request-tracker-utils").write_text(STAND_IN)
    (pkg / "bin" / "request-tracker-utils").chmod(0o755)
    secrets = tmp_path_factory.mktemp("credential") / "secrets.env"
    secrets.write_text("SECRET_KEY=credential-test-only-7f3a9c1e\n")
    secrets.chmod(0o400)                                          # root's alone
    assert secrets.stat().st_uid == 0
    r = nix_eval({"port": port, "workingDirectory": str(workdir), "allowedHosts": ["localhost"],
                  "secretsCredential": str(secrets), "socketActivation": {"enable": True}}, package=pkg)
    assert failed_assertions(r) == []
    socket = render_socket(r["socket"])
    service = dict(r["service"], wantedBy=[],
                   requires=[f"{name}.socket"], after=[f"{name}.socket"])
    config = dict(service["serviceConfig"], Type="oneshot", RemainAfterExit=True)
    for key in ("NotifyAccess", "ExecStartPre", "ExecReload", "WatchdogSec", "Restart", "RestartSec",
                "RestartPreventExitStatus"):
        config.pop(key)
    unit = render_unit(dict(service, serviceConfig=config))
    assert keys(socket, "ListenStream") == [f"127.0.0.1:{port}"]

    remove_leftover_units()
    harness("start")
    sd = Systemd(tmp_path_factory.mktemp("systemd"))
    try:
        # systemd mounts each unit's credentials (a ramfs) from a child mount namespace, which
        # reaches the service only if / is shared, as PID 1 makes it at boot; it leaves that
        # out in what it takes for a container, as the harness is: done here, inside the
        # harness's own mount namespace (its mounts have no peers outside it).
        sd.run("mount", "--make-rshared", "/", check=True)
        sd.install(f"{name}.socket", socket)
        sd.install(f"{name}.service", unit)
        sd.systemctl("start", f"{name}.service", timeout=60)      # pulls the socket in first
        assert sd.show(f"{name}.socket", "ActiveState") == "active"
        wait_for(lambda: "credential-test-only-7f3a9c1e" in sd.journal_text(f"{name}.service", 50), 5,
                 what="the secrets file's line in the unit's journal")
        journal = sd.journal_text(f"{name}.service", 50)
        assert (f"user=rtutils secrets_file=/run/credentials/{name}.service/secrets.env "
                "listen_fds=1 fdnames=http") in journal, journal

        manage = pkg / "bin" / "request-tracker-utils-manage"
        manage.write_text(r["manageScript"])
        manage.chmod(0o755)
        ran = sd.run(str(manage), "user", "list")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert re.search(r"user=rtutils secrets_file=/run/credentials/run-[^/ ]+\.service/secrets\.env ",
                         ran.stdout), ran.stdout
        assert "SECRET_KEY=credential-test-only-7f3a9c1e" in ran.stdout, ran.stdout
    finally:
        stop_harness(sd, workdir, pkg)


# ---------------------------------------------------------------------------------------------
# The daily backup.
# ---------------------------------------------------------------------------------------------

@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze missing")
def test_backup_unit_and_timer(defaults, package, tmp_path):
    service, timer = defaults["backupService"], defaults["backupTimer"]
    assert timer["wantedBy"] == ["timers.target"]
    assert timer["timerConfig"] == {"OnCalendar": "daily", "RandomizedDelaySec": "30min", "Persistent": True}
    text = render_unit(service)
    bin_ = f"{package}/bin/request-tracker-utils"
    assert keys(text, "Type") == ["oneshot"] and keys(text, "User") == ["rtutils"]
    assert keys(text, "ExecStart") == [f"{bin_} backup"]
    assert keys(text, "ExecStartPost") == [
        '/usr/bin/find /var/lib/request-tracker-utils/backups -name "database-*.sqlite" -mtime +14 -delete']
    assert keys(text, "StateDirectory") == ["request-tracker-utils", "request-tracker-utils/backups"]
    assert keys(text, "PrivateNetwork") == ["true"] and keys(text, "RestrictAddressFamilies") == ["AF_UNIX"]
    for key, value in HARDENING.items():
        if key not in ("RestrictAddressFamilies",):
            assert keys(text, key) == [value], key
    path = tmp_path / "request-tracker-utils-backup.service"
    path.write_text(text)
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", str(path)], capture_output=True, text=True)
    ours = [line for line in r.stderr.splitlines() if not HOST_UNIT_NOISE.match(line)]
    assert r.returncode == 0 and ours == [], f"rc={r.returncode}\n{r.stderr}"
    r = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=20", "--no-pager", str(path)],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    assert m and r.returncode == 0 and float(m.group(1)) <= 1.0, r.stdout[-2000:]
    kept = nix_eval(package=package, overrides={"backup": {"keepDays": 30}})
    assert "-mtime +30 -delete" in keys(render_unit(kept["backupService"]), "ExecStartPost")[0]
    off = nix_eval(package=package, overrides={"backup": {"enable": False}})
    assert not off["backupService"] and not off["backupTimer"]       # mkIf false: nothing defined


# ---------------------------------------------------------------------------------------------
# PostgreSQL over the unix socket, from inside the unit's sandbox.
# ---------------------------------------------------------------------------------------------

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


@pytest.fixture
def peer_cluster(rtutils_user):
    """A throw-away PostgreSQL cluster (Debian's binaries, run as pgtest) whose socket is in
    /var/lib/rtu-test-pgpeer-N, with `local all all peer` as NixOS and Debian have it, and a
    role and database rtutils owned by it: what database.createLocally sets up."""
    socket_dir = Path(f"/var/lib/rtu-test-pgpeer-{free_port()}")   # not /tmp: PrivateTmp hides it
    if subprocess.run(["id", "pgtest"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "pgtest"], check=True)
    socket_dir.mkdir(mode=0o755)
    shutil.chown(socket_dir, "pgtest")
    data = socket_dir / "data"

    def as_pgtest(*cmd):
        r = subprocess.run(["runuser", "-u", "pgtest", "--", *map(str, cmd)], cwd="/",
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

    try:
        as_pgtest(PG_BIN / "initdb", f"--pgdata={data}", "--username=postgres", "--auth-local=trust",
                  "--auth-host=reject", "--no-sync")
        (data / "pg_hba.conf").write_text("local all postgres trust\nlocal all all peer\n")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"unix_socket_directories = '{socket_dir}'\nlisten_addresses = ''\nfsync = off\n")
        as_pgtest(PG_BIN / "pg_ctl", "start", f"--pgdata={data}", f"--log={socket_dir}/server.log",
                  "--wait", "--silent")
        r = subprocess.run([PG_BIN / "psql", "-X", "-q", "-h", socket_dir, "-U", "postgres", "-d", "postgres",
                            "-c", "CREATE ROLE rtutils LOGIN", "-c", "CREATE DATABASE rtutils OWNER rtutils"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        yield socket_dir
    finally:
        subprocess.run(["runuser", "-u", "pgtest", "--", PG_BIN / "pg_ctl", "stop", f"--pgdata={data}",
                        "--mode=fast", "--wait", "--silent"], cwd="/", capture_output=True, timeout=60)
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="the systemd harness needs root")
@pytest.mark.skipif(PG_BIN is None, reason="no PostgreSQL server (apt-get install postgresql)")
def test_hardened_unit_reaches_postgresql_over_the_socket_as_its_user(peer_cluster, tmp_path_factory):
    """The module's unit, with its DATABASE_URL and every hardening option, under a real
    systemd: a libpq client in it (psql, given the unit's ${DATABASE_URL}) is let in by peer
    authentication as rtutils, over a socket outside the state directory. With a binary that
    knows database_url, the unit's own `migrate` runs there too."""
    from test_systemd import BIN_DIR, PREFIX, Systemd, harness, remove_leftover_units

    # a package outside /tmp and /home, which the sandbox hides
    package = BIN_DIR.parent / "rtu-test-nix-pg"
    (package / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BIN, package / "bin" / "request-tracker-utils.new")
    os.replace(package / "bin" / "request-tracker-utils.new", package / "bin" / "request-tracker-utils")
    url = f"postgresql:///rtutils?host={peer_cluster}"
    r = nix_eval({"allowedHosts": ["localhost"], "secretsFile": None, "database": {"url": url},
                  "workingDirectory": f"/var/lib/{PREFIX}pgpeer"}, package=package)
    assert r["service"]["environment"]["DATABASE_URL"] == url
    service = dict(r["service"], after=[], wants=[])              # no network-online.target inside
    config = dict(service["serviceConfig"], Type="oneshot", RemainAfterExit=True)
    for key in ("NotifyAccess", "ExecStart", "ExecReload", "WatchdogSec", "Restart", "RestartSec",
                "RestartPreventExitStatus"):
        config.pop(key)
    knows_database_url = "database_url" in subprocess.run(
        [str(package / "bin" / "request-tracker-utils"), "settings-doc"], capture_output=True, text=True).stdout
    config["ExecStartPre"] = [config["ExecStartPre"][0]] if knows_database_url else []   # migrate
    config["ExecStart"] = (f"{PG_BIN}/psql -X -d ${{DATABASE_URL}} -Atc "
                           "\"select 'connected as ' || current_user || ' to ' || current_database()\"")
    unit = render_unit(dict(service, serviceConfig=config))
    name = f"{PREFIX}pgpeer.service"

    remove_leftover_units()
    harness("start")
    sd = Systemd(tmp_path_factory.mktemp("systemd"))
    try:
        sd.install(name, unit)
        sd.systemctl("start", name, timeout=60)
        wait_for(lambda: "connected as rtutils to rtutils" in sd.journal_text(name, 50), 5,
                 what="psql's line in the unit's journal")
        if knows_database_url:
            tables = subprocess.run([PG_BIN / "psql", "-X", "-h", peer_cluster, "-U", "postgres", "-d", "rtutils",
                                     "-Atc", "select count(*) from schema_migrations"],
                                    capture_output=True, text=True, timeout=30)
            assert tables.returncode == 0 and int(tables.stdout) > 0, tables.stdout + tables.stderr
        else:
            print("the binary does not know database_url yet: migrate not run")
    finally:
        stop_harness(sd, f"/var/lib/{PREFIX}pgpeer", package)


def test_the_directory_options_reach_the_unit_only_when_it_is_on(package, tmp_path):
    off = nix_eval({"allowedHosts": ["x"]}, package=package)
    assert not [line for line in keys(render_unit(off["service"]), "Environment") if "LDAP_" in line]
    on = nix_eval({"allowedHosts": ["x"], "ldapServer": "ldaps://dc.example.org", "ldapBaseDn": "dc=example,dc=org",
                   "ldapUpnSuffix": "@example.org", "ldapTechGroup": "CN=IT Staff,OU=Groups,DC=example,DC=org",
                   "ldapTeacherGroups": ["Teachers", "Substitutes"], "ldapCaCertFile": "/etc/ssl/district-ca.pem",
                   "ldapTimeout": 4}, package=package)
    assert failed_assertions(on) == []
    env = keys(render_unit(on["service"]), "Environment")
    for pair in ('"LDAP_SERVER=ldaps://dc.example.org"', '"LDAP_BASE_DN=dc=example,dc=org"',
                 '"LDAP_UPN_SUFFIX=@example.org"', '"LDAP_TECH_GROUP=CN=IT Staff,OU=Groups,DC=example,DC=org"',
                 '"LDAP_TEACHER_GROUPS=Teachers,Substitutes"', '"LDAP_VERIFY_CERT=true"',
                 '"LDAP_CA_CERT_FILE=/etc/ssl/district-ca.pem"', '"LDAP_TIMEOUT=4"'):
        assert pair in env, (pair, env)
    # the binary accepts what the module writes: check-config with that environment passes
    values = dict(line.strip('"').split("=", 1) for line in env if line.strip('"').startswith("LDAP_"))
    values.pop("LDAP_CA_CERT_FILE")   # not on this machine
    checked = subprocess.run([BIN, "check-config"], capture_output=True, text=True, timeout=20,
                             env={**values, "WORKING_DIR": str(tmp_path / "var"), "SECRET_KEY": TEST_SECRET_KEY,
                                  "ALLOWED_HOSTS": "x", "PATH": "/usr/bin:/bin"})
    assert checked.returncode == 0, checked.stderr
    # a directory setting in free-form `settings` is refused: it has its own option
    refused = nix_eval({"allowedHosts": ["x"], "settings": {"ldap_server": "ldaps://dc"}}, package=package)
    assert any("ldap_server" in message for message in failed_assertions(refused)), failed_assertions(refused)
