//! CLIENT over the network: ids and names, LIST and INFO lines, KILL by
//! each filter (the killed connection is closed), REPLY ON/OFF/SKIP, PAUSE
//! and UNPAUSE holding back writes (or everything) and nothing else.

mod common;

use common::{encode_words, Raw, TestResult};
use std::time::{Duration, Instant};

fn w(line: &str) -> Vec<u8> {
    encode_words(line)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn ids_names_list_and_info() -> TestResult {
    let server = common::start_default()?;
    let mut a = Raw::connect(server.addr())?;
    let mut b = Raw::connect(server.addr())?;
    let id = text(a.call(&w("CLIENT ID"))?);
    let id = id.trim_start_matches(':').trim_end().to_string();
    a.check(&w("CLIENT GETNAME"), b"$-1\r\n")?;
    a.check(&w("CLIENT SETNAME alpha"), b"+OK\r\n")?;
    a.check(&w("CLIENT GETNAME"), b"$5\r\nalpha\r\n")?;
    a.check(
        &common::encode(&[b"CLIENT", b"SETNAME", b"has space"]),
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    )?;
    a.check(&w("SELECT 3"), b"+OK\r\n")?;
    let info = text(a.call(&w("CLIENT INFO"))?);
    assert!(info.contains(&format!("id={id} ")), "{info}");
    assert!(
        info.contains(" name=alpha ") && info.contains(" db=3 "),
        "{info}"
    );
    // Its own line names the command running, as Redis 7.0 does.
    assert!(
        info.contains(" idle=0 ") && info.contains(" cmd=client|info "),
        "{info}"
    );
    b.send(&w("SUBSCRIBE news"))?;
    b.reply()?;
    let list = text(a.call(&w("CLIENT LIST"))?);
    assert_eq!(list.matches("id=").count(), 2, "{list}");
    assert!(list.contains(" name=alpha "), "{list}");
    assert!(
        list.contains(" sub=1 ") && list.contains(" flags=P "),
        "{list}"
    );
    let pubsub = text(a.call(&w("CLIENT LIST TYPE pubsub"))?);
    assert_eq!(pubsub.matches("id=").count(), 1, "{pubsub}");
    let mine = text(a.call(&w(&format!("CLIENT LIST ID {id}")))?);
    assert_eq!(mine.matches("id=").count(), 1, "{mine}");
    assert!(mine.contains(" name=alpha "), "{mine}");
    assert!(mine.contains(" cmd=client|list "), "{mine}");
    // Ids in the order given, each time given; Redis 7.0.15 takes one
    // filter, and an id no client has lists nothing.
    let twice = text(a.call(&w(&format!("CLIENT LIST ID {id} 999999 {id}")))?);
    assert_eq!(twice.matches("id=").count(), 2, "{twice}");
    a.check(&w("CLIENT LIST ID -1"), b"$0\r\n\r\n")?;
    a.check(&w("CLIENT LIST ID 0"), b"$0\r\n\r\n")?;
    a.check(&w("CLIENT LIST TYPE normal ID 1"), b"-ERR syntax error\r\n")?;
    a.check(&w("CLIENT LIST ID x"), b"-ERR Invalid client ID\r\n")?;
    a.check(&w("CLIENT LIST ID"), b"-ERR syntax error\r\n")?;
    // Redis 7.0.15's words for a bad PAUSE or UNBLOCK.
    a.check(
        &w("client pause 10 write x"),
        b"-ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.\r\n",
    )?;
    a.check(
        &w("client pause 10 foo"),
        b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n",
    )?;
    a.check(
        &w("client pause abc foo"),
        b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n",
    )?;
    a.check(
        &w("client unblock abc foo"),
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
    )?;
    a.check(
        &w("client unblock 1 error x"),
        b"-ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.\r\n",
    )?;
    // After an unknown command or subcommand, Redis shows NULL.
    for unknown in ["NOSUCH", "CONFIG NOSUCH"] {
        b.send(&w(unknown))?;
        let refused = text(b.reply()?);
        assert!(refused.starts_with("-ERR unknown"), "{refused}");
        let list = text(a.call(&w("CLIENT LIST TYPE pubsub"))?);
        assert!(list.contains(" cmd=NULL "), "{unknown}: {list}");
    }
    a.check(
        &w("CLIENT LIST TYPE nobody"),
        b"-ERR Unknown client type 'nobody'\r\n",
    )?;
    a.check(
        &w("CLIENT TRACKING on"),
        b"-ERR client-side caching (CLIENT TRACKING) is not supported by Tandem yet\r\n",
    )?;
    a.check(
        &w("CLIENT NOPE"),
        b"-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n",
    )?;
    a.check(&w("CLIENT NO-EVICT on"), b"+OK\r\n")?;
    assert!(text(a.call(&w("CLIENT INFO"))?).contains(" flags=e "));
    Ok(())
}

#[test]
fn kill_closes_the_chosen_connections() -> TestResult {
    let server = common::start_default()?;
    let mut admin = Raw::connect(server.addr())?;
    let mut victim = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    let id = text(victim.call(&w("CLIENT ID"))?);
    let id = id.trim_start_matches(':').trim_end().to_string();
    admin.check(&w(&format!("CLIENT KILL ID {id}")), b":1\r\n")?;
    assert!(victim.closed_within(Duration::from_secs(5))?);
    admin.check(&w("CLIENT KILL ID 999999"), b":0\r\n")?;
    // The old form, by address.
    let addr = other.local_addr()?.to_string();
    admin.check(&w(&format!("CLIENT KILL {addr}")), b"+OK\r\n")?;
    assert!(other.closed_within(Duration::from_secs(5))?);
    admin.check(&w("CLIENT KILL 1.2.3.4:5"), b"-ERR No such client\r\n")?;
    // SKIPME yes (the default) spares the caller; USER default is all.
    let mut third = Raw::connect(server.addr())?;
    third.check(&w("PING"), b"+PONG\r\n")?;
    admin.check(&w("CLIENT KILL USER default"), b":1\r\n")?;
    assert!(third.closed_within(Duration::from_secs(5))?);
    admin.check(&w("PING"), b"+PONG\r\n")?;
    admin.check(
        &w("CLIENT KILL ID 0"),
        b"-ERR client-id should be greater than 0\r\n",
    )?;
    Ok(())
}

#[test]
fn reply_off_on_and_skip() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.send(&w("CLIENT REPLY OFF"))?;
    c.send(&w("SET a 1"))?;
    c.send(&w("GET a"))?;
    c.send(&w("NOSUCH"))?;
    c.check(&w("CLIENT REPLY ON"), b"+OK\r\n")?;
    // The fences prove by order that no reply came between: a reply that
    // leaked out would arrive before the fence's.
    common::fence(&mut c)?;
    c.send(&w("CLIENT REPLY SKIP"))?;
    c.send(&w("GET a"))?;
    c.check(&w("GET a"), b"$1\r\n1\r\n")?;
    common::fence(&mut c)?;
    Ok(())
}

