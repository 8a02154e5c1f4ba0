//! `tandem top`: a terminal view of a running server, through the Redis
//! protocol (like `redis-cli --stat`, with a row per shard).
//!
//! Owns reading INFO once per interval and drawing the view: a summary
//! line (keys, memory, clients, commands per second, expired and evicted
//! per second), one line per database that holds keys, and the shards of
//! one database (INFO's `shardlist` section), the fullest first, with
//! their lock waits per second. Rates are the difference of two readings.
//! It only reads: it never changes the server. On a terminal the view is
//! redrawn in place; piped, each reading is printed after the last.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};
use tandem_bench::resp::client::Client;
use tandem_bench::resp::Reply;

/// `tandem top`'s options.
#[derive(clap::Args, Debug)]
pub struct TopArgs {
    /// The server's host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// The password, if the server wants one (AUTH).
    #[arg(long)]
    password: Option<String>,
    /// The database whose shards are listed.
    #[arg(long, default_value_t = 0)]
    db: usize,
    /// Shard rows shown (the fullest first).
    #[arg(long, default_value_t = 16)]
    rows: usize,
    /// Seconds between readings.
    #[arg(long, default_value_t = 1.0)]
    interval: f64,
    /// Readings to take before exiting (0: until interrupted).
    #[arg(long, default_value_t = 0)]
    count: u64,
}

/// One INFO reading: `field -> value`, every section's fields together.
type Info = HashMap<String, String>;

/// How long a reply may take.
const TIMEOUT: Duration = Duration::from_secs(10);

