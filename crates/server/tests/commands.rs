//! Every command, through a real client library (the `redis` crate, as
//! an application would use Tandem), with its options and its error
//! replies: strings (SET and its options, SETNX, SETEX, PSETEX, GETSET,
//! GETDEL, GETEX, MGET, MSET, MSETNX, counters, APPEND, STRLEN, GETRANGE,
//! SUBSTR, SETRANGE), keys (DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME,
//! RENAMENX, COPY, MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB,
//! FLUSHALL, SELECT), expiry (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with
//! NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST, and keys
//! actually expiring), unknown commands and wrong arity, TANDEM.RANGE,
//! COMMAND and CONFIG GET.
//!
//! Most tests are tables of (request, reply) run in order on one
//! connection to a fresh server. For Redis's commands the replies were
//! recorded from Redis 7.0.15 running the same requests in the same order,
//! so a difference is a difference from Redis; TANDEM.RANGE's follow its
//! documented syntax (`src/command/range.rs`). Replies are written as
//! text: `+OK`, `:1`, `"bulk"` (escaped as `escape_ascii` does), `nil`,
//! `-ERR ...`, `[...]`.

mod common;

use common::table::{check, connect, render, reply, run, run_args};
use common::{Error, Running, TestResult};
use redis::{Connection, ConnectionLike, Value};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_engine::clock::{Clock, ManualClock};

/// A fresh server and one connection to it. Its TTLs run on a clock
/// stopped at the time it starts, so a TTL read back is exactly the one
/// set, however slow the machine.
fn fresh() -> Result<(Running, Connection), Error> {
    let (server, con, _clock) = fresh_with_clock()?;
    Ok((server, con))
}

/// `fresh`, with the clock, for tests that move time on.
fn fresh_with_clock() -> Result<(Running, Connection, Arc<ManualClock>), Error> {
    let clock = common::manual_clock();
    let server = common::start_with_clock(common::config(), &clock)?;
    let con = connect(&server)?;
    Ok((server, con, clock))
}

/// The elements of an array reply.
fn array(v: Value) -> Result<Vec<Value>, Error> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(format!("not an array: {}", render(&other)).into()),
    }
}

/// The bytes of a bulk string reply.
fn bulk(v: &Value) -> Result<Vec<u8>, Error> {
    match v {
        Value::BulkString(b) => Ok(b.clone()),
        other => Err(format!("not a bulk string: {}", render(other)).into()),
    }
}

/// The text of a bulk string reply.
fn string(v: &Value) -> Result<String, Error> {
    Ok(String::from_utf8(bulk(v)?)?)
}

#[test]
fn set_and_its_options() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("SET k v", "+OK"),
            ("GET k", "\"v\""),
            // NX only writes an absent key; XX only a present one
            ("SET k v2 NX", "nil"),
            ("SET k v2 XX", "+OK"),
            ("GET k", "\"v2\""),
            ("SET new v XX", "nil"),
            ("EXISTS new", ":0"),
            ("SET new v NX", "+OK"),
            // GET returns the old value, and combines with NX and XX
            ("SET k v3 GET", "\"v2\""),
            ("SET k v4 XX GET", "\"v3\""),
            ("SET k v5 NX GET", "\"v4\""),
            ("SET absent v NX GET", "nil"),
            ("SET absent2 v GET", "nil"),
            // Expiry options
            ("SET k v EX 100", "+OK"),
            ("TTL k", ":100"),
            ("SET k v PX 100000", "+OK"),
            ("TTL k", ":100"),
            ("SET k v2 KEEPTTL", "+OK"),
            ("TTL k", ":100"),
            ("GET k", "\"v2\""),
            ("SET k v", "+OK"),
            ("TTL k", ":-1"),
            ("SET k v EXAT 4102444800", "+OK"),
            ("EXPIRETIME k", ":4102444800"),
            ("SET k v PXAT 4102444800123", "+OK"),
            ("PEXPIRETIME k", ":4102444800123"),
            ("set k v ex 100 get", "\"v\""),
            // Option words are case-insensitive
            ("set k v Nx", "nil"),
            ("SeT k v xX eX 10", "+OK"),
            // Syntax errors: conflicting or repeated expiries, NX with XX, unknown words
            ("SET k v NX XX", "-ERR syntax error"),
            ("SET k v XX NX", "-ERR syntax error"),
            ("SET k v EX 10 PX 100", "-ERR syntax error"),
            ("SET k v EX 10 KEEPTTL", "-ERR syntax error"),
            ("SET k v KEEPTTL EX 10", "-ERR syntax error"),
            ("SET k v PXAT 1 EXAT 1", "-ERR syntax error"),
            ("SET k v EX", "-ERR syntax error"),
            ("SET k v FOO", "-ERR syntax error"),
            ("SET k v EX 10 FOO", "-ERR syntax error"),
            // A syntax error wins over a bad number
            ("SET k v EX abc FOO", "-ERR syntax error"),
            (
                "SET k v EX abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "SET k v EX 1.5",
                "-ERR value is not an integer or out of range",
            ),
            // Expire times that are not positive, or overflow
            ("SET k v EX 0", "-ERR invalid expire time in 'set' command"),
            ("SET k v EX -1", "-ERR invalid expire time in 'set' command"),
            ("SET k v PX 0", "-ERR invalid expire time in 'set' command"),
            (
                "SET k v EXAT 0",
                "-ERR invalid expire time in 'set' command",
            ),
            (
                "SET k v PXAT -5",
                "-ERR invalid expire time in 'set' command",
            ),
            (
                "SET k v EX 9223372036854775807",
                "-ERR invalid expire time in 'set' command",
            ),
            (
                "SET k v PX 9223372036854775807",
                "-ERR invalid expire time in 'set' command",
            ),
            (
                "SET k v EXAT 9223372036854775807",
                "-ERR invalid expire time in 'set' command",
            ),
            (
                "SET k v EX 9223372036854775",
                "-ERR invalid expire time in 'set' command",
            ),
            // The failed SETs left the value alone
            ("GET k", "\"v\""),
            // An expiry time in the past deletes the key
            ("SET k v EXAT 1", "+OK"),
            ("EXISTS k", ":0"),
            ("SET k v PXAT 1 GET", "nil"),
            ("EXISTS k", ":0"),
            // Arity
            ("SET k", "-ERR wrong number of arguments for 'set' command"),
            ("SET", "-ERR wrong number of arguments for 'set' command"),
        ],
    )
}

