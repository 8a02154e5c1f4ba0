//! Pipelined writes to one key, run under one shard lock
//! (`connection/batch.rs`): replies exactly as Redis 7.0.15 gives them
//! (recorded), a client blocked on the key served between two pushes as
//! Redis serves it, MULTI left alone, the lock really taken once per
//! batch, invariants under concurrent pipelines, and a batch's writes
//! durable under `appendfsync always`.

mod common;

use common::{encode_words, eventually, Config, Error, Raw, Running, TestResult};
use std::collections::BTreeSet;
use std::sync::Arc;
use tandem_engine::storage::backend::SimFs;
use tandem_engine::storage::wal::SyncPolicy;
use tandem_server::config::StorageFs;

fn connect(server: &Running) -> Result<Raw, Error> {
    Raw::connect(server.addr())
}

/// The requests of `lines` as one write.
fn pipeline(lines: &[&str]) -> Vec<u8> {
    lines.iter().flat_map(|l| encode_words(l)).collect()
}

/// Each pipeline sent as one write, and the bytes Redis 7.0.15 answered.
#[test]
fn pipelined_writes_to_one_key_reply_as_redis_does() -> TestResult {
    let server = common::start_default()?;
    let mut c = connect(&server)?;
    let cases: &[(&[&str], &str)] = &[
        (
            &["RPUSH k a", "RPUSH k", "RPUSH k b c", "RPUSH k d"],
            ":1\r\n-ERR wrong number of arguments for 'rpush' command\r\n:3\r\n:4\r\n",
        ),
        (
            &[
                "DEL k",
                "LPUSH k a",
                "LPUSH k",
                "SET k x",
                "LPUSH k b",
                "APPEND k y",
                "RPUSH k z",
                "GET k",
                "LPUSHX k q",
            ],
            ":1\r\n:1\r\n-ERR wrong number of arguments for 'lpush' command\r\n+OK\r\n\
             -WRONGTYPE Operation against a key holding the wrong kind of value\r\n:2\r\n\
             -WRONGTYPE Operation against a key holding the wrong kind of value\r\n$2\r\nxy\r\n\
             -WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
        (
            &[
                "MULTI",
                "LPUSH m a",
                "LPUSH m b",
                "EXEC",
                "LPUSH m c",
                "LRANGE m 0 -1",
            ],
            "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n:3\r\n*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
        ),
        (
            &["LPUSH n a", "MULTI", "LPUSH n b", "LPUSH n c", "EXEC"],
            ":1\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:2\r\n:3\r\n",
        ),
        (
            &[
                "INCR ctr",
                "INCR ctr",
                "INCRBY ctr 10",
                "INCR ctr",
                "INCR ctr x",
                "INCR ctr",
            ],
            ":1\r\n:2\r\n:12\r\n:13\r\n-ERR wrong number of arguments for 'incr' command\r\n:14\r\n",
        ),
        (
            &[
                "HSET h f 1",
                "HINCRBY h f 2",
                "HSET h g x",
                "HINCRBY h g 1",
                "HSET h f 5",
                "HGET h f",
            ],
            ":1\r\n:3\r\n:1\r\n-ERR hash value is not an integer\r\n:0\r\n$1\r\n5\r\n",
        ),
        (
            &["SET s 1", "SET s 2 XX", "SET s 3 NX", "SET s 4 GET", "GET s"],
            "+OK\r\n+OK\r\n$-1\r\n$1\r\n2\r\n$1\r\n4\r\n",
        ),
        (
            &[
                "CLIENT REPLY SKIP",
                "RPUSH r 1",
                "RPUSH r 2",
                "CLIENT REPLY OFF",
                "RPUSH r 3",
                "RPUSH r 4",
                "CLIENT REPLY ON",
                "RPUSH r 5",
            ],
            ":2\r\n+OK\r\n:5\r\n",
        ),
    ];
    for (lines, want) in cases {
        c.check(&pipeline(lines), want.as_bytes())?;
    }
    Ok(())
}

/// Redis serves a client blocked on a key right after the request that
/// pushed to it, before the next one: a batch of pushes must stop there.
#[test]
fn a_client_blocked_on_the_key_is_served_between_pipelined_pushes() -> TestResult {
    let server = common::start_default()?;
    let mut ctl = connect(&server)?;
    let mut waiter = connect(&server)?;
    waiter.send(&encode_words("BLPOP q 0"))?;
    eventually("one blocked client", || {
        Ok(common::info_u64(&mut ctl, "clients", "blocked_clients")? == 1)
    })?;
    let mut pusher = connect(&server)?;
    pusher.check(
        &pipeline(&[
            "LPUSH q a",
            "LPUSH q b",
            "LPUSH q c",
            "LLEN q",
            "LRANGE q 0 -1",
        ]),
        b":1\r\n:1\r\n:2\r\n:2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n",
    )?;
    waiter.expect(b"*2\r\n$1\r\nq\r\n$1\r\na\r\n")
}

/// Without batching each of these writes takes the shard's lock on its
/// own and no atomic batch is counted; with it, a pipeline of 100 runs in
/// a few batches of up to 32.
#[test]
fn a_pipeline_to_one_key_takes_the_lock_once_per_batch() -> TestResult {
    let server = common::start_default()?;
    let mut c = connect(&server)?;
    let before = common::info_u64(&mut c, "shards", "fast_path_batches")?;
    let lines: Vec<String> = (0..100).map(|i| format!("RPUSH list {i}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    c.send(&pipeline(&lines))?;
    for (i, reply) in c.replies(100)?.into_iter().enumerate() {
        assert_eq!(reply, format!(":{}\r\n", i + 1).into_bytes());
    }
    let batches = common::info_u64(&mut c, "shards", "fast_path_batches")? - before;
    // At least 4 (100 / 32); more if the requests arrived in pieces.
    assert!((4..=50).contains(&batches), "{batches} batches");
    Ok(())
}

/// Four clients pipelining INCRs to one counter, while two push unique
/// values to one list and two pop from it, all in batches on two serving
/// threads: every INCR reply is a distinct number, 1 to the total, and
/// every value pushed is popped at most once and is either popped or
/// still in the list.
#[test]
fn concurrent_pipelines_to_one_key_keep_their_invariants() -> TestResult {
    const ROUNDS: usize = 20;
    const PER_ROUND: usize = 50;
    let server = common::start_default()?;
    let addr = server.addr();
    let counters: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || -> Result<Vec<u64>, String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut seen = Vec::new();
                for _ in 0..ROUNDS {
                    let batch = encode_words("INCR counter").repeat(PER_ROUND);
                    c.send(&batch).map_err(|e| e.to_string())?;
                    for reply in c.replies(PER_ROUND).map_err(|e| e.to_string())? {
                        let text = String::from_utf8_lossy(&reply).into_owned();
                        let n = text
                            .strip_prefix(':')
                            .and_then(|t| t.trim_end().parse().ok())
                            .ok_or(format!("not an integer: {text}"))?;
                        seen.push(n);
                    }
                }
                Ok(seen)
            })
        })
        .collect();
    let pushers: Vec<_> = (0..2)
        .map(|p| {
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                for round in 0..ROUNDS {
                    let batch: Vec<u8> = (0..PER_ROUND)
                        .flat_map(|i| encode_words(&format!("RPUSH queue p{p}-{round}-{i}")))
                        .collect();
                    c.send(&batch).map_err(|e| e.to_string())?;
                    c.replies(PER_ROUND).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        })
        .collect();
    let poppers: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || -> Result<Vec<String>, String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut popped = Vec::new();
                for _ in 0..ROUNDS {
                    let batch = encode_words("LPOP queue").repeat(PER_ROUND);
                    c.send(&batch).map_err(|e| e.to_string())?;
                    for reply in c.replies(PER_ROUND).map_err(|e| e.to_string())? {
                        if reply != b"$-1\r\n" {
                            let text = String::from_utf8_lossy(&reply).into_owned();
                            let value = text.lines().nth(1).ok_or(format!("bad: {text}"))?;
                            popped.push(value.to_string());
                        }
                    }
                }
                Ok(popped)
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in counters {
        numbers.extend(t.join().map_err(|_| "counter panicked")??);
    }
    for t in pushers {
        t.join().map_err(|_| "pusher panicked")??;
    }
    let mut popped = Vec::new();
    for t in poppers {
        popped.extend(t.join().map_err(|_| "popper panicked")??);
    }
    let total = 4 * ROUNDS * PER_ROUND;
    numbers.sort_unstable();
    let want: Vec<u64> = (1..=u64::try_from(total)?).collect();
    assert_eq!(numbers, want, "INCR replies are not 1..={total}, each once");

    let mut c = connect(&server)?;
    let rest = c.call(&encode_words("LRANGE queue 0 -1"))?;
    let rest = String::from_utf8_lossy(&rest).into_owned();
    let remaining: Vec<String> = rest
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('$'))
        .map(str::to_string)
        .collect();
    let pushed: BTreeSet<String> = (0..2)
        .flat_map(|p| {
            (0..ROUNDS).flat_map(move |r| (0..PER_ROUND).map(move |i| format!("p{p}-{r}-{i}")))
        })
        .collect();
    let mut all: Vec<String> = popped.iter().chain(&remaining).cloned().collect();
    all.sort();
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), unique.len(), "a value came out twice");
    assert_eq!(unique, pushed, "values lost or invented");
    Ok(())
}

