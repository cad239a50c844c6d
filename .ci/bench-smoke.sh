#!/usr/bin/env bash
# A few seconds of rill-bench against a node started with `rill start`, as a
# smoke test of the tool and the server together (no timed assertion: it
# checks the run completes and writes its reports).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --bin rill --bin rill-bench
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

./target/debug/rill start --data-dir "$work/data" --http 127.0.0.1:0 --pb 127.0.0.1:0 \
    --cluster 127.0.0.1:0 --log warn > "$work/node.out" &
pid=$!
for _ in $(seq 1 300); do
    grep -q listening "$work/node.out" 2>/dev/null && break
    sleep 0.2
done
pb=$(grep -o 'pb=[0-9.:]*' "$work/node.out" | cut -d= -f2)
http=$(grep -o 'http=[0-9.:]*' "$work/node.out" | cut -d= -f2)
[ -n "$pb" ] && [ -n "$http" ] || { echo "bench-smoke: node did not start" >&2; exit 1; }

./target/debug/rill-bench --pb "$pb" --duration 3 --workers 4 --keys 1000 --preload \
    --out "$work/report"
for f in summary.json timeseries.csv summary.svg; do
    [ -s "$work/report/$f" ] || { echo "bench-smoke: $f missing" >&2; exit 1; }
done
# Data types: counter updates and fetches in a bucket type made for them.
./target/debug/rill admin --url "http://$http" bucket-type create smoke_counters \
    '{"props":{"datatype":"counter"}}' > /dev/null
./target/debug/rill admin --url "http://$http" bucket-type activate smoke_counters > /dev/null
./target/debug/rill-bench --pb "$pb" --duration 2 --workers 4 --keys 100 \
    --mix dt_update=3,dt_fetch=1 --dt-type smoke_counters --json > "$work/dt.json"
python3 - "$work/dt.json" <<'PY' || { echo "bench-smoke: data-type run failed" >&2; exit 1; }
import json, sys
ops = json.load(open(sys.argv[1]))["operations"]
for op in ("dt_update", "dt_fetch"):
    assert ops[op]["count"] > 0 and ops[op]["errors"] == 0, (op, ops[op])
PY
echo "bench-smoke: ok"
