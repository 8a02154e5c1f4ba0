//! HyperLogLog over the network: PFADD, PFCOUNT, PFMERGE and PFDEBUG
//! against the replies a fresh redis-server 7.0.15 gave for the same
//! requests (`fixtures/redis-7.0.15-hll.jsonl`, made by
//! `scripts/redis-fixtures/hll_cases.py`), each value read back with GET
//! so that its bytes are Redis's after every change; keyspace events,
//! WATCH and the cached cardinality, and PFDEBUG's switch.

mod common;

use common::{encode_words, Raw, TestResult};

/// Sparse and dense values byte for byte, promotion past
/// `hll-sparse-max-bytes`, merges, PFDEBUG's subcommands, the cached
/// cardinality in the header, and every error in Redis's words.
#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_with_debug()?;
    let mut c = Raw::connect(server.addr())?;
    let wrong = common::fixture::replay(&mut c, include_str!("fixtures/redis-7.0.15-hll.jsonl"))?;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

/// The events Redis 7.0.15 sent: `pfadd` for a PFADD that changed a
/// register or made the key, and for every PFMERGE; none for PFCOUNT.
#[test]
fn hll_commands_publish_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEA")?;
    for command in [
        "PFADD h a",
        "PFADD h a",
        "PFADD h",
        "PFCOUNT h",
        "PFMERGE m h",
        "PFMERGE m",
        "PFADD n",
        "SET end 1",
    ] {
        c.call(&encode_words(command))?;
    }
    s.expect_keyevents(&[
        ("pfadd", "h"),
        ("pfadd", "m"),
        ("pfadd", "m"),
        ("pfadd", "n"),
        ("set", "end"),
    ])
}

/// PFCOUNT that computes the cardinality caches it in the value, which
/// WATCH sees, as in Redis; one that reads the cache changes nothing.
#[test]
fn watch_sees_pfcount_caching_and_not_a_cached_read() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    c.check(&encode_words("PFADD h a b c"), b":1\r\n")?;
    for (count, outcome) in [
        ("PFCOUNT h", &b"*-1\r\n"[..]),
        ("PFCOUNT h", b"*1\r\n+PONG\r\n"),
    ] {
        c.check(&encode_words("WATCH h"), b"+OK\r\n")?;
        other.check(&encode_words(count), b":3\r\n")?;
        c.check(&encode_words("MULTI"), b"+OK\r\n")?;
        c.check(&encode_words("PING"), b"+QUEUED\r\n")?;
        c.check(&encode_words("EXEC"), outcome)?;
    }
    Ok(())
}

/// PFDEBUG and PFSELFTEST are refused unless `enable-debug-command`
/// allows them (issue 18); allowed, the self-test passes.
#[test]
fn pfdebug_and_pfselftest_need_the_debug_switch() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("PFADD h a"), b":1\r\n")?;
    for (command, name) in [
        ("PFDEBUG ENCODING h", "PFDEBUG"),
        ("PFSELFTEST", "PFSELFTEST"),
    ] {
        let refused = format!(
            "-ERR {name} command not allowed. If the enable-debug-command option is set to \"local\", \
             you can run it from a local connection, otherwise you need to set this option in the \
             configuration file, and then restart the server.\r\n"
        );
        c.check(&encode_words(command), refused.as_bytes())?;
    }
    let server = common::start_with_debug()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("PFSELFTEST"), b"+OK\r\n")?;
    Ok(())
}

/// A HyperLogLog survives a restart, from the log and from a snapshot,
/// byte for byte.
#[test]
fn hyperloglogs_survive_a_restart() -> TestResult {
    let config = common::Config {
        appendonly: true,
        ..common::config()
    };
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("PFADD sparse a b c"), b":1\r\n")?;
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    let words: Vec<String> = (0..3000).map(|i| format!("e{i}")).collect();
    c.check(
        &encode_words(&format!("PFADD dense {}", words.join(" "))),
        b":1\r\n",
    )?;
    c.check(&encode_words("PFCOUNT sparse"), b":3\r\n")?;
    let before = (
        c.call(&encode_words("GET sparse"))?,
        c.call(&encode_words("GET dense"))?,
    );
    server.stop()?;
    let server = common::start(config)?;
    let mut c = Raw::connect(server.addr())?;
    let after = (
        c.call(&encode_words("GET sparse"))?,
        c.call(&encode_words("GET dense"))?,
    );
    assert_eq!(after, before);
    Ok(())
}
