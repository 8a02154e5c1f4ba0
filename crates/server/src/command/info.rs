//! INFO: the server's state and statistics, in Redis's text format.
//!
//! Owns which sections exist, which INFO prints by default, and each
//! field. The format is Redis 7.0's: `# Section` then `field:value` lines,
//! `\r\n` after each, a blank line between sections; a bulk string in
//! RESP2 and a verbatim string in RESP3. Field names and value formats
//! are Redis's wherever Tandem has the same thing to report; a field
//! Tandem cannot fill honestly is left out rather than given a made-up
//! value (see `docs/ARCHITECTURE.md`). The `shards` section is Tandem's
//! own. Reading the engine's numbers takes each shard's read lock in
//! turn, briefly; INFO never stops the world.

use super::spec::{spec, Spec};
use super::{stat_names, Call, CmdResult};
use crate::shared::Shared;
use crate::stats::Totals;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tandem_engine::{Db, ResizeState, Worker, WorkerState};

pub(super) const COMMANDS: &[Spec] = &[spec("info", -1, 0, (0, 0, 0), info)];

/// Every section, in the order INFO prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "shards",
    "shardlist",
];

/// Each section's title, as its `# Title` line prints it.
fn title(section: &str) -> &str {
    match section {
        "server" => "Server",
        "clients" => "Clients",
        "memory" => "Memory",
        "persistence" => "Persistence",
        "stats" => "Stats",
        "replication" => "Replication",
        "cpu" => "CPU",
        "modules" => "Modules",
        "commandstats" => "Commandstats",
        "errorstats" => "Errorstats",
        "latencystats" => "Latencystats",
        "cluster" => "Cluster",
        "keyspace" => "Keyspace",
        "shards" => "Shards",
        "shardlist" => "Shardlist",
        other => other,
    }
}

/// Sections printed only when asked for by name, `all` or `everything`.
const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats", "shardlist"];

/// Sections printed only when asked for by name: a line per shard, up to
/// 1,024 per database, is too much for `all`.
const BY_NAME_ONLY: &[&str] = &["shardlist"];

/// The sections a request asks for, as flags in `SECTIONS` order.
fn wanted(args: &[&[u8]]) -> Vec<bool> {
    let default = |s: &&str| !NOT_DEFAULT.contains(s);
    if args.is_empty() {
        return SECTIONS.iter().map(default).collect();
    }
    let mut want = vec![false; SECTIONS.len()];
    for arg in args {
        let arg = arg.to_ascii_lowercase();
        for (w, s) in want.iter_mut().zip(SECTIONS) {
            *w |= match &arg[..] {
                b"all" | b"everything" => !BY_NAME_ONLY.contains(s),
                b"default" => default(s),
                name => name == s.as_bytes(),
            };
        }
    }
    want
}

fn info(c: &mut Call<'_>) -> CmdResult {
    let text = render(c.shared, &wanted(c.args_from(1)));
    c.out.verbatim_text(text.as_bytes());
    Ok(())
}

/// What the sections read from the engine, gathered once per INFO.
struct Engine {
    dbs: Vec<(usize, Db, tandem_engine::Stats)>,
}

impl Engine {
    fn gather(shared: &Shared) -> Engine {
        let dbs = shared.dbs.all();
        Engine {
            dbs: dbs
                .iter()
                .enumerate()
                .map(|(i, db)| (i, db.clone(), db.stats()))
                .collect(),
        }
    }

    fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|(_, _, s)| s.expired_keys).sum()
    }

    fn evicted_keys(&self) -> u64 {
        self.dbs.iter().map(|(_, db, _)| db.evicted_keys()).sum()
    }
}

/// The INFO text for the sections flagged in `want`.
pub(crate) fn render(shared: &Shared, want: &[bool]) -> String {
    let needs_engine = SECTIONS
        .iter()
        .zip(want)
        .any(|(s, w)| *w && matches!(*s, "memory" | "stats" | "keyspace" | "shards" | "shardlist"));
    let engine = needs_engine.then(|| Engine::gather(shared));
    let totals = shared.stats.totals();
    let mut text = String::new();
    for (section, _) in SECTIONS.iter().zip(want).filter(|(_, w)| **w) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        line(&mut text, format_args!("# {}", title(section)));
        let engine = engine.as_ref();
        match (*section, engine) {
            ("server", _) => server(&mut text, shared),
            ("clients", _) => clients(&mut text, shared),
            ("memory", Some(e)) => memory(&mut text, shared, e),
            ("persistence", _) => persistence(&mut text, shared),
            ("stats", Some(e)) => stats(&mut text, shared, &totals, e),
            ("replication", _) => replication(&mut text, shared),
            ("cpu", _) => cpu(&mut text),
            ("commandstats", _) => commandstats(&mut text, &totals),
            ("errorstats", _) => errorstats(&mut text, &totals),
            ("latencystats", _) => latencystats(&mut text, shared),
            ("cluster", _) => line(&mut text, format_args!("cluster_enabled:0")),
            ("keyspace", Some(e)) => keyspace(&mut text, e),
            ("shards", Some(e)) => shards(&mut text, shared, e),
            ("shardlist", Some(e)) => shardlist(&mut text, e),
            // Modules: there are none.
            _ => {}
        }
    }
    text
}

