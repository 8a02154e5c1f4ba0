//! Pub/sub over the network: subscription replies and messages in RESP2
//! and RESP3, the commands a RESP2 subscriber may run, shard channels,
//! introspection, keyspace notifications switched on with CONFIG SET (each
//! event type the engine emits), and a subscriber that stops reading,
//! which must be cut off while publishers and other subscribers carry on.
//! Expected bytes follow Redis 7.0.15's replies.

mod common;

use common::{encode_words, Raw, TestResult};
use std::time::{Duration, Instant};

fn words(line: &str) -> Vec<u8> {
    encode_words(line)
}

#[test]
fn resp2_subscribe_publish_and_the_subscribed_state() -> TestResult {
    let server = common::start_default()?;
    let mut sub = Raw::connect(server.addr())?;
    let mut publisher = Raw::connect(server.addr())?;
    sub.check(
        &words("SUBSCRIBE news sport"),
        b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n",
    )?;
    sub.check(
        &words("PSUBSCRIBE n*"),
        b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n",
    )?;
    // One channel subscriber plus one pattern subscriber.
    publisher.check(&words("PUBLISH news hello"), b":2\r\n")?;
    sub.expect(b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")?;
    sub.expect(b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n")?;
    // Only subscription commands, PING, QUIT and RESET while subscribed.
    sub.check(
        &words("GET k"),
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    )?;
    sub.check(&words("PING"), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")?;
    sub.check(&words("PING hi"), b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n")?;
    sub.check(
        &words("PUNSUBSCRIBE"),
        b"*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:2\r\n",
    )?;
    // Unsubscribing from everything: one reply per channel, in any order.
    sub.send(&words("UNSUBSCRIBE"))?;
    let mut left = Vec::new();
    for reply in sub.replies(2)? {
        let text = String::from_utf8(reply)?;
        assert!(text.starts_with("*3\r\n$11\r\nunsubscribe\r\n"), "{text}");
        left.push(text.rsplit("\r\n:").next().map(str::to_owned));
    }
    left.sort();
    assert_eq!(left, [Some("0\r\n".to_owned()), Some("1\r\n".to_owned())]);
    // Out of the subscribed state: ordinary commands work again.
    sub.check(&words("GET k"), b"$-1\r\n")?;
    sub.check(
        &words("UNSUBSCRIBE"),
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
    )?;
    publisher.check(&words("PUBLISH news again"), b":0\r\n")?;
    Ok(())
}

#[test]
fn resp3_pushes_mix_with_replies() -> TestResult {
    let server = common::start_default()?;
    let mut sub = Raw::connect(server.addr())?;
    let mut publisher = Raw::connect(server.addr())?;
    sub.send(&words("HELLO 3"))?;
    sub.reply()?;
    sub.check(
        &words("SUBSCRIBE ch"),
        b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
    )?;
    // A RESP3 client keeps running commands while subscribed.
    sub.check(&words("SET k v"), b"+OK\r\n")?;
    sub.check(&words("PING"), b"+PONG\r\n")?;
    publisher.check(&words("PUBLISH ch m1"), b":1\r\n")?;
    sub.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nm1\r\n")?;
    sub.check(&words("GET k"), b"$1\r\nv\r\n")?;
    // A push may arrive between a request and its reply; both arrive.
    sub.send(&words("GET k"))?;
    publisher.check(&words("PUBLISH ch m2"), b":1\r\n")?;
    let mut got = sub.replies(2)?;
    got.sort();
    assert_eq!(
        got,
        [
            b"$1\r\nv\r\n".to_vec(),
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nm2\r\n".to_vec()
        ]
    );
    Ok(())
}

#[test]
fn shard_channels_are_a_namespace_of_their_own() -> TestResult {
    let server = common::start_default()?;
    let mut s = Raw::connect(server.addr())?;
    let mut p = Raw::connect(server.addr())?;
    let mut all = Raw::connect(server.addr())?;
    s.check(
        &words("SSUBSCRIBE orders"),
        b"*3\r\n$10\r\nssubscribe\r\n$6\r\norders\r\n:1\r\n",
    )?;
    all.check(
        &words("PSUBSCRIBE *"),
        b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n",
    )?;
    // PUBLISH reaches the pattern, not the shard subscriber.
    p.check(&words("PUBLISH orders a"), b":1\r\n")?;
    all.expect(b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$6\r\norders\r\n$1\r\na\r\n")?;
    // SPUBLISH reaches the shard subscriber, not the pattern.
    p.check(&words("SPUBLISH orders b"), b":1\r\n")?;
    s.expect(b"*3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$1\r\nb\r\n")?;
    // A message on a channel the pattern matches, as a fence: messages
    // reach a subscriber in order, so had the pattern got SPUBLISH's
    // message, it would come first.
    p.check(&words("PUBLISH fence f"), b":1\r\n")?;
    all.expect(b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$5\r\nfence\r\n$1\r\nf\r\n")?;
    p.check(&words("PUBSUB SHARDCHANNELS"), b"*1\r\n$6\r\norders\r\n")?;
    p.check(
        &words("PUBSUB SHARDNUMSUB orders none"),
        b"*4\r\n$6\r\norders\r\n:1\r\n$4\r\nnone\r\n:0\r\n",
    )?;
    p.check(&words("PUBSUB CHANNELS"), b"*0\r\n")?;
    p.check(&words("PUBSUB NUMPAT"), b":1\r\n")?;
    s.check(
        &words("SUNSUBSCRIBE"),
        b"*3\r\n$12\r\nsunsubscribe\r\n$6\r\norders\r\n:0\r\n",
    )?;
    Ok(())
}

#[test]
fn pubsub_introspection_and_errors() -> TestResult {
    let server = common::start_default()?;
    let mut s = Raw::connect(server.addr())?;
    let mut c = Raw::connect(server.addr())?;
    s.send(&words("SUBSCRIBE a:1 a:2 b"))?;
    s.replies(3)?;
    let mut channels = c.call(&words("PUBSUB CHANNELS a:*"))?;
    let text = String::from_utf8(std::mem::take(&mut channels))?;
    assert!(text.starts_with("*2\r\n") && text.contains("a:1") && text.contains("a:2"));
    c.check(
        &words("PUBSUB NUMSUB a:1 b z"),
        b"*6\r\n$3\r\na:1\r\n:1\r\n$1\r\nb\r\n:1\r\n$1\r\nz\r\n:0\r\n",
    )?;
    c.check(&words("PUBSUB NUMPAT"), b":0\r\n")?;
    c.check(
        &words("PUBSUB NOPE"),
        b"-ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.\r\n",
    )?;
    c.check(
        &words("PUBLISH onlyone"),
        b"-ERR wrong number of arguments for 'publish' command\r\n",
    )?;
    c.check(
        &words("SUBSCRIBE"),
        b"-ERR wrong number of arguments for 'subscribe' command\r\n",
    )?;
    // RESET leaves the subscribed state.
    s.check(&words("RESET"), b"+RESET\r\n")?;
    s.check(&words("GET x"), b"$-1\r\n")?;
    c.check(&words("PUBSUB NUMSUB b"), b"*2\r\n$1\r\nb\r\n:0\r\n")?;
    Ok(())
}

/// Every keyspace event the engine emits, through CONFIG SET and a
/// pattern subscription, in the order Redis 7.0.15 publishes them.
#[test]
fn keyspace_notifications_for_each_event() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut s = Raw::connect(server.addr())?;
    c.check(&words("CONFIG SET notify-keyspace-events KEA"), b"+OK\r\n")?;
    c.check(
        &words("CONFIG GET notify-keyspace-events"),
        b"*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n",
    )?;
    s.check(
        &words("PSUBSCRIBE __keyevent@*"),
        b"*3\r\n$10\r\npsubscribe\r\n$12\r\n__keyevent@*\r\n:1\r\n",
    )?;
    let script = [
        ("SET k 1", vec!["set k"]),
        ("INCRBY k 2", vec!["incrby k"]),
        ("INCRBYFLOAT k 0.5", vec!["incrbyfloat k"]),
        ("APPEND k x", vec!["append k"]),
        ("SETRANGE k 0 9", vec!["setrange k"]),
        ("EXPIRE k 100", vec!["expire k"]),
        ("PERSIST k", vec!["persist k"]),
        ("RENAME k k2", vec!["rename_from k", "rename_to k2"]),
        ("COPY k2 k3", vec!["copy_to k3"]),
        ("MOVE k3 1", vec!["move_from k3"]),
        ("DEL k2", vec!["del k2"]),
        ("SET t v PX 30", vec!["set t", "expire t"]),
    ];
    for (command, events) in script {
        c.call(&words(command))?;
        for event in events {
            let (name, key) = event.split_once(' ').ok_or("bad script")?;
            let db = if name == "move_to" { 1 } else { 0 };
            let channel = format!("__keyevent@{db}__:{name}");
            let want = format!(
                "*4\r\n$8\r\npmessage\r\n$12\r\n__keyevent@*\r\n${}\r\n{channel}\r\n${}\r\n{key}\r\n",
                channel.len(),
                key.len()
            );
            let got = s.reply()?;
            // MOVE's move_to is published on database 1 after move_from.
            if name == "move_from" {
                assert_eq!(String::from_utf8_lossy(&got), want, "after {command}");
                let to = "__keyevent@1__:move_to";
                let want_to = format!(
                    "*4\r\n$8\r\npmessage\r\n$12\r\n__keyevent@*\r\n${}\r\n{to}\r\n$2\r\nk3\r\n",
                    to.len()
                );
                assert_eq!(String::from_utf8_lossy(&s.reply()?), want_to);
                continue;
            }
            assert_eq!(String::from_utf8_lossy(&got), want, "after {command}");
        }
    }
    // The key with a 30 ms TTL expires on its own: the reaper publishes
    // the event without anyone touching the key. How soon depends on a
    // loaded machine's scheduling, so only the read's generous deadline
    // (`common::TIMEOUT`) bounds it.
    let want = "*4\r\n$8\r\npmessage\r\n$12\r\n__keyevent@*\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nt\r\n";
    assert_eq!(String::from_utf8_lossy(&s.reply()?), want);
    Ok(())
}

/// A subscriber that stops reading is cut off at its output limit; the
/// publisher never waits, and a subscriber that reads gets every message,
/// in order.
#[test]
fn a_subscriber_that_stops_reading_is_cut_off() -> TestResult {
    let _alone = common::exclusive();
    let server = common::start_default()?;
    let mut admin = Raw::connect(server.addr())?;
    admin.check(
        &words("CONFIG SET client-output-buffer-limit"),
        b"-ERR wrong number of arguments for 'config|set' command\r\n",
    )?;
    admin.send(&common::encode(&[
        b"CONFIG",
        b"SET",
        b"client-output-buffer-limit",
        b"pubsub 2mb 1mb 1",
    ]))?;
    admin.expect(b"+OK\r\n")?;
    let mut slow = Raw::connect(server.addr())?;
    slow.check(
        &words("SUBSCRIBE firehose"),
        b"*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n",
    )?;
    let mut good = Raw::connect(server.addr())?;
    good.check(
        &words("SUBSCRIBE firehose"),
        b"*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n",
    )?;
    let payload = vec![b'x'; 4096];
    let mut publisher = Raw::connect(server.addr())?;
    // 32 MB in all: far more than the kernel's socket buffers and the
    // 2 MB limit hold for the client that does not read. The one that
    // reads is never more than `BATCH` messages (400 kB) behind, however
    // the threads are scheduled: the publisher waits for it to catch up
    // after each batch (a handshake), so only the slow one is cut off.
    let total = 8_000;
    const BATCH: usize = 100;
    let (read_tx, read_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || -> Result<usize, String> {
        let mut n = 0;
        while n < total {
            let m = good.reply().map_err(|e| e.to_string())?;
            let want_tail = format!("\r\n{n:04}x");
            if !String::from_utf8_lossy(&m).contains(&want_tail) {
                return Err(format!("message {n} out of order"));
            }
            n += 1;
            if n % BATCH == 0 {
                let _ = read_tx.send(n);
            }
        }
        Ok(n)
    });
    // Publishing never waits for the subscriber that does not read: each
    // PUBLISH is answered within the read deadline, where one that waited
    // would wait for ever.
    let mut delivered_to_slow_ended = false;
    for i in 0..total {
        if i > 0 && i % BATCH == 0 {
            let caught_up = read_rx.recv_timeout(common::TIMEOUT);
            assert_eq!(caught_up, Ok(i), "the reading subscriber fell behind");
        }
        let mut msg = format!("{i:04}").into_bytes();
        msg.extend_from_slice(&payload);
        let reply = publisher.call(&common::encode(&[b"PUBLISH", b"firehose", &msg]))?;
        if reply == b":1\r\n" {
            delivered_to_slow_ended = true;
        }
    }
    assert!(
        delivered_to_slow_ended,
        "the slow subscriber was never cut off"
    );
    let got = reader.join().map_err(|_| "reader panicked")??;
    assert_eq!(got, total);
    // The slow client's connection was closed by the server.
    assert!(slow.closed_within(Duration::from_secs(5))?);
    Ok(())
}

#[test]
fn resp3_client_reply_off_still_delivers_pushes() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut publisher = Raw::connect(server.addr())?;
    c.call(&words("HELLO 3"))?;
    c.send(&words("CLIENT REPLY OFF"))?;
    c.send(&words("SUBSCRIBE ch1"))?;
    c.send(&words("PSUBSCRIBE c*"))?;
    // A reply, not a push: dropped. Were it sent, the next expectation
    // would meet it first.
    c.send(&words("PING"))?;
    c.expect(b">3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n>3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n")?;
    publisher.check(&words("PUBLISH ch1 hello"), b":2\r\n")?;
    c.expect(b">3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n>4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$3\r\nch1\r\n$5\r\nhello\r\n")?;
    c.send(&words("UNSUBSCRIBE ch1"))?;
    c.send(&words("PING"))?;
    c.check(
        &words("CLIENT REPLY ON"),
        b">3\r\n$11\r\nunsubscribe\r\n$3\r\nch1\r\n:1\r\n+OK\r\n",
    )?;
    // SKIP: the skipped command's pushes still arrive, and the skip is
    // spent on it.
    c.send(&words("CLIENT REPLY SKIP"))?;
    c.send(&words("SUBSCRIBE ch2"))?;
    c.check(
        &words("PING"),
        b">3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n+PONG\r\n",
    )?;
    Ok(())
}

#[test]
fn resp2_client_reply_off_still_delivers_subscriptions_and_messages() -> TestResult {
    // In RESP2 they are arrays, yet Redis 7.0 sends them all the same;
    // only real replies (PING's, errors) are dropped.
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let mut publisher = Raw::connect(server.addr())?;
    c.send(&words("CLIENT REPLY OFF"))?;
    c.send(&words("SUBSCRIBE ch1"))?;
    c.send(&words("PSUBSCRIBE c*"))?;
    c.send(&words("PING"))?;
    c.expect(b"*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n")?;
    publisher.check(&words("PUBLISH ch1 hello"), b":2\r\n")?;
    c.expect(b"*3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$3\r\nch1\r\n$5\r\nhello\r\n")?;
    // Refused in the subscribed context, and the refusal is a reply.
    c.send(&words("GET k"))?;
    c.send(&words("UNSUBSCRIBE"))?;
    c.send(&words("PUNSUBSCRIBE"))?;
    c.send(&words("PING"))?;
    c.check(
        &words("CLIENT REPLY ON"),
        b"*3\r\n$11\r\nunsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$12\r\npunsubscribe\r\n$2\r\nc*\r\n:0\r\n+OK\r\n",
    )?;
    // SKIP in RESP2: the same.
    c.send(&words("CLIENT REPLY SKIP"))?;
    c.send(&words("SUBSCRIBE ch1"))?;
    c.check(
        &words("PING"),
        b"*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    )?;
    Ok(())
}

#[test]
fn resp2_subscribed_refusals_name_the_subcommand_after_the_arity_check() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        &words("SUBSCRIBE x"),
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n",
    )?;
    c.check(
        &words("GET"),
        b"-ERR wrong number of arguments for 'get' command\r\n",
    )?;
    c.check(
        &words("CLIENT ID"),
        b"-ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    )?;
    c.check(
        &words("NOSUCH"),
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    )?;
    Ok(())
}

#[test]
fn client_pause_write_holds_publish_back() -> TestResult {
    // PUBLISH is no write, but Redis holds it as one (it may replicate).
    let server = common::start_default()?;
    let mut admin = Raw::connect(server.addr())?;
    let mut c = Raw::connect(server.addr())?;
    // Held proven by time, not by silence: the pause starts after
    // `asked`, so a held PUBLISH cannot answer before `asked` + 300 ms;
    // one that was not held answers at once.
    let asked = Instant::now();
    admin.check(&words("CLIENT PAUSE 300 WRITE"), b"+OK\r\n")?;
    c.send(&words("PUBLISH ch hello"))?;
    c.expect(b":0\r\n")?;
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(290),
        "answered after {waited:?}"
    );
    Ok(())
}

#[test]
fn client_reply_off_keeps_pushes_from_inside_exec() -> TestResult {
    // Redis 7.0.15 drops EXEC's reply but not the confirmations of a
    // SUBSCRIBE it ran, in RESP2 and RESP3.
    let server = common::start_default()?;
    for (hello, push) in [("HELLO 2", b'*'), ("HELLO 3", b'>')] {
        let mut c = Raw::connect(server.addr())?;
        c.call(&words(hello))?;
        c.send(&words("CLIENT REPLY OFF"))?;
        c.send(&words("MULTI"))?;
        c.send(&words("SUBSCRIBE a"))?;
        c.send(&words("EXEC"))?;
        c.send(&words("PING"))?;
        let mut expected = vec![push];
        expected.extend_from_slice(b"3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
        c.expect(&expected)?;
        // Nothing else came: the next reply, once replies are back on,
        // is the first thing read. (RESP2 allows only a few commands
        // while subscribed; UNSUBSCRIBE is one, and its answer a push.)
        c.send(&words("UNSUBSCRIBE"))?;
        c.check(
            &words("CLIENT REPLY ON"),
            &[
                &expected[..1],
                b"3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n+OK\r\n",
            ]
            .concat(),
        )?;
    }
    Ok(())
}
