//! The latency monitor: spikes over `latency-monitor-threshold`, by event,
//! as Redis 7.0 keeps them for LATENCY LATEST, HISTORY, RESET and DOCTOR.
//!
//! Owns the per-event series (the last 160 seconds that had a spike, the
//! worst of each second kept) and the DOCTOR report's analysis. Events
//! are Redis's names: `command` and `fast-command` (a command that ran at
//! least the threshold), `eviction-cycle` (a request's eviction round).
//! Recording is rare (only spikes are recorded), so one lock is enough;
//! the hot path reads only the threshold, an atomic, and must never take
//! the lock for a command under it.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Samples a series keeps (Redis's `LATENCY_TS_LEN`).
pub const SERIES_LEN: usize = 160;

/// One second's worst spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds.
    pub time: u64,
    /// Milliseconds.
    pub latency: u64,
}

/// One event's spikes.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Oldest first; at most `SERIES_LEN`.
    pub samples: std::collections::VecDeque<Sample>,
    /// The worst spike since the series began.
    pub max: u64,
}

/// Every event's series, and the threshold.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    /// Milliseconds; 0 is off.
    threshold_ms: AtomicU64,
    /// In the order events first happened.
    events: Mutex<Vec<(String, Series)>>,
}

/// Now, in Unix seconds (the samples' and LATENCY's clock).
pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl LatencyMonitor {
    /// Sets `latency-monitor-threshold`.
    pub fn set_threshold(&self, ms: u64) {
        self.threshold_ms.store(ms, Ordering::Relaxed);
    }

    /// The threshold in milliseconds; 0 while monitoring is off.
    pub fn threshold(&self) -> u64 {
        self.threshold_ms.load(Ordering::Relaxed)
    }

    /// Records `ms` for `event` if monitoring is on and it reaches the
    /// threshold (Redis's `latencyAddSampleIfNeeded`).
    pub fn observe(&self, event: &str, ms: u64) {
        let threshold = self.threshold();
        if threshold != 0 && ms >= threshold {
            self.add(event, ms, unix_secs());
        }
    }

    /// Adds a spike at `now` (Unix seconds): a second's worst is kept.
    fn add(&self, event: &str, ms: u64, now: u64) {
        let mut events = self.events.lock();
        let at = match events.iter().position(|(name, _)| name == event) {
            Some(at) => at,
            None => {
                events.push((event.to_string(), Series::default()));
                events.len() - 1
            }
        };
        let Some((_, series)) = events.get_mut(at) else {
            return;
        };
        series.max = series.max.max(ms);
        if let Some(last) = series.samples.back_mut() {
            if last.time == now {
                last.latency = last.latency.max(ms);
                return;
            }
        }
        if series.samples.len() == SERIES_LEN {
            series.samples.pop_front();
        }
        series.samples.push_back(Sample {
            time: now,
            latency: ms,
        });
    }

    /// Every event and its series, in the order they first happened.
    pub fn events(&self) -> Vec<(String, Series)> {
        self.events.lock().clone()
    }

    /// One event's series (names compare exactly, as Redis's dict does).
    pub fn series(&self, event: &[u8]) -> Option<Series> {
        self.events
            .lock()
            .iter()
            .find(|(name, _)| name.as_bytes() == event)
            .map(|(_, s)| s.clone())
    }

    /// Forgets `event` (case-insensitively, as Redis), or every event
    /// with `None`; how many were forgotten.
    pub fn reset(&self, event: Option<&[u8]>) -> usize {
        let mut events = self.events.lock();
        let before = events.len();
        events.retain(|(name, _)| event.is_some_and(|e| !name.as_bytes().eq_ignore_ascii_case(e)));
        before - events.len()
    }
}

/// One event's numbers for DOCTOR (Redis's `analyzeLatencyForEvent`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Samples held.
    pub samples: u64,
    /// Their mean, in ms (integer, as Redis).
    pub avg: u64,
    /// Their mean absolute deviation from `avg`, in ms.
    pub mad: u64,
    /// Seconds from the oldest sample to now (at least 1).
    pub period: u64,
}

/// Analyses `series` at `now` (Unix seconds).
pub fn analyze(series: &Series, now: u64) -> Analysis {
    let n = series.samples.len() as u64;
    if n == 0 {
        return Analysis::default();
    }
    let sum: u64 = series.samples.iter().map(|s| s.latency).sum();
    let avg = sum / n;
    let oldest = series.samples.iter().map(|s| s.time).min().unwrap_or(now);
    let mad = series
        .samples
        .iter()
        .map(|s| s.latency.abs_diff(avg))
        .sum::<u64>()
        / n;
    Analysis {
        samples: n,
        avg,
        mad,
        period: now.saturating_sub(oldest).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seconds_worst_spike_is_kept_and_the_series_is_bounded() {
        let m = LatencyMonitor::default();
        m.add("command", 5, 100);
        m.add("command", 9, 100);
        m.add("command", 7, 100);
        m.add("fast-command", 3, 100);
        let s = m.series(b"command").unwrap_or_default();
        assert_eq!(
            s.samples.iter().copied().collect::<Vec<_>>(),
            vec![Sample {
                time: 100,
                latency: 9
            }]
        );
        for t in 0..200 {
            m.add("command", 1, 200 + t);
        }
        let s = m.series(b"command").unwrap_or_default();
        assert_eq!(s.samples.len(), SERIES_LEN);
        assert_eq!(s.samples.front().map(|s| s.time), Some(240));
        assert_eq!(s.max, 9);
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.reset(None), 1);
        assert!(m.events().is_empty());
    }

    #[test]
    fn only_spikes_at_or_over_the_threshold_are_kept() {
        let m = LatencyMonitor::default();
        m.observe("command", 1000);
        assert!(m.events().is_empty(), "off by default");
        m.set_threshold(10);
        m.observe("command", 9);
        assert!(m.events().is_empty());
        m.observe("command", 10);
        assert_eq!(m.events().len(), 1);
    }

    #[test]
    fn the_analysis_is_redis_integer_arithmetic() {
        let mut s = Series::default();
        for (time, latency) in [(10, 4), (12, 8), (20, 3)] {
            s.samples.push_back(Sample { time, latency });
        }
        let a = analyze(&s, 30);
        assert_eq!((a.samples, a.avg, a.mad, a.period), (3, 5, 2, 20));
    }
}
