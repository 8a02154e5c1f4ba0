//! The observability settings that are not the slow log's:
//! `latency-tracking`, `latency-tracking-info-percentiles` and
//! `latency-monitor-threshold` (Redis 7.0's names, defaults and ranges),
//! and Tandem's own `metrics-port`.
//!
//! Owns checking them and their CONFIG GET text. What they do is
//! `crate::latency`'s and `crate::metrics`'s.

use super::ConfigError;
use crate::latency::{parse_percentiles, percentile_name};

/// Percentiles INFO latencystats prints, 0 to 100.
#[derive(Debug, Clone)]
pub struct Percentiles(pub Vec<f64>);

/// Compared bit for bit: a setting, not arithmetic.
impl PartialEq for Percentiles {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for Percentiles {}

impl Percentiles {
    /// As CONFIG GET prints them: `50 99 99.9`.
    pub fn text(&self) -> String {
        self.0
            .iter()
            .map(|p| percentile_name(*p))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observability {
    /// Whether every command's duration goes into its histogram.
    pub latency_tracking: bool,
    /// What INFO latencystats prints.
    pub percentiles: Percentiles,
    /// Spikes at least this long (ms) go to the latency monitor; 0 is off.
    pub latency_monitor_threshold: u64,
    /// The port `/metrics` and the live page are served on; 0 is off.
    pub metrics_port: u16,
}

impl Default for Observability {
    fn default() -> Self {
        Self {
            latency_tracking: true,
            percentiles: Percentiles(vec![50.0, 99.0, 99.9]),
            latency_monitor_threshold: 0,
            metrics_port: 0,
        }
    }
}

/// `latency-monitor-threshold`'s range (Redis 7.0's).
pub const THRESHOLD: (i64, i64) = (0, i64::MAX);

impl Observability {
    /// Resolves the file's or flags' values over the defaults.
    pub fn resolve(
        latency_tracking: Option<bool>,
        percentiles: Option<&str>,
        threshold: Option<u64>,
        metrics_port: Option<u16>,
    ) -> Result<Self, ConfigError> {
        let d = Self::default();
        let invalid = |name: &'static str, why: String| ConfigError::Invalid { name, why };
        let percentiles = match percentiles {
            Some(text) => Percentiles(
                parse_percentiles(text)
                    .map_err(|why| invalid("latency-tracking-info-percentiles", why))?,
            ),
            None => d.percentiles,
        };
        let latency_monitor_threshold = match threshold {
            Some(n) if i64::try_from(n).is_err() => {
                return Err(invalid(
                    "latency-monitor-threshold",
                    format!("argument must be between 0 and {} inclusive", THRESHOLD.1),
                ))
            }
            Some(n) => n,
            None => d.latency_monitor_threshold,
        };
        Ok(Self {
            latency_tracking: latency_tracking.unwrap_or(d.latency_tracking),
            percentiles,
            latency_monitor_threshold,
            metrics_port: metrics_port.unwrap_or(d.metrics_port),
        })
    }

    /// `(name, value)` for CONFIG GET.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        vec![
            ("latency-tracking", yes_no(self.latency_tracking)),
            ("latency-tracking-info-percentiles", self.percentiles.text()),
            (
                "latency-monitor-threshold",
                self.latency_monitor_threshold.to_string(),
            ),
            ("metrics-port", self.metrics_port.to_string()),
        ]
    }
}
