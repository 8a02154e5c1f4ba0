//! The clock commands are timed by: the CPU's time-stamp counter, read
//! through quanta (which falls back to the OS clock where the counter
//! cannot be trusted).
//!
//! Owns reading it and turning two reads into a `Duration`. It must never
//! be used for wall-clock time (SLOWLOG's timestamps, TTLs): it only
//! measures intervals. Why not `Instant::now`: while the slow log is on,
//! every command is timed, and a read costs ~14 ns here against ~23 for
//! `Instant::now`, on requests that take under a microsecond.

use std::sync::LazyLock;
use std::time::Duration;

/// Calibrated once, on the first read.
static CLOCK: LazyLock<quanta::Clock> = LazyLock::new(quanta::Clock::new);

/// A reading of the clock, for `since`.
pub fn now() -> u64 {
    CLOCK.raw()
}

/// The time from `start` to `end`, two `now` readings.
pub fn between(start: u64, end: u64) -> Duration {
    CLOCK.delta(start, end)
}

/// The time from `start` to `end` in nanoseconds (no `Duration` made).
pub fn nanos_between(start: u64, end: u64) -> u64 {
    CLOCK.delta_as_nanos(start, end)
}

/// The fewest readings apart two `now`s are when `d` or more passed
/// between them (rounded down, so that a comparison against it never
/// misses an interval of `d`): a threshold to compare raw readings
/// against without converting each interval.
pub fn at_least(d: Duration) -> u64 {
    const PROBE: u64 = 1 << 32;
    let probe_ns = CLOCK.delta_as_nanos(0, PROBE).max(1);
    let ns = u128::from(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let ticks = ns * u128::from(PROBE) / u128::from(probe_ns);
    // A part in a thousand of slack for the scale's rounding.
    u64::try_from(ticks - ticks / 1000).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_measures_what_it_spans() {
        let start = now();
        let wall = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let took = between(start, now());
        let real = wall.elapsed();
        assert!(took >= Duration::from_millis(19), "{took:?}");
        assert!(
            took <= real + Duration::from_millis(5),
            "{took:?} against {real:?}"
        );
    }

    #[test]
    fn a_threshold_in_readings_never_exceeds_the_interval() {
        for d in [0, 1, 999, 10_000, 1_000_000, 60_000_000] {
            let d = Duration::from_micros(d);
            let ticks = at_least(d);
            assert!(between(0, ticks) <= d, "{d:?}");
            // And not far below it.
            assert!(
                between(0, ticks) + d / 100 + Duration::from_nanos(100) >= d,
                "{d:?}"
            );
        }
    }
}
