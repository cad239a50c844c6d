#!/usr/bin/env bash
# Runs the Python client-compatibility tests against a node that is already
# running on 127.0.0.1.
#
# Usage: tests/python/run_against.sh HTTP_PORT [PB_PORT] [-- PYTEST_ARGS...]
#   e.g. tests/python/run_against.sh 8098 8087
#        tests/python/run_against.sh 8098 8087 -- -k siblings -x
#
# Without PB_PORT the pbc variants are skipped. The virtualenv is set up (or
# checked) with .ci/setup-python.sh first; RILL_VENV picks its directory.
# RILL_WAIT (default 30) is how many seconds to wait for GET /ping to answer.
# The bucket type named by RILL_SIBLINGS_TYPE (default rill_siblings) must
# already exist and be active with allow_mult=true.
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
http_port="$1"; shift
pb_port=""
if [ $# -ge 1 ] && [ "$1" != "--" ]; then
  pb_port="$1"; shift
fi
if [ $# -ge 1 ] && [ "$1" = "--" ]; then
  shift
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

bash .ci/setup-python.sh

venv="${RILL_VENV:-.venv}"
case "$venv" in
  /*) ;;
  *) venv="$repo_root/$venv" ;;
esac
python="$venv/bin/python"

# Wait for the node's HTTP listener.
"$python" - "$http_port" "${RILL_WAIT:-30}" <<'EOF'
import sys, time, urllib.request

port, wait = sys.argv[1], float(sys.argv[2])
url = "http://127.0.0.1:%s/ping" % port
deadline = time.monotonic() + wait
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("node did not answer %s within %gs" % (url, wait))
    time.sleep(0.2)
EOF

export RILL_HTTP_PORT="$http_port"
if [ -n "$pb_port" ]; then
  export RILL_PB_PORT="$pb_port"
else
  unset RILL_PB_PORT
fi

exec "$python" -m pytest tests/python "$@"
