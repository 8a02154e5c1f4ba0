//! Geo commands over the network: GEOADD, GEOPOS, GEODIST and GEOHASH
//! against the replies a fresh redis-server 7.0.15 gave for the same
//! requests (`fixtures/redis-7.0.15-geo.jsonl`, made by
//! `scripts/redis-fixtures/geo_cases.py`): scores, positions, hashes and
//! distances to the last digit over 68 positions at the edges and across
//! the globe, scores only ZADD can store (negative, infinite, past 2^64)
//! decoded as Redis on x86-64 decodes them, RESP2 and RESP3, and the
//! errors in Redis's order.

mod common;

use common::{encode_words, Raw, TestResult};

#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut wrong =
        common::fixture::replay(&mut c, include_str!("fixtures/redis-7.0.15-geo.jsonl"))?;
    // HELLO switches to RESP3 and back; its reply names the server and
    // the client's id, which differ by design.
    wrong.retain(|w| !w.starts_with("[\"hello\""));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

/// The searches: GEORADIUS and GEORADIUSBYMEMBER (and _RO), GEOSEARCH
/// and GEOSEARCHSTORE over 330 points, clustered, near the poles and
/// across the antimeridian, with every option, STORE and STOREDIST read
/// back, and the errors in Redis's order
/// (`fixtures/redis-7.0.15-geo-search.jsonl`, made by
/// `scripts/redis-fixtures/geo_search_cases.py`).
#[test]
fn searches_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut wrong = common::fixture::replay(
        &mut c,
        include_str!("fixtures/redis-7.0.15-geo-search.jsonl"),
    )?;
    wrong.retain(|w| !w.starts_with("[\"hello\""));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

/// GEOADD is ZADD underneath: Redis 7.0.15 sent `zadd` (and `new` for a
/// new key) for it, and nothing for a GEOADD that changed nothing
/// (recorded with PSUBSCRIBE, `notify-keyspace-events KEAn`).
#[test]
fn geoadd_publishes_zadd_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEAn")?;
    for command in [
        "GEOADD g 13.361389 38.115556 Palermo",
        "GEOADD g 13.361389 38.115556 Palermo",
        "GEOADD g XX 15 37 Palermo",
        "SET end 1",
    ] {
        c.call(&encode_words(command))?;
    }
    s.expect_keyevents(&[
        ("new", "g"),
        ("zadd", "g"),
        ("zadd", "g"),
        ("new", "end"),
        ("set", "end"),
    ])
}

/// The stores' events as Redis 7.0.15 sent them (PSUBSCRIBE, KEAn):
/// `new` and the command's own, and `del` when nothing was found.
#[test]
fn geo_stores_publish_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        &encode_words("GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        b":2\r\n",
    )?;
    let (mut c, mut s) = common::keyevents(&server, "KEAn")?;
    for (command, reply) in [
        (
            "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km",
            &b":2\r\n"[..],
        ),
        ("GEORADIUS g 15 37 200 km STORE d", b":2\r\n"),
        ("GEORADIUS g 15 37 200 km STOREDIST e", b":2\r\n"),
        (
            "GEOSEARCHSTORE d nokey FROMLONLAT 15 37 BYRADIUS 200 km",
            b":0\r\n",
        ),
        ("GEORADIUS g 0 0 1 km STORE e", b":0\r\n"),
        ("SET end 1", b"+OK\r\n"),
    ] {
        c.check(&encode_words(command), reply)?;
    }
    s.expect_keyevents(&[
        ("new", "d"),
        ("geosearchstore", "d"),
        ("georadiusstore", "d"),
        ("new", "e"),
        ("georadiusstore", "e"),
        ("del", "d"),
        ("del", "e"),
        ("new", "end"),
        ("set", "end"),
    ])
}

/// A search looks its key up once, as Redis counts it: two hits and a
/// miss for these three (Redis 7.0.15's INFO after the same).
#[test]
fn a_search_counts_one_keyspace_lookup() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        &encode_words("GEOADD g 13.361389 38.115556 Palermo"),
        b":1\r\n",
    )?;
    c.check(&encode_words("CONFIG RESETSTAT"), b"+OK\r\n")?;
    c.call(&encode_words("GEORADIUSBYMEMBER g Palermo 200 km"))?;
    c.call(&encode_words(
        "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 200 km",
    ))?;
    c.call(&encode_words("GEORADIUS nokey 0 0 1 km"))?;
    assert_eq!(common::info_u64(&mut c, "stats", "keyspace_hits")?, 2);
    assert_eq!(common::info_u64(&mut c, "stats", "keyspace_misses")?, 1);
    Ok(())
}

/// A client blocked on GEORADIUS's STORE key is served by the store,
/// though that key is found by its keyword, not its position.
#[test]
fn a_store_serves_a_client_blocked_on_its_key() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut waiting = Raw::connect(server.addr())?;
    c.check(
        &encode_words("GEOADD g 13.361389 38.115556 Palermo"),
        b":1\r\n",
    )?;
    waiting.send(&encode_words("BZPOPMIN dst 10"))?;
    common::eventually("the client blocks", || {
        Ok(common::info_u64(&mut c, "clients", "blocked_clients")? == 1)
    })?;
    c.check(
        &encode_words("GEORADIUS g 13 38 200 km STORE dst"),
        b":1\r\n",
    )?;
    let reply = waiting.reply()?;
    assert!(
        reply.starts_with(b"*3\r\n$3\r\ndst\r\n$7\r\nPalermo\r\n"),
        "{}",
        common::text(&reply)
    );
    Ok(())
}
