//! Hash commands through a real client library, with their options and
//! error replies: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HEXISTS,
//! HSTRLEN, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD; the
//! string commands' WRONGTYPE on a hash and SET replacing one; the key
//! commands (RENAME, COPY, MOVE, EXPIRE, SCAN TYPE, OBJECT ENCODING) on
//! hashes; keyspace events; and a hash surviving a restart.
//!
//! The tables are (request, reply) run in order on one connection to a
//! fresh server; the replies were recorded from Redis 7.0.15 running the
//! same requests in the same order (see `commands.rs` for the notation).

mod common;

use common::table::{check, connect};
use common::{encode_words, Error, Raw, TestResult};
use redis::Connection;

fn fresh() -> Result<(common::Running, Connection), Error> {
    let server = common::start(common::config())?;
    let con = connect(&server)?;
    Ok((server, con))
}

#[test]
fn hash_commands_answer_as_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
        ("HSET h f1 v1 f2 v2", ":2"),
        ("HSET h f1 new f3 v3", ":1"),
        ("HGET h f1", "\"new\""),
        ("HGET h nofield", "nil"),
        ("HGET nokey f1", "nil"),
        ("HMGET h f1 nofield f3", "[\"new\", nil, \"v3\"]"),
        ("HMGET nokey a b", "[nil, nil]"),
        ("HLEN h", ":3"),
        ("HLEN nokey", ":0"),
        ("HEXISTS h f2", ":1"),
        ("HEXISTS h nofield", ":0"),
        ("HEXISTS nokey f", ":0"),
        ("HSTRLEN h f1", ":3"),
        ("HSTRLEN h nofield", ":0"),
        ("HSTRLEN nokey f", ":0"),
        ("HKEYS h", "[\"f1\", \"f2\", \"f3\"]"),
        ("HVALS h", "[\"new\", \"v2\", \"v3\"]"),
        ("HGETALL h", "[\"f1\", \"new\", \"f2\", \"v2\", \"f3\", \"v3\"]"),
        ("HKEYS nokey", "[]"),
        ("HGETALL nokey", "[]"),
        ("HSETNX h f1 other", ":0"),
        ("HSETNX h f4 v4", ":1"),
        ("HGET h f4", "\"v4\""),
        ("HMSET h f5 v5 f1 again", "+OK"),
        ("HGETALL h", "[\"f1\", \"again\", \"f2\", \"v2\", \"f3\", \"v3\", \"f4\", \"v4\", \"f5\", \"v5\"]"),
        ("HDEL h f1 f1 nofield f2", ":2"),
        ("HDEL nokey f", ":0"),
        ("HGETALL h", "[\"f3\", \"v3\", \"f4\", \"v4\", \"f5\", \"v5\"]"),
        ("TYPE h", "+hash"),
        ("OBJECT ENCODING h", "\"listpack\""),
        ("EXISTS h", ":1"),
        ("HDEL h f3 f4 f5", ":3"),
        ("EXISTS h", ":0"),
        ("TYPE h", "+none"),
        ("HSET h", "-ERR wrong number of arguments for 'hset' command"),
        ("HSET h f", "-ERR wrong number of arguments for 'hset' command"),
        ("HSET h f v g", "-ERR wrong number of arguments for 'hset' command"),
        ("HMSET h f v g", "-ERR wrong number of arguments for 'hmset' command"),
        ("HSETNX h f", "-ERR wrong number of arguments for 'hsetnx' command"),
        ("HGET h", "-ERR wrong number of arguments for 'hget' command"),
        ("HDEL h", "-ERR wrong number of arguments for 'hdel' command"),
        ("HSET e \"\" \"\"", ":1"),
        ("HGET e \"\"", "\"\""),
        ("HSTRLEN e \"\"", ":0"),
        ],
    )
}

