//! Resident memory of this process, from /proc.

/// Resident set size in bytes, or 0 where /proc is unavailable.
pub(crate) fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    // The kernel's page size on every platform this runs on; /proc gives
    // no portable way to ask, and the benchmark's unit is bytes per key.
    4096
}
