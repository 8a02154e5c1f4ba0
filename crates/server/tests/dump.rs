//! DUMP and RESTORE over the network: the replies a fresh redis-server
//! 7.0.15 gave for the same requests (`fixtures/redis-7.0.15-dump.jsonl`:
//! payloads Redis wrote in every encoding it writes, and older ones it
//! still reads, restored and read back; strings dumped byte for byte;
//! every error in Redis's order), keyspace events, WATCH, and what Tandem
//! refuses where Redis, unsanitized, would not.

mod common;

use common::{encode, encode_words, Raw, TestResult};

#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let wrong = common::fixture::replay(&mut c, include_str!("fixtures/redis-7.0.15-dump.jsonl"))?;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

/// A DUMP payload, as `scripts/redis-fixtures/rdb_crc.py` seals one.
fn seal(body: &[u8]) -> Vec<u8> {
    use crc::{Crc, CRC_64_REDIS};
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// A hash payload naming one field twice: Redis 7.0 restores it under
/// its default `sanitize-dump-payload no` (its listpack then holds the
/// field twice); Tandem checks every payload and refuses it.
#[test]
fn a_repeated_hash_field_is_refused() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let payload = seal(b"\x04\x02\x01f\x01v\x01f\x01w");
    c.check(
        &encode(&[b"RESTORE", b"h", b"0", &payload]),
        b"-ERR Bad data format\r\n",
    )?;
    c.check(&encode_words("EXISTS h"), b":0\r\n")?;
    Ok(())
}

/// Redis 7.0.15 sent `new` (with `n` in `notify-keyspace-events`) and
/// `restore` for a RESTORE, `del` alone for a REPLACE whose deadline had
/// passed, and nothing for one that left no key
/// (`scripts/redis-fixtures/`, recorded with PSUBSCRIBE).
#[test]
fn restore_publishes_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEAn")?;
    let payload = seal(b"\x00\x05hello");
    c.check(&encode(&[b"RESTORE", b"k", b"0", &payload]), b"+OK\r\n")?;
    c.check(
        &encode(&[b"RESTORE", b"k", b"0", &payload, b"REPLACE"]),
        b"+OK\r\n",
    )?;
    c.check(
        &encode(&[b"RESTORE", b"k", b"1", &payload, b"REPLACE", b"ABSTTL"]),
        b"+OK\r\n",
    )?;
    c.check(
        &encode(&[b"RESTORE", b"k2", b"1", &payload, b"ABSTTL"]),
        b"+OK\r\n",
    )?;
    s.expect_keyevents(&[
        ("new", "k"),
        ("restore", "k"),
        ("new", "k"),
        ("restore", "k"),
        ("del", "k"),
    ])
}

/// A RESTORE is a write WATCH sees, and a DUMP is not.
#[test]
fn watch_sees_a_restore() -> TestResult {
    let server = common::start_default()?;
    let mut a = Raw::connect(server.addr())?;
    let mut b = Raw::connect(server.addr())?;
    let payload = seal(b"\x00\x01v");
    a.check(&encode_words("SET k old"), b"+OK\r\n")?;
    a.check(&encode_words("WATCH k"), b"+OK\r\n")?;
    b.call(&encode_words("DUMP k"))?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("GET k"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*1\r\n$3\r\nold\r\n")?;
    a.check(&encode_words("WATCH k"), b"+OK\r\n")?;
    b.check(
        &encode(&[b"RESTORE", b"k", b"0", &payload, b"REPLACE"]),
        b"+OK\r\n",
    )?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("GET k"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*-1\r\n")?;
    Ok(())
}

/// Inside MULTI, DUMP and RESTORE run in the transaction's batch.
#[test]
fn dump_and_restore_inside_a_transaction() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("RPUSH l a b c"), b":3\r\n")?;
    let dumped = c.call(&encode_words("DUMP l"))?;
    let payload = bulk_body(&dumped).ok_or("a bulk reply")?;
    c.check(&encode_words("MULTI"), b"+OK\r\n")?;
    c.check(&encode(&[b"RESTORE", b"m", b"0", &payload]), b"+QUEUED\r\n")?;
    c.check(&encode_words("LRANGE m 0 -1"), b"+QUEUED\r\n")?;
    c.check(&encode(&[b"RESTORE", b"m", b"0", &payload]), b"+QUEUED\r\n")?;
    c.check(
        &encode_words("EXEC"),
        b"*3\r\n+OK\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n-BUSYKEY Target key name already exists.\r\n",
    )?;
    Ok(())
}

/// The body of a bulk string reply.
fn bulk_body(reply: &[u8]) -> Option<Vec<u8>> {
    let rest = reply.strip_prefix(b"$")?;
    let eol = rest.iter().position(|&b| b == b'\r')?;
    let len: usize = std::str::from_utf8(rest.get(..eol)?).ok()?.parse().ok()?;
    rest.get(eol + 2..eol + 2 + len).map(<[u8]>::to_vec)
}
