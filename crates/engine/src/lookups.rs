//! Keyspace hits and misses (Redis's `keyspace_hits`, `keyspace_misses`):
//! read lookups that found their key, and those that did not, counted
//! per thread.
//!
//! Owns the counting. A count is a thread-local add, no shared write:
//! the server takes the calling thread's counts after each command
//! (`take`) into its own per-thread tables, so they are summed with the
//! rest of its statistics. Counted: lookups for reading that count as an
//! access (GET, the collections' reads, MGET's keys), and EXISTS and
//! TYPE, as Redis counts them; writes' lookups are not, as in Redis.
//! It must never be read from another thread: a thread's counts are its
//! own until it takes them.

use std::cell::Cell;

/// This thread's counts, in one thread-local so that a lookup costs one
/// access to it, not one per counter.
struct Counts {
    hits: Cell<u64>,
    misses: Cell<u64>,
    /// While above 0, lookups are not counted (`quietly`).
    quiet: Cell<u32>,
}

thread_local! {
    static COUNTS: Counts = const {
        Counts {
            hits: Cell::new(0),
            misses: Cell::new(0),
            quiet: Cell::new(0),
        }
    };
}

/// A lookup found its key (`true`) or not.
pub(crate) fn record(found: bool) {
    let _ = COUNTS.try_with(|c| {
        if c.quiet.get() == 0 {
            let counter = if found { &c.hits } else { &c.misses };
            counter.set(counter.get().wrapping_add(1));
        }
    });
}

/// Runs `f` without counting its lookups: a command that reads a key
/// twice (a check of every key's type, then the work) counts it once, as
/// Redis's single lookup does, and a write's lookups are not counted.
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    struct Loud;
    impl Drop for Loud {
        fn drop(&mut self) {
            let _ = COUNTS.try_with(|c| c.quiet.set(c.quiet.get().saturating_sub(1)));
        }
    }
    let _ = COUNTS.try_with(|c| c.quiet.set(c.quiet.get().saturating_add(1)));
    let _loud = Loud;
    f()
}

/// This thread's hits and misses since it last took them, zeroing them.
pub fn take() -> (u64, u64) {
    COUNTS
        .try_with(|c| (c.hits.replace(0), c.misses.replace(0)))
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_the_threads_own_and_taken_once() {
        let _ = take();
        record(true);
        record(true);
        record(false);
        let other = std::thread::spawn(|| {
            record(true);
            take()
        });
        assert_eq!(other.join().ok(), Some((1, 0)));
        assert_eq!(take(), (2, 1));
        assert_eq!(take(), (0, 0));
        quietly(|| {
            record(true);
            quietly(|| record(false));
            record(false);
        });
        record(true);
        assert_eq!(take(), (1, 0));
    }
}