#[test]
fn setnx_setex_psetex_getset_getdel_getex() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            // SETNX: 1 when it wrote, 0 when the key existed
            ("SETNX k v", ":1"),
            ("SETNX k v2", ":0"),
            ("GET k", "\"v\""),
            // SETEX / PSETEX set a value with a TTL
            ("SETEX k 100 v", "+OK"),
            ("TTL k", ":100"),
            ("PSETEX k 100000 v", "+OK"),
            ("TTL k", ":100"),
            ("SETEX k 0 v", "-ERR invalid expire time in 'setex' command"),
            (
                "SETEX k -1 v",
                "-ERR invalid expire time in 'setex' command",
            ),
            (
                "SETEX k abc v",
                "-ERR value is not an integer or out of range",
            ),
            (
                "PSETEX k 0 v",
                "-ERR invalid expire time in 'psetex' command",
            ),
            (
                "PSETEX k -10 v",
                "-ERR invalid expire time in 'psetex' command",
            ),
            (
                "SETEX k 9223372036854775807 v",
                "-ERR invalid expire time in 'setex' command",
            ),
            (
                "SETEX k 100",
                "-ERR wrong number of arguments for 'setex' command",
            ),
            // GETSET returns the old value and clears the TTL
            ("GETSET k new", "\"v\""),
            ("TTL k", ":-1"),
            ("GETSET absent v", "nil"),
            (
                "GETSET k",
                "-ERR wrong number of arguments for 'getset' command",
            ),
            // GETDEL
            ("GETDEL k", "\"new\""),
            ("GETDEL k", "nil"),
            ("EXISTS k", ":0"),
            (
                "GETDEL",
                "-ERR wrong number of arguments for 'getdel' command",
            ),
            // GETEX without options only reads
            ("SET k v", "+OK"),
            ("GETEX k", "\"v\""),
            ("TTL k", ":-1"),
            ("GETEX nokey", "nil"),
            ("GETEX nokey EX 10", "nil"),
            ("GETEX k EX 100", "\"v\""),
            ("TTL k", ":100"),
            ("GETEX k PERSIST", "\"v\""),
            ("TTL k", ":-1"),
            ("GETEX k PX 100000", "\"v\""),
            ("TTL k", ":100"),
            ("GETEX k EXAT 4102444800", "\"v\""),
            ("EXPIRETIME k", ":4102444800"),
            ("GETEX k PXAT 4102444800123", "\"v\""),
            ("PEXPIRETIME k", ":4102444800123"),
            ("getex k persist", "\"v\""),
            // GETEX errors: conflicting options, missing numbers, bad times
            ("GETEX k PERSIST EX 10", "-ERR syntax error"),
            ("GETEX k EX 10 PX 10", "-ERR syntax error"),
            ("GETEX k EX 10 PERSIST", "-ERR syntax error"),
            ("GETEX k EX", "-ERR syntax error"),
            ("GETEX k FOO", "-ERR syntax error"),
            (
                "GETEX k EX abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "GETEX k EX 0",
                "-ERR invalid expire time in 'getex' command",
            ),
            (
                "GETEX k EX -5",
                "-ERR invalid expire time in 'getex' command",
            ),
            (
                "GETEX k PX 9223372036854775807",
                "-ERR invalid expire time in 'getex' command",
            ),
            (
                "GETEX",
                "-ERR wrong number of arguments for 'getex' command",
            ),
            // A time in the past deletes the key, returning the value
            ("GETEX k EXAT 1", "\"v\""),
            ("EXISTS k", ":0"),
        ],
    )
}

#[test]
fn mget_mset_msetnx() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("MSET a 1 b 2 c 3", "+OK"),
            ("MGET a b c absent", "[\"1\", \"2\", \"3\", nil]"),
            ("MGET absent", "[nil]"),
            (
                "MSET a 10 b",
                "-ERR wrong number of arguments for 'mset' command",
            ),
            (
                "MSET a",
                "-ERR wrong number of arguments for 'mset' command",
            ),
            ("MGET", "-ERR wrong number of arguments for 'mget' command"),
            ("MGET a", "[\"1\"]"),
            // MSETNX writes all or nothing
            ("MSETNX a 1 x 2", ":0"),
            ("EXISTS x", ":0"),
            ("MSETNX x 1 y 2", ":1"),
            ("MGET x y", "[\"1\", \"2\"]"),
            (
                "MSETNX x 1 y",
                "-ERR wrong number of arguments for 'msetnx' command",
            ),
            (
                "MSETNX z",
                "-ERR wrong number of arguments for 'msetnx' command",
            ),
            // The same key twice: the last value wins
            ("MSET d 1 d 2", "+OK"),
            ("GET d", "\"2\""),
            ("MSETNX e 1 e 2", ":1"),
            ("GET e", "\"2\""),
        ],
    )
}

#[test]
fn counters_and_their_errors() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("INCR n", ":1"),
            ("INCR n", ":2"),
            ("DECR n", ":1"),
            ("INCRBY n 10", ":11"),
            ("DECRBY n 3", ":8"),
            ("INCRBY n -5", ":3"),
            ("DECRBY n -5", ":8"),
            ("GET n", "\"8\""),
            ("DECR fresh", ":-1"),
            ("INCRBY fresh2 7", ":7"),
            ("DECRBY fresh3 7", ":-7"),
            (
                "INCRBY n abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "INCRBY n 1.5",
                "-ERR value is not an integer or out of range",
            ),
            (
                "DECRBY n abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "INCRBY n 99999999999999999999",
                "-ERR value is not an integer or out of range",
            ),
            ("SET max 9223372036854775807", "+OK"),
            ("INCR max", "-ERR increment or decrement would overflow"),
            ("INCRBY max 1", "-ERR increment or decrement would overflow"),
            ("SET min -9223372036854775808", "+OK"),
            ("DECR min", "-ERR increment or decrement would overflow"),
            ("DECRBY min 1", "-ERR increment or decrement would overflow"),
            (
                "INCRBY min -1",
                "-ERR increment or decrement would overflow",
            ),
            (
                "DECRBY zero -9223372036854775808",
                "-ERR decrement would overflow",
            ),
            ("DECRBY zero 9223372036854775807", ":-9223372036854775807"),
            ("SET s hello", "+OK"),
            ("INCR s", "-ERR value is not an integer or out of range"),
            ("DECR s", "-ERR value is not an integer or out of range"),
            ("INCRBY s 1", "-ERR value is not an integer or out of range"),
            ("SET lead 01", "+OK"),
            ("INCR lead", "-ERR value is not an integer or out of range"),
            ("SET f 1.5", "+OK"),
            ("INCR f", "-ERR value is not an integer or out of range"),
            // INCRBYFLOAT replies with the new value as a bulk string
            ("INCRBYFLOAT f 0.1", "\"1.6\""),
            ("INCRBYFLOAT f -1.6", "\"0\""),
            ("GET f", "\"0\""),
            ("INCRBYFLOAT nf 3", "\"3\""),
            ("INCRBYFLOAT nf 1e3", "\"1003\""),
            ("INCRBYFLOAT e 5.0e3", "\"5000\""),
            ("SET g 3.0", "+OK"),
            ("INCRBYFLOAT g 1", "\"4\""),
            ("INCRBYFLOAT g abc", "-ERR value is not a valid float"),
            ("INCRBYFLOAT s 1", "-ERR value is not a valid float"),
            (
                "INCRBYFLOAT g inf",
                "-ERR increment would produce NaN or Infinity",
            ),
            ("SET sp 1_", "+OK"),
            ("INCR sp", "-ERR value is not an integer or out of range"),
            ("INCRBYFLOAT sp 1", "-ERR value is not a valid float"),
            (
                "INCRBYFLOAT g",
                "-ERR wrong number of arguments for 'incrbyfloat' command",
            ),
            ("INCR", "-ERR wrong number of arguments for 'incr' command"),
            (
                "INCR a b",
                "-ERR wrong number of arguments for 'incr' command",
            ),
        ],
    )
}

#[test]
fn append_strlen_getrange_substr_setrange() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("APPEND s hello", ":5"),
            ("APPEND s _world", ":11"),
            ("GET s", "\"hello_world\""),
            ("STRLEN s", ":11"),
            ("STRLEN absent", ":0"),
            ("APPEND s \"\"", ":11"),
            ("GETRANGE s 0 4", "\"hello\""),
            ("GETRANGE s -5 -1", "\"world\""),
            ("GETRANGE s 6 100", "\"world\""),
            ("GETRANGE s 5 1", "\"\""),
            ("GETRANGE s -100 2", "\"hel\""),
            ("GETRANGE s 0 -100", "\"h\""),
            ("GETRANGE s 100 200", "\"\""),
            ("GETRANGE s 0 9223372036854775807", "\"hello_world\""),
            ("GETRANGE s -9223372036854775808 0", "\"h\""),
            ("GETRANGE absent 0 10", "\"\""),
            (
                "GETRANGE s a 1",
                "-ERR value is not an integer or out of range",
            ),
            (
                "GETRANGE s 0",
                "-ERR wrong number of arguments for 'getrange' command",
            ),
            ("SUBSTR s 0 4", "\"hello\""),
            ("SUBSTR s -3 -1", "\"rld\""),
            ("SETRANGE s 6 WORLD", ":11"),
            ("GET s", "\"hello_WORLD\""),
            ("SETRANGE s 13 !", ":14"),
            ("GET s", "\"hello_WORLD\\x00\\x00!\""),
            ("SETRANGE pad 3 abc", ":6"),
            ("GET pad", "\"\\x00\\x00\\x00abc\""),
            ("SETRANGE s -1 x", "-ERR offset is out of range"),
            (
                "SETRANGE s abc x",
                "-ERR value is not an integer or out of range",
            ),
            (
                "SETRANGE s 536870911 xx",
                "-ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            ),
            (
                "SETRANGE s 536870912 x",
                "-ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            ),
            // An empty patch on an absent key creates nothing
            ("SETRANGE absent 0 \"\"", ":0"),
            ("SETRANGE absent 5 \"\"", ":0"),
            ("EXISTS absent", ":0"),
            ("SETRANGE s 0 \"\"", ":14"),
            ("STRLEN s", ":14"),
        ],
    )
}

