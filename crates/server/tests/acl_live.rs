//! Access control over live connections: the ACL log, a deleted or
//! changed user's clients (closed, or restricted from their next
//! command), subscribers losing their channels, CLIENT LIST and KILL by
//! user, HELLO AUTH, and a blocked client woken after its rules
//! narrowed. Replies in the tables were recorded from Redis 7.0.15
//! (`scripts/acl_record.py`).

mod common;

use common::table::{check_on, connect, log_entries, reply, run};
use common::{Config, Raw, TestResult};
use redis::Value;
use std::time::Duration;

/// How long a connection the server closes may take to see it.
const CLOSING: Duration = Duration::from_secs(10);

#[test]
fn the_acl_log_records_every_kind_of_refusal() -> TestResult {
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(&mut admin, "acl setuser u on >pw +get +multi +exec ~k*")?;
    let mut con = connect(&server)?;
    for request in [
        "auth u wrong",
        "auth u pw",
        "get other",
        "get other",
        "set k v",
        "multi",
        "set k v",
        "exec",
        "client kill id 1",
    ] {
        reply(&mut con, request)?;
    }
    let log = log_entries(&mut admin, 10)?;
    let seen: Vec<[&str; 5]> = log
        .iter()
        .map(|e| {
            [
                e["count"].as_str(),
                e["reason"].as_str(),
                e["context"].as_str(),
                e["object"].as_str(),
                e["username"].as_str(),
            ]
        })
        .collect();
    // Newest first; the two refused GETs fold into one entry.
    assert_eq!(
        seen,
        [
            ["1", "command", "toplevel", "client|kill", "u"],
            ["1", "command", "multi", "set", "u"],
            ["1", "command", "toplevel", "set", "u"],
            ["2", "key", "toplevel", "other", "u"],
            ["1", "auth", "toplevel", "auth", "u"],
        ]
    );
    for e in &log {
        let age: f64 = e["age-seconds"].parse()?;
        assert!((0.0..60.0).contains(&age), "age {age}");
        assert!(e["client-info"].contains(" user="), "{}", e["client-info"]);
    }
    assert!(log[1]["client-info"].contains("cmd=set user=u"));
    // Each entry's client line names the command refused (Redis 7.0.15:
    // the failed AUTH's says `cmd=auth`, a subcommand's `client|kill`).
    let cmds: Vec<&str> = log
        .iter()
        .map(|e| {
            let after = e["client-info"].split(" cmd=").nth(1).unwrap_or_default();
            after.split(' ').next().unwrap_or_default()
        })
        .collect();
    assert_eq!(cmds, ["client|kill", "set", "set", "get", "auth"]);
    // The log is bounded by acllog-max-len, and RESET empties it.
    check_on(
        &server,
        &[
            (1, "config set acllog-max-len 2", "+OK"),
            (
                1,
                "config get acllog-max-len",
                "[\"acllog-max-len\", \"2\"]",
            ),
        ],
    )?;
    // As Redis 7.0.15: a lowered bound trims the log when the next new
    // entry comes, not at once.
    assert_eq!(log_entries(&mut admin, 10)?.len(), 5);
    reply(&mut con, "get other")?;
    assert_eq!(log_entries(&mut admin, 10)?.len(), 5, "a folded refusal");
    reply(&mut con, "get other2")?;
    assert_eq!(log_entries(&mut admin, 10)?.len(), 2);
    assert_eq!(reply(&mut admin, "acl log reset")?, "+OK");
    assert_eq!(log_entries(&mut admin, 10)?.len(), 0);
    Ok(())
}

#[test]
fn a_deleted_user_s_connections_are_closed() -> TestResult {
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(&mut admin, "acl setuser gone on nopass +@all ~*")?;
    reply(&mut admin, "acl setuser stays on nopass +@all ~*")?;
    let mut a = Raw::connect(server.addr())?;
    a.check(b"AUTH gone x\r\n", b"+OK\r\n")?;
    let mut b = Raw::connect(server.addr())?;
    b.check(b"AUTH stays x\r\n", b"+OK\r\n")?;
    assert_eq!(reply(&mut admin, "acl deluser gone nosuch")?, ":1");
    // Whatever it sends now is not run (not even as `default`): it is
    // closed without a reply.
    let _ = a.send(b"PING\r\n");
    let rest = a.read_until_closed()?;
    assert!(rest.is_empty(), "{}", common::text(&rest));
    b.check(b"PING\r\n", b"+PONG\r\n")?;
    // A client deleting its own user gets the reply, then is closed.
    b.send(b"ACL DELUSER stays\r\n")?;
    b.expect_then_closed(b":1\r\n")?;
    Ok(())
}