/// Appends one line and its `\r\n`.
fn line(text: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = text.write_fmt(args);
    text.push_str("\r\n");
}

/// Appends `name:value`.
fn field(text: &mut String, name: &str, value: impl std::fmt::Display) {
    line(text, format_args!("{name}:{value}"));
}

/// Bytes as Redis's `bytesToHuman` prints them: `512B`, `1.50K`, `2.00M`.
pub(super) fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    for unit in UNITS {
        if value < 1024.0 {
            return format!("{value:.2}{unit}");
        }
        value /= 1024.0;
    }
    format!("{:.2}E", value)
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn server(text: &mut String, shared: &Shared) {
    let config = shared.config.load();
    let uptime = shared.started.elapsed().as_secs();
    let os = {
        let release = tandem_engine::process::os_release().unwrap_or_default();
        let name = match std::env::consts::OS {
            "linux" => "Linux",
            "macos" => "Darwin",
            other => other,
        };
        [name, release.trim(), std::env::consts::ARCH]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    };
    field(text, "redis_version", super::session::REDIS_VERSION);
    field(text, "tandem_version", env!("CARGO_PKG_VERSION"));
    field(text, "redis_mode", "standalone");
    field(text, "os", os);
    field(text, "arch_bits", usize::BITS);
    field(text, "process_id", std::process::id());
    field(text, "run_id", shared.stats.run_id());
    field(text, "tcp_port", config.port);
    field(text, "server_time_usec", unix_now().as_micros());
    field(text, "uptime_in_seconds", uptime);
    field(text, "uptime_in_days", uptime / 86_400);
    let exe = std::env::current_exe().map_or_else(|_| String::new(), |p| p.display().to_string());
    field(text, "executable", exe);
    // The threads serving connections (`io-threads`; 0 is one per core).
    let threads = match config.io_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    field(text, "io_threads", threads);
}

fn clients(text: &mut String, shared: &Shared) {
    let config = shared.config.load();
    field(
        text,
        "connected_clients",
        shared.clients.load(Ordering::Relaxed),
    );
    field(text, "maxclients", config.maxclients);
    field(text, "blocked_clients", shared.blocking.blocked_clients());
    // No client-side caching yet: truly none.
    field(text, "tracking_clients", 0);
}

fn memory(text: &mut String, shared: &Shared, engine: &Engine) {
    super::memory::Report::gather(shared, engine.dbs.iter().map(|(_, _, s)| s))
        .info(&mut |name, value| field(text, name, value));
}

fn persistence(text: &mut String, shared: &Shared) {
    shared
        .persistence
        .info(shared.stats.changes(), |name, value| {
            field(text, name, value)
        });
}

fn stats(text: &mut String, shared: &Shared, totals: &Totals, engine: &Engine) {
    let expired = engine
        .expired_keys()
        .saturating_sub(shared.stats.expired_baseline());
    field(text, "total_connections_received", totals.connections);
    field(
        text,
        "total_commands_processed",
        totals.commands_processed(),
    );
    field(text, "rejected_connections", totals.rejected_connections);
    field(text, "expired_keys", expired);
    let (exceeded, current) = shared.eviction.exceeded_ms();
    let evicted = shared.eviction.evicted_since_reset(engine.evicted_keys());
    field(text, "evicted_keys", evicted);
    field(text, "evicted_clients", 0);
    field(text, "total_eviction_exceeded_time", exceeded);
    field(text, "current_eviction_exceeded_time", current);
    field(text, "keyspace_hits", totals.keyspace_hits);
    field(text, "keyspace_misses", totals.keyspace_misses);
    field(text, "pubsub_channels", shared.hub.channels(None).len());
    field(text, "pubsub_patterns", shared.hub.numpat());
    field(
        text,
        "pubsubshard_channels",
        shared.shard_hub.channels(None).len(),
    );
    field(text, "total_error_replies", totals.errors);
}

