//! `tandem bench net --workload multi`: MULTI/EXEC transactions over TCP.
//!
//! Owns the transaction workload. Each of `--clients` connections loops:
//! one write holding `MULTI`, `--keys-per-tx` commands and `EXEC`, then
//! reads every reply (`+OK`, one `+QUEUED` per command, and EXEC's array,
//! which must have one element per command). One transaction per round
//! trip per connection, so `--clients` transactions are in flight.
//!
//! `--mode fast` puts every command of a transaction on one key: on Tandem
//! such a transaction takes the engine's one-shard path. `--mode multi`
//! draws a distinct key per command, so a transaction usually spans shards.
//! Latency is per transaction, from the write to the last reply parsed.

use super::{connect, opt, us_per, CpuMark, NetArgs, TxCommand, TxMode};
use crate::keys::{key, Rng};
use crate::report::new_histogram;
use crate::resp::{self, ReadBuf, Reply};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Transaction throughput and latency.
#[derive(Debug, Serialize)]
pub struct MultiReport {
    /// Always `multi`.
    pub workload: &'static str,
    /// `fast` (one key per transaction) or `multi` (a key per command).
    pub mode: TxMode,
    /// The command queued in each transaction.
    pub command: TxCommand,
    /// Connections.
    pub clients: usize,
    /// Client runtime threads.
    pub threads: usize,
    /// Commands per transaction, between MULTI and EXEC.
    pub keys_per_tx: usize,
    /// Keys drawn from.
    pub keyspace: u64,
    /// SET value size.
    pub value_size: usize,
    /// Transactions completed.
    pub transactions: u64,
    /// Commands executed by those transactions (transactions × keys_per_tx).
    pub commands: u64,
    /// Seconds from the start until the last client's last transaction.
    pub elapsed_s: f64,
    /// Transactions per second.
    pub tx_per_sec: f64,
    /// Queued commands per second.
    pub commands_per_sec: f64,
    /// Latency per transaction, microseconds.
    pub p50_us: f64,
    /// See `p50_us`.
    pub p99_us: f64,
    /// See `p50_us`.
    pub p999_us: f64,
    /// See `p50_us`.
    pub max_us: f64,
    /// This process's CPU seconds over the run.
    pub client_cpu_s: Option<f64>,
    /// Client CPU per transaction, microseconds.
    pub client_cpu_us_per_tx: Option<f64>,
    /// Server CPU seconds over the run (with `--server-pid`).
    pub server_cpu_s: Option<f64>,
    /// Server CPU per transaction, microseconds.
    pub server_cpu_us_per_tx: Option<f64>,
}

impl MultiReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        format!(
            "multi ({} mode): {} clients, {} x {} per transaction, {} keys, {} client thread(s)\n\
             {} transactions ({} commands) in {:.2} s\n\
             {:.0} transactions/s, {:.0} commands/s\n\
             latency per transaction p50 {:.1} us  p99 {:.1} us  p99.9 {:.1} us  max {:.1} us\n\
             client CPU {} s ({} us/tx, {} cores); server CPU {} s ({} us/tx)",
            self.mode.as_str(),
            self.clients,
            self.keys_per_tx,
            self.command.as_str(),
            self.keyspace,
            self.threads,
            self.transactions,
            self.commands,
            self.elapsed_s,
            self.tx_per_sec,
            self.commands_per_sec,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            opt(self.client_cpu_s, 2),
            opt(self.client_cpu_us_per_tx, 2),
            opt(self.client_cpu_s.map(|c| c / self.elapsed_s.max(1e-9)), 2),
            opt(self.server_cpu_s, 2),
            opt(self.server_cpu_us_per_tx, 2),
        )
    }
}

/// What every client needs, shared.
struct Plan {
    mode: TxMode,
    command: TxCommand,
    keys_per_tx: usize,
    keyspace: u64,
    value: Vec<u8>,
}

/// One client's tally.
struct Tally {
    transactions: u64,
    hist: Histogram<u64>,
    end: Instant,
}

