#!/bin/bash
# rt-server.sh - a real Request Tracker 5 (Debian 12: request-tracker5, rt5-db-sqlite,
# rt5-standalone) on 127.0.0.1, with its database, config and logs all under one directory,
# for the RT client's integration tests.
#
#   rt-server.sh install          install the packages if missing (non-interactive), nothing else
#   rt-server.sh start PORT DIR   install the packages if missing, create the database in DIR
#                                 if there is none, start RT, return once REST 2.0 answers
#   rt-server.sh seed DIR         the test fixtures (once per database; a second call is a no-op)
#   rt-server.sh stop DIR         SIGTERM to the server started for DIR (SIGKILL after 15 s)
#   rt-server.sh status DIR       "running pid N" (exit 0) or "not running" (exit 3)
#
# What DIR holds afterwards:
#   etc/RT_SiteConfig.pm   this instance's whole config; the system's /etc/request-tracker5
#                          site config is not read (RT_SITE_CONFIG, RT_SITE_CONFIG_DIR point here)
#   var/rt.sqlite          the database          var/*.mbox   mail RT would have sent
#   log/                   rt.log, server.out, install and setup logs
#   root.token             a REST 2.0 token for root (mode 600): "Authorization: token $(cat ...)"
#   rt.env                 source it before running RT's own tools against this instance
#   server.pid
#
# Seeded fixtures: the catalog "General assets" (RT ships it) with the asset custom fields
# "Serial Number", "Internal Name", "Model", "Funding Source" and "Type" attached, the users
# alice and it-staff, and the assets "T-1001" (serial SN-1001) and "T-1002" (serial SN-1002).
#
# Environment: RT_BCRYPT_COST (default 4: token and password checks take milliseconds, not
# the quarter second RT's default 12 costs; only hashes made after the database is created),
# RT_ROOT_PASSWORD (default "password"), RT_WORKERS (default 2), RT_READY_TIMEOUT (default 120 s).
#
# Needs root: apt-get, and Debian's rt-server expects to run as root. Stop it with SIGTERM:
# as root, rt-server's SIGINT handler changes the owner of /var/lib/request-tracker5.
set -euo pipefail

RT_LIB=/usr/share/request-tracker5/lib
RT_SERVER=/usr/share/request-tracker5/libexec/rt-server
PACKAGES=(request-tracker5 rt5-db-sqlite rt5-standalone)

fail() { echo "rt-server.sh: $*" >&2; exit 1; }
started_at=$(date +%s%N)
say() { printf '[%5.1fs] %s\n' "$(( ($(date +%s%N) - started_at) / 1000000 ))e-3" "$*"; }

# ------------------------------------------------------------------------------------------
# Packages. The debconf answers make the install non-interactive and keep dbconfig-common
# from making a database of its own: each instance makes its own in DIR.
preseed_debconf() {
    debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/rtname string rt.example.test
request-tracker5 request-tracker5/organization string example.test
request-tracker5 request-tracker5/correspondaddress string rt@example.test
request-tracker5 request-tracker5/commentaddress string rt-comment@example.test
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1
EOF
}

install_packages() {
    local log=$1 missing=() package archives
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || fail "installing ${missing[*]} needs root"
    say "installing ${missing[*]} with apt-get (log: $log)"
    preseed_debconf
    apt-get update -qq >"$log" 2>&1 || { tail -20 "$log" >&2; fail "apt-get update failed"; }
    # A private download directory: Docker images' apt config (docker-clean) deletes
    # /var/cache/apt/archives/*.deb after every dpkg run, and apt runs dpkg more than once
    # here (perl is upgraded first), so the later runs would find their packages gone.
    archives=$(mktemp -d /tmp/rt-server-apt.XXXXXX)
    mkdir -p "$archives/partial"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dir::Cache::Archives="$archives" "${missing[@]}" >>"$log" 2>&1 \
        || { rm -rf "$archives"; tail -30 "$log" >&2; fail "apt-get install failed ($log)"; }
    rm -rf "$archives"
    say "installed"
}

