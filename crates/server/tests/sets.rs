//! Set commands through a real client library, with their options and
//! error replies: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
//! SRANDMEMBER, SPOP, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION,
//! SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN; WRONGTYPE both ways; the key
//! commands on sets; `set-max-intset-entries`; keyspace events; RESP3
//! shapes; transactions; and sets surviving a restart.
//!
//! The tables are (request, reply) run in order on one connection to a
//! fresh server; the replies were recorded from Redis 7.0.15 running the
//! same requests in the same order (see `commands.rs` for the notation).
//! Where Redis answers from a hash table, its order is its own: those
//! replies are compared as sets, outside the tables.

mod common;

use common::table::{check, connect};
use common::{encode_words, Error, Raw, TestResult};
use redis::Connection;
use std::collections::BTreeSet;

fn fresh() -> Result<(common::Running, Connection), Error> {
    let server = common::start(common::config())?;
    let con = connect(&server)?;
    Ok((server, con))
}

#[test]
fn set_commands_answer_as_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("SADD s 3 1 2 3", ":3"),
            ("SADD s 1", ":0"),
            ("SMEMBERS s", "[\"1\", \"2\", \"3\"]"),
            ("OBJECT ENCODING s", "\"intset\""),
            ("SADD s a", ":1"),
            ("OBJECT ENCODING s", "\"hashtable\""),
            ("SCARD s", ":4"),
            ("SCARD nokey", ":0"),
            ("SISMEMBER s 1", ":1"),
            ("SISMEMBER s x", ":0"),
            ("SISMEMBER nokey x", ":0"),
            ("SMISMEMBER s 1 x a", "[:1, :0, :1]"),
            ("SMISMEMBER nokey a b", "[:0, :0]"),
            ("SREM s 1 x", ":1"),
            ("SREM s 2 3 a", ":3"),
            ("EXISTS s", ":0"),
            ("SREM nokey a", ":0"),
            ("SMEMBERS nokey", "[]"),
            ("SADD i 5 -3 100 0", ":4"),
            ("SMEMBERS i", "[\"-3\", \"0\", \"5\", \"100\"]"),
            ("SADD i 007", ":1"),
            ("OBJECT ENCODING i", "\"hashtable\""),
            ("SADD j 9223372036854775807 -9223372036854775808", ":2"),
            ("OBJECT ENCODING j", "\"intset\""),
            ("SADD k 9223372036854775808", ":1"),
            ("OBJECT ENCODING k", "\"hashtable\""),
            ("SADD l -0", ":1"),
            ("OBJECT ENCODING l", "\"hashtable\""),
            ("SET str v", "+OK"),
            (
                "SADD str a",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SREM str a",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SCARD str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SISMEMBER str a",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SMISMEMBER str a",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SMEMBERS str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SRANDMEMBER str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SPOP str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SMOVE str i 5",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SMOVE i str 5",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("SADD", "-ERR wrong number of arguments for 'sadd' command"),
            (
                "SADD s",
                "-ERR wrong number of arguments for 'sadd' command",
            ),
            (
                "SREM s",
                "-ERR wrong number of arguments for 'srem' command",
            ),
            (
                "SCARD",
                "-ERR wrong number of arguments for 'scard' command",
            ),
            (
                "SISMEMBER s",
                "-ERR wrong number of arguments for 'sismember' command",
            ),
            (
                "SMISMEMBER s",
                "-ERR wrong number of arguments for 'smismember' command",
            ),
            (
                "SMEMBERS",
                "-ERR wrong number of arguments for 'smembers' command",
            ),
            ("TYPE i", "+set"),
        ],
    )
}

