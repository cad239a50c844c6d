#!/usr/bin/env bash
# Put latency against offered load, the way a service level is read: one
# node, 1 KiB puts from 64 workers in an open loop (`rill-bench --rate`:
# Poisson arrivals, latency counted from when each request was due), one
# run per rate. With FLOOR_US set, each rate is also offered to rill-floor
# spending that much CPU per request: the tail a server of that cost gets
# on this machine with the load generator beside it, whatever it does.
#
# Usage: bench/scripts/latency.sh [RATE...]   (default: 5000 10000 15000 20000)
# Environment: DURATION (seconds per run, default 15), WORKERS (64),
#   VALUE_SIZE (1024), FLOOR_US (CPU µs per request of the floor; unset:
#   no floor rows), DURABILITY (interval), BASE_PORT (19000), SETTLE (most
#   seconds to wait before each run for the node to go idle: the preload's
#   flushes and compactions would otherwise land in the first runs; 60),
#   JSON (a file to write the rows to, for scripts), BIN_DIR (default
#   target/release).
# Needs a release build:
#   cargo build --release --bin rill --bin rill-bench --bin rill-floor
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
R=${BIN_DIR:-./target/release}
DURATION=${DURATION:-15}
WORKERS=${WORKERS:-64}
VALUE_SIZE=${VALUE_SIZE:-1024}
DURABILITY=${DURABILITY:-interval}
BASE=${BASE_PORT:-19000}
SETTLE=${SETTLE:-60}
rates=("$@")
[ ${#rates[@]} -eq 0 ] && rates=(5000 10000 15000 20000)
work=$(mktemp -d)
rows="$work/rows.jsonl"

# shellcheck source=lib.sh
. bench/scripts/lib.sh
trap cleanup EXIT

# measure LABEL PID ADDR RATE: one run at RATE against ADDR, whose server
# process is PID; prints a table row and appends a JSON row.
measure() {
    local label=$1 pid=$2 addr=$3 rate=$4 t0 t1
    wait_idle "$SETTLE" "$pid"
    t0=$(proc_ticks "$pid")
    $R/rill-bench --pb "$addr" --keys 100000 --value-size "$VALUE_SIZE" \
        --workers "$WORKERS" --duration "$DURATION" --mix put=1 --rate "$rate" \
        --seed "$rate" --out "$work/run" > /dev/null 2>&1
    t1=$(proc_ticks "$pid")
    python3 - "$label" "$rate" "$work/run/summary.json" "$t0" "$t1" "$(getconf CLK_TCK)" "$rows" <<'PY'
import json, sys
label, rate, path, t0, t1, tck, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], *map(float, sys.argv[4:7]), sys.argv[7]
put = json.load(open(path))["operations"]["put"]
cpu = (t1 - t0) / tck / max(put["count"], 1) * 1e6
print(f"| {label} | {rate} | {put['ops_per_sec']:.0f} | {put['p50_us']} | {put['p99_us']} | {put['p999_us']} | {put['errors']} | {cpu:.1f} |")
row = dict(server=label, offered=rate, ops_per_sec=put["ops_per_sec"], p50_us=put["p50_us"],
           p99_us=put["p99_us"], p999_us=put["p999_us"], errors=put["errors"],
           server_cpu_us_per_op=round(cpu, 1))
with open(rows, "a") as f:
    f.write(json.dumps(row) + "\n")
PY
}

printf '| server | offered puts/s | done puts/s | p50 µs | p99 µs | p99.9 µs | errors | server CPU µs/put |\n'
printf '|---|---|---|---|---|---|---|---|\n'

start_node n1 "$BASE" --durability "$DURABILITY"
pb="127.0.0.1:$((BASE + 87))"
$R/rill-bench --pb "$pb" --keys 100000 --value-size "$VALUE_SIZE" --preload \
    --duration 1 --mix get=1 > /dev/null 2>&1
for rate in "${rates[@]}"; do
    measure rill "${pids[0]}" "$pb" "$rate"
done
stop_pids "${pids[0]}"

if [ -n "${FLOOR_US:-}" ]; then
    start_floor "$FLOOR_US"
    for rate in "${rates[@]}"; do
        measure "floor ${FLOOR_US} µs" "$floor_pid" "$floor_addr" "$rate"
    done
    stop_pids "$floor_pid"
fi

echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; ${DURABILITY} durability; $(date -u +%Y-%m-%d)"
if [ -n "${JSON:-}" ]; then
    python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], indent=1))' "$rows" > "$JSON"
    echo "rows written to $JSON"
fi
