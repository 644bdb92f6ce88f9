#!/bin/bash
# pg-server.sh - a throw-away PostgreSQL cluster for tests (Debian's postgresql package), with
# its data, socket, logs and password all under one directory; nothing touches the system
# cluster.
#
#   pg-server.sh start DIR [PORT]  make the cluster in DIR if there is none (initdb, role and
#                                  database rtutils), start it on 127.0.0.1:PORT (default: the
#                                  port it had, else a free one), return once it accepts
#                                  connections, and print its URL on stdout:
#                                  postgresql://rtutils@127.0.0.1:PORT/rtutils
#                                  Already running: prints the URL again.
#   pg-server.sh stop DIR          fast shutdown (pg_ctl stop -m fast); not running is no error
#   pg-server.sh restart DIR       fast shutdown, then start on the same port
#   pg-server.sh status DIR        "running on port N" (exit 0) or "not running" (exit 3)
#   pg-server.sh psql DIR [ARGS]   psql as the superuser postgres over DIR's unix socket,
#                                  in the database rtutils unless ARGS say -d
#
# What DIR holds afterwards:
#   data/        the cluster (PGDATA)               server.log   the server's log
#   password     rtutils's password (mode 600)      port         the port it listens on
#   .s.PGSQL.N   the unix socket
#
# Authentication: over TCP only the role rtutils, with its password (scram-sha-256); over
# the unix socket the superuser postgres without one (trust) and rtutils with its password.
# The cluster is tuned for tests, not for keeping data: fsync and full_page_writes are off.
#
# Environment: PG_LISTEN_ADDRESSES (default 127.0.0.1), PG_READY_TIMEOUT (default 20 s).
#
# PostgreSQL refuses to run as root: run as root, initdb and the server run as the system
# user pgtest (made with useradd if missing), which then owns DIR; DIR's parents must let it in.
set -euo pipefail

SERVER_USER=pgtest
SUPERUSER=postgres

fail() { echo "pg-server.sh: $*" >&2; exit 1; }

# The newest installed server version's bin directory (/usr/lib/postgresql/15/bin).
bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] || fail "no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)"
    echo "$dir"
}

# Runs a server program as the user who owns the cluster: pgtest when we are root.
as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u "$SERVER_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

# Hands files to the server user when we are root (a no-op otherwise).
give_to_server_user() {
    if [ "$(id -u)" = 0 ]; then chown "$SERVER_USER" "$@"; fi
}