#[test]
fn del_unlink_exists_touch_type_rename_renamenx() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("MSET a 1 b 2 c 3", "+OK"),
            // DEL and UNLINK count the keys they removed; EXISTS and TOUCH count repeats
            ("DEL a absent b", ":2"),
            ("DEL a", ":0"),
            ("UNLINK c absent", ":1"),
            ("MSET a 1 b 2", "+OK"),
            ("EXISTS a a b absent", ":3"),
            ("TOUCH a b absent", ":2"),
            ("EXISTS absent", ":0"),
            ("DEL", "-ERR wrong number of arguments for 'del' command"),
            (
                "EXISTS",
                "-ERR wrong number of arguments for 'exists' command",
            ),
            ("TYPE a", "+string"),
            ("TYPE absent", "+none"),
            // RENAME moves the value and its TTL
            ("SET ttl v EX 100", "+OK"),
            ("RENAME ttl moved", "+OK"),
            ("TTL moved", ":100"),
            ("EXISTS ttl", ":0"),
            ("RENAME absent x", "-ERR no such key"),
            ("RENAME a a", "+OK"),
            ("GET a", "\"1\""),
            ("RENAME a b", "+OK"),
            ("GET b", "\"1\""),
            ("EXISTS a", ":0"),
            (
                "RENAME b",
                "-ERR wrong number of arguments for 'rename' command",
            ),
            // RENAMENX only to a free name
            ("SET a 1", "+OK"),
            ("RENAMENX a b", ":0"),
            ("RENAMENX a c", ":1"),
            ("GET c", "\"1\""),
            ("RENAMENX absent x", "-ERR no such key"),
            ("RENAMENX c c", ":0"),
            ("DBSIZE", ":3"),
        ],
    )
}

#[test]
fn copy_move_and_select() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("SET src v EX 100", "+OK"),
            ("COPY src dst", ":1"),
            ("GET dst", "\"v\""),
            ("TTL dst", ":100"),
            ("COPY src dst", ":0"),
            ("SET src v2", "+OK"),
            ("COPY src dst REPLACE", ":1"),
            ("GET dst", "\"v2\""),
            ("COPY absent dst", ":0"),
            (
                "COPY src src",
                "-ERR source and destination objects are the same",
            ),
            (
                "COPY src src REPLACE",
                "-ERR source and destination objects are the same",
            ),
            // To another database, with and without REPLACE
            ("COPY src dst DB 1", ":1"),
            ("COPY src dst DB 1", ":0"),
            ("COPY src dst db 1 replace", ":1"),
            ("COPY src dst DB 16", "-ERR DB index is out of range"),
            ("COPY src dst DB -1", "-ERR DB index is out of range"),
            (
                "COPY src dst DB abc",
                "-ERR value is not an integer or out of range",
            ),
            ("COPY src dst DB", "-ERR syntax error"),
            ("COPY src dst FOO", "-ERR syntax error"),
            (
                "COPY src",
                "-ERR wrong number of arguments for 'copy' command",
            ),
            ("SELECT 1", "+OK"),
            ("GET dst", "\"v2\""),
            ("DBSIZE", ":1"),
            // A COPY to the same database by number still copies (it is not the same key)
            ("COPY dst dst2 DB 1", ":1"),
            (
                "COPY dst dst DB 1",
                "-ERR source and destination objects are the same",
            ),
            ("COPY dst dst DB 0", ":0"),
            ("SELECT 0", "+OK"),
            ("GET dst", "\"v2\""),
            // MOVE: 1 when moved, 0 when absent here or present there
            ("MOVE src 2", ":1"),
            ("EXISTS src", ":0"),
            ("SELECT 2", "+OK"),
            ("GET src", "\"v2\""),
            (
                "MOVE src 2",
                "-ERR source and destination objects are the same",
            ),
            ("MOVE absent 0", ":0"),
            ("SET clash here", "+OK"),
            ("SELECT 0", "+OK"),
            ("SET clash there", "+OK"),
            ("SELECT 2", "+OK"),
            ("MOVE clash 0", ":0"),
            ("GET clash", "\"here\""),
            ("MOVE clash 16", "-ERR DB index is out of range"),
            ("MOVE clash -1", "-ERR DB index is out of range"),
            (
                "MOVE clash abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "MOVE clash",
                "-ERR wrong number of arguments for 'move' command",
            ),
            ("SELECT 16", "-ERR DB index is out of range"),
            ("SELECT -1", "-ERR DB index is out of range"),
            ("SELECT abc", "-ERR value is not an integer or out of range"),
            ("SELECT 15", "+OK"),
            (
                "SELECT",
                "-ERR wrong number of arguments for 'select' command",
            ),
        ],
    )
}

#[test]
fn flushdb_flushall_dbsize_randomkey() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("RANDOMKEY", "nil"),
            ("SET a 1", "+OK"),
            ("RANDOMKEY", "\"a\""),
            ("SELECT 1", "+OK"),
            ("SET b 1", "+OK"),
            ("DBSIZE", ":1"),
            // FLUSHDB empties only the selected database
            ("FLUSHDB", "+OK"),
            ("DBSIZE", ":0"),
            ("SELECT 0", "+OK"),
            ("DBSIZE", ":1"),
            ("SELECT 1", "+OK"),
            ("SET b 1", "+OK"),
            ("FLUSHDB ASYNC", "+OK"),
            ("FLUSHDB SYNC", "+OK"),
            ("FLUSHDB foo", "-ERR syntax error"),
            ("FLUSHALL foo", "-ERR syntax error"),
            ("FLUSHDB a b", "-ERR syntax error"),
            ("SET b 1", "+OK"),
            // FLUSHALL empties every database
            ("FLUSHALL", "+OK"),
            ("DBSIZE", ":0"),
            ("SELECT 0", "+OK"),
            ("DBSIZE", ":0"),
            ("FLUSHALL ASYNC", "+OK"),
            ("FLUSHALL SYNC", "+OK"),
            ("RANDOMKEY", "nil"),
        ],
    )
}

