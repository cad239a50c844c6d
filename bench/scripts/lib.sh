# Shared by the bench scripts (sourced, not run). Expects $R (the directory
# of the rill binary) and $work (a temporary directory).

pids=()

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
