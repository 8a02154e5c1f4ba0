//! When to resize: a pure decision, apart from the mechanism.
//!
//! Owns the rule `decide(&policy, &load) -> Option<Resize>`. It reads no
//! clock and takes no lock, so it can be tested with numbers alone; the
//! resizer thread measures the load and carries out the decision.
//!
//! Load is measured two ways: keys per shard (a big shard means long scans
//! of it and big trees) and contention: lock acquisitions per second that
//! had to wait, and the time spent waiting. The count alone misses locks
//! held long: a script or a transaction over four keys holds four shards
//! while it runs, and two threads running them over 16 shards spent 0.7 s
//! of every second waiting on only ~2,000 waits a second per shard (see
//! BENCHMARKS.md, "Scripting: issue 17, third part"). Time waited on the
//! most waited-on shard is left out (see `resizer.rs`): a hot key's waits
//! stay whatever the shard count. The share must hold over two intervals
//! (a wait is counted when it ends, so one long one lands in a single
//! interval), and a doubling it caused must have cut it by a quarter
//! before it may cause another: waits that more shards do not spread (a
//! second hot key) stop growth after one doubling, not at the ceiling. Keys are judged by where they are heading, not only where
//! they are: the keys now plus what the current insert rate adds over
//! `lookahead` (2 s). A migration moves every key present when it starts,
//! so growing while the keyspace is small is cheap and growing late is
//! dear: a keyspace filling at 700,000 keys a second from empty used to
//! climb 1, 2, 4, ... 64 one doubling at a time, each behind the load,
//! moving 7.5M keys to hold 2.9M; sized ahead, it jumps from 1 to 32
//! shards at its first measure (moving the few keys it has) and to 64 once.
//!
//! A growth goes straight to the smallest doubling of the shard count that
//! holds the projected keys under the grow threshold; contention alone
//! doubles. A shrink goes to the largest halving whose shards hold at most
//! twice the shrink threshold. Hysteresis keeps the two apart: a shrink
//! lands well under the grow threshold and a growth well over the shrink
//! one, so neither undoes the other. A cooldown after each resize keeps a
//! passing lull from shrinking it at once, and a keyspace still filling
//! (its projection above the shrink line) never shrinks. Growth does not
//! wait: the resizer measures afresh on each new layout over a full
//! interval.

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
    /// Shrink only below this many keys per shard (1,024). Low, because a
    /// shrink moves every key present and an underfilled shard costs little
    /// (a few hundred bytes, one more unit in a scan): at 8,192, a keyspace
    /// that growth had sized for a burst that then stopped shrank with all
    /// its keys still there, and the grow benchmark's delete windows fell
    /// to 0.65 of the median at 2 threads.
    pub shrink_keys_per_shard: usize,
    /// Grow when lock acquisitions that waited exceed this many per second
    /// per shard (10,000: about 1% of what one shard serves; two threads
    /// writing 16 shards already wait ~2,000 times a second per shard, too
    /// little to be worth moving every key).
    pub grow_waits_per_sec: f64,
    /// Shrink only below this many waits per second per shard (100).
    pub shrink_waits_per_sec: f64,
    /// Grow when threads together (serving threads, and the background
    /// ones that lock shards) spend more than this share of each second
    /// waiting for shard locks, the most waited-on shard left out (0.25:
    /// a quarter of one thread's time).
    pub grow_wait_share: f64,
    /// Shrink only below this share (0.02), and never to fewer shards
    /// than would bring it, spread over them, to half `grow_wait_share`.
    pub shrink_wait_share: f64,
    /// No shrink within this long of the last resize ending (200 ms).
    pub cooldown: Duration,
    /// How often the resizer measures the load (50 ms).
    pub interval: Duration,
    /// How far ahead growth sizes for: the keys the current insert rate
    /// adds over this long count as if already there (2 s; zero sizes for
    /// the keys present only).
    pub lookahead: Duration,
}