#[test]
fn expire_family_ttl_and_persist() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            ("EXPIRE absent 100", ":0"),
            ("TTL absent", ":-2"),
            ("PTTL absent", ":-2"),
            ("EXPIRETIME absent", ":-2"),
            ("PEXPIRETIME absent", ":-2"),
            ("PERSIST absent", ":0"),
            ("SET k v", "+OK"),
            ("TTL k", ":-1"),
            ("PTTL k", ":-1"),
            ("EXPIRETIME k", ":-1"),
            ("PEXPIRETIME k", ":-1"),
            ("PERSIST k", ":0"),
            ("EXPIRE k 100", ":1"),
            ("TTL k", ":100"),
            ("PERSIST k", ":1"),
            ("TTL k", ":-1"),
            ("PEXPIRE k 100000", ":1"),
            ("TTL k", ":100"),
            ("EXPIREAT k 4102444800", ":1"),
            ("EXPIRETIME k", ":4102444800"),
            ("PEXPIRETIME k", ":4102444800000"),
            ("PEXPIREAT k 4102444800123", ":1"),
            ("PEXPIRETIME k", ":4102444800123"),
            ("EXPIRETIME k", ":4102444800"),
            // NX: only without a TTL; XX: only with one
            ("PERSIST k", ":1"),
            ("EXPIRE k 100 XX", ":0"),
            ("EXPIRE k 100 NX", ":1"),
            ("EXPIRE k 200 NX", ":0"),
            ("TTL k", ":100"),
            ("EXPIRE k 200 XX", ":1"),
            ("TTL k", ":200"),
            // GT and LT compare with the current TTL; no TTL counts as infinite
            ("EXPIRE k 100 GT", ":0"),
            ("EXPIRE k 300 GT", ":1"),
            ("TTL k", ":300"),
            ("EXPIRE k 400 LT", ":0"),
            ("EXPIRE k 50 LT", ":1"),
            ("TTL k", ":50"),
            ("PERSIST k", ":1"),
            ("EXPIRE k 50 GT", ":0"),
            ("EXPIRE k 50 LT", ":1"),
            ("TTL k", ":50"),
            ("PEXPIRE k 100000 XX GT", ":1"),
            ("TTL k", ":100"),
            // Flag errors
            (
                "EXPIRE k 10 NX XX",
                "-ERR NX and XX, GT or LT options at the same time are not compatible",
            ),
            (
                "EXPIRE k 10 NX GT",
                "-ERR NX and XX, GT or LT options at the same time are not compatible",
            ),
            (
                "EXPIRE k 10 NX LT",
                "-ERR NX and XX, GT or LT options at the same time are not compatible",
            ),
            (
                "EXPIRE k 10 GT LT",
                "-ERR GT and LT options at the same time are not compatible",
            ),
            ("EXPIRE k 10 FOO", "-ERR Unsupported option FOO"),
            ("EXPIRE k 10 nx nx", ":0"),
            (
                "EXPIRE k abc",
                "-ERR value is not an integer or out of range",
            ),
            (
                "EXPIRE k 1.5",
                "-ERR value is not an integer or out of range",
            ),
            (
                "EXPIRE k",
                "-ERR wrong number of arguments for 'expire' command",
            ),
            (
                "EXPIRE",
                "-ERR wrong number of arguments for 'expire' command",
            ),
            // Overflowing times
            (
                "EXPIRE k 9223372036854775807",
                "-ERR invalid expire time in 'expire' command",
            ),
            (
                "PEXPIRE k 9223372036854775807",
                "-ERR invalid expire time in 'pexpire' command",
            ),
            (
                "EXPIREAT k 9223372036854775807",
                "-ERR invalid expire time in 'expireat' command",
            ),
            ("PEXPIREAT k 9223372036854775807", ":1"),
            (
                "EXPIRE k 9223372036854775",
                "-ERR invalid expire time in 'expire' command",
            ),
            (
                "EXPIRE k -9223372036854775808",
                "-ERR invalid expire time in 'expire' command",
            ),
            ("EXISTS k", ":1"),
            // A time not in the future deletes the key
            ("SET k v", "+OK"),
            ("EXPIRE k 0", ":1"),
            ("EXISTS k", ":0"),
            ("SET k v", "+OK"),
            ("PEXPIRE k -1", ":1"),
            ("EXISTS k", ":0"),
            ("SET k v", "+OK"),
            ("EXPIREAT k 1", ":1"),
            ("EXISTS k", ":0"),
            ("SET k v", "+OK"),
            ("PEXPIREAT k 1 NX", ":1"),
            ("EXISTS k", ":0"),
            ("SET k v EX 100", "+OK"),
            ("EXPIRE k -5 LT", ":1"),
            ("EXISTS k", ":0"),
        ],
    )
}

#[test]
fn unknown_commands_wrong_arity_and_argument_errors() -> TestResult {
    // Every reply here is an error or a plain answer on the same
    // connection: an error never closes it.
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[
            // Unknown commands name the command and quote its first arguments
            (
                "foo a b",
                "-ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
            ),
            (
                "FOO",
                "-ERR unknown command 'FOO', with args beginning with: ",
            ),
            (
                "nosuchcommand x",
                "-ERR unknown command 'nosuchcommand', with args beginning with: 'x' ",
            ),
            // Wrong arity names the command in lowercase
            ("GET", "-ERR wrong number of arguments for 'get' command"),
            (
                "GET a b",
                "-ERR wrong number of arguments for 'get' command",
            ),
            ("Get", "-ERR wrong number of arguments for 'get' command"),
            (
                "PING a b",
                "-ERR wrong number of arguments for 'ping' command",
            ),
            ("ECHO", "-ERR wrong number of arguments for 'echo' command"),
            ("PING", "+PONG"),
            ("PING hello", "\"hello\""),
            ("ECHO hello", "\"hello\""),
            // SCAN argument errors
            ("SCAN", "-ERR wrong number of arguments for 'scan' command"),
            ("SCAN abc", "-ERR invalid cursor"),
            ("SCAN 0 COUNT 0", "-ERR syntax error"),
            ("SCAN 0 COUNT -1", "-ERR syntax error"),
            (
                "SCAN 0 COUNT abc",
                "-ERR value is not an integer or out of range",
            ),
            ("SCAN 0 MATCH", "-ERR syntax error"),
            ("SCAN 0 FOO bar", "-ERR syntax error"),
            ("SCAN 0 TYPE", "-ERR syntax error"),
            // KEYS
            ("KEYS", "-ERR wrong number of arguments for 'keys' command"),
            ("KEYS *", "[]"),
            ("CONFIG GET save", "[\"save\", \"3600 1 300 100 60 10000\"]"),
            ("CONFIG GET appendonly", "[\"appendonly\", \"no\"]"),
            ("CONFIG GET maxclients", "[\"maxclients\", \"10000\"]"),
            ("CONFIG GET databases", "[\"databases\", \"16\"]"),
            ("CONFIG GET nosuchsetting", "[]"),
            (
                "CONFIG GET",
                "-ERR wrong number of arguments for 'config|get' command",
            ),
            (
                "CONFIG FOO",
                "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.",
            ),
            (
                "CONFIG",
                "-ERR wrong number of arguments for 'config' command",
            ),
            (
                "COMMAND FOO",
                "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.",
            ),
        ],
    )?;
    // Arguments are quoted as given, cut at about 128 bytes.
    let long = "x".repeat(200);
    let got = reply(&mut con, &format!("nosuch {long} y"))?;
    assert_eq!(
        got,
        format!(
            "-ERR unknown command 'nosuch', with args beginning with: '{}' ",
            "x".repeat(128)
        )
    );
    // The 128 bytes are counted over the whole list.
    let got = reply(
        &mut con,
        &format!("nosuch {} {} c", "a".repeat(100), "b".repeat(100)),
    )?;
    assert_eq!(
        got,
        format!(
            "-ERR unknown command 'nosuch', with args beginning with: '{}' '{}' ",
            "a".repeat(100),
            "b".repeat(25)
        )
    );
    // Still usable.
    assert_eq!(reply(&mut con, "PING")?, "+PONG");
    Ok(())
}

