# The systemd units of services.requestTrackerUtils, as plain data: what module.nix puts in
# systemd.services.request-tracker-utils (and .socket, -backup), and request-tracker-utils-manage.
#
# Pure on purpose: it needs neither pkgs nor the module system, only a few functions of `lib`
# and the option values, so Tests/nix/eval.nix evaluates it with a stub lib on a machine
# without nixpkgs, renders the unit and runs `systemd-analyze verify` and `security` on it.
#
# The unit mirrors config/systemd/request-tracker-utils.service (the plain unit for Debian):
# Type=notify readiness (notify-reload where systemd has it), HUP reload, KillMode=mixed drain,
# watchdog, no restart on exit 2 (invalid configuration) or 3 (application cannot boot), the
# same hardening, and, with socketActivation, the same .socket unit.
{
  lib,
  # config.services.requestTrackerUtils
  cfg,
  # The settings file (the derivation pkgs.formats.toml's generate returns), or null when
  # cfg.settings is empty.
  configFile ? null,
  # config.systemd.package.version: Type=notify-reload from 253 on.
  systemdVersion ? "252",
  # Absolute path of kill(1): there is no /bin/kill on NixOS.
  killBin ? "/bin/kill",
  # Absolute path of env(1), which request-tracker-utils-manage names the credential with.
  envBin ? "env",
  # Absolute path of find(1), which prunes old backups.
  findBin ? "/usr/bin/find",
  # Absolute path of systemd-run(1), which request-tracker-utils-manage runs commands with.
  systemdRunBin ? "systemd-run",
}:
let
  inherit (lib) optionalAttrs optionals;

  bin = "${cfg.package}/bin/request-tracker-utils";

  # systemd 253 added Type=notify-reload: systemd sends ReloadSignal= (HUP) to the main process
  # itself and counts the reload done at the READY=1 that follows the server's RELOADING=1 (the
  # server sends both on HUP: docs/systemd.md). Before 253 (Debian 12 has 252) ExecReload=
  # sends the HUP.
  notifyReload = lib.versionAtLeast systemdVersion "253";

  # socketActivation: request-tracker-utils.socket binds the addresses and passes them to the
  # server (LISTEN_FDS, LISTEN_FDNAMES=http), which then ignores --bind.
  socketUnit = "request-tracker-utils.socket";
  socketActivated = cfg.socketActivation.enable;

  # secretsCredential: LoadCredential=secrets.env:PATH puts a copy, readable by the service
  # user only, in the unit's credentials directory; the server reads it as its secrets file.
  credentialName = "secrets.env";
  usesCredential = cfg.secretsCredential != null;

  # One ExecStart= word: quoted when it holds more than safe characters; `%` (specifiers) and
  # `$` (variables) doubled so systemd passes them through.
  execArg =
    word:
    if builtins.match "[][A-Za-z0-9_./:@=+,-]+" word != null then
      word
    else
      "\""
      + builtins.replaceStrings [ "\\" "\"" "%" "$" ] [ "\\\\" "\\\"" "%%" "$$" ] word
      + "\"";
  execLine = words: builtins.concatStringsSep " " (map execArg words);

  # 127.0.0.1:8000, or [::1]:8000 for an IPv6 address.
  bindAddress =
    let
      host = if builtins.match ".*:.*" cfg.host != null then "[${cfg.host}]" else cfg.host;
    in
    "${host}:${toString cfg.port}";

  # 100 -> "100", 90.3 -> "90.3" (toString of a float pads to six decimals).
  number =
    x:
    if builtins.isFloat x then
      let
        m = builtins.match "(-?[0-9]+)\\.([0-9]*[1-9])?0*" (toString x);
      in
      if m == null then toString x
      else if builtins.elemAt m 1 == null then builtins.elemAt m 0
      else "${builtins.elemAt m 0}.${builtins.elemAt m 1}"
    else
      toString x;

  # The state directory below /var/lib that systemd creates and chowns (StateDirectory=), or
  # null for a working directory elsewhere (module.nix then creates it with tmpfiles).
  stateDirectory =
    let
      m = builtins.match "/var/lib/([^/].*[^/]|[^/])/?" cfg.workingDirectory;
    in
    if m == null then null else builtins.head m;

  logsDirectory = "${cfg.workingDirectory}/logs";

  # The service's environment: also what request-tracker-utils-manage gives one-off commands.
  serviceEnvironment = {
    WORKING_DIR = cfg.workingDirectory;
    ALLOWED_HOSTS = builtins.concatStringsSep "," allowedHosts;
    DEBUG = if cfg.debug then "true" else "false";
    RT_URL = cfg.rtUrl;
    RT_API_ENDPOINT = cfg.apiEndpoint;
    PREFIX = cfg.prefix;
    PADDING = toString cfg.padding;
    LABEL_WIDTH_MM = number cfg.labelWidthMm;
    LABEL_HEIGHT_MM = number cfg.labelHeightMm;
    LABEL_SMALL_WIDTH_MM = number cfg.labelSmallWidthMm;
    LABEL_SMALL_HEIGHT_MM = number cfg.labelSmallHeightMm;
    LABEL_SIZE = cfg.labelSize;
    LABEL_FOOTER = cfg.labelFooter;
  }
  # Left out when empty, so a DATABASE_URL in the secrets file is the only one there is.
  // optionalAttrs (databaseUrl != "") { DATABASE_URL = databaseUrl; }
  # The directory only when it is on (ldapServer set).
  // optionalAttrs (cfg.ldapServer or "" != "") (
    {
      LDAP_SERVER = cfg.ldapServer;
      LDAP_BASE_DN = cfg.ldapBaseDn;
      LDAP_UPN_SUFFIX = cfg.ldapUpnSuffix;
      LDAP_USER_DN_TEMPLATE = cfg.ldapUserDnTemplate;
      LDAP_TECH_GROUP = cfg.ldapTechGroup;
      LDAP_TEACHER_GROUPS = builtins.concatStringsSep "," cfg.ldapTeacherGroups;
      LDAP_VERIFY_CERT = if cfg.ldapVerifyCert then "true" else "false";
      LDAP_TIMEOUT = toString cfg.ldapTimeout;
    }
    // optionalAttrs (cfg.ldapCaCertFile != null) { LDAP_CA_CERT_FILE = cfg.ldapCaCertFile; }
  );

  # nginx proxies with `Host: <virtualHost>`: the application must answer to it.
  allowedHosts =
    cfg.allowedHosts
    ++ optionals (cfg.nginx.enable && !builtins.elem cfg.nginx.virtualHost cfg.allowedHosts) [
      cfg.nginx.virtualHost
    ];

  gracefulTimeout = cfg.settings.graceful_timeout or 30;

  # PostgreSQL on this machine (database.createLocally), reached over its unix socket as the
  # service user: peer authentication, no password anywhere. The role and the database are
  # both named after the user, as ensureDBOwnership needs.
  localDatabaseUrl = "postgresql:///${cfg.user}?host=/run/postgresql";

  # DATABASE_URL: empty (SQLite in the working directory) unless a URL is given or the
  # database is created locally.
  databaseUrl =
    if cfg.database.url == "" && cfg.database.createLocally then localDatabaseUrl else cfg.database.url;

  # A server elsewhere: the start waits for the network to be up, not just configured.
  remoteDatabase = databaseUrl != "" && !cfg.database.createLocally;

  # The sandbox of both units (docs/systemd.md, Hardening): `systemd-analyze security` 1.2.
  hardening = {
    # Files: the state directory (database, static/, logs/) is all it writes.
    UMask = "0027";
    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    PrivateMounts = true;
    DevicePolicy = "closed";
    RemoveIPC = true;
    # Kernel, processes and identity.
    NoNewPrivileges = true;
    PrivateUsers = true;
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    ProcSubset = "pid";
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    RestrictNamespaces = true;
    # AF_UNIX: sd_notify and the journal; AF_INET(6): clients and Request Tracker.
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged @resources"
      # libdispatch (under GRDB) sets its threads' nice value; unprivileged it can only lower it
      "setpriority"
    ];
    SystemCallErrorNumber = "EPERM";
  };


  serveArgs = [
    bin
    "serve"
    "--bind"
    bindAddress
    "--workers"
    (toString cfg.workers)
    # the server sets its own umask (default 022) over UMask=: keep logs and the database's
    # -wal/-shm files private to the group too
    "--umask"
    "0027"
    "--error-logfile"
    cfg.errorLogFile
  ]
  ++ optionals (cfg.accessLogFile != null) [
    "--access-logfile"
    cfg.accessLogFile
  ]
  ++ optionals (configFile != null) [
    "--config"
    "${configFile}"
  ];
