#!/usr/bin/env python3
"""Writes the requests of tests/fixtures/redis-7.0.15-stream-groups.jsonl:
XGROUP, XREADGROUP (without BLOCK), XACK, XPENDING, XCLAIM, XAUTOCLAIM
and XINFO, their errors in Redis's order, and the groups' read counters
and lag through deletions, trims and XSETID. Times (idle, seen-time,
delivery times) are masked by the test that replays it; the requests
whose outcome depends on them use a min-idle of 0 or one no entry can
reach.

Usage: stream_group_cases.py OUT.cases, then record.py PORT OUT.cases
OUT.jsonl (against a fresh redis-server 7.0.15)."""
import json
cases = [["flushall"]]
def c(*a): cases.append([str(x) for x in a])

for i in range(1, 11):
    c("xadd", "s", f"{i}-0", "f", str(i))
# XGROUP.
for args in [("create", "s", "g", "0"), ("create", "s", "g", "0"), ("create", "s", "g2", "$"),
             ("create", "s", "g3", "5-0", "entriesread", "5"), ("create", "s", "g4", "3", "ENTRIESREAD", "-1"),
             ("create", "s", "g5", "0", "entriesread", "-2"), ("create", "s", "g5", "0", "entriesread", "x"),
             ("create", "s", "g5", "bad"), ("create", "s", "g5", "-"), ("create", "s", "g5", "+"),
             ("create", "nokey", "g", "0"), ("create", "nokey", "g", "bad", "mkstream"),
             ("create", "nokey", "g", "$", "mkstream"), ("create", "s", "g5", "0", "bogus"),
             ("create", "s", "g5", "0", "mkstream", "entriesread", "1", "extra"),
             ("setid", "s", "nog", "0"), ("setid", "s", "g2", "-"), ("setid", "s", "g2", "+"),
             ("setid", "s", "g2", "$", "entriesread", "10"), ("setid", "s", "g2", "bad"),
             ("setid", "s", "g2", "0", "mkstream"), ("setid", "nokey2", "g", "0"),
             ("destroy", "s", "nog"), ("destroy", "nokey2", "g"), ("createconsumer", "s", "g", "alice"),
             ("createconsumer", "s", "g", "alice"), ("createconsumer", "s", "nog", "alice"),
             ("delconsumer", "s", "g", "nobody"), ("delconsumer", "s", "nog", "x"),
             ("bogus", "s", "g"), ("bogus",), ("help",), ("help", "x"), ("destroy", "s", "g", "extra"),
             ("create", "s"), ("createconsumer", "s", "g")]:
    c("xgroup", *args)
c("exists", "nokey")
c("type", "nokey")
c("xlen", "nokey")
c("xinfo", "groups", "s")
# XREADGROUP.
for args in [("group", "g", "alice", "count", "3", "streams", "s", ">"),
             ("group", "g", "alice", "streams", "s", "0"),
             ("group", "g", "bob", "count", "2", "streams", "s", ">"),
             ("group", "g", "alice", "count", "1", "streams", "s", "1-0"),
             ("group", "g", "alice", "count", "0", "streams", "s", "0-0"),
             ("group", "g", "bob", "streams", "s", "0"),
             ("group", "g", "carol", "noack", "count", "2", "streams", "s", ">"),
             ("group", "g", "carol", "streams", "s", "0"),
             ("group", "nog", "x", "streams", "s", ">"), ("group", "g", "x", "streams", "nokey3", ">"),
             ("group", "g", "x", "streams", "s", "$"), ("group", "g", "x", "streams", "s", "bad"),
             ("streams", "s", ">"), ("group", "g", "streams", "s", ">"), ("group", "g", "x", "streams", "s"),
             ("group", "g2", "dave", "streams", "s", ">"), ("group", "g3", "dave", "streams", "s", ">"),
             ("group", "g4", "erin", "count", "1", "streams", "s", ">"),
             ("group", "g", "frank", "streams", "s", "18446744073709551615-18446744073709551615"),
             ("group", "g", "alice", "streams", "s", "s", ">", "0"),
             ("group", "g", "alice", "block", "x", "streams", "s", ">"),
             ("group", "g", "alice", "count", "-1", "streams", "s", "0")]:
    c("xreadgroup", *args)
