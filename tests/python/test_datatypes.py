"""Riak data types through the official Python client, over HTTP and PB.

The bucket types are created and activated by whoever starts the node,
before pytest runs (see README.md): RILL_COUNTERS_TYPE (datatype counter,
default ``rill_counters``), RILL_SETS_TYPE (set, ``rill_sets``),
RILL_MAPS_TYPE (map, ``rill_maps``) and RILL_HLLS_TYPE (hll,
``rill_hlls``). The client (riak 2.7.0) has no GSet type, so GSets are
tested by the Rust suites only.
"""

import os
import uuid

import pytest

from riak.datatypes import ContextRequired, Counter, Hll, Map, Set

COUNTERS = os.environ.get("RILL_COUNTERS_TYPE", "rill_counters")
SETS = os.environ.get("RILL_SETS_TYPE", "rill_sets")
MAPS = os.environ.get("RILL_MAPS_TYPE", "rill_maps")
HLLS = os.environ.get("RILL_HLLS_TYPE", "rill_hlls")


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
