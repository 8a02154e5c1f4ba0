//! A key's access word: when it was last used (LRU) or how often (LFU).
//!
//! Owns the meaning of the 32-bit word every entry block carries
//! (`Entry::access`), how a lookup updates it, and how eviction reads it
//! back as an idle time or a frequency. It must never take a lock or read
//! anything but the word and the clock: it runs on every lookup, under
//! the shard's read lock as often as not.
//!
//! The word is read and written with relaxed atomics and no
//! read-modify-write loop: two readers touching one key at once may lose
//! an increment of its LFU counter, as Redis's single thread never would,
//! which is noise next to the counter's own randomness.
//!
//! - **LRU**: the time of the last access, in `LRU_UNIT_MS` ticks of a
//!   coarse monotonic clock. 32 bits of 4 ms ticks wrap after 198 days
//!   (Redis's 24 bits of seconds wrap after 194); like Redis, an idle
//!   time assumes at most one wrap. Ticks of 4 ms, not Redis's second,
//!   keep sampled LRU able to tell keys apart in a cache that turns over
//!   in less than a second.
//! - **LFU**: Redis's layout, widened: the minute of the last decrement
//!   in the high 24 bits (Redis keeps 16), a logarithmic counter in the
//!   low 8, incremented with probability `1 / ((counter - 5) *
//!   lfu-log-factor + 1)` and decremented by one per `lfu-decay-time`
//!   minutes of idleness, as Redis's `LFULogIncr` and `LFUDecrAndReturn`.

use crate::entry::Entry;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::OnceLock;

/// One LRU tick in milliseconds.
pub const LRU_UNIT_MS: u64 = 4;

/// A new key's LFU counter (Redis's `LFU_INIT_VAL`): new keys get a
/// chance to be used before they look colder than anything else.
pub const LFU_INIT: u32 = 5;

/// How lookups stamp keys, as configured (Redis's `maxmemory-policy`
/// decides LRU or LFU; `lfu-log-factor`, `lfu-decay-time`).
#[derive(Debug)]
pub struct AccessRules {
    lfu: AtomicBool,
    log_factor: AtomicU32,
    decay_minutes: AtomicU32,
}

impl Default for AccessRules {
    fn default() -> Self {
        Self {
            lfu: AtomicBool::new(false),
            log_factor: AtomicU32::new(10),
            decay_minutes: AtomicU32::new(1),
        }
    }
}

impl AccessRules {
    /// Sets whether keys are stamped for LFU (else LRU), Redis's
    /// `lfu-log-factor` and `lfu-decay-time` (minutes; 0: never decay).
    pub fn set(&self, lfu: bool, log_factor: u32, decay_minutes: u32) {
        self.lfu.store(lfu, Relaxed);
        self.log_factor.store(log_factor, Relaxed);
        self.decay_minutes.store(decay_minutes, Relaxed);
    }

    /// Whether keys are stamped for LFU.
    pub fn lfu(&self) -> bool {
        self.lfu.load(Relaxed)
    }

    /// Stamps a key just created: now for LRU, the initial counter for LFU.
    pub(crate) fn stamp_new(&self, entry: &Entry) {
        let word = if self.lfu() {
            lfu_word(minutes(), LFU_INIT)
        } else {
            lru_ticks()
        };
        entry.access().store(word, Relaxed);
    }

    /// Stamps a key just created that was evicted lately and is back
    /// (`probation`'s ghost): its LFU counter starts one use above a new
    /// key's, so probation lets it pass.
    pub(crate) fn stamp_returning(&self, entry: &Entry) {
        if self.lfu() {
            entry
                .access()
                .store(lfu_word(minutes(), LFU_INIT + 1), Relaxed);
        }
    }

    /// Stamps a restored key as RESTORE's IDLETIME or FREQ asks (Redis's
    /// `objectSetLRUOrLFU`): an idle time counts only while keys are
    /// stamped for LRU, a frequency only for LFU. An idle time past what
    /// the tick clock holds is kept as the longest it holds.
    pub(crate) fn stamp_restored(&self, entry: &Entry, stamp: crate::db::Stamp) {
        use crate::db::Stamp;
        let word = match stamp {
            Stamp::IdleSeconds(s) if !self.lfu() => {
                let ticks = s.saturating_mul(1000) / LRU_UNIT_MS;
                let ticks = u32::try_from(ticks).unwrap_or(u32::MAX).min(u32::MAX - 1);
                lru_ticks().wrapping_sub(ticks)
            }
            Stamp::Frequency(f) if self.lfu() => lfu_word(minutes(), u32::from(f)),
            _ => return,
        };
        entry.access().store(word, Relaxed);
    }

