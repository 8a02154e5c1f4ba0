//! The resizer: the background thread that measures each keyspace's load,
//! asks the policy, and carries out its decisions.
//!
//! Owns the loop and each keyspace's measuring state. Every keyspace is
//! measured on its own policy's interval; the thread sleeps until the
//! next one is due. A resize runs to completion in paced steps (requests
//! take some of them; see `resize`, "Pacing"), so while one keyspace
//! resizes the others' measures wait; their next interval is measured
//! over the longer time, so the rates stay right. It holds the keyspaces
//! only while awake, and ends when its bell closes (the last `Background`
//! handle went).

use super::policy::{decide, Load, ResizePolicy, ResizeReason};
use super::Keyspace;
use crate::memtable::{Alarm, Woken};
use std::sync::Arc;
use std::time::Instant;

/// The current layout's lock waits so far: how many, and each active
/// shard's time spent waiting.
struct Sample {
    layout: u64,
    waits: u64,
    nanos: Vec<u64>,
}

fn sample(ks: &Keyspace) -> Sample {
    let layout = ks.layout();
    let mut waits = 0;
    let nanos = layout
        .active
        .iter()
        .map(|s| {
            let c = s.counters();
            waits += c.read_waits + c.write_waits;
            c.wait_nanos
        })
        .collect();
    Sample {
        layout: layout.id,
        waits,
        nanos,
    }
}

/// Seconds waited per second between `before` and `after` (one layout's),
/// over every shard but the one waited on most. A hot key keeps its one
/// shard's lock busy however many shards there are: growing would move
/// every key and leave those waits as they were, so they do not count.
fn spread_wait_share(before: &Sample, after: &Sample, secs: f64) -> f64 {
    let deltas = after
        .nanos
        .iter()
        .zip(&before.nanos)
        .map(|(a, b)| a.saturating_sub(*b));
    let (sum, max) = deltas.fold((0u64, 0u64), |(s, m), d| (s.saturating_add(d), m.max(d)));
    (sum - max) as f64 / 1e9 / secs
}

/// One keyspace's measuring state.
struct Gauge {
    /// The keyspace's id in its `Background`.
    id: u64,
    policy: ResizePolicy,
    /// When the next measure is due.
    due: Instant,
    last: Instant,
    /// The waits at the last measure.
    baseline: Option<Sample>,
    /// Keys at the last measure.
    keys: usize,
    /// The wait share of the last interval measured on this layout.
    last_share: Option<f64>,
    /// See `Load::share_before_growth`.
    grew_from: Option<f64>,
}

impl Gauge {
    fn new(id: u64, ks: &Keyspace, policy: ResizePolicy, now: Instant) -> Self {
        // The first interval measures contention too: a keyspace loaded
        // from its first moment should grow at the first decision.
        Self {
            id,
            policy,
            due: now + policy.interval,
            last: now,
            baseline: Some(sample(ks)),
            keys: ks.len(),
            last_share: None,
            grew_from: None,
        }
    }

    fn measure(&mut self, ks: &Keyspace) {
        // Finish a resize someone else started (a forced one).
        ks.drain_paced();
        let now = Instant::now();
        let now_sample = sample(ks);
        let keys = ks.len();
        if ks.resizes_held() {
            // Nothing measured under a hold counts: the interval after it
            // only takes a new baseline.
            self.baseline = None;
            self.last_share = None;
            self.last = now;
            self.keys = keys;
            return;
        }
        let secs = now.duration_since(self.last).as_secs_f64().max(1e-3);
        // Counters restart with every new memtable: measure from the
        // layout's own first sample. An interval without a measure decides
        // nothing: read as "no waits", it would look idle and undo a growth.
        let measured = match &self.baseline {
            Some(before) if before.layout == now_sample.layout => Some((
                now_sample.waits.saturating_sub(before.waits) as f64 / secs,
                spread_wait_share(before, &now_sample, secs),
            )),
            _ => None,
        };
        // Over the same interval as the waits. The interval a resize ran
        // in decides nothing (no baseline), so the keys DBSIZE counts
        // twice during a migration (shadowed copies) never make a rate.
        let keys_per_sec = (keys as f64 - self.keys as f64) / secs;
        self.baseline = Some(now_sample);
        self.last = now;
        self.keys = keys;
        let Some((waits_per_sec, share)) = measured else {
            self.last_share = None;
            return;
        };
        // A wait is counted when it ends: one long wait (behind a busy
        // script, a FLUSHALL) puts all its time in one interval. Only a
        // share held over two intervals grows the keyspace; the first on
        // a layout can only keep it from shrinking.
        let wait_share = match self.last_share.replace(share) {
            Some(last) => {
                let held = last.min(share);
                if held <= self.policy.grow_wait_share {
                    self.grew_from = None;
                }
                held
            }
            None => share.min(self.policy.grow_wait_share),
        };
        let load = Load {
            shards: ks.layout().active.count(),
            keys,
            keys_per_sec,
            waits_per_sec,
            wait_share,
            share_before_growth: self.grew_from,
            since_last_resize: ks.since_last_resize(),
        };
        if let Some(decision) = decide(&self.policy, &load) {
            if ks.begin_resize(decision.to, decision.reason) {
                ks.drain_paced();
                self.baseline = None;
                self.last_share = None;
                self.grew_from = (decision.reason == ResizeReason::Growth
                    && wait_share > self.policy.grow_wait_share)
                    .then_some(wait_share);
            }
        }
    }
}

