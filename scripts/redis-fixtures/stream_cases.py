#!/usr/bin/env python3
"""Writes the requests of tests/fixtures/redis-7.0.15-streams.jsonl: XADD,
XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID and XREAD (without BLOCK),
their errors in Redis's order, and where Redis's nodes end: streams built
under small `stream-node-max-bytes` and `-entries`, then trimmed with
MINID ~ at every ID in turn, which removes exactly the whole nodes below
it, so each XRANGE ... COUNT 1 after shows where the next node begins.
IDs are given explicitly (or as ms-*): `*` reads the clock.

Usage: stream_cases.py OUT.cases, then record.py PORT OUT.cases OUT.jsonl
(against a fresh redis-server 7.0.15)."""
import json, sys
cases = [["flushall"]]
def c(*a): cases.append([str(x) for x in a])

# IDs and their forms.
c("xadd", "s", "1-1", "a", "1")
c("xadd", "s", "1-1", "a", "1")
c("xadd", "s", "1-0", "a", "1")
c("xadd", "s", "1-*", "b", "2")
c("xadd", "s", "2", "c", "3")
c("xadd", "s", "2-*", "c", "3", "d", "4")
c("xadd", "s", "01-5", "x", "y")
c("xadd", "s", "+5-0", "x", "y")
c("xadd", "s", "3-", "x", "y")
c("xadd", "s", "-", "x", "y")
c("xadd", "s", "+", "x", "y")
c("xadd", "s", "3-x", "x", "y")
c("xadd", "s", "x", "x", "y")
c("xadd", "s", "18446744073709551616-0", "x", "y")
c("xadd", "s", "0-0", "x", "y")
c("xadd", "new", "0-0", "x", "y")
c("exists", "new")
c("xadd", "new", "0-*", "x", "y")
c("xadd", "new2", "0-1", "x", "y")
c("xadd", "s", "3-0", "odd")
c("xadd", "s", "3-0", "a", "b", "c")
c("xadd", "s", "3-0")
c("xadd", "s", "*")
c("xadd", "s", "nomkstream", "3-0", "a")
c("xadd", "absent", "nomkstream", "3-0", "a", "b")
c("exists", "absent")
c("xadd", "absent", "NOMKSTREAM", "*", "a", "b")
c("xadd", "s", "nomkstream", "3-0", "a", "b")
c("xrange", "s", "-", "+")
c("xlen", "s")
c("xlen", "absent")
c("type", "s")
c("object", "encoding", "s")
# The last possible ID.
c("xadd", "top", "18446744073709551615-18446744073709551615", "f", "v")
c("xadd", "top", "*", "f", "v")
c("xadd", "top", "18446744073709551615-*", "f", "v")
c("xadd", "top2", "5-18446744073709551615", "f", "v")
c("xadd", "top2", "5-*", "f", "v")
c("xadd", "top2", "6-*", "f", "v")
c("xrange", "top2", "-", "+")
# Fields: same as the first entry's, other order, others, many, empty.
for i, pairs in enumerate([["a", "1", "b", "2"], ["b", "2", "a", "1"], ["a", "x"], ["a", "1", "b", "2"],
                           ["", ""], ["a", "1", "b", "2", "c", "3"], ["k"*70, "v"*300], ["n", "-12345678901"]]):
    c("xadd", "f", f"{i+1}-0", *pairs)
c("xrange", "f", "-", "+")
c("xrevrange", "f", "+", "-")
# Ranges: exclusive bounds, partial IDs, counts, reversed bounds.
for args in [("-", "+"), ("2", "5"), ("2-0", "5-0"), ("(2", "5"), ("2", "(5"), ("(2-0", "(5-0"),
             ("(0-0", "+"), ("-", "(18446744073709551615-18446744073709551615"), ("5", "2"),
             ("(-", "+"), ("-", "(+"), ("(", "+"), ("(18446744073709551615-18446744073709551615", "+"),
             ("-", "(0-0"), ("3", "3"), ("3-0", "3-0"), ("abc", "+"), ("-", "+", "count", "3"),
             ("-", "+", "COUNT", "0"), ("-", "+", "count", "-5"), ("-", "+", "count", "2", "count", "4"),
             ("-", "+", "count"), ("-", "+", "count", "x"), ("-", "+", "limit", "2"),
             ("-", "+", "count", "1.5")]:
    c("xrange", "f", *args)
    c("xrevrange", "f", *reversed(args[:2]), *args[2:])
