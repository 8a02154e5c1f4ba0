//! Long scripts: past `busy-reply-threshold` other clients' commands
//! answer -BUSY (on the script's own serving thread too, which keeps
//! answering), SCRIPT KILL stops a script that has not written, one that
//! wrote is UNKILLABLE and only SHUTDOWN NOSAVE stops it, without its
//! writes reaching the log. Replies and words are Redis 7.0.15's.

mod common;

use common::{Raw, TestResult};
use std::net::SocketAddr;

const BUSY: &[u8] =
    b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

fn w(line: &str) -> Vec<u8> {
    common::encode_words(line)
}

fn eval(script: &str, keys: &[&str]) -> Vec<u8> {
    let n = keys.len().to_string();
    let mut all: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), n.as_bytes()];
    all.extend(keys.iter().map(|k| k.as_bytes()));
    common::encode(&all)
}

fn config(dir: Option<std::path::PathBuf>) -> tandem_server::Config {
    let base = common::config();
    tandem_server::Config {
        busy_reply_threshold: 50,
        appendonly: dir.is_some(),
        dir: dir.unwrap_or(base.dir.clone()),
        ..base
    }
}

/// Connections on both serving threads (the test servers have two, and
/// give connections out in turn).
fn others(addr: SocketAddr) -> Result<Vec<Raw>, common::Error> {
    (0..3).map(|_| Raw::connect(addr)).collect()
}

/// Waits until a PING on `c` answers -BUSY: the script is past the
/// threshold.
fn wait_busy(c: &mut Raw) -> TestResult {
    common::eventually("the script to be busy", || Ok(c.call(&w("PING"))? == BUSY))
}

#[test]
fn a_busy_script_answers_busy_and_script_kill_stops_it() -> TestResult {
    let server = common::start(config(None))?;
    let mut others = others(server.addr())?;
    let mut runner = Raw::connect(server.addr())?;
    // Not busy yet: SCRIPT KILL has nothing to kill.
    others[0].check(
        &w("SCRIPT KILL"),
        b"-NOTBUSY No scripts in execution right now.\r\n",
    )?;
    runner.send(&eval("local i = 0 while true do i = i + 1 end", &[]))?;
    wait_busy(&mut others[0])?;
    // Every other client, whichever thread serves it, is answered.
    for c in &mut others {
        c.check(&w("PING"), BUSY)?;
        c.check(&w("GET k"), BUSY)?;
        c.check(&w("WATCH k"), BUSY)?;
        c.check(&w("SHUTDOWN"), BUSY)?;
    }
    // MULTI is allowed; a refused command inside dooms it.
    others[1].check(&w("MULTI"), b"+OK\r\n")?;
    others[1].check(&w("SET k v"), BUSY)?;
    others[2].check(&w("SCRIPT KILL"), b"+OK\r\n")?;
    let killed = runner.reply()?;
    assert!(
        killed.starts_with(b"-ERR Script killed by user with SCRIPT KILL... script: "),
        "{}",
        common::text(&killed)
    );
    // (others[1] is inside MULTI, where PING is queued.)
    for i in [0, 2] {
        let c = &mut others[i];
        common::eventually("the script to be gone", || {
            Ok(c.call(&w("PING"))? == b"+PONG\r\n")
        })?;
    }
    others[1].check(
        &w("EXEC"),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    )?;
    runner.check(&w("PING"), b"+PONG\r\n")?;
    Ok(())
}

/// A killed script cannot catch its own kill with pcall, xpcall or a
/// coroutine (it looped forever before they re-raised it).
#[test]
fn a_kill_cannot_be_caught() -> TestResult {
    let server = common::start(config(None))?;
    let mut others = others(server.addr())?;
    for body in [
        "local function f() local i = 0 while true do i = i + 1 end end while true do pcall(f) end",
        "local function f() while true do end end while true do xpcall(f, function(e) return e end) end",
        "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
    ] {
        let mut runner = Raw::connect(server.addr())?;
        runner.send(&eval(body, &[]))?;
        wait_busy(&mut others[0])?;
        others[1].check(&w("SCRIPT KILL"), b"+OK\r\n")?;
        let killed = runner.reply()?;
        assert!(
            killed.starts_with(b"-ERR Script killed by user with SCRIPT KILL..."),
            "{body}: {}",
            common::text(&killed)
        );
        common::eventually("the script to be gone", || {
            Ok(others[0].call(&w("PING"))? == b"+PONG\r\n")
        })?;
    }
    Ok(())
}

#[test]
fn a_script_that_ends_in_time_is_never_busy() -> TestResult {
    let server = common::start(config(None))?;
    let mut c = Raw::connect(server.addr())?;
    // Runs for a few milliseconds, under the 50 ms threshold.
    c.check(
        &eval(
            "local i = 0 while i < 100000 do i = i + 1 end return i",
            &[],
        ),
        b":100000\r\n",
    )?;
    c.check(
        &w("SCRIPT KILL"),
        b"-NOTBUSY No scripts in execution right now.\r\n",
    )?;
    Ok(())
}