#[test]
fn hash_counters_answer_as_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("HINCRBY c n 5", ":5"),
            ("HINCRBY c n -7", ":-2"),
            (
                "HINCRBY c n 1.5",
                "-ERR value is not an integer or out of range",
            ),
            (
                "HINCRBY c n abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "HSET c s hello big 9223372036854775807 neg -9223372036854775808 sp 1x",
                ":4",
            ),
            ("HINCRBY c s 1", "-ERR hash value is not an integer"),
            (
                "HINCRBY c big 1",
                "-ERR increment or decrement would overflow",
            ),
            (
                "HINCRBY c neg -1",
                "-ERR increment or decrement would overflow",
            ),
            ("HINCRBY c big 0", ":9223372036854775807"),
            ("HINCRBY c sp 1", "-ERR hash value is not an integer"),
            ("HINCRBYFLOAT c f 10.5", "\"10.5\""),
            ("HINCRBYFLOAT c f 0.1", "\"10.6\""),
            ("HINCRBYFLOAT c f -5.0e3", "\"-4989.39999999999999991\""),
            ("HINCRBYFLOAT c n 1", "\"-1\""),
            ("HINCRBYFLOAT c s 1", "-ERR hash value is not a float"),
            ("HINCRBYFLOAT c f abc", "-ERR value is not a valid float"),
            ("HINCRBYFLOAT c f inf", "-ERR value is NaN or Infinity"),
            ("HINCRBYFLOAT c s abc", "-ERR value is not a valid float"),
            ("HINCRBY newkey f 3", ":3"),
            ("HINCRBYFLOAT newkey2 f 2.5", "\"2.5\""),
            ("HGETALL newkey2", "[\"f\", \"2.5\"]"),
            (
                "HINCRBY c",
                "-ERR wrong number of arguments for 'hincrby' command",
            ),
            (
                "HINCRBYFLOAT c f",
                "-ERR wrong number of arguments for 'hincrbyfloat' command",
            ),
        ],
    )
}

#[test]
fn every_command_meeting_the_wrong_type_says_so() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("SET s v", "+OK"),
            (
                "HSET s f v",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HGET s f",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HMGET s f",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HLEN s",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HDEL s f",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HGETALL s",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HKEYS s",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HVALS s",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HEXISTS s f",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HSTRLEN s f",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HSETNX s f v",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HINCRBY s f 1",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HINCRBYFLOAT s f 1",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HRANDFIELD s",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "HRANDFIELD s 2",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("HSET h f v", ":1"),
            (
                "GET h",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "APPEND h x",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "STRLEN h",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "GETRANGE h 0 -1",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SETRANGE h 0 x",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "INCR h",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "INCRBYFLOAT h 1",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "GETDEL h",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "GETEX h",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "GETSET h v",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SET h v GET",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("MGET h s nokey", "[nil, \"v\", nil]"),
            ("TYPE h", "+hash"),
            ("SET h v", "+OK"),
            ("TYPE h", "+string"),
            ("GET h", "\"v\""),
            ("HSET h2 f v", ":1"),
            ("SET h2 v2 NX", "nil"),
            ("SET h2 v2 XX", "+OK"),
            ("GET h2", "\"v2\""),
        ],
    )
}

/// Only the replies that do not depend on the random choice: whole
/// hashes (a count past the size), single-field hashes, errors.
#[test]
fn hrandfield_answers_as_redis_where_the_reply_is_not_random() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
        ("HSET r a 1 b 2 c 3", ":3"),
        ("HRANDFIELD r 3", "[\"a\", \"b\", \"c\"]"),
        ("HRANDFIELD r 100 WITHVALUES", "[\"a\", \"1\", \"b\", \"2\", \"c\", \"3\"]"),
        ("HRANDFIELD r 0", "[]"),
        ("HRANDFIELD r 0 WITHVALUES", "[]"),
        ("HRANDFIELD nokey", "nil"),
        ("HRANDFIELD nokey 5", "[]"),
        ("HRANDFIELD nokey -5 WITHVALUES", "[]"),
        ("HRANDFIELD r abc", "-ERR value is not an integer or out of range"),
        ("HRANDFIELD r -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"),
        ("HRANDFIELD r 1 WITHVALUESX", "-ERR syntax error"),
        ("HRANDFIELD r 1 WITHVALUES extra", "-ERR syntax error"),
        ("HRANDFIELD r abc WITHVALUESX", "-ERR value is not an integer or out of range"),
        ("HRANDFIELD r 9223372036854775807 WITHVALUES", "-ERR value is out of range"),
        ("HRANDFIELD r 4611686018427387903 WITHVALUES", "[\"a\", \"1\", \"b\", \"2\", \"c\", \"3\"]"),
        ("HRANDFIELD r -4611686018427387904 WITHVALUES", "-ERR value is out of range"),
        ("HSET one only 1", ":1"),
        ("HRANDFIELD one", "\"only\""),
        ("HRANDFIELD one -3", "[\"only\", \"only\", \"only\"]"),
        ("HRANDFIELD one -2 withvalues", "[\"only\", \"1\", \"only\", \"1\"]"),
        ("HRANDFIELD one 1", "[\"only\"]"),
        ],
    )
}