fn text_of(reply: &Reply<'_>) -> Result<String, String> {
    match reply {
        Reply::Bulk(Some(b)) | Reply::Simple(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Reply::Verbatim(b) => Ok(String::from_utf8_lossy(b.get(4..).unwrap_or(b)).into_owned()),
        Reply::Error(e) | Reply::BulkError(e) => Err(String::from_utf8_lossy(e).into_owned()),
        other => Err(format!(
            "unexpected reply {}",
            tandem_bench::resp::describe(other)
        )),
    }
}

fn ask(client: &mut Client, args: &[&[u8]]) -> Result<String, String> {
    client.send_command(args).map_err(|e| e.to_string())?;
    client
        .reply(Instant::now() + TIMEOUT, text_of)
        .map_err(|e| format!("{e:?}"))?
}

fn read_info(client: &mut Client) -> Result<Info, String> {
    let text = ask(
        client,
        &[
            b"INFO",
            b"server",
            b"clients",
            b"memory",
            b"stats",
            b"keyspace",
            b"shards",
            b"shardlist",
        ],
    )?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// `a=1,b=2` as a map.
fn fields(v: &str) -> HashMap<&str, &str> {
    v.split(',').filter_map(|kv| kv.split_once('=')).collect()
}

/// Field `name` of such a map as a number (0 if absent or not one).
fn field(f: &HashMap<&str, &str>, name: &str) -> f64 {
    f.get(name).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

fn number(info: &Info, name: &str) -> f64 {
    info.get(name).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

/// `1.2k`, `3.4M`.
fn human(n: f64) -> String {
    match n.abs() {
        x if x >= 1e9 => format!("{:.2}G", n / 1e9),
        x if x >= 1e6 => format!("{:.2}M", n / 1e6),
        x if x >= 1e3 => format!("{:.1}k", n / 1e3),
        _ => format!("{n:.0}"),
    }
}

/// A shard's row: its number, keys, bytes, waits so far.
struct Shard {
    n: usize,
    keys: f64,
    bytes: f64,
    waits: f64,
}

fn shards_of(info: &Info, db: usize) -> Vec<Shard> {
    let prefix = format!("db{db}_shard_");
    let mut out: Vec<Shard> = info
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix(&prefix)?.parse().ok()?;
            let f = fields(v);
            Some(Shard {
                n,
                keys: field(&f, "keys"),
                bytes: field(&f, "bytes"),
                waits: field(&f, "read_waits") + field(&f, "write_waits"),
            })
        })
        .collect();
    out.sort_by_key(|s| s.n);
    out
}

/// The view of reading `now`, with rates against `before` taken `dt` earlier.
fn draw(args: &TopArgs, addr: SocketAddr, now: &Info, before: Option<&Info>, dt: f64) -> String {
    let rate = |name: &str| match before {
        Some(b) if dt > 0.0 => ((number(now, name) - number(b, name)) / dt).max(0.0),
        _ => 0.0,
    };
    let mut out = String::new();
    let uptime = number(now, "uptime_in_seconds") as u64;
    out.push_str(&format!(
        "tandem {} at {addr}, up {}h{:02}m{:02}s, {} io threads (Redis {})\n",
        now.get("tandem_version").map_or("?", String::as_str),
        uptime / 3600,
        uptime / 60 % 60,
        uptime % 60,
        now.get("io_threads").map_or("?", String::as_str),
        now.get("redis_version").map_or("?", String::as_str),
    ));
    let keys: f64 = (0..64)
        .filter_map(|i| now.get(&format!("db{i}")))
        .map(|v| field(&fields(v), "keys"))
        .sum();
    out.push_str(&format!(
        "keys {}  memory {}  clients {}  blocked {}  commands/s {}  expired/s {}  evicted/s {}  shards {}  resizes {}\n\n",
        human(keys),
        now.get("used_memory_human").map_or("?", String::as_str),
        number(now, "connected_clients"),
        number(now, "blocked_clients"),
        human(rate("total_commands_processed")),
        human(rate("expired_keys")),
        human(rate("evicted_keys")),
        number(now, "shards_total"),
        number(now, "resizes_total"),
    ));
    out.push_str("db     shards      keys   imbalance  resizing  lock waits/s\n");
    for i in 0..64 {
        let Some(v) = now.get(&format!("db{i}")).filter(|v| v.contains("shards=")) else {
            continue;
        };
        let f = fields(v);
        let waits = |info: &Info| {
            info.get(&format!("db{i}")).map_or(0.0, |v| {
                let f = fields(v);
                field(&f, "read_waits") + field(&f, "write_waits")
            })
        };
        let waits_rate = match before {
            Some(b) if dt > 0.0 => ((waits(now) - waits(b)) / dt).max(0.0),
            _ => 0.0,
        };
        out.push_str(&format!(
            "db{i:<4} {:>6} {:>9} {:>11} {:>9} {:>13}\n",
            f.get("shards").unwrap_or(&"?"),
            human(field(&f, "keys")),
            f.get("imbalance").unwrap_or(&"?"),
            if f.get("resizing") == Some(&"1") {
                "yes"
            } else {
                "no"
            },
            human(waits_rate),
        ));
    }
    let shards = shards_of(now, args.db);
    let earlier: HashMap<usize, f64> = before
        .map(|b| {
            shards_of(b, args.db)
                .into_iter()
                .map(|s| (s.n, s.waits))
                .collect()
        })
        .unwrap_or_default();
    let total: f64 = shards.iter().map(|s| s.keys).sum();
    let mean = if shards.is_empty() {
        0.0
    } else {
        total / shards.len() as f64
    };
    out.push_str(&format!(
        "\ndb{} shards, fullest first ({} of {}; mean {} keys)\nshard       keys   x mean      bytes  lock waits/s\n",
        args.db,
        args.rows.min(shards.len()),
        shards.len(),
        human(mean),
    ));
    let mut fullest: Vec<&Shard> = shards.iter().collect();
    fullest.sort_by(|a, b| b.keys.total_cmp(&a.keys));
    for s in fullest.into_iter().take(args.rows) {
        let waits = match earlier.get(&s.n) {
            Some(w) if dt > 0.0 => ((s.waits - w) / dt).max(0.0),
            _ => 0.0,
        };
        let ratio = if mean > 0.0 { s.keys / mean } else { 0.0 };
        let bar = "#".repeat(((ratio * 10.0).round() as usize).min(40));
        out.push_str(&format!(
            "{:>5} {:>10} {:>8.2} {:>10} {:>13}  {bar}\n",
            s.n,
            human(s.keys),
            ratio,
            human(s.bytes),
            human(waits),
        ));
    }
    out
}

/// Runs the view; the process's exit code.
pub fn run(args: &TopArgs) -> i32 {
    match watch(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tandem top: {e}");
            1
        }
    }
}

fn watch(args: &TopArgs) -> Result<(), String> {
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address for the host")?;
    let mut client =
        Client::connect(addr, TIMEOUT).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    if let Some(password) = &args.password {
        ask(&mut client, &[b"AUTH", password.as_bytes()])?;
    }
    let terminal = std::io::stdout().is_terminal();
    // Between 0.1 s and an hour (and 1 s for what is not a number).
    let seconds = if args.interval.is_finite() {
        args.interval.clamp(0.1, 3600.0)
    } else {
        1.0
    };
    let interval = Duration::from_secs_f64(seconds);
    let mut before: Option<(Info, Instant)> = None;
    let mut taken = 0;
    loop {
        let at = Instant::now();
        let now = read_info(&mut client)?;
        let dt = before
            .as_ref()
            .map_or(0.0, |(_, t)| at.duration_since(*t).as_secs_f64());
        let view = draw(args, addr, &now, before.as_ref().map(|(i, _)| i), dt);
        let mut out = std::io::stdout().lock();
        let written = if terminal {
            // Home and clear, then the view: redrawn in place.
            write!(out, "\x1b[H\x1b[2J{view}")
        } else {
            writeln!(out, "{view}")
        };
        written
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
        before = Some((now, at));
        taken += 1;
        if args.count != 0 && taken >= args.count {
            return Ok(());
        }
        std::thread::sleep(interval.saturating_sub(at.elapsed()));
    }
}