    /// Whether an LFU word shows a use since its key was created (the
    /// counter above a new key's, after decay).
    pub fn used_since_new(&self, word: u32, now_minutes: u32) -> bool {
        self.decayed(word, now_minutes) > LFU_INIT
    }

    /// Records an access to `entry` (Redis's `updateLFU`, or the LRU
    /// clock stored in the object).
    pub(crate) fn touch(&self, entry: &Entry) {
        let access = entry.access();
        if !self.lfu() {
            let now = lru_ticks();
            // Skipping a store of the same tick keeps a hot key's cache
            // line clean for the other cores reading it.
            if access.load(Relaxed) != now {
                access.store(now, Relaxed);
            }
            return;
        }
        let now = minutes();
        let counter = self.decayed(access.load(Relaxed), now);
        let counter = log_incr(counter, self.log_factor.load(Relaxed));
        access.store(lfu_word(now, counter), Relaxed);
    }

    /// The LFU counter of a word after the decay its idleness earned
    /// (Redis's `LFUDecrAndReturn`): what OBJECT FREQ answers.
    pub fn decayed(&self, word: u32, now_minutes: u32) -> u32 {
        let counter = word & 0xff;
        let period = self.decay_minutes.load(Relaxed);
        if period == 0 {
            return counter;
        }
        let elapsed = minutes_between(word >> 8, now_minutes);
        counter.saturating_sub(elapsed / period)
    }
}

/// The LFU word for `counter` last decremented at minute `now`.
fn lfu_word(now: u32, counter: u32) -> u32 {
    ((now & 0x00ff_ffff) << 8) | (counter & 0xff)
}

/// Redis's `LFULogIncr`: the higher the counter, the less likely a hit
/// raises it, so 8 bits count up to about a million hits at factor 10.
fn log_incr(counter: u32, log_factor: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if fastrand::f64() < p {
        counter + 1
    } else {
        counter
    }
}

/// Minutes from `then` to `now` on the 24-bit minute clock, assuming at
/// most one wrap (Redis's `LFUTimeElapsed`).
fn minutes_between(then: u32, now: u32) -> u32 {
    let now = now & 0x00ff_ffff;
    if now >= then {
        now - then
    } else {
        0x00ff_ffff - then + now
    }
}

/// The process's reference instant for the access clocks.
fn origin() -> coarsetime::Instant {
    static ORIGIN: OnceLock<coarsetime::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(coarsetime::Instant::now_without_cache_update)
}

/// Milliseconds since the access clocks' origin, on the coarse monotonic
/// clock (a few ns to read, moving in steps of the kernel's tick, 1 to
/// 4 ms): read on every lookup, so its cost matters more than its grain.
pub fn clock_ms() -> u64 {
    coarsetime::Instant::now_without_cache_update()
        .duration_since(origin())
        .as_millis()
}

/// The LRU clock now, in ticks (wrapping at 32 bits).
pub(crate) fn lru_ticks() -> u32 {
    lru_ticks_at(clock_ms())
}

/// The LRU clock at `ms` on `clock_ms`'s scale.
pub(crate) fn lru_ticks_at(ms: u64) -> u32 {
    (ms / LRU_UNIT_MS) as u32
}

/// The LFU minute clock now (24 bits are kept).
pub fn minutes() -> u32 {
    minutes_at(clock_ms())
}

/// The LFU minute clock at `ms` on `clock_ms`'s scale.
pub(crate) fn minutes_at(ms: u64) -> u32 {
    (ms / 60_000) as u32 & 0x00ff_ffff
}