#[test]
fn ttls_count_down_and_keys_expire() -> TestResult {
    let (_server, mut con, clock) = fresh_with_clock()?;
    let start = i64::try_from(clock.now_ms())?;
    // A key with PX 50 is gone once 50 ms have passed, for every way of
    // looking at it, and not a millisecond sooner.
    check(
        &mut con,
        &[
            ("SET short v PX 50", "+OK"),
            ("SET kept v", "+OK"),
            ("SETEX sx 100 v", "+OK"),
            ("PTTL short", ":50"),
        ],
    )?;
    clock.advance(50);
    check(&mut con, &[("PTTL short", ":0"), ("GET short", "\"v\"")])?;
    clock.advance(1);
    check(
        &mut con,
        &[
            ("GET short", "nil"),
            ("EXISTS short", ":0"),
            ("TTL short", ":-2"),
            ("PTTL short", ":-2"),
            ("GET kept", "\"v\""),
        ],
    )?;
    assert_eq!(sorted_keys(&mut con, "*")?, ["kept", "sx"]);
    // PTTL counts down in milliseconds, TTL rounds to the nearest second.
    check(
        &mut con,
        &[
            ("PTTL sx", ":99949"),
            ("TTL sx", ":100"),
            ("PEXPIRETIME sx", &format!(":{}", start + 100_000)),
        ],
    )?;
    clock.advance(600);
    check(&mut con, &[("PTTL sx", ":99349"), ("TTL sx", ":99")])?;
    Ok(())
}

#[test]
fn keys_expire_by_themselves_at_their_deadline() -> TestResult {
    // The real clock: this is the reaper's work, not a read's.
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    // A key set to expire very soon disappears by itself, without being
    // read: DBSIZE stops counting it.
    check(
        &mut con,
        &[("SET kept v", "+OK"), ("SET gone v PX 30", "+OK")],
    )?;
    let deadline = Instant::now() + common::TIMEOUT;
    loop {
        if reply(&mut con, "DBSIZE")? == ":1" {
            break;
        }
        assert!(Instant::now() < deadline, "expired key still counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

#[test]
fn swapdb_is_seen_by_every_connection() -> TestResult {
    let (server, mut zero) = fresh()?;
    let mut one = connect(&server)?;
    check(&mut zero, &[("SET k in-zero", "+OK")])?;
    check(&mut one, &[("SELECT 1", "+OK"), ("SET k in-one", "+OK")])?;
    check(&mut zero, &[("SWAPDB 0 1", "+OK"), ("GET k", "\"in-one\"")])?;
    // The client that selected 1 now sees what was 0, without reselecting.
    check(&mut one, &[("GET k", "\"in-zero\"")])?;
    // A new client, on database 0, sees the swapped data too.
    let mut fresh_client = connect(&server)?;
    check(&mut fresh_client, &[("GET k", "\"in-one\"")])?;
    // Swapping back, and errors.
    check(
        &mut one,
        &[
            ("SWAPDB 1 0", "+OK"),
            ("GET k", "\"in-one\""),
            ("SWAPDB 0 16", "-ERR DB index is out of range"),
            ("SWAPDB 0 -1", "-ERR DB index is out of range"),
            ("SWAPDB a 1", "-ERR invalid first DB index"),
            ("SWAPDB 0 b", "-ERR invalid second DB index"),
            (
                "SWAPDB 0",
                "-ERR wrong number of arguments for 'swapdb' command",
            ),
            ("SWAPDB 0 0", "+OK"),
            ("SWAPDB 1 1", "+OK"),
        ],
    )?;
    check(&mut zero, &[("GET k", "\"in-zero\"")])
}

/// KEYS's reply, sorted (its order is not defined).
fn sorted_keys(con: &mut Connection, pattern: &str) -> Result<Vec<String>, Error> {
    let mut keys = array(run_args(con, &[b"KEYS", pattern.as_bytes()])?)?
        .iter()
        .map(string)
        .collect::<Result<Vec<_>, _>>()?;
    keys.sort();
    Ok(keys)
}

#[test]
fn keys_matches_glob_patterns() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[(
            "MSET hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 h*llo 6 h]llo 7 h-llo 8 x 9 a\\b 1 hbllo 2",
            "+OK",
        )],
    )?;
    // Expected lists from Redis 7.0.15 with the same keys, sorted.
    let all = [
        "a\\b", "h*llo", "h-llo", "h]llo", "hallo", "hbllo", "heeeello", "hello", "hllo", "hxllo",
        "x",
    ];
    let cases: &[(&str, &[&str])] = &[
        ("*", &all),
        (
            "h?llo",
            &[
                "h*llo", "h-llo", "h]llo", "hallo", "hbllo", "hello", "hxllo",
            ],
        ),
        (
            "h*llo",
            &[
                "h*llo", "h-llo", "h]llo", "hallo", "hbllo", "heeeello", "hello", "hllo", "hxllo",
            ],
        ),
        ("h[ae]llo", &["hallo", "hello"]),
        (
            "h[^e]llo",
            &["h*llo", "h-llo", "h]llo", "hallo", "hbllo", "hxllo"],
        ),
        ("h[^a-e]llo", &["h*llo", "h-llo", "h]llo", "hxllo"]),
        ("h[a-b]llo", &["hallo", "hbllo"]),
        // A reversed range is a range.
        ("h[b-a]llo", &["hallo", "hbllo"]),
        // `!` is not negation in Redis's globs.
        ("h[!e]llo", &["hello"]),
        ("h\\*llo", &["h*llo"]),
        ("h[\\-]llo", &["h-llo"]),
        ("a\\\\b", &["a\\b"]),
        ("a\\b", &[]),
        // Unclosed classes match nothing.
        ("h[", &[]),
        ("h[a", &[]),
        ("h[]]llo", &[]),
        ("h??llo", &[]),
        // Case matters.
        ("H*", &[]),
        ("[hx]*", &all[1..]),
        ("nomatch*", &[]),
    ];
    for (pattern, expected) in cases {
        assert_eq!(sorted_keys(&mut con, pattern)?, *expected, "KEYS {pattern}");
    }
    Ok(())
}

/// One SCAN call: the next cursor and the keys.
fn scan(con: &mut Connection, args: &str) -> Result<(String, Vec<String>), Error> {
    let mut reply = array(run(con, &format!("SCAN {args}"))?)?.into_iter();
    let (Some(cursor), Some(keys), None) = (reply.next(), reply.next(), reply.next()) else {
        return Err("SCAN's reply is not a pair".into());
    };
    let keys = array(keys)?
        .iter()
        .map(string)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((string(&cursor)?, keys))
}

/// Every key a full SCAN returns (with `options`), checking none twice.
fn scan_all(con: &mut Connection, options: &str) -> Result<(BTreeSet<String>, usize), Error> {
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, keys) = scan(con, &format!("{cursor} {options}"))?;
        calls += 1;
        for k in keys {
            assert!(seen.insert(k.clone()), "SCAN returned {k} twice");
        }
        if next == "0" {
            return Ok((seen, calls));
        }
        assert!(calls < 100_000, "SCAN does not end");
        cursor = next;
    }
}

#[test]
fn scan_returns_every_key_exactly_once() -> TestResult {
    let (_server, mut con) = fresh()?;
    let mut expected = BTreeSet::new();
    for chunk in 0..10 {
        let mut mset = redis::cmd("MSET");
        for i in chunk * 150..(chunk + 1) * 150 {
            let key = if i % 3 == 0 {
                format!("user:{i}")
            } else {
                format!("item:{i}")
            };
            mset.arg(&key).arg(i);
            expected.insert(key);
        }
        assert_eq!(render(&con.req_command(&mset)?), "+OK");
    }
    // Small pages: many calls, and still each key once.
    let (all, calls) = scan_all(&mut con, "COUNT 7")?;
    assert_eq!(all, expected);
    assert!(calls > 10, "only {calls} SCAN calls");
    // The default page size.
    assert_eq!(scan_all(&mut con, "")?.0, expected);
    // MATCH filters; the scan still visits the whole keyspace.
    let users: BTreeSet<String> = expected
        .iter()
        .filter(|k| k.starts_with("user:"))
        .cloned()
        .collect();
    assert_eq!(scan_all(&mut con, "MATCH user:* COUNT 50")?.0, users);
    let ones: BTreeSet<String> = expected
        .iter()
        .filter(|k| k.starts_with("item:1") && k.len() == "item:1x".len())
        .cloned()
        .collect();
    assert_eq!(scan_all(&mut con, "MATCH item:1? COUNT 1000")?.0, ones);
    // TYPE: every value is a string today.
    assert_eq!(scan_all(&mut con, "TYPE string COUNT 100")?.0, expected);
    assert!(scan_all(&mut con, "TYPE hash COUNT 100")?.0.is_empty());
    assert!(scan_all(&mut con, "type nosuchtype")?.0.is_empty());
    // Options combine, in any order and case.
    assert_eq!(
        scan_all(&mut con, "type STRING match user:* count 30")?.0,
        users
    );
    // An empty database: one call, cursor 0.
    check(&mut con, &[("FLUSHDB", "+OK"), ("SCAN 0", "[\"0\", []]")])
}