#[test]
fn key_commands_work_on_hashes() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("HSET h a 1 b 2", ":2"),
            ("EXPIRE h 100", ":1"),
            ("TTL h", ":100"),
            ("RENAME h h2", "+OK"),
            ("HGETALL h2", "[\"a\", \"1\", \"b\", \"2\"]"),
            ("TTL h2", ":100"),
            ("COPY h2 h3", ":1"),
            ("HSET h3 c 3", ":1"),
            ("HGETALL h2", "[\"a\", \"1\", \"b\", \"2\"]"),
            ("HGETALL h3", "[\"a\", \"1\", \"b\", \"2\", \"c\", \"3\"]"),
            ("TYPE h3", "+hash"),
            ("RENAME h3 s", "+OK"),
            ("TYPE s", "+hash"),
            ("SET str v", "+OK"),
            ("COPY h2 str", ":0"),
            ("COPY h2 str REPLACE", ":1"),
            ("TYPE str", "+hash"),
            ("HGETALL str", "[\"a\", \"1\", \"b\", \"2\"]"),
            ("MOVE str 1", ":1"),
            ("SELECT 1", "+OK"),
            ("HGETALL str", "[\"a\", \"1\", \"b\", \"2\"]"),
            ("SELECT 0", "+OK"),
            ("EXISTS h2 str s", ":2"),
            ("DEL h2 s", ":2"),
            ("DBSIZE", ":0"),
            ("HSET sc f v", ":1"),
            ("SET ss v", "+OK"),
            ("SCAN 0 TYPE hash", "[\"0\", [\"sc\"]]"),
            ("SCAN 0 TYPE string", "[\"0\", [\"ss\"]]"),
            ("DEL sc ss", ":2"),
            (
                "HSET big f 0123456789012345678901234567890123456789012345678901234567890123",
                ":1",
            ),
            ("OBJECT ENCODING big", "\"listpack\""),
            (
                "HSET big g 01234567890123456789012345678901234567890123456789012345678901234",
                ":1",
            ),
            ("OBJECT ENCODING big", "\"hashtable\""),
            ("HDEL big g", ":1"),
            ("OBJECT ENCODING big", "\"hashtable\""),
            ("PERSIST big", ":0"),
        ],
    )
}

/// The hash events, in the order Redis 7.0.15 publishes them: none for a
/// command that changed nothing (HSETNX of an existing field, HDEL of
/// absent fields, a failed HINCRBY), `del` after the `hdel` that empties
/// the hash.
#[test]
fn hash_commands_publish_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEA")?;
    for command in [
        "HSET h a 1 b 2",
        "HSET h a 3",
        "HSETNX h a 1",
        "HSETNX h c 1",
        "HINCRBY h n 2",
        "HINCRBYFLOAT h f 1.5",
        "HDEL h zz",
        "HDEL h a b",
        "HDEL h c n f",
        "HSET h2 a 1",
        "HINCRBY h2 a notint",
        "HSET h2 b x",
        "HINCRBY h2 b 1",
        "HMSET h2 b 1",
        "EXPIRE h2 100",
        "RENAME h2 h3",
        "DEL h3",
    ] {
        c.call(&encode_words(command))?;
    }
    // Recorded from Redis 7.0.15 running the commands above.
    let recorded = [
        ("hset", "h"),
        ("hset", "h"),
        ("hset", "h"),
        ("hincrby", "h"),
        ("hincrbyfloat", "h"),
        ("hdel", "h"),
        ("hdel", "h"),
        ("del", "h"),
        ("hset", "h2"),
        ("hset", "h2"),
        ("hset", "h2"),
        ("expire", "h2"),
        ("rename_from", "h2"),
        ("rename_to", "h3"),
        ("del", "h3"),
    ];
    s.expect_keyevents(&recorded)
}