ensure_server_user() {
    [ "$(id -u)" = 0 ] || return 0
    id -u "$SERVER_USER" >/dev/null 2>&1 && return 0
    # Two starts at once may race to create it: the loser finds it made.
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVER_USER" 2>/dev/null \
        || id -u "$SERVER_USER" >/dev/null 2>&1 || fail "could not create the system user $SERVER_USER (useradd)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running_port() {
    local dir=$1
    [ -s "$dir/port" ] && [ -s "$dir/data/postmaster.pid" ] || return 1
    kill -0 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || return 1
    cat "$dir/port"
}

# The first FATAL/ERROR/PANIC line of the server log, for a one-line failure message.
log_reason() {
    local dir=$1
    grep -m1 -E 'FATAL|PANIC|ERROR' "$dir/server.log" 2>/dev/null | sed -E 's/^.*(FATAL|PANIC|ERROR): +//' || true
}

psql_super() {
    local dir=$1
    shift
    "$(bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" -U "$SUPERUSER" "$@"
}

init_cluster() {
    local dir=$1 bin
    bin=$(bin_dir)
    [ -s "$dir/data/PG_VERSION" ] && return 0
    rm -rf "$dir/data"
    (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/password")
    give_to_server_user "$dir"
    as_server_user "$bin/initdb" --pgdata="$dir/data" --username="$SUPERUSER" --encoding=UTF8 --locale=C \
        --auth-local=trust --auth-host=reject --no-sync >"$dir/initdb.log" 2>&1 \
        || fail "initdb failed: $(grep -m1 -iE 'error|fatal|could not' "$dir/initdb.log" || tail -1 "$dir/initdb.log") ($dir/initdb.log)"
    cat >"$dir/data/pg_hba.conf" <<EOF
# Written by Tests/pg/pg-server.sh.
local all $SUPERUSER trust
local all rtutils scram-sha-256
host all rtutils all scram-sha-256
EOF
    cat >>"$dir/data/postgresql.conf" <<EOF

# Tests/pg/pg-server.sh: a throw-away cluster for tests.
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 100
log_min_messages = warning
EOF
}

# Creates the role and database rtutils unless there.
create_database() {
    local dir=$1 password
    password=$(cat "$dir/password")
    if [ -z "$(psql_super "$dir" -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'rtutils'")" ]; then
        psql_super "$dir" -d postgres -c "CREATE ROLE rtutils LOGIN PASSWORD '$password'" >/dev/null
    fi
    if [ -z "$(psql_super "$dir" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'rtutils'")" ]; then
        psql_super "$dir" -d postgres -c "CREATE DATABASE rtutils OWNER rtutils" >/dev/null
    fi
}

# pg_ctl start on PORT; 0 if it runs, 1 if the port was taken, failure otherwise.
start_server() {
    local dir=$1 port=$2
    echo "$port" >"$dir/port"
    : >"$dir/server.log"
    give_to_server_user "$dir/server.log"
    if as_server_user "$(bin_dir)/pg_ctl" start --pgdata="$dir/data" --log="$dir/server.log" --wait \
        --timeout="${PG_READY_TIMEOUT:-20}" --silent \
        -o "-c port=$port -c listen_addresses='${PG_LISTEN_ADDRESSES:-127.0.0.1}'" >/dev/null 2>&1; then
        return 0
    fi
    grep -q 'Address already in use' "$dir/server.log" 2>/dev/null && return 1
    fail "the server did not start: $(log_reason "$dir") ($dir/server.log)"
}

start() {
    local dir=$1 port=${2:-} attempt
    [ -z "$port" ] || [[ "$port" =~ ^[0-9]+$ ]] || fail "PORT must be a number, not '$port'"
    mkdir -p "$dir" || fail "cannot create $dir"
    dir=$(readlink -f "$dir")
    # The socket path must fit in sockaddr_un (107 bytes).
    [ ${#dir} -le 90 ] || fail "$dir is too long for a unix socket path; use a shorter DIR"
    if running_port "$dir" >/dev/null; then
        echo "postgresql://rtutils@127.0.0.1:$(cat "$dir/port")/rtutils"
        return 0
    fi
    ensure_server_user
    give_to_server_user "$dir"
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$SERVER_USER" -- test -w "$dir" \
            || fail "$SERVER_USER cannot write to $dir: a parent directory shuts it out; use a DIR under /tmp"
    fi
    init_cluster "$dir"
    [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || true)
    [ -n "$port" ] || port=$(free_port)
    for attempt in 1 2 3; do
        start_server "$dir" "$port" && break
        [ -z "${2:-}" ] && [ "$attempt" -lt 3 ] || fail "port $port is in use"
        port=$(free_port)
    done
    create_database "$dir"
    echo "postgresql://rtutils@127.0.0.1:$port/rtutils"
}

stop() {
    local dir=$1
    [ -d "$dir" ] || { echo "not running"; return 0; }
    dir=$(readlink -f "$dir")
    running_port "$dir" >/dev/null || { echo "not running"; return 0; }
    as_server_user "$(bin_dir)/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait --silent \
        || fail "pg_ctl stop failed for $dir ($dir/server.log)"
    echo "stopped"
}

case "${1:-}" in
    start) [ $# -eq 2 ] || [ $# -eq 3 ] || fail "usage: $0 start DIR [PORT]"; start "$2" "${3:-}" ;;
    stop) [ $# -eq 2 ] || fail "usage: $0 stop DIR"; stop "$2" ;;
    restart)
        [ $# -eq 2 ] || fail "usage: $0 restart DIR"
        [ -s "$2/port" ] || fail "$2 has no cluster; start one first"
        stop "$2" >/dev/null
        start "$2" "$(cat "$2/port")" ;;
    status)
        [ $# -eq 2 ] || fail "usage: $0 status DIR"
        if port=$(running_port "$(readlink -f "$2")"); then echo "running on port $port"; else echo "not running"; exit 3; fi ;;
    psql)
        [ $# -ge 2 ] || fail "usage: $0 psql DIR [ARGS]"
        dir=$(readlink -f "$2")
        shift 2
        running_port "$dir" >/dev/null || fail "no cluster running in $dir"
        exec "$(bin_dir)/psql" -X -h "$dir" -p "$(cat "$dir/port")" -U "$SUPERUSER" -d rtutils "$@" ;;
    *) fail "usage: $0 start DIR [PORT] | stop DIR | restart DIR | status DIR | psql DIR [ARGS]" ;;
esac
