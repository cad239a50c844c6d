"""Bucket-level operations through the official Riak Python client: bucket
properties, list keys and list buckets.

Every test runs once per protocol (``http``, ``pbc``); see conftest.py.
"""

import uuid
from contextlib import closing


def test_bucket_properties_set_get_clear(bucket):
    props = bucket.get_properties()
    assert props["n_val"] == 3
    assert props["allow_mult"] is False

    bucket.set_properties({"n_val": 2, "allow_mult": True})
    changed = bucket.get_properties()
    assert changed["n_val"] == 2
    assert changed["allow_mult"] is True

    # HTTP: DELETE .../props answers 204 (the client returns False on 405);
    # PB: RpbResetBucketReq.
    assert bucket.clear_properties() is True
    reset = bucket.get_properties()
    assert reset["n_val"] == 3
    assert reset["allow_mult"] is False


def _store_keys(bucket, count):
    keys = {"k%d_%s" % (i, uuid.uuid4().hex) for i in range(count)}
    for key in keys:
        bucket.new(key, data={"key": key}).store()
    return keys


def test_list_keys(bucket):
    keys = _store_keys(bucket, 5)

    listed = bucket.get_keys()
    assert len(listed) == len(keys)
    assert set(listed) == keys


def test_stream_keys(bucket):
    keys = _store_keys(bucket, 5)

    streamed = []
    with closing(bucket.stream_keys()) as stream:
        for chunk in stream:
            assert isinstance(chunk, list)
            streamed.extend(chunk)
    assert len(streamed) == len(keys)
    assert set(streamed) == keys


def test_list_keys_of_empty_bucket(bucket):
    assert bucket.get_keys() == []


def test_list_buckets(client, new_name):
    names = {new_name(), new_name()}
    for name in names:
        client.bucket(name).new("k", data={"bucket": name}).store()

    listed = client.get_buckets()
    listed_names = {b.name for b in listed}
    assert names <= listed_names
    # Default-type buckets come back as such.
    for b in listed:
        if b.name in names:
            assert b.bucket_type.is_default()


def test_stream_buckets(client, new_name):
    names = {new_name(), new_name()}
    for name in names:
        client.bucket(name).new("k", data={"bucket": name}).store()

    streamed = set()
    with closing(client.stream_buckets()) as stream:
        for chunk in stream:
            streamed.update(b.name for b in chunk)
    assert names <= streamed
