//! Server statistics: what INFO's stats, commandstats and errorstats
//! sections report.
//!
//! Owns the counters and how they are merged. Per-request counts (calls,
//! time, rejections, failures, error replies) are kept per thread, never
//! in one shared counter: an atomic that every core bumps on every request
//! bounces its cache line between cores, which showed in profiles. Each
//! thread that runs commands gets its own table for each server (found
//! through a thread-local, registered once in the server's list) and is
//! its only writer, so a count is a plain load and store, with no locked
//! instruction; INFO sums every table. A table outlives its thread, so
//! counts survive a thread's exit.
//!
//! Time is sampled: one command in `TIME_ONE_IN` (picked at random per
//! thread), and every command the first time its thread runs it. While
//! the slow log is on (the default, as in Redis) every command is timed
//! for the log too, but from where the previous one ended, which takes
//! in its parsing; the stats keep their own sample, timed around the
//! command alone. On
//! the virtual machines this was first measured on, a clock read cost
//! ~110 ns (the TSC trapped to the hypervisor) and timing every command
//! measured 0.10–0.11 µs more server CPU per request at pipeline 16;
//! see `ticks` for the clock used now and docs/BENCHMARKS.md for what
//! timing every command costs today. Calls,
//! rejections and failures are still counted exactly; a command's total
//! time is estimated as its mean sampled time times its calls.
//!
//! Rare events (connections accepted and refused) are plain shared
//! atomics. Resetting (CONFIG RESETSTAT) records the totals as a baseline
//! that later reads subtract: a reader must never write a counter that
//! another thread owns.

use crate::latency::histogram::{bump, Buckets};
use crate::latency::Snapshot;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// One command in this many is timed (a power of two).
pub const TIME_ONE_IN: u32 = 16;

/// Most distinct error codes counted, as Redis: past this, new codes are
/// counted only in the total.
const MAX_ERROR_CODES: usize = 128;

/// A command's (or subcommand's) index in the stats: see
/// `command::stat_names`.
pub type Slot = usize;

/// One command's counters in one thread's table.
#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    /// Of `calls`, those timed, and their time.
    timed: AtomicU64,
    nanos: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    /// Every call's duration, while `latency-tracking` is on; made on the
    /// command's first call on this thread (a few kilobytes), so that
    /// commands never run cost nothing.
    latency: OnceLock<Box<Buckets>>,
}

/// One thread's counters for one server.
#[derive(Debug)]
struct Table {
    commands: Box<[Counters]>,
    errors: AtomicU64,
    /// Write commands that succeeded: the save rules' "changes".
    changes: AtomicU64,
    /// Read lookups that found their key, and that did not.
    hits: AtomicU64,
    misses: AtomicU64,
    /// Error replies by code. A lock, but only its thread and INFO take
    /// it, and only on an error reply.
    codes: Mutex<HashMap<Box<str>, u64>>,
}

impl Table {
    fn new(slots: usize) -> Self {
        Self {
            commands: (0..slots).map(|_| Counters::default()).collect(),
            errors: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            codes: Mutex::new(HashMap::new()),
        }
    }
}

thread_local! {
    /// This thread's tables, one per server it has run commands for,
    /// tagged with the server's `Stats::id`. Nearly always one.
    static TABLES: RefCell<Vec<(u64, Arc<Table>)>> = const { RefCell::new(Vec::new()) };
}

/// What INFO reports for one command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandTotals {
    /// Times it ran.
    pub calls: u64,
    /// Of `calls`, those timed.
    pub timed: u64,
    /// Time spent running the timed ones, in nanoseconds.
    pub nanos: u64,
    /// Times it was refused before running (arity, authentication).
    pub rejected: u64,
    /// Times it ran and replied with an error.
    pub failed: u64,
}

impl CommandTotals {
    /// Estimated time spent running it in all: the mean timed call
    /// times every call, in microseconds.
    pub fn usec(&self) -> u64 {
        match self.timed {
            0 => 0,
            t => u64::try_from(
                u128::from(self.nanos) * u128::from(self.calls) / u128::from(t) / 1000,
            )
            .unwrap_or(u64::MAX),
        }
    }

