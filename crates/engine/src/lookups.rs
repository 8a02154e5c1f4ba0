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

thread_local! {
    static HITS: Cell<u64> = const { Cell::new(0) };
    static MISSES: Cell<u64> = const { Cell::new(0) };
    /// While above 0, lookups are not counted (`quietly`).
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// A lookup found its key (`true`) or not.
pub(crate) fn record(found: bool) {
    if QUIET.try_with(Cell::get).unwrap_or(0) != 0 {
        return;
    }
    let counter = if found { &HITS } else { &MISSES };
    let _ = counter.try_with(|c| c.set(c.get().wrapping_add(1)));
}

/// Runs `f` without counting its lookups: a command that reads a key
/// twice (a check of every key's type, then the work) counts it once, as
/// Redis's single lookup does, and a write's lookups are not counted.
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    struct Loud;
    impl Drop for Loud {
        fn drop(&mut self) {
            let _ = QUIET.try_with(|q| q.set(q.get().saturating_sub(1)));
        }
    }
    let _ = QUIET.try_with(|q| q.set(q.get().saturating_add(1)));
    let _loud = Loud;
    f()
}

/// This thread's hits and misses since it last took them, zeroing them.
pub fn take() -> (u64, u64) {
    let hits = HITS.try_with(|c| c.replace(0)).unwrap_or(0);
    let misses = MISSES.try_with(|c| c.replace(0)).unwrap_or(0);
    (hits, misses)
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