#[test]
fn set_algebra_and_smove_answer_as_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("SADD a 1 2 3 4 5", ":5"),
            ("SADD b 3 4 5 6 7", ":5"),
            ("SADD c 5 x y", ":3"),
            ("SINTER a b", "[\"3\", \"4\", \"5\"]"),
            ("SINTER a b c", "[\"5\"]"),
            ("SINTER a nokey", "[]"),
            ("SINTER nokey a", "[]"),
            (
                "SUNION a b",
                "[\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\"]",
            ),
            ("SUNION a nokey", "[\"1\", \"2\", \"3\", \"4\", \"5\"]"),
            ("SDIFF a b", "[\"1\", \"2\"]"),
            ("SDIFF a b c", "[\"1\", \"2\"]"),
            ("SDIFF nokey a", "[]"),
            ("SDIFF a nokey", "[\"1\", \"2\", \"3\", \"4\", \"5\"]"),
            ("SET str v", "+OK"),
            (
                "SINTER a str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SINTER nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SINTER str nokey",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SUNION nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SDIFF nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SDIFF a str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("SINTERCARD 2 a b", ":3"),
            ("SINTERCARD 2 a b LIMIT 1", ":1"),
            ("SINTERCARD 2 a b LIMIT 0", ":3"),
            ("SINTERCARD 2 a b LIMIT -1", "-ERR LIMIT can't be negative"),
            ("SINTERCARD 0 a b", "-ERR numkeys should be greater than 0"),
            ("SINTERCARD -1 a b", "-ERR numkeys should be greater than 0"),
            (
                "SINTERCARD 3 a b",
                "-ERR Number of keys can't be greater than number of args",
            ),
            ("SINTERCARD 1 a b", "-ERR syntax error"),
            ("SINTERCARD 2 a b LIMIT", "-ERR syntax error"),
            ("SINTERCARD 2 a b FOO 1", "-ERR syntax error"),
            ("SINTERCARD x a b", "-ERR numkeys should be greater than 0"),
            ("SINTERCARD 2 a nokey", ":0"),
            (
                "SINTERCARD 2 a str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SINTERCARD 2 nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("SINTERSTORE d a b", ":3"),
            ("SMEMBERS d", "[\"3\", \"4\", \"5\"]"),
            ("OBJECT ENCODING d", "\"intset\""),
            ("SINTERSTORE d a nokey", ":0"),
            ("EXISTS d", ":0"),
            ("SINTERSTORE str a b", ":3"),
            ("TYPE str", "+set"),
            ("SUNIONSTORE u a c", ":7"),
            ("OBJECT ENCODING u", "\"hashtable\""),
            ("SCARD u", ":7"),
            ("SDIFFSTORE df a b", ":2"),
            ("SMEMBERS df", "[\"1\", \"2\"]"),
            ("SET str2 v", "+OK"),
            ("EXPIRE df 100", ":1"),
            ("SDIFFSTORE df a b", ":2"),
            ("TTL df", ":-1"),
            (
                "SINTERSTORE x str2 a",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SUNIONSTORE",
                "-ERR wrong number of arguments for 'sunionstore' command",
            ),
            (
                "SINTER",
                "-ERR wrong number of arguments for 'sinter' command",
            ),
            (
                "SINTERCARD 1",
                "-ERR wrong number of arguments for 'sintercard' command",
            ),
            ("SMOVE a b 1", ":1"),
            ("SMEMBERS a", "[\"2\", \"3\", \"4\", \"5\"]"),
            ("SMEMBERS b", "[\"1\", \"3\", \"4\", \"5\", \"6\", \"7\"]"),
            ("SMOVE a b 1", ":0"),
            ("SMOVE a a 2", ":1"),
            ("SMOVE a a 99", ":0"),
            ("SMOVE nokey str 1", ":0"),
            ("SMOVE a str 2", ":1"),
            ("SMOVE a newkey 2", ":0"),
            ("SMEMBERS newkey", "[]"),
            ("SADD single 1", ":1"),
            ("SMOVE single b 1", ":1"),
            ("EXISTS single", ":0"),
            ("SMOVE b b2 x", ":0"),
            (
                "SMOVE a",
                "-ERR wrong number of arguments for 'smove' command",
            ),
        ],
    )?;
    // Redis answers this one from a hash table, in its own order (`a` is
    // 3 4 5 after the moves above).
    let union: BTreeSet<String> = redis::cmd("SUNION").arg("a").arg("c").query(&mut con)?;
    let want: BTreeSet<String> = ["3", "4", "5", "x", "y"]
        .map(String::from)
        .into_iter()
        .collect();
    assert_eq!(union, want);
    Ok(())
}

