#!/usr/bin/env python3
"""Writes the requests of tests/fixtures/redis-7.0.15-geo-search.jsonl:
GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH and GEOSEARCHSTORE over
points spread across the globe, clustered, near the poles and across the
antimeridian, with every option and the errors in Redis's order.

Usage: geo_search_cases.py OUT.cases, then record.py PORT OUT.cases OUT.jsonl
(against a fresh redis-server 7.0.15)."""
import json, random, sys
cases = [["flushall"]]
def c(*a): cases.append([str(x) for x in a])
rnd = random.Random(1807)
pts = []
for i in range(150):
    pts.append((rnd.uniform(-180, 180), rnd.uniform(-85.05, 85.05)))
# Clusters: around Rome, around the antimeridian, near each pole.
for (cx, cy, spread, n) in [(12.5, 41.9, 0.5, 60), (179.9, 10, 0.3, 30), (-179.9, 10, 0.3, 30),
                            (0, 84.9, 0.5, 20), (30, -84.9, 0.5, 20), (0, 0, 0.01, 20)]:
    for _ in range(n):
        pts.append((max(-180, min(180, cx + rnd.uniform(-spread, spread))),
                    max(-85.05, min(85.05, cy + rnd.uniform(-spread, spread)))))
args = []
for i, (x, y) in enumerate(pts):
    args += [repr(x), repr(y), f"m{i}"]