    /// The mean time of a call, in microseconds.
    pub fn usec_per_call(&self) -> f64 {
        match self.timed {
            0 => 0.0,
            t => self.nanos as f64 / 1000.0 / t as f64,
        }
    }

    fn add(&mut self, c: &Counters) {
        self.calls += c.calls.load(Ordering::Relaxed);
        self.timed += c.timed.load(Ordering::Relaxed);
        self.nanos += c.nanos.load(Ordering::Relaxed);
        self.rejected += c.rejected.load(Ordering::Relaxed);
        self.failed += c.failed.load(Ordering::Relaxed);
    }

    fn minus(self, base: CommandTotals) -> CommandTotals {
        CommandTotals {
            calls: self.calls.saturating_sub(base.calls),
            timed: self.timed.saturating_sub(base.timed),
            nanos: self.nanos.saturating_sub(base.nanos),
            rejected: self.rejected.saturating_sub(base.rejected),
            failed: self.failed.saturating_sub(base.failed),
        }
    }
}

/// Every counter, summed over threads, as INFO reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Per command, by `Slot`.
    pub commands: Vec<CommandTotals>,
    /// Error replies sent.
    pub errors: u64,
    /// Error replies by code (`ERR`, `WRONGTYPE`, ...), sorted by code.
    pub codes: Vec<(String, u64)>,
    /// Connections accepted.
    pub connections: u64,
    /// Connections refused (maxclients, protected mode).
    pub rejected_connections: u64,
    /// Read lookups that found their key (Redis's `keyspace_hits`).
    pub keyspace_hits: u64,
    /// Read lookups that did not (`keyspace_misses`).
    pub keyspace_misses: u64,
}

impl Totals {
    /// Commands run: the sum of every command's calls (Redis's
    /// `total_commands_processed`).
    pub fn commands_processed(&self) -> u64 {
        self.commands.iter().map(|c| c.calls).sum()
    }

    fn minus(mut self, base: &Totals) -> Totals {
        for (c, b) in self.commands.iter_mut().zip(&base.commands) {
            *c = c.minus(*b);
        }
        self.errors = self.errors.saturating_sub(base.errors);
        for (code, n) in &mut self.codes {
            if let Some((_, b)) = base.codes.iter().find(|(c, _)| c == code) {
                *n = n.saturating_sub(*b);
            }
        }
        self.codes.retain(|(_, n)| *n > 0);
        self.connections = self.connections.saturating_sub(base.connections);
        self.rejected_connections = self
            .rejected_connections
            .saturating_sub(base.rejected_connections);
        self.keyspace_hits = self.keyspace_hits.saturating_sub(base.keyspace_hits);
        self.keyspace_misses = self.keyspace_misses.saturating_sub(base.keyspace_misses);
        self
    }
}

/// `len` random hex digits (from the standard library's randomly keyed
/// hasher: this is an id, not a secret).
pub fn random_hex(len: usize) -> String {
    use std::fmt::Write;
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::with_capacity(len + 16);
    let mut n = 0u64;
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        n += 1;
        let _ = write!(out, "{:016x}", h.finish());
    }
    out.truncate(len);
    out
}

/// A server's counters.
#[derive(Debug)]
pub struct Stats {
    /// Tells this server's tables from another's in a thread's list.
    id: u64,
    /// Command slots per table.
    slots: usize,
    /// Every thread's table, for reading.
    tables: Mutex<Vec<Arc<Table>>>,
    connections: AtomicU64,
    rejected: AtomicU64,
    /// The totals at the last reset, subtracted from reads.
    baseline: Mutex<Option<Totals>>,
    /// The latency histograms at the last reset.
    latency_base: Mutex<Option<Vec<Snapshot>>>,
    /// The engine's expired-key count at the last reset (the engine's
    /// counter is its own; INFO subtracts this).
    expired_base: AtomicU64,
    /// This run's random id (INFO's `run_id`).
    run_id: String,
    /// This run's replication id (INFO's `master_replid`): random too.
    replid: String,
}