pub(super) fn run(args: &NetArgs, rt: &tokio::runtime::Runtime) -> Result<MultiReport, String> {
    if args.clients == 0 || args.keys_per_tx == 0 || args.keyspace == 0 {
        return Err("--clients, --keys-per-tx and --keyspace must be positive".into());
    }
    if args.mode == TxMode::Multi && (args.keys_per_tx as u64) > args.keyspace {
        return Err("--mode multi needs --keyspace of at least --keys-per-tx".into());
    }
    let plan = Arc::new(Plan {
        mode: args.mode,
        command: args.command,
        keys_per_tx: args.keys_per_tx,
        keyspace: args.keyspace,
        value: value(args.value_size),
    });
    rt.block_on(async {
        // Every connection is open before the clock starts.
        let mut conns = Vec::with_capacity(args.clients);
        for _ in 0..args.clients {
            conns.push(connect(&args.host, args.port).await?);
        }
        let cpu0 = CpuMark::now(args.server_pid);
        let start = Instant::now();
        let deadline = start + super::secs(args.seconds);
        let _progress = crate::progress::clock(super::secs(args.seconds), "multi");
        let handles: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let plan = plan.clone();
                let seed = args.seed.wrapping_add(i as u64);
                tokio::spawn(client(s, plan, seed, deadline))
            })
            .collect();
        let mut tallies = Vec::with_capacity(handles.len());
        for h in handles {
            tallies.push(h.await.map_err(|e| format!("client task failed: {e}"))??);
        }
        let cpu1 = CpuMark::now(args.server_pid);
        Ok(report(args, start, &tallies, cpu0.until(&cpu1)))
    })
}

fn report(
    args: &NetArgs,
    start: Instant,
    tallies: &[Tally],
    (client_cpu, server_cpu): (Option<f64>, Option<f64>),
) -> MultiReport {
    let mut hist = new_histogram();
    let mut transactions = 0;
    let mut end = start;
    for t in tallies {
        // Same bounds everywhere, so adding cannot fail.
        let _ = hist.add(&t.hist);
        transactions += t.transactions;
        end = end.max(t.end);
    }
    let elapsed = end.duration_since(start).as_secs_f64().max(1e-9);
    let commands = transactions * args.keys_per_tx as u64;
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1e3;
    MultiReport {
        workload: "multi",
        mode: args.mode,
        command: args.command,
        clients: args.clients,
        threads: args.threads.max(1),
        keys_per_tx: args.keys_per_tx,
        keyspace: args.keyspace,
        value_size: args.value_size,
        transactions,
        commands,
        elapsed_s: elapsed,
        tx_per_sec: transactions as f64 / elapsed,
        commands_per_sec: commands as f64 / elapsed,
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: hist.max() as f64 / 1e3,
        client_cpu_s: client_cpu,
        client_cpu_us_per_tx: us_per(client_cpu, transactions),
        server_cpu_s: server_cpu,
        server_cpu_us_per_tx: us_per(server_cpu, transactions),
    }
}

