"""Siblings in a bucket type with allow_mult=true, through the official Riak
Python client.

The bucket type (RILL_SIBLINGS_TYPE, default ``rill_siblings``) is created
and activated with allow_mult=true by whoever starts the node, before pytest
runs; see README.md.
"""

import uuid

import pytest

VALUE_A = {"writer": "a", "n": 1}
VALUE_B = {"writer": "b", "n": 2}


@pytest.fixture
def typed_bucket_name(new_name):
    return new_name("sib")


def _typed_bucket(client, siblings_type, name):
    return client.bucket_type(siblings_type).bucket(name)


def _write_two_blind_siblings(client_factory, siblings_type, name, key):
    """Two writers, each with its own client and object, neither sending a
    vclock: on an allow_mult bucket both values must survive as siblings."""
    first = _typed_bucket(client_factory(), siblings_type, name)
    second = _typed_bucket(client_factory(), siblings_type, name)
    first.new(key, data=VALUE_A).store()
    second.new(key, data=VALUE_B).store()


def _by_writer(siblings):
    return sorted((s.data for s in siblings), key=lambda d: d["writer"])


def test_concurrent_writes_create_siblings_and_resolve(
    client, client_factory, siblings_type, typed_bucket_name
):
    key = "k_" + uuid.uuid4().hex
    _write_two_blind_siblings(client_factory, siblings_type, typed_bucket_name, key)

    bucket = _typed_bucket(client, siblings_type, typed_bucket_name)
    obj = bucket.get(key)
    assert obj.exists is True
    assert len(obj.siblings) == 2
    assert _by_writer(obj.siblings) == [VALUE_A, VALUE_B]
    for sibling in obj.siblings:
        assert sibling.exists is True
        assert sibling.content_type == "application/json"
    etags = [s.etag for s in obj.siblings]
    assert all(etags), "each sibling should carry a vtag/etag"
    assert len(set(etags)) == 2
    assert obj.vclock is not None

    # Resolve: keep B, write it back with the vclock from the fetch.
    chosen = [s for s in obj.siblings if s.data == VALUE_B]
    assert len(chosen) == 1
    obj.siblings = chosen
    obj.store()
    assert len(obj.siblings) == 1
    assert obj.data == VALUE_B

    resolved = bucket.get(key)
    assert len(resolved.siblings) == 1
    assert resolved.data == VALUE_B

    # Seen from an unrelated client too.
    other = _typed_bucket(client_factory(), siblings_type, typed_bucket_name)
    seen = other.get(key)
    assert len(seen.siblings) == 1
    assert seen.data == VALUE_B


def test_siblings_resolved_by_resolver(
    client, client_factory, siblings_type, typed_bucket_name
):
    key = "k_" + uuid.uuid4().hex
    _write_two_blind_siblings(client_factory, siblings_type, typed_bucket_name, key)

    calls = []

    def keep_a(robj):
        calls.append(len(robj.siblings))
        robj.siblings = [s for s in robj.siblings if s.data == VALUE_A]

    bucket = _typed_bucket(client, siblings_type, typed_bucket_name)
    bucket.resolver = keep_a
    obj = bucket.get(key)
    # The client calls the resolver while decoding a multi-sibling response.
    assert calls == [2]
    assert len(obj.siblings) == 1
    assert obj.data == VALUE_A
    obj.store()

    fresh = _typed_bucket(client_factory(), siblings_type, typed_bucket_name)
    seen = fresh.get(key)
    assert len(seen.siblings) == 1
    assert seen.data == VALUE_A


def test_siblings_type_properties(client, siblings_type):
    props = client.bucket_type(siblings_type).get_properties()
    assert props["allow_mult"] is True
