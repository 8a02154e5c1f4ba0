//! The resizer: a background thread that measures load, asks the policy,
//! and carries out its decisions.
//!
//! Owns the loop. Each interval it measures keys and lock waits, calls
//! `policy::decide`, and runs any resize to completion in paced steps
//! (requests take some of them; see `resize`, "Pacing"). It holds only a
//! weak reference between intervals: when the last `Db` handle is dropped,
//! the thread notices and ends.

use super::policy::{decide, Load, ResizePolicy};
use super::Keyspace;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Starts the resizer for `ks` if it has a policy.
pub(crate) fn spawn(ks: &Arc<Keyspace>) {
    let Some(policy) = ks.policy else {
        return;
    };
    let weak = Arc::downgrade(ks);
    // If the thread cannot be started the keyspace works, just without
    // resizing itself; there is no one to report that to here.
    let _ = std::thread::Builder::new()
        .name("tandem-resizer".into())
        .spawn(move || run(&weak, &policy));
}

/// Lock waits so far in the current layout's active memtable.
fn waits(ks: &Keyspace) -> (u64, u64) {
    let layout = ks.layout();
    let total = layout
        .active
        .iter()
        .map(|s| {
            let c = s.counters();
            c.read_waits + c.write_waits
        })
        .sum();
    (layout.id, total)
}

fn run(weak: &Weak<Keyspace>, policy: &ResizePolicy) {
    let mut last = Instant::now();
    // The first interval measures contention too: a keyspace loaded from
    // its first moment should grow at the first decision.
    let mut baseline = weak.upgrade().map(|ks| waits(&ks));
    loop {
        std::thread::sleep(policy.interval);
        let Some(ks) = weak.upgrade() else {
            return;
        };
        // Finish a resize someone else started (a forced one).
        ks.drain_paced();
        let now = Instant::now();
        let (layout, total) = waits(&ks);
        // Counters restart with every new memtable: measure from the
        // layout's own first sample. An interval without a measure decides
        // nothing: read as "no waits", it would look idle and undo a growth.
        let measured = match baseline {
            Some((id, before)) if id == layout => Some(
                total.saturating_sub(before) as f64
                    / now.duration_since(last).as_secs_f64().max(1e-3),
            ),
            _ => None,
        };
        baseline = Some((layout, total));
        last = now;
        let Some(waits_per_sec) = measured else {
            continue;
        };
        let load = Load {
            shards: ks.layout().active.count(),
            keys: ks.len(),
            waits_per_sec,
            since_last_resize: ks.since_last_resize(),
        };
        if let Some(decision) = decide(policy, &load) {
            if ks.begin_resize(decision.to, decision.reason) {
                ks.drain_paced();
                baseline = None;
            }
        }
    }
}