impl Default for ResizePolicy {
    fn default() -> Self {
        Self {
            min_shards: 1,
            max_shards: 1024,
            grow_keys_per_shard: 65_536,
            shrink_keys_per_shard: 1_024,
            grow_waits_per_sec: 10_000.0,
            shrink_waits_per_sec: 100.0,
            grow_wait_share: 0.25,
            shrink_wait_share: 0.02,
            cooldown: Duration::from_millis(200),
            interval: Duration::from_millis(50),
            lookahead: Duration::from_secs(2),
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
    /// How fast the key count changed over the interval, per second
    /// (negative when keys go).
    pub keys_per_sec: f64,
    /// Lock acquisitions that had to wait, per second, over all shards.
    pub waits_per_sec: f64,
    /// Seconds spent waiting for shard locks per second, over all shards
    /// but the most waited-on one: the lower of the last two intervals'.
    pub wait_share: f64,
    /// `wait_share` when it last caused a growth, while it has stayed
    /// above `grow_wait_share` since.
    pub share_before_growth: Option<f64>,
    /// Time since the last resize ended (or since start).
    pub since_last_resize: Duration,
}

/// How much a wait-driven doubling must have cut the wait share (to this
/// fraction of it) before the share may cause another.
const HELPED: f64 = 0.75;

/// Whether to resize, and to what.
pub fn decide(policy: &ResizePolicy, load: &Load) -> Option<Resize> {
    if load.shards == 0 {
        return None;
    }
    let shards = load.shards;
    let coming = load.keys_per_sec.max(0.0) * policy.lookahead.as_secs_f64();
    // `as` saturates: an absurd rate projects to usize::MAX, not a wrap.
    let projected = load.keys.saturating_add(coming as usize);
    let waits_per_shard = load.waits_per_sec / shards as f64;
    let full = projected / shards > policy.grow_keys_per_shard;
    let waiting = load.wait_share > policy.grow_wait_share
        && load
            .share_before_growth
            .is_none_or(|before| load.wait_share <= before * HELPED);
    let contended = waits_per_shard > policy.grow_waits_per_sec || waiting;
    if (full || contended) && shards < policy.max_shards {
        let mut to = shards.saturating_mul(2);
        while projected / to > policy.grow_keys_per_shard && to < policy.max_shards {
            to = to.saturating_mul(2);
        }
        return Some(Resize {
            to: to.min(policy.max_shards),
            reason: ResizeReason::Growth,
        });
    }
    let idle = projected / shards < policy.shrink_keys_per_shard
        && waits_per_shard < policy.shrink_waits_per_sec
        && load.wait_share < policy.shrink_wait_share
        && load.since_last_resize >= policy.cooldown;
    if idle && shards > policy.min_shards {
        // Halve while the halves would hold at most twice the shrink
        // threshold: idle means one halving always qualifies.
        let landing = policy.shrink_keys_per_shard.saturating_mul(2);
        let mut to = shards / 2;
        while to / 2 >= policy.min_shards.max(1) && projected / (to / 2) <= landing {
            to /= 2;
        }
        let mut to = to.max(policy.min_shards).max(1);
        // The waits left, spread over fewer shards, grow about as the
        // shards fall: land where they would not grow it back.
        while to < shards
            && load.wait_share * shards as f64 / to as f64 >= policy.grow_wait_share / 2.0
        {
            to = to.saturating_mul(2);
        }
        return (to < shards).then_some(Resize {
            to,
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
            keys_per_sec: 0.0,
            waits_per_sec,
            wait_share: 0.0,
            share_before_growth: None,
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
            to(decide(&p, &load(8, 5_000, 10.0))),
            Some((4, ResizeReason::Shrink))
        );
        assert_eq!(
            decide(&p, &load(8, 200_000, 1_000.0)),
            None,
            "busy but within bounds"
        );
    }

    #[test]
    fn grows_when_threads_spend_time_waiting() {
        let p = ResizePolicy::default();
        let waiting = |shards, keys, share| Load {
            wait_share: share,
            ..load(shards, keys, 2_000.0 * shards as f64)
        };
        // Four-key scripts on two threads over 16 shards (measured 0.72).
        assert_eq!(
            to(decide(&p, &waiting(16, 100_000, 0.72))),
            Some((32, ResizeReason::Growth))
        );
        assert_eq!(decide(&p, &waiting(16, 100_000, 0.1)), None);
        // Waiting at all keeps a keyspace that could shrink by its keys.
        let quiet = |share| Load {
            wait_share: share,
            ..load(128, 10_000, 0.0)
        };
        assert_eq!(decide(&p, &quiet(0.05)), None);
        assert_eq!(to(decide(&p, &quiet(0.0))), Some((8, ResizeReason::Shrink)));
        // A little waiting left: the shrink stops where it would not grow
        // back (0.01 over 16 of 128 shards reads as 0.08, under 0.125).
        assert_eq!(
            to(decide(&p, &quiet(0.01))),
            Some((16, ResizeReason::Shrink))
        );
    }

    #[test]
    fn a_growth_that_did_not_help_is_not_repeated() {
        let p = ResizePolicy::default();
        let after = |share, before| Load {
            wait_share: share,
            share_before_growth: Some(before),
            ..load(32, 100_000, 0.0)
        };
        // 0.72 led to the last doubling: 0.5 now means it helped.
        assert_eq!(
            to(decide(&p, &after(0.5, 0.72))),
            Some((64, ResizeReason::Growth))
        );
        // 0.7 means it did not: waits more shards do not spread.
        assert_eq!(decide(&p, &after(0.7, 0.72)), None);
        // Keys still grow it.
        let full = Load {
            keys: 10_000_000,
            ..after(0.7, 0.72)
        };
        assert_eq!(to(decide(&p, &full)), Some((256, ResizeReason::Growth)));
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
        // A million keys on one shard: straight to the 16 that hold them.
        assert_eq!(
            to(decide(&p, &recent(load(1, 1_000_000, 0.0)))),
            Some((16, ResizeReason::Growth))
        );
        assert_eq!(
            to(decide(&p, &recent(load(4, 1_000, 1e6)))),
            Some((8, ResizeReason::Growth))
        );
    }

    fn filling(shards: usize, keys: usize, keys_per_sec: f64) -> Load {
        Load {
            keys_per_sec,
            ..load(shards, keys, 0.0)
        }
    }

    #[test]
    fn a_filling_keyspace_grows_ahead_of_its_keys_in_one_step() {
        let p = ResizePolicy::default();
        // 35,000 keys arriving at 700,000 a second: 1.435M in 2 s, which
        // 32 shards hold under 65,536 each; 16 would not.
        assert_eq!(
            to(decide(&p, &filling(1, 35_000, 700_000.0))),
            Some((32, ResizeReason::Growth))
        );
        // Without the rate, the same keys fit one shard.
        assert_eq!(decide(&p, &filling(1, 35_000, 0.0)), None);
        // Deletes project nothing below the keys present.
        assert_eq!(decide(&p, &filling(1, 35_000, -1e9)), None);
        // At 32 shards the same rate asks for 64 once 700,000 keys are in.
        assert_eq!(decide(&p, &filling(32, 690_000, 700_000.0)), None);
        assert_eq!(
            to(decide(&p, &filling(32, 720_000, 700_000.0))),
            Some((64, ResizeReason::Growth))
        );
        // An absurd rate stops at the ceiling, without overflow.
        assert_eq!(
            to(decide(&p, &filling(1, 10, f64::MAX))),
            Some((1024, ResizeReason::Growth))
        );
        let none_ahead = ResizePolicy {
            lookahead: Duration::ZERO,
            ..p
        };
        assert_eq!(decide(&none_ahead, &filling(1, 35_000, 700_000.0)), None);
    }

    #[test]
    fn shrinks_in_one_step_but_not_while_filling() {
        let p = ResizePolicy::default();
        // 12,000 keys on 64 shards: 8 shards hold 1,500 each, at most
        // twice the shrink threshold; 4 would hold 3,000. At 100,000 keys
        // (1,562 a shard) it keeps its shards: a shrink would move them all.
        assert_eq!(
            to(decide(&p, &load(64, 12_000, 0.0))),
            Some((8, ResizeReason::Shrink))
        );
        assert_eq!(decide(&p, &load(64, 100_000, 0.0)), None);
        // Emptied (FLUSHALL): straight down to the minimum.
        assert_eq!(
            to(decide(&p, &load(64, 0, 0.0))),
            Some((1, ResizeReason::Shrink))
        );
        // Emptied but filling again: keep the shards the load will need.
        assert_eq!(decide(&p, &filling(64, 0, 700_000.0)), None);
        let floor = ResizePolicy { min_shards: 4, ..p };
        assert_eq!(
            to(decide(&floor, &load(64, 0, 0.0))),
            Some((4, ResizeReason::Shrink))
        );
        // A policy built by hand with no minimum still never asks for zero.
        let zero = ResizePolicy { min_shards: 0, ..p };
        assert_eq!(
            to(decide(&zero, &load(2, 0, 0.0))),
            Some((1, ResizeReason::Shrink))
        );
        assert_eq!(decide(&zero, &load(1, 0, 0.0)), None);
    }

    /// Hysteresis: from any key count and insert rate, applying decisions
    /// until none is left stops at one shard count; it never alternates
    /// between two.
    #[test]
    fn key_driven_decisions_do_not_flap() {
        let p = ResizePolicy::default();
        for (keys, rate) in [0, 5_000, 60_000, 70_000, 500_000, 3_000_000, 80_000_000]
            .into_iter()
            .flat_map(|k| [(k, 0.0), (k, 10_000.0), (k, 1e6)])
        {
            for start in [1, 2, 3, 16, 1024] {
                let mut shards: usize = start;
                let mut seen = vec![shards];
                while let Some(r) = decide(&p, &filling(shards, keys, rate)) {
                    shards = r.to;
                    assert!(
                        !seen.contains(&shards),
                        "flapped at {keys} keys: {seen:?} -> {shards}"
                    );
                    seen.push(shards);
                }
                let projected = keys + (rate * 2.0) as usize;
                assert!(projected / shards <= p.grow_keys_per_shard || shards == p.max_shards);
                assert!(projected / shards >= p.shrink_keys_per_shard || shards == p.min_shards);
            }
        }
    }
}
