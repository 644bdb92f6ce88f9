# services.requestTrackerUtils: Request Tracker Utils on the Prefork server, under systemd,
# optionally behind nginx. The unit itself is built by ./service.nix (pure, tested offline).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    literalExpression
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    optional
    types
    ;

  cfg = config.services.requestTrackerUtils;

  # Settings that have an option of their own (or are set by the unit) and so do not belong in
  # `settings`: the command line and environment would override them without a word.
  reservedSettings = [
    "bind"
    "workers"
    "working_dir"
    "allowed_hosts"
    "debug"
    "rt_url"
    "rt_api_endpoint"
    "prefix"
    "padding"
    "label_width_mm"
    "label_height_mm"
    "label_small_width_mm"
    "label_small_height_mm"
    "label_size"
    "label_footer"
    "error_logfile"
    "access_logfile"
    "secret_key"
    "rt_token"
    "rt_password"
    "database_url"
    "ldap_server"
    "ldap_base_dn"
    "ldap_upn_suffix"
    "ldap_user_dn_template"
    "ldap_tech_group"
    "ldap_teacher_groups"
    "ldap_verify_cert"
    "ldap_ca_cert_file"
    "ldap_timeout"
    # a password in the store is readable by every user of the machine: the secrets file
    "database_password"
  ];

  # The config file for `--config`. pkgs.formats.toml writes TOML that the server's parser
  # (Sources/PreforkCore/Settings/ConfigFileParser.swift) reads as long as it is top-level
  # `key = value` lines holding strings, numbers, booleans or lists of strings: the assertions
  # below keep settings to that.
  settingsFormat = pkgs.formats.toml { };

  unit = import ./service.nix {
    inherit lib cfg;
    configFile =
      if cfg.settings == { } then null else settingsFormat.generate "request-tracker-utils.toml" cfg.settings;
    systemdVersion = config.systemd.package.version;
    killBin = "${pkgs.coreutils}/bin/kill";
    envBin = "${pkgs.coreutils}/bin/env";
    findBin = "${pkgs.findutils}/bin/find";
    systemdRunBin = "${config.systemd.package}/bin/systemd-run";
  };

  # A value the config file can hold: a scalar or a list of strings (no tables, no other lists).
  isSettingValue =
    v:
    builtins.isBool v
    || builtins.isInt v
    || builtins.isFloat v
    || builtins.isString v
    || builtins.isPath v
    || (builtins.isList v && builtins.all builtins.isString v);
  settingNames = builtins.attrNames cfg.settings;
  unsupportedSettings = builtins.filter (key: !isSettingValue cfg.settings.${key}) settingNames;
  # TOML's bare keys, which is all the parser reads (formats.toml quotes any other name).
  oddSettingNames = builtins.filter (key: builtins.match "[A-Za-z0-9_-]+" key == null) settingNames;

  # A secrets file in the store is readable by every user of the machine.
  inStore =
    path: path != null && (builtins.isPath path || builtins.substring 0 11 (toString path) == "/nix/store/");

  nginxUpstream = "request-tracker-utils";

  usesPostgreSQL = unit.databaseUrl != "";

  # What createLocally accepts in database.url: the local socket form for the service user,
  # with any further parameters (connect_timeout=...).
  isLocalSocketUrl =
    url:
    builtins.match "postgres(ql)?:///${cfg.user}[?](.*&)?host=/run/postgresql/?(&.*)?" url != null;

  # postgresql://user:secret@host/db: the password would be in the world-readable store.
  hasPassword = url: builtins.match "postgres(ql)?://[^/?@]*:[^/?@]*@.*" url != null;