fn replication(text: &mut String, shared: &Shared) {
    field(text, "role", "master");
    field(text, "connected_slaves", 0);
    field(text, "master_failover_state", "no-failover");
    field(text, "master_replid", shared.stats.replid());
    field(text, "master_replid2", "0".repeat(40));
    field(text, "master_repl_offset", 0);
    field(text, "second_repl_offset", -1);
    field(text, "repl_backlog_active", 0);
}

fn cpu(text: &mut String) {
    let Some(tandem_engine::process::CpuTicks {
        user,
        system: sys,
        children_user: cuser,
        children_system: csys,
    }) = tandem_engine::process::CpuTicks::now()
    else {
        return;
    };
    let secs = |ticks: u64| format!("{}.{:06}", ticks / 100, (ticks % 100) * 10_000);
    field(text, "used_cpu_sys", secs(sys));
    field(text, "used_cpu_user", secs(user));
    field(text, "used_cpu_sys_children", secs(csys));
    field(text, "used_cpu_user_children", secs(cuser));
}

fn commandstats(text: &mut String, totals: &Totals) {
    for (name, c) in stat_names().iter().zip(&totals.commands) {
        if c.calls == 0 && c.rejected == 0 && c.failed == 0 {
            continue;
        }
        let (usec, per_call) = (c.usec(), c.usec_per_call());
        line(
            text,
            format_args!(
                "cmdstat_{name}:calls={},usec={usec},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                c.calls, c.rejected, c.failed
            ),
        );
    }
}

fn errorstats(text: &mut String, totals: &Totals) {
    for (code, count) in &totals.codes {
        line(text, format_args!("errorstat_{code}:count={count}"));
    }
}

/// `latency_percentiles_usec_<command>:p50=…,p99=…` for every command
/// with a histogram, while latency tracking is on, as Redis 7.0 prints
/// them (µs, three decimals).
fn latencystats(text: &mut String, shared: &Shared) {
    if !shared.latency.tracking() {
        return;
    }
    let percentiles = shared.config.load().observability.percentiles.clone();
    for (name, h) in stat_names().iter().zip(shared.stats.latencies()) {
        if h.count() == 0 {
            continue;
        }
        let values: Vec<String> = percentiles
            .0
            .iter()
            .map(|p| {
                format!(
                    "p{}={:.3}",
                    crate::latency::percentile_name(*p),
                    h.percentile(*p) as f64 / 1000.0
                )
            })
            .collect();
        line(
            text,
            format_args!("latency_percentiles_usec_{name}:{}", values.join(",")),
        );
    }
}

fn keyspace(text: &mut String, engine: &Engine) {
    for (i, _, s) in &engine.dbs {
        if s.keys == 0 {
            continue;
        }
        line(
            text,
            format_args!(
                "db{i}:keys={},expires={},avg_ttl={}",
                s.keys, s.volatile_keys, s.avg_ttl_ms
            ),
        );
    }
}

/// How many finished resizes the shards section lists per database.
const HISTORY: usize = 5;

fn shards(text: &mut String, shared: &Shared, engine: &Engine) {
    let Some((_, _, first)) = engine.dbs.first() else {
        return;
    };
    let sum = |f: fn(&tandem_engine::Stats) -> u64| -> u64 {
        engine.dbs.iter().map(|(_, _, s)| f(s)).sum()
    };
    let fast = sum(|s| s.fast_path_batches);
    let multi = sum(|s| s.multi_shard_batches);
    let share = |fast: u64, multi: u64| {
        if fast + multi == 0 {
            0.0
        } else {
            fast as f64 / (fast + multi) as f64
        }
    };
    field(text, "memtable", first.memtable.as_str());
    background(text, shared);
    field(text, "shards_total", sum(|s| s.shard_count as u64));
    field(text, "resizes_total", sum(|s| s.resizes));
    field(text, "fast_path_batches", fast);
    field(text, "multi_shard_batches", multi);
    field(
        text,
        "fast_path_share",
        format!("{:.4}", share(fast, multi)),
    );
    for (i, db, s) in &engine.dbs {
        if *i != 0 && s.keys == 0 && s.resizes == 0 {
            continue;
        }
        let (resizing, progress) = match s.resize {
            ResizeState::Idle => (0, String::new()),
            ResizeState::Migrating {
                from,
                to,
                done,
                total,
            } => (1, format!(",from={from},to={to},done={done},total={total}")),
        };
        line(
            text,
            format_args!(
                "db{i}:shards={},keys={},expires={},imbalance={:.3},resizing={resizing}{progress},resizes={},fast_path_batches={},multi_shard_batches={},resize_batches={},fast_path_share={:.4},read_waits={},write_waits={},expired_keys={},approx_bytes={},index_bytes={},timer_index_bytes={}",
                s.shard_count,
                s.keys,
                s.volatile_keys,
                s.imbalance,
                s.resizes,
                s.fast_path_batches,
                s.multi_shard_batches,
                s.resize_batches,
                share(s.fast_path_batches, s.multi_shard_batches),
                s.read_waits,
                s.write_waits,
                s.expired_keys,
                s.approx_bytes,
                s.index_bytes,
                s.timer_index_bytes,
            ),
        );
        let l = s.expiry_lateness;
        line(
            text,
            format_args!(
                "db{i}_expiry:reaped={},lateness_p50_ms={},lateness_p99_ms={},lateness_p999_ms={},lateness_max_ms={}",
                l.reaped, l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms
            ),
        );
        let events = db.resize_events();
        for e in events.iter().rev().take(HISTORY) {
            line(
                text,
                format_args!(
                    "db{i}_resize_{}:from={},to={},reason={},keys_moved={},keys_purged={},duration_ms={:.3},started_s={:.3}",
                    e.id,
                    e.from,
                    e.to,
                    e.reason.as_str(),
                    e.keys_moved,
                    e.keys_purged,
                    e.duration.as_secs_f64() * 1000.0,
                    e.started.as_secs_f64(),
                ),
            );
        }
    }
}

