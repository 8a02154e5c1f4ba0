//! Functions over the network: FUNCTION and FCALL against the replies a
//! fresh redis-server 7.0.15 gave for the same requests
//! (`fixtures/redis-7.0.15-functions.jsonl`), libraries kept across
//! restarts (through the log and through a snapshot), a change seen by
//! every serving thread, and FUNCTION DUMP / RESTORE.

mod common;

use common::{Raw, TestResult};

fn w(line: &str) -> Vec<u8> {
    common::encode_words(line)
}

fn load(c: &mut Raw, replace: bool, code: &str) -> Result<Vec<u8>, common::Error> {
    let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"LOAD"];
    if replace {
        args.push(b"REPLACE");
    }
    args.push(code.as_bytes());
    c.call(&common::encode(&args))
}

/// A library whose `bump` adds `step` to its key and `version` says
/// which text is loaded.
fn counter(step: u32) -> String {
    format!(
        "#!lua name=counter\n\
         redis.register_function('bump', function(keys, args) \
           return redis.call('incrby', keys[1], {step}) end)\n\
         redis.register_function{{function_name='version', \
           callback=function() return {step} end, flags={{'no-writes'}}}}"
    )
}

/// Every request of the fixture, in order on one connection of a fresh
/// server, answers byte for byte as Redis 7.0.15 did: FUNCTION LOAD's
/// errors for the first line, the library API (each of
/// `register_function`'s errors, what else a library sees while it
/// loads, the load's time limit), FCALL and FCALL_RO (keys and
/// arguments, flags, errors with the function's name and line, the
/// functions' globals), LIST, STATS, DELETE, FLUSH, DUMP (LZF and CRC
/// included), RESTORE's errors, HELP.
#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let wrong = common::fixture::replay(
        &mut c,
        include_str!("fixtures/redis-7.0.15-functions.jsonl"),
    )?;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

fn version(c: &mut Raw) -> Result<Vec<u8>, common::Error> {
    c.call(&w("FCALL version 0"))
}

/// Libraries are kept as durable as keys: every change is logged and a
/// snapshot holds them, whether `appendonly` is on or off.
#[test]
fn libraries_survive_restarts() -> TestResult {
    for appendonly in [true, false] {
        let dir = common::data_dir();
        let config = || tandem_server::Config {
            appendonly,
            dir: dir.clone(),
            ..common::config()
        };
        {
            let server = common::start(config())?;
            let mut c = Raw::connect(server.addr())?;
            assert_eq!(load(&mut c, false, &counter(1))?, b"$7\r\ncounter\r\n");
            c.check(&w("FCALL bump 1 k"), b":1\r\n")?;
            let other = "#!lua name=other\nredis.register_function('o', function() return 0 end)";
            assert_eq!(load(&mut c, false, other)?, b"$5\r\nother\r\n");
            c.check(&w("FUNCTION DELETE other"), b"+OK\r\n")?;
            if !appendonly {
                c.check(&w("SAVE"), b"+OK\r\n")?;
            }
            server.stop()?;
        }
        {
            let server = common::start(config())?;
            let mut c = Raw::connect(server.addr())?;
            assert_eq!(version(&mut c)?, b":1\r\n", "appendonly {appendonly}");
            c.check(&w("FCALL o 0"), b"-ERR Function not found\r\n")?;
            c.check(&w("FCALL bump 1 k"), b":2\r\n")?;
            assert_eq!(
                common::info_u64(&mut c, "memory", "number_of_libraries")?,
                1
            );
            assert_eq!(
                common::info_u64(&mut c, "memory", "number_of_functions")?,
                2
            );
            // A snapshot holds the libraries; what changes after it is in
            // the log (or in the next snapshot).
            c.check(&w("SAVE"), b"+OK\r\n")?;
            assert_eq!(load(&mut c, true, &counter(5))?, b"$7\r\ncounter\r\n");
            if !appendonly {
                c.check(&w("SAVE"), b"+OK\r\n")?;
            }
            server.stop()?;
        }
        {
            let server = common::start(config())?;
            let mut c = Raw::connect(server.addr())?;
            assert_eq!(version(&mut c)?, b":5\r\n", "appendonly {appendonly}");
            c.check(&w("FCALL bump 1 k"), b":7\r\n")?;
            c.check(&w("FUNCTION FLUSH"), b"+OK\r\n")?;
            if !appendonly {
                c.check(&w("SAVE"), b"+OK\r\n")?;
            }
            server.stop()?;
        }
        let server = common::start(config())?;
        let mut c = Raw::connect(server.addr())?;
        c.check(&w("FUNCTION LIST"), b"*0\r\n")?;
        c.check(&w("GET k"), b"$1\r\n7\r\n")?;
    }
    Ok(())
}

/// Each serving thread loads a library on its own; a change made on one
/// is seen on every other at its next FCALL.
#[test]
fn a_change_is_seen_from_every_thread() -> TestResult {
    let server = common::start_default()?;
    let mut clients: Vec<Raw> = (0..4)
        .map(|_| Raw::connect(server.addr()))
        .collect::<Result<_, _>>()?;
    let first = clients.first_mut().ok_or("a client")?;
    load(first, false, &counter(1))?;
    for c in &mut clients {
        assert_eq!(version(c)?, b":1\r\n");
    }
    let first = clients.first_mut().ok_or("a client")?;
    load(first, true, &counter(3))?;
    for c in &mut clients {
        assert_eq!(version(c)?, b":3\r\n");
    }
    let last = clients.last_mut().ok_or("a client")?;
    last.check(&w("FUNCTION DELETE counter"), b"+OK\r\n")?;
    for c in &mut clients {
        c.check(&w("FCALL version 0"), b"-ERR Function not found\r\n")?;
    }
    Ok(())
}

/// FUNCTION DUMP's payload restores what it holds, under each policy;
/// a payload changed by one byte is refused.
#[test]
fn dump_and_restore() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    load(&mut c, false, &counter(2))?;
    let reply = c.call(&w("FUNCTION DUMP"))?;
    // `$<len>\r\n<payload>\r\n`
    let start = reply
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("a bulk reply")?
        + 1;
    let payload = reply
        .get(start..reply.len() - 2)
        .ok_or("a bulk reply")?
        .to_vec();
    let restore = |policy: Option<&str>, bytes: &[u8]| {
        let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", bytes];
        if let Some(p) = policy {
            args.push(p.as_bytes());
        }
        common::encode(&args)
    };
    c.check(
        &restore(None, &payload),
        b"-ERR Library counter already exists\r\n",
    )?;
    c.check(&restore(Some("REPLACE"), &payload), b"+OK\r\n")?;
    c.check(&w("FUNCTION FLUSH"), b"+OK\r\n")?;
    c.check(&restore(Some("APPEND"), &payload), b"+OK\r\n")?;
    assert_eq!(version(&mut c)?, b":2\r\n");
    let other = "#!lua name=other\nredis.register_function('o', function() return 0 end)";
    load(&mut c, false, other)?;
    c.check(&restore(Some("FLUSH"), &payload), b"+OK\r\n")?;
    c.check(&w("FCALL o 0"), b"-ERR Function not found\r\n")?;
    let mut bad = payload.clone();
    if let Some(b) = bad.get_mut(5) {
        *b ^= 1;
    }
    c.check(
        &restore(None, &bad),
        b"-ERR DUMP payload version or checksum are wrong\r\n",
    )?;
    Ok(())
}