#[test]
fn randomkey_returns_an_existing_key() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[("RANDOMKEY", "nil"), ("MSET a 1 b 2 c 3", "+OK")],
    )?;
    let keys: HashSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let k = string(&run(&mut con, "RANDOMKEY")?)?;
        assert!(keys.contains(&k), "RANDOMKEY gave {k}");
        seen.insert(k);
    }
    // Random enough to return more than one of three keys in 200 tries.
    assert!(seen.len() > 1, "RANDOMKEY always gave {seen:?}");
    // Other databases do not count.
    check(&mut con, &[("SELECT 3", "+OK"), ("RANDOMKEY", "nil")])
}

#[test]
fn tandem_range_bounds_limit_and_values() -> TestResult {
    let (_server, mut con, clock) = fresh_with_clock()?;
    check(
        &mut con,
        &[
            ("TANDEM.RANGE - +", "[nil, []]"),
            ("MSET a 1 b 2 c 3 d 4 e 5", "+OK"),
            // A key in another database is not in this one's range.
            ("SELECT 1", "+OK"),
            ("SET c other", "+OK"),
            ("SELECT 0", "+OK"),
            // Bounds as in ZRANGEBYLEX: - and + are the ends, [ includes,
            // ( excludes. The reply is [continuation, keys].
            (
                "TANDEM.RANGE - +",
                "[nil, [\"a\", \"b\", \"c\", \"d\", \"e\"]]",
            ),
            ("TANDEM.RANGE [b (d", "[nil, [\"b\", \"c\"]]"),
            ("TANDEM.RANGE (b [d", "[nil, [\"c\", \"d\"]]"),
            ("TANDEM.RANGE (b (c", "[nil, []]"),
            ("TANDEM.RANGE [b [b", "[nil, [\"b\"]]"),
            ("TANDEM.RANGE [c +", "[nil, [\"c\", \"d\", \"e\"]]"),
            ("TANDEM.RANGE - (c", "[nil, [\"a\", \"b\"]]"),
            ("TANDEM.RANGE [bb [cc", "[nil, [\"c\"]]"),
            ("TANDEM.RANGE [d [b", "[nil, []]"),
            // `+` as a start or `-` as an end selects nothing.
            ("TANDEM.RANGE + -", "[nil, []]"),
            ("TANDEM.RANGE + +", "[nil, []]"),
            ("TANDEM.RANGE - -", "[nil, []]"),
            // An empty bound: everything from the first key on.
            (
                "TANDEM.RANGE [ +",
                "[nil, [\"a\", \"b\", \"c\", \"d\", \"e\"]]",
            ),
            (
                "TANDEM.RANGE ( +",
                "[nil, [\"a\", \"b\", \"c\", \"d\", \"e\"]]",
            ),
            // LIMIT: the continuation is the first key of the next page.
            ("TANDEM.RANGE - + LIMIT 2", "[\"c\", [\"a\", \"b\"]]"),
            ("TANDEM.RANGE [c + LIMIT 2", "[\"e\", [\"c\", \"d\"]]"),
            ("TANDEM.RANGE [e + LIMIT 2", "[nil, [\"e\"]]"),
            ("TANDEM.RANGE - (c LIMIT 2", "[nil, [\"a\", \"b\"]]"),
            // WITHVALUES: key, value, key, value.
            (
                "TANDEM.RANGE (b [d WITHVALUES",
                "[nil, [\"c\", \"3\", \"d\", \"4\"]]",
            ),
            (
                "tandem.range - + limit 2 withvalues",
                "[\"c\", [\"a\", \"1\", \"b\", \"2\"]]",
            ),
            (
                "TANDEM.RANGE - + WITHVALUES LIMIT 1",
                "[\"b\", [\"a\", \"1\"]]",
            ),
            // Errors.
            ("TANDEM.RANGE - + LIMIT 0", "-ERR LIMIT must be positive"),
            ("TANDEM.RANGE - + LIMIT -1", "-ERR LIMIT must be positive"),
            (
                "TANDEM.RANGE - + LIMIT abc",
                "-ERR value is not an integer or out of range",
            ),
            ("TANDEM.RANGE - + LIMIT", "-ERR syntax error"),
            ("TANDEM.RANGE - + FOO", "-ERR syntax error"),
            (
                "TANDEM.RANGE a +",
                "-ERR min or max not valid string range item",
            ),
            (
                "TANDEM.RANGE - b",
                "-ERR min or max not valid string range item",
            ),
            (
                "TANDEM.RANGE -",
                "-ERR wrong number of arguments for 'tandem.range' command",
            ),
        ],
    )?;
    // Expired keys are not listed.
    check(&mut con, &[("SET bb v PX 1", "+OK")])?;
    clock.advance(2);
    check(&mut con, &[("TANDEM.RANGE [b [c", "[nil, [\"b\", \"c\"]]")])
}

/// Reads `[start, end]` page by page through the continuation key,
/// returning the keys in the order received and the number of pages.
fn range_pages(
    con: &mut Connection,
    start: &[u8],
    end: &[u8],
    limit: Option<usize>,
) -> Result<(Vec<Vec<u8>>, usize), Error> {
    let mut keys = Vec::new();
    let mut start = start.to_vec();
    let mut pages = 0;
    loop {
        let limit_arg = limit.map(|n| n.to_string());
        let mut args: Vec<&[u8]> = vec![b"TANDEM.RANGE", &start, end];
        if let Some(n) = &limit_arg {
            args.extend([b"LIMIT".as_slice(), n.as_bytes()]);
        }
        let mut reply = array(run_args(con, &args)?)?.into_iter();
        let (Some(next), Some(page), None) = (reply.next(), reply.next(), reply.next()) else {
            return Err("TANDEM.RANGE's reply is not a pair".into());
        };
        let page = array(page)?;
        pages += 1;
        if let Some(n) = limit {
            assert!(page.len() <= n, "a page of {} with LIMIT {n}", page.len());
        }
        for k in &page {
            keys.push(bulk(k)?);
        }
        match next {
            Value::Nil => return Ok((keys, pages)),
            next => {
                assert!(!page.is_empty(), "an empty page that is not the last");
                start = [b"[".as_slice(), &bulk(&next)?].concat();
            }
        }
        assert!(pages < 100_000, "TANDEM.RANGE does not end");
    }
}

