#!/usr/bin/env bash
# Sets up the Python virtualenv used by the client-compatibility tests in
# tests/python/: Python 3.11, the official Riak Python client (riak 2.7.0)
# and pytest, plus a small shim that lets that client run on Python 3.11.
#
# Usage:  bash .ci/setup-python.sh
# Env:    RILL_VENV  virtualenv directory (default: .venv at the repo root;
#                    a relative path is taken from the repo root)
#         PYTHON     interpreter to build the venv from (default: python3.11,
#                    else python3 if it is 3.11)
#
# Idempotent: if the venv already imports the client with the current shim,
# the script only checks it and exits.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

venv="${RILL_VENV:-.venv}"
case "$venv" in
  /*) ;;
  *) venv="$repo_root/$venv" ;;
esac

shim_src="tests/python/shim/rill_py311_shim.py"

# Exact versions so every machine gets the same client stack.
# python3-protobuf 2.5.0 is the protobuf runtime riak 2.7.0 asks for on
# Python 3; the separate `protobuf` package must never be installed beside it
# (both own the google.protobuf package).
requirements=(
  "riak==2.7.0"
  "python3-protobuf==2.5.0"
  "basho_erlastic==2.1.1"
  "six==1.17.0"
  "pytest==8.4.2"
)

log() { printf 'setup-python: %s\n' "$*" >&2; }

find_python() {
  local cand
  for cand in "${PYTHON:-}" python3.11 python3; do
    [ -n "$cand" ] || continue
    command -v "$cand" >/dev/null 2>&1 || continue
    if "$cand" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$cand"
      return 0
    fi
  done
  return 1
}

venv_python="$venv/bin/python"

# The check run both to decide whether work is needed and to verify the result.
verify() {
  "$venv_python" - <<'EOF'
import sys

if sys.version_info[:2] != (3, 11):
    sys.exit("venv python is %d.%d, want 3.11" % sys.version_info[:2])

import collections
if "rill_py311_shim" not in sys.modules:
    sys.exit("rill_py311_shim was not loaded at interpreter start (.pth missing?)")
if not hasattr(collections, "Mapping"):
    sys.exit("collections ABC aliases missing")

import riak
from riak import RiakClient
from riak.pb import riak_pb2, riak_kv_pb2, riak_dt_pb2  # noqa: F401
import riak.transports.http  # noqa: F401
import riak.transports.tcp  # noqa: F401
import riak.codecs.pbuf  # noqa: F401
import pytest  # noqa: F401

# protobuf 2.5 must really encode and decode on this interpreter.
req = riak_kv_pb2.RpbPutReq(bucket=b"b", key=b"k")
req.content.value = bytes(range(256))
req.content.content_type = b"application/octet-stream"
back = riak_kv_pb2.RpbPutReq()
back.ParseFromString(req.SerializeToString())
if back.content.value != bytes(range(256)):
    sys.exit("protobuf round trip failed")

from importlib import metadata
names = {d.metadata["Name"].lower() for d in metadata.distributions()}
if "protobuf" in names:
    sys.exit("the 'protobuf' package is installed; it clashes with python3-protobuf")
if metadata.version("riak") != "2.7.0":
    sys.exit("riak %s installed, want 2.7.0" % metadata.version("riak"))
EOF
}

site_packages() {
  "$venv_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
}

shim_current() {
  local sp
  sp="$(site_packages)" || return 1
  cmp -s "$shim_src" "$sp/rill_py311_shim.py" && [ -f "$sp/rill_py311_shim.pth" ]
}

if [ -x "$venv_python" ] && shim_current 2>/dev/null && verify 2>/dev/null; then
  log "venv at $venv is ready"
  exit 0
fi

python="$(find_python)" || {
  log "no Python 3.11 found (tried \${PYTHON}, python3.11, python3)"
  exit 1
}

# Recreate the venv if it is missing, built from another Python version, or
# has the clashing protobuf package in it.
recreate=0
if [ ! -x "$venv_python" ]; then
  recreate=1
elif ! "$venv_python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
  recreate=1
elif "$venv_python" -m pip show protobuf >/dev/null 2>&1; then
  log "removing venv: it contains the 'protobuf' package"
  recreate=1
fi
if [ "$recreate" = 1 ]; then
  log "creating venv at $venv with $python"
  rm -rf "$venv"
  "$python" -m venv "$venv" || {
    log "could not create a venv with $python (Debian's python3 needs the python3-venv package)"
    exit 1
  }
fi

log "installing ${requirements[*]}"
"$venv_python" -m pip install --quiet --disable-pip-version-check \
  --no-input "${requirements[@]}"

sp="$(site_packages)"
cp "$shim_src" "$sp/rill_py311_shim.py"
# A .pth line starting with "import" is executed when the interpreter starts,
# so the shim is in place before anything imports riak.
printf 'import rill_py311_shim\n' > "$sp/rill_py311_shim.pth"

if ! verify; then
  log "venv at $venv failed verification"
  exit 1
fi
log "venv at $venv is ready"
