#!/usr/bin/env bash
# Side-by-side HTTP benchmark on loopback: our prefork server vs nginx vs Gunicorn.
#
#   bench/run.sh [--duration S] [--warmup S] [--rounds N] [--server-bin PATH]
#                [--only ours,ours_pg,nginx,gunicorn] [--no-install] [--keep-tmp]
#
# Measures, per server and per mode (keep-alive, Connection: close; "page": a page that reads
# SQLite — our GET /tags with 100 issued tags — against nginx serving the same bytes from a
# file; "label": our label page GET /labels/W12-0001, a QR code and a bar code drawn per
# request, against the same bytes from a file; "students": our GET /students, who still owes
# a device among 5,000 students, against the same bytes from a file; "write": our JSON write POST /api/tags, one tag
# per request, ours only): requests/s, p50 and p99 latency, socket errors and non-2xx responses (wrk), server CPU per request (utime+stime
# of the whole server process tree from /proc), and idle PSS/RSS per worker process.
# Runs are interleaved (ours, nginx, gunicorn, ours, ...) and the best round is reported.
# Every server started here is stopped on exit, including on Ctrl-C or failure.
# See bench/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE="$0${*:+ $*}"

DURATION=5
WARMUP=1
ROUNDS=2
SERVER_BIN="$ROOT/.build/release/request-tracker-utils"
ONLY="ours,ours_pg,nginx,gunicorn"
INSTALL=1
KEEP_TMP=0
KA_CONNECTIONS=64
CLOSE_CONNECTIONS=16
IDLE_SECONDS=2

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; }

while (($#)); do
    case $1 in
    --duration) DURATION=${2:?}; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --warmup=*) WARMUP=${1#*=}; shift ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --rounds=*) ROUNDS=${1#*=}; shift ;;
    --server-bin) SERVER_BIN=${2:?}; shift 2 ;;
    --server-bin=*) SERVER_BIN=${1#*=}; shift ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --no-install) INSTALL=0; shift ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$DURATION" "$WARMUP" "$ROUNDS"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "run.sh: '$n' is not a whole number" >&2; exit 2; }
done
((DURATION > 0 && ROUNDS > 0)) || { echo "run.sh: --duration and --rounds must be > 0" >&2; exit 2; }
IFS=, read -r -a SERVERS <<<"$ONLY"
for s in "${SERVERS[@]}"; do
    case $s in ours | ours_pg | nginx | gunicorn) ;; *) echo "run.sh: unknown server '$s' in --only" >&2; exit 2 ;; esac
done

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- state and cleanup
TMP=$(mktemp -d /tmp/prefork-bench.XXXXXX)
chmod 755 "$TMP" # nginx workers run as nobody when we are root
declare -A PID=() PORT=() SKIP=() TOKEN=() COOKIE=()
# Our pages and API need a signed-in user: a technology-staff account made with the binary's
# `user` command; pages are requested with a session cookie (as a browser does), the JSON
# write with an API token (as a script does).
BENCH_PASSWORD="bench-only password 7f3a"
ACTIVE=()

# "pid ppid ticks" for every process (ticks = utime+stime+cutime+cstime, clock ticks).
# The command name (field 2) may hold spaces or parentheses: cut up to the last ") ".
proc_table() {
    awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ");
           print $1, f[2], f[12] + f[13] + f[14] + f[15] }' /proc/[0-9]*/stat 2>/dev/null || true
}
# The pids of ROOT and all its descendants.
tree_pids() {
    proc_table | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            if (!(root in parent)) exit
            member[root] = 1
            do { grew = 0
                 for (p in parent) if (!(p in member) && (parent[p] in member)) { member[p] = 1; grew = 1 }
            } while (grew)
            for (p in member) print p
        }'
}
# Total CPU ticks of the process tree rooted at $1.
tree_ticks() {
    local pids
    pids=$(tree_pids "$1" | tr '\n' ' ')
    proc_table | awk -v want=" $pids" '{ if (index(want, " " $1 " ")) t += $3 } END { print t + 0 }'
}
# CPU ticks a server spent: its process tree, plus PostgreSQL's (postmaster and backends) for
# ours_pg, so its CPU per request counts the database's work as SQLite's is counted in-process.
server_ticks() {
    local ticks
    ticks=$(tree_ticks "${PID[$1]}")
    if [[ $1 == ours_pg && -s $TMP/pg/data/postmaster.pid ]]; then
        ticks=$((ticks + $(tree_ticks "$(head -1 "$TMP/pg/data/postmaster.pid")")))
    fi
    echo "$ticks"
}
children() { proc_table | awk -v root="$1" '$2 == root { print $1 }'; }

