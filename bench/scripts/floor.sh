#!/usr/bin/env bash
# The latency floor of this machine: rill-floor (a PB endpoint that only
# spends a fixed CPU time per request) under the same load as the one-node
# put target, for a list of CPU costs per request. Whatever a real server
# does, at a given CPU cost per put it cannot beat this floor's rate and
# tail, because the load generator shares the cores with it.
#
# Usage: bench/scripts/floor.sh [CPU_US...]   (default: 0 20 35 50 70 100)
# Environment: DURATION (seconds per run, default 15), WORKERS (64),
#   VALUE_SIZE (1024), HOPS (burn the CPU on this many plain threads, each
#   request handed over and answered back, as a server that keeps storage
#   off its async workers must; default 0: on the async worker), SPREAD
#   (set: each request goes to a hop thread picked at random, as keys pick
#   a vnode's worker in Rill, instead of its connection's), JSON (a file to
#   write the rows to, for scripts).
# Needs a release build: cargo build --release --bin rill-bench --bin rill-floor
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
R=${BIN_DIR:-./target/release}
DURATION=${DURATION:-15}
WORKERS=${WORKERS:-64}
VALUE_SIZE=${VALUE_SIZE:-1024}
HOPS=${HOPS:-0}
costs=("$@")
[ ${#costs[@]} -eq 0 ] && costs=(0 20 35 50 70 100)
work=$(mktemp -d)

# shellcheck source=lib.sh
. bench/scripts/lib.sh
trap cleanup EXIT

printf '| CPU µs per request | puts/s | p50 µs | p99 µs | mean µs (workers / rate) | server CPU µs/put |\n'
printf '|---|---|---|---|---|---|\n'
for cost in "${costs[@]}"; do
    start_floor "$cost" --hop-threads "$HOPS" ${SPREAD:+--hop-spread}
    t0=$(proc_ticks "$floor_pid")
    $R/rill-bench --pb "$floor_addr" --keys 100000 --value-size "$VALUE_SIZE" \
        --workers "$WORKERS" --duration "$DURATION" --mix put=1 \
        --out "$work/run" > /dev/null 2>&1
    t1=$(proc_ticks "$floor_pid")
    stop_pids "$floor_pid"
    python3 - "$work/run/summary.json" "$cost" $((t1 - t0)) "$(getconf CLK_TCK)" \
        "$WORKERS" "$work/rows.jsonl" <<'PY'
import json, sys
path, cost, ticks, hz, workers, rows = sys.argv[1:]
o = json.load(open(path))["operations"]["put"]
rate = o["ops_per_sec"]
cpu = int(ticks) / int(hz) * 1e6 / max(1, o["count"])
row = {"cpu_us": int(cost), "ops_per_sec": round(rate), "p50_us": o["p50_us"],
       "p99_us": o["p99_us"], "mean_us": round(int(workers) / rate * 1e6),
       "server_cpu_us_per_op": round(cpu)}
print("| {cpu_us} | {ops_per_sec:,} | {p50_us:,} | {p99_us:,} | {mean_us:,} | {server_cpu_us_per_op} |".format(**row))
open(rows, "a").write(json.dumps(row) + "\n")
PY
done
if [ -n "${JSON:-}" ]; then
    python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], indent=2))' \
        "$work/rows.jsonl" > "$JSON"
fi
