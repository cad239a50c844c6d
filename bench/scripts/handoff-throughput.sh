#!/usr/bin/env bash
# Measures ownership handoff: one node is loaded with KEYS objects of 1,000
# bytes (n_val 3), a second node joins, and the time from `cluster commit`
# until no transfer waits or runs is printed with the data sizes.
# Usage: bench/scripts/handoff-throughput.sh   (KEYS=100000 by default)
# Uses release builds: cargo build --release --bin rill --bin rill-bench
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
R=./target/release
KEYS=${KEYS:-100000}
PORT_A=${PORT_A:-18000}
PORT_B=${PORT_B:-28000}
work=$(mktemp -d)

# shellcheck source=lib.sh
. bench/scripts/lib.sh
trap cleanup EXIT

start_node a "$PORT_A"
$R/rill-bench --pb "127.0.0.1:$((PORT_A + 87))" --keys "$KEYS" --value-size 1000 --preload \
    --duration 1 --mix get=1 --workers 16 > /dev/null
echo "loaded $KEYS keys; node a holds $(du -sm "$work/a" | cut -f1) MB on disk"
start_node b "$PORT_B"
$R/rill admin --url "http://127.0.0.1:$((PORT_B + 98))" cluster join "127.0.0.1:$((PORT_A + 99))"
$R/rill admin --url "http://127.0.0.1:$((PORT_A + 98))" cluster plan | grep -i transfers
t0=$(date +%s.%N)
$R/rill admin --url "http://127.0.0.1:$((PORT_A + 98))" cluster commit
until $R/rill admin --url "http://127.0.0.1:$((PORT_A + 98))" --json transfers |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["waiting"] == 0 and not d["active"] else 1)'; do
    sleep 0.2
done
t1=$(date +%s.%N)
secs=$(python3 -c "print(round($t1 - $t0, 2))")
# Half of the 64 partitions move; each holds its share of n_val=3 copies.
mb=$(python3 -c "print(round($KEYS * 3 / 2 * 1000 / 1e6, 1))")
echo "handoff of ~$mb MB of values in $secs s: $(python3 -c "print(round($mb / $secs, 1))") MB/s"
echo "on disk after: a $(du -sm "$work/a" | cut -f1) MB, b $(du -sm "$work/b" | cut -f1) MB"