#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_drops_its_writes() -> TestResult {
    let dir = common::data_dir();
    let server = common::start(config(Some(dir.clone())))?;
    let mut others = others(server.addr())?;
    let mut runner = Raw::connect(server.addr())?;
    others[0].check(&w("SET before 1"), b"+OK\r\n")?;
    runner.send(&eval(
        "redis.call('set', KEYS[1], 'partial') while true do end",
        &["k"],
    ))?;
    wait_busy(&mut others[0])?;
    others[1].check(
        &w("SCRIPT KILL"),
        b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n",
    )?;
    others[2].check(&w("SHUTDOWN"), BUSY)?;
    others[2].send(&w("SHUTDOWN NOSAVE"))?;
    server.stop()?;
    // The log holds what was there before the script, not its write.
    let server = common::start(config(Some(dir)))?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("GET before"), b"$1\r\n1\r\n")?;
    c.check(&w("EXISTS k"), b":0\r\n")?;
    Ok(())
}

#[test]
fn busy_reply_threshold_is_a_config_setting_with_its_old_name() -> TestResult {
    let server = common::start(config(None))?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        &w("CONFIG GET busy-reply-threshold"),
        b"*2\r\n$20\r\nbusy-reply-threshold\r\n$2\r\n50\r\n",
    )?;
    c.check(&w("CONFIG SET lua-time-limit 7000"), b"+OK\r\n")?;
    c.check(
        &w("CONFIG GET lua-time-limit"),
        b"*2\r\n$14\r\nlua-time-limit\r\n$4\r\n7000\r\n",
    )?;
    c.check(
        &w("CONFIG SET busy-reply-threshold -1"),
        b"-ERR CONFIG SET failed (possibly related to argument 'busy-reply-threshold') - argument must be between 0 and 9223372036854775807 inclusive\r\n",
    )?;
    c.check(
        &w("CONFIG SET lua-time-limit abc"),
        b"-ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer\r\n",
    )?;
    Ok(())
}

const BUSY_FUNCTION: &[u8] =
    b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";

/// A busy function: other clients get FUNCTION's BUSY reply, FUNCTION
/// STATS shows it, SCRIPT KILL refuses it and FUNCTION KILL stops it.
#[test]
fn a_busy_function_is_shown_and_function_kill_stops_it() -> TestResult {
    let server = common::start(config(None))?;
    let mut others = others(server.addr())?;
    let mut runner = Raw::connect(server.addr())?;
    let code = "#!lua name=spin\nredis.register_function('spin', function(keys, args) \
                local i = 0 while true do i = i + 1 end end)";
    runner.check(
        &common::encode(&[b"FUNCTION", b"LOAD", code.as_bytes()]),
        b"$4\r\nspin\r\n",
    )?;
    others[0].check(
        &w("FUNCTION KILL"),
        b"-NOTBUSY No scripts in execution right now.\r\n",
    )?;
    runner.send(&w("FCALL spin 0 an-argument"))?;
    common::eventually("the function to be busy", || {
        Ok(others[0].call(&w("PING"))? == BUSY_FUNCTION)
    })?;
    for c in &mut others {
        c.check(&w("GET k"), BUSY_FUNCTION)?;
        c.check(&w("SHUTDOWN"), BUSY_FUNCTION)?;
    }
    let stats = others[1].call(&w("FUNCTION STATS"))?;
    let expected_start: &[u8] =
        b"*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n\
        $7\r\ncommand\r\n*4\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nan-argument\r\n\
        $11\r\nduration_ms\r\n:";
    assert!(
        stats.starts_with(expected_start),
        "{}",
        common::text(&stats)
    );
    others[2].check(&w("SCRIPT KILL"), BUSY_FUNCTION)?;
    others[2].check(&w("FUNCTION KILL"), b"+OK\r\n")?;
    let killed = runner.reply()?;
    assert!(
        killed.starts_with(
            b"-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
        ),
        "{}",
        common::text(&killed)
    );
    for c in &mut others {
        common::eventually("the function to be gone", || {
            Ok(c.call(&w("PING"))? == b"+PONG\r\n")
        })?;
    }
    Ok(())
}

/// While an EVAL is busy, FUNCTION KILL and FUNCTION STATS answer with
/// EVAL's BUSY reply, as in Redis.
#[test]
fn function_kill_leaves_a_busy_eval_alone() -> TestResult {
    let server = common::start(config(None))?;
    let mut others = others(server.addr())?;
    let mut runner = Raw::connect(server.addr())?;
    runner.send(&eval("while true do end", &[]))?;
    wait_busy(&mut others[0])?;
    others[0].check(&w("FUNCTION KILL"), BUSY)?;
    others[0].check(&w("FUNCTION STATS"), BUSY)?;
    others[1].check(&w("SCRIPT KILL"), b"+OK\r\n")?;
    let killed = runner.reply()?;
    assert!(killed.starts_with(b"-ERR Script killed by user"));
    Ok(())
}