/// RESP3: HGETALL is a map, HRANDFIELD ... WITHVALUES an array of pairs
/// (RESP2 flattens both), as in Redis 7.0.15.
#[test]
fn resp3_replies_have_redis_shapes() -> TestResult {
    let server = common::start(common::config())?;
    let mut c = Raw::connect(server.addr())?;
    c.call(&encode_words("HELLO 3"))?;
    c.check(&encode_words("HSET h a 1"), b":1\r\n")?;
    c.check(&encode_words("HGETALL h"), b"%1\r\n$1\r\na\r\n$1\r\n1\r\n")?;
    c.check(&encode_words("HGETALL nokey"), b"%0\r\n")?;
    c.check(
        &encode_words("HRANDFIELD h -2 WITHVALUES"),
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    )?;
    c.check(&encode_words("HRANDFIELD h 5"), b"*1\r\n$1\r\na\r\n")?;
    c.check(&encode_words("HRANDFIELD nokey"), b"_\r\n")?;
    Ok(())
}

/// HRANDFIELD's random picks: a positive count gives distinct fields of
/// the hash, a negative one that many picks with repeats, WITHVALUES each
/// field with its own value.
#[test]
fn hrandfield_picks_follow_redis_rules() -> TestResult {
    let server = common::start(common::config())?;
    let mut con = connect(&server)?;
    let mut hash = std::collections::HashMap::new();
    for i in 0..300 {
        let (f, v) = (format!("f{i}"), format!("v{i}"));
        redis::cmd("HSET").arg("h").arg(&f).arg(&v).exec(&mut con)?;
        hash.insert(f, v);
    }
    for count in [1usize, 5, 150, 299] {
        let picked: Vec<String> = redis::cmd("HRANDFIELD")
            .arg("h")
            .arg(count)
            .query(&mut con)?;
        let distinct: std::collections::HashSet<_> = picked.iter().collect();
        assert_eq!(picked.len(), count);
        assert_eq!(distinct.len(), count, "a positive count never repeats");
        assert!(picked.iter().all(|f| hash.contains_key(f)));
    }
    let picked: Vec<String> = redis::cmd("HRANDFIELD")
        .arg("h")
        .arg(-1000)
        .query(&mut con)?;
    assert_eq!(picked.len(), 1000);
    let distinct: std::collections::HashSet<_> = picked.iter().collect();
    assert!(
        distinct.len() < 300 + 1 && distinct.len() > 100,
        "repeats, spread over the hash"
    );
    let pairs: Vec<String> = redis::cmd("HRANDFIELD")
        .arg("h")
        .arg(-20)
        .arg("WITHVALUES")
        .query(&mut con)?;
    assert_eq!(pairs.len(), 40);
    for pair in pairs.chunks(2) {
        assert_eq!(hash.get(&pair[0]), Some(&pair[1]));
    }
    Ok(())
}

