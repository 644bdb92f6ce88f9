#!/bin/bash
# install.sh - install Request Tracker Utils on Debian (12) with systemd and nginx.
#
#   scripts/install.sh [--binary PATH] [--prefix DIR] [--destdir DIR]
#
#   --binary PATH   the built server (default: .build/release/request-tracker-utils)
#   --prefix DIR    where bin/ goes (default /usr/local); the unit's ExecStart follows it
#   --destdir DIR   stage everything below DIR (also: DESTDIR=DIR) instead of the live system:
#                   no user is created and neither systemd nor nginx is touched
#
# What it does, each step safe to repeat (running it again upgrades the binary and the units):
#   - system user and group rtutils (useradd --system), unless they exist
#   - PREFIX/bin/request-tracker-utils, and request-tracker-utils-manage (one-off commands as
#     the service runs them: `sudo request-tracker-utils-manage user add admin --role tech`)
#   - /etc/systemd/system/request-tracker-utils.{service,socket} and -backup.{service,timer};
#     systemctl daemon-reload
#   - /etc/nginx/sites-available/request-tracker-utils.conf, linked from sites-enabled/, only
#     if missing (it is the site's own file: server_name, TLS); nginx -t, then reload if running
#   - /etc/logrotate.d/request-tracker-utils
#   - /etc/request-tracker-utils/secrets.env from config/secrets.env.example with a fresh
#     SECRET_KEY, only if missing: mode 0400, owner rtutils (when the user exists)
#   - /usr/share/doc/request-tracker-utils/ (the unit's Documentation=)
# It enables and starts nothing: edit secrets.env first (it says how at the end).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BINARY=$REPO/.build/release/request-tracker-utils
PREFIX=/usr/local
DESTDIR=${DESTDIR:-}
NAME=request-tracker-utils
USER_NAME=rtutils

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
    case $1 in
        --binary) BINARY=${2:?--binary needs a path}; shift 2 ;;
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[ -x "$BINARY" ] || die "no executable at $BINARY (build it: make release, or pass --binary)"
case $PREFIX in /*) ;; *) die "--prefix must be an absolute path" ;; esac
[ -n "$DESTDIR" ] || [ "$(id -u)" = 0 ] || die "must run as root (or stage with --destdir)"
DESTDIR=${DESTDIR%/}
LIVE=$([ -z "$DESTDIR" ] && echo yes || echo no)

# the system user, which owns the state directory (systemd's StateDirectory=) and secrets
if [ "$LIVE" = yes ] && ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /var/lib/$NAME \
        --shell /usr/sbin/nologin --comment "Request Tracker Utils" "$USER_NAME"
    say "created system user $USER_NAME"
fi
HAVE_USER=$(getent passwd "$USER_NAME" >/dev/null && echo yes || echo no)

# the binary: a copy beside it, renamed over, so a running server's file is never rewritten
install -d -m 0755 "$DESTDIR$PREFIX/bin"
install -m 0755 "$BINARY" "$DESTDIR$PREFIX/bin/.$NAME.new"
mv -f "$DESTDIR$PREFIX/bin/.$NAME.new" "$DESTDIR$PREFIX/bin/$NAME"
say "installed $PREFIX/bin/$NAME"
# one-off commands as the service runs them (the first administrator: see docs/deployment.md)
sed "s#/usr/local/bin/$NAME#$PREFIX/bin/$NAME#g" "$REPO/config/bin/$NAME-manage" > "$DESTDIR$PREFIX/bin/.$NAME-manage.new"
chmod 0755 "$DESTDIR$PREFIX/bin/.$NAME-manage.new"
mv -f "$DESTDIR$PREFIX/bin/.$NAME-manage.new" "$DESTDIR$PREFIX/bin/$NAME-manage"
say "installed $PREFIX/bin/$NAME-manage"

# units (replaced on every run: local changes belong in drop-ins, `systemctl edit $NAME`)
install -d -m 0755 "$DESTDIR/etc/systemd/system"
# a unit with ExecStart= following --prefix, replaced atomically
install_unit() {
    sed "s#/usr/local/bin/$NAME#$PREFIX/bin/$NAME#g" "$REPO/config/systemd/$1" > "$DESTDIR/etc/systemd/system/.$1.new"
    chmod 0644 "$DESTDIR/etc/systemd/system/.$1.new"
    mv -f "$DESTDIR/etc/systemd/system/.$1.new" "$DESTDIR/etc/systemd/system/$1"
}
install_unit "$NAME.service"
install_unit "$NAME-backup.service"
install -m 0644 "$REPO/config/systemd/$NAME.socket" "$DESTDIR/etc/systemd/system/$NAME.socket"
install -m 0644 "$REPO/config/systemd/$NAME-backup.timer" "$DESTDIR/etc/systemd/system/$NAME-backup.timer"
say "installed /etc/systemd/system/$NAME.service, $NAME.socket, $NAME-backup.service and $NAME-backup.timer"

# nginx site: the operator's file once installed
install -d -m 0755 "$DESTDIR/etc/nginx/sites-available" "$DESTDIR/etc/nginx/sites-enabled"
SITE=/etc/nginx/sites-available/$NAME.conf
if [ -e "$DESTDIR$SITE" ]; then
    say "kept $SITE (yours now; the shipped one is $REPO/config/nginx/$NAME.conf)"
else
    install -m 0644 "$REPO/config/nginx/$NAME.conf" "$DESTDIR$SITE"
    say "installed $SITE: set server_name (and TLS) in it"
fi
ln -sfn "$SITE" "$DESTDIR/etc/nginx/sites-enabled/$NAME.conf"

# logrotate
install -d -m 0755 "$DESTDIR/etc/logrotate.d"
install -m 0644 "$REPO/config/logrotate/$NAME" "$DESTDIR/etc/logrotate.d/$NAME"

# secrets: created once, never overwritten
SECRETS=/etc/$NAME/secrets.env
install -d -m 0755 "$DESTDIR/etc/$NAME"
if [ -e "$DESTDIR$SECRETS" ]; then
    say "kept $SECRETS"
else
    key=$(env -i "$BINARY" generate-secret-key)   # no PREFORK_* of the caller's to trip on
    [ ${#key} -ge 50 ] || die "generate-secret-key printed no usable key"
    tmp=$(mktemp "$DESTDIR/etc/$NAME/.secrets.env.XXXXXX")
    KEY=$key awk '/^SECRET_KEY=$/ { print "SECRET_KEY=" ENVIRON["KEY"]; n++; next } { print }
                  END { exit n != 1 }' "$REPO/config/secrets.env.example" > "$tmp" \
        || { rm -f "$tmp"; die "config/secrets.env.example has no single empty SECRET_KEY= line"; }
    chmod 0400 "$tmp"
    [ "$HAVE_USER" = no ] || chown "$USER_NAME:$USER_NAME" "$tmp"
    mv -f "$tmp" "$DESTDIR$SECRETS"
    say "created $SECRETS with a new SECRET_KEY: set ALLOWED_HOSTS and RT_* in it"
fi

# documentation
install -d -m 0755 "$DESTDIR/usr/share/doc/$NAME"
install -m 0644 "$REPO"/docs/*.md "$DESTDIR/usr/share/doc/$NAME/"

if [ "$LIVE" = no ]; then
    say "staged below $DESTDIR; systemd and nginx were not touched"
    exit 0
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    if systemctl is-active --quiet nginx; then
        nginx -t -q && systemctl reload nginx && say "nginx reloaded"
    fi
else
    say "systemd is not running here: run 'systemctl daemon-reload' on the target"
fi
cat <<EOF
install.sh: done. Next:
  1. edit $SECRETS (ALLOWED_HOSTS, RT_URL, RT_TOKEN) and $SITE (server_name)
  2. systemctl enable --now $NAME.socket $NAME.service $NAME-backup.timer
  3. systemctl reload nginx; curl -H 'Host: <your name>' http://127.0.0.1/readyz
  4. the first administrator: $NAME-manage user add admin --role tech (prompts for a password)
  After an upgrade (this script again): systemctl restart $NAME (migrate and collectstatic run first)
EOF
