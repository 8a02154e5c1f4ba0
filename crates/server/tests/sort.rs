//! SORT and SORT_RO: numeric and ALPHA sorts, DESC, LIMIT, BY patterns
//! (string keys and hash fields, `nosort`), GET patterns (`#`, missing
//! keys, no `*`), STORE (a list, an empty result deleting it, a set
//! sorted when stored), the errors, on lists, sets and sorted sets; and
//! STORE serving a client blocked on its destination.
//!
//! The table is (request, reply) run in order on one connection to a
//! fresh server; the replies were recorded from Redis 7.0.15 running the
//! same requests in the same order (see `commands.rs` for the notation).

mod common;

use common::table::{check, connect};
use common::{encode_words, eventually, Raw, TestResult};

#[test]
fn sort_answers_as_redis() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
        ("RPUSH l 3 1 2 10", ":4"),
        ("SORT l", "[\"1\", \"2\", \"3\", \"10\"]"),
        ("SORT l DESC", "[\"10\", \"3\", \"2\", \"1\"]"),
        ("SORT l ALPHA", "[\"1\", \"10\", \"2\", \"3\"]"),
        ("SORT l ALPHA DESC", "[\"3\", \"2\", \"10\", \"1\"]"),
        ("SORT l LIMIT 1 2", "[\"2\", \"3\"]"),
        ("SORT l LIMIT 0 -1", "[\"1\", \"2\", \"3\", \"10\"]"),
        ("SORT l LIMIT -5 2", "[\"1\", \"2\"]"),
        ("SORT l LIMIT 10 2", "[]"),
        ("SORT l LIMIT 1 x", "-ERR value is not an integer or out of range"),
        ("SORT l LIMIT 1", "-ERR syntax error"),
        ("SORT l FOO", "-ERR syntax error"),
        ("MSET w_3 30 w_1 10 w_2 5", "+OK"),
        ("SORT l BY w_*", "[\"10\", \"2\", \"1\", \"3\"]"),
        ("SORT l BY w_* DESC", "[\"3\", \"1\", \"2\", \"10\"]"),
        ("SORT l BY w_* GET #", "[\"10\", \"2\", \"1\", \"3\"]"),
        ("SORT l BY w_* GET # GET w_*", "[\"10\", nil, \"2\", \"5\", \"1\", \"10\", \"3\", \"30\"]"),
        ("SORT l BY nosort", "[\"3\", \"1\", \"2\", \"10\"]"),
        ("SORT l BY nosort DESC", "[\"10\", \"2\", \"1\", \"3\"]"),
        ("SORT l BY nosort LIMIT 1 2", "[\"1\", \"2\"]"),
        ("SORT l BY nosort GET w_*", "[\"30\", \"10\", \"5\", nil]"),
        ("HSET h_1 f a", ":1"),
        ("HSET h_2 f c", ":1"),
        ("HSET h_3 f b", ":1"),
        ("SORT l BY h_*->f ALPHA", "[\"10\", \"1\", \"3\", \"2\"]"),
        ("SORT l BY h_*->f ALPHA GET h_*->f", "[nil, \"a\", \"b\", \"c\"]"),
        ("SORT l GET h_*->f GET h_*->nope GET # GET nostar", "[\"a\", nil, \"1\", nil, \"c\", nil, \"2\", nil, \"b\", nil, \"3\", nil, nil, nil, \"10\", nil]"),
        ("SORT l BY h_*->f", "-ERR One or more scores can't be converted into double"),
        ("RPUSH words banana apple cherry", ":3"),
        ("SORT words", "-ERR One or more scores can't be converted into double"),
        ("SORT words ALPHA", "[\"apple\", \"banana\", \"cherry\"]"),
        ("SORT words BY w_*", "[\"apple\", \"banana\", \"cherry\"]"),
        ("SORT words ALPHA BY nokey_* DESC", "[\"banana\", \"apple\", \"cherry\"]"),
        ("SADD s 5 3 9 1", ":4"),
        ("SORT s", "[\"1\", \"3\", \"5\", \"9\"]"),
        ("SORT s DESC LIMIT 0 2", "[\"9\", \"5\"]"),
        ("SORT s BY nosort STORE dst", ":4"),
        ("LRANGE dst 0 -1", "[\"1\", \"3\", \"5\", \"9\"]"),
        ("SADD sw b a c", ":3"),
        ("SORT sw BY nosort STORE dst2", ":3"),
        ("LRANGE dst2 0 -1", "[\"a\", \"b\", \"c\"]"),
        ("ZADD z 3 c 1 a 2 b", ":3"),
        ("SORT z ALPHA", "[\"a\", \"b\", \"c\"]"),
        ("SORT z BY nosort", "[\"a\", \"b\", \"c\"]"),
        ("SORT z BY nosort DESC LIMIT 0 2", "[\"c\", \"b\"]"),
        ("SORT z BY nosort LIMIT 1 1", "[\"b\"]"),
        ("SORT l STORE out", ":4"),
        ("LRANGE out 0 -1", "[\"1\", \"2\", \"3\", \"10\"]"),
        ("TYPE out", "+list"),
        ("SORT l GET nokey_* STORE out", ":4"),
        ("LRANGE out 0 -1", "[\"\", \"\", \"\", \"\"]"),
        ("SORT nokey STORE out", ":0"),
        ("EXISTS out", ":0"),
        ("SORT nokey", "[]"),
        ("SET str v", "+OK"),
        ("SORT str", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("SORT str FOO", "-ERR syntax error"),
        ("SORT_RO l", "[\"1\", \"2\", \"3\", \"10\"]"),
        ("SORT_RO l STORE x", "-ERR syntax error"),
        ("SORT_RO l BY w_* GET # DESC", "[\"3\", \"1\", \"2\", \"10\"]"),
        ("SORT_RO str", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("RPUSH bad 1 x 2", ":3"),
        ("SORT bad", "-ERR One or more scores can't be converted into double"),
        ("SORT bad ALPHA", "[\"1\", \"2\", \"x\"]"),
        ("SORT bad BY nosort", "[\"1\", \"x\", \"2\"]"),
        ("RPUSH sp 4 \"\" 2", ":3"),
        ("SORT sp", "[\"\", \"2\", \"4\"]"),
        ],
    )
}

#[test]
fn sort_store_serves_a_client_blocked_on_its_destination() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = Raw::connect(server.addr())?;
    let mut waiter = Raw::connect(server.addr())?;
    ctl.check(&encode_words("RPUSH src 3 1 2"), b":3\r\n")?;
    waiter.send(&encode_words("BLPOP dst 0"))?;
    eventually("the client to block", || {
        let info = ctl.call(&encode_words("INFO clients"))?;
        Ok(String::from_utf8_lossy(&info).contains("blocked_clients:1\r\n"))
    })?;
    ctl.check(&encode_words("SORT src STORE dst"), b":3\r\n")?;
    waiter.expect(b"*2\r\n$3\r\ndst\r\n$1\r\n1\r\n")?;
    ctl.check(
        &encode_words("LRANGE dst 0 -1"),
        b"*2\r\n$1\r\n2\r\n$1\r\n3\r\n",
    )?;
    Ok(())
}
