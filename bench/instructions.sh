#!/bin/bash
# instructions.sh: user-space instructions per request of one worker, counted by callgrind:
# steadier than CPU time on a shared machine (valgrind counts each byte of a `rep movsb` copy,
# so large copies weigh more than they cost). Starts the server under valgrind with one worker
# in WORKING_DIR (migrated, with a user), sends N1 and then N2 keep-alive requests in two runs,
# and prints (worker instructions at N2 - at N1) / (N2 - N1).
#
#   bench/instructions.sh BIN PATH 'Header: value' [N1 N2]
#   e.g. bench/instructions.sh .build/release/request-tracker-utils /tags "Cookie: rtu_session=..." 500 1500
#
# Environment: WORKING_DIR, SECRET_KEY and ALLOWED_HOSTS as for `serve` (production mode).
set -euo pipefail
BIN=$1 TARGET=$2 HEADER=$3 N1=${4:-500} N2=${5:-1500}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }

worker_instructions() { # requests -> instructions of the worker process
    local dir port pid
    dir=$(mktemp -d)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$dir/cg.%p" \
        "$BIN" serve --bind "127.0.0.1:$port" --workers 1 --timeout 0 >"$dir/log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 200); do curl -s -o /dev/null "127.0.0.1:$port/healthz" && break; sleep 0.2; done
    python3 - "$port" "$TARGET" "$HEADER" "$1" <<'PY'
import http.client, sys
port, target, header, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
name, _, value = header.partition(": ")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(count):
    conn.request("GET", target, headers={"Host": "127.0.0.1", name: value})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    # the worker is the process that ran the most instructions
    grep -h '^summary:' "$dir"/cg.* | awk '{print $2}' | sort -n | tail -1
    rm -rf "$dir"
}
first=$(worker_instructions "$N1")
second=$(worker_instructions "$N2")
echo "$(( (second - first) / (N2 - N1) )) instructions per request ($TARGET, $N1 and $N2 requests)"