/// Hashes in a transaction: EXEC applies them atomically, and WATCH sees
/// a change to a hash (and not a command that changed nothing).
#[test]
fn hashes_in_multi_exec_and_watch() -> TestResult {
    let server = common::start(common::config())?;
    let mut a = Raw::connect(server.addr())?;
    let mut b = Raw::connect(server.addr())?;
    a.check(&encode_words("HSET h f 1"), b":1\r\n")?;
    a.check(&encode_words("WATCH h"), b"+OK\r\n")?;
    // Nothing changes: HDEL of an absent field, HSETNX of a present one.
    b.check(&encode_words("HDEL h nofield"), b":0\r\n")?;
    b.check(&encode_words("HSETNX h f 2"), b":0\r\n")?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("HINCRBY h f 10"), b"+QUEUED\r\n")?;
    a.check(&encode_words("HGET h f"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*2\r\n:11\r\n$2\r\n11\r\n")?;
    a.check(&encode_words("WATCH h"), b"+OK\r\n")?;
    b.check(&encode_words("HSET h g 1"), b":1\r\n")?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("HSET h f 0"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*-1\r\n")?;
    a.check(&encode_words("HGET h f"), b"$2\r\n11\r\n")?;
    Ok(())
}

/// A hash past the small encoding survives a snapshot plus the log after
/// it, through a restart.
#[test]
fn a_big_hash_survives_a_snapshot_and_a_restart() -> TestResult {
    let config = common::Config {
        appendonly: true,
        ..common::config()
    };
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    for i in 0..600 {
        c.check(&encode_words(&format!("HSET big f{i} v{i}")), b":1\r\n")?;
    }
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    c.check(&encode_words("HDEL big f0 f1"), b":2\r\n")?;
    c.check(&encode_words("HSET big f2 changed"), b":0\r\n")?;
    server.stop()?;
    let server = common::start(config)?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("HLEN big"), b":598\r\n")?;
    c.check(&encode_words("HGET big f0"), b"$-1\r\n")?;
    c.check(&encode_words("HGET big f2"), b"$7\r\nchanged\r\n")?;
    c.check(&encode_words("HGET big f599"), b"$4\r\nv599\r\n")?;
    c.check(&encode_words("OBJECT ENCODING big"), b"$9\r\nhashtable\r\n")?;
    Ok(())
}

#[test]
fn hscan_answers_as_redis_for_a_small_hash() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("HSET h a 1 b 2", ":2"),
            ("HSCAN h 0", "[\"0\", [\"a\", \"1\", \"b\", \"2\"]]"),
            ("HSCAN h 0 COUNT 0", "-ERR syntax error"),
            (
                "HSCAN h 0 COUNT x",
                "-ERR value is not an integer or out of range",
            ),
            ("HSCAN h 0 MATCH", "-ERR syntax error"),
            ("HSCAN h 0 TYPE string", "-ERR syntax error"),
            ("HSCAN h abc", "-ERR invalid cursor"),
            ("HSCAN nokey 0 COUNT 0", "[\"0\", []]"),
            ("HSCAN nokey abc", "-ERR invalid cursor"),
            ("HSCAN h 0 MATCH a COUNT 1", "[\"0\", [\"a\", \"1\"]]"),
            ("HSCAN h 0 MATCH *", "[\"0\", [\"a\", \"1\", \"b\", \"2\"]]"),
            ("SET s v", "+OK"),
            (
                "HSCAN s 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
        ],
    )
}

/// A big hash's HSCAN: every field present throughout comes back exactly
/// once, with its value, whatever COUNT, while fields are added meanwhile.
#[test]
fn hscan_of_a_big_hash_returns_each_field_once() -> TestResult {
    let (_server, mut con) = fresh()?;
    for i in 0..1000 {
        redis::cmd("HSET")
            .arg("h")
            .arg(format!("f{i}"))
            .arg(i)
            .exec(&mut con)?;
    }
    for count in [1, 10, 500] {
        let mut seen = std::collections::HashMap::new();
        let mut cursor = 0u64;
        let mut calls = 0;
        loop {
            let (next, flat): (u64, Vec<String>) = redis::cmd("HSCAN")
                .arg("h")
                .arg(cursor)
                .arg("COUNT")
                .arg(count)
                .query(&mut con)?;
            assert!(
                flat.len() / 2 <= count,
                "{} fields for COUNT {count}",
                flat.len() / 2
            );
            for pair in flat.chunks(2) {
                *seen.entry(pair[0].clone()).or_insert(0) += 1;
                if let Some(i) = pair[0].strip_prefix('f') {
                    assert_eq!(i, pair[1]);
                }
            }
            calls += 1;
            redis::cmd("HSET")
                .arg("h")
                .arg(format!("new{count}-{calls}"))
                .arg(0)
                .exec(&mut con)?;
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        // About a call per COUNT fields, the ones added included.
        assert!(
            calls <= 4000 / count + 20,
            "{calls} calls for COUNT {count}"
        );
        for i in 0..1000 {
            assert_eq!(
                seen.get(&format!("f{i}")),
                Some(&1),
                "f{i} with COUNT {count}"
            );
        }
    }
    Ok(())
}

/// `hash-max-listpack-entries` and `-value` (and their old ziplist names)
/// through CONFIG, and the encodings they choose; the conversion of a hash
/// table's field order is Redis's own, so HGETALL after it is not compared.
#[test]
fn listpack_thresholds_are_settings_as_in_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
        ("CONFIG GET hash-max-listpack-entries", "[\"hash-max-listpack-entries\", \"512\"]"),
        ("CONFIG GET hash-max-ziplist-value", "[\"hash-max-ziplist-value\", \"64\"]"),
        ("CONFIG SET hash-max-listpack-entries 2", "+OK"),
        ("CONFIG SET hash-max-listpack-entries -1", "-ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument must be between 0 and 9223372036854775807 inclusive"),
        ("CONFIG SET hash-max-listpack-entries abc", "-ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument couldn't be parsed into an integer"),
        ("CONFIG SET hash-max-ziplist-value 1kb", "+OK"),
        ("CONFIG GET hash-max-listpack-value", "[\"hash-max-listpack-value\", \"1024\"]"),
        ("HSET h a 1 b 2", ":2"),
        ("OBJECT ENCODING h", "\"listpack\""),
        ("HSET h c 3", ":1"),
        ("OBJECT ENCODING h", "\"hashtable\""),
        ("CONFIG SET hash-max-listpack-value 1", "+OK"),
        ("HSET v a 1", ":1"),
        ("OBJECT ENCODING v", "\"listpack\""),
        ("HSET w a 12", ":1"),
        ("OBJECT ENCODING w", "\"hashtable\""),
        ("CONFIG SET hash-max-ziplist-entries 512 hash-max-listpack-value 64", "+OK"),
        ("CONFIG GET hash-max-ziplist-entries", "[\"hash-max-ziplist-entries\", \"512\"]"),
        ],
    )
}