/// A batch's writes are one log record, synced before any of its replies
/// leaves: a power cut after the replies loses none of them.
#[test]
fn a_batch_acknowledged_under_always_survives_a_power_cut() -> TestResult {
    let fs = SimFs::new();
    let config = |fs: &SimFs| Config {
        fs: StorageFs(Arc::new(fs.clone())),
        dir: "/data".into(),
        appendonly: true,
        appendfsync: SyncPolicy::Always,
        ..common::config()
    };
    let server = common::start(config(&fs))?;
    let mut c = connect(&server)?;
    let lines: Vec<String> = (0..100)
        .map(|i| format!("RPUSH log e{i}"))
        .chain((0..20).map(|_| "INCR n".to_string()))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    c.send(&pipeline(&lines))?;
    c.replies(120)?;
    for seed in 0..3 {
        let after = fs.crash(seed);
        let restarted = common::start(config(&after))?;
        let mut r = connect(&restarted)?;
        r.check(&encode_words("LLEN log"), b":100\r\n")?;
        r.check(&encode_words("LINDEX log 99"), b"$3\r\ne99\r\n")?;
        r.check(&encode_words("GET n"), b"$2\r\n20\r\n")?;
    }
    Ok(())
}

/// A request behind a write that has only partly arrived, cut anywhere
/// (inside its head, inside its value, between its last two bytes), is
/// left for when the rest comes: the parser's state for it must hold where
/// the connection's buffer starts once the first has run.
#[test]
fn a_request_cut_short_behind_a_write_waits_for_its_rest() -> TestResult {
    let server = common::start_default()?;
    let mut c = connect(&server)?;
    let second = encode_words("RPUSH cut second-value");
    for (n, at) in [3, 18, second.len() - 6, second.len() - 1]
        .into_iter()
        .enumerate()
    {
        let (head, tail) = second.split_at(at);
        let mut first = encode_words("RPUSH cut first");
        first.extend_from_slice(head);
        c.send(&first)?;
        c.expect(format!(":{}\r\n", 2 * n + 1).as_bytes())?;
        c.send(tail)?;
        c.expect(format!(":{}\r\n", 2 * n + 2).as_bytes())?;
    }
    c.check(
        &encode_words("LRANGE cut 0 1"),
        b"*2\r\n$5\r\nfirst\r\n$12\r\nsecond-value\r\n",
    )
}
