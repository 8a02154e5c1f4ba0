//! The memory bound's settings: `maxmemory`, `maxmemory-policy`,
//! `maxmemory-samples`, `maxmemory-eviction-tenacity`, `lfu-log-factor`
//! and `lfu-decay-time`, with Redis 7.0's names, defaults and ranges.
//!
//! Owns checking them (from flags and the file, and from CONFIG SET) and
//! their CONFIG GET text. What they do is `crate::eviction`'s.

use super::ConfigError;
use tandem_engine::evict::Policy;

/// The memory bound and how it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eviction {
    /// The bound in bytes; 0 is none.
    pub maxmemory: u64,
    /// What happens when memory is over it.
    pub policy: Policy,
    /// Keys sampled per database per eviction round.
    pub samples: u32,
    /// How long one request may spend evicting (0-100, Redis's scale).
    pub tenacity: u32,
    /// How slowly the LFU counter grows.
    pub lfu_log_factor: u32,
    /// Minutes of idleness per step the LFU counter decays by.
    pub lfu_decay_time: u32,
}

impl Default for Eviction {
    fn default() -> Self {
        Self {
            maxmemory: 0,
            policy: Policy::NoEviction,
            samples: 5,
            tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        }
    }
}

/// Redis's words for a policy that is not one, with Tandem's own policy
/// added to Redis's list.
pub const BAD_POLICY: &str = "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction, allkeys-s3fifo";

/// An integer setting's value in `min..=max` (within `u32`), with
/// Redis's words if not.
pub fn bounded(v: &str, min: i64, max: i64) -> Result<u32, String> {
    let n = super::integer(v, min, max)?;
    u32::try_from(n).map_err(|_| "argument is out of range".to_string())
}

/// `maxmemory-samples`' range (Redis 7.0's; see `samples` for what is
/// taken).
pub const SAMPLES: (i64, i64) = (1, i32::MAX as i64);

/// The most keys one database's sample takes, whatever
/// `maxmemory-samples` says: a sample is read under a shard's lock.
pub const MOST_SAMPLES: u32 = 1024;
/// `maxmemory-eviction-tenacity`'s range.
pub const TENACITY: (i64, i64) = (0, 100);
/// `lfu-log-factor`'s and `lfu-decay-time`'s range.
pub const LFU: (i64, i64) = (0, i32::MAX as i64);

impl Eviction {
    /// The settings from flags and the file (`None`: the default), checked.
    pub fn resolve(
        maxmemory: Option<u64>,
        policy: Option<&str>,
        samples: Option<u32>,
        tenacity: Option<u32>,
        lfu_log_factor: Option<u32>,
        lfu_decay_time: Option<u32>,
    ) -> Result<Eviction, ConfigError> {
        let d = Eviction::default();
        let check = |name: &'static str, v: Option<u32>, (min, max): (i64, i64), default| {
            v.map_or(Ok(default), |n| bounded(&n.to_string(), min, max))
                .map_err(|why| ConfigError::Invalid { name, why })
        };
        let policy = match policy {
            Some(p) => Policy::from_name(p).ok_or_else(|| ConfigError::Invalid {
                name: "maxmemory-policy",
                why: BAD_POLICY.into(),
            })?,
            None => d.policy,
        };
        Ok(Eviction {
            maxmemory: maxmemory.unwrap_or(d.maxmemory),
            policy,
            samples: check("maxmemory-samples", samples, SAMPLES, d.samples)?,
            tenacity: check(
                "maxmemory-eviction-tenacity",
                tenacity,
                TENACITY,
                d.tenacity,
            )?,
            lfu_log_factor: check("lfu-log-factor", lfu_log_factor, LFU, d.lfu_log_factor)?,
            lfu_decay_time: check("lfu-decay-time", lfu_decay_time, LFU, d.lfu_decay_time)?,
        })
    }

    /// Each setting's CONFIG GET name and value.
    pub fn settings(&self) -> [(&'static str, String); 6] {
        [
            ("maxmemory", self.maxmemory.to_string()),
            ("maxmemory-policy", self.policy.name().to_string()),
            ("maxmemory-samples", self.samples.to_string()),
            ("maxmemory-eviction-tenacity", self.tenacity.to_string()),
            ("lfu-log-factor", self.lfu_log_factor.to_string()),
            ("lfu-decay-time", self.lfu_decay_time.to_string()),
        ]
    }

    /// Keys sampled per database per round: `maxmemory-samples`, at most
    /// `MOST_SAMPLES`.
    pub fn samples(&self) -> usize {
        usize::try_from(self.samples.min(MOST_SAMPLES)).unwrap_or(5)
    }

    /// How long one call may spend evicting before it leaves the rest to
    /// the background (Redis's `evictionTimeLimitUs`): 50 µs per step up
    /// to 10 (the default, 500 µs), then 15% more per step, and no limit
    /// at 100.
    pub fn time_limit(&self) -> Option<std::time::Duration> {
        let t = self.tenacity;
        if t >= 100 {
            return None;
        }
        let us = if t <= 10 {
            50.0 * f64::from(t)
        } else {
            500.0 * 1.15f64.powi(t as i32 - 10)
        };
        Some(std::time::Duration::from_micros(us as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_follows_redis_scale() {
        let at = |tenacity| Eviction {
            tenacity,
            ..Eviction::default()
        };
        assert_eq!(at(0).time_limit(), Some(std::time::Duration::ZERO));
        assert_eq!(at(10).time_limit().map(|d| d.as_micros()), Some(500));
        assert_eq!(at(11).time_limit().map(|d| d.as_micros()), Some(575));
        assert_eq!(at(100).time_limit(), None);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        assert!(Eviction::resolve(None, Some("lru"), None, None, None, None).is_err());
        assert!(Eviction::resolve(None, None, Some(0), None, None, None).is_err());
        assert!(Eviction::resolve(None, None, Some(65), None, None, None).is_ok());
        assert!(Eviction::resolve(None, None, None, Some(101), None, None).is_err());
        let ok = Eviction::resolve(
            Some(1 << 20),
            Some("ALLKEYS-LFU"),
            Some(10),
            None,
            None,
            None,
        );
        assert_eq!(ok.ok().map(|e| e.policy), Some(Policy::AllKeysLfu));
    }
}