/// The non-random parts of SRANDMEMBER and SPOP (empty, whole-set and
/// error replies), and SSCAN of an intset.
#[test]
fn random_picks_and_sscan_answer_as_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
        ("SADD a 1 2 3 4 5", ":5"),
        ("SINTERCARD 2 a a LIMIT x", "-ERR LIMIT can't be negative"),
        ("SINTERCARD 99999999999999999999 a", "-ERR numkeys should be greater than 0"),
        ("SINTERCARD 2 a a LIMIT 1 LIMIT 2", ":2"),
        ("SRANDMEMBER nokey", "nil"),
        ("SRANDMEMBER nokey 5", "[]"),
        ("SRANDMEMBER nokey -5", "[]"),
        ("SRANDMEMBER a 0", "[]"),
        ("SRANDMEMBER a 10", "[\"1\", \"2\", \"3\", \"4\", \"5\"]"),
        ("SRANDMEMBER a x", "-ERR value is not an integer or out of range"),
        ("SRANDMEMBER a 1 2", "-ERR syntax error"),
        ("SRANDMEMBER a -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"),
        ("SPOP nokey", "nil"),
        ("SPOP nokey 3", "[]"),
        ("SPOP a 0", "[]"),
        ("SPOP a -1", "-ERR value is out of range, must be positive"),
        ("SPOP a x", "-ERR value is out of range, must be positive"),
        ("SPOP a 1 2", "-ERR syntax error"),
        ("SPOP a 10", "[\"1\", \"2\", \"3\", \"4\", \"5\"]"),
        ("EXISTS a", ":0"),
        ("SSCAN nokey 0", "[\"0\", []]"),
        ("SSCAN nokey x", "-ERR invalid cursor"),
        ("SADD i 3 1 2", ":3"),
        ("SSCAN i 0", "[\"0\", [\"1\", \"2\", \"3\"]]"),
        ("SSCAN i 0 MATCH 1", "[\"0\", [\"1\"]]"),
        ("SSCAN i 0 COUNT 0", "-ERR syntax error"),
        ("SSCAN i 0 COUNT 1", "[\"0\", [\"1\", \"2\", \"3\"]]"),
        ("SSCAN i x", "-ERR invalid cursor"),
        ("SSCAN i 0 FOO", "-ERR syntax error"),
        ("SSCAN i 0 NOVALUES", "-ERR syntax error"),
        ("SADD t a b", ":2"),
        ("SSCAN t 0 MATCH a*", "[\"0\", [\"a\"]]"),
        ("SADD", "-ERR wrong number of arguments for 'sadd' command"),
        ("SRANDMEMBER", "-ERR wrong number of arguments for 'srandmember' command"),
        ("SPOP", "-ERR wrong number of arguments for 'spop' command"),
        ("SSCAN i", "-ERR wrong number of arguments for 'sscan' command"),
        ("SMEMBERS i", "[\"1\", \"2\", \"3\"]"),
        ("SPOP i 3", "[\"1\", \"2\", \"3\"]"),
        ],
    )
}