#[test]
fn tandem_range_pagination_reads_every_key_once_in_order() -> TestResult {
    let (_server, mut con) = fresh()?;
    // Keys that sort differently as text and as numbers, and bytes that
    // sort last and first, to check the order is bytewise.
    let mut keys: Vec<Vec<u8>> = (0..2_500).map(|i| format!("k:{i}").into_bytes()).collect();
    keys.extend([
        b"\x00first".to_vec(),
        b"\xffl\xffast".to_vec(),
        b"k:".to_vec(),
        b"k:\x00".to_vec(),
    ]);
    for chunk in keys.chunks(500) {
        let mut mset = redis::cmd("MSET");
        for k in chunk {
            mset.arg(k.as_slice()).arg(b"v".as_slice());
        }
        assert_eq!(render(&con.req_command(&mset)?), "+OK");
    }
    keys.sort();
    // Uneven pages, pages of the default size (100), one big page.
    for limit in [Some(7), None, Some(100), Some(10_000)] {
        let (got, pages) = range_pages(&mut con, b"-", b"+", limit)?;
        assert!(
            got == keys,
            "LIMIT {limit:?}: {} keys, not the {} in order",
            got.len(),
            keys.len()
        );
        let per_page = limit.unwrap_or(100);
        assert!(pages >= keys.len().div_ceil(per_page), "{pages} pages");
    }
    // Within bounds: k:100 up to but not including k:200, bytewise.
    let (got, _) = range_pages(&mut con, b"[k:100", b"(k:200", Some(30))?;
    let want: Vec<Vec<u8>> = keys
        .iter()
        .filter(|k| k.as_slice() >= b"k:100".as_slice() && k.as_slice() < b"k:200".as_slice())
        .cloned()
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "bounded pages differ");
    Ok(())
}

#[test]
fn command_lists_and_describes_every_command() -> TestResult {
    let (_server, mut con) = fresh()?;
    let count = match run(&mut con, "COMMAND COUNT")? {
        Value::Int(n) => usize::try_from(n)?,
        other => return Err(format!("COMMAND COUNT: {}", render(&other)).into()),
    };
    // COMMAND LIST names subcommands too (`config|get`), as Redis 7 does;
    // COMMAND COUNT counts commands.
    let names = array(run(&mut con, "COMMAND LIST")?)?
        .iter()
        .map(string)
        .collect::<Result<Vec<_>, _>>()?;
    assert!(names.iter().any(|n| n == "config|get"));
    let names: Vec<String> = names.into_iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(names.len(), count);
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), count, "a name listed twice");
    for name in [
        "tandem.range",
        "get",
        "set",
        "scan",
        "expire",
        "command",
        "config",
        "hello",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} not listed");
    }
    // COMMAND alone describes each one, first the name.
    let all = array(run(&mut con, "COMMAND")?)?;
    assert_eq!(all.len(), count);
    let mut described = Vec::new();
    for entry in all {
        let entry = array(entry)?;
        assert_eq!(entry.len(), 10, "Redis 7's ten fields");
        described.push(string(&entry[0])?);
    }
    assert_eq!(described, names);
    // TANDEM.RANGE: arity -3, read-only, no key positions (its arguments
    // are bounds, not keys).
    check(
        &mut con,
        &[(
            "COMMAND INFO tandem.range",
            "[[\"tandem.range\", :-3, [+readonly], :0, :0, :0, [+@keyspace, +@read, +@slow], [], [], []]]",
        )],
    )?;
    // Name, arity, flags and key positions as Redis 7.0.15 reports them
    // (the other fields are checked in tests/introspection.rs).
    let redis: &[(&str, &str)] = &[
        ("get", "[\"get\", :2, [+readonly, +fast], :1, :1, :1]"),
        ("GET", "[\"get\", :2, [+readonly, +fast], :1, :1, :1]"),
        ("set", "[\"set\", :-3, [+write, +denyoom], :1, :1, :1]"),
        ("mset", "[\"mset\", :-3, [+write, +denyoom], :1, :-1, :2]"),
        ("mget", "[\"mget\", :-2, [+readonly, +fast], :1, :-1, :1]"),
        ("del", "[\"del\", :-2, [+write], :1, :-1, :1]"),
        ("rename", "[\"rename\", :3, [+write], :1, :2, :1]"),
        ("copy", "[\"copy\", :-3, [+write, +denyoom], :1, :2, :1]"),
        ("scan", "[\"scan\", :-2, [+readonly], :0, :0, :0]"),
        ("expire", "[\"expire\", :-3, [+write, +fast], :1, :1, :1]"),
        ("ping", "[\"ping\", :-1, [+fast], :0, :0, :0]"),
    ];
    for (name, want) in redis {
        let mut info = array(run(&mut con, &format!("COMMAND INFO {name}"))?)?;
        let entry = array(info.pop().ok_or("no entry")?)?;
        let got = render(&Value::Array(entry.into_iter().take(6).collect()));
        assert_eq!(got, *want, "COMMAND INFO {name}");
    }
    check(
        &mut con,
        &[
            ("COMMAND INFO nosuch", "[nil]"),
            (
                "COMMAND FOO",
                "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.",
            ),
        ],
    )
}