#[test]
fn pause_holds_back_writes_until_it_ends_or_is_lifted() -> TestResult {
    let server = common::start_default()?;
    let mut admin = Raw::connect(server.addr())?;
    let mut c = Raw::connect(server.addr())?;
    // Reads go on: under a pause far longer than a read's deadline
    // (`common::TIMEOUT`), a held read would fail the test, so no timing
    // of the read is needed.
    admin.check(&w("CLIENT PAUSE 60000 WRITE"), b"+OK\r\n")?;
    c.check(&w("GET k"), b"$-1\r\n")?;
    admin.check(&w("CLIENT UNPAUSE"), b"+OK\r\n")?;
    // A write waits for the pause to end. The pause starts after
    // `started`, so a held write cannot be answered sooner than this.
    let started = Instant::now();
    admin.check(&w("CLIENT PAUSE 300 WRITE"), b"+OK\r\n")?;
    c.check(&w("SET k v"), b"+OK\r\n")?;
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
    // ALL holds reads back too, until it ends...
    let started = Instant::now();
    admin.check(&w("CLIENT PAUSE 300 ALL"), b"+OK\r\n")?;
    c.check(&w("GET k"), b"$1\r\nv\r\n")?;
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
    // ...or until CLIENT UNPAUSE lifts it, which anyone may send: CLIENT
    // is never held back. Without the lift this pause would outlast the
    // read deadline.
    admin.check(&w("CLIENT PAUSE 60000 ALL"), b"+OK\r\n")?;
    c.send(&w("GET k"))?;
    admin.check(&w("CLIENT UNPAUSE"), b"+OK\r\n")?;
    c.expect(b"$1\r\nv\r\n")?;
    c.check(&w("SET k w"), b"+OK\r\n")?;
    // Scripts that may write and FUNCTION LOAD are writes (Redis 7.0.15
    // holds them); a read-only script is a read.
    let ro_library =
        b"#!lua name=ro\nredis.register_function{function_name='r', callback=function() return 2 end, flags={'no-writes'}}";
    c.check(
        &common::encode(&[b"FUNCTION", b"LOAD", ro_library]),
        b"$2\r\nro\r\n",
    )?;
    let no_writes: &[u8] = b"#!lua flags=no-writes\nreturn 1";
    admin.check(&w("CLIENT PAUSE 60000 WRITE"), b"+OK\r\n")?;
    c.check(
        &common::encode(&[b"EVAL_RO", b"return redis.call('get',KEYS[1])", b"1", b"k"]),
        b"$1\r\nw\r\n",
    )?;
    // A script that declared no-writes is a read too (Redis 7.0.15's
    // pause.tcl), by EVAL, by EVALSHA, by FCALL and inside EXEC.
    c.check(&common::encode(&[b"EVAL", no_writes, b"0"]), b":1\r\n")?;
    let sha = "77f21361171213377cb083e2ffc2ae24ffdff8fb";
    c.check(&w(&format!("EVALSHA {sha} 0")), b":1\r\n")?;
    c.check(&w("FCALL r 0"), b":2\r\n")?;
    c.send(&w("MULTI"))?;
    c.send(&common::encode(&[b"EVAL", no_writes, b"0"]))?;
    c.send(&w("EXEC"))?;
    c.expect(b"+OK\r\n+QUEUED\r\n*1\r\n:1\r\n")?;
    admin.check(&w("CLIENT UNPAUSE"), b"+OK\r\n")?;
    let library = b"#!lua name=paused\nredis.register_function('f', function() return 1 end)";
    for request in [
        common::encode(&[b"EVAL", b"return redis.call('set',KEYS[1],'x')", b"1", b"k"]),
        common::encode(&[b"FUNCTION", b"LOAD", library]),
    ] {
        let started = Instant::now();
        admin.check(&w("CLIENT PAUSE 300 WRITE"), b"+OK\r\n")?;
        c.call(&request)?;
        assert!(
            started.elapsed() >= Duration::from_millis(290),
            "{:?}",
            started.elapsed()
        );
    }
    Ok(())
}

#[test]
fn every_help_ends_as_redis_s_does() -> TestResult {
    let server = common::start_default()?;
    let mut con = common::table::connect(&server)?;
    for container in [
        "acl", "client", "config", "pubsub", "object", "memory", "slowlog", "latency", "script",
        "function", "xinfo", "xgroup", "command",
    ] {
        let help = common::table::reply(&mut con, &format!("{container} help"))?;
        assert!(
            help.ends_with(", +HELP, +    Prints this help.]"),
            "{container}: {help}"
        );
    }
    // CLIENT HELP is Redis 7.0.15's, without the client-side caching
    // entries Tandem refuses.
    let help = common::table::reply(&mut con, "client help")?;
    assert!(
        help.contains("+SETNAME <name>, +    Assign the name <name> to the current connection.")
            && !help.contains("TRACKING"),
        "{help}"
    );
    Ok(())
}