c("geoadd", "pts", *args)
c("geoadd", "small", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
searches = [
    ("georadius", "pts", "12.5", "41.9", "30", "km"),
    ("georadius", "pts", "12.5", "41.9", "100", "km", "asc"),
    ("georadius", "pts", "12.5", "41.9", "100", "km", "desc", "withdist", "withcoord", "withhash"),
    ("georadius", "pts", "12.5", "41.9", "100", "km", "count", "5"),
    ("georadius", "pts", "12.5", "41.9", "100", "km", "count", "5", "desc", "withdist"),
    ("georadius", "pts", "12.5", "41.9", "100", "km", "count", "7", "any"),
    ("georadius", "pts", "12.5", "41.9", "100", "km", "count", "7", "any", "asc", "withdist"),
    ("georadius", "pts", "12.5", "41.9", "5000", "km", "withdist"),
    ("georadius", "pts", "0", "0", "20000", "km", "count", "3"),
    ("georadius", "pts", "180", "10", "50", "km", "asc", "withdist"),
    ("georadius", "pts", "-180", "10", "50", "km", "asc", "withdist"),
    ("georadius", "pts", "0", "85", "100", "km", "asc", "withdist"),
    ("georadius", "pts", "30", "-85", "200", "mi", "asc", "withdist"),
    ("georadius", "pts", "0", "0", "2", "km", "withcoord"),
    ("georadius", "pts", "0", "0", "0", "m"),
    ("georadius", "small", "15", "37", "200", "km", "withdist", "asc"),
    ("georadius", "small", "15", "37", "200", "ft", "withdist", "asc"),
    ("georadius_ro", "pts", "12.5", "41.9", "60", "km", "withdist", "asc"),
    ("georadiusbymember", "pts", "m150", "40", "km", "asc", "withdist"),
    ("georadiusbymember", "small", "Palermo", "200", "km", "withdist", "withcoord", "asc"),
    ("georadiusbymember_ro", "pts", "m0", "3000", "km", "count", "4"),
    ("geosearch", "small", "frommember", "Palermo", "byradius", "200", "km", "asc", "withcoord", "withdist"),
    ("geosearch", "small", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "asc", "withcoord", "withdist"),
    ("geosearch", "pts", "fromlonlat", "12.5", "41.9", "bybox", "80", "40", "km", "asc", "withdist"),
    ("geosearch", "pts", "fromlonlat", "12.5", "41.9", "bybox", "80", "40", "km", "count", "3", "desc", "withhash"),
    ("geosearch", "pts", "frommember", "m160", "byradius", "20", "km", "withdist", "asc"),
    ("geosearch", "pts", "fromlonlat", "179.95", "10", "bybox", "100", "100", "km", "asc", "withdist"),
    ("geosearch", "pts", "fromlonlat", "0", "84.9", "bybox", "300", "200", "km", "asc"),
    ("geosearch", "pts", "fromlonlat", "30", "-84.9", "byradius", "30", "km", "asc"),
    ("geosearch", "pts", "fromlonlat", "0", "0", "bybox", "2", "2", "km", "asc", "withdist"),
    ("geosearch", "pts", "fromlonlat", "0", "0", "bybox", "20000", "20000", "km", "count", "5", "asc"),
]
for s in searches:
    c(*s)
# Stores.
c("georadius", "pts", "12.5", "41.9", "30", "km", "store", "dst1")
c("zrange", "dst1", 0, -1, "withscores")
c("georadius", "pts", "12.5", "41.9", "30", "km", "storedist", "dst2")
c("zrange", "dst2", 0, -1, "withscores")
c("georadiusbymember", "small", "Palermo", "200", "km", "count", "2", "storedist", "dst3")
c("zrange", "dst3", 0, -1, "withscores")
c("geosearchstore", "dst4", "pts", "fromlonlat", "12.5", "41.9", "bybox", "50", "50", "km", "asc", "count", "5")
c("zrange", "dst4", 0, -1, "withscores")
c("geosearchstore", "dst5", "pts", "fromlonlat", "12.5", "41.9", "bybox", "50", "50", "km", "storedist")
c("zrange", "dst5", 0, -1, "withscores")
c("set", "dst6", "x")
c("expire", "dst6", "100")
c("geosearchstore", "dst6", "small", "fromlonlat", "15", "37", "byradius", "300", "km")
c("type", "dst6")
c("ttl", "dst6")
c("geosearchstore", "dst6", "small", "fromlonlat", "0", "0", "byradius", "1", "km")
c("exists", "dst6")
c("geosearchstore", "dst7", "nokey", "fromlonlat", "0", "0", "byradius", "1", "km")
c("georadius", "nokey", "0", "0", "1", "km", "store", "dst1")
c("exists", "dst1")
c("georadius", "nokey", "0", "0", "1", "km")
c("georadiusbymember", "nokey", "x", "1", "km")
c("georadiusbymember", "nokey", "x", "bad", "km")
c("geosearch", "nokey", "frommember", "x", "byradius", "1", "km")
# Errors, in Redis's order.
c("set", "str", "x")
c("georadius", "str", "0", "0", "1", "km")
c("georadius", "str", "500", "0", "1", "km")
c("georadius", "pts", "500", "0", "1", "km")
c("georadius", "pts", "0", "0", "x", "km")
c("georadius", "pts", "0", "0", "-1", "km")
c("georadius", "pts", "0", "0", "1", "yd")
c("georadius", "pts", "0", "0", "1", "km", "bogus")
c("georadius", "pts", "0", "0", "1", "km", "count")
c("georadius", "pts", "0", "0", "1", "km", "count", "0")
c("georadius", "pts", "0", "0", "1", "km", "count", "x")
c("georadius", "pts", "0", "0", "1", "km", "any")
c("georadius", "pts", "0", "0", "1", "km", "store", "d", "withdist")
c("georadius", "pts", "0", "0", "1", "km", "store")
c("georadius_ro", "pts", "0", "0", "1", "km", "store", "d")
c("georadiusbymember", "pts", "nomember", "1", "km")
c("georadiusbymember", "pts", "m0", "1", "parsecs")
c("geosearch", "pts", "byradius", "1", "km")
c("geosearch", "pts", "fromlonlat", "0", "0")
c("GeoSearch", "pts", "fromlonlat", "0", "0", "count", "1")
c("geosearch", "pts", "fromlonlat", "0", "0", "frommember", "m0", "byradius", "1", "km")
c("geosearch", "pts", "frommember", "m0", "fromlonlat", "0", "0", "byradius", "1", "km")
c("geosearch", "pts", "fromlonlat", "0", "0", "byradius", "1", "km", "bybox", "1", "1", "km")
c("geosearch", "pts", "fromlonlat", "0", "0", "bybox", "x", "1", "km")
c("geosearch", "pts", "fromlonlat", "0", "0", "bybox", "1", "x", "km")
c("geosearch", "pts", "fromlonlat", "0", "0", "bybox", "-1", "1", "km")
c("geosearch", "pts", "fromlonlat", "0", "0", "bybox", "1", "1", "yd")
c("geosearch", "pts", "frommember", "nomember", "byradius", "1", "km")
c("geosearch", "pts", "fromlonlat", "0", "0", "byradius", "1", "km", "storedist")
c("geosearch", "pts", "fromlonlat", "0", "0", "byradius", "1", "km", "store", "d")
c("geosearchstore", "d", "pts", "fromlonlat", "0", "0", "byradius", "1", "km", "withdist")
c("geosearchstore", "d", "pts", "fromlonlat", "0", "0", "byradius", "1", "km", "store", "x")
c("geosearch", "str", "fromlonlat", "0", "0", "byradius", "1", "km")
c("geosearchstore", "d", "str", "fromlonlat", "0", "0", "byradius", "1", "km")
# RESP3.
c("hello", "3")
c("georadius", "small", "15", "37", "200", "km", "withdist", "withcoord", "withhash", "asc")
c("geosearch", "small", "fromlonlat", "15", "37", "byradius", "200", "km", "asc")
c("hello", "2")
with open(sys.argv[1], "w") as f:
    for x in cases: f.write(json.dumps(x) + "\n")
print(len(cases), "cases")
