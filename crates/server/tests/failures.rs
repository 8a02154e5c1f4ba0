//! Failures are contained: a panic while serving one client closes that
//! client only, is logged with its command, and gives back all the client
//! held (its `maxclients` slot, its CLIENT LIST entry, its
//! subscriptions), while the serving thread goes on serving every other
//! connection. The panics come from TANDEM.PANIC, a command that exists
//! only with the `fault-injection` feature these tests build with.
//!
//! Every server here has one serving thread, so the clients that must
//! keep getting replies share the thread that panicked.

mod common;

use common::{encode_words, Raw, TestResult};

/// A server with one serving thread.
fn start() -> Result<common::Running, common::Error> {
    common::log::capture();
    Ok(tandem_server::start(common::config(), 1)?)
}

fn w(line: &str) -> Vec<u8> {
    encode_words(line)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

/// INFO's `connected_clients`.
fn connected_clients(c: &mut Raw) -> Result<u64, common::Error> {
    let info = text(c.call(&w("INFO clients"))?);
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .ok_or_else(|| format!("no connected_clients in {info}"))?;
    Ok(line.trim().parse()?)
}

/// The ids CLIENT LIST shows.
fn listed_ids(c: &mut Raw) -> Result<Vec<String>, common::Error> {
    let list = text(c.call(&w("CLIENT LIST"))?);
    Ok(list
        .split_whitespace()
        .filter_map(|f| f.strip_prefix("id="))
        .map(str::to_owned)
        .collect())
}

fn client_id(c: &mut Raw) -> Result<String, common::Error> {
    let reply = text(c.call(&w("CLIENT ID"))?);
    Ok(reply.trim_start_matches(':').trim_end().to_owned())
}

#[test]
fn a_panic_closes_its_connection_and_gives_back_what_it_held() -> TestResult {
    let server = start()?;
    let mut victim = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    let mut third = Raw::connect(server.addr())?;
    let victim_id = client_id(&mut victim)?;
    // RESP3, so that it may run any command while subscribed.
    victim.send(&w("HELLO 3"))?;
    victim.reply()?;
    for sub in [
        "SUBSCRIBE fail-ch",
        "PSUBSCRIBE fail-p*",
        "SSUBSCRIBE fail-s",
    ] {
        victim.send(&w(sub))?;
        victim.reply()?;
    }
    other.check(
        &w("PUBSUB NUMSUB fail-ch"),
        b"*2\r\n$7\r\nfail-ch\r\n:1\r\n",
    )?;
    other.check(&w("PUBSUB NUMPAT"), b":1\r\n")?;
    other.check(
        &w("PUBSUB SHARDNUMSUB fail-s"),
        b"*2\r\n$6\r\nfail-s\r\n:1\r\n",
    )?;
    assert_eq!(connected_clients(&mut other)?, 3);
    assert!(listed_ids(&mut other)?.contains(&victim_id));

    victim.send(&w("TANDEM.PANIC marker-one"))?;
    // Closed without a reply: the request it interrupted has none.
    victim.expect_then_closed(b"")?;

    // The thread that panicked serves the others still.
    other.check(&w("PING"), b"+PONG\r\n")?;
    third.check(&w("SET k v"), b"+OK\r\n")?;
    other.check(&w("GET k"), b"$1\r\nv\r\n")?;
    // Given back before the close was visible, so no waiting here.
    assert_eq!(connected_clients(&mut other)?, 2);
    let ids = listed_ids(&mut other)?;
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&victim_id), "{ids:?}");
    other.check(
        &w("PUBSUB NUMSUB fail-ch"),
        b"*2\r\n$7\r\nfail-ch\r\n:0\r\n",
    )?;
    other.check(&w("PUBSUB NUMPAT"), b":0\r\n")?;
    other.check(
        &w("PUBSUB SHARDNUMSUB fail-s"),
        b"*2\r\n$6\r\nfail-s\r\n:0\r\n",
    )?;
    // A new client takes the slot as before.
    let mut again = Raw::connect(server.addr())?;
    again.check(&w("PING"), b"+PONG\r\n")?;
    assert_eq!(connected_clients(&mut again)?, 3);

    let lines = common::log::lines_with("marker-one");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("cmd=\"tandem.panic\""), "{line}");
    assert!(line.contains(&format!("id={victim_id}")), "{line}");
    assert!(line.contains("peer=127.0.0.1:"), "{line}");
    Ok(())
}

