#!/usr/bin/env bash
# The figures of docs/performance.md ("Targets"), each from fresh nodes in a
# temporary directory: one node over PB (background-flush and sync
# durability), one node over HTTP, three nodes on loopback, 100,000
# against 10,000,000 keys, and data type updates and fetches on one node. For each run: throughput, p50/p99, the
# server CPU per operation (user + system time of every node process,
# read from /proc, divided by the operations done), the voluntary context
# switches of the node threads per operation, and the first node's row
# cache hit rate over the run (from its /stats).
#
# Usage: bench/scripts/targets.sh [SCENARIO...]
#   scenarios: pb sync http cluster keys datatypes (default: all)
# Environment: DURATION (seconds per run, default 15), WORKERS (64),
#   BIG_KEYS (10000000), PAIRS (alternated 100,000/BIG_KEYS runs of the
#   keys scenario, default 3), WARMUP (seconds of unmeasured load before the
#   measured run of the keys scenario, default 120: the caches of a node
#   holding 10M keys take 40 s or more to fill), BASE_PORT (19000), SETTLE (seconds to wait at most
#   for the nodes to go idle before each run, default 120), JSON (a file to
#   write the rows to as a JSON array, for scripts), BIN_DIR (where rill and
#   rill-bench are, default target/release: A/B runs of two builds).
# Needs a release build: cargo build --release --bin rill --bin rill-bench
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
R=${BIN_DIR:-./target/release}
DURATION=${DURATION:-15}
WORKERS=${WORKERS:-64}
BIG_KEYS=${BIG_KEYS:-10000000}
PAIRS=${PAIRS:-3}
WARMUP=${WARMUP:-120}
SETTLE=${SETTLE:-120}
BASE=${BASE_PORT:-19000}
work=$(mktemp -d)
results="$work/results.txt"
rows="$work/rows.jsonl"

# shellcheck source=lib.sh
. bench/scripts/lib.sh
trap cleanup EXIT

stop_nodes() {
    stop_pids "${pids[@]}"
    pids=()
    rm -rf "${work:?}"/n*
}