impl Stats {
    /// Counters for `slots` commands and subcommands.
    pub fn new(slots: usize) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            slots,
            tables: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            baseline: Mutex::new(None),
            latency_base: Mutex::new(None),
            expired_base: AtomicU64::new(0),
            run_id: random_hex(40),
            replid: random_hex(40),
        }
    }

    /// This run's random 40-hex-digit id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// This run's random 40-hex-digit replication id.
    pub fn replid(&self) -> &str {
        &self.replid
    }

    /// Runs `f` on this thread's table, creating and registering it on
    /// first use. Does nothing while the thread is being torn down.
    fn with_table(&self, f: impl FnOnce(&Table)) {
        let _ = TABLES.try_with(|tables| {
            if let Some((_, table)) = tables.borrow().iter().find(|(id, _)| *id == self.id) {
                f(table);
                return;
            }
            let table = Arc::new(Table::new(self.slots));
            self.tables.lock().push(Arc::clone(&table));
            let mut tables = tables.borrow_mut();
            // Tables of servers since dropped are held here alone.
            tables.retain(|(_, t)| Arc::strong_count(t) > 1);
            tables.push((self.id, Arc::clone(&table)));
            drop(tables);
            f(&table);
        });
    }

    /// Whether to time the command of `slot` about to run on this
    /// thread: one in `TIME_ONE_IN` at random, and any this thread has not
    /// timed yet.
    pub fn should_time(&self, slot: Slot) -> bool {
        // fastrand's thread-local generator: no shared state, a few
        // instructions, and seeded apart per thread.
        let roll = fastrand::u32(..TIME_ONE_IN);
        let mut yes = false;
        self.with_table(|t| {
            let first = t
                .commands
                .get(slot)
                .is_some_and(|c| c.timed.load(Ordering::Relaxed) == 0);
            yes = first || roll == 0;
        });
        yes
    }

    /// Command `slot` ran, taking `took` if it was timed; `failed` if it
    /// replied with an error (count the error itself with `error`);
    /// `tracked`, its duration in nanoseconds for its latency histogram;
    /// `lookups`, the keyspace hits and misses it made.
    pub fn call(
        &self,
        slot: Slot,
        took: Option<Duration>,
        failed: bool,
        tracked: Option<u64>,
        (hits, misses): (u64, u64),
    ) {
        self.with_table(|t| {
            if hits != 0 {
                bump(&t.hits, hits);
            }
            if misses != 0 {
                bump(&t.misses, misses);
            }
            if let Some(c) = t.commands.get(slot) {
                bump(&c.calls, 1);
                if let Some(ns) = tracked {
                    c.latency.get_or_init(Box::default).record(ns);
                }
                if let Some(took) = took {
                    bump(&c.timed, 1);
                    bump(&c.nanos, u64::try_from(took.as_nanos()).unwrap_or(u64::MAX));
                }
                if failed {
                    bump(&c.failed, 1);
                }
            }
        });
    }

    /// A write command succeeded (Redis's `dirty`, counted per command
    /// rather than per key changed).
    pub fn changed(&self) {
        self.with_table(|t| bump(&t.changes, 1));
    }

    /// Write commands that succeeded since the server started, over every
    /// thread; CONFIG RESETSTAT does not reset it (nor Redis's `dirty`).
    pub fn changes(&self) -> u64 {
        self.tables
            .lock()
            .iter()
            .map(|t| t.changes.load(Ordering::Relaxed))
            .sum()
    }

    /// Command `slot` was refused before it ran (arity, authentication,
    /// an error while queueing in MULTI); count the error with `error`.
    pub fn reject(&self, slot: Slot) {
        self.with_table(|t| {
            if let Some(c) = t.commands.get(slot) {
                bump(&c.rejected, 1);
            }
        });
    }

    /// An error reply `line` (without the leading `-`) was sent: counted
    /// in the total and under its code, the first word (Redis's rule: a
    /// line without a space in its first 32 bytes counts as `ERR`).
    pub fn error(&self, line: &[u8]) {
        let head = line.get(..32).unwrap_or(line);
        let code = match memchr::memchr(b' ', head) {
            Some(end) => head.get(..end).unwrap_or(head),
            None => b"ERR",
        };
        self.with_table(|t| {
            bump(&t.errors, 1);
            let code = String::from_utf8_lossy(code);
            let mut codes = t.codes.lock();
            if let Some(n) = codes.get_mut(&*code) {
                *n += 1;
            } else if codes.len() < MAX_ERROR_CODES {
                codes.insert(code.into(), 1);
            }
        });
    }

    /// A connection was accepted.
    pub fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was refused (maxclients, protected mode).
    pub fn count_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Every counter since the last reset, summed over threads. Each
    /// thread's counters are read one after another, not as one atomic
    /// snapshot.
    pub fn totals(&self) -> Totals {
        let raw = self.raw_totals();
        match &*self.baseline.lock() {
            Some(base) => raw.minus(base),
            None => raw,
        }
    }

    fn raw_totals(&self) -> Totals {
        let mut totals = Totals {
            commands: vec![CommandTotals::default(); self.slots],
            connections: self.connections.load(Ordering::Relaxed),
            rejected_connections: self.rejected.load(Ordering::Relaxed),
            ..Totals::default()
        };
        let mut codes: HashMap<String, u64> = HashMap::new();
        for table in self.tables.lock().iter() {
            for (sum, c) in totals.commands.iter_mut().zip(table.commands.iter()) {
                sum.add(c);
            }
            totals.errors += table.errors.load(Ordering::Relaxed);
            totals.keyspace_hits += table.hits.load(Ordering::Relaxed);
            totals.keyspace_misses += table.misses.load(Ordering::Relaxed);
            for (code, n) in table.codes.lock().iter() {
                *codes.entry(code.to_string()).or_default() += n;
            }
        }
        totals.codes = codes.into_iter().collect();
        totals.codes.sort();
        totals.codes.truncate(MAX_ERROR_CODES);
        totals
    }

    /// Every command's latency histogram since the last reset, by
    /// `Slot`, summed over threads (empty for a command never tracked).
    pub fn latencies(&self) -> Vec<Snapshot> {
        let raw = self.raw_latencies();
        match &*self.latency_base.lock() {
            Some(base) => raw.into_iter().zip(base).map(|(r, b)| r.minus(b)).collect(),
            None => raw,
        }
    }

    fn raw_latencies(&self) -> Vec<Snapshot> {
        let mut out = vec![Snapshot::default(); self.slots];
        for table in self.tables.lock().iter() {
            for (sum, c) in out.iter_mut().zip(table.commands.iter()) {
                if let Some(b) = c.latency.get() {
                    sum.add(b);
                }
            }
        }
        out
    }

    /// The engine's expired-key count at the last reset.
    pub fn expired_baseline(&self) -> u64 {
        self.expired_base.load(Ordering::Relaxed)
    }

    /// Records the engine's expired-key count at a reset.
    pub fn set_expired_baseline(&self, expired: u64) {
        self.expired_base.store(expired, Ordering::Relaxed);
    }

    /// Zeroes the counts kept here (see `command::info::reset_stats` for
    /// CONFIG RESETSTAT, which also covers the engine's).
    pub fn reset(&self) {
        let raw = self.raw_totals();
        *self.baseline.lock() = Some(raw);
        let raw = self.raw_latencies();
        *self.latency_base.lock() = Some(raw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_several_threads_add_up() {
        let stats = Arc::new(Stats::new(3));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let stats = Arc::clone(&stats);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        stats.call(1, Some(Duration::from_nanos(10)), false, None, (0, 0));
                    }
                    stats.call(2, None, true, None, (0, 0));
                    stats.reject(0);
                    stats.error(b"WRONGTYPE Operation against a key");
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok());
        }
        // The threads are gone; their counts are not.
        let t = stats.totals();
        assert_eq!(t.commands[1].calls, 4000);
        assert_eq!(t.commands[1].nanos, 40_000);
        assert_eq!(t.commands[1].usec_per_call(), 0.01);
        assert_eq!(t.commands[2].failed, 4);
        assert_eq!(t.commands[0].rejected, 4);
        assert_eq!(t.commands_processed(), 4004);
        assert_eq!(t.errors, 4);
        assert_eq!(t.codes, vec![("WRONGTYPE".to_string(), 4)]);
    }

    #[test]
    fn time_is_sampled_and_scaled_to_every_call() {
        let stats = Stats::new(2);
        // The first call of a command on a thread is always timed.
        assert!(stats.should_time(0));
        let mut timed = 0;
        for _ in 0..16_000 {
            let time = stats.should_time(0);
            timed += u32::from(time);
            stats.call(
                0,
                time.then_some(Duration::from_micros(2)),
                false,
                None,
                (0, 0),
            );
        }
        assert!((500..1500).contains(&timed), "{timed} of 16000 timed");
        let c = stats.totals().commands[0];
        assert_eq!(c.calls, 16_000);
        assert_eq!(c.usec(), 32_000);
        assert_eq!(c.usec_per_call(), 2.0);
    }

    #[test]
    fn error_codes_follow_redis() {
        let stats = Stats::new(1);
        stats.error(b"ERR syntax error");
        stats.error(b"NOAUTH Authentication required.");
        stats.error(b"nospace");
        stats.error(b"AVERYLONGERRORCODEWITHOUTANYSPACEATALL at all");
        let t = stats.totals();
        assert_eq!(
            t.codes,
            vec![("ERR".to_string(), 3), ("NOAUTH".to_string(), 1)]
        );
        assert_eq!(t.errors, 4);
    }

    #[test]
    fn reset_zeroes_what_is_read_and_counting_goes_on() {
        let stats = Stats::new(1);
        stats.call(0, Some(Duration::from_micros(1)), false, None, (0, 0));
        stats.error(b"ERR x");
        stats.count_connection();
        stats.reset();
        assert_eq!(stats.totals().commands_processed(), 0);
        assert_eq!(stats.totals().codes, Vec::new());
        assert_eq!(stats.totals().connections, 0);
        stats.call(0, Some(Duration::from_micros(1)), false, None, (0, 0));
        stats.error(b"ERR y");
        let t = stats.totals();
        assert_eq!((t.commands[0].calls, t.errors), (1, 1));
        assert_eq!(t.codes, vec![("ERR".to_string(), 1)]);
    }

    #[test]
    fn latency_histograms_sum_threads_and_reset() {
        let stats = Arc::new(Stats::new(2));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let stats = Arc::clone(&stats);
                std::thread::spawn(move || {
                    for ns in 1..=100 {
                        stats.call(1, None, false, Some(ns * 1000), (0, 0));
                    }
                    stats.call(0, None, false, None, (0, 0));
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok());
        }
        let l = stats.latencies();
        assert_eq!(l[0].count(), 0, "not tracked");
        assert_eq!(l[1].count(), 300);
        assert_eq!(l[1].sum_ns(), 3 * 5050 * 1000);
        stats.reset();
        assert_eq!(stats.latencies()[1].count(), 0);
        stats.call(1, None, false, Some(7), (0, 0));
        assert_eq!(stats.latencies()[1].count(), 1);
    }

    #[test]
    fn keyspace_hits_and_misses_add_up_and_reset() {
        let stats = Stats::new(1);
        stats.call(0, None, false, None, (3, 1));
        stats.call(0, None, false, None, (0, 2));
        let t = stats.totals();
        assert_eq!((t.keyspace_hits, t.keyspace_misses), (3, 3));
        stats.reset();
        stats.call(0, None, false, None, (1, 0));
        let t = stats.totals();
        assert_eq!((t.keyspace_hits, t.keyspace_misses), (1, 0));
    }

    #[test]
    fn servers_on_one_thread_keep_their_own_counts() {
        let (a, b) = (Stats::new(1), Stats::new(1));
        a.call(0, None, false, None, (0, 0));
        b.call(0, None, false, None, (0, 0));
        b.call(0, None, false, None, (0, 0));
        assert_eq!(a.totals().commands_processed(), 1);
        assert_eq!(b.totals().commands_processed(), 2);
    }
}