/// A value of `size` printable bytes, the same for every SET.
fn value(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// One connection's loop until `deadline`.
async fn client(
    mut s: TcpStream,
    plan: Arc<Plan>,
    seed: u64,
    deadline: Instant,
) -> Result<Tally, String> {
    let mut rng = Rng::new(seed);
    let mut hist = new_histogram();
    let mut req = Vec::with_capacity(64 + plan.keys_per_tx * (48 + plan.value.len()));
    let mut rb = ReadBuf::new(16 * 1024);
    let mut keys = Vec::with_capacity(plan.keys_per_tx);
    let mut k = Vec::with_capacity(16);
    let mut transactions = 0u64;
    let mut now = Instant::now();
    while now < deadline {
        draw_keys(&mut rng, &plan, &mut keys);
        req.clear();
        resp::command(&mut req, &[b"MULTI"]);
        for &i in &keys {
            key(i, 16, &mut k);
            match plan.command {
                TxCommand::Set => resp::command(&mut req, &[b"SET", &k, &plan.value]),
                TxCommand::Incr => resp::command(&mut req, &[b"INCR", &k]),
            }
        }
        resp::command(&mut req, &[b"EXEC"]);
        let t0 = Instant::now();
        s.write_all(&req)
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        read_transaction(&mut s, &mut rb, &plan).await?;
        now = Instant::now();
        let ns = u64::try_from(now.duration_since(t0).as_nanos()).unwrap_or(u64::MAX);
        hist.saturating_record(ns.max(1));
        transactions += 1;
    }
    Ok(Tally {
        transactions,
        hist,
        end: now,
    })
}

/// The keys of one transaction: one key `keys_per_tx` times (`fast`), or
/// `keys_per_tx` distinct keys (`multi`).
fn draw_keys(rng: &mut Rng, plan: &Plan, keys: &mut Vec<u64>) {
    keys.clear();
    match plan.mode {
        TxMode::Fast => {
            let k = rng.below(plan.keyspace);
            keys.resize(plan.keys_per_tx, k);
        }
        TxMode::Multi => {
            // Rejection keeps them distinct; with a few keys out of a
            // large keyspace a redraw is rare.
            while keys.len() < plan.keys_per_tx {
                let k = rng.below(plan.keyspace);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
}

/// Reads one transaction's replies: `+OK`, `keys_per_tx` × `+QUEUED`, and
/// EXEC's array of `keys_per_tx` results of the right kind.
async fn read_transaction(s: &mut TcpStream, rb: &mut ReadBuf, plan: &Plan) -> Result<(), String> {
    let want = plan.keys_per_tx + 2;
    let mut seen = 0;
    while seen < want {
        let mut used = 0;
        while seen < want {
            let rest = rb.data().get(used..).unwrap_or_default();
            let Some((r, n)) = resp::parse(rest).map_err(|e| e.to_string())? else {
                break;
            };
            check(&r, seen, plan)?;
            used += n;
            seen += 1;
        }
        rb.consume(used);
        if seen < want {
            match rb.fill(s).await {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("read failed: {e}")),
            }
        }
    }
    if !rb.data().is_empty() {
        return Err("the server sent more replies than commands".into());
    }
    Ok(())
}

/// Checks reply number `i` of a transaction.
fn check(r: &Reply<'_>, i: usize, plan: &Plan) -> Result<(), String> {
    let ok = if i == 0 {
        *r == Reply::Simple(b"OK")
    } else if i <= plan.keys_per_tx {
        *r == Reply::Simple(b"QUEUED")
    } else {
        match r {
            Reply::Array(Some(e)) if e.len == plan.keys_per_tx => {
                e.iter().all(|x| match plan.command {
                    TxCommand::Set => x == Reply::Simple(b"OK"),
                    TxCommand::Incr => matches!(x, Reply::Integer(_)),
                })
            }
            _ => false,
        }
    };
    if ok {
        Ok(())
    } else {
        let what = match i {
            0 => "MULTI",
            i if i <= plan.keys_per_tx => "a queued command",
            _ => "EXEC",
        };
        Err(format!("unexpected reply to {what}: {}", describe_deep(r)))
    }
}

/// A reply as text, with an array's elements (EXEC's results) spelled out.
fn describe_deep(r: &Reply<'_>) -> String {
    match r {
        Reply::Array(Some(e)) => {
            let items: Vec<_> = e.iter().take(8).map(|x| resp::describe(&x)).collect();
            format!("array of {} [{}]", e.len, items.join(", "))
        }
        other => resp::describe(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_or_distinct() {
        let mut rng = Rng::new(3);
        let mut keys = Vec::new();
        let mut plan = Plan {
            mode: TxMode::Fast,
            command: TxCommand::Set,
            keys_per_tx: 4,
            keyspace: 10,
            value: Vec::new(),
        };
        draw_keys(&mut rng, &plan, &mut keys);
        assert_eq!(keys.len(), 4);
        assert!(keys.iter().all(|&k| k == keys[0]));
        plan.mode = TxMode::Multi;
        for _ in 0..100 {
            draw_keys(&mut rng, &plan, &mut keys);
            let mut d = keys.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), 4);
        }
    }

    #[test]
    fn checks_exec_replies() {
        let plan = Plan {
            mode: TxMode::Fast,
            command: TxCommand::Incr,
            keys_per_tx: 2,
            keyspace: 10,
            value: Vec::new(),
        };
        let (good, _) = resp::parse(b"*2\r\n:1\r\n:2\r\n").unwrap().unwrap();
        assert!(check(&good, 3, &plan).is_ok());
        let (short, _) = resp::parse(b"*1\r\n:1\r\n").unwrap().unwrap();
        assert!(check(&short, 3, &plan).is_err());
        let (err, _) = resp::parse(b"-EXECABORT x\r\n").unwrap().unwrap();
        assert!(check(&err, 3, &plan).unwrap_err().contains("EXECABORT"));
        assert!(check(&Reply::Simple(b"QUEUED"), 1, &plan).is_ok());
        assert!(check(&Reply::Simple(b"OK"), 0, &plan).is_ok());
    }
}