/// The resizer thread's loop over the keyspaces `keyspaces` returns (with
/// their ids; called once a round, so keyspaces that joined since are
/// measured). Returns when `bell` closes.
pub(crate) fn run(mut keyspaces: impl FnMut() -> Vec<(u64, Arc<Keyspace>)>, bell: &Alarm) {
    let mut gauges: Vec<Gauge> = Vec::new();
    loop {
        let all = keyspaces();
        // Forget keyspaces that are gone; start measuring new ones.
        gauges.retain(|g| all.iter().any(|(id, _)| *id == g.id));
        for (id, ks) in &all {
            if let (None, Some(policy)) = (gauges.iter().find(|g| g.id == *id), ks.policy) {
                gauges.push(Gauge::new(*id, ks, policy, Instant::now()));
            }
        }
        for (id, ks) in &all {
            if let Some(gauge) = gauges.iter_mut().find(|g| g.id == *id) {
                if Instant::now() >= gauge.due {
                    gauge.measure(ks);
                    gauge.due = Instant::now() + gauge.policy.interval;
                }
            }
        }
        drop(all);
        let until = gauges.iter().map(|g| g.due).min();
        if bell.sleep(until) == Woken::Closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(nanos: &[u64]) -> Sample {
        Sample {
            layout: 1,
            waits: 0,
            nanos: nanos.to_vec(),
        }
    }

    /// An empty keyspace of 32 shards, which the policy would shrink at
    /// once, is left alone while held; after the hold, the first measure
    /// only takes a baseline and the next decides again.
    #[test]
    fn a_held_keyspace_is_left_alone() {
        let policy = ResizePolicy {
            min_shards: 1,
            cooldown: std::time::Duration::ZERO,
            // The resizer thread never measures in this test: it would race
            // the measures made here.
            interval: std::time::Duration::from_secs(3600),
            ..ResizePolicy::default()
        };
        let db = crate::Db::new(
            crate::Options::default()
                .resize_policy(policy)
                .migration_share(1.0),
        );
        db.resize(32);
        let ks = db.keyspace();
        let mut gauge = Gauge::new(1, ks, policy, Instant::now());
        let shards = |ks: &Keyspace| ks.layout().active.count();
        let hold = db.hold_resizes();
        gauge.measure(ks);
        gauge.measure(ks);
        assert_eq!(shards(ks), 32, "held");
        drop(hold);
        gauge.measure(ks);
        assert_eq!(shards(ks), 32, "the measure after a hold decides nothing");
        gauge.measure(ks);
        assert!(shards(ks) < 32, "shrinks once measured again");
    }

    #[test]
    fn the_most_waited_on_shard_does_not_count() {
        let before = at(&[0, 0, 0, 0]);
        // One hot shard: nothing left once it is set aside.
        let hot = at(&[900_000_000, 1_000_000, 0, 0]);
        assert!((spread_wait_share(&before, &hot, 1.0) - 0.001).abs() < 1e-12);
        // Waits spread over the shards: all but the largest count.
        let spread = at(&[300_000_000, 200_000_000, 200_000_000, 100_000_000]);
        assert!((spread_wait_share(&before, &spread, 2.0) - 0.25).abs() < 1e-12);
        // Counters only go up; a smaller value reads as no waits.
        assert_eq!(spread_wait_share(&hot, &before, 1.0), 0.0);
    }
}
