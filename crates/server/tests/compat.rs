//! Third-party compatibility cases (`tests/compat/cts.json`, from
//! tair-opensource's resp-compatibility suite, MIT) run against Tandem.
//!
//! Each case runs on a fresh connection after FLUSHALL and SELECT 0, so
//! no case sees another's keys or connection state (a SUBSCRIBE or QUIT
//! in one case cannot leak into the next). Each command's one reply is
//! compared with the case's `result` (see `compat/compare.rs`).
//!
//! The server is Tandem, started in-process on a free port, unless
//! `TANDEM_COMPAT_ADDR=host:port` names another; pointing it at a real
//! Redis 7.0 checks the runner itself. Cases using commands Tandem lacks
//! are reported as unsupported, with the missing commands (against an
//! external server they run anyway). The test fails if any case that ran
//! failed, or if fewer than `MIN_PASSED` passed.
//!
//! ```text
//! cargo test -p tandem-server --test compat -- --nocapture
//! TANDEM_COMPAT_ADDR=127.0.0.1:7777 cargo test -p tandem-server --test compat -- --nocapture
//! ```

#[path = "compat/cases.rs"]
mod cases;
#[path = "compat/compare.rs"]
mod compare;
#[path = "compat/report.rs"]
mod report;
#[path = "compat/resp.rs"]
mod resp;

use cases::{Case, Class};
use compare::Value;
use report::{Failure, Tally};
use resp::{Conn, Reply};
use std::collections::HashSet;
use std::error::Error;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error>>;

/// How many cases pass today (in-process Tandem; Redis 7.0 passes more).
/// Raise it when more pass; it only falls if the runner stops running
/// what it should.
const MIN_PASSED: usize = 348;

/// Reads the case file from the repository (not from outside it, so a
/// fresh clone runs the same cases).
fn load() -> Res<Vec<Case>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/cts.json");
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// Sends a setup command that must answer `+OK`.
fn expect_ok(conn: &mut Conn, args: &[&str]) -> Res<()> {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    match conn.call(&args)? {
        Reply::Simple(s) if s == "OK" => Ok(()),
        other => Err(format!("{args:?} answered {other:?}").into()),
    }
}

/// Waits until `conn` is the server's only client. The previous case's
/// connection closed on our side, but the server notices in its own time:
/// until then its subscriptions still count (PUBLISH answered 1 where the
/// case expects 0, seen under load).
fn alone(conn: &mut Conn) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let clients = match conn.call(&[b"CLIENT".to_vec(), b"LIST".to_vec()])? {
            Reply::Bulk(Some(text)) => text
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            other => return Err(format!("CLIENT LIST answered {other:?}").into()),
        };
        if clients <= 1 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("{clients} clients still connected after 10 s").into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The Redis version the server reports in HELLO (RESP2, no arguments:
/// nothing about the connection changes). Tandem reports the version
/// whose behaviour it follows.
fn server_version(addr: SocketAddr) -> Res<String> {
    let mut conn = Conn::connect(addr)?;
    let Reply::Array(Some(fields)) = conn.call(&[b"HELLO".to_vec()])? else {
        return Err("HELLO did not answer an array".into());
    };
    let version = fields
        .chunks(2)
        .find_map(|pair| match pair {
            [Reply::Bulk(Some(k)), Reply::Bulk(Some(v))] if k == b"version" => {
                Some(String::from_utf8_lossy(v).into_owned())
            }
            _ => None,
        })
        .ok_or("HELLO did not report a version")?;
    Ok(version)
}

/// Runs one case on a clean keyspace; returns its failures (none means
/// it passed). Setup trouble is an error for the whole run: without a
/// clean keyspace no result means anything.
fn run_case(addr: SocketAddr, index: usize, case: &Case) -> Res<Vec<Failure>> {
    let mut conn = Conn::connect(addr)?;
    alone(&mut conn)?;
    expect_ok(&mut conn, &["FLUSHALL"])?;
    expect_ok(&mut conn, &["SELECT", "0"])?;
    let mut failures = Vec::new();
    for (line, want) in case.command.iter().zip(&case.result) {
        let args = cases::split(line, case.command_binary)?;
        let mut expected = Value::from_json(want)?;
        let got = conn.call(&args).map(Value::from_reply);
        let lost = got.is_err();
        let ok = match &got {
            Ok(got) if case.sort_result => {
                expected = expected.sorted();
                compare::matches(&expected, &got.clone().sorted(), case.float_result)
            }
            Ok(got) => compare::matches(&expected, got, case.float_result),
            Err(_) => false,
        };
        if !ok {
            failures.push(Failure {
                index,
                case: case.name.clone(),
                command: line.clone(),
                expected,
                got: got.map_err(|e| e.to_string()),
            });
        }
        // After a lost reply the connection's state is unknown; the rest
        // of the case would only report noise.
        if lost {
            break;
        }
    }
    Ok(failures)
}

#[test]
fn cts_cases() -> Res<()> {
    let cases = load()?;
    // Keeps the in-process server alive until the end of the test.
    let mut _running = None;
    let external = std::env::var("TANDEM_COMPAT_ADDR")
        .ok()
        .filter(|a| !a.is_empty());
    let (addr, target) = match &external {
        Some(a) => {
            let addr = a.to_socket_addrs()?.next().ok_or("no address")?;
            (addr, format!("external server {a}"))
        }
        None => {
            let config = tandem_server::Config {
                port: 0,
                dir: std::env::temp_dir().join(format!("tandem-compat-{}", std::process::id())),
                save: tandem_server::config::SaveRules(Vec::new()),
                ..Default::default()
            };
            let running = tandem_server::start(config, 2)?;
            let addr = running.addr();
            _running = Some(running);
            (addr, format!("Tandem in-process at {addr}"))
        }
    };
    let version_text = server_version(addr)?;
    let version = cases::version(&version_text).ok_or("unreadable server version")?;
    let supported: HashSet<&str> = tandem_server::command_names().collect();

    let mut tally = Tally {
        total: cases.len(),
        ..Tally::default()
    };
    for (index, case) in cases.iter().enumerate() {
        let label = format!("#{index} {:?} (since {})", case.name, case.since);
        match cases::classify(case, version, &supported) {
            Class::Skipped => tally.skipped.push(label),
            Class::Cluster => tally.cluster += 1,
            Class::NeedsNewer => tally.needs_newer.push(label),
            Class::Invalid(why) => tally.invalid.push(format!("{label}: {why}")),
            Class::Unsupported(missing) if external.is_none() => {
                tally.unsupported += 1;
                tally.note_missing(&missing);
            }
            class => {
                if let Class::Unsupported(missing) = &class {
                    tally.unsupported_but_run += 1;
                    tally.note_missing(missing);
                }
                let failures = run_case(addr, index, case)?;
                if failures.is_empty() {
                    tally.passed += 1;
                } else {
                    tally.failed_cases += 1;
                    tally.failures.extend(failures);
                }
            }
        }
    }
    tally.print(&target, &version_text, external.is_some());
    if tally.failed_cases > 0 {
        return Err(format!("{} compatibility cases failed", tally.failed_cases).into());
    }
    // A runner that ran nothing would pass: a broken case file, a wrong
    // version check or a lost command list must fail instead.
    if tally.passed < MIN_PASSED {
        return Err(format!(
            "only {} compatibility cases passed; {MIN_PASSED} pass today",
            tally.passed
        )
        .into());
    }
    Ok(())
}
