//! What the server says about its memory: INFO's `memory` section and
//! the MEMORY command (USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE).
//!
//! Owns the figures as Redis names them, computed from one `Report`:
//! `used_memory` is jemalloc's count of allocated bytes (`memory`), the
//! dataset is the engine's count of what its entries hold, and the
//! overhead is the difference. It reads; it never evicts or frees (PURGE
//! asks the allocator to return its unused pages, as Redis's does).

use super::args::{int, is};
use super::introspection::help;
use super::spec::{spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use crate::shared::Shared;

pub(super) const COMMANDS: &[Spec] = &[spec("memory", -2, 0, (0, 0, 0), memory)];

/// Everything the memory figures are computed from, gathered once.
pub(super) struct Report {
    used: u64,
    peak: u64,
    startup: u64,
    rss: u64,
    dataset: u64,
    keys: u64,
    allocator: Option<crate::memory::AllocatorStats>,
    maxmemory: u64,
    policy: &'static str,
    total_system: u64,
    /// Every serving thread's Lua interpreter, and the cached scripts.
    scripts: crate::script::Usage,
}

impl Report {
    /// The figures now; the dataset and the key count are summed from the
    /// databases' `stats` (INFO has gathered them already).
    pub(super) fn gather<'s>(
        shared: &Shared,
        stats: impl Iterator<Item = &'s tandem_engine::Stats>,
    ) -> Report {
        let (mut dataset, mut keys) = (0u64, 0u64);
        for s in stats {
            dataset += s.approx_bytes.saturating_sub(s.index_bytes) as u64;
            keys += s.keys as u64;
        }
        let memory = &shared.eviction.memory;
        let allocator = memory.allocator();
        let used = allocator.map_or_else(|| memory.refresh(), |a| a.allocated);
        let config = shared.config.load();
        Report {
            used,
            peak: memory.peak().max(used),
            startup: memory.startup(),
            rss: tandem_engine::process::rss_bytes().unwrap_or(0),
            dataset: dataset.min(used),
            keys,
            allocator,
            maxmemory: config.eviction.maxmemory,
            policy: config.eviction.policy.name(),
            total_system: tandem_engine::process::total_memory_bytes().unwrap_or(0),
            scripts: crate::script::usage(&shared.scripts, &shared.functions),
        }
    }

    /// The dataset's share of what the server holds beyond its start-up.
    fn dataset_percent(&self) -> f64 {
        Self::percent(
            self.dataset,
            self.used.saturating_sub(self.startup).max(self.dataset),
        )
    }

    fn overhead(&self) -> u64 {
        self.used.saturating_sub(self.dataset)
    }

    fn percent(part: u64, whole: u64) -> f64 {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    }

    fn ratio(a: u64, b: u64) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }

    /// INFO's `memory` section, in Redis 7.0's order, through `field`.
    pub(super) fn info(&self, field: &mut dyn FnMut(&str, String)) {
        let human = super::info::human;
        let a = self.allocator.unwrap_or_default();
        field("used_memory", self.used.to_string());
        field("used_memory_human", human(self.used));
        field("used_memory_rss", self.rss.to_string());
        field("used_memory_rss_human", human(self.rss));
        field("used_memory_peak", self.peak.to_string());
        field("used_memory_peak_human", human(self.peak));
        let peak_perc = Self::percent(self.used, self.peak);
        field("used_memory_peak_perc", format!("{peak_perc:.2}%"));
        field("used_memory_overhead", self.overhead().to_string());
        field("used_memory_startup", self.startup.to_string());
        field("used_memory_dataset", self.dataset.to_string());
        let dataset_perc = self.dataset_percent();
        field("used_memory_dataset_perc", format!("{dataset_perc:.2}%"));
        field("allocator_allocated", a.allocated.to_string());
        field("allocator_active", a.active.to_string());
        field("allocator_resident", a.resident.to_string());
        field("total_system_memory", self.total_system.to_string());
        field("total_system_memory_human", human(self.total_system));
        let s = self.scripts;
        field("used_memory_lua", s.vm_bytes.to_string());
        field("used_memory_vm_eval", s.vm_bytes.to_string());
        field("used_memory_lua_human", human(s.vm_bytes));
        field("used_memory_scripts_eval", s.script_bytes.to_string());
        field("number_of_cached_scripts", s.scripts.to_string());
        field("number_of_functions", s.functions.to_string());
        field("number_of_libraries", s.libraries.to_string());
        // Functions share each thread's interpreter with scripts: its
        // bytes are counted once, as EVAL's.
        field("used_memory_vm_functions", "0".into());
        field("used_memory_vm_total", s.vm_bytes.to_string());
        field("used_memory_vm_total_human", human(s.vm_bytes));
        field("used_memory_functions", s.function_bytes.to_string());
        let scripts = s.script_bytes + s.function_bytes;
        field("used_memory_scripts", scripts.to_string());
        field("used_memory_scripts_human", human(scripts));
        field("maxmemory", self.maxmemory.to_string());
        field("maxmemory_human", human(self.maxmemory));
        field("maxmemory_policy", self.policy.to_string());
        // Each layer's size over the one inside it, as a ratio and in bytes.
        let layers = [
            ("allocator_frag", a.active, a.allocated),
            ("allocator_rss", a.resident, a.active),
            ("rss_overhead", self.rss, a.resident),
            ("mem_fragmentation", self.rss, self.used),
        ];
        for (name, outer, inner) in layers {
            field(
                &format!("{name}_ratio"),
                format!("{:.2}", Self::ratio(outer, inner)),
            );
            field(
                &format!("{name}_bytes"),
                (outer as i64 - inner as i64).to_string(),
            );
        }
        field("mem_not_counted_for_evict", "0".into());
        field("mem_allocator", self.allocator_name().into());
        field(
            "lazyfree_pending_objects",
            tandem_engine::lazyfree_pending().to_string(),
        );
    }

    fn allocator_name(&self) -> &'static str {
        if self.allocator.is_some() {
            "jemalloc-5.3.0"
        } else {
            "libc"
        }
    }

    /// MEMORY STATS's pairs, in Redis 7.0's order.
    fn stats(&self) -> Vec<(&'static str, Stat)> {
        use Stat::{Float, Int};
        let a = self.allocator.unwrap_or_default();
        let keys = self.keys;
        let per_key = self
            .used
            .saturating_sub(self.startup)
            .checked_div(keys)
            .unwrap_or(0);
        vec![
            ("peak.allocated", Int(self.peak as i64)),
            ("total.allocated", Int(self.used as i64)),
            ("startup.allocated", Int(self.startup as i64)),
            ("replication.backlog", Int(0)),
            ("clients.slaves", Int(0)),
            ("clients.normal", Int(0)),
            ("cluster.links", Int(0)),
            ("aof.buffer", Int(0)),
            ("lua.caches", Int(0)),
            ("functions.caches", Int(0)),
            ("overhead.total", Int(self.overhead() as i64)),
            ("keys.count", Int(keys as i64)),
            ("keys.bytes-per-key", Int(per_key as i64)),
            ("dataset.bytes", Int(self.dataset as i64)),
            ("dataset.percentage", Float(self.dataset_percent())),
            (
                "peak.percentage",
                Float(Self::percent(self.used, self.peak)),
            ),
            ("allocator.allocated", Int(a.allocated as i64)),
            ("allocator.active", Int(a.active as i64)),
            ("allocator.resident", Int(a.resident as i64)),
            (
                "allocator-fragmentation.ratio",
                Float(Self::ratio(a.active, a.allocated)),
            ),
            (
                "allocator-fragmentation.bytes",
                Int(a.active as i64 - a.allocated as i64),
            ),
            (
                "allocator.rss-ratio",
                Float(Self::ratio(a.resident, a.active)),
            ),
            (
                "allocator.rss-bytes",
                Int(a.resident as i64 - a.active as i64),
            ),
            (
                "rss-overhead.ratio",
                Float(Self::ratio(self.rss, a.resident)),
            ),
            (
                "rss-overhead.bytes",
                Int(self.rss as i64 - a.resident as i64),
            ),
            ("fragmentation", Float(Self::ratio(self.rss, self.used))),
            (
                "fragmentation.bytes",
                Int(self.rss as i64 - self.used as i64),
            ),
        ]
    }
}