c("xrange", "absent", "-", "+")
c("xrange", "absent", "-", "+", "count", "0")
c("xrevrange", "absent", "+", "-")
# XDEL: counts, missing IDs, bad IDs after a missing key, the first.
c("xdel", "f", "2-0", "2-0", "9-9")
c("xdel", "f", "1")
c("xdel", "f", "bad")
c("xdel", "f", "3-0", "bad")
c("xdel", "absent", "bad")
c("xdel", "f", "-")
c("xrange", "f", "-", "+")
c("xlen", "f")
# XTRIM and XADD's trims.
for i in range(1, 31):
    c("xadd", "t", f"{i}-0", "f", str(i))
for args in [("maxlen", "25"), ("MAXLEN", "=", "20"), ("maxlen", "~", "5"), ("minid", "12"),
             ("minid", "=", "14-0"), ("minid", "~", "20"), ("maxlen", "-1"), ("maxlen", "x"),
             ("minid", "bad"), ("maxlen", "~", "1", "limit", "3"), ("maxlen", "1", "limit", "3"),
             ("maxlen", "1", "limit", "-1"), ("limit", "3"), ("maxlen", "1", "minid", "1"),
             ("nomkstream",), ("*",), ("maxlen",), ("maxlen", "~"), ("maxlen", "=", "~", "1"),
             ("maxlen", "10", "limit", "0"), ("maxlen", "~", "10", "limit", "0")]:
    c("xtrim", "t", *args)
    c("xlen", "t")
c("xtrim", "absent", "maxlen", "0")
c("xtrim", "absent", "limit", "1")
c("xrange", "t", "-", "+")
c("xadd", "t", "maxlen", "3", "40-0", "f", "v")
c("xadd", "t", "maxlen", "=", "2", "41-0", "f", "v")
c("xadd", "t", "minid", "41", "42-0", "f", "v")
c("xadd", "t", "maxlen", "~", "1", "43-0", "f", "v")
c("xadd", "t", "maxlen", "~", "1", "limit", "1", "44-0", "f", "v")
c("xadd", "t", "maxlen", "1", "limit", "1", "45-0", "f", "v")
c("xadd", "t", "maxlen", "1", "minid", "1", "45-0", "f", "v")
c("xadd", "t", "maxlen", "-1", "45-0", "f", "v")
c("xadd", "t", "limit", "5", "45-0", "f", "v")
c("xadd", "t", "limit", "0", "45-0", "f", "v")
c("xadd", "t", "maxlen", "0", "46-0", "f", "v")
c("xlen", "t")
c("xrange", "t", "-", "+")
c("xadd", "t", "47-0", "f", "v")
c("xrange", "t", "-", "+")
# XSETID.
c("xadd", "x", "5-0", "f", "v")
for args in [("4-0",), ("5-0",), ("10-0", "entriesadded", "0"), ("10-0", "entriesadded", "7"),
             ("10-0", "entriesadded", "-1"), ("10-0", "maxdeletedid", "11-0"), ("10-0", "maxdeletedid", "9-0"),
             ("10-0", "maxdeletedid", "bad"), ("10-0", "entriesadded"), ("10-0", "bogus", "1"),
             ("-",), ("3",), ("12", "ENTRIESADDED", "100", "MAXDELETEDID", "12-0")]:
    c("xsetid", "x", *args)
c("xsetid", "absent", "1-0")
c("xsetid", "absent", "bad")
c("xadd", "x", "11-0", "f", "v")
c("xadd", "x", "12-0", "f", "v")
c("xadd", "x", "12-*", "f", "v")
c("xdel", "x", "5-0", "12-1")
c("xlen", "x")
c("xsetid", "x", "0-0")
c("xsetid", "x", "12-1")
c("xadd", "x", "12-1", "f", "v")
c("xadd", "empty", "1-0", "f", "v")
c("xdel", "empty", "1-0")
c("xlen", "empty")
c("exists", "empty")
c("xrange", "empty", "-", "+")
c("xsetid", "empty", "0-1")
c("xadd", "empty", "0-5", "f", "v")
c("xadd", "empty", "1-0", "f", "v")
# XREAD without BLOCK.
c("xadd", "r1", "1-0", "a", "1")
c("xadd", "r1", "2-0", "a", "2")
c("xadd", "r2", "5-0", "b", "1")
for args in [("streams", "r1", "0"), ("streams", "r1", "r2", "0", "0"), ("count", "1", "streams", "r1", "r2", "0", "1"),
             ("streams", "r1", "r2", "$", "$"), ("streams", "r1", "2"), ("streams", "r1", "1-5"),
             ("streams", "absent", "r1", "0", "0"), ("streams", "r1", "absent", "0", "$"),
             ("STREAMS", "r1", "+"), ("streams", "r1", "-"), ("streams", "r1", ">"), ("streams", "r1", "bad"),
             ("streams", "r1"), ("streams", "r1", "r2", "0"), ("count", "-3", "streams", "r1", "0"),
             ("count", "x", "streams", "r1", "0"), ("bogus", "streams", "r1", "0"), ("count", "1"),
             ("group", "g", "c", "streams", "r1", "0"), ("noack", "streams", "r1", "0"),
             ("streams", "r1", "s", "0", "0"), ("streams", "s", "r1", "0", "bad"), ("streams", "r1", "18446744073709551615-18446744073709551615"),
             ("block", "-1", "streams", "r1", "0"), ("block", "x", "streams", "r1", "0"), ("block", "100", "streams", "r1", "0"),
             ("streams", "streams", "streams", "0", "0")]:
    c("xread", *args)
