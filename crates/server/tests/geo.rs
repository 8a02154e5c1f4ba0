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