/// CONFIG GET's reply as sorted (name, value) pairs (its order is not
/// defined).
fn config_get(con: &mut Connection, patterns: &str) -> Result<Vec<(String, String)>, Error> {
    let flat = array(run(con, &format!("CONFIG GET {patterns}"))?)?;
    let mut pairs = flat
        .chunks(2)
        .map(|p| match p {
            [k, v] => Ok((string(k)?, string(v)?)),
            _ => Err(Error::from("CONFIG GET: an odd number of elements")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    pairs.sort();
    Ok(pairs)
}

#[test]
fn config_get_answers_by_name_and_glob() -> TestResult {
    let (server, mut con) = fresh()?;
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    // What redis-benchmark and clients ask for before they start.
    assert_eq!(
        config_get(&mut con, "save")?,
        [pair("save", "3600 1 300 100 60 10000")]
    );
    assert_eq!(
        config_get(&mut con, "appendonly")?,
        [pair("appendonly", "no")]
    );
    // Globs, several patterns at once, and case-insensitive names.
    assert_eq!(
        config_get(&mut con, "maxclient*")?,
        [pair("maxclients", "10000")]
    );
    assert_eq!(
        config_get(&mut con, "proto-max-*")?,
        [
            pair("proto-max-bulk-len", "536870912"),
            pair("proto-max-multibulk-len", "1048576"),
        ]
    );
    assert_eq!(
        config_get(&mut con, "save appendonly databases")?,
        [
            pair("appendonly", "no"),
            pair("databases", "16"),
            pair("save", "3600 1 300 100 60 10000"),
        ]
    );
    assert_eq!(
        config_get(&mut con, "p?rt")?,
        [pair("port", &server.addr().port().to_string())]
    );
    assert_eq!(config_get(&mut con, "nosuch*")?, []);
    let all = config_get(&mut con, "*")?;
    for name in [
        "bind",
        "port",
        "timeout",
        "maxclients",
        "requirepass",
        "save",
        "appendonly",
    ] {
        assert!(
            all.iter().any(|(k, _)| k == name),
            "{name} not in CONFIG GET *"
        );
    }
    check(
        &mut con,
        &[
            (
                "CONFIG GET",
                "-ERR wrong number of arguments for 'config|get' command",
            ),
            (
                "CONFIG FOO",
                "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.",
            ),
        ],
    )
}

#[test]
fn config_set_checks_names_before_values_as_redis_does() -> TestResult {
    let (_server, mut con) = fresh()?;
    // Replies recorded from Redis 7.0.15.
    check(
        &mut con,
        &[
            ("config set maxmemory 6mb maxmemory 7mb", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"),
            ("config set maxmemory 6mb MAXMEMORY 7mb", "-ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"),
            ("config set maxmemory-policy allkeys-lru maxmemory-policy foo", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - duplicate parameter"),
            ("config set maxmemory 8mb timeout", "-ERR syntax error"),
            ("config set NoSuch x y z", "-ERR Unknown option or number of arguments for CONFIG SET - 'NoSuch'"),
            ("config set dir /tmp", "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
            ("config set dbfilename foo.rdb", "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"),
            ("config set timeout +5", "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"),
            ("config set timeout 007", "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"),
            ("config set timeout -0", "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"),
            ("config set maxmemory \"\"", "+OK"),
            ("config get maxmemory", "[\"maxmemory\", \"0\"]"),
            ("config set maxmemory +5", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
            ("config set maxclients 0", "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"),
            ("config set appendfsync foo", "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"),
            ("config set timeout 0 maxmemory 0", "+OK"),
            ("config set MaxMemory foo", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
            ("config get tcp-keepalive", "[\"tcp-keepalive\", \"300\"]"),
            ("config set tcp-keepalive -1", "-ERR CONFIG SET failed (possibly related to argument 'tcp-keepalive') - argument must be between 0 and 2147483647 inclusive"),
            ("config set tcp-keepalive 60", "+OK"),
            ("config set loglevel debug", "+OK"),
            ("config get loglevel", "[\"loglevel\", \"debug\"]"),
            ("config set loglevel Warning", "+OK"),
            ("config get loglevel", "[\"loglevel\", \"warning\"]"),
            ("config set loglevel foo", "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"),
        ],
    )
}

#[test]
fn config_set_maxclients_refuses_more_than_the_os_can_open() -> TestResult {
    let (_server, mut con) = fresh()?;
    // Redis 7.0.15's `updateMaxclients` words; the number offered is what
    // this machine's limit leaves.
    let refused = common::table::render(&run(&mut con, "config set maxclients 4294967295")?);
    let words = "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with ";
    let offered: u64 = refused
        .strip_prefix(words)
        .ok_or(refused.clone())?
        .parse()?;
    assert!(offered < 4_294_967_295, "{refused}");
    // Nothing changed; the number offered is taken.
    check(
        &mut con,
        &[("config get maxclients", "[\"maxclients\", \"10000\"]")],
    )?;
    check(
        &mut con,
        &[
            (&format!("config set maxclients {offered}"), "+OK"),
            (
                "config get maxclients",
                &format!("[\"maxclients\", \"{offered}\"]"),
            ),
        ],
    )
}

// The tests below show differences from Redis 7.0.15 in command modules
// that are reported, not yet fixed; they are ignored so the suite stays
// green. Each states Redis's reply.

#[test]
fn config_get_of_an_exact_name_echoes_it_as_given() -> TestResult {
    let (_server, mut con) = fresh()?;
    // Redis 7.0.15 (default save rules): *2 $4 SAVE $23 3600 1 300 100 60
    // 10000; a glob replies with the real name.
    check(
        &mut con,
        &[
            ("CONFIG GET SAVE", "[\"SAVE\", \"3600 1 300 100 60 10000\"]"),
            ("CONFIG GET Maxclients", "[\"Maxclients\", \"10000\"]"),
            ("CONFIG GET MAXCLIENT*", "[\"maxclients\", \"10000\"]"),
        ],
    )
}

#[test]
fn command_info_of_an_unknown_command_is_a_null_bulk() -> TestResult {
    // Redis 7.0.15 (RESP2): *1\r\n$-1\r\n. The redis crate reads both
    // nulls as Nil, so compare the bytes.
    let server = common::start_default()?;
    let mut c = common::Raw::connect(server.addr())?;
    c.check(b"COMMAND INFO nosuch\r\n", b"*1\r\n$-1\r\n")
}

#[test]
fn command_info_without_names_describes_every_command() -> TestResult {
    let (_server, mut con) = fresh()?;
    let count = match run(&mut con, "COMMAND COUNT")? {
        Value::Int(n) => usize::try_from(n)?,
        other => return Err(format!("COMMAND COUNT: {}", render(&other)).into()),
    };
    let all = array(run(&mut con, "COMMAND INFO")?)?;
    assert_eq!(all.len(), count);
    Ok(())
}

#[test]
fn command_subcommand_arity_errors_name_the_subcommand() -> TestResult {
    let (_server, mut con) = fresh()?;
    check(
        &mut con,
        &[(
            "COMMAND COUNT x",
            "-ERR wrong number of arguments for 'command|count' command",
        )],
    )
}

#[test]
fn expire_flag_combinations_match_redis() -> TestResult {
    // For each valid combination of flags: on a key without a TTL, then
    // on a key with a TTL of 100 s, asking for -1, 50 and 200 s, the
    // reply and the TTL after it. Recorded from Redis 7.0.15, the same for
    // all four commands; a missing key always answers 0.
    type Row = (&'static str, [&'static str; 3], [&'static str; 3]);
    let table: &[Row] = &[
        ("", ["1 -2", "1 50", "1 200"], ["1 -2", "1 50", "1 200"]),
        ("NX", ["1 -2", "1 50", "1 200"], ["0 100", "0 100", "0 100"]),
        ("XX", ["0 -1", "0 -1", "0 -1"], ["1 -2", "1 50", "1 200"]),
        ("GT", ["0 -1", "0 -1", "0 -1"], ["0 100", "0 100", "1 200"]),
        ("LT", ["1 -2", "1 50", "1 200"], ["1 -2", "1 50", "0 100"]),
        (
            "XX GT",
            ["0 -1", "0 -1", "0 -1"],
            ["0 100", "0 100", "1 200"],
        ),
        // XX needs a TTL, so a key without one keeps none.
        ("XX LT", ["0 -1", "0 -1", "0 -1"], ["1 -2", "1 50", "0 100"]),
        ("LT XX", ["0 -1", "0 -1", "0 -1"], ["1 -2", "1 50", "0 100"]),
    ];
    let missing = ["0 -2", "0 -2", "0 -2"];
    let (_server, mut con) = fresh()?;
    let mut wrong = Vec::new();
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        for (flags, persistent, with_ttl) in table {
            for (state, expected) in [(0, persistent), (1, with_ttl), (2, &missing)] {
                for (secs, want) in [-1i64, 50, 200].into_iter().zip(expected) {
                    run(&mut con, "DEL k")?;
                    if state < 2 {
                        run(&mut con, "SET k v")?;
                    }
                    if state == 1 {
                        run(&mut con, "EXPIRE k 100")?;
                    }
                    let now = i64::try_from(
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)?
                            .as_secs(),
                    )?;
                    let at = if secs < 0 { -1 } else { now + secs };
                    let arg = match cmd {
                        "EXPIRE" => secs,
                        "PEXPIRE" => secs * 1000,
                        "EXPIREAT" => at,
                        _ => at * 1000,
                    };
                    let request = format!("{cmd} k {arg} {flags}");
                    let got = reply(&mut con, &request)?;
                    let ttl = match run(&mut con, "TTL k")? {
                        Value::Int(n) => n,
                        other => return Err(format!("TTL: {}", render(&other)).into()),
                    };
                    let (done, left) = want.split_once(' ').ok_or("bad row")?;
                    let left: i64 = left.parse()?;
                    // A second may pass (or round away) between the two.
                    let ttl_ok = ttl == left || (left > 0 && ttl == left - 1);
                    if got != format!(":{done}") || !ttl_ok {
                        wrong.push(format!(
                            "{request} (key {}): got {got} ttl {ttl}, want :{done} ttl {left}",
                            ["without TTL", "with TTL", "missing"][state]
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

#[test]
fn expire_checks_its_flags_before_its_number_and_its_key() -> TestResult {
    let (_server, mut con) = fresh()?;
    let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible";
    let gt_lt = "-ERR GT and LT options at the same time are not compatible";
    check(
        &mut con,
        &[
            ("EXPIRE k abc FOO", "-ERR Unsupported option FOO"),
            ("PEXPIREAT k x GT LT", gt_lt),
            ("EXPIREAT k x NX XX", nx),
            ("EXPIRE k 10 XX GT LT", gt_lt),
            ("PEXPIRE k 10 NX XX GT LT", nx),
            ("PEXPIRE k 10 LT NX", nx),
            (
                "EXPIRE k abc",
                "-ERR value is not an integer or out of range",
            ),
            // A missing key after valid flags and number: 0.
            ("EXPIRE k 10 XX LT", ":0"),
        ],
    )
}
