//! List commands through a real client library, with their options and
//! error replies: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE,
//! LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP;
//! WRONGTYPE both ways; keyspace events; lists in transactions, across
//! chunks, and through a restart.
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
fn list_commands_answer_as_redis() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
        ("RPUSH l a b c", ":3"),
        ("LPUSH l x y", ":5"),
        ("LRANGE l 0 -1", "[\"y\", \"x\", \"a\", \"b\", \"c\"]"),
        ("OBJECT ENCODING l", "\"quicklist\""),
        ("LLEN l", ":5"),
        ("LLEN nokey", ":0"),
        ("LINDEX l 0", "\"y\""),
        ("LINDEX l -1", "\"c\""),
        ("LINDEX l 99", "nil"),
        ("LINDEX l x", "-ERR value is not an integer or out of range"),
        ("LRANGE l 1 2", "[\"x\", \"a\"]"),
        ("LRANGE l -100 100", "[\"y\", \"x\", \"a\", \"b\", \"c\"]"),
        ("LRANGE l 5 1", "[]"),
        ("LRANGE l x 1", "-ERR value is not an integer or out of range"),
        ("LPUSHX nokey a", ":0"),
        ("RPUSHX nokey a", ":0"),
        ("EXISTS nokey", ":0"),
        ("LPUSHX l p q", ":7"),
        ("RPUSHX l r", ":8"),
        ("LRANGE l 0 -1", "[\"q\", \"p\", \"y\", \"x\", \"a\", \"b\", \"c\", \"r\"]"),
        ("LPOP l", "\"q\""),
        ("RPOP l", "\"r\""),
        ("LPOP l 2", "[\"p\", \"y\"]"),
        ("RPOP l 0", "[]"),
        ("RPOP l -1", "-ERR value is out of range, must be positive"),
        ("LPOP nokey", "nil"),
        ("LPOP nokey 2", "nil"),
        ("LPOP l 100", "[\"x\", \"a\", \"b\", \"c\"]"),
        ("EXISTS l", ":0"),
        ("RPUSH l 1 2 3 2 1 2", ":6"),
        ("LREM l 2 2", ":2"),
        ("LRANGE l 0 -1", "[\"1\", \"3\", \"1\", \"2\"]"),
        ("LREM l -1 1", ":1"),
        ("LRANGE l 0 -1", "[\"1\", \"3\", \"2\"]"),
        ("LREM l 0 2", ":1"),
        ("LRANGE l 0 -1", "[\"1\", \"3\"]"),
        ("LREM l 0 zz", ":0"),
        ("LREM l x 1", "-ERR value is not an integer or out of range"),
        ("LSET l 0 first", "+OK"),
        ("LSET l -1 last", "+OK"),
        ("LSET l 5 x", "-ERR index out of range"),
        ("LSET nokey 0 x", "-ERR no such key"),
        ("LRANGE l 0 -1", "[\"first\", \"last\"]"),
        ("LINSERT l BEFORE last mid", ":3"),
        ("LINSERT l AFTER first second", ":4"),
        ("LINSERT l AFTER nothere x", ":-1"),
        ("LINSERT nokey AFTER a b", ":0"),
        ("LINSERT l MIDDLE a b", "-ERR syntax error"),
        ("LRANGE l 0 -1", "[\"first\", \"second\", \"mid\", \"last\"]"),
        ("LTRIM l 1 -2", "+OK"),
        ("LRANGE l 0 -1", "[\"second\", \"mid\"]"),
        ("LTRIM l 5 10", "+OK"),
        ("EXISTS l", ":0"),
        ("LTRIM nokey 0 1", "+OK"),
        ("RPUSH p a b c a b c", ":6"),
        ("LPOS p b", ":1"),
        ("LPOS p b RANK 2", ":4"),
        ("LPOS p b RANK -1", ":4"),
        ("LPOS p b COUNT 0", "[:1, :4]"),
        ("LPOS p b COUNT 1", "[:1]"),
        ("LPOS p b MAXLEN 1", "nil"),
        ("LPOS p c MAXLEN 3", ":2"),
        ("LPOS p zz", "nil"),
        ("LPOS p zz COUNT 0", "[]"),
        ("LPOS p b RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"),
        ("LPOS p b COUNT -1", "-ERR COUNT can't be negative"),
        ("LPOS p b MAXLEN -1", "-ERR MAXLEN can't be negative"),
        ("LPOS p b RANK -9223372036854775808", ":4"),
        ("LPOS p b FOO 1", "-ERR syntax error"),
        ("LPOS nokey a", "nil"),
        ("LPOS nokey a COUNT 0", "[]"),
        ("RPUSH src 1 2 3", ":3"),
        ("LMOVE src dst LEFT RIGHT", "\"1\""),
        ("LMOVE src dst RIGHT LEFT", "\"3\""),
        ("LRANGE dst 0 -1", "[\"3\", \"1\"]"),
        ("LMOVE src src LEFT RIGHT", "\"2\""),
        ("LRANGE src 0 -1", "[\"2\"]"),
        ("LMOVE src dst UP LEFT", "-ERR syntax error"),
        ("LMOVE nokey dst LEFT LEFT", "nil"),
        ("RPOPLPUSH src dst", "\"2\""),
        ("LRANGE dst 0 -1", "[\"2\", \"3\", \"1\"]"),
        ("EXISTS src", ":0"),
        ("LMPOP 2 nokey dst LEFT", "[\"dst\", [\"2\"]]"),
        ("LMPOP 2 nokey dst RIGHT COUNT 10", "[\"dst\", [\"1\", \"3\"]]"),
        ("LMPOP 1 nokey LEFT", "nil"),
        ("LMPOP 0 dst LEFT", "-ERR numkeys should be greater than 0"),
        ("LMPOP 2 dst LEFT", "-ERR syntax error"),
        ("LMPOP 3 dst LEFT", "-ERR syntax error"),
        ("LMPOP 1 dst UP", "-ERR syntax error"),
        ("LMPOP 1 dst LEFT COUNT 0", "-ERR count should be greater than 0"),
        ("LMPOP 1 dst LEFT COUNT x", "-ERR count should be greater than 0"),
        ("LMPOP 1 dst LEFT COUNT 1 COUNT 2", "-ERR syntax error"),
        ("SET str v", "+OK"),
        ("LPUSH str a", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("LRANGE str 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("LLEN str", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("LPOP str", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("LMOVE str dst LEFT LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("LMOVE dst str LEFT LEFT", "nil"),
        ("LPUSH", "-ERR wrong number of arguments for 'lpush' command"),
        ("LPUSH l", "-ERR wrong number of arguments for 'lpush' command"),
        ("LRANGE l 0", "-ERR wrong number of arguments for 'lrange' command"),
        ],
    )
}

