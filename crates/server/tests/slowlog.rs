//! SLOWLOG over the network, with Redis 7.0.15's replies recorded beside
//! each request: what is logged and what is not (EXEC, commands faster
//! than the threshold, everything at -1), what an entry keeps (the
//! arguments cut and redacted, the client's address and name), the
//! settings and their ranges, and the subcommands' errors.

mod common;

use common::table::{check, connect, render, run};
use common::TestResult;
use redis::Value;

fn entries(con: &mut redis::Connection, line: &str) -> Result<Vec<Vec<Value>>, common::Error> {
    let Value::Array(entries) = run(con, line)? else {
        return Err("SLOWLOG GET answers an array".into());
    };
    entries
        .into_iter()
        .map(|e| match e {
            Value::Array(fields) if fields.len() == 6 => Ok(fields),
            other => Err(format!("an entry of 6 fields, not {other:?}").into()),
        })
        .collect()
}

/// An entry's arguments, rendered.
fn args(entry: &[Value]) -> String {
    render(&entry[3])
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("an integer, not {other:?}"),
    }
}

#[test]
fn subcommands_answer_as_redis_does() -> TestResult {
    let server = common::start(common::config())?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
            ("CONFIG GET slowlog-log-slower-than", "[\"slowlog-log-slower-than\", \"10000\"]"),
            ("CONFIG GET slowlog-max-len", "[\"slowlog-max-len\", \"128\"]"),
            ("SLOWLOG LEN", ":0"),
            ("SLOWLOG GET", "[]"),
            ("SLOWLOG RESET", "+OK"),
            ("SLOWLOG GET -2", "-ERR count should be greater than or equal to -1"),
            ("SLOWLOG GET abc", "-ERR count should be greater than or equal to -1"),
            (
                "SLOWLOG GET 1 2",
                "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.",
            ),
            ("SLOWLOG foo", "-ERR unknown subcommand 'foo'. Try SLOWLOG HELP."),
            ("SLOWLOG LEN x", "-ERR wrong number of arguments for 'slowlog|len' command"),
            ("SLOWLOG", "-ERR wrong number of arguments for 'slowlog' command"),
            (
                "CONFIG SET slowlog-log-slower-than -2",
                "-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 and 9223372036854775807 inclusive",
            ),
            (
                "CONFIG SET slowlog-max-len -1",
                "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be between 0 and 9223372036854775807 inclusive",
            ),
        ],
    )?;
    let Value::Array(help) = run(&mut con, "SLOWLOG HELP")? else {
        return Err("HELP answers an array".into());
    };
    assert_eq!(
        render(&help[0]),
        "+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(help.len(), 12);
    Ok(())
}

#[test]
fn commands_are_logged_newest_first_with_the_client_and_exec_left_out() -> TestResult {
    let server = common::start(common::config())?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
            ("CONFIG SET slowlog-log-slower-than 0", "+OK"),
            ("SLOWLOG RESET", "+OK"),
            ("CLIENT SETNAME app", "+OK"),
            ("SET k v", "+OK"),
            ("MULTI", "+OK"),
            ("INCR n", "+QUEUED"),
            ("EXEC", "[:1]"),
        ],
    )?;
    // Recorded from Redis 7.0.15: RESET, then each command, INCR from
    // inside the transaction but not EXEC; the name as the client has it
    // after the command.
    let got = entries(&mut con, "SLOWLOG GET -1")?;
    let logged: Vec<String> = got.iter().map(|e| args(e)).collect();
    assert_eq!(
        logged,
        [
            "[\"INCR\", \"n\"]",
            "[\"MULTI\"]",
            "[\"SET\", \"k\", \"v\"]",
            "[\"CLIENT\", \"SETNAME\", \"app\"]",
            "[\"SLOWLOG\", \"RESET\"]",
        ]
    );
    let ids: Vec<i64> = got.iter().map(|e| int(&e[0])).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1] + 1), "ids {ids:?}");
    let peer = render(&got[0][4]);
    assert!(peer.starts_with("\"127.0.0.1:"), "{peer}");
    assert_eq!(render(&got[0][5]), "\"app\"");
    assert_eq!(render(&got[4][5]), "\"\"", "no name yet");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let time = int(&got[0][1]);
    assert!((time - now.as_secs() as i64).abs() <= 5, "{time}");
    // The GET itself is logged once it has run, and so is LEN.
    check(&mut con, &[("SLOWLOG LEN", ":6")])?;
    let newest: Vec<String> = entries(&mut con, "SLOWLOG GET 2")?
        .iter()
        .map(|e| args(e))
        .collect();
    assert_eq!(
        newest,
        ["[\"SLOWLOG\", \"LEN\"]", "[\"SLOWLOG\", \"GET\", \"-1\"]"]
    );
    Ok(())
}

