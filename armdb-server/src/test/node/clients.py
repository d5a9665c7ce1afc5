"""Drives a node with redis-py at its default settings. Usage: python3 clients.py PORT. Exits non-zero on a mismatch."""
import sys

import redis

port = int(sys.argv[1])
V = b"value-of-16-byte"


def key(i):
    return "k%07d" % i


r = redis.Redis(host="127.0.0.1", port=port)
other = redis.Redis(host="127.0.0.1", port=port)
assert r.ping() is True
assert r.set(key(1), V) is True
assert r.get(key(1)) == V
assert r.get(key(2)) is None
assert r.type(key(1)) == b"string"
assert r.ttl(key(1)) == -1
assert r.client_id() > 0
assert r.client_setname("py") is True
assert r.client_getname() == "py" or r.client_getname() == b"py"
info = r.client_info()
assert info["name"] == "py", info
pipe = r.pipeline()  # the default pipeline is a MULTI/EXEC transaction
for i in range(10, 110):
    pipe.set(key(i), V)
assert pipe.execute() == [True] * 100
with r.pipeline() as p:
    p.watch(key(200))
    other.set(key(200), b"changed-by-other")
    p.multi()
    p.set(key(200), V)
    try:
        p.execute()
        raise AssertionError("EXEC ran although a watched key changed")
    except redis.WatchError:
        pass
assert r.get(key(200)) == b"changed-by-other"
seen = set(r.scan_iter(count=7))
assert len(seen) == r.dbsize(), (len(seen), r.dbsize())
assert r.info("stats")["total_commands_processed"] > 0
print("redis-py %s: ok" % redis.__version__)