/// The list events, in the order Redis 7.0.15 publishes them: none for a
/// command that changed nothing (LPUSHX of a missing key, RPOP 0, LINSERT
/// without its pivot, LREM of an absent value), `ltrim` even when LTRIM
/// keeps everything, LMOVE's push before its pop, `del` after the change
/// that empties a list.
#[test]
fn list_commands_publish_redis_keyspace_events() -> TestResult {
    let server = common::start(common::config())?;
    let (mut c, mut s) = common::keyevents(&server, "KEA")?;
    for command in [
        "RPUSH l a b",
        "LPUSH l z",
        "LPUSHX nokey a",
        "RPUSHX l c",
        "LPOP l",
        "RPOP l 0",
        "RPOP l 2",
        "LPOP l",
        "RPUSH l 1 2 3 2",
        "LSET l 0 x",
        "LINSERT l BEFORE 3 y",
        "LINSERT l BEFORE nothere y",
        "LREM l 0 zz",
        "LREM l 0 2",
        "LTRIM l 0 -1",
        "LTRIM l 1 0",
        "RPUSH s 1 2",
        "LMOVE s d LEFT RIGHT",
        "LMOVE s s LEFT RIGHT",
        "LMOVE s d RIGHT LEFT",
        "LMPOP 2 nokey d LEFT COUNT 5",
        "RPUSH r 1",
        "RPOPLPUSH r r",
    ] {
        c.call(&encode_words(command))?;
    }
    // Recorded from Redis 7.0.15 running the commands above.
    let recorded = [
        ("rpush", "l"),
        ("lpush", "l"),
        ("rpush", "l"),
        ("lpop", "l"),
        ("rpop", "l"),
        ("lpop", "l"),
        ("del", "l"),
        ("rpush", "l"),
        ("lset", "l"),
        ("linsert", "l"),
        ("lrem", "l"),
        ("ltrim", "l"),
        ("ltrim", "l"),
        ("del", "l"),
        ("rpush", "s"),
        ("rpush", "d"),
        ("lpop", "s"),
        ("rpush", "s"),
        ("lpop", "s"),
        ("lpush", "d"),
        ("rpop", "s"),
        ("del", "s"),
        ("lpop", "d"),
        ("del", "d"),
        ("rpush", "r"),
        ("lpush", "r"),
        ("rpop", "r"),
    ];
    s.expect_keyevents(&recorded)
}