#[test]
fn key_commands_and_settings_work_on_sets() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
        ("SADD s 1 2 3", ":3"),
        ("EXPIRE s 100", ":1"),
        ("RENAME s s2", "+OK"),
        ("SMEMBERS s2", "[\"1\", \"2\", \"3\"]"),
        ("TTL s2", ":100"),
        ("COPY s2 s3", ":1"),
        ("SADD s3 4", ":1"),
        ("SMEMBERS s2", "[\"1\", \"2\", \"3\"]"),
        ("SMEMBERS s3", "[\"1\", \"2\", \"3\", \"4\"]"),
        ("SET str v", "+OK"),
        ("COPY s3 str REPLACE", ":1"),
        ("TYPE str", "+set"),
        ("SMEMBERS str", "[\"1\", \"2\", \"3\", \"4\"]"),
        ("SCAN 0 TYPE set MATCH s3", "[\"0\", [\"s3\"]]"),
        ("OBJECT ENCODING s3", "\"intset\""),
        ("SET s3 x", "+OK"),
        ("GET s3", "\"x\""),
        ("APPEND s2 x", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("GET s2", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("INCR s2", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("HSET s2 a 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("SADD h a", ":1"),
        ("HSET hh a 1", ":1"),
        ("SADD hh a", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("SINTER s2 hh", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("CONFIG SET set-max-intset-entries 2", "+OK"),
        ("SADD n 1 2", ":2"),
        ("OBJECT ENCODING n", "\"intset\""),
        ("SADD n 3", ":1"),
        ("OBJECT ENCODING n", "\"hashtable\""),
        ("CONFIG SET set-max-intset-entries -1", "-ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - argument must be between 0 and 9223372036854775807 inclusive"),
        ("CONFIG GET set-max-intset-entries", "[\"set-max-intset-entries\", \"2\"]"),
        ("CONFIG SET set-max-intset-entries 512", "+OK"),
        ("SUNIONSTORE m n", ":3"),
        ("OBJECT ENCODING m", "\"intset\""),
        ],
    )
}

/// The set events, in the order Redis 7.0.15 publishes them: none for a
/// command that changed nothing (SADD of a member there, SREM of one
/// absent, SPOP 0, SMOVE within a set or of an absent member, a `*STORE`
/// of an empty result over a missing key), `del` after the change that
/// empties a set.
#[test]
fn set_commands_publish_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEA")?;
    for command in [
        "SADD s a b",
        "SADD s a",
        "SREM s zz",
        "SREM s a",
        "SADD s 1 2 3",
        "SPOP s 0",
        "SPOP s",
        "SPOP s 2",
        "SPOP s 10",
        "SADD s a",
        "SMOVE s t a",
        "SADD s b c",
        "SMOVE s t zz",
        "SMOVE s s b",
        "SINTERSTORE d s t",
        "SADD t b",
        "SINTERSTORE d s t",
        "SUNIONSTORE d s t",
        "SDIFFSTORE d s t",
        "SDIFFSTORE d t t",
        "SINTERSTORE nokey2 x y",
        "SREM s b c",
        "SPOP nokey",
    ] {
        c.call(&encode_words(command))?;
    }
    // Recorded from Redis 7.0.15 running the commands above.
    let recorded = [
        ("sadd", "s"),
        ("srem", "s"),
        ("sadd", "s"),
        ("spop", "s"),
        ("spop", "s"),
        ("spop", "s"),
        ("del", "s"),
        ("sadd", "s"),
        ("srem", "s"),
        ("del", "s"),
        ("sadd", "t"),
        ("sadd", "s"),
        ("sadd", "t"),
        ("sinterstore", "d"),
        ("sunionstore", "d"),
        ("sdiffstore", "d"),
        ("del", "d"),
        ("srem", "s"),
        ("del", "s"),
    ];
    s.expect_keyevents(&recorded)
}

/// RESP3: SMEMBERS, SINTER, SUNION and SPOP with a count are sets;
/// SRANDMEMBER with a count and SMISMEMBER are arrays; as in Redis 7.0.15.
#[test]
fn resp3_replies_have_redis_shapes() -> TestResult {
    let server = common::start(common::config())?;
    let mut c = Raw::connect(server.addr())?;
    c.call(&encode_words("HELLO 3"))?;
    for (request, reply) in [
        ("SADD s 1 2", &b":2\r\n"[..]),
        ("SMEMBERS s", b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
        ("SMEMBERS nokey", b"~0\r\n"),
        ("SINTER s s", b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
        ("SUNION nokey", b"~0\r\n"),
        ("SRANDMEMBER s 5", b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
        ("SMISMEMBER s 1 x", b"*2\r\n:1\r\n:0\r\n"),
        ("SPOP nokey 1", b"~0\r\n"),
        ("SPOP s 0", b"~0\r\n"),
        (
            "SSCAN s 0",
            b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
        ),
    ] {
        c.check(&encode_words(request), reply)?;
    }
    Ok(())
}

/// SRANDMEMBER and SPOP: a positive count never repeats and never passes
/// the size; a negative one gives that many picks, repeats allowed; SPOP
/// removes exactly what it returns.
#[test]
fn random_picks_follow_redis_rules() -> TestResult {
    let (_server, mut con) = fresh()?;
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    redis::cmd("SADD").arg("s").arg(&members).exec(&mut con)?;
    let all: BTreeSet<String> = members.iter().cloned().collect();
    for count in [1, 5, 600, 999, 1000, 5000] {
        let got: Vec<String> = redis::cmd("SRANDMEMBER")
            .arg("s")
            .arg(count)
            .query(&mut con)?;
        let distinct: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(got.len(), count.min(1000), "count {count}");
        assert_eq!(distinct.len(), got.len(), "count {count} repeated");
        assert!(distinct.is_subset(&all));
    }
    let repeats: Vec<String> = redis::cmd("SRANDMEMBER")
        .arg("s")
        .arg(-3000)
        .query(&mut con)?;
    assert_eq!(repeats.len(), 3000);
    assert!(repeats.iter().all(|m| all.contains(m)));
    let tiny: Vec<String> = redis::cmd("SRANDMEMBER")
        .arg("one")
        .arg(-3)
        .query(&mut con)?;
    assert!(tiny.is_empty());
    let mut left = all.clone();
    for count in [1, 10, 400] {
        let popped: Vec<String> = redis::cmd("SPOP").arg("s").arg(count).query(&mut con)?;
        assert_eq!(popped.len(), count);
        for m in &popped {
            assert!(left.remove(m), "{m} popped twice or never there");
        }
        let now: BTreeSet<String> = redis::cmd("SMEMBERS").arg("s").query(&mut con)?;
        assert_eq!(now, left);
    }
    let one: String = redis::cmd("SPOP").arg("s").query(&mut con)?;
    assert!(left.remove(&one));
    let rest: BTreeSet<String> = redis::cmd("SPOP").arg("s").arg(10_000).query(&mut con)?;
    assert_eq!(rest, left);
    let exists: i64 = redis::cmd("EXISTS").arg("s").query(&mut con)?;
    assert_eq!(exists, 0, "the last member popped deletes the key");
    Ok(())
}

#[test]
fn sscan_of_a_big_set_returns_each_member_once() -> TestResult {
    let (_server, mut con) = fresh()?;
    let members: Vec<String> = (0..2000).map(|i| format!("m{i}")).collect();
    redis::cmd("SADD").arg("s").arg(&members).exec(&mut con)?;
    for count in [1, 10, 500] {
        let mut seen = std::collections::HashMap::new();
        let (mut cursor, mut calls) = (0u64, 0);
        loop {
            let (next, page): (u64, Vec<String>) = redis::cmd("SSCAN")
                .arg("s")
                .arg(cursor)
                .arg("COUNT")
                .arg(count)
                .query(&mut con)?;
            assert!(
                page.len() <= count,
                "{} members for COUNT {count}",
                page.len()
            );
            for m in page {
                *seen.entry(m).or_insert(0) += 1;
            }
            calls += 1;
            // Changes between calls: a new member may or may not be seen.
            redis::cmd("SADD")
                .arg("s")
                .arg(format!("new{count}-{calls}"))
                .exec(&mut con)?;
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        // About a call per COUNT members, the ones added included.
        assert!(
            calls <= 8000 / count + 20,
            "{calls} calls for COUNT {count}"
        );
        for m in &members {
            assert_eq!(seen.get(m), Some(&1), "{m} with COUNT {count}");
        }
    }
    let (_, page): (u64, Vec<String>) = redis::cmd("SSCAN")
        .arg("s")
        .arg(0)
        .arg("MATCH")
        .arg("m1*")
        .arg("COUNT")
        .arg(100_000)
        .query(&mut con)?;
    assert_eq!(page.len(), 1111, "m1, m10-m19, m100-m199, m1000-m1999");
    Ok(())
}

#[test]
fn sets_in_multi_exec_and_watch() -> TestResult {
    let server = common::start(common::config())?;
    let mut a = Raw::connect(server.addr())?;
    let mut b = Raw::connect(server.addr())?;
    a.check(&encode_words("SADD s 1"), b":1\r\n")?;
    a.check(&encode_words("WATCH s"), b"+OK\r\n")?;
    // Nothing changes: SADD of a member there, SREM of one absent.
    b.check(&encode_words("SADD s 1"), b":0\r\n")?;
    b.check(&encode_words("SREM s 2"), b":0\r\n")?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("SADD t 5"), b"+QUEUED\r\n")?;
    a.check(&encode_words("SINTERCARD 2 s t"), b"+QUEUED\r\n")?;
    a.check(&encode_words("SUNIONSTORE u s t"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*3\r\n:1\r\n:0\r\n:2\r\n")?;
    a.check(&encode_words("WATCH u"), b"+OK\r\n")?;
    b.call(&encode_words("SPOP u 1"))?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("SADD u 9"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*-1\r\n")?;
    a.check(&encode_words("SCARD u"), b":1\r\n")?;
    Ok(())
}

/// SMOVE and EXEC are atomic: two movers shuttle 100 members between two
/// sets while a reader's transactions must always count all 100, and
/// SINTER of the two must always be empty.
#[test]
fn smove_and_exec_of_set_commands_are_atomic() -> TestResult {
    let server = common::start(common::config())?;
    let addr = server.addr();
    let mut setup = Raw::connect(addr)?;
    let mut add = String::from("SADD left");
    for i in 0..100 {
        add.push_str(&format!(" m{i}"));
    }
    setup.check(&encode_words(&add), b":100\r\n")?;
    let movers: Vec<_> = [("left", "right"), ("right", "left")]
        .into_iter()
        .map(|(from, to)| {
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut batch = Vec::new();
                for i in 0..100 {
                    batch.extend(encode_words(&format!("SMOVE {from} {to} m{i}")));
                }
                for _ in 0..50 {
                    c.send(&batch).map_err(|e| e.to_string())?;
                    c.replies(100).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        })
        .collect();
    let mut reader = Raw::connect(addr)?;
    let mut batch = encode_words("MULTI");
    batch.extend(encode_words("SCARD left"));
    batch.extend(encode_words("SCARD right"));
    batch.extend(encode_words("SINTERCARD 2 left right"));
    batch.extend(encode_words("EXEC"));
    for _ in 0..500 {
        reader.send(&batch)?;
        let replies = reader.replies(5)?;
        let text = String::from_utf8_lossy(&replies[4]).into_owned();
        let n: Vec<i64> = text
            .split("\r\n")
            .filter_map(|l| l.strip_prefix(':'))
            .map(str::parse::<i64>)
            .collect::<Result<_, _>>()?;
        assert_eq!(n.len(), 3, "{text:?}");
        assert_eq!(n[0] + n[1], 100, "EXEC saw a member in flight: {text:?}");
        assert_eq!(n[2], 0, "a member in both sets: {text:?}");
    }
    for m in movers {
        m.join().map_err(|_| "mover panicked")??;
    }
    Ok(())
}

/// Sets of both encodings survive a snapshot plus the log after it,
/// through a restart.
#[test]
fn sets_survive_a_snapshot_and_a_restart() -> TestResult {
    let config = common::Config {
        appendonly: true,
        ..common::config()
    };
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    for i in 0..600 {
        c.check(&encode_words(&format!("SADD big m{i}")), b":1\r\n")?;
    }
    c.check(&encode_words("SADD ints 3 1 2"), b":3\r\n")?;
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    c.check(&encode_words("SREM big m0 m1"), b":2\r\n")?;
    c.check(&encode_words("SADD ints -7"), b":1\r\n")?;
    c.check(&encode_words("SINTERSTORE both big big"), b":598\r\n")?;
    server.stop()?;
    let server = common::start(config)?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("SCARD big"), b":598\r\n")?;
    c.check(&encode_words("SISMEMBER big m0"), b":0\r\n")?;
    c.check(&encode_words("SISMEMBER big m599"), b":1\r\n")?;
    c.check(&encode_words("SCARD both"), b":598\r\n")?;
    c.check(&encode_words("OBJECT ENCODING big"), b"$9\r\nhashtable\r\n")?;
    c.check(
        &encode_words("SMEMBERS ints"),
        b"*4\r\n$2\r\n-7\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    )?;
    c.check(&encode_words("OBJECT ENCODING ints"), b"$6\r\nintset\r\n")?;
    Ok(())
}