/// Tandem's own, by name only: one line per shard of the active memtable
/// of each database that holds keys (`tandem top` reads it).
fn shardlist(text: &mut String, engine: &Engine) {
    for (i, _, s) in &engine.dbs {
        if s.keys == 0 {
            continue;
        }
        for (n, sh) in s.shards.iter().enumerate() {
            line(
                text,
                format_args!(
                    "db{i}_shard_{n}:keys={},expires={},bytes={},read_waits={},write_waits={}",
                    sh.keys,
                    sh.volatile,
                    sh.approx_bytes,
                    sh.counters.read_waits,
                    sh.counters.write_waits
                ),
            );
        }
    }
}

/// The background threads' health: `background_<worker>:state=<state>`,
/// with `,cause=<why>` last for a dead one (the cause may hold commas; it
/// is one line), and whether writes are refused because of it.
fn background(text: &mut String, shared: &Shared) {
    let background = shared.dbs.background();
    for worker in Worker::ALL {
        let state = background.state(worker);
        match &state {
            WorkerState::Dead { cause } => line(
                text,
                format_args!(
                    "background_{}:state={},cause={cause}",
                    worker.as_str(),
                    state.as_str()
                ),
            ),
            _ => line(
                text,
                format_args!("background_{}:state={}", worker.as_str(), state.as_str()),
            ),
        }
    }
    let (state, panics) = shared.eviction.background_state();
    line(
        text,
        format_args!("background_evictor:state={state},panics={panics}"),
    );
    field(
        text,
        "background_writes_refused",
        u8::from(background.is_poisoned()),
    );
}

/// CONFIG RESETSTAT: zeroes what INFO reports as counts since the last
/// reset (commands, errors, connections, expired and evicted keys, time
/// over the memory bound).
pub fn reset_stats(shared: &Shared) {
    shared.stats.reset();
    let dbs = shared.dbs.all();
    let expired: u64 = dbs.iter().map(|db| db.stats().expired_keys).sum();
    shared.stats.set_expired_baseline(expired);
    let evicted: u64 = dbs.iter().map(|db| db.evicted_keys()).sum();
    shared.eviction.reset_stats(evicted);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_print_as_redis_does() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(1536), "1.50K");
        assert_eq!(human(6_359_056), "6.06M");
        assert_eq!(human(25_274_793_984), "23.54G");
    }

    #[test]
    fn sections_are_chosen_as_redis_chooses_them() {
        let on = |args: &[&[u8]]| -> Vec<&str> {
            SECTIONS
                .iter()
                .zip(wanted(args))
                .filter(|(_, w)| *w)
                .map(|(s, _)| *s)
                .collect()
        };
        assert!(!on(&[]).contains(&"commandstats"));
        assert!(on(&[]).contains(&"keyspace"));
        assert_eq!(on(&[b"all"]).len(), SECTIONS.len() - 1);
        assert_eq!(on(&[b"EVERYTHING"]).len(), SECTIONS.len() - 1);
        assert!(!on(&[b"all"]).contains(&"shardlist"));
        assert_eq!(on(&[b"shardlist"]), vec!["shardlist"]);
        assert_eq!(on(&[b"keyspace", b"Server"]), vec!["server", "keyspace"]);
        assert_eq!(on(&[b"default"]), on(&[]));
        assert!(on(&[b"nosuch"]).is_empty());
    }
}
