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

  # TLS belongs to nginx; people sign in to the application itself (local accounts, made
  # with `sudo request-tracker-utils-manage user add admin --role tech`, or the directory:
  # ldapServer and the other ldap* options).
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
    mode = "0400"; # read by systemd as root (EnvironmentFile=)
  };
}