# ------------------------------------------------------------------------------------------
# Config and database.
write_config() {
    local port=$1 dir=$2
    cat >"$dir/etc/RT_SiteConfig.pm" <<EOF
# Written by Tests/rt/rt-server.sh for a test instance on 127.0.0.1:$port.
Set(\$rtname, 'rt.example.test');
Set(\$Organization, 'example.test');
Set(\$CorrespondAddress, 'rt\@example.test');
Set(\$CommentAddress, 'rt-comment\@example.test');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $port);
Set(\$WebPath, '');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$dir/var/rt.sqlite');
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, 'warning');
Set(\$LogToFile, 'info');
Set(\$LogDir, '$dir/log');
Set(\$LogToFileNamed, 'rt.log');
Set(\$Timezone, 'UTC');
Set(\$MailCommand, 'mbox');
Set(\$BcryptCost, ${RT_BCRYPT_COST:-4});
\$RT::VarPath = '$dir/var';
\$RT::MasonDataDir = '$dir/var/mason_data';
\$RT::MasonSessionDir = '$dir/var/session_data';
1;
EOF
    cat >"$dir/rt.env" <<EOF
export RT_SITE_CONFIG=$dir/etc/RT_SiteConfig.pm
export RT_SITE_CONFIG_DIR=$dir/etc/RT_SiteConfig.d
EOF
}

# Runs a Perl snippet inside RT (RT::LoadConfig + RT::Init done) against DIR's instance.
rt_perl() {
    local dir=$1 code=$2
    ( . "$dir/rt.env"; cd "$dir"; perl -I"$RT_LIB" -MRT -e "RT::LoadConfig(); RT::Init(); $code" )
}

