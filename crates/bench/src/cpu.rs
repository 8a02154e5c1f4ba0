//! CPU time of this process, from /proc: steadier than throughput on a
//! shared machine, because time spent waiting for a core does not count.

use std::time::Duration;

/// User plus system CPU time of all this process's threads so far, or zero
/// where /proc is unavailable. Resolution: one clock tick (10 ms).
pub(crate) fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The command name, in parentheses, may hold spaces: count fields from
    // after it. utime and stime are fields 14 and 15 of the line.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    // Linux reports these in USER_HZ, which is 100 on every architecture.
    Duration::from_millis(ticks * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = cpu_time();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        // Spin until a tick or more shows up; on a busy machine that can
        // take longer than the tick itself.
        while cpu_time() <= before && start.elapsed() < Duration::from_secs(10) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        assert!(cpu_time() > before, "spinning shows up as CPU time");
    }
}