in
{
  options.services.requestTrackerUtils = {
    enable = mkEnableOption "Request Tracker Utils, the district IT tool for asset tags, labels and device check-in";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "pkgs.callPackage ./nixos/package.nix { }";
      description = "The request-tracker-utils package (its bin/request-tracker-utils is run).";
    };

    host = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "::1";
      description = "Address the server binds (`--bind HOST:PORT`). Keep it on loopback behind nginx.";
    };

    port = mkOption {
      type = types.port;
      default = 8000;
      description = "TCP port the server binds.";
    };

    workers = mkOption {
      type = types.ints.positive;
      default = 4;
      example = 5;
      description = ''
        Worker processes (`--workers`). Each serves one request at a time; about 2 × CPU cores
        (+1) is a good start, more when pages wait on Request Tracker.
      '';
    };

    secretsFile = mkOption {
      type = types.nullOr types.path;
      default = if cfg.secretsCredential == null then "/etc/request-tracker-utils/secrets.env" else null;
      defaultText = literalExpression ''if secretsCredential == null then "/etc/request-tracker-utils/secrets.env" else null'';
      example = "/run/agenix/rtutils-secrets";
      description = ''
        `KEY=VALUE` file loaded with systemd's `EnvironmentFile=` (read by systemd as root at
        each start, so it may be `root:root` mode 0400; the start fails while it is missing): `SECRET_KEY` (make one with
        `request-tracker-utils generate-secret-key`), and `RT_TOKEN` or
        `RT_USERNAME`/`RT_PASSWORD`. Its variables override the unit's `Environment=`. Give it
        as a string: a Nix path (`./secrets.env`) would be copied into the world-readable store,
        and is refused. `null` loads none; see also `secretsCredential`.
      '';
    };

    secretsCredential = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/agenix/rtutils-secrets";
      description = ''
        The same `KEY=VALUE` secrets file, handed over as a systemd credential instead of an
        `EnvironmentFile=`: `LoadCredential=secrets.env:PATH` has systemd (as root) copy it at each
        start into the unit's private credentials directory, readable by the service user only,
        and the server reads it from there as its secrets file (`SECRETS_FILE=%d/secrets.env`,
        i.e. `--secrets-file`). The file itself stays `root:root` 0400, and the secrets are not
        in the processes' environment. The unit's own variables (`ALLOWED_HOSTS`, `RT_URL`...)
        win over the file's: use it for secrets (`SECRET_KEY`, `RT_TOKEN`, `PGPASSWORD`...).
        Restart after changing it. When set, `secretsFile` defaults to `null`.
      '';
    };

    debug = mkOption {
      type = types.bool;
      default = false;
      description = "Development mode (`DEBUG`): no `SECRET_KEY` needed, error details on pages. Never in production.";
    };

    allowedHosts = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "rtutils.example.org"
        "localhost"
      ];
      description = ''
        Host names the site answers to (`ALLOWED_HOSTS`): exact names, `.example.org` for a
        domain and its subdomains, `*` for any. Required unless `debug`. With `nginx.enable`,
        `nginx.virtualHost` is added.
      '';
    };

    workingDirectory = mkOption {
      type = types.str;
      default = "/var/lib/request-tracker-utils";
      description = ''
        `WORKING_DIR`: the SQLite database, `static/` (collected files, served by nginx) and
        `logs/`. Below /var/lib it is the unit's `StateDirectory=`; elsewhere it is created by
        tmpfiles and made writable with `ReadWritePaths=`.
      '';
    };

    user = mkOption {
      type = types.str;
      default = "rtutils";
      description = "User the service runs as; created (as a system user) when left at the default.";
    };

    group = mkOption {
      type = types.str;
      default = "rtutils";
      description = "Group the service runs as; created when left at the default.";
    };

    labelWidthMm = mkOption {
      type = types.number;
      default = 100;
      example = 90.3;
      description = "Width of the large label (`size=large`) in millimetres (`LABEL_WIDTH_MM`): 100 for the 100×62 device labels.";
    };

    labelHeightMm = mkOption {
      type = types.number;
      default = 62;
      example = 29;
      description = "Height of the large label in millimetres (`LABEL_HEIGHT_MM`).";
    };

    labelSmallWidthMm = mkOption {
      type = types.number;
      default = 90.3;
      example = 62;
      description = "Width of the small label (`size=small`, chargers and cables) in millimetres (`LABEL_SMALL_WIDTH_MM`).";
    };

    labelSmallHeightMm = mkOption {
      type = types.number;
      default = 29;
      description = "Height of the small label in millimetres (`LABEL_SMALL_HEIGHT_MM`).";
    };

    labelSize = mkOption {
      type = types.enum [
        "large"
        "small"
      ];
      default = "large";
      description = "Label size when the URL names none (`LABEL_SIZE`); RT assets of type Charger, Power Adapter or Cable get the small one regardless.";
    };

    labelFooter = mkOption {
      type = types.str;
      default = "";
      example = "Western CUSD #12";
      description = "Line printed at the foot of every label, above the bar code (`LABEL_FOOTER`); empty prints none.";
    };

    rtUrl = mkOption {
      type = types.str;
      default = "";
      example = "https://tickets.example.org";
      description = "Request Tracker's web address (`RT_URL`); empty turns the RT features off.";
    };

    apiEndpoint = mkOption {
      type = types.str;
      default = "/REST/2.0";
      description = "Path of RT's REST 2.0 API below `rtUrl` (`RT_API_ENDPOINT`).";
    };

    prefix = mkOption {
      type = types.str;
      default = "W12-";
      description = "Text before the number in every asset tag (`PREFIX`): `W12-` gives W12-0001.";
    };

    padding = mkOption {
      type = types.ints.between 1 12;
      default = 4;
      description = "Digits in an asset tag's number, zero-padded (`PADDING`).";
    };

    # The district's directory, with the option names of the original tool's module
    # (ldapTeacherGroups takes a list where it took one group). Empty ldapServer: local
    # accounts only (`request-tracker-utils user add`). Try the set-up with
    # `request-tracker-utils user check NAME`.
    ldapServer = mkOption {
      type = types.str;
      default = "";
      example = "ldaps://dc.example.org";
      description = "The directory's address (`LDAP_SERVER`): ldaps://, or ldap:// with StartTLS; empty for local accounts only.";
    };

    ldapBaseDn = mkOption {
      type = types.str;
      default = "";
      example = "dc=example,dc=org";
      description = "Where users are searched for (`LDAP_BASE_DN`).";
    };

    ldapUpnSuffix = mkOption {
      type = types.str;
      default = "";
      example = "@example.org";
      description = "Active Directory: users bind as NAME + this suffix (`LDAP_UPN_SUFFIX`).";
    };

    ldapUserDnTemplate = mkOption {
      type = types.str;
      default = "";
      example = "uid=%s,ou=people,dc=example,dc=org";
      description = "Other LDAP servers: the DN users bind as, %s for the name (`LDAP_USER_DN_TEMPLATE`).";
    };

    ldapTechGroup = mkOption {
      type = types.str;
      default = "";
      example = "CN=IT Staff,OU=Groups,DC=example,DC=org";
      description = "The group (DN or cn) of technology staff, who may do everything (`LDAP_TECH_GROUP`).";
    };

    ldapTeacherGroups = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "Teachers" ];
      description = "Groups (DNs or cns) of teachers, who may run audits (`LDAP_TEACHER_GROUPS`).";
    };

    ldapVerifyCert = mkOption {
      type = types.bool;
      default = true;
      description = "Check the directory's TLS certificate (`LDAP_VERIFY_CERT`).";
    };

    ldapCaCertFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/etc/ssl/district-ca.pem";
      description = "PEM file of the CA that signed the directory's certificate (`LDAP_CA_CERT_FILE`).";
    };

    ldapTimeout = mkOption {
      type = types.ints.positive;
      default = 5;
      description = "Seconds one sign-in may spend with the directory (`LDAP_TIMEOUT`), below the worker timeout.";
    };

    accessLogFile = mkOption {
      type = types.nullOr types.str;
      default = "${cfg.workingDirectory}/logs/access.log";
      defaultText = literalExpression ''"''${config.services.requestTrackerUtils.workingDirectory}/logs/access.log"'';
      description = ''
        Access log (`--access-logfile`): a file (rotated weekly by logrotate), `"journal"` for
        journal entries with `HTTP_*` fields, or `null` for none.
      '';
    };

    errorLogFile = mkOption {
      type = types.str;
      default = "${cfg.workingDirectory}/logs/error.log";
      defaultText = literalExpression ''"''${config.services.requestTrackerUtils.workingDirectory}/logs/error.log"'';
      example = "-";
      description = ''
        Error log (`--error-logfile`): a file, as the seeds' `logs/error.log`, or `"-"` (stderr).
        Under systemd every entry also goes to the journal with its fields (`PRIORITY`,
        `REQUEST_ID`, `WORKER_PID`...), so `journalctl -u request-tracker-utils` shows them either way.
      '';
    };

    settings = mkOption {
      type = settingsFormat.type;
      default = { };
      example = {
        timeout = 60;
        max_requests = 1000;
        forwarded_allow_ips = [ "127.0.0.1" ];
        rt_timeout = 8;
      };
      description = ''
        Further server and application settings (docs/settings.md, by config-file key), written
        with `pkgs.formats.toml` to a config file passed with `--config`. The server reads
        top-level `key = value` settings holding a string, number, boolean or list of strings;
        tables and other lists are refused here, as are settings with an option above.
      '';
    };

    database = {
      url = mkOption {
        type = types.str;
        default = "";
        example = "postgresql://rtutils@db.example.org:5432/rtutils?sslmode=verify-full";
        description = ''
          `DATABASE_URL`. Empty: the embedded SQLite file `database.sqlite` in
          `workingDirectory`, which needs nothing else. `postgresql://USER@HOST:PORT/DATABASE`
          (or `postgres://`, with `?sslmode=...&connect_timeout=...`) for a PostgreSQL server,
          which several application hosts may share. No password here (the store is readable by
          every user): put `PGPASSWORD=...` in `secretsFile`, or a `.pgpass`. Also empty with
          `createLocally`, which sets it.
        '';
      };

      createLocally = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Run PostgreSQL on this machine (`services.postgresql`) with a role and a database named
          after `user`, owned by it, and connect over the unix socket with peer authentication
          (`postgresql:///<user>?host=/run/postgresql`: no password). The service starts after
          `postgresql.target`. Back it up with `services.postgresqlBackup`.
        '';
      };
    };

    backup = {
      enable = mkOption {
        type = types.bool;
        default = !usesPostgreSQL;
        defaultText = literalExpression ''config.services.requestTrackerUtils.database.url == "" && !config.services.requestTrackerUtils.database.createLocally'';
        description = ''
          A daily consistent copy of the SQLite database (`request-tracker-utils backup`, SQLite's
          online backup, integrity-checked) in `''${workingDirectory}/backups/`, by the timer
          `request-tracker-utils-backup.timer`. Copy that directory off the machine (for example
          with `services.restic.backups`). Off, and refused, with PostgreSQL: back that up with
          `pg_dump` (`services.postgresqlBackup`).
        '';
      };
      keepDays = mkOption {
        type = types.ints.positive;
        default = 14;
        description = "Backups older than this many days are removed after each new one.";
      };
    };

    socketActivation = {
      enable = mkOption {
        type = types.bool;
        default = false;
        description = ''
          A socket unit, `request-tracker-utils.socket` (as config/systemd/ has for Debian), that
          holds the listening sockets: systemd binds `listenStreams` and passes them to the
          server (`LISTEN_FDS`, named `http`), which then ignores `--bind`. Connections that
          arrive while the service restarts (an upgrade, `nixos-rebuild switch`) wait in the
          socket's queue instead of being refused. The service requires the socket and is still
          started at boot; a changed service is restarted with the socket left open
          (`stopIfChanged = false`).
        '';
      };
      listenStreams = mkOption {
        type = types.listOf types.str;
        default = [ unit.bindAddress ];
        defaultText = literalExpression ''[ "''${host}:''${toString port}" ]'';
        example = [
          "127.0.0.1:8000"
          "[::1]:8000"
        ];
        description = ''
          `ListenStream=` lines of the socket unit; the server serves on every one. With
          `nginx.enable` it must hold `host`:`port`, where nginx proxies to.
        '';
      };
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the firewall: ports 80 and 443 with `nginx.enable`, else `port` (useful only when `host` is not loopback).";
    };

    nginx = {
      enable = mkEnableOption "an nginx virtual host proxying to the server and serving `static/` itself";

      virtualHost = mkOption {
        type = types.str;
        default = "localhost";
        example = "rtutils.example.org";
        description = ''
          Name of the nginx virtual host; extend it with
          `services.nginx.virtualHosts.<name>` (`enableACME`, `forceSSL`...).
        '';
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = builtins.all (key: !(builtins.elem key reservedSettings)) (builtins.attrNames cfg.settings);
          message = "services.requestTrackerUtils.settings: set these with their own options or the secrets file, not in settings: ${
            builtins.concatStringsSep ", " (builtins.filter (key: builtins.elem key reservedSettings) (builtins.attrNames cfg.settings))
          }";
        }
        {
          assertion = unsupportedSettings == [ ];
          message = "services.requestTrackerUtils.settings: the server's config file holds top-level settings whose value is a string, number, boolean or list of strings; not tables or other lists: ${builtins.concatStringsSep ", " unsupportedSettings}";
        }
        {
          assertion = oddSettingNames == [ ];
          message = "services.requestTrackerUtils.settings: not setting names (letters, digits, _ and -; see docs/settings.md): ${builtins.concatStringsSep ", " (map builtins.toJSON oddSettingNames)}";
        }
        {
          assertion = !inStore cfg.secretsFile && !inStore cfg.secretsCredential;
          message = "services.requestTrackerUtils.secretsFile and secretsCredential must name a file outside the Nix store (a string like \"/run/agenix/rtutils\", not a Nix path): the store is readable by every user.";
        }
        {
          assertion = !(cfg.socketActivation.enable && cfg.nginx.enable) || builtins.elem unit.bindAddress cfg.socketActivation.listenStreams;
          message = "services.requestTrackerUtils.socketActivation.listenStreams must hold ${unit.bindAddress} (host:port), where nginx proxies to.";
        }
        {
          assertion = cfg.debug || unit.allowedHosts != [ ];
          message = "services.requestTrackerUtils.allowedHosts must name the site's host names unless debug is on.";
        }
        {
          assertion = !cfg.database.createLocally || cfg.database.url == "" || isLocalSocketUrl cfg.database.url;
          message = "services.requestTrackerUtils.database.createLocally runs PostgreSQL on this machine and connects to it over the unix socket, but database.url is ${builtins.toJSON cfg.database.url}: leave database.url empty (it becomes ${unit.localDatabaseUrl}), or turn createLocally off to use that server.";
        }
        {
          assertion = !hasPassword cfg.database.url;
          message = "services.requestTrackerUtils.database.url has a password, which would be readable by every user in the Nix store: remove it and put PGPASSWORD=... in secretsFile.";
        }
        {
          assertion = !(cfg.backup.enable && usesPostgreSQL);
          message = "services.requestTrackerUtils.backup copies the SQLite file and refuses on PostgreSQL: set backup.enable = false and back the database up with pg_dump (services.postgresqlBackup).";
        }
      ];

      systemd.services.request-tracker-utils = unit.service;
      systemd.sockets.request-tracker-utils = mkIf cfg.socketActivation.enable unit.socket;

      # `request-tracker-utils-manage user add NAME --role tech`: the first administrator, and
      # every other one-off command, as the service runs it (see service.nix).
      environment.systemPackages = [
        (pkgs.writeTextFile {
          name = "request-tracker-utils-manage";
          destination = "/bin/request-tracker-utils-manage";
          executable = true;
          text = unit.manageScript;
        })
      ];

      systemd.services.request-tracker-utils-backup = mkIf cfg.backup.enable unit.backupService;
      systemd.timers.request-tracker-utils-backup = mkIf cfg.backup.enable {
        description = "Daily Request Tracker Utils database backup";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = "daily";
          RandomizedDelaySec = "30min";
          Persistent = true;
        };
      };

      systemd.tmpfiles.settings.request-tracker-utils = mkIf (unit.stateDirectory == null) {
        ${cfg.workingDirectory}.d = {
          user = cfg.user;
          group = cfg.group;
          mode = "0751";
        };
        ${unit.logsDirectory}.d = {
          user = cfg.user;
          group = cfg.group;
          mode = "0750";
        };
      };

      # The role and the database named after the service user, which owns the database (so
      # `migrate` may create tables in PostgreSQL 15's public schema); NixOS's default
      # pg_hba.conf maps local socket connections to the role of the same name (peer).
      services.postgresql = mkIf cfg.database.createLocally {
        enable = true;
        ensureDatabases = [ cfg.user ];
        ensureUsers = [
          {
            name = cfg.user;
            ensureDBOwnership = true;
          }
        ];
      };

      users.users = mkIf (cfg.user == "rtutils") {
        rtutils = {
          isSystemUser = true;
          group = cfg.group;
          home = cfg.workingDirectory;
          description = "Request Tracker Utils";
        };
      };
      users.groups = mkIf (cfg.group == "rtutils") { rtutils = { }; };

      services.logrotate.settings.request-tracker-utils = mkIf (cfg.accessLogFile != null && cfg.accessLogFile != "journal" && cfg.accessLogFile != "-") {
        files = [ "${unit.logsDirectory}/*.log" ];
        frequency = "weekly";
        rotate = 8;
        missingok = true;
        notifempty = true;
        compress = true;
        delaycompress = true;
        su = "${cfg.user} ${cfg.group}";
        create = "0640 ${cfg.user} ${cfg.group}";
        sharedscripts = true;
        # USR1: the master and its workers reopen their log files.
        postrotate = "${config.systemd.package}/bin/systemctl kill --signal=USR1 --kill-whom=main request-tracker-utils.service";
      };

      networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall (
        if cfg.nginx.enable then
          [
            80
            443
          ]
        else
          [ cfg.port ]
      );
    }

    (mkIf cfg.nginx.enable {
      # nginx reads static/ as "other": collectstatic writes it 0755 with 0644 files whatever the
      # umask, and the state directory is 0751; the database and logs stay out of its reach.
      services.nginx = {
        enable = true;
        upstreams.${nginxUpstream} = {
          servers."${unit.bindAddress}" = { };
          # idle upstream connections close before the server's 5 s keepalive does
          extraConfig = ''
            keepalive 16;
            keepalive_timeout 4s;
          '';
        };
        virtualHosts.${cfg.nginx.virtualHost} = {
          locations."/" = {
            proxyPass = "http://${nginxUpstream}";
            recommendedProxySettings = false; # the headers below, once each
            # As config/nginx/request-tracker-utils.conf: X-Forwarded-For is nginx's view of the
            # client, not appended to what the client sent (nginx is the edge), X-Request-ID is
            # adopted by the server, and the read timeout is above the server's 30 s `timeout`.
            # Retries as config/nginx/request-tracker-utils-hosts.conf, for servers added to
            # services.nginx.upstreams.request-tracker-utils (other hosts on one PostgreSQL):
            # a request that failed (error, timeout, 502/503/504) within 10 s goes to one other
            # host, unless it is a POST that reached the first one (nginx never replays those
            # without `non_idempotent`). With the one local server there is no other host.
            extraConfig = ''
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_set_header Host $host;
              proxy_set_header X-Real-IP $remote_addr;
              proxy_set_header X-Forwarded-For $remote_addr;
              proxy_set_header X-Forwarded-Proto $scheme;
              proxy_set_header X-Request-ID $request_id;
              proxy_connect_timeout 5s;
              proxy_read_timeout 35s;
              proxy_send_timeout 35s;
              proxy_next_upstream error timeout http_502 http_503 http_504;
              proxy_next_upstream_tries 2;
              proxy_next_upstream_timeout 10s;
              client_max_body_size 10m;
            '';
          };
          # Plain names (app.css) may change with a release: a short cache.
          locations."/static/" = {
            alias = "${cfg.workingDirectory}/static/";
            extraConfig = ''
              add_header Cache-Control "public, max-age=3600";
            '';
          };
          # Hashed names (app.422c8320203d.css) never change: a year, immutable.
          locations."~ ^/static/(.+\\.[0-9a-f]{12}\\.[A-Za-z0-9]+)$" = {
            alias = "${cfg.workingDirectory}/static/$1";
            extraConfig = ''
              add_header Cache-Control "public, max-age=31536000, immutable";
            '';
          };
        };
      };
    })
  ]);
}