create_database() {
    local dir=$1
    [ -s "$dir/var/rt.sqlite" ] && return 0
    say "creating the database $dir/var/rt.sqlite"
    ( . "$dir/rt.env"; cd "$dir"; rt-setup-database-5 --action init --skip-create </dev/null ) \
        >"$dir/log/setup-database.log" 2>&1 \
        || { tail -30 "$dir/log/setup-database.log" >&2; rm -f "$dir/var/rt.sqlite"; fail "rt-setup-database-5 failed"; }
    # root's password, and a REST 2.0 token for root (the token is printed once, at creation).
    ( umask 077; RT_ROOT_PASSWORD=${RT_ROOT_PASSWORD:-password} rt_perl "$dir" '
        my $root = RT::User->new(RT->SystemUser);
        $root->Load("root") or die "no root user\n";
        my ($ok, $why) = $root->SetPassword($ENV{RT_ROOT_PASSWORD});
        $ok or die "SetPassword: $why\n";
        my $token = RT::AuthToken->new(RT::CurrentUser->new($root));
        my ($id, $message, $secret) = $token->Create(Owner => $root->id, Description => "rt-server.sh");
        $id or die "AuthToken: $message\n";
        print "$secret\n";' >"$dir/root.token" 2>>"$dir/log/setup-database.log" ) \
        || { tail -20 "$dir/log/setup-database.log" >&2; fail "could not set root's password or make its token"; }
    say "database ready"
}

# ------------------------------------------------------------------------------------------
running_pid() {
    local dir=$1 pid
    [ -s "$dir/server.pid" ] || return 1
    pid=$(cat "$dir/server.pid")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

start() {
    local port=$1 dir=$2 pid deadline code
    [[ "$port" =~ ^[0-9]+$ ]] || fail "PORT must be a number, not '$port'"
    [ "$(id -u)" = 0 ] || fail "must run as root (apt-get; rt-server as Debian ships it)"
    mkdir -p "$dir"
    dir=$(readlink -f "$dir")
    mkdir -p "$dir/etc/RT_SiteConfig.d" "$dir/var/mason_data" "$dir/var/session_data" "$dir/log"
    if pid=$(running_pid "$dir"); then fail "already running for $dir (pid $pid); stop it first"; fi
    install_packages "$dir/log/apt.log"
    [ -x "$RT_SERVER" ] || fail "$RT_SERVER is missing although the packages are installed"
    write_config "$port" "$dir"
    create_database "$dir"
    find "$dir/var/mason_data" -mindepth 1 -delete   # compiled templates may be stale
    say "starting rt-server on 127.0.0.1:$port"
    ( . "$dir/rt.env"; cd "$dir"
      exec setsid "$RT_SERVER" --server Starlet --host 127.0.0.1 --port "$port" \
          --max-workers "${RT_WORKERS:-2}" >"$dir/log/server.out" 2>&1 </dev/null ) &
    pid=$!
    echo "$pid" >"$dir/server.pid"
    deadline=$(( $(date +%s) + ${RT_READY_TIMEOUT:-120} ))
    while :; do
        code=$(python3 - "$port" <<'EOF' 2>/dev/null || true
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/REST/2.0/rt", timeout=5)
    print(200)
except urllib.error.HTTPError as error:
    print(error.code)
EOF
)
        case "$code" in 200 | 401) break ;; esac
        kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/log/server.out" >&2; rm -f "$dir/server.pid"; fail "rt-server exited"; }
        [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$dir/log/server.out" >&2; fail "no answer after ${RT_READY_TIMEOUT:-120}s (pid $pid is still running)"; }
        sleep 0.2
    done
    say "RT ready at http://127.0.0.1:$port (pid $pid)"
}

seed() {
    local dir
    dir=$(readlink -f "$1")
    [ -s "$dir/rt.env" ] || fail "$dir has no RT instance; start one first"
    [ -e "$dir/seeded" ] && return 0
    # REST 2.0 can create an asset custom field but not attach it to a catalog: do it all
    # through RT's Perl API, which also makes the fixtures without a running server.
    rt_perl "$dir" '
        my $system = RT->SystemUser;
        my $catalog = RT::Catalog->new($system);
        $catalog->Load("General assets") or die "RT has no catalog General assets\n";
        my $field = RT::CustomField->new($system);
        my ($ok, $why) = $field->Create(Name => "Serial Number", Type => "FreeformSingle",
            LookupType => RT::Asset->CustomFieldLookupType);
        $ok or die "custom field: $why\n";
        ($ok, $why) = $field->AddToObject($catalog);
        $ok or die "attach custom field: $why\n";
        # What the labels print besides the serial, and the type that picks their size.
        for my $name ("Internal Name", "Model", "Funding Source", "Type") {
            my $extra = RT::CustomField->new($system);
            ($ok, $why) = $extra->Create(Name => $name, Type => "FreeformSingle",
                LookupType => RT::Asset->CustomFieldLookupType);
            $ok or die "custom field $name: $why\n";
            ($ok, $why) = $extra->AddToObject($catalog);
            $ok or die "attach custom field $name: $why\n";
        }
        for my $name ("alice", "it-staff") {
            my $user = RT::User->new($system);
            ($ok, $why) = $user->Create(Name => $name, EmailAddress => "$name\@example.test",
                Privileged => 1);
            $ok or die "user $name: $why\n";
        }
        for my $number (1001, 1002) {
            my $asset = RT::Asset->new($system);
            ($ok, $why) = $asset->Create(Name => "T-$number", Catalog => $catalog->id,
                Description => "Chromebook $number", "CustomField-" . $field->id => "SN-$number");
            $ok or die "asset T-$number: $why\n";
        }' >>"$dir/log/seed.log" 2>&1 || { tail -20 "$dir/log/seed.log" >&2; fail "seeding failed"; }
    touch "$dir/seeded"
    say "seeded: catalog 'General assets' with CFs Serial Number, Internal Name, Model, Funding Source, Type; users alice and it-staff, assets T-1001 T-1002"
}

stop() {
    local dir pid i
    dir=$(readlink -f "$1")
    pid=$(running_pid "$dir") || { rm -f "$dir/server.pid"; echo "not running"; return 0; }
    # rt-server's Starlet workers are its children and leave with it on SIGTERM.
    kill -TERM "$pid"
    for i in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "rt-server $pid still running 15 s after SIGTERM: SIGKILL to its process group"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/server.pid"
    echo "stopped (pid $pid)"
}

case "${1:-}" in
    install) install_packages "${TMPDIR:-/tmp}/rt-server-apt.log" ;;
    start) [ $# -eq 3 ] || fail "usage: $0 start PORT DIR"; start "$2" "$3" ;;
    seed) [ $# -eq 2 ] || fail "usage: $0 seed DIR"; seed "$2" ;;
    stop) [ $# -eq 2 ] || fail "usage: $0 stop DIR"; stop "$2" ;;
    status)
        [ $# -eq 2 ] || fail "usage: $0 status DIR"
        if pid=$(running_pid "$(readlink -f "$2")"); then echo "running pid $pid"; else echo "not running"; exit 3; fi ;;
    *) fail "usage: $0 install | start PORT DIR | seed DIR | stop DIR | status DIR" ;;
esac
