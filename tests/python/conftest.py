"""Fixtures for running the official Riak Python client (riak 2.7.0) against
a running Rill node.

Environment:
  RILL_HTTP_PORT       HTTP API port on 127.0.0.1 (the ``http`` parameter is
                       skipped when unset)
  RILL_PB_PORT         Protocol Buffers port on 127.0.0.1 (the ``pbc``
                       parameter is skipped when unset)
  RILL_HOST            host to connect to (default 127.0.0.1)
  RILL_SIBLINGS_TYPE   bucket type created with allow_mult=true before the
                       run (default rill_siblings)
  RILL_CLIENT_TIMEOUT  socket timeout in seconds for each request
                       (default 30)
"""

import os
import sys
import uuid

import pytest

# The client predates Python 3.10. The venv built by .ci/setup-python.sh
# loads this shim at interpreter start; importing it here as well keeps the
# tests usable from any Python 3.11 environment that has riak installed.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "shim"))
import rill_py311_shim  # noqa: E402,F401

from riak import RiakClient  # noqa: E402

HOST = os.environ.get("RILL_HOST", "127.0.0.1")
SIBLINGS_TYPE = os.environ.get("RILL_SIBLINGS_TYPE", "rill_siblings")


def _port(var):
    raw = os.environ.get(var, "").strip()
    if not raw:
        return None
    try:
        port = int(raw)
    except ValueError:
        raise pytest.UsageError("%s=%r is not a port number" % (var, raw))
    if not 0 < port < 65536:
        raise pytest.UsageError("%s=%r is out of range" % (var, raw))
    return port


HTTP_PORT = _port("RILL_HTTP_PORT")
PB_PORT = _port("RILL_PB_PORT")
TIMEOUT = float(os.environ.get("RILL_CLIENT_TIMEOUT", "30"))

PROTOCOLS = [
    pytest.param(
        "http",
        id="http",
        marks=pytest.mark.skipif(
            HTTP_PORT is None,
            reason="RILL_HTTP_PORT is not set: no HTTP endpoint to test",
        ),
    ),
    pytest.param(
        "pbc",
        id="pbc",
        marks=pytest.mark.skipif(
            PB_PORT is None,
            reason="RILL_PB_PORT is not set: no Protocol Buffers endpoint to test",
        ),
    ),
]


def new_client(protocol):
    """A RiakClient that talks only ``protocol`` to the node under test."""
    node = {"host": HOST}
    if protocol == "http":
        node["http_port"] = HTTP_PORT
    else:
        node["pb_port"] = PB_PORT
    return RiakClient(
        protocol=protocol,
        transport_options={"timeout": TIMEOUT},
        **node
    )


@pytest.fixture(params=PROTOCOLS)
def protocol(request):
    return request.param


@pytest.fixture
def client_factory(protocol):
    """Makes extra independent clients for the same protocol and node."""
    made = []

    def make():
        c = new_client(protocol)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(client_factory):
    return client_factory()


@pytest.fixture
def new_name(request):
    """Makes names unique to this test and run: a prefix, the short test
    name and a uuid. Readable in server logs, and free of characters that
    need escaping in URLs."""
    test = request.node.originalname or request.node.name
    test = test.replace("test_", "", 1)

    def make(prefix="b"):
        return "%s_%s_%s" % (prefix, test, uuid.uuid4().hex)

    return make


@pytest.fixture
def bucket_name(new_name):
    return new_name()


@pytest.fixture
def bucket(client, bucket_name):
    """A fresh bucket in the default bucket type."""
    return client.bucket(bucket_name)


@pytest.fixture
def siblings_type():
    return SIBLINGS_TYPE
