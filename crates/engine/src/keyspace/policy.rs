//! When to resize: a pure decision, apart from the mechanism.
//!
//! Owns the rule `decide(&policy, &load) -> Option<Resize>`. It reads no
//! clock and takes no lock, so it can be tested with numbers alone; the
//! resizer thread measures the load and carries out the decision.
//!
//! The shard count moves like a staircase, doubling and halving. Load is
//! measured two ways: keys per shard (a big shard means long scans of it
//! and big trees) and contention (lock acquisitions per second that had to
//! wait). Hysteresis keeps growth and shrinking apart: the shrink threshold
//! sits well below half the grow threshold, so a halving never lands above
//! the grow line and a doubling never below the shrink line. A cooldown
//! after each resize keeps a passing lull from shrinking it at once.
//! Growth does not wait: the resizer measures contention afresh on each
//! new layout over a full interval, and a keyspace under load should climb
//! the staircase while each step is still cheap (a migration moves every
//! key once).

use std::time::Duration;

/// Why a resize happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResizeReason {
    /// Load per shard passed the grow threshold.
    Growth,
    /// Load per shard fell below the shrink threshold.
    Shrink,
    /// An operator or test asked for it.
    Forced,
}

impl ResizeReason {
    /// A short name for stats and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ResizeReason::Growth => "growth",
            ResizeReason::Shrink => "shrink",
            ResizeReason::Forced => "forced",
        }
    }
}

/// A decision to resize to `to` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// The target shard count.
    pub to: usize,
    /// Why.
    pub reason: ResizeReason,
}

/// The thresholds a keyspace resizes by. `Options::resize_policy` sets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResizePolicy {
    /// Never fewer shards than this (default 1).
    pub min_shards: usize,
    /// Never more shards than this (default 1024).
    pub max_shards: usize,
    /// Grow when a shard holds more keys than this on average (65,536).
    pub grow_keys_per_shard: usize,
    /// Shrink only below this many keys per shard (8,192).
    pub shrink_keys_per_shard: usize,
    /// Grow when lock acquisitions that waited exceed this many per second
    /// per shard (10,000: about 1% of what one shard serves; two threads
    /// writing 16 shards already wait ~2,000 times a second per shard, too
    /// little to be worth moving every key).
    pub grow_waits_per_sec: f64,
    /// Shrink only below this many waits per second per shard (100).
    pub shrink_waits_per_sec: f64,
    /// No shrink within this long of the last resize ending (200 ms).
    pub cooldown: Duration,
    /// How often the resizer measures the load (50 ms).
    pub interval: Duration,
}

impl Default for ResizePolicy {
    fn default() -> Self {
        Self {
            min_shards: 1,
            max_shards: 1024,
            grow_keys_per_shard: 65_536,
            shrink_keys_per_shard: 8_192,
            grow_waits_per_sec: 10_000.0,
            shrink_waits_per_sec: 100.0,
            cooldown: Duration::from_millis(200),
            interval: Duration::from_millis(50),
        }
    }
}

/// What the resizer measured over its last interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Shards in the active memtable.
    pub shards: usize,
    /// Keys in the keyspace.
    pub keys: usize,
    /// Lock acquisitions that had to wait, per second, over all shards.
    pub waits_per_sec: f64,
    /// Time since the last resize ended (or since start).
    pub since_last_resize: Duration,
}

/// Whether to resize, and to what.
pub fn decide(policy: &ResizePolicy, load: &Load) -> Option<Resize> {
    if load.shards == 0 {
        return None;
    }
    let shards = load.shards;
    let keys_per_shard = load.keys / shards;
    let waits_per_shard = load.waits_per_sec / shards as f64;
    let cooled = load.since_last_resize >= policy.cooldown;
    let full = keys_per_shard > policy.grow_keys_per_shard;
    let contended = waits_per_shard > policy.grow_waits_per_sec;
    if (full || contended) && shards < policy.max_shards {
        return Some(Resize {
            to: (shards * 2).min(policy.max_shards),
            reason: ResizeReason::Growth,
        });
    }
    let idle = keys_per_shard < policy.shrink_keys_per_shard
        && waits_per_shard < policy.shrink_waits_per_sec
        && cooled;
    if idle && shards > policy.min_shards {
        return Some(Resize {
            to: (shards / 2).max(policy.min_shards),
            reason: ResizeReason::Shrink,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(shards: usize, keys: usize, waits_per_sec: f64) -> Load {
        Load {
            shards,
            keys,
            waits_per_sec,
            since_last_resize: Duration::from_secs(10),
        }
    }

    fn to(r: Option<Resize>) -> Option<(usize, ResizeReason)> {
        r.map(|r| (r.to, r.reason))
    }

    #[test]
    fn grows_on_keys_or_contention_and_shrinks_when_idle() {
        let p = ResizePolicy::default();
        assert_eq!(
            to(decide(&p, &load(1, 100_000, 0.0))),
            Some((2, ResizeReason::Growth))
        );
        assert_eq!(
            to(decide(&p, &load(4, 1_000, 50_000.0))),
            Some((8, ResizeReason::Growth))
        );
        assert_eq!(
            to(decide(&p, &load(8, 1_000, 10.0))),
            Some((4, ResizeReason::Shrink))
        );
        assert_eq!(
            decide(&p, &load(8, 200_000, 1_000.0)),
            None,
            "busy but within bounds"
        );
    }

    #[test]
    fn respects_bounds() {
        let p = ResizePolicy {
            min_shards: 2,
            max_shards: 16,
            ..ResizePolicy::default()
        };
        assert_eq!(decide(&p, &load(16, 10_000_000, 1e9)), None);
        assert_eq!(decide(&p, &load(2, 0, 0.0)), None);
        let p = ResizePolicy {
            max_shards: 12,
            ..ResizePolicy::default()
        };
        assert_eq!(
            to(decide(&p, &load(8, 10_000_000, 0.0))),
            Some((12, ResizeReason::Growth))
        );
    }

    #[test]
    fn cooldown_blocks_shrinks_but_not_growth() {
        let p = ResizePolicy::default();
        let recent = |mut l: Load| {
            l.since_last_resize = Duration::from_millis(10);
            l
        };
        assert_eq!(decide(&p, &recent(load(8, 1_000, 0.0))), None);
        assert_eq!(
            to(decide(&p, &recent(load(1, 1_000_000, 0.0)))),
            Some((2, ResizeReason::Growth))
        );
        assert_eq!(
            to(decide(&p, &recent(load(4, 1_000, 1e6)))),
            Some((8, ResizeReason::Growth))
        );
    }

    /// Hysteresis: from any key count, applying decisions until none is
    /// left stops at one shard count; it never alternates between two.
    #[test]
    fn key_driven_decisions_do_not_flap() {
        let p = ResizePolicy::default();
        for keys in [0, 5_000, 60_000, 70_000, 500_000, 3_000_000, 80_000_000] {
            for start in [1, 2, 16, 1024] {
                let mut shards: usize = start;
                let mut seen = vec![shards];
                while let Some(r) = decide(&p, &load(shards, keys, 0.0)) {
                    shards = r.to;
                    assert!(
                        !seen.contains(&shards),
                        "flapped at {keys} keys: {seen:?} -> {shards}"
                    );
                    seen.push(shards);
                }
                let per = keys / shards;
                assert!(per <= p.grow_keys_per_shard || shards == p.max_shards);
                assert!(per >= p.shrink_keys_per_shard || shards == p.min_shards);
            }
        }
    }
}
