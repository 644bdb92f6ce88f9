# An example host configuration: Request Tracker Utils on PostgreSQL on the same machine
# (database.createLocally), behind nginx. Compared with example.nix only the database differs.
{ config, ... }:
{
  services.requestTrackerUtils = {
    enable = true;
    workers = 5;
    allowedHosts = [ "rtutils.example.org" ];
    secretsFile = config.age.secrets.rtutils.path; # SECRET_KEY=..., RT_TOKEN=... (no database password)
    rtUrl = "https://tickets.example.org";

    # services.postgresql with a role and a database `rtutils` owned by it; DATABASE_URL is
    # postgresql:///rtutils?host=/run/postgresql (peer authentication: no password); the
    # service starts after postgresql.target. The SQLite backup timer is off.
    database.createLocally = true;

    nginx = {
      enable = true;
      virtualHost = "rtutils.example.org";
    };
    openFirewall = true;
  };

  # A pg_dump of the database every night in /var/backup/postgresql; copy it off the machine.
  services.postgresqlBackup = {
    enable = true;
    databases = [ "rtutils" ];
  };

  services.nginx.virtualHosts."rtutils.example.org" = {
    enableACME = true;
    forceSSL = true;
  };
  security.acme = {
    acceptTerms = true;
    defaults.email = "it@example.org";
  };

  age.secrets.rtutils = {
    file = ./secrets/rtutils.env.age;
    mode = "0400";
  };
}
