//! MULTI / EXEC / DISCARD / WATCH / UNWATCH over the network, with Redis
//! 7.0.15's replies: queueing, errors while queueing (EXECABORT), errors
//! while running (reported per command), WATCH aborting on a write by
//! another client, on expiry, on deletion and on a flush, and atomicity
//! under concurrent transactions that must never be seen half-done.

mod common;

use common::{encode_words, Raw, TestResult};
use std::time::{Duration, Instant};

fn w(line: &str) -> Vec<u8> {
    encode_words(line)
}

#[test]
fn queued_commands_run_in_order_on_exec() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET a 1"), b"+QUEUED\r\n")?;
    c.check(&w("INCR a"), b"+QUEUED\r\n")?;
    c.check(&w("GET a"), b"+QUEUED\r\n")?;
    c.check(&w("MSET x 1 y 2"), b"+QUEUED\r\n")?;
    c.check(&w("PING"), b"+QUEUED\r\n")?;
    c.check(
        &w("EXEC"),
        b"*5\r\n+OK\r\n:2\r\n$1\r\n2\r\n+OK\r\n+PONG\r\n",
    )?;
    c.check(&w("EXEC"), b"-ERR EXEC without MULTI\r\n")?;
    c.check(&w("DISCARD"), b"-ERR DISCARD without MULTI\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"-ERR MULTI calls can not be nested\r\n")?;
    c.check(&w("WATCH a"), b"-ERR WATCH inside MULTI is not allowed\r\n")?;
    c.check(&w("SET a 100"), b"+QUEUED\r\n")?;
    c.check(&w("DISCARD"), b"+OK\r\n")?;
    c.check(&w("GET a"), b"$1\r\n2\r\n")?;
    // An empty transaction.
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("EXEC"), b"*0\r\n")?;
    Ok(())
}

#[test]
fn errors_while_queueing_abort_and_errors_while_running_do_not() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET a 1"), b"+QUEUED\r\n")?;
    c.check(
        &w("SET a"),
        b"-ERR wrong number of arguments for 'set' command\r\n",
    )?;
    c.check(
        &w("NOSUCH x"),
        b"-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n",
    )?;
    c.check(
        &w("EXEC"),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    )?;
    c.check(&w("GET a"), b"$-1\r\n")?;
    // A runtime error is that command's reply; the others still run.
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET a x"), b"+QUEUED\r\n")?;
    c.check(&w("INCR a"), b"+QUEUED\r\n")?;
    c.check(&w("SET b 1"), b"+QUEUED\r\n")?;
    c.check(
        &w("EXEC"),
        b"*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n",
    )?;
    c.check(&w("GET b"), b"$1\r\n1\r\n")?;
    Ok(())
}

#[test]
fn watch_aborts_on_writes_expiry_deletion_and_flush() -> TestResult {
    // TTLs on a clock this test moves: the key expires between WATCH and
    // EXEC however slow the machine, never before WATCH.
    let clock = common::manual_clock();
    let server = common::start_with_clock(common::config(), &clock)?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    let run = |c: &mut Raw| -> Result<Vec<u8>, common::Error> {
        c.check(&w("MULTI"), b"+OK\r\n")?;
        c.check(&w("SET k mine"), b"+QUEUED\r\n")?;
        c.call(&w("EXEC"))
    };
    // Unchanged: EXEC runs.
    other.check(&w("SET k 1"), b"+OK\r\n")?;
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    assert_eq!(run(&mut c)?, b"*1\r\n+OK\r\n");
    // Written by another client: aborted, null reply.
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    other.check(&w("SET k theirs"), b"+OK\r\n")?;
    assert_eq!(run(&mut c)?, b"*-1\r\n");
    c.check(&w("GET k"), b"$6\r\ntheirs\r\n")?;
    // Deleted.
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    other.check(&w("DEL k"), b":1\r\n")?;
    assert_eq!(run(&mut c)?, b"*-1\r\n");
    // Expired.
    other.check(&w("SET k v PX 30"), b"+OK\r\n")?;
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    clock.advance(31);
    assert_eq!(run(&mut c)?, b"*-1\r\n");
    // Flushed.
    other.check(&w("SET k v"), b"+OK\r\n")?;
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    other.check(&w("FLUSHALL"), b"+OK\r\n")?;
    assert_eq!(run(&mut c)?, b"*-1\r\n");
    // UNWATCH forgets; and a written key in another database counts too.
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    other.check(&w("SET k again"), b"+OK\r\n")?;
    c.check(&w("UNWATCH"), b"+OK\r\n")?;
    assert_eq!(run(&mut c)?, b"*1\r\n+OK\r\n");
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    c.check(&w("SELECT 1"), b"+OK\r\n")?;
    other.check(&w("SET k changed"), b"+OK\r\n")?;
    assert_eq!(run(&mut c)?, b"*-1\r\n");
    // RESP3: the aborted EXEC is a RESP3 null.
    c.send(&w("HELLO 3"))?;
    c.reply()?;
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    other.check(&w("SELECT 1"), b"+OK\r\n")?;
    other.check(&w("SET k x"), b"+OK\r\n")?;
    assert_eq!(run(&mut c)?, b"_\r\n");
    Ok(())
}