/// EXEC of hash commands runs as one batch: a reader's transaction never
/// sees part of a writer's (each writer's transaction adds 1 to 50 hashes
/// and takes 1 from 50 others; every read of all 100 must sum to zero).
#[test]
fn exec_of_hash_commands_is_atomic() -> TestResult {
    const KEYS: usize = 100;
    let server = common::start(common::config())?;
    let addr = server.addr();
    let writers: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut batch = encode_words("MULTI");
                for k in 0..KEYS {
                    let delta = if k % 2 == 0 { 1 } else { -1 };
                    batch.extend(encode_words(&format!("HINCRBY h{k} n {delta}")));
                }
                batch.extend(encode_words("EXEC"));
                for _ in 0..1000 {
                    c.send(&batch).map_err(|e| e.to_string())?;
                    c.replies(KEYS + 2).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        })
        .collect();
    let mut reader = Raw::connect(addr)?;
    let mut batch = encode_words("MULTI");
    for k in 0..KEYS {
        batch.extend(encode_words(&format!("HGET h{k} n")));
    }
    batch.extend(encode_words("EXEC"));
    for _ in 0..1000 {
        reader.send(&batch)?;
        let replies = reader.replies(KEYS + 2)?;
        let text = String::from_utf8_lossy(&replies[KEYS + 1]).into_owned();
        let sum: i64 = text
            .split("\r\n")
            .filter(|l| !l.is_empty() && !l.starts_with(['*', '$']))
            .map(str::parse::<i64>)
            .sum::<Result<i64, _>>()?;
        assert_eq!(sum, 0, "EXEC saw part of a transaction: {text:?}");
    }
    for w in writers {
        w.join().map_err(|_| "writer panicked")??;
    }
    Ok(())
}

/// TANDEM.RANGE lists hash keys with the others; WITHVALUES gives a
/// hash's value as empty (it is read with HGETALL), never its stored
/// encoding. Tandem's own command: no Redis replies to record.
#[test]
fn tandem_range_gives_a_hash_an_empty_value() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("SET a 1", "+OK"),
            ("HSET b f v", ":1"),
            ("SET c 3", "+OK"),
            (
                "TANDEM.RANGE - + WITHVALUES",
                "[nil, [\"a\", \"1\", \"b\", \"\", \"c\", \"3\"]]",
            ),
            ("TANDEM.RANGE - +", "[nil, [\"a\", \"b\", \"c\"]]"),
        ],
    )
}
