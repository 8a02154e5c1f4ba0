//! The blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP),
//! the blocking sorted set pops (BZPOPMIN, BZPOPMAX, BZMPOP) and CLIENT
//! UNBLOCK, seen from several clients: who is served first,
//! what wakes a waiting client, timeouts, unblocking, and what a client
//! that leaves behind. The replies were recorded from Redis 7.0.15 doing
//! the same (see `commands.rs` for the notation). A test waits for a
//! client to be blocked by watching INFO's `blocked_clients`, never by
//! sleeping.

mod common;

use common::table::{check, connect};
use common::{encode, encode_words, eventually, text, Error, Raw, Running, TestResult};

fn info_blocked(ctl: &mut Raw) -> Result<u64, Error> {
    let reply = ctl.call(&encode_words("INFO clients"))?;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    reply
        .lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no blocked_clients in {reply}").into())
}

/// Waits until exactly `n` clients are blocked.
fn blocked(ctl: &mut Raw, n: u64) -> TestResult {
    eventually(&format!("{n} blocked clients"), || {
        Ok(info_blocked(ctl)? == n)
    })
}

fn raw(server: &Running) -> Result<Raw, Error> {
    Raw::connect(server.addr())
}

fn client_id(c: &mut Raw) -> Result<String, Error> {
    let reply = c.call(&encode_words("CLIENT ID"))?;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    Ok(reply.trim().trim_start_matches(':').to_owned())
}

