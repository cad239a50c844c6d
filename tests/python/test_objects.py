"""Object operations through the official Riak Python client: ping, store,
fetch, delete, binary values, missing keys, user metadata and 2i entries.

Every test runs once per protocol (``http``, ``pbc``); see conftest.py.
"""

import uuid

JSON_VALUE = {
    "name": "rill",
    "replicas": 3,
    "ratio": 0.5,
    "ok": True,
    "nothing": None,
    "tags": ["a", "b", "c"],
    "nested": {"list": [1, 2, {"deep": "yes"}]},
    "text": "h\u00e9llo w\u00f6rld \u2713",
}


def new_key():
    return "k_" + uuid.uuid4().hex


def test_ping(client):
    assert client.ping() is True


def test_store_fetch_delete_json(bucket):
    key = new_key()

    obj = bucket.new(key, data=JSON_VALUE)
    stored = obj.store()
    assert stored is obj
    # store() asks for the body back (HTTP ?returnbody=true, PB return_body):
    # the object comes back with its causal context and the stored value.
    assert obj.vclock is not None
    assert len(obj.siblings) == 1
    assert obj.data == JSON_VALUE

    fetched = bucket.get(key)
    assert fetched.exists is True
    assert fetched.key == key
    assert len(fetched.siblings) == 1
    assert fetched.content_type == "application/json"
    assert fetched.data == JSON_VALUE
    assert fetched.vclock is not None
    assert fetched.last_modified is not None

    fetched.delete()
    assert fetched.exists is False

    gone = bucket.get(key)
    assert gone.exists is False
    assert gone.data is None


def test_update_with_fetched_vclock_replaces_value(bucket):
    key = new_key()
    bucket.new(key, data={"version": 1}).store()

    obj = bucket.get(key)
    obj.data = {"version": 2}
    obj.store()

    again = bucket.get(key)
    assert len(again.siblings) == 1
    assert again.data == {"version": 2}


def _binary_payload():
    # Every byte value, in order and reversed, plus sequences that would
    # confuse text or multipart handling if a server treated values as text.
    return (
        bytes(range(256))
        + bytes(reversed(range(256)))
        + b"\x00\x00\r\n--boundary\r\n\xff\xfe\x80"
    )


def test_binary_round_trip(bucket):
    key = new_key()
    payload = _binary_payload()

    obj = bucket.new(
        key, encoded_data=payload, content_type="application/octet-stream"
    )
    obj.store()
    assert obj.encoded_data == payload

    fetched = bucket.get(key)
    assert fetched.exists is True
    assert fetched.content_type == "application/octet-stream"
    assert fetched.encoded_data == payload
    assert len(fetched.encoded_data) == len(payload)


def test_binary_round_trip_new_from_file(bucket, tmp_path):
    key = new_key()
    payload = bytes(range(256)) * 16
    path = tmp_path / "blob.bin"
    path.write_bytes(payload)

    obj = bucket.new_from_file(key, str(path))
    assert obj.content_type == "application/octet-stream"
    obj.store()

    fetched = bucket.get(key)
    assert fetched.exists is True
    assert fetched.content_type == "application/octet-stream"
    assert fetched.encoded_data == payload


def test_fetch_missing_key(bucket):
    obj = bucket.get(new_key())
    assert obj.exists is False
    assert obj.data is None
    assert obj.siblings == []
    # Never written, so there is no causal context either (a tombstone may
    # carry one; a key that never existed does not).
    assert obj.vclock is None


def test_default_bucket_blind_writes_keep_last(bucket):
    # Default bucket type: allow_mult=false, so two writes without a vclock
    # leave a single value, the later one.
    key = new_key()
    bucket.new(key, data={"writer": "first"}).store()
    bucket.new(key, data={"writer": "second"}).store()

    fetched = bucket.get(key)
    assert len(fetched.siblings) == 1
    assert fetched.data == {"writer": "second"}


def test_usermeta_and_indexes_round_trip(bucket):
    key = new_key()
    obj = bucket.new(key, data={"user": "x"})
    # HTTP carries metadata as X-Riak-Meta-* headers, whose names the client
    # lower-cases on the way back, so keys are lower case here.
    obj.usermeta = {"a": "1", "colour": "blue"}
    obj.add_index("email_bin", "x@y")
    obj.add_index("email_bin", "z@w")
    obj.add_index("age_int", 42)
    obj.store()

    fetched = bucket.get(key)
    assert fetched.exists is True
    assert fetched.data == {"user": "x"}
    assert fetched.usermeta == {"a": "1", "colour": "blue"}
    assert fetched.indexes == {
        ("email_bin", "x@y"),
        ("email_bin", "z@w"),
        ("age_int", 42),
    }
