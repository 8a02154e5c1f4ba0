//! Bitmap commands and LCS over the network: SETBIT, GETBIT, BITCOUNT,
//! BITPOS, BITOP, BITFIELD, BITFIELD_RO and LCS against the replies a
//! fresh redis-server 7.0.15 gave for the same requests
//! (`fixtures/redis-7.0.15-bits.jsonl`), their keyspace events, WATCH,
//! and bitmaps across a restart.

mod common;

use common::{encode_words, Raw, TestResult};

/// Every request of the fixture, in order on one connection of a fresh
/// server, answers byte for byte as Redis 7.0.15 did: ranges in bytes and
/// bits, negative and out-of-range indexes, every BITFIELD type, offset
/// form and overflow rule, BITOP over missing and shorter keys, LCS with
/// each option, and each command's errors (their order included).
#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let wrong = common::fixture::replay(&mut c, include_str!("fixtures/redis-7.0.15-bits.jsonl"))?;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

/// The events Redis 7.0.15 sent for the same commands: `setbit` only
/// when a bit changed or the string grew (a BITFIELD whose writes all
/// failed sends none), `set` and `del` for BITOP.
#[test]
fn bit_commands_publish_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEA")?;
    for command in [
        "SETBIT b 7 1",
        "SETBIT b 7 1",
        "SETBIT b 7 0",
        "SETBIT b 100 0",
        "BITFIELD b GET u8 0",
        "BITFIELD b SET u8 0 0",
        "BITFIELD b SET u8 0 5",
        "BITFIELD c OVERFLOW FAIL INCRBY u2 0 9",
        "BITFIELD b INCRBY u8 200 0",
        "SET k1 foobar",
        "BITOP NOT d k1",
        "BITOP AND d nokey",
        "BITOP AND d nokey",
        "BITFIELD_RO b GET u8 0",
        "GETBIT b 0",
        "BITCOUNT b",
    ] {
        c.call(&encode_words(command))?;
    }
    c.check(&encode_words("EXISTS c"), b":1\r\n")?;
    s.expect_keyevents(&[
        ("setbit", "b"),
        ("setbit", "b"),
        ("setbit", "b"),
        ("setbit", "b"),
        ("setbit", "b"),
        ("set", "k1"),
        ("set", "d"),
        ("del", "d"),
    ])
}

/// A bit command that changes nothing leaves a watched key clean; one
/// that changes a bit, or only lengthens the string, does not.
#[test]
fn watch_sees_only_real_changes() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    c.check(&encode_words("SETBIT k 3 1"), b":0\r\n")?;
    for (noop, changes) in [
        ("SETBIT k 3 1", "SETBIT k 3 0"),
        ("BITFIELD k SET u4 0 0", "SETBIT k 20 0"),
        (
            "BITFIELD k OVERFLOW FAIL INCRBY u1 0 5",
            "BITFIELD k INCRBY u4 0 1",
        ),
    ] {
        c.check(&encode_words("WATCH k"), b"+OK\r\n")?;
        other.call(&encode_words(noop))?;
        c.check(&encode_words("MULTI"), b"+OK\r\n")?;
        c.check(&encode_words("PING"), b"+QUEUED\r\n")?;
        c.check(&encode_words("EXEC"), b"*1\r\n+PONG\r\n")?;
        c.check(&encode_words("WATCH k"), b"+OK\r\n")?;
        other.call(&encode_words(changes))?;
        c.check(&encode_words("MULTI"), b"+OK\r\n")?;
        c.check(&encode_words("PING"), b"+QUEUED\r\n")?;
        c.check(&encode_words("EXEC"), b"*-1\r\n")?;
    }
    Ok(())
}

/// Bitmaps written bit by bit (in place, for a large one) come back after
/// a restart, from the log and from a snapshot.
#[test]
fn bitmaps_survive_a_snapshot_and_a_restart() -> TestResult {
    let config = common::Config {
        appendonly: true,
        ..common::config()
    };
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    for i in (0..80_000).step_by(997) {
        c.check(&encode_words(&format!("SETBIT big {i} 1")), b":0\r\n")?;
    }
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    c.check(&encode_words("SETBIT big 0 0"), b":1\r\n")?;
    c.check(
        &encode_words("BITFIELD big SET u8 #20000 255"),
        b"*1\r\n:0\r\n",
    )?;
    c.check(&encode_words("SET s1 abc"), b"+OK\r\n")?;
    c.check(&encode_words("BITOP NOT inv s1"), b":3\r\n")?;
    server.stop()?;
    let server = common::start(config)?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("BITCOUNT big"), b":88\r\n")?;
    c.check(&encode_words("GETBIT big 997"), b":1\r\n")?;
    c.check(&encode_words("GETBIT big 0"), b":0\r\n")?;
    c.check(&encode_words("STRLEN big"), b":20001\r\n")?;
    c.check(&encode_words("BITCOUNT inv"), b":14\r\n")?;
    Ok(())
}

/// Offsets are bounded by `proto-max-bulk-len`, a field's end is not: a
/// 64-bit field at the last allowed offset makes the string 8 bytes
/// longer than the bound, as in Redis 7.0.15 (replies recorded there).
#[test]
fn a_field_at_the_last_offset_reaches_past_the_bound() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    for (request, reply) in [
        ("CONFIG SET proto-max-bulk-len 1mb", &b"+OK\r\n"[..]),
        ("BITFIELD bfx SET i64 8388607 -1", b"*1\r\n:0\r\n"),
        ("STRLEN bfx", b":1048584\r\n"),
        ("BITFIELD bfx GET i64 8388607", b"*1\r\n:-1\r\n"),
        (
            "SETBIT bfy 8388608 1",
            b"-ERR bit offset is not an integer or out of range\r\n",
        ),
        ("SETBIT bfy 8388607 1", b":0\r\n"),
        ("STRLEN bfy", b":1048576\r\n"),
    ] {
        c.check(&encode_words(request), reply)?;
    }
    Ok(())
}
