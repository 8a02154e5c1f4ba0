"""Smoke test with redis-py against a running Tandem on the given port:
RESP2 and RESP3 connections, pipelining, expiry and errors."""
import sys

import redis

port = int(sys.argv[1])
for protocol in (2, 3):
    r = redis.Redis(port=port, protocol=protocol, decode_responses=True)
    assert r.ping() is True
    assert r.set("py:k", "v", ex=100) is True
    assert r.get("py:k") == "v"
    assert 99 <= r.ttl("py:k") <= 100
    assert r.get("py:missing") is None
    assert r.mset({"py:a": "1", "py:b": "2"}) is True
    assert r.mget(["py:a", "py:b", "py:none"]) == ["1", "2", None]
    assert r.incrbyfloat("py:f", 1.5) == 1.5
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"py:p{i}", i)
    for i in range(100):
        pipe.get(f"py:p{i}")
    replies = pipe.execute()
    assert replies[:100] == [True] * 100 and replies[100:] == [str(i) for i in range(100)]
    assert sorted(r.keys("py:p1*"))[:3] == ["py:p1", "py:p10", "py:p11"]
    try:
        r.incr("py:k")
        raise AssertionError("INCR of a non-integer succeeded")
    except redis.ResponseError as e:
        assert str(e) == "value is not an integer or out of range", e
    assert r.delete("py:k", "py:a", "py:b") == 3
    assert r.flushdb() is True
    assert r.dbsize() == 0
print("redis-py: RESP2 and RESP3 ok")
