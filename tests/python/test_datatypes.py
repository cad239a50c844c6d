"""Riak data types through the official Python client, over HTTP and PB.

The bucket types are created and activated by whoever starts the node,
before pytest runs (see README.md): RILL_COUNTERS_TYPE (datatype counter,
default ``rill_counters``), RILL_SETS_TYPE (set, ``rill_sets``),
RILL_MAPS_TYPE (map, ``rill_maps``), RILL_HLLS_TYPE (hll,
``rill_hlls``) and RILL_GSETS_TYPE (gset, ``rill_gsets``). The client
(riak 2.7.0) has no GSet class; its transports still carry GSet operations
(its own generated PB messages, its HTTP connection), which is how the
GSet test drives it.
"""

import os
import uuid

import pytest

from riak.datatypes import ContextRequired, Counter, Hll, Map, Set

COUNTERS = os.environ.get("RILL_COUNTERS_TYPE", "rill_counters")
SETS = os.environ.get("RILL_SETS_TYPE", "rill_sets")
MAPS = os.environ.get("RILL_MAPS_TYPE", "rill_maps")
HLLS = os.environ.get("RILL_HLLS_TYPE", "rill_hlls")
GSETS = os.environ.get("RILL_GSETS_TYPE", "rill_gsets")


def _typed(client, bucket_type, new_name):
    return client.bucket_type(bucket_type).bucket(new_name("dt"))


def _key():
    return "k_" + uuid.uuid4().hex


def test_counter_increment_decrement_fetch(client, new_name):
    bucket = _typed(client, COUNTERS, new_name)
    key = _key()
    counter = bucket.new(key)
    assert isinstance(counter, Counter)
    counter.increment(5)
    counter.store()
    counter.decrement(2)
    counter.store()
    fetched = bucket.get(key)
    assert isinstance(fetched, Counter)
    assert fetched.value == 3
    fetched.increment()
    fetched.store(return_body=True)
    assert fetched.value == 4
    assert bucket.get(key).value == 4


def test_missing_counter_is_zero(client, new_name):
    bucket = _typed(client, COUNTERS, new_name)
    fetched = bucket.get(_key())
    assert fetched.value == 0


def test_set_add_and_remove_with_context(client, new_name):
    bucket = _typed(client, SETS, new_name)
    key = _key()
    s = bucket.new(key)
    assert isinstance(s, Set)
    s.add("a")
    s.add("b")
    s.add("c")
    s.store()
    # A fresh object has no context: the client refuses removes.
    with pytest.raises(ContextRequired):
        bucket.new(key).discard("a")
    fetched = bucket.get(key)
    assert fetched.value == frozenset(["a", "b", "c"])
    assert fetched.context is not None
    fetched.discard("a")
    fetched.add("d")
    fetched.store()
    fetched.reload()
    assert fetched.value == frozenset(["b", "c", "d"])
    assert bucket.get(key).value == frozenset(["b", "c", "d"])


def test_map_with_nested_types(client, new_name):
    bucket = _typed(client, MAPS, new_name)
    key = _key()
    m = bucket.new(key)
    assert isinstance(m, Map)
    m.counters["visits"].increment(3)
    m.registers["name"].assign("rill")
    m.flags["active"].enable()
    m.sets["tags"].add("x")
    m.sets["tags"].add("y")
    m.maps["inner"].registers["city"].assign("Oslo")
    m.maps["inner"].counters["n"].increment()
    m.store()

    fetched = bucket.get(key)
    assert fetched.counters["visits"].value == 3
    assert fetched.registers["name"].value == "rill"
    assert fetched.flags["active"].value is True
    assert fetched.sets["tags"].value == frozenset(["x", "y"])
    assert fetched.maps["inner"].registers["city"].value == "Oslo"
    assert fetched.maps["inner"].counters["n"].value == 1
    assert fetched.value == {
        ("visits", "counter"): 3,
        ("name", "register"): "rill",
        ("active", "flag"): True,
        ("tags", "set"): frozenset(["x", "y"]),
        ("inner", "map"): {("city", "register"): "Oslo", ("n", "counter"): 1},
    }

    # Updates and removes with the fetched context.
    fetched.flags["active"].disable()
    fetched.sets["tags"].discard("x")
    del fetched.registers["name"]
    fetched.counters["visits"].decrement()
    fetched.store()
    again = bucket.get(key)
    assert again.flags["active"].value is False
    assert again.sets["tags"].value == frozenset(["y"])
    assert ("name", "register") not in again.value
    assert again.counters["visits"].value == 2