# Voluntary context switches of each thread of the node processes, a
# "TASK-PATH COUNT" line per thread: how often a thread slept to wait for
# another. Two of these are compared thread by thread, so a thread that
# ends between them (the runtime's blocking pool) takes only its own
# switches since the first out of the sum, not all it ever made.
switches() {
    local p
    for p in $(measured_pids); do
        awk '/^voluntary_ctxt_switches/ {print FILENAME, $2}' /proc/"$p"/task/*/status
    done
}

# The node processes a run is charged for: every node, or only those named
# in `measured` (the keys scenario keeps two nodes up and measures one).
measured=()
measured_pids() {
    if [ ${#measured[@]} -gt 0 ]; then echo "${measured[@]}"; else echo "${pids[@]}"; fi
}

cpu_ticks() { # total utime+stime of the measured node processes
    # shellcheck disable=SC2046 # one word per pid
    proc_ticks $(measured_pids)
}

# Waits until the nodes are idle, at most SETTLE seconds (`wait_idle`).
# Every node counts, measured or not: one compacting beside the run would
# take its cores.
settle() {
    wait_idle "$SETTLE" "${pids[@]}"
}

# The measured node's /stats (its row cache counters), or {} if
# unreachable: the first node's unless `stats_port` names another.
stats_port=""
first_stats() {
    curl -s --max-time 5 "http://127.0.0.1:${stats_port:-$((BASE + 98))}/stats" 2> /dev/null || echo '{}'
}

# run LABEL rill-bench-args...: one timed run, one line in $results.
run() {
    local label=$1; shift
    local out="$work/out-$label"
    local t0 t1
    settle
    first_stats > "$work/stats0.json"
    t0=$(cpu_ticks); switches > "$work/switches0"
    $R/rill-bench --workers "$WORKERS" --duration "$DURATION" --out "$out" "$@" > /dev/null
    t1=$(cpu_ticks); switches > "$work/switches1"
    first_stats > "$work/stats1.json"
    python3 - "$label" "$out/summary.json" "$t0" "$t1" "$(getconf CLK_TCK)" "$rows" "$work" >> "$results" <<'PY'
import json, sys
label, path, t0, t1, tck, rows, work = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6]), sys.argv[6], sys.argv[7]
s = json.load(open(path))
ops = s["operations"]
n = sum(o["count"] for o in ops.values())
errors = sum(o["errors"] for o in ops.values())
cpu_us = (t1 - t0) / tck / max(n, 1) * 1e6
def per_thread(f):
    return dict(line.split() for line in open(f"{work}/{f}"))
sw0, sw1 = per_thread("switches0"), per_thread("switches1")
sw = sum(int(c) - int(sw0.get(t, 0)) for t, c in sw1.items()) / max(n, 1)
def counters(f):
    try:
        d = json.load(open(f"{work}/{f}"))
    except ValueError:
        d = {}
    return d.get("rill_row_cache_hits_total", 0), d.get("rill_row_cache_misses_total", 0)
(h0, m0), (h1, m1) = counters("stats0.json"), counters("stats1.json")
reads = (h1 - h0) + (m1 - m0)
hit = round(100.0 * (h1 - h0) / reads, 1) if reads else None
for name, o in ops.items():
    shown = "-" if hit is None else f"{hit:.1f}"
    print(f"{label:<26} {name:<9} {o['ops_per_sec']:>9.0f} {o['p50_us']:>8} {o['p99_us']:>8} {errors:>6} {cpu_us:>9.1f} {sw:>9.2f} {shown:>9}")
    row = {"run": label, "op": name, "ops_per_sec": o["ops_per_sec"], "p50_us": o["p50_us"],
           "p99_us": o["p99_us"], "errors": errors, "server_cpu_us_per_op": round(cpu_us, 1),
           "switches_per_op": round(sw, 2),
           "row_cache_hit_pct": hit, "command": s.get("command")}
    with open(rows, "a") as f:
        f.write(json.dumps(row) + "\n")
PY
    tail -n "$(python3 -c "import json;print(len(json.load(open('$out/summary.json'))['operations']))")" "$results"
}

scenario_pb() {
    start_node n1 "$BASE"
    local pb="127.0.0.1:$((BASE + 87))"
    $R/rill-bench --pb "$pb" --keys 100000 --value-size 1024 --preload --duration 1 --mix get=1 > /dev/null
    run "pb-1node-interval-put" --pb "$pb" --keys 100000 --value-size 1024 --mix put=1
    run "pb-1node-interval-get" --pb "$pb" --keys 100000 --value-size 1024 --mix get=1
    run "pb-1node-interval-mixed" --pb "$pb" --keys 100000 --value-size 1024 --mix get=1,put=1
    stop_nodes
}

scenario_sync() {
    start_node n1 "$BASE" --durability sync
    run "pb-1node-sync-put" --pb "127.0.0.1:$((BASE + 87))" --keys 100000 --value-size 1024 --mix put=1
    stop_nodes
}

scenario_http() {
    start_node n1 "$BASE"
    local http="127.0.0.1:$((BASE + 98))"
    $R/rill-bench --http "$http" --keys 100000 --value-size 1024 --preload --duration 1 --mix get=1 > /dev/null
    run "http-1node-get" --http "$http" --keys 100000 --value-size 1024 --mix get=1
    run "http-1node-put" --http "$http" --keys 100000 --value-size 1024 --mix put=1
    stop_nodes
}

scenario_cluster() {
    start_node n1 "$BASE"
    start_node n2 $((BASE + 1000))
    start_node n3 $((BASE + 2000))
    local admin="http://127.0.0.1:$((BASE + 98))"
    for off in 1000 2000; do
        $R/rill admin --url "http://127.0.0.1:$((BASE + off + 98))" cluster join "127.0.0.1:$((BASE + 99))" > /dev/null
    done
    $R/rill admin --url "$admin" cluster plan > /dev/null
    $R/rill admin --url "$admin" cluster commit > /dev/null
    $R/rill admin --url "$admin" transfers --wait > /dev/null
    local pbs="127.0.0.1:$((BASE + 87)),127.0.0.1:$((BASE + 1087)),127.0.0.1:$((BASE + 2087))"
    $R/rill-bench --pb "$pbs" --keys 100000 --value-size 100 --preload --duration 1 --mix get=1 > /dev/null
    run "pb-3nodes-put" --pb "$pbs" --keys 100000 --value-size 100 --mix put=1
    run "pb-3nodes-get" --pb "$pbs" --keys 100000 --value-size 100 --mix get=1
    stop_nodes
}

# Both sizes are up at once and measured in alternation (PAIRS pairs of
# runs, 100,000 keys first in each): on this shared host the speed drifts
# by up to 30 % within an hour, so a ratio of two runs made far apart says
# more about the host than about the store.
scenario_keys() {
    local small=100000 sizes=() ports=() nodes=() i k
    sizes=("$small" "$BIG_KEYS")
    for i in 0 1; do
        ports[i]=$((BASE + 1000 * i))
        start_node "k$i" "${ports[i]}"
        nodes[i]=${pids[-1]}
    done
    for i in 0 1; do
        k=${sizes[i]}
        echo "preloading $k keys of 100 bytes..." >&2
        $R/rill-bench --pb "127.0.0.1:$((ports[i] + 87))" --keys "$k" --value-size 100 \
            --preload --duration 1 --mix get=1 > /dev/null
    done
    # Both sizes get the same warm-up: the figure compared is the steady
    # state, not how fast an empty cache fills. The warm-up draws other
    # keys (another seed) than the measured runs, which would otherwise
    # replay its first seconds from warm caches.
    if [ "$WARMUP" -gt 0 ]; then
        for i in 0 1; do
            echo "warming up ${sizes[i]} keys for $WARMUP s..." >&2
            $R/rill-bench --pb "127.0.0.1:$((ports[i] + 87))" --keys "${sizes[i]}" \
                --value-size 100 --workers "$WORKERS" --duration "$WARMUP" \
                --mix get=1,put=1 --seed 2 > /dev/null
        done
    fi
    for pair in $(seq 1 "$PAIRS"); do
        for i in 0 1; do
            measured=("${nodes[i]}")
            stats_port=$((ports[i] + 98))
            run "pb-1node-${sizes[i]}keys-mixed" --pb "127.0.0.1:$((ports[i] + 87))" \
                --keys "${sizes[i]}" --value-size 100 --mix get=1,put=1 --seed $((100 + pair))
        done
    done
    measured=()
    stats_port=""
    stop_nodes
}

scenario_datatypes() {
    start_node n1 "$BASE"
    local pb="127.0.0.1:$((BASE + 87))" admin="http://127.0.0.1:$((BASE + 98))" t
    for t in counter set map hll gset; do
        $R/rill admin --url "$admin" bucket-type create "bench_$t" "{\"props\":{\"datatype\":\"$t\"}}" > /dev/null
        $R/rill admin --url "$admin" bucket-type activate "bench_$t" > /dev/null
        # Every key exists before the measured runs and has had about ten
        # updates (a set holds about ten of the 100 members drawn).
        $R/rill-bench --pb "$pb" --keys 10000 --dt-type "bench_$t" --dt-members 100 \
            --preload --ops 100000 --mix dt_update=1 > /dev/null
        run "pb-1node-$t-update" --pb "$pb" --keys 10000 --dt-type "bench_$t" --dt-members 100 --mix dt_update=1
    done
    run "pb-1node-counter-fetch" --pb "$pb" --keys 10000 --dt-type bench_counter --mix dt_fetch=1
    run "pb-1node-map-fetch" --pb "$pb" --keys 10000 --dt-type bench_map --mix dt_fetch=1
    stop_nodes
}

printf '%-26s %-9s %9s %8s %8s %6s %9s %9s %9s\n' run op "ops/s" "p50 us" "p99 us" errors "cpu us/op" "switch/op" "row hit %" | tee "$results"
for s in "${@:-pb sync http cluster keys datatypes}"; do
    for one in $s; do "scenario_$one"; done
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
if [ -n "${JSON:-}" ]; then
    python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], indent=1))' "$rows" > "$JSON"
    echo "rows written to $JSON"
fi
