# Shared by the bench scripts (sourced, not run). Expects $R (the directory
# of the rill binaries) and $work (a temporary directory).

pids=()

# cleanup: the scripts' EXIT trap. Ends what still runs in the background
# and removes $work with the nodes' data. `kill` with no job left fails,
# and under `set -e` that would end the trap before the `rm`, and the
# script with status 2.
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}

# start_node NAME PORT [rill start flags...]: a node in $work/NAME with its
# HTTP, PB and cluster ports at PORT+98, PORT+87 and PORT+99, in the
# background; returns once it listens. Its pid is added to `pids`.
start_node() {
    local name=$1 port=$2; shift 2
    $R/rill start --node "$name@127.0.0.1" --data-dir "$work/$name" \
        --http "127.0.0.1:$((port + 98))" --pb "127.0.0.1:$((port + 87))" \
        --cluster "127.0.0.1:$((port + 99))" --log warn "$@" \
        > "$work/$name.out" 2> "$work/$name.err" &
    pids+=($!)
    for _ in $(seq 1 300); do grep -q listening "$work/$name.out" && return; sleep 0.1; done
    echo "node $name did not start" >&2; exit 1
}

# stop_pids PID...: ends the processes and reaps them; one already gone
# is not an error.
stop_pids() {
    local p
    for p in "$@"; do kill "$p" 2>/dev/null || true; done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# proc_ticks PID...: the processes' CPU time so far, user and system
# together, in clock ticks.
proc_ticks() {
    local p t=0
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo "$t"
}

# wait_idle SECONDS PID...: returns once the processes together used less
# than 5 % of a core over a second, or after SECONDS with a warning. The
# flushes and compactions a run leaves behind would otherwise be charged
# to the next one.
wait_idle() {
    local most=$1 a b quiet=$(($(getconf CLK_TCK) / 20))
    shift
    for _ in $(seq 1 "$most"); do
        a=$(proc_ticks "$@"); sleep 1; b=$(proc_ticks "$@")
        [ $((b - a)) -lt "$quiet" ] && return
    done
    echo "still busy after ${most} s; measuring anyway" >&2
}

# start_floor CPU_US [rill-floor flags...]: rill-floor in the background,
# spending CPU_US µs per request; returns once it listens, with
# `floor_pid` and `floor_addr` set.
start_floor() {
    local cost=$1
    shift
    $R/rill-floor --pb 127.0.0.1:0 --cpu-us "$cost" "$@" > "$work/floor.out" 2>&1 &
    floor_pid=$!
    floor_addr=""
    for _ in $(seq 1 100); do
        floor_addr=$(sed -n 's/^rill-floor listening on //p' "$work/floor.out")
        [ -n "$floor_addr" ] && return
        sleep 0.1
    done
    echo "rill-floor did not start" >&2; exit 1
}