c("xpending", "s", "g")
c("xpending", "s", "g", "-", "+", "100")
c("xpending", "s", "g", "-", "+", "100", "alice")
c("xpending", "s", "g", "-", "+", "100", "nobody")
c("xpending", "s", "g", "(1-0", "(7-0", "2")
c("xpending", "s", "g", "idle", "100000000", "-", "+", "10")
c("xpending", "s", "g", "idle", "0", "-", "+", "10", "bob")
for args in [("s", "g", "-"), ("s", "g", "-", "+"), ("s", "g", "-", "+", "x"), ("s", "g", "bad", "+", "1"),
             ("s", "g", "-", "bad", "1"), ("s", "g", "idle", "x", "-", "+", "1"), ("s", "g", "idle", "1", "-", "+"),
             ("s", "nog"), ("nokey4", "g"), ("s", "g", "-", "+", "-5"), ("s", "g", "(+", "+", "1"),
             ("s", "g", "-", "+", "1", "alice", "extra"), ("s", "g", "-", "(0-0", "1")]:
    c("xpending", *args)
# XACK.
c("xack", "s", "g", "1-0", "2-0", "99-0")
c("xack", "s", "g", "1-0")
c("xack", "s", "g", "bad")
c("xack", "s", "nog", "bad")
c("xack", "nokey5", "g", "bad")
c("xpending", "s", "g")
# XCLAIM.
for args in [("s", "g", "bob", "0", "3-0"), ("s", "g", "bob", "0", "3-0", "justid"),
             ("s", "g", "bob", "100000000", "4-0"), ("s", "g", "carol", "0", "4-0", "5-0", "retrycount", "7"),
             ("s", "g", "carol", "0", "9-0", "force", "justid"), ("s", "g", "carol", "0", "10-0", "force"),
             ("s", "g", "carol", "0", "99-0", "force"), ("s", "g", "carol", "0", "6-0", "lastid", "20-0"),
             ("s", "g", "carol", "0", "6-0", "time", "0"), ("s", "g", "carol", "0", "6-0", "idle", "-5"),
             ("s", "g", "carol", "x", "6-0"), ("s", "g", "carol", "0", "6-0", "idle", "x"),
             ("s", "g", "carol", "0", "6-0", "time", "x"), ("s", "g", "carol", "0", "6-0", "retrycount", "x"),
             ("s", "g", "carol", "0", "6-0", "lastid", "bad"), ("s", "g", "carol", "0", "6-0", "bogus"),
             ("s", "g", "carol", "0", "bad"), ("s", "nog", "carol", "0", "6-0"), ("nokey6", "g", "c", "0", "1-0"),
             ("s", "g", "newbie", "0", "7-0", "8-0"), ("s", "g", "carol", "-1", "7-0", "justid", "retrycount", "-3")]:
    c("xclaim", *args)
c("xinfo", "groups", "s")
c("xpending", "s", "g", "-", "+", "100")
# Entries deleted while pending.
c("xdel", "s", "3-0", "4-0")
c("xreadgroup", "group", "g", "bob", "streams", "s", "0")
c("xclaim", "s", "g", "alice", "0", "3-0")
c("xpending", "s", "g")
# XAUTOCLAIM.
for args in [("s", "g", "zed", "0", "0", "count", "2"), ("s", "g", "zed", "0", "0", "count", "2", "justid"),
             ("s", "g", "zed", "0", "(5-0", "count", "1"), ("s", "g", "zed", "100000000", "0"),
             ("s", "g", "zed", "0", "0"), ("s", "g", "zed", "x", "0"), ("s", "g", "zed", "0", "bad"),
             ("s", "g", "zed", "0", "0", "count", "0"), ("s", "g", "zed", "0", "0", "count", "x"),
             ("s", "g", "zed", "0", "0", "bogus"), ("s", "nog", "zed", "0", "0"), ("nokey7", "g", "z", "0", "0"),
             ("s", "g", "zed", "0", "(18446744073709551615-18446744073709551615")]:
    c("xautoclaim", *args)
c("xdel", "s", "5-0", "6-0")
c("xautoclaim", "s", "g", "zed", "0", "0", "count", "3")
c("xautoclaim", "s", "g", "zed", "0", "0", "count", "1")
c("xpending", "s", "g")
# XGROUP DELCONSUMER, DESTROY.
c("xgroup", "delconsumer", "s", "g", "zed")
c("xgroup", "delconsumer", "s", "g", "zed")
c("xpending", "s", "g")
c("xinfo", "consumers", "s", "g")
# XINFO.
for args in [("stream", "s"), ("stream", "s", "full"), ("stream", "s", "full", "count", "2"),
             ("stream", "s", "full", "count", "0"), ("stream", "s", "full", "count", "-1"),
             ("stream", "s", "full", "count", "x"), ("stream", "s", "bogus"), ("stream", "s", "full", "bogus", "1"),
             ("stream", "nokey8"), ("groups", "nokey8"), ("consumers", "s", "nog"), ("consumers", "s"),
             ("groups", "s", "extra"), ("bogus", "s"), ("help",), ("help", "x"), ("stream",), ("stream", "nokey", "full"),
             ("stream", "nokey"), ("groups", "nokey")]:
    c("xinfo", *args)