stop_server() {
    local name=$1 pid=${PID[$1]:-}
    [[ -n $pid ]] || return 0
    local tree
    tree=$(tree_pids "$pid" | tr '\n' ' ')
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # Whatever is left of that tree (a hung master, orphaned workers): by pid.
    for p in $tree; do kill -KILL "$p" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
    unset 'PID[$name]'
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for name in "${!PID[@]}"; do stop_server "$name"; done
    [[ -d $TMP/pg ]] && "$ROOT/Tests/pg/pg-server.sh" stop "$TMP/pg" >/dev/null 2>&1
    if ((KEEP_TMP)); then log "logs and configs kept in $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# ---------------------------------------------------------------- dependencies
as_root() { if ((EUID == 0)); then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
if [[ " ${SERVERS[*]} " == *" nginx "* ]] && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    missing+=(nginx-light)
fi
if ((${#missing[@]})); then
    if ((INSTALL)); then
        log "installing: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    else
        log "missing: ${missing[*]} (and --no-install given)"
    fi
fi
command -v wrk >/dev/null || { log "wrk is required"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

PYTHON=""
if [[ " ${SERVERS[*]} " == *" gunicorn "* ]]; then
    for py in python3 python; do
        if command -v "$py" >/dev/null; then PYTHON=$("$py" -c 'import sys; print(sys.executable)'); break; fi
    done
    if [[ -n $PYTHON ]] && ! "$PYTHON" -c 'import gunicorn' 2>/dev/null && ((INSTALL)); then
        log "installing gunicorn with pip"
        timeout 120 "$PYTHON" -m pip install -q gunicorn >&2 || log "pip install gunicorn failed"
    fi
fi

# ---------------------------------------------------------------- servers
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=$((20000 + RANDOM % 20000))
free_port() {
    while port_in_use "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
    echo "$NEXT_PORT"
    NEXT_PORT=$((NEXT_PORT + 1))
}

# A GET /hello over a fresh connection answers 200 with the expected body.
probe() {
    local port=$1 response="" line
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    while IFS= read -r -t 2 line <&3; do response+="$line"$'\n'; done
    response+="$line"
    exec 3>&-
    [[ $response == "HTTP/1."[01]" 200"* && $response == *"Hello, World!"* ]]
}

wait_ready() {
    local name=$1 port=$2 pid=$3
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (probe "$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

skip() {
    SKIP[$1]=$2
    log "skipped: $1 ($2)"
}

start_ours() {
    if [[ ! -x $SERVER_BIN ]]; then skip ours "binary not found: $SERVER_BIN"; return; fi
    local port
    port=$(free_port)
    # Production mode, with the preStart steps, as deployed.
    export WORKING_DIR=$TMP/ours ALLOWED_HOSTS=127.0.0.1 SECRET_KEY=bench-3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d
    "$SERVER_BIN" migrate >"$TMP/ours-prestart.log" 2>&1 && "$SERVER_BIN" collectstatic >>"$TMP/ours-prestart.log" 2>&1 &&
        printf '%s\n' "$BENCH_PASSWORD" | "$SERVER_BIN" user add bench --role tech >>"$TMP/ours-prestart.log" 2>&1 &&
        TOKEN[ours]=$("$SERVER_BIN" user token create bench 2>>"$TMP/ours-prestart.log" | tail -1) ||
        { skip ours "preStart failed: $(tail -1 "$TMP/ours-prestart.log")"; return; }
    "$SERVER_BIN" serve --bind "127.0.0.1:$port" --workers 2 >"$TMP/ours.log" 2>&1 </dev/null &
    PID[ours]=$! PORT[ours]=$port
}

# The same binary on PostgreSQL: a throw-away cluster (Tests/pg/pg-server.sh) on loopback TCP.
# Only the modes that touch the database (page, write) are run against it.
start_ours_pg() {
    if [[ ! -x $SERVER_BIN ]]; then skip ours_pg "binary not found: $SERVER_BIN"; return; fi
    local port url settings
    if ! url=$("$ROOT/Tests/pg/pg-server.sh" start "$TMP/pg" 2>"$TMP/pg-start.log"); then
        skip ours_pg "no PostgreSQL cluster: $(tail -1 "$TMP/pg-start.log")"
        return
    fi
    port=$(free_port)
    settings=(WORKING_DIR="$TMP/ours_pg" ALLOWED_HOSTS=127.0.0.1 DATABASE_URL="$url"
        PGPASSWORD="$(cat "$TMP/pg/password")" SECRET_KEY=bench-3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d)
    env "${settings[@]}" "$SERVER_BIN" migrate >"$TMP/ours_pg-prestart.log" 2>&1 &&
        env "${settings[@]}" "$SERVER_BIN" collectstatic >>"$TMP/ours_pg-prestart.log" 2>&1 &&
        printf '%s\n' "$BENCH_PASSWORD" | env "${settings[@]}" "$SERVER_BIN" user add bench --role tech \
            >>"$TMP/ours_pg-prestart.log" 2>&1 &&
        TOKEN[ours_pg]=$(env "${settings[@]}" "$SERVER_BIN" user token create bench 2>>"$TMP/ours_pg-prestart.log" | tail -1) ||
        { skip ours_pg "preStart failed: $(tail -1 "$TMP/ours_pg-prestart.log")"; return; }
    env "${settings[@]}" "$SERVER_BIN" serve --bind "127.0.0.1:$port" --workers 2 >"$TMP/ours_pg.log" 2>&1 </dev/null &
    PID[ours_pg]=$! PORT[ours_pg]=$port
}

start_nginx() {
    if [[ ! -x $NGINX ]]; then skip nginx "nginx not installed"; return; fi
    local port dir=$TMP/nginx temp_paths="" m user=""
    port=$(free_port)
    mkdir -p "$dir/logs"
    for m in proxy fastcgi uwsgi scgi; do
        "$NGINX" -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
            temp_paths+="    ${m}_temp_path $dir/${m}_temp;"$'\n'
    done
    ((EUID == 0)) && user="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
    cat >"$dir/nginx.conf" <<EOF
# Generated by bench/run.sh: everything lives under $dir.
$user
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $dir/client_body_temp;
$temp_paths
    server {
        listen 127.0.0.1:$port;
        location /hello { return 200 "Hello, World!"; }
        location = /tags { root $dir/html; default_type "text/html; charset=utf-8"; try_files /tags.html =404; }
        location = /labels/W12-0001 { root $dir/html; default_type "text/html; charset=utf-8"; try_files /label.html =404; }
        location = /students { root $dir/html; default_type "text/html; charset=utf-8"; try_files /students.html =404; }
    }
}
EOF
    "$NGINX" -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" -g 'daemon off;' \
        >"$TMP/nginx.log" 2>&1 </dev/null &
    PID[nginx]=$! PORT[nginx]=$port
}

start_gunicorn() {
    if [[ -z $PYTHON ]]; then skip gunicorn "python3 not found"; return; fi
    if ! "$PYTHON" -c 'import gunicorn' 2>/dev/null; then skip gunicorn "gunicorn not installed"; return; fi
    local port dir=$TMP/gunicorn
    port=$(free_port)
    mkdir -p "$dir"
    cat >"$dir/hello_app.py" <<'EOF'
BODY = b"Hello, World!"


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/hello":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
        return [BODY]
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]
EOF
    "$PYTHON" -m gunicorn --chdir "$dir" --bind "127.0.0.1:$port" --workers 2 --worker-class sync \
        --log-level warning --error-logfile "$dir/error.log" hello_app:app \
        >"$TMP/gunicorn.log" 2>&1 </dev/null &
    PID[gunicorn]=$! PORT[gunicorn]=$port
}

for s in "${SERVERS[@]}"; do
    "start_$s"
    [[ -n ${SKIP[$s]:-} ]] && continue
    if wait_ready "$s" "${PORT[$s]}" "${PID[$s]}"; then
        ACTIVE+=("$s")
        log "started: $s pid ${PID[$s]} on 127.0.0.1:${PORT[$s]}"
    else
        why="did not answer GET /hello with 200 'Hello, World!' within 10 s"
        if ! kill -0 "${PID[$s]}" 2>/dev/null; then
            status=0
            wait "${PID[$s]}" 2>/dev/null || status=$?
            why="exited with status $status before serving"
        fi
        stop_server "$s"
        tail_log=$(tail -c 300 "$TMP/$s.log" | tr '\n' ' ')
        skip "$s" "$why${tail_log:+; log: $tail_log}"
    fi
done
((${#ACTIVE[@]})) || { log "no server to benchmark"; exit 1; }

# The "page" and "label" modes: 100 tags issued through the API, and the pages copied for nginx.
# The "write" mode issues one more tag per request (ours only: nginx has no database).
PAGE_SERVERS=" "
sign_in() { # server -> "rtu_session=..." (the sign-in form, as a browser fills it in)
    local base="http://127.0.0.1:${PORT[$1]}" jar="$TMP/cookies-$1" csrf
    csrf=$(curl -sf -c "$jar" "$base/login" | sed -n 's/.*name="csrf_token" value="\([0-9a-f]*\)".*/\1/p')
    curl -sf -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf_token=$csrf" --data-urlencode "name=bench" \
        --data-urlencode "password=$BENCH_PASSWORD" "$base/login" &&
        awk '$6 == "rtu_session" { print "rtu_session=" $7 }' "$jar"
}
issue_100() { # server
    COOKIE[$1]=$(sign_in "$1") && [[ -n ${COOKIE[$1]} ]] &&
        curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer ${TOKEN[$1]}" \
            -d '{"count": 100, "note": "bench"}' "http://127.0.0.1:${PORT[$1]}/api/tags"
}
if [[ " ${ACTIVE[*]} " == *" ours "* ]]; then
    issue_100 ours && PAGE_SERVERS+="ours " || log "warning: could not sign in to ours or issue tags"
    if [[ " ${ACTIVE[*]} " == *" ours_pg "* ]]; then
        issue_100 ours_pg && PAGE_SERVERS+="ours_pg " || log "warning: could not sign in to ours_pg or issue tags"
    fi
    if [[ " ${ACTIVE[*]} " == *" nginx "* ]]; then
        mkdir -p "$TMP/nginx/html"
        curl -sf -H "Cookie: ${COOKIE[ours]}" -o "$TMP/nginx/html/tags.html" "http://127.0.0.1:${PORT[ours]}/tags" &&
            curl -sf -H "Cookie: ${COOKIE[ours]}" -o "$TMP/nginx/html/label.html" \
                "http://127.0.0.1:${PORT[ours]}/labels/W12-0001" &&
            PAGE_SERVERS+="nginx "
    fi
fi
# The "students" mode: a roster of 5,000 imported with the binary's own command (ours only).
STUDENT_SERVERS=" "
if [[ $PAGE_SERVERS == *" ours "* ]]; then
    awk 'BEGIN { print "student_id,first_name,last_name,username,grade,advisor";
                 for (n = 0; n < 5000; n++) printf "S%05d,First%d,Last%05d,user%05d,%d,Advisor %d\n", n, n, n, n, 9 + n % 4, n % 40 }' \
        >"$TMP/roster-5000.csv"
    if "$SERVER_BIN" students import "$TMP/roster-5000.csv" >>"$TMP/ours-prestart.log" 2>&1; then
        STUDENT_SERVERS+="ours "
        [[ $PAGE_SERVERS == *" nginx "* ]] &&
            curl -sf -H "Cookie: ${COOKIE[ours]}" -o "$TMP/nginx/html/students.html" "http://127.0.0.1:${PORT[ours]}/students" &&
            STUDENT_SERVERS+="nginx "
    else
        log "warning: could not import the 5,000 students: $(tail -1 "$TMP/ours-prestart.log")"
    fi
fi
cat >"$TMP/post-tag.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"count": 1, "note": "bench"}'
wrk.headers["Content-Type"] = "application/json"
EOF

# ---------------------------------------------------------------- measurements
CLK_TCK=$(getconf CLK_TCK)
RESULTS=$TMP/results.tsv # server mode round rps p50_us p99_us requests cpu_us_per_req errors error_detail
: >"$RESULTS"

url() { # server mode
    case $2 in
    page) echo "http://127.0.0.1:${PORT[$1]}/tags" ;;
    label) echo "http://127.0.0.1:${PORT[$1]}/labels/W12-0001" ;;
    students) echo "http://127.0.0.1:${PORT[$1]}/students" ;;
    write) echo "http://127.0.0.1:${PORT[$1]}/api/tags" ;;
    *) echo "http://127.0.0.1:${PORT[$1]}/hello" ;;
    esac
}
wrk_args() { # mode seconds
    if [[ $1 != close ]]; then echo "-t1 -c$KA_CONNECTIONS -d${2}s --latency"; else echo "-t1 -c$CLOSE_CONNECTIONS -d${2}s --latency"; fi
}
run_wrk() { # server mode seconds outfile
    # shellcheck disable=SC2046
    if [[ $2 == close ]]; then
        wrk $(wrk_args "$2" "$3") -H 'Connection: close' "$(url "$1" "$2")" >"$4" 2>&1 || true
    elif [[ $2 == write ]]; then
        wrk $(wrk_args "$2" "$3") -s "$TMP/post-tag.lua" -H "Authorization: Bearer ${TOKEN[$1]}" "$(url "$1" "$2")" >"$4" 2>&1 || true
    elif [[ $2 =~ ^(page|label|students)$ && -n ${COOKIE[$1]:-} ]]; then
        wrk $(wrk_args "$2" "$3") -H "Cookie: ${COOKIE[$1]}" "$(url "$1" "$2")" >"$4" 2>&1 || true
    else
        wrk $(wrk_args "$2" "$3") "$(url "$1" "$2")" >"$4" 2>&1 || true
    fi
}

# wrk output -> "rps p50_us p99_us requests errors detail"
parse_wrk() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return (v + 0) * 1000
            if (v ~ /m$/)  return (v + 0) * 60000000
            if (v ~ /s$/)  return (v + 0) * 1000000
            return v + 0
        }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        $2 == "requests" && $3 == "in" { requests = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Socket errors:/ {
            gsub(",", "")
            for (i = 3; i < NF; i += 2) if ($(i + 1) > 0) { detail = detail $i "=" $(i + 1) " "; errors += $(i + 1) }
        }
        /Non-2xx or 3xx responses:/ { detail = detail "non2xx=" $NF " "; errors += $NF }
        END {
            if (detail == "") detail = "-"; else sub(/ $/, "", detail)
            gsub(" ", ",", detail)
            printf "%s %s %s %s %d %s\n", (rps == "" ? 0 : rps), p50 + 0, p99 + 0, requests + 0, errors, detail
        }' "$1"
}

idle_memory() { # server -> "pss_mib rss_mib workers"
    local pids p
    pids=$(children "${PID[$1]}")
    [[ -n $pids ]] || pids=${PID[$1]}
    for p in $pids; do cat "/proc/$p/smaps_rollup" 2>/dev/null; echo "--"; done |
        awk '/^Rss:/ { rss += $2 } /^Pss:/ { pss += $2 } /^--/ { n++ }
             END { if (n == 0) n = 1; printf "%.1f %.1f %d\n", pss / n / 1024, rss / n / 1024, n }'
}

log "warm-up: ${WARMUP}s keep-alive per server, then ${IDLE_SECONDS}s idle"
declare -A MEM=()
for s in "${ACTIVE[@]}"; do
    ((WARMUP > 0)) && run_wrk "$s" keepalive "$WARMUP" "$TMP/warmup-$s.txt"
done
sleep "$IDLE_SECONDS"
for s in "${ACTIVE[@]}"; do MEM[$s]=$(idle_memory "$s"); done

# "write" last in a round: the tags it adds make later rounds' /tags list newer (5-digit) tags.
read -r -a MODES <<<"${BENCH_MODES:-keepalive close page label students write}"  # BENCH_MODES="page label": a subset
for ((round = 1; round <= ROUNDS; round++)); do
    for s in "${ACTIVE[@]}"; do
        for mode in "${MODES[@]}"; do
            [[ $mode =~ ^(page|label)$ && $PAGE_SERVERS != *" $s "* ]] && continue
            [[ $mode == students && $STUDENT_SERVERS != *" $s "* ]] && continue
            [[ $mode == write && $s != ours* ]] && continue
            [[ $s == ours_pg && ! $mode =~ ^(page|write)$ ]] && continue
            ((WARMUP > 0)) && run_wrk "$s" "$mode" "$WARMUP" "$TMP/warm-$s-$mode-$round.txt"
            out=$TMP/wrk-$s-$mode-$round.txt
            before=$(server_ticks "$s")
            run_wrk "$s" "$mode" "$DURATION" "$out"
            after=$(server_ticks "$s")
            read -r rps p50 p99 requests errors detail <<<"$(parse_wrk "$out")"
            cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" \
                'BEGIN { if (n > 0) printf "%.1f", d * 1000000 / hz / n; else print "nan" }')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
                "$s" "$mode" "$round" "$rps" "$p50" "$p99" "$requests" "$cpu" "$errors" "$detail" >>"$RESULTS"
            log "round $round/$ROUNDS $s $mode: $rps req/s, p99 ${p99}us, cpu ${cpu}us/req, errors $errors"
            if ! kill -0 "${PID[$s]}" 2>/dev/null; then log "warning: $s exited during the run"; fi
        done
    done
done

# One /students at a time, as a person loads it: the server's time for the 5,000-student page
# (issue 13's goal: at most 100 ms), the median of 21 sequential requests.
STUDENTS_SINGLE=""
if [[ $STUDENT_SERVERS == *" ours "* ]]; then
    STUDENTS_SINGLE=$(for _ in $(seq 21); do
        curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: ${COOKIE[ours]}" "http://127.0.0.1:${PORT[ours]}/students"
    done | sort -g | awk '{ t[NR] = $1 } END { printf "%.1f", t[11] * 1000 }')
    log "students: one request at a time, median ${STUDENTS_SINGLE} ms"
fi

# ---------------------------------------------------------------- report
version_of() {
    case $1 in
    ours) timeout 2 "$SERVER_BIN" --version </dev/null 2>/dev/null | head -1 || true ;;
    ours_pg) echo "$(timeout 2 "$SERVER_BIN" --version </dev/null 2>/dev/null | head -1) on PostgreSQL $("$ROOT/Tests/pg/pg-server.sh" psql "$TMP/pg" -Atc 'SHOW server_version' 2>/dev/null)" ;;
    nginx) "$NGINX" -v 2>&1 | sed 's/^nginx version: //' ;;
    gunicorn) timeout 5 "$PYTHON" -m gunicorn --version 2>/dev/null | head -1 || true ;;
    esac
}

