//! `tandem bench engine --workload expiry`: how late `expired` events come.
//!
//! Loads `--background` keys with long TTLs (one to two hours, so none
//! expires during the run, but every one sits in the timer index), then
//! `--probes` keys whose deadlines (PXAT) are spread evenly over
//! `--spread` seconds, starting one second after they are set. A
//! subscriber on `__keyevent@0__:expired` stamps each event as it arrives;
//! lateness is arrival minus the deadline. A key lives through its
//! deadline's millisecond (as in Redis), so no event can come less than
//! 0 to 1 ms after the deadline's start.

use crate::args::EngineArgs;
use crate::engine::{open, settle};
use crate::keys::Rng;
use crate::report::new_histogram;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tandem_engine::prelude::*;
use tandem_engine::pubsub::NotifyFlags;

/// The lateness of expiry events.
#[derive(Debug, Serialize)]
pub struct ExpiryReport {
    /// Volatile keys loaded besides the probes.
    pub background: u64,
    /// Probe keys whose events were awaited.
    pub probes: u64,
    /// Seconds the probes' deadlines were spread over.
    pub spread_s: f64,
    /// Shards at the end.
    pub shards: usize,
    /// Probe events received.
    pub delivered: u64,
    /// `delivered / probes`.
    pub delivered_fraction: f64,
    /// Lateness percentiles and maximum, in nanoseconds.
    pub p50_ns: u64,
    /// See `p50_ns`.
    pub p99_ns: u64,
    /// See `p50_ns`.
    pub p999_ns: u64,
    /// See `p50_ns`.
    pub max_ns: u64,
    /// Bytes of the timer index (the trees' deadline bounds).
    pub timer_index_bytes: usize,
    /// `timer_index_bytes` over the volatile keys (background + probes).
    pub timer_bytes_per_volatile_key: f64,
}

impl ExpiryReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        let ms = |ns: u64| ns as f64 / 1e6;
        format!(
            "expiry: {} background volatile keys, {} probes over {} s, {} shards\n\
             delivered {}/{} ({:.4})\n\
             lateness p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms\n\
             timer index {} bytes, {:.2} bytes per volatile key",
            self.background,
            self.probes,
            self.spread_s,
            self.shards,
            self.delivered,
            self.probes,
            self.delivered_fraction,
            ms(self.p50_ns),
            ms(self.p99_ns),
            ms(self.p999_ns),
            ms(self.max_ns),
            self.timer_index_bytes,
            self.timer_bytes_per_volatile_key,
        )
    }
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Runs the expiry workload.
pub fn run(args: &EngineArgs) -> ExpiryReport {
    let db = open(args);
    db.hub().set_notify_flags(NotifyFlags::from_bits(
        NotifyFlags::KEYEVENT | NotifyFlags::EXPIRED,
    ));
    let sub = db.hub().subscriber();
    sub.subscribe(b"__keyevent@0__:expired");
    let mut rng = Rng::new(7);
    for i in 0..args.background {
        let ttl = 3_600_000 + rng.below(3_600_000) as i64;
        let opts = SetOptions {
            ttl: SetTtl::At(Expiry::Millis(ttl)),
            ..SetOptions::default()
        };
        let _ = db.set(format!("bg:{i:012}").as_bytes(), b"v", opts);
    }
    settle(&db);
    let probes = args.probes.max(1);
    let spread_ms = (args.spread * 1000.0).max(0.0) as u64;
    let start_ms = (unix_ns() / 1_000_000) as u64 + 1_000;
    let deadline_of = |i: u64| start_ms + i * spread_ms / probes;
    for i in 0..probes {
        let opts = SetOptions {
            ttl: SetTtl::At(Expiry::UnixMillis(deadline_of(i) as i64)),
            ..SetOptions::default()
        };
        let _ = db.set(format!("probe:{i}").as_bytes(), b"v", opts);
    }
    let _progress = crate::progress::clock(Duration::from_millis(spread_ms + 1_000), "expiry");
    let mut hist = new_histogram();
    let mut seen = vec![false; probes as usize];
    let mut delivered = 0;
    // Wait for every probe, or until well after the last deadline.
    let give_up = start_ms + spread_ms + 5_000;
    while delivered < probes && ((unix_ns() / 1_000_000) as u64) < give_up {
        let Ok(Some(m)) = sub.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let arrived = unix_ns();
        let Some(i) = std::str::from_utf8(m.payload())
            .ok()
            .and_then(|k| k.strip_prefix("probe:"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let Some(slot) = seen.get_mut(i as usize) else {
            continue;
        };
        if !std::mem::replace(slot, true) {
            delivered += 1;
            let late = arrived.saturating_sub(u128::from(deadline_of(i)) * 1_000_000);
            let _ = hist.record(u64::try_from(late).unwrap_or(u64::MAX));
        }
    }
    let stats = db.stats();
    let volatile = args.background + probes;
    ExpiryReport {
        background: args.background,
        probes,
        spread_s: args.spread,
        shards: stats.shard_count,
        delivered,
        delivered_fraction: delivered as f64 / probes as f64,
        p50_ns: hist.value_at_quantile(0.5),
        p99_ns: hist.value_at_quantile(0.99),
        p999_ns: hist.value_at_quantile(0.999),
        max_ns: hist.max(),
        timer_index_bytes: stats.timer_index_bytes,
        timer_bytes_per_volatile_key: stats.timer_index_bytes as f64 / volatile as f64,
    }
}