/// One MEMORY STATS value: Redis replies integers, and doubles for ratios
/// and percentages.
enum Stat {
    Int(i64),
    Float(f64),
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn memory(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    if is(sub, "help") {
        help(c.out, MEMORY_HELP);
    } else if is(sub, "usage") {
        return usage(c);
    } else if is(sub, "stats") {
        stats(c);
    } else if is(sub, "doctor") {
        c.out.verbatim_text(doctor(c.shared).as_bytes());
    } else if is(sub, "malloc-stats") {
        c.out.verbatim_text(malloc_stats().as_bytes());
    } else if is(sub, "purge") {
        purge();
        c.out.ok();
    } else {
        return Err(unknown_subcommand(sub, "memory"));
    }
    Ok(())
}

/// MEMORY USAGE: the engine's estimate for the key's entry and its share
/// of its shard's index.
fn usage(c: &mut Call<'_>) -> CmdResult {
    // Redis reads SAMPLES before looking the key up: a bad option is an
    // error even for a missing key.
    let mut options = c.args_from(3).iter();
    while let Some(word) = options.next() {
        match options.next() {
            Some(n) if is(word, "samples") => {
                if int(n)? < 0 {
                    return Err(Reject::Syntax);
                }
            }
            _ => return Err(Reject::Syntax),
        }
    }
    match c.db().memory_usage(c.arg(2))? {
        Some(bytes) => c.out.count(bytes),
        None => c.out.null(),
    }
    Ok(())
}

/// The report now, from every database's stats.
fn report(shared: &Shared) -> Report {
    let stats: Vec<tandem_engine::Stats> = shared.dbs.all().iter().map(|db| db.stats()).collect();
    Report::gather(shared, stats.iter())
}

fn stats(c: &mut Call<'_>) {
    let pairs = report(c.shared).stats();
    c.out.map(pairs.len());
    for (name, value) in pairs {
        c.out.bulk(name.as_bytes());
        match value {
            Stat::Int(n) => c.out.int(n),
            Stat::Float(f) => c.out.double_text(format!("{f:.6}").as_bytes()),
        }
    }
}

/// MEMORY DOCTOR: Redis's report when nothing is wrong, or the problems
/// it would name that apply here (high fragmentation, a bound exceeded).
fn doctor(shared: &Shared) -> String {
    let r = report(shared);
    if r.used < 5 << 20 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.".into();
    }
    let mut issues = Vec::new();
    if r.peak > r.used.saturating_mul(3) / 2 {
        issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.");
    }
    if Report::ratio(r.rss, r.used) > 1.4 && r.rss.saturating_sub(r.used) > 10 << 20 {
        issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes high fragmentation, or unreclaimed dirty pages.");
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.".into();
    }
    format!(
        "Sam, I detected a few issues in this Redis instance memory implants:\n\n{}\n\nI'm here to keep you safe, Sam. I want to help you.",
        issues.join("\n\n")
    )
}

/// MEMORY MALLOC-STATS: jemalloc's own report.
fn malloc_stats() -> String {
    let mut text = Vec::new();
    let mut options = tikv_jemalloc_ctl::stats_print::Options::default();
    options.skip_per_arena = true;
    options.skip_bin_size_classes = true;
    options.skip_large_size_classes = true;
    options.skip_mutex_statistics = true;
    match tikv_jemalloc_ctl::stats_print::stats_print(&mut text, options) {
        Ok(()) => String::from_utf8_lossy(&text).into_owned(),
        Err(_) => "Stats not supported for the current allocator".into(),
    }
}

/// MEMORY PURGE: jemalloc returns the dirty pages of every arena.
fn purge() {
    // `arena.<MALLCTL_ARENAS_ALL>.purge`: every arena at once. It reads
    // and writes nothing, so every pointer is null.
    let name = b"arena.4096.purge\0";
    let (old, old_len, new) = (
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    );
    // SAFETY: the name is NUL-terminated, and a null old value, length
    // and new value with a zero length are what this control takes.
    let _ = unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr().cast(), old, old_len, new, 0) };
}