#[test]
fn entries_cut_long_requests_and_redact_passwords() -> TestResult {
    let server = common::start(common::config())?;
    let mut con = connect(&server)?;
    check(&mut con, &[("CONFIG SET slowlog-log-slower-than 0", "+OK")])?;
    let long = "x".repeat(200);
    run(&mut con, &format!("SET k {long}"))?;
    let entry = entries(&mut con, "SLOWLOG GET 1")?.remove(0);
    assert_eq!(
        args(&entry),
        format!(
            "[\"SET\", \"k\", \"{}... (72 more bytes)\"]",
            "x".repeat(128)
        )
    );
    let many: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    run(&mut con, &format!("DEL {}", many.join(" ")))?;
    let Value::Array(kept) = entries(&mut con, "SLOWLOG GET 1")?.remove(0).remove(3) else {
        return Err("arguments are an array".into());
    };
    assert_eq!(kept.len(), 32);
    assert_eq!(render(&kept[30]), "\"k29\"");
    assert_eq!(render(&kept[31]), "\"... (10 more arguments)\"");
    run(&mut con, "CONFIG SET requirepass secret")?;
    let entry = entries(&mut con, "SLOWLOG GET 1")?.remove(0);
    assert_eq!(
        args(&entry),
        "[\"CONFIG\", \"SET\", \"requirepass\", \"(redacted)\"]"
    );
    run(&mut con, "AUTH secret")?;
    let entry = entries(&mut con, "SLOWLOG GET 1")?.remove(0);
    assert_eq!(args(&entry), "[\"AUTH\", \"(redacted)\"]");
    run(&mut con, "HELLO 2 AUTH default secret")?;
    let entry = entries(&mut con, "SLOWLOG GET 1")?.remove(0);
    assert_eq!(
        args(&entry),
        "[\"HELLO\", \"2\", \"AUTH\", \"(redacted)\", \"(redacted)\"]"
    );
    Ok(())
}

#[test]
fn the_threshold_and_the_length_are_kept() -> TestResult {
    let server = common::start_with_debug()?;
    let mut con = connect(&server)?;
    // At the default 10 ms, quick commands are not logged and a sleep of
    // 20 ms is, with its time.
    check(&mut con, &[("SET a 1", "+OK"), ("DEBUG SLEEP 0.02", "+OK")])?;
    let got = entries(&mut con, "SLOWLOG GET")?;
    assert_eq!(got.len(), 1);
    assert_eq!(args(&got[0]), "[\"DEBUG\", \"SLEEP\", \"0.02\"]");
    assert!(int(&got[0][2]) >= 20_000, "{} µs", int(&got[0][2]));
    check(
        &mut con,
        &[
            (
                "CONFIG SET slowlog-log-slower-than 0 slowlog-max-len 3",
                "+OK",
            ),
            ("PING", "+PONG"),
            ("PING", "+PONG"),
            ("SLOWLOG LEN", ":3"),
            ("CONFIG SET slowlog-max-len 1", "+OK"),
            ("SLOWLOG LEN", ":1"),
            ("CONFIG SET slowlog-log-slower-than -1", "+OK"),
            ("SLOWLOG RESET", "+OK"),
            ("DEBUG SLEEP 0.02", "+OK"),
            ("SLOWLOG LEN", ":0"),
        ],
    )?;
    Ok(())
}

/// A command's time runs from where the connection's previous command
/// ended, within one turn of its requests: a slow command's time is its
/// own, not the next one's, and the wait for a client's next request is
/// never counted.
#[test]
fn a_commands_time_is_its_own_in_a_pipeline_and_idle_time_is_not_counted() -> TestResult {
    let server = common::start_with_debug()?;
    let mut raw = common::Raw::connect(server.addr())?;
    raw.check(b"CONFIG SET slowlog-log-slower-than 40000\r\n", b"+OK\r\n")?;
    // One pipeline: the sleep, then a PING in the same turn.
    raw.send(b"DEBUG SLEEP 0.05\r\nPING\r\n")?;
    assert_eq!(raw.reply()?, b"+OK\r\n");
    assert_eq!(raw.reply()?, b"+PONG\r\n");
    // The client idles longer than the threshold, then asks again.
    std::thread::sleep(std::time::Duration::from_millis(60));
    raw.check(b"PING\r\n", b"+PONG\r\n")?;
    let mut con = connect(&server)?;
    let got = entries(&mut con, "SLOWLOG GET")?;
    let logged: Vec<String> = got.iter().map(|e| args(e)).collect();
    assert_eq!(logged, ["[\"DEBUG\", \"SLEEP\", \"0.05\"]"]);
    Ok(())
}

/// Turning the log off and on again inside one pipeline: the command
/// after it starts its own time, not from the last command timed before
/// the log went off.
#[test]
fn turning_the_log_off_and_on_in_a_pipeline_charges_no_command_for_the_gap() -> TestResult {
    let server = common::start_with_debug()?;
    let mut raw = common::Raw::connect(server.addr())?;
    // Each command once first: a thread times a command the first time
    // it runs it, from its own start, which would hide the gap.
    for warm in [
        "CONFIG SET slowlog-log-slower-than 40000",
        "PING",
        "DEBUG SLEEP 0",
    ] {
        raw.send(format!("{warm}\r\n").as_bytes())?;
        raw.reply()?;
    }
    // Three times over, as a PING timed one time in 16 for the stats also
    // starts from its own start.
    let toggle = "CONFIG SET slowlog-log-slower-than -1\r\nDEBUG SLEEP 0.05\r\n\
                  CONFIG SET slowlog-log-slower-than 40000\r\nPING\r\n";
    raw.send(toggle.repeat(3).as_bytes())?;
    for _ in 0..3 {
        for want in [&b"+OK\r\n"[..], b"+OK\r\n", b"+OK\r\n", b"+PONG\r\n"] {
            assert_eq!(raw.reply()?, want);
        }
    }
    let mut con = connect(&server)?;
    assert!(entries(&mut con, "SLOWLOG GET")?.is_empty());
    Ok(())
}
