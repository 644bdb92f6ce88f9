# An example host configuration: Request Tracker Utils behind nginx with TLS, secrets from
# agenix. Import the module with the flake (nixosModules.default) or `imports = [ ./module.nix ]`.
{ config, ... }:
{
  services.requestTrackerUtils = {
    enable = true;
    workers = 5; # 2 cores: 2 × cores + 1
    allowedHosts = [ "rtutils.example.org" ];
    secretsFile = config.age.secrets.rtutils.path; # SECRET_KEY=..., RT_TOKEN=...

    rtUrl = "https://tickets.example.org";
    prefix = "W12-";
    padding = 4;
    labelWidthMm = 100;
    labelHeightMm = 62;

    settings = {
      timeout = 45; # above rt_timeout, so a slow RT never gets a worker killed
      rt_timeout = 10;
      max_requests = 5000;
      max_requests_jitter = 500;
    };

    nginx = {
      enable = true;
      virtualHost = "rtutils.example.org";
    };
    openFirewall = true; # 80 and 443
  };

  # TLS and access control belong to nginx (the application has no login).
  services.nginx.virtualHosts."rtutils.example.org" = {
    enableACME = true;
    forceSSL = true;
    basicAuthFile = config.age.secrets.rtutils-htpasswd.path;
  };
  security.acme = {
    acceptTerms = true;
    defaults.email = "it@example.org";
  };

  age.secrets.rtutils = {
    file = ./secrets/rtutils.env.age;
    mode = "0400"; # read by systemd as root (EnvironmentFile=)
  };
  age.secrets.rtutils-htpasswd = {
    file = ./secrets/rtutils-htpasswd.age;
    owner = "nginx";
  };
}