/// Recorded from Redis 7.0.15: SWAPDB fails the EXEC of a client
/// watching a key that existed, and leaves alone one watching a key that
/// exists in neither database.
#[test]
fn watch_aborts_when_swapdb_replaces_the_watched_database() -> TestResult {
    let server = common::start(common::config())?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    // The same key written once in each database: each database's first
    // write of that shard, so the two entries' versions alone look alike.
    other.check(&w("SET k 1"), b"+OK\r\n")?;
    other.check(&w("SELECT 1"), b"+OK\r\n")?;
    other.check(&w("SET k 1"), b"+OK\r\n")?;
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    other.check(&w("SWAPDB 0 1"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("GET k"), b"+QUEUED\r\n")?;
    assert_eq!(c.call(&w("EXEC"))?, b"*-1\r\n");
    // Redis runs this one (`*0`): the key exists in neither database.
    // Tandem cannot tell it from a key created and deleted before the
    // swap, which must fail, so it fails it too (WATCH's contract allows
    // a needless failure; the client retries).
    c.check(&w("WATCH nokey"), b"+OK\r\n")?;
    other.check(&w("SWAPDB 0 1"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    assert_eq!(c.call(&w("EXEC"))?, b"*-1\r\n");
    Ok(())
}

/// Recorded from Redis 7.0.15: a key absent at WATCH that another client
/// creates and deletes again fails EXEC; another key created and deleted
/// meanwhile does not.
#[test]
fn watch_aborts_when_an_absent_key_is_created_and_deleted() -> TestResult {
    let server = common::start(common::config())?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    c.check(&w("WATCH ghost"), b"+OK\r\n")?;
    other.check(&w("SET ghost 1"), b"+OK\r\n")?;
    other.check(&w("DEL ghost"), b":1\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    assert_eq!(c.call(&w("EXEC"))?, b"*-1\r\n");
    // Expired rather than deleted: the same.
    c.check(&w("WATCH ghost"), b"+OK\r\n")?;
    other.check(&w("SET ghost 1 PX 1"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    assert_eq!(c.call(&w("EXEC"))?, b"*-1\r\n");
    c.check(&w("WATCH ghost2"), b"+OK\r\n")?;
    other.check(&w("SET unrelated 1"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    assert_eq!(c.call(&w("EXEC"))?, b"*0\r\n");
    Ok(())
}

#[test]
fn transactions_with_keyspace_wide_commands_run_in_order() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET a 1"), b"+QUEUED\r\n")?;
    c.check(&w("DBSIZE"), b"+QUEUED\r\n")?;
    c.check(&w("SELECT 2"), b"+QUEUED\r\n")?;
    c.check(&w("SET b 1"), b"+QUEUED\r\n")?;
    c.check(&w("DBSIZE"), b"+QUEUED\r\n")?;
    c.check(&w("EXEC"), b"*5\r\n+OK\r\n:1\r\n+OK\r\n+OK\r\n:1\r\n")?;
    c.check(&w("GET b"), b"$1\r\n1\r\n")?;
    Ok(())
}

/// Transfers between two counters in transactions, from several clients
/// at once, while readers read both in one transaction: every read sees a
/// total of zero (never half a transfer), and the final counts are exact.
#[test]
fn concurrent_transactions_are_never_seen_half_done() -> TestResult {
    let server = common::start_default()?;
    let addr = server.addr();
    let writers: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || transfer(addr).map_err(|e| e.to_string())))
        .collect();
    let reader = std::thread::spawn(move || read_pairs(addr).map_err(|e| e.to_string()));
    for t in writers {
        t.join().map_err(|_| "writer panicked")??;
    }
    reader.join().map_err(|_| "reader panicked")??;
    let mut c = Raw::connect(addr)?;
    c.check(&w("GET to"), b"$5\r\n12000\r\n")?;
    c.check(&w("GET from"), b"$6\r\n-12000\r\n")?;
    Ok(())
}

fn transfer(addr: std::net::SocketAddr) -> TestResult {
    let mut c = Raw::connect(addr)?;
    for _ in 0..300 {
        // Ten steps out, then ten in: a transaction seen half-done is
        // seen with a non-zero total.
        let mut batch = w("MULTI");
        for _ in 0..10 {
            batch.extend(w("INCRBY from -1"));
        }
        for _ in 0..10 {
            batch.extend(w("INCRBY to 1"));
        }
        batch.extend(w("EXEC"));
        c.send(&batch)?;
        let replies = c.replies(22)?;
        let last = replies.last().ok_or("no EXEC reply")?;
        assert!(last.starts_with(b"*20\r\n:"), "{}", common::text(last));
    }
    Ok(())
}

fn read_pairs(addr: std::net::SocketAddr) -> TestResult {
    let mut c = Raw::connect(addr)?;
    for _ in 0..300 {
        c.check(&w("MULTI"), b"+OK\r\n")?;
        c.check(&w("GET from"), b"+QUEUED\r\n")?;
        c.check(&w("GET to"), b"+QUEUED\r\n")?;
        let r = String::from_utf8(c.call(&w("EXEC"))?)?;
        let nums: Vec<i64> = r
            .split("\r\n")
            .filter(|l| !l.starts_with(['*', '$']) && !l.is_empty())
            .map(|l| l.parse().unwrap_or(0))
            .collect();
        assert_eq!(nums.iter().sum::<i64>(), 0, "half a transfer seen: {r:?}");
    }
    Ok(())
}

/// WATCH-based optimistic locking: concurrent increments through
/// WATCH/GET/MULTI/SET/EXEC retries lose no update.
#[test]
fn watch_makes_check_and_set_safe() -> TestResult {
    let server = common::start_default()?;
    let addr = server.addr();
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || cas_increments(addr).map_err(|e| e.to_string())))
        .collect();
    for t in threads {
        t.join().map_err(|_| "thread panicked")??;
    }
    let mut c = Raw::connect(addr)?;
    c.check(&w("GET n"), b"$3\r\n400\r\n")?;
    Ok(())
}

fn cas_increments(addr: std::net::SocketAddr) -> TestResult {
    let mut c = Raw::connect(addr)?;
    let mut done = 0;
    while done < 100 {
        c.check(&w("WATCH n"), b"+OK\r\n")?;
        let v = String::from_utf8(c.call(&w("GET n"))?)?;
        let n: i64 = v
            .split("\r\n")
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        c.check(&w("MULTI"), b"+OK\r\n")?;
        c.check(&w(&format!("SET n {}", n + 1)), b"+QUEUED\r\n")?;
        if c.call(&w("EXEC"))? == b"*1\r\n+OK\r\n" {
            done += 1;
        }
    }
    Ok(())
}

/// Redis 7.0.15's refusal of a `no-multi` command while queueing.
const NOT_IN_MULTI: &[u8] = b"-ERR Command not allowed inside a transaction\r\n";
/// EXEC's answer once a request failed to queue.
const EXECABORT: &[u8] = b"-EXECABORT Transaction discarded because of previous errors.\r\n";

#[test]
fn shutdown_inside_multi_is_refused_and_the_transaction_discarded() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET foo bar"), b"+QUEUED\r\n")?;
    c.check(&w("SHUTDOWN"), NOT_IN_MULTI)?;
    // A doomed transaction still answers what follows, as Redis does.
    c.check(&w("SET other 1"), b"+QUEUED\r\n")?;
    c.check(&w("EXEC"), EXECABORT)?;
    // The server is still up, and nothing of the transaction ran.
    c.check(&w("GET foo"), b"$-1\r\n")?;
    let mut other = Raw::connect(server.addr())?;
    other.check(&w("EXISTS foo other"), b":0\r\n")?;
    // Whatever its arguments (Redis checks them only when it runs).
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SHUTDOWN NOSAVE a b c"), NOT_IN_MULTI)?;
    c.check(&w("EXEC"), EXECABORT)?;
    Ok(())
}

/// The commands Redis 7.0.15 marks `no_multi`, among those Tandem serves
/// (recorded in the fixture that the COMMAND flags test checks).
fn no_multi_commands() -> Vec<(String, i64)> {
    include_str!("fixtures/redis-7.0.15-command-flags.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split_whitespace().skip(2).any(|f| f == "no_multi"))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?.to_string();
            let arity = words.next()?.parse().ok()?;
            Some((name, arity))
        })
        .collect()
}

#[test]
fn every_no_multi_command_is_refused_inside_multi() -> TestResult {
    let commands = no_multi_commands();
    assert!(
        commands.iter().any(|(name, _)| name == "shutdown"),
        "{commands:?}"
    );
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    for (name, arity) in &commands {
        // Arguments enough to pass the arity check: a subcommand's name
        // is its second word.
        let mut words: Vec<String> = name.split('|').map(str::to_string).collect();
        let argc = usize::try_from(arity.unsigned_abs())?;
        while words.len() < argc {
            words.push("x".into());
        }
        c.check(&w("MULTI"), b"+OK\r\n")?;
        c.check(&w("SET k v"), b"+QUEUED\r\n")?;
        c.check(&w(&words.join(" ")), NOT_IN_MULTI)?;
        c.check(&w("EXEC"), EXECABORT)?;
        c.check(&w("EXISTS k"), b":0\r\n")?;
    }
    Ok(())
}

#[test]
fn refusals_while_queueing_come_in_redis_order() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    // DEBUG is off by default: refused while queueing, and that dooms
    // the transaction as any refusal does.
    c.check(
        &w("DEBUG SLEEP 0"),
        b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n",
    )?;
    c.check(&w("EXEC"), EXECABORT)?;
    // The arity check comes before the DEBUG switch.
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(
        &w("DEBUG"),
        b"-ERR wrong number of arguments for 'debug' command\r\n",
    )?;
    c.check(&w("EXEC"), EXECABORT)?;
    Ok(())
}