in
{
  inherit
    allowedHosts
    bindAddress
    databaseUrl
    localDatabaseUrl
    logsDirectory
    stateDirectory
    ;

  # request-tracker-utils-manage (module.nix puts it on the system's PATH): the binary's own
  # commands (`user add`, `migrate status`, `tags ...`) as the service runs them: as its user,
  # with its environment and secrets file, in a transient unit, so the database files keep
  # their owner and the secrets file stays root's. Standard input and output are passed
  # through (a password prompt works on a terminal; `printf ... |` works in scripts), the exit
  # status is the command's. Like nextcloud-occ or paperless-manage. With secretsCredential the
  # transient unit loads the same credential, and systemd expands ${CREDENTIALS_DIRECTORY} in its
  # command line (as in ExecStart=): env(1) hands the server SECRETS_FILE as the service has it.
  manageScript =
    let
      shellArg = word: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] word + "'";
      words = [
        systemdRunBin
        "--pipe"
        "--wait"
        "--collect"
        "--quiet"
        "--service-type=exec"
        "--property=User=${cfg.user}"
        "--property=Group=${cfg.group}"
        "--working-directory=${cfg.workingDirectory}"
      ]
      ++ optionals (cfg.secretsFile != null) [ "--property=EnvironmentFile=${cfg.secretsFile}" ]
      ++ optionals usesCredential [ "--property=LoadCredential=${credentialName}:${cfg.secretsCredential}" ]
      ++ map (name: "--setenv=${name}=${serviceEnvironment.${name}}") (builtins.attrNames serviceEnvironment)
      ++ optionals usesCredential [
        envBin
        "SECRETS_FILE=\${CREDENTIALS_DIRECTORY}/${credentialName}"
      ]
      ++ [ bin ];
    in
    "#!/bin/sh\n"
    + "# request-tracker-utils-manage: request-tracker-utils COMMAND as the service runs it\n"
    + "exec ${builtins.concatStringsSep " " (map shellArg words)} \"$@\"\n";

  # systemd.services.request-tracker-utils
  service = {
    description = "Request Tracker Utils (Prefork server)";
    documentation = [ "https://github.com/WesternCUSD12/RequestTrackerUtils" ];
    # postgresql.target, not postgresql.service: the target is reached once the server accepts
    # connections AND postgresql-setup.service has created the role and the database
    # (ensureUsers, ensureDatabases), so `migrate` never races them.
    after = [
      "network.target"
    ]
    ++ optionals socketActivated [ socketUnit ]
    ++ optionals cfg.database.createLocally [ "postgresql.target" ]
    ++ optionals remoteDatabase [ "network-online.target" ];
    requires =
      optionals socketActivated [ socketUnit ] ++ optionals cfg.database.createLocally [ "postgresql.target" ];
    wants = optionals remoteDatabase [ "network-online.target" ];
    # Started at boot with or without the socket: the socket holds the port, it does not make
    # the first request wait for the workers to boot.
    wantedBy = [ "multi-user.target" ];

    # %d: systemd's specifier for the credentials directory (/run/credentials/<unit>), expanded
    # in Environment= when the unit is loaded; SECRETS_FILE is the server's --secrets-file.
    environment =
      serviceEnvironment // optionalAttrs usesCredential { SECRETS_FILE = "%d/${credentialName}"; };

    serviceConfig = {
      Type = if notifyReload then "notify-reload" else "notify";
      NotifyAccess = "main";
      User = cfg.user;
      Group = cfg.group;
      WorkingDirectory = cfg.workingDirectory;
      # preStart: both idempotent; a failure stops the start (see `journalctl -u`).
      ExecStartPre = [
        (execLine [ bin "migrate" ])
        (execLine [ bin "collectstatic" ])
      ];
      ExecStart = execLine serveArgs;
      KillMode = "mixed"; # TERM to the master only; it drains its workers
      KillSignal = "SIGTERM";
      TimeoutStopSec = gracefulTimeout + 15;
      WatchdogSec = 30;
      Restart = "on-failure";
      RestartSec = 2;
      # 2: invalid configuration, 3: the application cannot boot; neither fixes itself.
      RestartPreventExitStatus = "2 3";
      # A worker the kernel's OOM killer ends is the master's to replace; systemd's default
      # (stop) would stop the whole service for it.
      OOMPolicy = "continue";
    }
    # Reload is HUP: new workers serve before the old ones drain (see notifyReload).
    // (if notifyReload then { ReloadSignal = "SIGHUP"; } else { ExecReload = "${killBin} -HUP $MAINPID"; })
    // hardening
    // optionalAttrs (cfg.secretsFile != null) {
      # Read by systemd (as root) at each start, not on reload; a missing file fails the start.
      EnvironmentFile = cfg.secretsFile;
    }
    // optionalAttrs usesCredential {
      # Copied by systemd (as root) when the service starts, so restart after changing the file;
      # a missing file fails the start.
      LoadCredential = [ "${credentialName}:${cfg.secretsCredential}" ];
    }
    // (
      if stateDirectory != null then
        {
          StateDirectory = [
            stateDirectory
            "${stateDirectory}/logs"
          ];
          # 0751: nginx reaches static/ (0755, files 0644) without listing the directory; the
          # database and logs stay 0640.
          StateDirectoryMode = "0751";
        }
      else
        { ReadWritePaths = [ cfg.workingDirectory ]; }
    );
  }
  # nixos-rebuild switch stops a changed service that has a socket unit together with the
  # socket, and starts only the socket: the port would be closed during the switch and the
  # service left to the first connection. Restarted in place instead, the socket stays open
  # and connections wait in its queue.
  // optionalAttrs socketActivated { stopIfChanged = false; };

  # systemd.sockets.request-tracker-utils (socketActivation.enable), as
  # config/systemd/request-tracker-utils.socket.
  socket = {
    description = "Request Tracker Utils listening socket";
    wantedBy = [ "sockets.target" ];
    listenStreams = cfg.socketActivation.listenStreams;
    socketConfig = {
      FileDescriptorName = "http";
      NoDelay = true;
      Backlog = 2048;
    };
  };

  # systemd.services.request-tracker-utils-backup (started daily by its timer, see module.nix):
  # a consistent online copy into backups/, older copies pruned; no network at all.
  backupService = {
    description = "Request Tracker Utils database backup";
    environment.WORKING_DIR = cfg.workingDirectory;
    serviceConfig =
      hardening
      // {
        Type = "oneshot";
        User = cfg.user;
        Group = cfg.group;
        WorkingDirectory = cfg.workingDirectory;
        ExecStart = execLine [ bin "backup" ];
        ExecStartPost = execLine [
          findBin
          "${cfg.workingDirectory}/backups"
          "-name"
          "database-*.sqlite"
          "-mtime"
          "+${toString cfg.backup.keepDays}"
          "-delete"
        ];
        Nice = 10;
        IOSchedulingClass = "idle";
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];
      }
      // (
        if stateDirectory != null then
          {
            StateDirectory = [
              stateDirectory
              "${stateDirectory}/backups"
            ];
            StateDirectoryMode = "0751";
          }
        else
          { ReadWritePaths = [ cfg.workingDirectory ]; }
      );
  };
}