echo "# Benchmark: prefork server vs nginx vs Gunicorn"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- command: \`$COMMAND_LINE\`"
echo "- host: $(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "- load: wrk $(wrk -v 2>&1 | head -1 | awk '{ print $2 }'), ${ROUNDS} interleaved rounds x ${DURATION}s (+${WARMUP}s warm-up each), best round by req/s"
echo "- keep-alive: \`wrk $(wrk_args keepalive "$DURATION") URL\`"
echo "- close:      \`wrk $(wrk_args close "$DURATION") -H 'Connection: close' URL\`"
echo "- page:       \`wrk $(wrk_args page "$DURATION") URL/tags\` — ours renders 100 tags read from SQLite for a signed-in user (session cookie: the session is looked up per request; production mode, after migrate and collectstatic); nginx serves a saved copy of that page from a file"
echo "- label:      \`wrk $(wrk_args label "$DURATION") URL/labels/W12-0001\` — ours draws the label (QR code, Code 128) per request, signed in; nginx serves a saved copy"
echo "- students:   \`wrk $(wrk_args students "$DURATION") URL/students\` — ours renders who still owes a device among 5,000 active students (totals, the per-grade chart, every row), signed in; nginx serves a saved copy${STUDENTS_SINGLE:+; one request at a time (curl, 21 in a row): median ${STUDENTS_SINGLE} ms for ours (goal ≤ 100 ms)}"
echo "- ours_pg:    the same binary with DATABASE_URL on a throw-away PostgreSQL cluster (Tests/pg/pg-server.sh, TCP on loopback), page and write modes only; its CPU per request includes PostgreSQL's processes"
echo "- write:      \`wrk $(wrk_args write "$DURATION") -s post-tag.lua URL/api/tags\` — POST {\"count\": 1, \"note\": \"bench\"}, one tag issued (an SQLite write transaction) per request, with an API token; ours only"
for s in "${ACTIVE[@]}"; do
    v=$(version_of "$s")
    echo "- $s: ${v:-unknown version}, 2 workers$([[ $s == ours* ]] && echo " and 1 job worker (the default; idle, it looks for a job twice a second)"), 127.0.0.1:${PORT[$s]}/hello"
done
for s in "${SERVERS[@]}"; do [[ -n ${SKIP[$s]:-} ]] && echo "- skipped: $s (${SKIP[$s]})"; done
echo

# Best round per server/mode, and the sum of errors over all its rounds.
BEST=$TMP/best.tsv
sort -t$'\t' -k1,1 -k2,2 -k4,4gr "$RESULTS" | awk -F'\t' -v OFS='\t' '
    { key = $1 SUBSEP $2; total[key] += $9
      if (!(key in best)) best[key] = $0 }
    END { for (k in best) print best[k], total[k] }' >"$BEST"

echo "| server | mode | req/s | p50 ms | p99 ms | CPU µs/req | idle PSS MiB/worker | idle RSS MiB/worker | errors (all rounds) | req/s vs nginx | p99 vs nginx | CPU/req vs nginx |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
FLAGGED=0
for mode in "${MODES[@]}"; do
    ref=$(awk -F'\t' -v m="$mode" '$1 == "nginx" && $2 == m { print $4, $6, $8 }' "$BEST")
    for s in "${ACTIVE[@]}"; do
        row=$(awk -F'\t' -v s="$s" -v m="$mode" '$1 == s && $2 == m' "$BEST")
        [[ -n $row ]] || continue
        IFS=$'\t' read -r _ _ _ rps p50 p99 _ cpu errors detail total <<<"$row"
        read -r pss rss nworkers <<<"${MEM[$s]}"
        err="0"
        if ((total > 0)); then
            err="**$total** ⚠ (best round: ${detail})"
            FLAGGED=1
        fi
        ratio_rps="—" ratio_p99="—" ratio_cpu="—"
        if [[ -n $ref ]]; then
            read -r ref_rps ref_p99 ref_cpu <<<"$ref"
            ratio_cpu=$(awk -v a="$cpu" -v b="$ref_cpu" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }')
            ratio_rps=$(awk -v a="$rps" -v b="$ref_rps" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }')
            ratio_p99=$(awk -v a="$p99" -v b="$ref_p99" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }')
        fi
        awk -v s="$s" -v m="$mode" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v cpu="$cpu" \
            -v pss="$pss" -v rss="$rss" -v n="$nworkers" -v err="$err" -v rr="$ratio_rps" -v rp="$ratio_p99" \
            -v rc="$ratio_cpu" \
            'BEGIN { printf "| %s | %s | %.0f | %.3f | %.3f | %s | %s | %s | %s | %s | %s | %s |\n",
                     s, m, rps, p50 / 1000, p99 / 1000, cpu, pss, rss " (" n ")", err, rr, rp, rc }'
    done
done
echo
echo "RSS column: mean per worker (number of worker processes sampled). Ratios: this row / nginx row, same mode."
((FLAGGED)) && echo "⚠ rows with errors: socket errors (connect/read/write/timeout) or non-2xx responses; their figures are suspect."
exit 0