#[test]
fn client_pause_write_holds_exec_only_when_its_queue_writes() -> TestResult {
    let server = common::start_default()?;
    let mut admin = Raw::connect(server.addr())?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("SET k v"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("GET k"), b"+QUEUED\r\n")?;
    // Longer than any read's deadline: a held EXEC would fail the test.
    admin.check(&w("CLIENT PAUSE 60000 WRITE"), b"+OK\r\n")?;
    c.check(&w("EXEC"), b"*1\r\n$1\r\nv\r\n")?;
    admin.check(&w("CLIENT UNPAUSE"), b"+OK\r\n")?;
    // A write is held back even when it would only be queued, as in
    // Redis, and so is the EXEC of a queue holding one.
    // Held is proven by time, not by silence: a pause starts after
    // `asked`, so a held request cannot answer before `asked` + 300 ms;
    // one that was not held answers at once.
    c.check(&w("MULTI"), b"+OK\r\n")?;
    let asked = Instant::now();
    admin.check(&w("CLIENT PAUSE 300 WRITE"), b"+OK\r\n")?;
    c.send(&w("SET k w"))?;
    c.expect(b"+QUEUED\r\n")?;
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(290),
        "SET answered after {waited:?}"
    );
    let asked = Instant::now();
    admin.check(&w("CLIENT PAUSE 300 WRITE"), b"+OK\r\n")?;
    c.send(&w("EXEC"))?;
    c.expect(b"*1\r\n+OK\r\n")?;
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(290),
        "EXEC answered after {waited:?}"
    );
    Ok(())
}

