//! Latency: per-command duration histograms (LATENCY HISTOGRAM, INFO
//! latencystats, /metrics) and the latency monitor's spikes (LATENCY
//! LATEST, HISTORY, RESET, DOCTOR).
//!
//! Owns the data structures and their arithmetic; recording into the
//! histograms is `stats`'s (each thread its own), reading them is the
//! commands' and the metrics'. Nothing here may take a lock on the path
//! of a command that is not a spike.

pub mod events;
pub mod histogram;
pub mod sparkline;

pub use events::LatencyMonitor;
pub use histogram::Snapshot;

use crate::config::Observability;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the command path reads of the latency settings, and the monitor.
#[derive(Debug, Default)]
pub struct Latency {
    tracking: AtomicBool,
    /// Spikes by event.
    pub monitor: LatencyMonitor,
}

impl Latency {
    /// Set up from the settings.
    pub fn new(settings: &Observability) -> Self {
        let latency = Self::default();
        latency.configure(settings);
        latency
    }

    /// Applies changed settings.
    pub fn configure(&self, settings: &Observability) {
        self.tracking
            .store(settings.latency_tracking, Ordering::Relaxed);
        self.monitor
            .set_threshold(settings.latency_monitor_threshold);
    }

    /// Whether every command's duration is recorded
    /// (`latency-tracking`).
    pub fn tracking(&self) -> bool {
        self.tracking.load(Ordering::Relaxed)
    }

    /// Whether commands need timing for either purpose.
    pub fn timing(&self) -> bool {
        self.tracking() || self.monitor.threshold() != 0
    }
}

/// Formats a percentile as Redis does in INFO and CONFIG GET (`%f` with
/// trailing zeros and point trimmed): `50`, `99.9`.
pub fn percentile_name(p: f64) -> String {
    let text = format!("{p:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// Parses `latency-tracking-info-percentiles`: numbers between 0 and 100
/// separated by spaces (none is allowed), with Redis 7.0's words if not.
pub fn parse_percentiles(v: &str) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for word in v.split_ascii_whitespace() {
        let p: f64 = word
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .to_string(),
            );
        }
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_read_and_print_as_redis_does() {
        assert_eq!(parse_percentiles("50 99 99.9"), Ok(vec![50.0, 99.0, 99.9]));
        assert_eq!(parse_percentiles(""), Ok(vec![]));
        assert_eq!(
            parse_percentiles("50 abc"),
            Err("Invalid latency-tracking-info-percentiles parameters".into())
        );
        assert!(parse_percentiles("101").is_err());
        assert!(parse_percentiles("-1").is_err());
        assert_eq!(percentile_name(50.0), "50");
        assert_eq!(percentile_name(99.9), "99.9");
        assert_eq!(percentile_name(0.0), "0");
    }
}
