# An example of several application hosts on one PostgreSQL server, nginx on the first of
# them (docs/deployment.md, "Several hosts"). Each machine imports this with its own address:
#
#   imports = [ (import ./example-hosts.nix { address = "10.0.0.11"; }) ];   # also runs nginx
#   imports = [ (import ./example-hosts.nix { address = "10.0.0.12"; }) ];
#
# The same release and the same secrets file on every host: the same SECRET_KEY (a form made
# on one host is posted to another) and PGPASSWORD for the role rtutils on db.example.org.
{ address }:
{ config, lib, ... }:
let
  hosts = [
    "10.0.0.11"
    "10.0.0.12"
    "10.0.0.13"
  ];
  nginxHost = builtins.head hosts;
  runsNginx = address == nginxHost;
  port = 8000;
in
{
  services.requestTrackerUtils = {
    enable = true;
    host = address; # nginx reaches each host on its private address
    inherit port;
    workers = 5;
    allowedHosts = [ "rtutils.example.org" ];
    secretsFile = config.age.secrets.rtutils.path; # SECRET_KEY=..., PGPASSWORD=..., RT_TOKEN=...
    rtUrl = "https://tickets.example.org";

    # One database for every host; the password is in secretsFile, never here. `migrate` in
    # each host's preStart takes an advisory lock: hosts may start together.
    database.url = "postgresql://rtutils@db.example.org:5432/rtutils?sslmode=verify-full";

    settings = {
      # believe X-Forwarded-For and X-Request-ID from nginx only
      forwarded_allow_ips = [ nginxHost ];
    };

    # nginx on the first host: the module's upstream gets this host, the others are added below.
    # It serves /static/ from this host's own collected files: upgrade this host first, so the
    # hashed names a newer host's pages ask for are already here (old ones are kept).
    nginx = lib.mkIf runsNginx {
      enable = true;
      virtualHost = "rtutils.example.org";
    };
    openFirewall = runsNginx; # 80 and 443 there
  };

  # The other hosts join the module's upstream. A request that fails on one host within 10 s is
  # passed to one other, never a POST that reached a host (the module's proxy_next_upstream).
  services.nginx.upstreams.request-tracker-utils.servers = lib.mkIf runsNginx (
    lib.genAttrs (map (h: "${h}:${toString port}") (lib.remove address hosts)) (_: {
      max_fails = 3;
      fail_timeout = "10s";
    })
  );
  services.nginx.virtualHosts."rtutils.example.org" = lib.mkIf runsNginx {
    enableACME = true;
    forceSSL = true;
  };

  # The application port is for nginx only (iptables firewall; with nftables, extraInputRules).
  networking.firewall.extraCommands = ''
    iptables -A nixos-fw -p tcp --dport ${toString port} -s ${nginxHost} -j nixos-fw-accept
  '';

  age.secrets.rtutils = {
    file = ./secrets/rtutils.env.age;
    mode = "0400";
  };
}
