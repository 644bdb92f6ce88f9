# NixOS VM test: `nix build .#checks.x86_64-linux.vm` (or `nix flake check`). One machine runs
# the module behind nginx; the script checks what an operator would: the unit is active and
# says so in `systemctl status`, pages come through nginx, /static/ is served by nginx with
# the right cache headers, `journalctl -u` has the server's lines, and reload keeps serving.
# A second machine runs it on PostgreSQL (database.createLocally): migrated over the unix
# socket by peer authentication, tables owned by rtutils, no SQLite file, no backup timer.
{ self }:
{ ... }:
{
  name = "request-tracker-utils";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ self.nixosModules.requestTrackerUtils ];

      services.requestTrackerUtils = {
        enable = true;
        workers = 2;
        allowedHosts = [ "localhost" ];
        settings = {
          timeout = 45;
          max_requests = 1000;
        };
        nginx = {
          enable = true;
          virtualHost = "rtutils.test";
        };
      };

      # A test-only key; real deployments keep the file out of the store (agenix, sops-nix).
      environment.etc."request-tracker-utils/secrets.env" = {
        text = "SECRET_KEY=vm-test-only-9c1f4e7a2b8d5c3f6a0e9d7b4c1f8a5e2d9b6c3f0a7e4d1b\n";
        mode = "0400";
      };

      networking.hosts."127.0.0.1" = [ "rtutils.test" ];
      environment.systemPackages = [ pkgs.curl ];
    };

  # The same module on PostgreSQL created on the machine (database.createLocally): the unit
  # waits for postgresql.target and reaches the server over its unix socket as rtutils.
  nodes.pg =
    { pkgs, ... }:
    {
      imports = [ self.nixosModules.requestTrackerUtils ];

      services.requestTrackerUtils = {
        enable = true;
        workers = 2;
        allowedHosts = [ "localhost" ];
        database.createLocally = true;
      };

      environment.etc."request-tracker-utils/secrets.env" = {
        text = "SECRET_KEY=vm-test-only-3e8b1d6f9a2c5e7b0d4f8a1c6e3b9d5f2a7c0e4b8d1f6a3c\n";
        mode = "0400";
      };
      environment.systemPackages = [ pkgs.curl ];
    };

  testScript = ''
    import json

    machine.wait_for_unit("request-tracker-utils.service")
    machine.wait_for_unit("nginx.service")
    machine.wait_for_open_port(8000)
    machine.wait_for_open_port(80)

    with subtest("Type=notify: active once the workers serve, Status: line shown"):
        status = machine.succeed("systemctl status --no-pager request-tracker-utils.service")
        assert "active (running)" in status, status
        assert "Status:" in status and "workers" in status, status
        machine.succeed("curl -fsS http://127.0.0.1:8000/readyz")

    with subtest("preStart ran: database migrated, static files collected"):
        machine.succeed("test -s /var/lib/request-tracker-utils/database.sqlite")
        machine.succeed("test -s /var/lib/request-tracker-utils/static/staticfiles.json")

    with subtest("pages through nginx"):
        page = machine.succeed("curl -fsS http://rtutils.test/")
        assert "<html" in page.lower(), page[:400]
        machine.succeed("curl -fsS http://rtutils.test/readyz")
        # a Host outside ALLOWED_HOSTS is refused by the application, through nginx too
        machine.succeed("test \"$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.test' http://127.0.0.1/)\" = 400")

    with subtest("/static/ served by nginx, hashed names cached for a year"):
        manifest = json.loads(machine.succeed("cat /var/lib/request-tracker-utils/static/staticfiles.json"))
        hashed = manifest["paths"]["app.css"]
        headers = machine.succeed(f"curl -fsS -D - -o /dev/null http://rtutils.test/static/{hashed}")
        assert "immutable" in headers and "max-age=31536000" in headers, headers
        assert "nginx" in headers.lower(), headers
        plain = machine.succeed("curl -fsS -D - -o /dev/null http://rtutils.test/static/app.css")
        assert "max-age=3600" in plain, plain

    with subtest("access log file, error log in the journal"):
        machine.wait_until_succeeds("grep -q 'GET /readyz' /var/lib/request-tracker-utils/logs/access.log")
        machine.succeed("journalctl -u request-tracker-utils.service --no-pager | grep -q 'Booting worker'")

    with subtest("reload: same master, new workers, still serving"):
        main = machine.succeed("systemctl show -p MainPID --value request-tracker-utils.service").strip()
        machine.succeed("systemctl reload request-tracker-utils.service")
        machine.succeed("curl -fsS http://rtutils.test/readyz")
        assert machine.succeed("systemctl show -p MainPID --value request-tracker-utils.service").strip() == main
        machine.succeed("systemctl is-active request-tracker-utils.service")

    with subtest("hardening as configured"):
        score = machine.succeed("systemd-analyze security --no-pager request-tracker-utils.service | tail -n 1")
        print(score)
        machine.succeed("systemd-analyze security --threshold=20 request-tracker-utils.service")

    with subtest("the daily backup: timer armed, a run makes an integrity-checked copy"):
        machine.succeed("systemctl list-timers --all --no-pager | grep -q request-tracker-utils-backup.timer")
        machine.succeed("systemctl start request-tracker-utils-backup.service")
        machine.succeed("journalctl -u request-tracker-utils-backup.service --no-pager | grep -q 'integrity ok'")
        machine.succeed("ls /var/lib/request-tracker-utils/backups/database-*.sqlite")

    with subtest("stop drains and exits cleanly"):
        machine.succeed("systemctl stop request-tracker-utils.service")
        assert machine.succeed("systemctl show -p Result --value request-tracker-utils.service").strip() == "success"

    with subtest("database.createLocally: PostgreSQL over the unix socket, peer authentication"):
        pg.wait_for_unit("request-tracker-utils.service")
        pg.wait_for_open_port(8000)
        pg.succeed("curl -fsS http://127.0.0.1:8000/readyz")
        unit = pg.succeed("systemctl show -p After -p Requires -p Environment request-tracker-utils.service")
        assert "postgresql.target" in unit, unit
        assert "DATABASE_URL=postgresql:///rtutils?host=/run/postgresql" in unit, unit
        pg.succeed("test ! -e /var/lib/request-tracker-utils/database.sqlite")
        applied = pg.succeed("runuser -u postgres -- psql -d rtutils -Atc 'select count(*) from schema_migrations'")
        assert int(applied) > 0, applied
        owner = pg.succeed("runuser -u postgres -- psql -d rtutils -Atc \"select tableowner from pg_tables where tablename = 'schema_migrations'\"")
        assert owner.strip() == "rtutils", owner
        # no SQLite backup timer on PostgreSQL
        pg.fail("systemctl cat request-tracker-utils-backup.timer")
  '';
}