#[test]
fn a_panic_in_a_pipeline_sends_the_replies_before_it_and_runs_nothing_after() -> TestResult {
    let server = start()?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    let mut batch = w("SET before 1");
    batch.extend(w("PING"));
    batch.extend(w("TANDEM.PANIC marker-two"));
    batch.extend(w("SET after 1"));
    c.send(&batch)?;
    c.expect_then_closed(b"+OK\r\n+PONG\r\n")?;
    other.check(&w("GET before"), b"$1\r\n1\r\n")?;
    other.check(&w("GET after"), b"$-1\r\n")?;
    assert_eq!(connected_clients(&mut other)?, 1);
    let lines = common::log::lines_with("marker-two");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("cmd=\"tandem.panic\""), "{}", lines[0]);
    Ok(())
}

#[test]
fn a_panic_inside_exec_closes_the_connection_and_releases_the_keys() -> TestResult {
    let server = start()?;
    let mut c = Raw::connect(server.addr())?;
    let mut other = Raw::connect(server.addr())?;
    c.check(&w("MULTI"), b"+OK\r\n")?;
    c.check(&w("SET x 1"), b"+QUEUED\r\n")?;
    c.check(&w("TANDEM.PANIC marker-three"), b"+QUEUED\r\n")?;
    c.check(&w("SET y 1"), b"+QUEUED\r\n")?;
    c.send(&w("EXEC"))?;
    // EXEC's reply was cut short by the panic: none of it goes out.
    c.expect_then_closed(b"")?;
    // As in Redis, what ran before the failure stays done (there is no
    // rollback), and nothing after it ran. The keys EXEC held are free:
    // these would wait forever otherwise.
    other.check(&w("GET x"), b"$1\r\n1\r\n")?;
    other.check(&w("GET y"), b"$-1\r\n")?;
    other.check(&w("SET x 2"), b"+OK\r\n")?;
    assert_eq!(connected_clients(&mut other)?, 1);
    let lines = common::log::lines_with("marker-three");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("cmd=\"exec\""), "{}", lines[0]);
    Ok(())
}

#[test]
fn a_killed_client_is_forgotten_before_it_sees_the_close() -> TestResult {
    // The same seat is given back on every path; after CLIENT KILL, as
    // after a panic, the server has forgotten the client by the time the
    // client sees its connection close, so nothing here polls.
    let server = start()?;
    let mut admin = Raw::connect(server.addr())?;
    let mut victim = Raw::connect(server.addr())?;
    let id = client_id(&mut victim)?;
    victim.check(
        &w("SUBSCRIBE kill-ch"),
        b"*3\r\n$9\r\nsubscribe\r\n$7\r\nkill-ch\r\n:1\r\n",
    )?;
    assert_eq!(connected_clients(&mut admin)?, 2);
    admin.check(&w(&format!("CLIENT KILL ID {id}")), b":1\r\n")?;
    victim.expect_then_closed(b"")?;
    assert_eq!(connected_clients(&mut admin)?, 1);
    assert_eq!(listed_ids(&mut admin)?.len(), 1);
    admin.check(
        &w("PUBSUB NUMSUB kill-ch"),
        b"*2\r\n$7\r\nkill-ch\r\n:0\r\n",
    )?;
    Ok(())
}

/// A command that panics inside a script: the panic is not an error the
/// script can catch (`redis.pcall`, `pcall`), the connection closes as
/// for any panic, and the script's keys are free again.
#[test]
fn a_panic_inside_a_script_is_not_caught_by_it() -> TestResult {
    let server = start()?;
    let mut other = Raw::connect(server.addr())?;
    for (i, body) in [
        "pcall(redis.pcall, 'tandem.panic', 'marker-script') \
         return redis.call('set', KEYS[1], 'after')",
        // An xpcall handler runs before the error unwinds: it must not
        // run commands either.
        "xpcall(function() redis.call('tandem.panic', 'marker-script') end, \
         function(e) redis.call('set', KEYS[1], 'after') return e end)",
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = Raw::connect(server.addr())?;
        c.send(&common::encode(&[b"EVAL", body.as_bytes(), b"1", b"k"]))?;
        c.expect_then_closed(b"")?;
        other.check(&w("GET k"), b"$-1\r\n")?;
        let lines = common::log::lines_with("marker-script");
        assert_eq!(lines.len(), i + 1, "{lines:?}");
    }
    other.check(&w("SET k free"), b"+OK\r\n")?;
    Ok(())
}
