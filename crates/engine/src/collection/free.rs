//! Freeing big collections away from the thread that lets them go.
//!
//! Owns the `tandem-free` thread and its queue (Redis's lazy free). An
//! entry that lets go of a collection (DEL, an overwrite, expiry, FLUSH)
//! hands it to `release`: a small one is freed at once, a big one (at
//! least `BIG` bytes, millions of allocations for a 10M-element set) is
//! queued for the thread, so neither the shard lock nor the serving
//! thread waits for its free. It must never lose a collection: a full
//! queue, or a thread that could not start or has died, frees it where
//! it is (slower, never wrong), and the death is logged once.

use super::Collection;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// A collection this big (bytes, `Collection::footprint`) is freed on the
/// thread.
const BIG: usize = 64 * 1024;

/// Collections waiting at most; past it, the caller frees its own.
const QUEUE: usize = 1024;

enum Job {
    /// A collection to free, with its footprint when queued.
    Free(Box<Collection>, usize),
    /// Answered once every job queued before it is done.
    Drained(flume::Sender<()>),
}

static QUEUE_TX: OnceLock<Option<flume::Sender<Job>>> = OnceLock::new();
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// The footprints of the collections queued: memory about to come back,
/// which a memory bound should not evict keys for.
static PENDING_BYTES: AtomicUsize = AtomicUsize::new(0);
static DIED: AtomicBool = AtomicBool::new(false);

fn start() -> Option<flume::Sender<Job>> {
    let (tx, rx) = flume::bounded::<Job>(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("tandem-free".into())
        .spawn(move || {
            for job in rx.iter() {
                match job {
                    Job::Free(c, bytes) => {
                        drop(c);
                        PENDING_BYTES.fetch_sub(bytes, Ordering::Relaxed);
                        PENDING.fetch_sub(1, Ordering::Relaxed);
                    }
                    Job::Drained(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::error!("could not start tandem-free ({e}): big values are freed inline");
            None
        }
    }
}

/// Frees `c`: here if it is small, on the `tandem-free` thread if big.
pub(crate) fn release(c: Box<Collection>) {
    let bytes = c.footprint();
    if bytes < BIG {
        return drop(c);
    }
    let Some(tx) = QUEUE_TX.get_or_init(start) else {
        return drop(c);
    };
    PENDING.fetch_add(1, Ordering::Relaxed);
    PENDING_BYTES.fetch_add(bytes, Ordering::Relaxed);
    match tx.try_send(Job::Free(c, bytes)) {
        Ok(()) => {}
        Err(e) => {
            PENDING_BYTES.fetch_sub(bytes, Ordering::Relaxed);
            PENDING.fetch_sub(1, Ordering::Relaxed);
            if matches!(e, flume::TrySendError::Disconnected(_))
                && !DIED.swap(true, Ordering::Relaxed)
            {
                tracing::error!("tandem-free died: big values are freed inline from now on");
            }
            drop(e.into_inner());
        }
    }
}

/// Big collections queued and not yet freed (Redis's
/// `lazyfree_pending_objects`).
pub fn pending() -> usize {
    PENDING.load(Ordering::Relaxed)
}

/// The bytes (footprints) of the big collections queued and not yet
/// freed.
pub fn pending_bytes() -> usize {
    PENDING_BYTES.load(Ordering::Relaxed)
}

/// Returns once every collection queued before the call is freed (for
/// tests and shutdown); at once if the thread never started or died.
pub fn drained() {
    let Some(Some(tx)) = QUEUE_TX.get() else {
        return;
    };
    let (done_tx, done_rx) = flume::bounded(1);
    if tx.send(Job::Drained(done_tx)).is_ok() {
        let _ = done_rx.recv();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::Set;

    #[test]
    fn big_collections_go_to_the_thread_and_are_all_freed() {
        let small = Box::new(Collection::Set(Set::default()));
        release(small);
        for round in 0..3 {
            let mut s = Set::default();
            for i in 0..10_000 {
                s.insert(format!("m{round}-{i}").as_bytes(), 512);
            }
            let c = Box::new(Collection::Set(s));
            assert!(c.footprint() >= BIG);
            release(c);
        }
        drained();
        assert_eq!(pending(), 0);
        assert_eq!(pending_bytes(), 0);
        assert!(
            QUEUE_TX.get().is_some_and(Option::is_some),
            "the thread started"
        );
    }
}