# Read counters and lag: deletions ahead, trims, XSETID, additions.
c("del", "lag")
for i in range(1, 6):
    c("xadd", "lag", f"{i}-0", "f", "v")
c("xgroup", "create", "lag", "a", "0")
c("xgroup", "create", "lag", "b", "3-0")
c("xgroup", "create", "lag", "c", "$")
c("xgroup", "create", "lag", "d", "2-0", "entriesread", "2")
c("xinfo", "groups", "lag")
c("xreadgroup", "group", "a", "x", "count", "2", "streams", "lag", ">")
c("xinfo", "groups", "lag")
c("xdel", "lag", "4-0")
c("xinfo", "groups", "lag")
c("xreadgroup", "group", "a", "x", "count", "1", "streams", "lag", ">")
c("xinfo", "groups", "lag")
c("xreadgroup", "group", "b", "x", "streams", "lag", ">")
c("xinfo", "groups", "lag")
c("xadd", "lag", "6-0", "f", "v")
c("xinfo", "groups", "lag")
c("xtrim", "lag", "maxlen", "1")
c("xinfo", "groups", "lag")
c("xinfo", "stream", "lag")
c("xsetid", "lag", "10-0", "entriesadded", "20", "maxdeletedid", "9-0")
c("xinfo", "groups", "lag")
c("xinfo", "stream", "lag")
c("xgroup", "setid", "lag", "a", "$")
c("xinfo", "groups", "lag")
c("xgroup", "destroy", "lag", "a")
c("xgroup", "destroy", "lag", "a")
c("xinfo", "stream", "lag")
# An empty stream made by MKSTREAM, then read.
c("xgroup", "create", "mk", "g", "$", "mkstream")
c("xinfo", "stream", "mk")
c("xreadgroup", "group", "g", "c", "streams", "mk", ">")
c("xadd", "mk", "1-0", "f", "v")
c("xreadgroup", "group", "g", "c", "streams", "mk", ">")
c("xinfo", "stream", "mk", "full")
# Radix tree shape after splits and deletions.
c("config", "set", "stream-node-max-entries", "2")
for i in range(1, 40):
    c("xadd", "rt", f"{i * 997}-{i % 4}", "f", "v")
c("xinfo", "stream", "rt")
c("xtrim", "rt", "minid", "~", "9000")
c("xinfo", "stream", "rt")
c("xdel", "rt", "19940-0", "20937-1")
c("xinfo", "stream", "rt")
for i in range(40, 300):
    c("xadd", "rt", f"{i * 99991}-{i % 7}", "f", "v")
c("xinfo", "stream", "rt")
c("config", "set", "stream-node-max-entries", "100")
# RESP3.
c("hello", "3")
c("xinfo", "stream", "s")
c("xinfo", "groups", "s")
c("xinfo", "consumers", "s", "g")
c("xreadgroup", "group", "g", "alice", "streams", "s", "0")
c("xpending", "s", "g")
c("xautoclaim", "s", "g", "alice", "0", "0")
c("xinfo", "stream", "s", "full")
c("hello", "2")
# Wrong types, and a key replaced.
c("set", "str", "v")
for cmd in [("xgroup", "create", "str", "g", "0"), ("xgroup", "create", "str", "g", "0", "mkstream"),
            ("xreadgroup", "group", "g", "c", "streams", "str", ">"), ("xack", "str", "g", "1-0"),
            ("xpending", "str", "g"), ("xclaim", "str", "g", "c", "0", "1-0"), ("xautoclaim", "str", "g", "c", "0", "0"),
            ("xinfo", "stream", "str"), ("xinfo", "groups", "str"), ("xinfo", "consumers", "str", "g")]:
    c(*cmd)
c("command", "info", "xreadgroup", "xack", "xclaim", "xautoclaim", "xpending", "xgroup", "xinfo")
c("command", "getkeys", "xreadgroup", "group", "g", "c", "streams", "a", "b", ">", ">")
c("command", "getkeys", "xgroup", "create", "k", "g", "$")
c("command", "getkeys", "xinfo", "stream", "k")
for case in cases:
    print(json.dumps(case))
