//! MONITOR over the network, against lines recorded from Redis 7.0.15
//! (with the time and the client's port masked): what is shown (every
//! command that ran, errors included, in its database, secrets redacted,
//! arguments quoted as Redis quotes them) and what is not (administrative
//! commands, requests refused before running), a second MONITOR answered
//! with nothing, and RESET leaving the mode.

mod common;

use common::{encode_words, Raw, TestResult};

/// Reads monitor lines until `n` have come, with the time and the
/// client's address masked: `+T [db ADDR] ...`.
fn lines(monitor: &mut Raw, n: usize) -> Result<Vec<String>, common::Error> {
    let mut out = Vec::new();
    for _ in 0..n {
        let line = String::from_utf8_lossy(&monitor.reply()?).into_owned();
        let rest = line.strip_prefix('+').ok_or("a simple string")?;
        let (time, rest) = rest.split_once(' ').ok_or("a time first")?;
        let (secs, micros) = time.split_once('.').ok_or("seconds.micros")?;
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{time}");
        let (db, rest) = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(' '))
            .ok_or("a database")?;
        let (addr, rest) = rest.split_once("] ").ok_or("an address")?;
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        out.push(format!("+T [{db} ADDR] {}", rest.trim_end()));
    }
    Ok(out)
}

#[test]
fn a_monitor_sees_every_command_that_ran_as_redis_shows_it() -> TestResult {
    let server = common::start(common::config())?;
    let mut monitor = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    monitor.check(&encode_words("MONITOR"), b"+OK\r\n")?;
    other.send_args(&[b"SET", b"k", b"a\"b\n\x00\xff"])?;
    other.reply()?;
    for (request, reply) in [
        ("SELECT 2", &b"+OK\r\n"[..]),
        ("GET k", b"$-1\r\n"),
        ("CONFIG GET maxmemory", b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"),
        ("SLOWLOG LEN", b":0\r\n"),
        (
            "AUTH pw",
            b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
        ),
        ("MULTI", b"+OK\r\n"),
        ("INCR n", b"+QUEUED\r\n"),
        ("EXEC", b"*1\r\n:1\r\n"),
        (
            "NOSUCHCMD",
            b"-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n",
        ),
        ("GET", b"-ERR wrong number of arguments for 'get' command\r\n"),
        ("CLIENT ID", b""),
    ] {
        other.send(&encode_words(request))?;
        let got = other.reply()?;
        if !reply.is_empty() {
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(reply));
        }
    }
    // Recorded from Redis 7.0.15 for the same requests.
    assert_eq!(
        lines(&mut monitor, 8)?,
        [
            r#"+T [0 ADDR] "SET" "k" "a\"b\n\x00\xff""#,
            r#"+T [2 ADDR] "SELECT" "2""#,
            r#"+T [2 ADDR] "GET" "k""#,
            r#"+T [2 ADDR] "AUTH" "(redacted)""#,
            r#"+T [2 ADDR] "MULTI""#,
            r#"+T [2 ADDR] "INCR" "n""#,
            r#"+T [2 ADDR] "EXEC""#,
            r#"+T [2 ADDR] "CLIENT" "ID""#,
        ]
    );
    Ok(())
}

#[test]
fn a_second_monitor_gets_no_reply_and_reset_leaves_the_mode() -> TestResult {
    let server = common::start(common::config())?;
    let mut monitor = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    monitor.check(&encode_words("MONITOR"), b"+OK\r\n")?;
    // Recorded from Redis 7.0.15: CLIENT LIST flags a monitor `O`.
    other.send(&encode_words("CLIENT LIST"))?;
    let list = String::from_utf8_lossy(&other.reply()?).into_owned();
    let flags: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("flags=")))
        .collect();
    assert_eq!(flags, ["O", "N"], "{list}");
    // No reply to the second: the PING's answer comes first, then the
    // line for the PING itself (its own commands are shown too).
    monitor.send(&encode_words("MONITOR"))?;
    monitor.check(&encode_words("PING"), b"+PONG\r\n")?;
    assert_eq!(lines(&mut monitor, 1)?, [r#"+T [0 ADDR] "PING""#]);
    monitor.check(&encode_words("RESET"), b"+RESET\r\n")?;
    // Recorded from Redis 7.0.15: not inside a transaction.
    monitor.check(&encode_words("MULTI"), b"+OK\r\n")?;
    monitor.check(&encode_words("MONITOR"), b"+QUEUED\r\n")?;
    monitor.check(
        &encode_words("EXEC"),
        b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n",
    )?;
    other.check(&encode_words("SET after reset"), b"+OK\r\n")?;
    // Nothing more arrives: the next reply is the ECHO's own.
    monitor.check(&encode_words("ECHO done"), b"$4\r\ndone\r\n")?;
    Ok(())
}

/// A monitor that does not read is cut off once its queued lines pass
/// the pubsub output limit, as a slow subscriber is; the clients it
/// watches never wait for it.
#[test]
fn a_monitor_that_falls_behind_is_cut_off_and_holds_no_one_back() -> TestResult {
    let server = common::start(common::config())?;
    let mut other = Raw::connect(server.addr())?;
    other.send_args(&[
        b"CONFIG",
        b"SET",
        b"client-output-buffer-limit",
        b"pubsub 64kb 64kb 0",
    ])?;
    assert_eq!(other.reply()?, b"+OK\r\n");
    let mut monitor = Raw::connect(server.addr())?;
    monitor.check(&encode_words("MONITOR"), b"+OK\r\n")?;
    // Far more lines than the socket's buffers and the 64 KB limit hold,
    // written while the monitor reads nothing.
    let batch: Vec<u8> = (0..1_000)
        .flat_map(|i| encode_words(&format!("SET key:{i:06} value")))
        .collect();
    for _ in 0..200 {
        other.send(&batch)?;
        for _ in 0..1_000 {
            other.reply()?;
        }
    }
    // The monitor finds its connection closed after what was sent before
    // it was cut off.
    let mut read = 0usize;
    let closed = loop {
        match monitor.reply() {
            Ok(_) => read += 1,
            Err(e) => break e.to_string(),
        }
    };
    assert!(closed.contains("closed"), "{closed} after {read} lines");
    assert!(read < 200_000, "cut off, not fed all {read} lines");
    other.check(&encode_words("PING"), b"+PONG\r\n")?;
    Ok(())
}