/// A list long enough to span many chunks, and elements longer than a
/// chunk: every index, range and change agrees with a plain vector.
#[test]
fn long_lists_span_chunks_and_keep_their_order() -> TestResult {
    let (_server, mut con) = fresh()?;
    let mut model: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    for i in 0..3000 {
        let v = if i % 500 == 7 {
            "x".repeat(10_000)
        } else {
            format!("e{i}")
        };
        if i % 3 == 0 {
            redis::cmd("LPUSH").arg("l").arg(&v).exec(&mut con)?;
            model.push_front(v);
        } else {
            redis::cmd("RPUSH").arg("l").arg(&v).exec(&mut con)?;
            model.push_back(v);
        }
    }
    let all: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .query(&mut con)?;
    assert_eq!(all, Vec::from(model.clone()));
    for i in [0i64, 1, 999, 1500, 2998, 2999, -1, -3000] {
        let got: Option<String> = redis::cmd("LINDEX").arg("l").arg(i).query(&mut con)?;
        let at = if i < 0 { 3000 + i } else { i } as usize;
        assert_eq!(got.as_ref(), model.get(at), "LINDEX {i}");
    }
    let part: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(1200)
        .arg(1300)
        .query(&mut con)?;
    assert_eq!(part, model.range(1200..=1300).cloned().collect::<Vec<_>>());
    redis::cmd("LSET")
        .arg("l")
        .arg(1500)
        .arg("set")
        .exec(&mut con)?;
    model[1500] = "set".into();
    let n: i64 = redis::cmd("LINSERT")
        .arg("l")
        .arg("AFTER")
        .arg("set")
        .arg("after")
        .query(&mut con)?;
    model.insert(1501, "after".into());
    assert_eq!(n, 3001);
    redis::cmd("LTRIM")
        .arg("l")
        .arg(100)
        .arg(-100)
        .exec(&mut con)?;
    let model: Vec<String> = model.range(100..model.len() - 99).cloned().collect();
    let all: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .query(&mut con)?;
    assert_eq!(all, model);
    let popped: Vec<String> = redis::cmd("RPOP").arg("l").arg(50).query(&mut con)?;
    let want: Vec<String> = model.iter().rev().take(50).cloned().collect();
    assert_eq!(popped, want);
    Ok(())
}