#[test]
fn a_change_applies_to_live_connections_from_their_next_command() -> TestResult {
    let server = common::start(common::config())?;
    check_on(
        &server,
        &[
            (1, "acl setuser live on nopass +get ~*", "+OK"),
            (2, "auth live x", "+OK"),
            (
                2,
                "set k v",
                "-NOPERM this user has no permissions to run the 'set' command",
            ),
            (1, "acl setuser live +set", "+OK"),
            (2, "set k v", "+OK"),
            (1, "acl setuser live resetkeys ~other", "+OK"),
            (
                2,
                "get k",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            (1, "acl setuser live off", "+OK"),
            // Disabling a user stops new logins only, as in Redis.
            (2, "get other", "nil"),
            (
                3,
                "auth live x",
                "-WRONGPASS invalid username-password pair or user is disabled.",
            ),
            (1, "acl setuser default resetpass", "+OK"),
            // Connections made since need a password; older ones stay in.
            (4, "get k", "-NOAUTH Authentication required."),
            (1, "get k", "\"v\""),
            (1, "acl setuser default nopass", "+OK"),
            (4, "get k", "\"v\""),
        ],
    )
}

#[test]
fn subscribers_lose_their_connection_when_their_channels_are_taken_away() -> TestResult {
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(
        &mut admin,
        "acl setuser sub on nopass +@pubsub +ping &news.* &exact",
    )?;
    let subscriber = |request: &[u8], confirmations: usize| -> Result<Raw, common::Error> {
        let mut c = Raw::connect(server.addr())?;
        c.check(b"AUTH sub x\r\n", b"+OK\r\n")?;
        c.send(request)?;
        c.replies(confirmations)?;
        Ok(c)
    };
    let mut channel = subscriber(b"SUBSCRIBE news.a\r\n", 1)?;
    let mut pattern = subscriber(b"PSUBSCRIBE news.*\r\n", 1)?;
    let mut exact = subscriber(b"SUBSCRIBE exact\r\n", 1)?;
    let mut shard = subscriber(b"SSUBSCRIBE news.b\r\n", 1)?;
    // Widening the rules closes no one.
    assert_eq!(reply(&mut admin, "acl setuser sub &more")?, "+OK");
    assert_eq!(reply(&mut admin, "publish news.a hi")?, ":2");
    channel.expect(b"*3\r\n$7\r\nmessage\r\n$6\r\nnews.a\r\n$2\r\nhi\r\n")?;
    pattern.reply()?;
    // Narrowing them closes exactly the subscribers that lost a channel
    // (a pattern subscription needs the very same pattern).
    assert_eq!(
        reply(&mut admin, "acl setuser sub resetchannels &exact &news.a")?,
        "+OK"
    );
    assert!(
        pattern.closed_within(CLOSING)?,
        "news.* is no longer granted"
    );
    assert!(shard.closed_within(CLOSING)?, "news.b is no longer granted");
    assert_eq!(reply(&mut admin, "publish exact hello")?, ":1");
    exact.expect(b"*3\r\n$7\r\nmessage\r\n$5\r\nexact\r\n$5\r\nhello\r\n")?;
    assert_eq!(reply(&mut admin, "publish news.a again")?, ":1");
    channel.expect(b"*3\r\n$7\r\nmessage\r\n$6\r\nnews.a\r\n$5\r\nagain\r\n")?;
    Ok(())
}

#[test]
fn client_list_shows_the_user_and_client_kill_finds_it() -> TestResult {
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(&mut admin, "acl setuser k on nopass +@all ~*")?;
    let mut a = Raw::connect(server.addr())?;
    a.check(b"AUTH k x\r\n", b"+OK\r\n")?;
    a.check(b"CLIENT SETNAME a\r\n", b"+OK\r\n")?;
    let Value::BulkString(list) = run(&mut admin, "client list")? else {
        return Err("CLIENT LIST is not a bulk string".into());
    };
    let list = String::from_utf8(list)?;
    let line = list
        .lines()
        .find(|l| l.contains(" name=a "))
        .ok_or("a is listed")?;
    assert!(line.contains(" user=k "), "{line}");
    assert_eq!(
        reply(&mut admin, "client kill user nosuch")?,
        "-ERR No such user 'nosuch'"
    );
    assert_eq!(reply(&mut admin, "client kill user k")?, ":1");
    assert!(a.closed_within(CLOSING)?);
    assert_eq!(reply(&mut admin, "client kill user default")?, ":0");
    Ok(())
}

#[test]
fn hello_auth_logs_in_as_a_user() -> TestResult {
    let server = common::start(Config {
        requirepass: Some("secret".into()),
        ..common::config()
    })?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        b"HELLO 2 AUTH nosuch x\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    )?;
    c.check(b"AUTH secret\r\n", b"+OK\r\n")?;
    c.check(b"ACL SETUSER h on >hp +@all ~*\r\n", b"+OK\r\n")?;
    let mut d = Raw::connect(server.addr())?;
    let hello = d.call(b"HELLO 2 AUTH h hp\r\n")?;
    assert!(
        hello.starts_with(b"*14\r\n$6\r\nserver\r\n"),
        "{}",
        common::text(&hello)
    );
    d.check(b"ACL WHOAMI\r\n", b"$1\r\nh\r\n")?;
    // RESET goes back to the default user, which needs a password.
    d.check(b"RESET\r\n", b"+RESET\r\n")?;
    d.check(b"ACL WHOAMI\r\n", b"-NOAUTH Authentication required.\r\n")?;
    // HELLO's options take effect left to right; an error keeps what came
    // before it (Redis 7.0.15's replies).
    let mut e = Raw::connect(server.addr())?;
    e.check(
        b"HELLO 3 AUTH h hp BOGUS\r\n",
        b"-ERR Syntax error in HELLO option 'BOGUS'\r\n",
    )?;
    e.check(b"ACL WHOAMI\r\n", b"$1\r\nh\r\n")?;
    let mut f = Raw::connect(server.addr())?;
    f.check(
        b"HELLO 3 AUTH h hp AUTH h wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    )?;
    f.check(b"ACL WHOAMI\r\n", b"$1\r\nh\r\n")?;
    f.check(
        b"HELLO 2 SETNAME okname SETNAME \"bad name\"\r\n",
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    )?;
    f.check(b"CLIENT GETNAME\r\n", b"$6\r\nokname\r\n")?;
    let mut g = Raw::connect(server.addr())?;
    g.check(
        b"HELLO 3 SETNAME n1 AUTH h wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    )?;
    g.check(b"AUTH secret\r\n", b"+OK\r\n")?;
    g.check(b"CLIENT GETNAME\r\n", b"$2\r\nn1\r\n")?;
    Ok(())
}

#[test]
fn a_blocked_client_is_served_even_if_its_rules_narrowed_meanwhile() -> TestResult {
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(&mut admin, "acl setuser w on nopass +blpop +ping ~q")?;
    let mut waiting = Raw::connect(server.addr())?;
    waiting.check(b"AUTH w x\r\n", b"+OK\r\n")?;
    waiting.send(b"BLPOP q 0\r\n")?;
    common::eventually("the client blocks", || {
        let list = reply(&mut admin, "client list")?;
        Ok(list.contains("flags=b"))
    })?;
    assert_eq!(reply(&mut admin, "acl setuser w resetkeys ~other")?, "+OK");
    assert_eq!(reply(&mut admin, "rpush q x")?, ":1");
    // Served as Redis serves it: the element is its, not lost.
    waiting.expect(b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n")?;
    // Its next command is checked under the new rules.
    waiting.check(
        b"BLPOP q 1\r\n",
        b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n",
    )?;
    waiting.check(b"PING\r\n", b"+PONG\r\n")?;
    assert_eq!(reply(&mut admin, "llen q")?, ":0");
    Ok(())
}
