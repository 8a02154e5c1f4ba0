//! What Linux's /proc says about this process and machine: resident
//! memory, CPU time, total memory, the open files limit,
//! `/proc/self/status` fields, thread names and the kernel release.
//!
//! Owns the one copy of this parsing, for the server's INFO, the
//! benchmarks and the tests alike. It never panics and never guesses:
//! where /proc is missing or says something unexpected the answer is
//! `None`, and the caller decides what to report. Nothing here is on a
//! request's path; each call reads a file.

use std::time::Duration;

/// The kernel's page size on every platform Tandem runs on (statm counts
/// pages, and /proc gives no portable way to ask).
const PAGE_BYTES: u64 = 4096;

/// Linux reports CPU times in USER_HZ ticks, 100 a second on every
/// architecture.
const TICKS_PER_SEC: u64 = 100;

/// Resident set size of this process in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * PAGE_BYTES)
}

/// The machine's memory in bytes (`MemTotal` in `/proc/meminfo`).
pub fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    Some(kb_field(&meminfo, "MemTotal")? * 1024)
}

/// A field of `/proc/self/status` given in kB (`VmRSS`, `VmSize`, ...).
pub fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kb_field(&status, field)
}

/// The kernel's release (`/proc/sys/kernel/osrelease`), e.g.
/// `6.1.0-13-amd64`.
pub fn os_release() -> Option<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    Some(release.trim().to_string())
}

/// How many of this process's threads are named `name`
/// (`/proc/self/task/*/comm`); 0 where /proc is missing.
pub fn threads_named(name: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// The soft limit on open files (`/proc/self/limits`); `u64::MAX` when
/// unlimited.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    match line.split_whitespace().next()? {
        "unlimited" => Some(u64::MAX),
        soft => soft.parse().ok(),
    }
}

/// The number in a `Name:   1234 kB` line of a /proc table.
fn kb_field(table: &str, field: &str) -> Option<u64> {
    table.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// CPU time of this process, in clock ticks of 1/100 s
/// (`/proc/self/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTicks {
    /// In user mode, all threads.
    pub user: u64,
    /// In the kernel on its behalf.
    pub system: u64,
    /// User time of children it waited for.
    pub children_user: u64,
    /// System time of children it waited for.
    pub children_system: u64,
}

impl CpuTicks {
    /// This process's CPU time now.
    pub fn now() -> Option<CpuTicks> {
        parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// Process `pid`'s CPU time now (a server a benchmark drives).
    pub fn of(pid: u32) -> Option<CpuTicks> {
        parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// User plus system time of this process (children excluded).
    pub fn own(&self) -> Duration {
        ticks(self.user.saturating_add(self.system))
    }
}

fn ticks(n: u64) -> Duration {
    Duration::from_millis(n.saturating_mul(1000 / TICKS_PER_SEC))
}

/// Parses a `/proc/<pid>/stat` line.
fn parse_stat(stat: &str) -> Option<CpuTicks> {
    // The command name, in parentheses, may hold spaces and parentheses:
    // count fields from after its last ')'. That is field 2; the state is
    // field 3, utime 14, stime 15, cutime 16, cstime 17.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(14 - 3);
    let mut next = || fields.next()?.parse::<u64>().ok();
    Some(CpuTicks {
        user: next()?,
        system: next()?,
        children_user: next()?,
        children_system: next()?,
    })
}

/// User plus system CPU time of all this process's threads so far, or zero
/// where /proc is unavailable; resolution one tick (10 ms). Steadier than
/// throughput on a shared machine, since waiting for a core does not count.
pub fn cpu_time() -> Duration {
    CpuTicks::now().map(|t| t.own()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        // A name with spaces and a ')' of its own; values from a real line.
        let line = "4242 (tandem (x) y) S 1 4242 4242 0 -1 4194304 900 0 0 0 \
                    123 45 6 7 20 0 5 0 100 1000 200";
        assert_eq!(
            parse_stat(line),
            Some(CpuTicks {
                user: 123,
                system: 45,
                children_user: 6,
                children_system: 7,
            })
        );
        assert_eq!(parse_stat("4242 (cut"), None);
        assert_eq!(parse_stat("4242 (short) S 1 2"), None);
    }

    #[test]
    fn kb_fields_need_the_whole_name() {
        let table = "VmRSSx:\t 1 kB\nVmRSS:\t    2048 kB\nMemTotal:   16 kB\n";
        assert_eq!(kb_field(table, "VmRSS"), Some(2048));
        assert_eq!(kb_field(table, "MemTotal"), Some(16));
        assert_eq!(kb_field(table, "VmSize"), None);
    }

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        assert!(rss_bytes().is_some_and(|b| b > 0));
        assert!(total_memory_bytes().is_some_and(|b| b > 0));
        assert!(status_kb("VmRSS").is_some_and(|kb| kb > 0));
        assert!(open_files_limit().is_some_and(|n| n > 0));
        assert!(CpuTicks::of(std::process::id()).is_some());
        let before = cpu_time();
        let start = std::time::Instant::now();
        // Spin until a tick or more shows up; on a busy machine that can
        // take longer than the tick itself.
        while cpu_time() <= before && start.elapsed() < Duration::from_secs(10) {
            for _ in 0..100_000 {
                std::hint::black_box(fastrand::u64(..));
            }
        }
        assert!(cpu_time() > before, "spinning shows up as CPU time");
    }
}
