//! `tandem bench net --workload probe`: what one light client sees while
//! others load the server.
//!
//! Owns the probe: one connection sending one `GET` of a random key
//! (`key:%012d`, as redis-benchmark's -r) every `--interval-us`, each
//! timed from its write to its reply, into an HDR histogram. It runs
//! beside a load generator (redis-benchmark, in `scripts/bench_grow.py`)
//! for `--seconds`, or until its standard input closes with
//! `--until-stdin-closes`, so a driver can stop it the moment the load
//! ends. It never pipelines and never sends faster than its interval: it
//! is a user's request stream, not load.
//!
//! A probe that is late (its reply took longer than the interval) sends
//! the next request at once rather than catching up with a burst; latency
//! is the round trip of each request, not the time since it was due.

use super::{opt, NetArgs};
use crate::keys::{key, Rng};
use crate::report::new_histogram;
use crate::resp::client::{Client, ReadError};
use crate::resp::{self, Reply};
use serde::Serialize;
use std::io::Read;
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many of the slowest round trips a report lists.
const WORST: usize = 10;

/// The probe's round trips.
#[derive(Debug, Serialize)]
pub struct ProbeReport {
    /// Always `probe`.
    pub workload: &'static str,
    /// Microseconds between requests.
    pub interval_us: u64,
    /// Requests answered.
    pub requests: u64,
    /// Seconds from the first request to the last reply.
    pub elapsed_s: f64,
    /// Round trip, microseconds.
    pub p50_us: f64,
    /// See `p50_us`.
    pub p99_us: f64,
    /// See `p50_us`.
    pub p999_us: f64,
    /// See `p50_us`.
    pub max_us: f64,
    /// Round trips longer than 10 ms.
    pub over_10ms: u64,
    /// The slowest round trips: (milliseconds since the start, microseconds).
    pub worst: Vec<(f64, f64)>,
}

impl ProbeReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "probe: {} GETs, one per {} µs, over {:.2} s\n\
             round trip µs: p50 {:.0}  p99 {:.0}  p99.9 {:.0}  max {:.0}; over 10 ms: {}",
            self.requests,
            self.interval_us,
            self.elapsed_s,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            self.over_10ms,
        );
        for (at, us) in &self.worst {
            s.push_str(&format!("\n  at {at:>9.1} ms: {} µs", opt(Some(*us), 0)));
        }
        s
    }
}

/// Runs the probe until `--seconds` pass or, with `--until-stdin-closes`,
/// standard input reaches its end.
pub fn run(args: &NetArgs) -> Result<ProbeReport, String> {
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}:{}: {e}", args.host, args.port))?
        .next()
        .ok_or_else(|| format!("{}:{}: no address", args.host, args.port))?;
    let timeout = Duration::from_secs_f64(args.timeout.max(0.001));
    let mut client =
        Client::connect(addr, timeout).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    if args.until_stdin_closes {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            stop.store(true, Ordering::Relaxed);
        });
    }
    let interval = Duration::from_micros(args.interval_us.max(1));
    let run_for = super::secs(args.seconds);
    let _progress = crate::progress::clock(run_for, "probe");
    let mut rng = Rng::new(args.seed);
    let mut hist = new_histogram();
    let mut worst: Vec<(f64, f64)> = Vec::with_capacity(WORST + 1);
    let mut k = Vec::with_capacity(16);
    let mut req = Vec::with_capacity(64);
    let start = Instant::now();
    let mut next = start;
    let mut last_reply = start;
    while !stop.load(Ordering::Relaxed) && start.elapsed() < run_for {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        key(rng.below(args.keyspace), 16, &mut k);
        req.clear();
        resp::command(&mut req, &[b"GET", &k]);
        let sent = Instant::now();
        client
            .send(&req)
            .map_err(|e| format!("probe write failed: {e}"))?;
        let ok = client
            .reply(sent + timeout, |r| {
                matches!(r, Reply::Bulk(_) | Reply::Null)
            })
            .map_err(|e| match e {
                ReadError::TimedOut => format!("no reply within {timeout:?}"),
                e => format!("probe read failed: {e}"),
            })?;
        last_reply = Instant::now();
        if !ok {
            return Err("GET answered with something other than a bulk string".into());
        }
        let rtt = last_reply.duration_since(sent);
        let ns = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
        hist.saturating_record(ns.max(1));
        note_worst(
            &mut worst,
            sent.duration_since(start).as_secs_f64() * 1e3,
            ns as f64 / 1e3,
        );
        next = (next + interval).max(last_reply);
    }
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1e3;
    Ok(ProbeReport {
        workload: "probe",
        interval_us: args.interval_us,
        requests: hist.len(),
        elapsed_s: last_reply.duration_since(start).as_secs_f64(),
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: hist.max() as f64 / 1e3,
        over_10ms: hist.count_between(10_000_000, u64::MAX),
        worst,
    })
}

/// Keeps the `WORST` slowest round trips, slowest first.
fn note_worst(worst: &mut Vec<(f64, f64)>, at_ms: f64, us: f64) {
    if worst.len() == WORST && worst.last().is_some_and(|w| w.1 >= us) {
        return;
    }
    let pos = worst.partition_point(|w| w.1 >= us);
    worst.insert(pos, (at_ms, us));
    worst.truncate(WORST);
}

#[cfg(test)]
mod tests {
    use super::note_worst;

    #[test]
    fn keeps_the_slowest_slowest_first() {
        let mut w = Vec::new();
        for (i, us) in [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0, 0.5, 11.0]
            .into_iter()
            .enumerate()
        {
            note_worst(&mut w, i as f64, us);
        }
        let kept: Vec<f64> = w.iter().map(|x| x.1).collect();
        assert_eq!(kept, [11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0]);
        assert_eq!(w.first().map(|x| x.0), Some(11.0));
    }
}