/// Milliseconds since an LRU word was stamped (Redis's
/// `estimateObjectIdleTime`, in ms), at LRU tick `now`.
pub fn idle_ms(word: u32, now: u32) -> u64 {
    // One wrap of the 32-bit tick clock at most; counted exactly (Redis's
    // formula is a tick short across a wrap, and a RESTORE's IDLETIME
    // longer than the process has run is stamped across one).
    u64::from(now.wrapping_sub(word)) * LRU_UNIT_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_counter_climbs_ever_more_slowly() {
        let mut counter = LFU_INIT;
        for _ in 0..100 {
            counter = log_incr(counter, 10);
        }
        // Below the initial value plus one, every hit counts.
        assert!(counter > LFU_INIT + 1, "{counter}");
        let mut high = 200;
        for _ in 0..100 {
            high = log_incr(high, 10);
        }
        // At 200, one hit in ~1,950 counts: 100 hits almost never do.
        assert!(high <= 201, "{high}");
        assert_eq!(log_incr(255, 10), 255);
        let mut every = LFU_INIT + 3;
        for _ in 0..10 {
            every = log_incr(every, 0);
        }
        assert_eq!(every, LFU_INIT + 13, "factor 0 counts every hit");
    }

    #[test]
    fn counters_decay_one_per_period_of_idleness() {
        let rules = AccessRules::default();
        rules.set(true, 10, 2);
        let word = lfu_word(100, 20);
        assert_eq!(rules.decayed(word, 100), 20);
        assert_eq!(rules.decayed(word, 101), 20);
        assert_eq!(rules.decayed(word, 110), 15);
        assert_eq!(rules.decayed(word, 200), 0);
        // Across the 24-bit minute clock's wrap.
        let late = lfu_word(0x00ff_fffe, 20);
        assert_eq!(rules.decayed(late, 3), 18);
        rules.set(true, 10, 0);
        assert_eq!(rules.decayed(word, 100_000), 20, "0 never decays");
    }

    #[test]
    fn idle_time_survives_one_wrap_of_the_tick_clock() {
        assert_eq!(idle_ms(10, 35), 25 * LRU_UNIT_MS);
        assert_eq!(idle_ms(u32::MAX - 5, 4), 10 * LRU_UNIT_MS);
        assert_eq!(idle_ms(7, 7), 0);
    }

    #[test]
    fn a_restored_key_takes_the_stamp_of_its_policy_only() {
        use crate::db::Stamp;
        let rules = AccessRules::default();
        let e = Entry::new(b"k", b"v", None).expect("small");
        rules.stamp_new(&e);
        rules.stamp_restored(&e, Stamp::IdleSeconds(100));
        let idle = idle_ms(e.access().load(Relaxed), lru_ticks());
        assert!((100_000..101_000).contains(&idle), "{idle}");
        let before = e.access().load(Relaxed);
        rules.stamp_restored(&e, Stamp::Frequency(200));
        assert_eq!(e.access().load(Relaxed), before, "FREQ ignored under LRU");
        rules.stamp_restored(&e, Stamp::IdleSeconds(u64::MAX));
        let idle = idle_ms(e.access().load(Relaxed), lru_ticks());
        assert!(
            idle > 190 * 86_400_000,
            "the longest the clock holds: {idle}"
        );

        rules.set(true, 10, 1);
        rules.stamp_restored(&e, Stamp::Frequency(200));
        assert_eq!(rules.decayed(e.access().load(Relaxed), minutes()), 200);
        let before = e.access().load(Relaxed);
        rules.stamp_restored(&e, Stamp::IdleSeconds(5));
        assert_eq!(
            e.access().load(Relaxed),
            before,
            "IDLETIME ignored under LFU"
        );
    }

    #[test]
    fn stamps_follow_the_policy() {
        let rules = AccessRules::default();
        let e = Entry::new(b"k", b"v", None).expect("small");
        rules.set(true, 10, 1);
        rules.stamp_new(&e);
        assert_eq!(e.access().load(Relaxed) & 0xff, LFU_INIT);
        for _ in 0..50 {
            rules.touch(&e);
        }
        assert!(e.access().load(Relaxed) & 0xff > LFU_INIT);
        rules.set(false, 10, 1);
        rules.stamp_new(&e);
        assert!(idle_ms(e.access().load(Relaxed), lru_ticks()) < 1_000);
    }
}
