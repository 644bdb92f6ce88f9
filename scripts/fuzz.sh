#!/usr/bin/env bash
# Fuzzing with libFuzzer (docs/fuzzing.md). Builds prefork-fuzz with -sanitize=fuzzer,address
# in .build-fuzz and runs each target in turn, seeded from Tests/fuzz/TARGET (and, for
# `request`, the parser's test corpus), for at most SECONDS each or RUNS executions:
#
#   scripts/fuzz.sh [--seconds S] [--runs N] [--max-len B] [--no-build] [TARGET...]
#
# (default: 60 s each, every target, inputs up to 65536 bytes; --no-build runs the binary already
# in .build-fuzz, so that several runs can go side by side, one per core.)
#
# A crash, an AddressSanitizer report or a hang (over 10 s for one input) stops that target,
# leaves the input in Tests/fuzz/crashes/TARGET/ and makes the script exit 1; turn it into a
# corpus case once fixed. Prints one line per target: executions, seconds, outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=60 RUNS=-1 MAX_LEN=65536 BUILD=1
TARGETS=()
while (($#)); do
    case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --max-len) MAX_LEN=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) TARGETS+=("$1"); shift ;;
    esac
done
((${#TARGETS[@]})) || TARGETS=(request chunked config envfile cli multipart roster rtanswer)

if ((BUILD)); then
    swift build -c release --product prefork-fuzz --scratch-path .build-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >&2
fi
BIN=$PWD/.build-fuzz/release/prefork-fuzz
WORK=$(mktemp -d /tmp/prefork-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for target in "${TARGETS[@]}"; do
    seeds=(Tests/fuzz/"$target")
    [[ $target == request ]] && seeds=(Tests/PreforkCoreTests/Corpus/valid Tests/PreforkCoreTests/Corpus/invalid)
    mkdir -p "$WORK/$target" "Tests/fuzz/crashes/$target"
    log=$WORK/$target.log
    if FUZZ_TARGET=$target "$BIN" -max_total_time="$SECONDS_EACH" -runs="$RUNS" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$MAX_LEN" -artifact_prefix="Tests/fuzz/crashes/$target/" -print_final_stats=1 \
        "$WORK/$target" "${seeds[@]}" >"$log" 2>&1; then
        outcome="no crash"
    else
        outcome="FAILED: $(grep -m1 -E 'ERROR|SUMMARY|deadly|Test unit written' "$log" || tail -1 "$log")"
        status=1
    fi
    execs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log")
    secs=$(awk '/stat::average_exec_per_sec:/ { rate = $2 } END { print rate }' "$log")
    printf '%-10s %12s executions  %8s exec/s  %s\n' "$target" "${execs:-?}" "${secs:-?}" "$outcome"
    rmdir "Tests/fuzz/crashes/$target" 2>/dev/null || true
done
rmdir Tests/fuzz/crashes 2>/dev/null || true
exit $status