c("hello", "3")
c("xread", "streams", "r1", "r2", "0", "0")
c("xread", "streams", "absent", "0")
c("xrange", "r1", "-", "+")
c("xrange", "r1", "-", "+", "count", "0")
c("hello", "2")
# Wrong types.
c("set", "str", "v")
for cmd in [("xadd", "str", "1-0", "f", "v"), ("xadd", "str", "nomkstream", "1-0", "f", "v"), ("xlen", "str"),
            ("xrange", "str", "-", "+"), ("xrevrange", "str", "+", "-"), ("xdel", "str", "1-0"), ("xdel", "str", "bad"),
            ("xtrim", "str", "maxlen", "1"), ("xsetid", "str", "1-0"), ("xread", "streams", "str", "0"),
            ("xadd", "str", "0-0", "f", "v"), ("xrange", "str", "bad", "+")]:
    c(*cmd)
c("lpush", "s", "x")
c("get", "s")
# Where nodes end: a small byte limit and a small entry limit.
values = ["1", "127", "128", "-4096", "4095", "4096", "32767", "32768", "-8388608", "8388608",
          "2147483647", "2147483648", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
          "", "x", "y"*63, "y"*64, "z"*200, "w"*4095, "01", "+1", " 1", "1.5"]
for limit in [("stream-node-max-bytes", "300"), ("stream-node-max-bytes", "120"), ("stream-node-max-entries", "7")]:
    c("config", "set", *limit)
    key = "nodes-" + limit[1]
    ms = 0
    for i, v in enumerate(values * 2):
        ms += 1 + (i * 37 % 5000 if i % 3 == 0 else 0)
        fields = ["f", v] if i % 4 else ["f", v, "g" + str(i % 2), v]
        c("xadd", key, f"{ms}-{i % 3}", *fields)
    c("xlen", key)
    last = ms
    # Every ID in turn: each MINID ~ removes exactly the nodes below it.
    probe = 0
    for i in range(len(values) * 2):
        probe += 1 + (i * 37 % 5000 if i % 3 == 0 else 0)
        c("xtrim", key, "minid", "~", f"{probe}-{i % 3}")
        c("xrange", key, "-", "+", "count", "1")
    c("config", "set", "stream-node-max-bytes", "4096")
    c("config", "set", "stream-node-max-entries", "100")
# Approximate trims of a stream of default nodes: whole nodes, and LIMIT.
for i in range(1, 351):
    c("xadd", "big", f"{i}-0", "field", str(i))
c("xtrim", "big", "maxlen", "~", "300")
c("xtrim", "big", "maxlen", "~", "120")
c("xlen", "big")
c("xtrim", "big", "maxlen", "~", "0", "limit", "99")
c("xtrim", "big", "maxlen", "~", "0", "limit", "100")
c("xlen", "big")
c("xdel", "big", "301-0", "302-0")
c("xtrim", "big", "minid", "~", "400")
c("xlen", "big")
c("xrange", "big", "-", "+", "count", "2")
c("config", "get", "stream-node-*")
# Keys and flags.
c("command", "info", "xadd", "xread", "xrange", "xsetid", "xtrim")
c("command", "getkeys", "xread", "count", "2", "streams", "a", "b", "0", "0")
c("command", "getkeys", "xread", "streams", "streams", "streams", "0", "0")
c("command", "getkeys", "xadd", "k", "*", "f", "v")
for case in cases:
    print(json.dumps(case))