#[test]
fn blocking_commands_answer_as_redis_when_they_need_not_wait() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
            ("RPUSH l a b c", ":3"),
            ("BLPOP l 0", "[\"l\", \"a\"]"),
            ("BRPOP l 0", "[\"l\", \"c\"]"),
            ("BLPOP nokey l 1", "[\"l\", \"b\"]"),
            ("BLPOP l x", "-ERR timeout is not a float or out of range"),
            ("BLPOP l -1", "-ERR timeout is negative"),
            ("BLPOP l 1e400", "-ERR timeout is negative"),
            ("BLPOP l inf", "-ERR timeout is negative"),
            (
                "BLPOP l \"\"",
                "-ERR timeout is not a float or out of range",
            ),
            ("RPUSH l a b c", ":3"),
            ("BLPOP l 0x10", "[\"l\", \"a\"]"),
            ("BLPOP l 1.5e3", "[\"l\", \"b\"]"),
            ("BLPOP l 0.0001", "[\"l\", \"c\"]"),
            ("BLPOP nokey 0.001", "nil"),
            ("BRPOP nokey 0.001", "nil"),
            (
                "BLPOP l",
                "-ERR wrong number of arguments for 'blpop' command",
            ),
            ("SET s v", "+OK"),
            (
                "BLPOP s 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "BRPOP nokey s 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("BLMOVE nokey dst LEFT RIGHT 0.001", "nil"),
            (
                "BLMOVE s dst LEFT RIGHT 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("BLMOVE l dst UP RIGHT 0", "-ERR syntax error"),
            (
                "BLMOVE l dst LEFT RIGHT x",
                "-ERR timeout is not a float or out of range",
            ),
            ("RPUSH m 1 2 3", ":3"),
            ("BLMOVE m dst LEFT RIGHT 0", "\"1\""),
            (
                "BLMOVE m s LEFT RIGHT 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("LRANGE m 0 -1", "[\"2\", \"3\"]"),
            ("BRPOPLPUSH m dst 0", "\"3\""),
            ("BRPOPLPUSH nokey dst 0.001", "nil"),
            ("BRPOPLPUSH m dst -1", "-ERR timeout is negative"),
            ("LRANGE dst 0 -1", "[\"3\", \"1\"]"),
            ("BLMPOP 0 1 dst LEFT", "[\"dst\", [\"3\"]]"),
            ("BLMPOP 0 2 nokey dst RIGHT COUNT 5", "[\"dst\", [\"1\"]]"),
            ("BLMPOP 0.001 1 nokey LEFT", "nil"),
            (
                "BLMPOP 0 0 dst LEFT",
                "-ERR numkeys should be greater than 0",
            ),
            (
                "BLMPOP 0 -1 dst LEFT",
                "-ERR numkeys should be greater than 0",
            ),
            ("BLMPOP 0 3 dst LEFT", "-ERR syntax error"),
            ("BLMPOP 0 1 dst UP", "-ERR syntax error"),
            (
                "BLMPOP 0 1 dst LEFT COUNT 0",
                "-ERR count should be greater than 0",
            ),
            (
                "BLMPOP 0 1 dst LEFT COUNT x",
                "-ERR count should be greater than 0",
            ),
            ("BLMPOP 0 1 dst LEFT COUNT 1 COUNT 2", "-ERR syntax error"),
            ("BLMPOP 0 1 dst LEFT FOO", "-ERR syntax error"),
            (
                "BLMPOP x 1 dst LEFT",
                "-ERR timeout is not a float or out of range",
            ),
            ("BLMPOP -1 1 dst LEFT", "-ERR timeout is negative"),
            (
                "BLMPOP 0 1 s LEFT",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("MULTI", "+OK"),
            ("BLPOP nokey 0", "+QUEUED"),
            ("BRPOP nokey 10", "+QUEUED"),
            ("BLMOVE nokey dst LEFT LEFT 0", "+QUEUED"),
            ("BRPOPLPUSH nokey dst 0", "+QUEUED"),
            ("BLMPOP 0 1 nokey LEFT", "+QUEUED"),
            ("RPUSH q x", "+QUEUED"),
            ("BLPOP q 0", "+QUEUED"),
            ("EXEC", "[nil, nil, nil, nil, nil, :1, [\"q\", \"x\"]]"),
            ("CLIENT UNBLOCK 99999", ":0"),
            ("CLIENT UNBLOCK 99999 TIMEOUT", ":0"),
            ("CLIENT UNBLOCK 99999 ERROR", ":0"),
            (
                "CLIENT UNBLOCK 99999 FOO",
                "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ),
            (
                "CLIENT UNBLOCK x",
                "-ERR value is not an integer or out of range",
            ),
            ("DEL l m dst s q", ":2"),
        ],
    )
}

#[test]
fn clients_are_served_in_the_order_they_blocked() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut waiting = Vec::new();
    for i in 0..4 {
        let mut c = raw(&server)?;
        // Each waits on the shared key and on one of its own, so that a
        // client further back is not simply first on every key.
        c.send(&encode_words(&format!("BLPOP own{i} q 0")))?;
        blocked(&mut ctl, i + 1)?;
        waiting.push(c);
    }
    // One push of four: each client gets one element, in line order,
    // before the pusher's reply: its next request finds them gone.
    ctl.check(&encode_words("RPUSH q a b c d"), b":4\r\n")?;
    ctl.check(&encode_words("LLEN q"), b":0\r\n")?;
    for (c, want) in waiting.iter_mut().zip(["a", "b", "c", "d"]) {
        c.expect(format!("*2\r\n$1\r\nq\r\n$1\r\n{want}\r\n").as_bytes())?;
    }
    blocked(&mut ctl, 0)?;
    ctl.check(&encode_words("EXISTS q"), b":0\r\n")?;
    // Pushes one at a time, with the line rebuilt: the same order.
    for (i, c) in waiting.iter_mut().enumerate() {
        c.send(&encode_words("BRPOP q 0"))?;
        blocked(&mut ctl, u64::try_from(i)? + 1)?;
    }
    for want in ["w", "x", "y", "z"] {
        ctl.check(&encode_words(&format!("LPUSH q {want}")), b":1\r\n")?;
    }
    for (c, want) in waiting.iter_mut().zip(["w", "x", "y", "z"]) {
        c.expect(format!("*2\r\n$1\r\nq\r\n$1\r\n{want}\r\n").as_bytes())?;
    }
    Ok(())
}

#[test]
fn pushes_from_exec_lmove_and_a_served_brpoplpush_wake_waiters() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut a = raw(&server)?;
    let mut b = raw(&server)?;

    // From EXEC: the client gets the first push, the second stays.
    a.send(&encode_words("BLPOP q 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("MULTI"), b"+OK\r\n")?;
    ctl.check(&encode_words("RPUSH q m1"), b"+QUEUED\r\n")?;
    ctl.check(&encode_words("RPUSH q m2"), b"+QUEUED\r\n")?;
    ctl.check(&encode_words("EXEC"), b"*2\r\n:1\r\n:2\r\n")?;
    a.expect(b"*2\r\n$1\r\nq\r\n$2\r\nm1\r\n")?;
    ctl.check(&encode_words("LRANGE q 0 -1"), b"*1\r\n$2\r\nm2\r\n")?;
    // A wait is one call in the stats, counted when it answers.
    let stats = text(&ctl.call(&encode_words("INFO commandstats"))?);
    assert!(stats.contains("cmdstat_blpop:calls=1,"), "{stats}");

    // From LMOVE into the key waited on.
    a.send(&encode_words("BLPOP dst 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("LMOVE q dst LEFT LEFT"), b"$2\r\nm2\r\n")?;
    a.expect(b"*2\r\n$3\r\ndst\r\n$2\r\nm2\r\n")?;

    // A chain: the element a BRPOPLPUSH is served moves on to the next.
    a.send(&encode_words("BRPOPLPUSH x y 0"))?;
    blocked(&mut ctl, 1)?;
    b.send(&encode_words("BRPOPLPUSH y z 0"))?;
    blocked(&mut ctl, 2)?;
    ctl.check(&encode_words("RPUSH x e"), b":1\r\n")?;
    a.expect(b"$1\r\ne\r\n")?;
    b.expect(b"$1\r\ne\r\n")?;
    ctl.check(&encode_words("LRANGE z 0 -1"), b"*1\r\n$1\r\ne\r\n")?;
    ctl.check(&encode_words("EXISTS x y"), b":0\r\n")?;

    // BLMPOP waiting takes up to its count from the key that got them.
    a.send(&encode_words("BLMPOP 0 2 q r RIGHT COUNT 3"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH r 1 2 3 4"), b":4\r\n")?;
    a.expect(b"*2\r\n$1\r\nr\r\n*3\r\n$1\r\n4\r\n$1\r\n3\r\n$1\r\n2\r\n")?;
    Ok(())
}

#[test]
fn move_copy_and_swapdb_wake_waiters_in_the_database_they_fill() -> TestResult {
    // Recorded from Redis 7.0.15: each of these serves a client blocked in
    // the database the key arrives in (SWAPDB: either database).
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut a = raw(&server)?;
    a.check(&encode_words("SELECT 1"), b"+OK\r\n")?;
    a.send(&encode_words("BLPOP k 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH k x"), b":1\r\n")?;
    ctl.check(&encode_words("MOVE k 1"), b":1\r\n")?;
    a.expect(b"*2\r\n$1\r\nk\r\n$1\r\nx\r\n")?;

    a.check(&encode_words("SELECT 2"), b"+OK\r\n")?;
    a.send(&encode_words("BLPOP c 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH c y"), b":1\r\n")?;
    ctl.check(&encode_words("COPY c c DB 2"), b":1\r\n")?;
    a.expect(b"*2\r\n$1\r\nc\r\n$1\r\ny\r\n")?;
    ctl.check(&encode_words("LRANGE c 0 -1"), b"*1\r\n$1\r\ny\r\n")?;

    a.check(&encode_words("SELECT 1"), b"+OK\r\n")?;
    a.send(&encode_words("BZPOPMIN zz 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("ZADD zz 1 a"), b":1\r\n")?;
    ctl.check(&encode_words("MOVE zz 1"), b":1\r\n")?;
    a.expect(b"*3\r\n$2\r\nzz\r\n$1\r\na\r\n$1\r\n1\r\n")?;

    a.check(&encode_words("SELECT 0"), b"+OK\r\n")?;
    a.send(&encode_words("BLPOP s 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("SELECT 3"), b"+OK\r\n")?;
    ctl.check(&encode_words("RPUSH s z"), b":1\r\n")?;
    ctl.check(&encode_words("SWAPDB 0 3"), b"+OK\r\n")?;
    a.expect(b"*2\r\n$1\r\ns\r\n$1\r\nz\r\n")?;
    ctl.check(&encode_words("EXISTS s"), b":0\r\n")?;
    ctl.check(&encode_words("SELECT 0"), b"+OK\r\n")?;
    ctl.check(&encode_words("EXISTS s"), b":0\r\n")?;
    Ok(())
}

#[test]
fn a_waiting_client_passes_over_keys_of_another_type() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut a = raw(&server)?;
    // Redis 7.0: a key waited on that becomes a string is passed over.
    a.send(&encode_words("BLPOP k1 k2 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("SET k1 x"), b"+OK\r\n")?;
    ctl.check(&encode_words("RPUSH k2 1"), b":1\r\n")?;
    a.expect(b"*2\r\n$2\r\nk2\r\n$1\r\n1\r\n")?;
    // ... and one that becomes a set, then a list again.
    a.send(&encode_words("BLPOP q 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("SADD q m"), b":1\r\n")?;
    ctl.check(&encode_words("DEL q"), b":1\r\n")?;
    ctl.check(&encode_words("RPUSH q z"), b":1\r\n")?;
    a.expect(b"*2\r\n$1\r\nq\r\n$1\r\nz\r\n")?;
    // A BLMOVE whose destination is of another type gets WRONGTYPE once
    // served, and the element stays.
    a.send(&encode_words("BLMOVE src k1 LEFT LEFT 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH src v"), b":1\r\n")?;
    a.expect(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")?;
    ctl.check(&encode_words("LRANGE src 0 -1"), b"*1\r\n$1\r\nv\r\n")?;
    Ok(())
}

#[test]
fn timeouts_and_client_unblock_end_a_wait() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut a = raw(&server)?;
    let id = client_id(&mut a)?;

    // A fractional timeout ends in the null array (BLMOVE's too, as in
    // Redis 7.0.15).
    a.check(&encode_words("BLPOP q 0.05"), b"*-1\r\n")?;
    a.check(&encode_words("BLMOVE q d LEFT LEFT 0.05"), b"*-1\r\n")?;
    blocked(&mut ctl, 0)?;

    a.send(&encode_words("BLPOP q 0"))?;
    blocked(&mut ctl, 1)?;
    let list = ctl.call(&encode_words("CLIENT LIST"))?;
    let line = text(&list)
        .split("\\n")
        .find(|l| l.contains(&format!("id={id} ")))
        .map(str::to_owned)
        .ok_or("the blocked client is not listed")?;
    assert!(line.contains(" flags=b "), "{line}");
    assert!(line.contains(" cmd=blpop "), "{line}");
    ctl.check(&encode(&[b"CLIENT", b"UNBLOCK", id.as_bytes()]), b":1\r\n")?;
    a.expect(b"*-1\r\n")?;
    blocked(&mut ctl, 0)?;
    ctl.check(&encode(&[b"CLIENT", b"UNBLOCK", id.as_bytes()]), b":0\r\n")?;

    a.send(&encode_words("BRPOPLPUSH q d 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(
        &encode(&[b"CLIENT", b"UNBLOCK", id.as_bytes(), b"TIMEOUT"]),
        b":1\r\n",
    )?;
    a.expect(b"*-1\r\n")?;

    a.send(&encode_words("BLMPOP 0 1 q LEFT"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(
        &encode(&[b"CLIENT", b"UNBLOCK", id.as_bytes(), b"ERROR"]),
        b":1\r\n",
    )?;
    a.expect(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")?;
    // The connection goes on.
    a.check(&encode_words("PING"), b"+PONG\r\n")?;

    // A timeout past what the clock holds waits for ever, without harm.
    a.send(&encode_words("BLPOP q 9223372036854775.807"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode(&[b"CLIENT", b"UNBLOCK", id.as_bytes()]), b":1\r\n")?;
    a.expect(b"*-1\r\n")?;
    Ok(())
}

#[test]
fn requests_pipelined_behind_a_wait_run_after_it() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut a = raw(&server)?;
    let mut pipeline = encode_words("BLPOP q 0");
    pipeline.extend(encode_words("LLEN q"));
    pipeline.extend(encode_words("PING"));
    a.send(&pipeline)?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH q p1 p2"), b":2\r\n")?;
    a.expect(b"*2\r\n$1\r\nq\r\n$2\r\np1\r\n:1\r\n+PONG\r\n")?;
    // Replies to what came before the wait are not held back by it.
    let mut pipeline = encode_words("SET s 1");
    pipeline.extend(encode_words("BLPOP nokey 0"));
    a.send(&pipeline)?;
    a.expect(b"+OK\r\n")?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH nokey v"), b":1\r\n")?;
    a.expect(b"*2\r\n$5\r\nnokey\r\n$1\r\nv\r\n")?;
    Ok(())
}

#[test]
fn a_blocked_client_that_disconnects_leaves_nothing_behind() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    {
        let mut gone = raw(&server)?;
        gone.send(&encode_words("BLPOP q 0"))?;
        blocked(&mut ctl, 1)?;
    }
    blocked(&mut ctl, 0)?;
    let mut next = raw(&server)?;
    next.send(&encode_words("BLPOP q 0"))?;
    blocked(&mut ctl, 1)?;
    // The element goes to the client still there, not to the one gone.
    ctl.check(&encode_words("RPUSH q v"), b":1\r\n")?;
    next.expect(b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n")?;
    // With no one waiting, a push stays.
    ctl.check(&encode_words("RPUSH q w"), b":1\r\n")?;
    ctl.check(&encode_words("LLEN q"), b":1\r\n")?;
    Ok(())
}

#[test]
fn blocking_sorted_set_pops_answer_as_redis_when_they_need_not_wait() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
            ("ZADD bz 1 a 2 b 3 c", ":3"),
            ("BZPOPMIN bz 0", "[\"bz\", \"a\", \"1\"]"),
            ("BZPOPMAX nokey bz 0", "[\"bz\", \"c\", \"3\"]"),
            ("BZPOPMIN nokey 0.01", "nil"),
            ("BZMPOP 0.01 1 nokey MIN", "nil"),
            (
                "BZMPOP 0 2 nokey bz MAX COUNT 5",
                "[\"bz\", [[\"b\", \"2\"]]]",
            ),
            ("EXISTS bz", ":0"),
            (
                "BZPOPMIN bz x",
                "-ERR timeout is not a float or out of range",
            ),
            ("BZPOPMIN bz -1", "-ERR timeout is negative"),
            ("SET s v", "+OK"),
            (
                "BZPOPMIN s 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "BZMPOP 0 1 s MIN",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("BZMPOP 0 0 bz MIN", "-ERR numkeys should be greater than 0"),
            ("BZMPOP 0 1 bz FOO", "-ERR syntax error"),
            (
                "BZMPOP 0 1 bz MIN COUNT 0",
                "-ERR count should be greater than 0",
            ),
            ("MULTI", "+OK"),
            ("BZPOPMIN nokey 0", "+QUEUED"),
            ("BZMPOP 0 1 nokey MAX", "+QUEUED"),
            ("EXEC", "[nil, nil]"),
        ],
    )
}

#[test]
fn blocked_sorted_set_pops_are_served_by_zadd_in_line_order() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut a = raw(&server)?;
    let mut b = raw(&server)?;
    let mut d = raw(&server)?;
    a.send(&encode_words("BZPOPMIN z 0"))?;
    blocked(&mut ctl, 1)?;
    b.send(&encode_words("BZMPOP 0 2 other z MAX COUNT 2"))?;
    blocked(&mut ctl, 2)?;
    d.send(&encode_words("BZPOPMAX z 0"))?;
    blocked(&mut ctl, 3)?;
    // One ZADD of four: the first in line takes the lowest, the second
    // the two highest left, the third the last one.
    ctl.check(&encode_words("ZADD z 1 m1 2 m2 3 m3 4 m4"), b":4\r\n")?;
    ctl.check(&encode_words("ZCARD z"), b":0\r\n")?;
    a.expect(b"*3\r\n$1\r\nz\r\n$2\r\nm1\r\n$1\r\n1\r\n")?;
    b.expect(b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$2\r\nm4\r\n$1\r\n4\r\n*2\r\n$2\r\nm3\r\n$1\r\n3\r\n")?;
    d.expect(b"*3\r\n$1\r\nz\r\n$2\r\nm2\r\n$1\r\n2\r\n")?;
    // A key that becomes a list serves no one waiting for a sorted set;
    // ZUNIONSTORE into it later does.
    a.send(&encode_words("BZPOPMIN q 0"))?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH q x"), b":1\r\n")?;
    ctl.check(&encode_words("ZADD src 7 s"), b":1\r\n")?;
    ctl.check(&encode_words("ZUNIONSTORE q 1 src"), b":1\r\n")?;
    a.expect(b"*3\r\n$1\r\nq\r\n$1\r\ns\r\n$1\r\n7\r\n")?;
    a.check(&encode_words("BZPOPMIN q 0.05"), b"*-1\r\n")?;
    // Waiting for different types on one key: a write serves the first
    // waiting for what the key now holds, and the other waits on.
    a.send(&encode_words("BLPOP mixed 0"))?;
    blocked(&mut ctl, 1)?;
    b.send(&encode_words("BZPOPMIN mixed 0"))?;
    blocked(&mut ctl, 2)?;
    ctl.check(&encode_words("ZADD mixed 1 m"), b":1\r\n")?;
    b.expect(b"*3\r\n$5\r\nmixed\r\n$1\r\nm\r\n$1\r\n1\r\n")?;
    blocked(&mut ctl, 1)?;
    ctl.check(&encode_words("RPUSH mixed e"), b":1\r\n")?;
    a.expect(b"*2\r\n$5\r\nmixed\r\n$1\r\ne\r\n")?;
    Ok(())
}

/// Producers push numbered elements while consumers pop them with
/// BLPOP/BRPOP/BLMPOP/BLMOVE: every element reaches exactly one consumer,
/// none is left behind, and no consumer times out while there is
/// something to take (a lost wake-up would show as one).
#[test]
fn stress_every_pushed_element_reaches_exactly_one_waiting_client() -> TestResult {
    const PRODUCERS: usize = 3;
    const PER_PRODUCER: usize = 400;
    const CONSUMERS: usize = 4;
    let server = common::start_default()?;
    let addr = server.addr();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|i| {
            std::thread::spawn(move || -> Result<Vec<String>, String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut got = Vec::new();
                loop {
                    // A generous timeout: reaching it means a lost wake-up.
                    let request = match (i + got.len()) % 4 {
                        0 => "BLPOP other q 10",
                        1 => "BRPOP q 10",
                        2 => "BLMPOP 10 1 q LEFT COUNT 2",
                        _ => "BLMOVE q side LEFT LEFT 10",
                    };
                    let reply = c.call(&encode_words(request)).map_err(|e| e.to_string())?;
                    let reply = String::from_utf8_lossy(&reply).into_owned();
                    if reply.starts_with("*-1") || reply.starts_with("$-1") {
                        return Err(format!("consumer {i} timed out after {}", got.len()));
                    }
                    let items: Vec<String> = reply
                        .split("\r\n")
                        .filter(|w| w.starts_with('e') || *w == "stop")
                        .map(str::to_owned)
                        .collect();
                    if request.starts_with("BLMOVE") {
                        // The element went to `side`: take it back out.
                        c.call(&encode_words("LPOP side"))
                            .map_err(|e| e.to_string())?;
                    }
                    let stop = items.iter().any(|w| w == "stop");
                    got.extend(items.into_iter().filter(|w| w != "stop"));
                    if stop {
                        return Ok(got);
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                for n in 0..PER_PRODUCER {
                    let push = if n % 2 == 0 { "RPUSH" } else { "LPUSH" };
                    let reply = c
                        .call(&encode_words(&format!("{push} q e{p}-{n}")))
                        .map_err(|e| e.to_string())?;
                    if !reply.starts_with(b":") {
                        return Err(text(&reply));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for p in producers {
        p.join().map_err(|_| "producer panicked")??;
    }
    // One stop per consumer, after every element, each once the last is
    // taken: a BLMPOP consumer would take two stops together.
    let mut ctl = raw(&server)?;
    for _ in 0..CONSUMERS {
        eventually("the queue to drain", || {
            Ok(ctl.call(&encode_words("LLEN q"))? == b":0\r\n")
        })?;
        ctl.call(&encode_words("RPUSH q stop"))?;
    }
    let mut all = Vec::new();
    for c in consumers {
        all.extend(c.join().map_err(|_| "consumer panicked")??);
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "an element was served twice");
    assert_eq!(total, PRODUCERS * PER_PRODUCER, "an element was lost");
    ctl.check(&encode_words("EXISTS q side"), b":0\r\n")?;
    blocked(&mut ctl, 0)?;
    Ok(())
}

/// INFO stats' `keyspace_hits` and `keyspace_misses`.
fn lookups(ctl: &mut Raw) -> Result<(u64, u64), Error> {
    let info = String::from_utf8_lossy(&ctl.call(&encode_words("INFO stats"))?).into_owned();
    let field = |name: &str| -> Result<u64, Error> {
        let line = info
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .ok_or(format!("no {name} in INFO"))?;
        Ok(line.trim().parse()?)
    };
    Ok((field("keyspace_hits:")?, field("keyspace_misses:")?))
}

#[test]
fn writes_while_a_client_waits_count_no_keyspace_lookups() -> TestResult {
    // Redis 7.0.15: with a client in BLPOP, 100 SETs leave keyspace_hits
    // and keyspace_misses where they were.
    let server = common::start_default()?;
    let mut ctl = raw(&server)?;
    let mut waiter = raw(&server)?;
    waiter.send(&encode_words("BLPOP q0 0"))?;
    blocked(&mut ctl, 1)?;
    let before = lookups(&mut ctl)?;
    for i in 0..100 {
        ctl.check(&encode_words(&format!("SET k{i} v")), b"+OK\r\n")?;
    }
    assert_eq!(lookups(&mut ctl)?, before);
    Ok(())
}

#[test]
fn a_timed_out_wait_is_a_null_array_in_resp2() -> TestResult {
    // Redis 7.0.15's bytes: every timed-out wait is `*-1`, BLMOVE's and
    // BRPOPLPUSH's too; inside EXEC, where nothing waits, BLMOVE's empty
    // reply is a null bulk string.
    let server = common::start_default()?;
    let mut c = raw(&server)?;
    c.check(
        &encode_words("BLMOVE nokey dst LEFT RIGHT 0.01"),
        b"*-1\r\n",
    )?;
    c.check(&encode_words("BRPOPLPUSH nokey dst 0.01"), b"*-1\r\n")?;
    c.check(&encode_words("BLPOP nokey 0.01"), b"*-1\r\n")?;
    c.send(&encode_words("MULTI"))?;
    c.send(&encode_words("BRPOPLPUSH nokey dst 0"))?;
    c.send(&encode_words("BLPOP nokey 0"))?;
    c.send(&encode_words("EXEC"))?;
    c.expect(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$-1\r\n*-1\r\n")?;
    Ok(())
}
