"""Smoke test with redis-py over TLS (ssl=True) against a running Tandem:
the TLS port given, the certificates of scripts/tls_certs.sh in the
directory given; as the ACL user `app` (password `apppw`, keys `app:*`)."""
import sys

import redis

port, certs = int(sys.argv[1]), sys.argv[2]
tls = dict(host="localhost", port=port, ssl=True, ssl_ca_certs=f"{certs}/ca.pem",
           ssl_certfile=f"{certs}/client.pem", ssl_keyfile=f"{certs}/client.key")
for protocol in (2, 3):
    r = redis.Redis(username="app", password="apppw", protocol=protocol,
                    decode_responses=True, **tls)
    assert r.ping() is True
    assert r.acl_whoami() == "app"
    assert r.set("app:py", "v") is True
    assert r.get("app:py") == "v"
    pipe = r.pipeline(transaction=True)
    for i in range(200):
        pipe.set(f"app:p{i}", "x" * i)
    assert pipe.execute() == [True] * 200
    assert r.strlen("app:p199") == 199
    try:
        r.get("elsewhere")
        raise AssertionError("a key outside app:* was read")
    except redis.exceptions.NoPermissionError:
        pass
# Without a client certificate the handshake is refused.
try:
    redis.Redis(host="localhost", port=port, ssl=True,
                ssl_ca_certs=f"{certs}/ca.pem").ping()
    raise AssertionError("served without a client certificate")
except redis.exceptions.ConnectionError:
    pass
# ...by the server, which is still up and serving clients with one.
assert redis.Redis(username="app", password="apppw", **tls).ping() is True
print("redis-py over TLS ok")