#[test]
fn lists_in_multi_exec_and_watch() -> TestResult {
    let server = common::start(common::config())?;
    let mut a = Raw::connect(server.addr())?;
    let mut b = Raw::connect(server.addr())?;
    a.check(&encode_words("RPUSH l 1"), b":1\r\n")?;
    a.check(&encode_words("WATCH l"), b"+OK\r\n")?;
    // Nothing changes: LPUSHX of another key, LREM of an absent value.
    b.check(&encode_words("LPUSHX other 1"), b":0\r\n")?;
    b.check(&encode_words("LREM l 0 zz"), b":0\r\n")?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("RPUSH l 2"), b"+QUEUED\r\n")?;
    a.check(&encode_words("LMPOP 2 nokey l RIGHT"), b"+QUEUED\r\n")?;
    a.check(&encode_words("LRANGE l 0 -1"), b"+QUEUED\r\n")?;
    a.check(
        &encode_words("EXEC"),
        b"*3\r\n:2\r\n*2\r\n$1\r\nl\r\n*1\r\n$1\r\n2\r\n*1\r\n$1\r\n1\r\n",
    )?;
    a.check(&encode_words("WATCH l"), b"+OK\r\n")?;
    b.check(&encode_words("LTRIM l 0 -1"), b"+OK\r\n")?;
    a.check(&encode_words("MULTI"), b"+OK\r\n")?;
    a.check(&encode_words("RPUSH l 9"), b"+QUEUED\r\n")?;
    a.check(&encode_words("EXEC"), b"*-1\r\n")?;
    Ok(())
}

/// LMOVE is atomic: two movers shuttle 100 elements between two lists
/// while a reader's transactions must always count all 100.
#[test]
fn lmove_between_lists_is_atomic() -> TestResult {
    let server = common::start(common::config())?;
    let addr = server.addr();
    let mut setup = Raw::connect(addr)?;
    let mut push = String::from("RPUSH left");
    for i in 0..100 {
        push.push_str(&format!(" e{i}"));
    }
    setup.check(&encode_words(&push), b":100\r\n")?;
    let movers: Vec<_> = [("left", "right"), ("right", "left")]
        .into_iter()
        .map(|(from, to)| {
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut batch = Vec::new();
                for _ in 0..100 {
                    batch.extend(encode_words(&format!("LMOVE {from} {to} LEFT RIGHT")));
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
    batch.extend(encode_words("LLEN left"));
    batch.extend(encode_words("LLEN right"));
    batch.extend(encode_words("EXEC"));
    for _ in 0..500 {
        reader.send(&batch)?;
        let replies = reader.replies(4)?;
        let text = String::from_utf8_lossy(&replies[3]).into_owned();
        let n: Vec<i64> = text
            .split("\r\n")
            .filter_map(|l| l.strip_prefix(':'))
            .map(str::parse::<i64>)
            .collect::<Result<_, _>>()?;
        assert_eq!(
            n.iter().sum::<i64>(),
            100,
            "EXEC saw an element in flight: {text:?}"
        );
    }
    for m in movers {
        m.join().map_err(|_| "mover panicked")??;
    }
    Ok(())
}

/// Lists survive a snapshot plus the log after it, through a restart, in
/// order.
#[test]
fn lists_survive_a_snapshot_and_a_restart() -> TestResult {
    let config = common::Config {
        appendonly: true,
        ..common::config()
    };
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    for i in 0..2000 {
        c.check(
            &encode_words(&format!("RPUSH big e{i}")),
            format!(":{}\r\n", i + 1).as_bytes(),
        )?;
    }
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    c.check(
        &encode_words("LPOP big 2"),
        b"*2\r\n$2\r\ne0\r\n$2\r\ne1\r\n",
    )?;
    c.check(&encode_words("LSET big 0 first"), b"+OK\r\n")?;
    c.check(&encode_words("LPUSH small b a"), b":2\r\n")?;
    server.stop()?;
    let server = common::start(config)?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&encode_words("LLEN big"), b":1998\r\n")?;
    c.check(&encode_words("LINDEX big 0"), b"$5\r\nfirst\r\n")?;
    c.check(&encode_words("LINDEX big -1"), b"$5\r\ne1999\r\n")?;
    c.check(
        &encode_words("LRANGE small 0 -1"),
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    )?;
    c.check(&encode_words("TYPE big"), b"+list\r\n")?;
    c.check(&encode_words("OBJECT ENCODING big"), b"$9\r\nquicklist\r\n")?;
    Ok(())
}