#[test]
fn a_refused_exec_discards_the_transaction_and_its_watches() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    c.check(&w("WATCH k"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET a 1"), b"+QUEUED\r\n")?;
    c.check(
        &w("EXEC x"),
        b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
    )?;
    c.check(&w("EXEC"), b"-ERR EXEC without MULTI\r\n")?;
    c.check(&w("GET a"), b"$-1\r\n")?;
    // The watch went with it: a change of k no longer aborts.
    other.check(&w("SET k 1"), b"+OK\r\n")?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("EXEC"), b"*0\r\n")?;
    // Outside MULTI too, as Redis words it.
    c.check(
        &w("EXEC x"),
        b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
    )?;
    c.check(
        &w("SUBSCRIBE ch"),
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
    )?;
    c.check(
        &w("EXEC"),
        b"-EXECABORT Transaction discarded because of: Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    )?;
    Ok(())
}

#[test]
fn refusals_are_answered_at_once_while_clients_are_paused() -> TestResult {
    // Redis refuses before it holds a request back for CLIENT PAUSE.
    let server = common::start_default()?;
    let mut admin = Raw::connect(server.addr())?;
    let mut c = Raw::connect(server.addr())?;
    // Longer than any read's deadline: a held request would fail the test.
    admin.check(&w("CLIENT PAUSE 60000 ALL"), b"+OK\r\n")?;
    c.check(
        &w("SET k"),
        b"-ERR wrong number of arguments for 'set' command\r\n",
    )?;
    c.check(
        &w("NOSUCH"),
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    )?;
    admin.check(&w("CLIENT UNPAUSE"), b"+OK\r\n")?;
    Ok(())
}
