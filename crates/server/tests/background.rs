//! The server's background threads: one reaper and one resizer for all its
//! databases, and a thread that dies is seen: in INFO, in the log (at
//! error level), and as a clear error on every write while reads still
//! answer. Threads are killed with `DEBUG PANIC-THREAD`, which exists only
//! with the `fault-injection` feature these tests build with.
//!
//! The tests count threads by name in `/proc/self/task` and share one
//! captured log, so they take one lock: no other server runs meanwhile.

mod common;

use common::{Raw, TestResult, TIMEOUT};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls until `check` holds, or fails with `what`.
fn wait_until(what: &str, mut check: impl FnMut() -> Result<bool, common::Error>) -> TestResult {
    let deadline = Instant::now() + TIMEOUT;
    while !check()? {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn threads() -> (usize, usize) {
    (
        tandem_engine::process::threads_named("tandem-reaper"),
        tandem_engine::process::threads_named("tandem-resizer"),
    )
}

/// The `shards` section's `background_*` lines.
fn background_info(c: &mut Raw) -> Result<Vec<String>, common::Error> {
    let reply = String::from_utf8(c.call(b"INFO shards\r\n")?)?;
    Ok(reply
        .split("\r\n")
        .filter(|l| l.starts_with("background_"))
        .map(str::to_owned)
        .collect())
}

#[test]
fn sixteen_databases_have_one_reaper_and_one_resizer() -> TestResult {
    let _one = exclusive();
    wait_until("no background thread is left", || Ok(threads() == (0, 0)))?;
    let server = common::start_with_debug()?;
    let mut c = Raw::connect(server.addr())?;
    // Keys with deadlines in every database, some renumbered by SWAPDB:
    // the one reaper removes them all (DBSIZE counts keys expired but not
    // removed).
    c.check(b"SWAPDB 0 15\r\n", b"+OK\r\n")?;
    for db in 0..16 {
        c.check(format!("SELECT {db}\r\n").as_bytes(), b"+OK\r\n")?;
        c.check(b"SET k v PX 20\r\n", b"+OK\r\n")?;
    }
    wait_until("one reaper and one resizer run", || Ok(threads() == (1, 1)))?;
    for db in 0..16 {
        c.check(format!("SELECT {db}\r\n").as_bytes(), b"+OK\r\n")?;
        wait_until(&format!("db {db} is empty"), || {
            Ok(c.call(b"DBSIZE\r\n")? == b":0\r\n")
        })?;
    }
    assert_eq!(
        background_info(&mut c)?,
        [
            "background_reaper:state=running",
            "background_resizer:state=running",
            "background_evictor:state=running,panics=0",
            "background_writes_refused:0"
        ]
    );
    drop(c);
    server.stop()?;
    wait_until("the server's threads end", || Ok(threads() == (0, 0)))
}

fn kill_and_check(worker: &str, thread: &str) -> TestResult {
    common::log::capture();
    let _one = exclusive();
    let server = common::start_with_debug()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"SET k v\r\n", b"+OK\r\n")?;
    c.check(b"SELECT 3\r\n", b"+OK\r\n")?;
    c.check(b"SET k3 v3\r\n", b"+OK\r\n")?;
    c.check(
        format!("DEBUG PANIC-THREAD {worker}\r\n").as_bytes(),
        b"+OK\r\n",
    )?;
    let cause = "panicked: injected fault (fault-injection)";
    wait_until("INFO shows the death", || {
        Ok(background_info(&mut c)?
            .contains(&format!("background_{worker}:state=dead,cause={cause}")))
    })?;
    assert!(background_info(&mut c)?.contains(&"background_writes_refused:1".to_string()));

    // Every write, in every database, gets the error; reads still answer.
    let refused =
        format!("-ERR background thread '{thread}' died ({cause}); writes are refused\r\n");
    c.check(b"SET x 1\r\n", refused.as_bytes())?;
    c.check(b"INCR n\r\n", refused.as_bytes())?;
    c.check(b"GET k3\r\n", b"$2\r\nv3\r\n")?;
    c.check(b"SELECT 0\r\n", b"+OK\r\n")?;
    c.check(b"DEL k\r\n", refused.as_bytes())?;
    c.check(b"MSET a 1 b 2\r\n", refused.as_bytes())?;
    c.check(b"MULTI\r\n", b"+OK\r\n")?;
    c.check(b"SET a 1\r\n", b"+QUEUED\r\n")?;
    c.check(b"GET k\r\n", b"+QUEUED\r\n")?;
    c.check(
        b"EXEC\r\n",
        format!("*2\r\n{refused}$1\r\nv\r\n").as_bytes(),
    )?;
    c.check(b"GET k\r\n", b"$1\r\nv\r\n")?;
    c.check(b"EXISTS a b k\r\n", b":1\r\n")?;
    // Removing keys cannot keep one alive past its deadline: allowed.
    c.check(b"FLUSHDB\r\n", b"+OK\r\n")?;
    c.check(b"DBSIZE\r\n", b":0\r\n")?;

    // The log says which thread died and why, at error level.
    let log = common::log::text();
    let line = log
        .lines()
        .find(|l| l.contains("background thread died") && l.contains(thread))
        .ok_or_else(|| format!("no death of {thread} in the log:\n{log}"))?;
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains(cause), "{line}");
    drop(c);
    server.stop()?;
    Ok(())
}

#[test]
fn a_dead_reaper_is_in_info_and_the_log_and_refuses_writes() -> TestResult {
    kill_and_check("reaper", "tandem-reaper")
}

#[test]
fn a_dead_resizer_is_in_info_and_the_log_and_refuses_writes() -> TestResult {
    kill_and_check("resizer", "tandem-resizer")
}

#[test]
fn panic_thread_names_a_thread() -> TestResult {
    let _one = exclusive();
    let server = common::start_with_debug()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        b"DEBUG PANIC-THREAD janitor\r\n",
        b"-ERR no such background thread\r\n",
    )?;
    c.check(b"SET k v\r\n", b"+OK\r\n")?;
    drop(c);
    server.stop()?;
    Ok(())
}
