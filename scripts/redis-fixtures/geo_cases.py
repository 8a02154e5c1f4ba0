#!/usr/bin/env python3
"""Writes the requests of tests/fixtures/redis-7.0.15-geo.jsonl: GEOADD,
GEOPOS, GEODIST and GEOHASH, with scores read back by ZSCORE, over
positions spread across the globe and at its edges, in RESP2 and RESP3.

Usage: geo_cases.py OUT.cases, then record.py PORT OUT.cases OUT.jsonl
(against a fresh redis-server 7.0.15)."""
import json, random, sys
cases = [["flushall"]]
def c(*a): cases.append([str(x) for x in a])
c("geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
c("zrange", "Sicily", 0, -1, "withscores")
c("geopos", "Sicily", "Palermo", "Catania", "nowhere")
c("geodist", "Sicily", "Palermo", "Catania")
for unit in ("m", "km", "mi", "ft", "KM", "Mi"):
    c("geodist", "Sicily", "Palermo", "Catania", unit)
c("geodist", "Sicily", "Palermo", "Palermo")
c("geodist", "Sicily", "Palermo", "nowhere")
c("geodist", "nokey", "a", "b")
c("geodist", "Sicily", "Palermo", "Catania", "yards")
c("geodist", "Sicily", "Palermo", "Catania", "km", "extra")
c("geodist", "nokey", "a", "b", "yards")
c("geohash", "Sicily", "Palermo", "Catania", "nowhere")
c("geohash", "nokey", "a")
c("geopos", "nokey", "a", "b")
c("geopos", "Sicily")
c("geohash", "Sicily")
# NX, XX, CH.
c("geoadd", "Sicily", "nx", "13.5", "38.5", "Palermo", "14", "37", "Agrigento")
c("geoadd", "Sicily", "xx", "ch", "13.5", "38.5", "Palermo", "14", "37", "Nowhere")
c("geoadd", "Sicily", "ch", "13.5", "38.5", "Palermo")
c("geoadd", "Sicily", "13.5", "38.5", "Palermo")
c("geoadd", "Sicily", "ch", "xx", "nx", "1", "1", "x")
c("zrange", "Sicily", 0, -1, "withscores")
# Errors, in Redis's order.
c("geoadd", "Sicily", "1", "2")
c("geoadd", "Sicily", "1", "2", "a", "3")
c("geoadd", "Sicily", "nx", "xx", "ch")
c("geoadd", "Sicily", "ch", "ch", "ch")
c("geoadd", "Sicily", "gt", "1", "2", "a")
c("geoadd", "Sicily", "nx", "xx", "abc", "1", "a")
c("geoadd", "Sicily", "abc", "1", "a")
c("geoadd", "Sicily", "1", "nan", "a")
c("geoadd", "Sicily", "181", "1", "a")
c("geoadd", "Sicily", "1", "85.06", "a")
c("geoadd", "Sicily", "-180.5", "-90", "a")
c("geoadd", "Sicily", "inf", "1", "a")
c("geoadd", "Sicily", "1", "1", "ok", "200", "1", "bad")
c("zscore", "Sicily", "ok")
c("set", "str", "x")
c("geoadd", "str", "1", "1", "a")
c("geoadd", "str", "500", "1", "a")
c("geopos", "str", "a")
c("geodist", "str", "a", "b")
c("geodist", "str", "a", "b", "yards")
c("geohash", "str", "a")
c("geoadd")
c("geopos")
c("geodist", "k", "a")
c("geohash")
# Edges and spread.
edges = [(-180, -85.05112878), (180, 85.05112878), (0, 0), (-180, 85.05112878),
         (180, -85.05112878), (-0.0, -0.0), (179.9999999, 0.0000001), (1e-10, -1e-10)]
rnd = random.Random(18)
points = edges + [(rnd.uniform(-180, 180), rnd.uniform(-85.05112878, 85.05112878)) for _ in range(60)]
args = []
for i, (x, y) in enumerate(points):
    args += [repr(x), repr(y), f"p{i}"]
c("geoadd", "world", *args)
names = [f"p{i}" for i in range(len(points))]
c("zrange", "world", 0, -1, "withscores")
c("geopos", "world", *names)
c("geohash", "world", *names)
for i in range(0, len(names) - 1):
    c("geodist", "world", names[i], names[i + 1], ["m", "km", "mi", "ft"][i % 4])
c("geodist", "world", "p0", "p1")
c("geodist", "world", "p0", "p3")
# Scores GEOADD never writes, decoded as Redis decodes them.
c("zadd", "odd", "0", "zero", "1.5", "frac", "4503599627370495", "max52", "4503599627370496", "over52", "1e17", "big")
c("zadd", "odd", "-1", "neg", "-1e300", "vneg", "1e20", "huge", "inf", "pinf", "-inf", "ninf", "-4503599627370496", "neg52")
c("geopos", "odd", "zero", "frac", "max52", "over52", "big", "neg", "vneg", "huge", "pinf", "ninf", "neg52")
c("geohash", "odd", "zero", "frac", "max52", "over52", "big", "neg", "vneg", "huge", "pinf", "ninf", "neg52")
c("geodist", "odd", "neg", "pinf", "km")
c("geodist", "odd", "zero", "max52")
# RESP3: positions as doubles, missing ones as nulls.
c("hello", "3")
c("geopos", "Sicily", "Palermo", "nowhere")
c("geopos", "world", "p0", "p1", "p2")
c("geodist", "Sicily", "Palermo", "nowhere")
c("geohash", "Sicily", "nowhere", "Catania")
c("hello", "2")
with open(sys.argv[1], "w") as f:
    for x in cases: f.write(json.dumps(x) + "\n")
print(len(cases), "cases")