def test_hll_add_and_value(client, new_name):
    bucket = _typed(client, HLLS, new_name)
    key = _key()
    h = bucket.new(key)
    assert isinstance(h, Hll)
    for member in ["a", "b", "c", "a", "b"]:
        h.add(member)
    h.store()
    assert bucket.get(key).value == 3
    h = bucket.get(key)
    h.add("d")
    h.store()
    assert bucket.get(key).value == 4


def test_legacy_counters(client, new_name):
    bucket = client.bucket(new_name("lc"))
    bucket.set_property("allow_mult", True)
    key = _key()
    assert bucket.get_counter(key) is None
    bucket.update_counter(key, 5)
    bucket.update_counter(key, -2)
    assert bucket.get_counter(key) == 3
    assert bucket.update_counter(key, 1, returnvalue=True) == 4


def _gset_pb(transport, bucket, key, adds=None):
    """A DtUpdateReq with a GSetOp (``adds``) or a DtFetchReq, built from the
    client's own riak_dt_pb2 and sent through its PB transport."""
    from riak.codecs import Msg
    from riak.pb import messages, riak_dt_pb2

    if adds is None:
        req = riak_dt_pb2.DtFetchReq(type=GSETS.encode(), bucket=bucket.encode(),
                                     key=key.encode())
        codes = (messages.MSG_CODE_DT_FETCH_REQ, messages.MSG_CODE_DT_FETCH_RESP)
    else:
        req = riak_dt_pb2.DtUpdateReq(type=GSETS.encode(), bucket=bucket.encode(),
                                      key=key.encode(), return_body=True)
        req.op.gset_op.adds.extend(adds)
        codes = (messages.MSG_CODE_DT_UPDATE_REQ, messages.MSG_CODE_DT_UPDATE_RESP)
    msg = Msg(codes[0], req.SerializeToString(), codes[1])
    _, resp = transport._request(msg, transport._get_codec(codes[0]))
    return resp


def _gset_http(transport, bucket, key, adds=None):
    """The same through the client's HTTP connection and Riak's JSON."""
    import json

    url = transport.datatypes_path(GSETS, bucket, key)
    if adds is None:
        status, _, body = transport._request("GET", url)
    else:
        op = json.dumps({"add_all": [a.decode() for a in adds]})
        url = transport.datatypes_path(GSETS, bucket, key, returnbody="true")
        status, _, body = transport._request(
            "POST", url, {"Content-Type": "application/json"}, op)
    return status, json.loads(body.decode())


def test_gset_adds_and_fetch(client, protocol, new_name):
    bucket, key = new_name("gs"), _key()
    with client._transport() as t:
        if protocol == "pbc":
            from riak.pb import riak_dt_pb2

            resp = _gset_pb(t, bucket, key, [b"a", b"b"])
            assert sorted(resp.gset_value) == [b"a", b"b"]
            _gset_pb(t, bucket, key, [b"b", b"c"])
            fetched = _gset_pb(t, bucket, key)
            assert fetched.type == riak_dt_pb2.DtFetchResp.GSET
            assert sorted(fetched.value.gset_value) == [b"a", b"b", b"c"]
        else:
            status, body = _gset_http(t, bucket, key, [b"a", b"b"])
            assert status in (200, 201), body
            assert sorted(body["value"]) == ["a", "b"]
            _gset_http(t, bucket, key, [b"b", b"c"])
            status, body = _gset_http(t, bucket, key)
            assert status == 200
            assert body["type"] == "gset"
            assert sorted(body["value"]) == ["a", "b", "c"]
