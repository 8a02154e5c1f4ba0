//! How much memory the server holds: what `used_memory` reports and what
//! the memory bound (`maxmemory`) is checked against.
//!
//! Owns reading the allocator's statistics and the cheap estimate a
//! request pays for. It never evicts or refuses anything (that is
//! `eviction`), and it never guesses per key: the number is jemalloc's
//! own count of the bytes the process has allocated (`stats.allocated`),
//! the same kind of number as Redis's `used_memory`.
//!
//! Why an estimate between refreshes: reading `stats.allocated` means
//! advancing jemalloc's statistics epoch, which merges every arena's
//! counters (tens of microseconds), far too much per request. So the exact
//! figure is refreshed at most once per `REFRESH`, by whichever thread
//! first finds it stale, and between refreshes each thread adds what it
//! allocated and freed itself since (jemalloc's per-thread counters, one
//! load each). A thread then sees its own writes and evictions at once;
//! what other threads did since the refresh, it sees at the next one.
//! Big collections queued for the lazy-free thread count as freed.
//!
//! When jemalloc is not the global allocator (an embedder's choice; the
//! `tandem` binary and the server's tests install it), its statistics
//! would not see the server's memory, and the resident set size from
//! /proc stands in, refreshed the same way.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tikv_jemalloc_ctl::thread::ThreadLocal;
use tikv_jemalloc_ctl::{epoch, stats, thread};

/// How stale the exact figure may get while requests read it.
const REFRESH: Duration = Duration::from_millis(1);

/// The same without jemalloc: reading /proc costs more.
const REFRESH_RSS: Duration = Duration::from_millis(100);

/// The allocator's view of the process, for INFO and MEMORY STATS.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocatorStats {
    /// Bytes the application holds (`stats.allocated`).
    pub allocated: u64,
    /// Bytes in active pages (`stats.active`).
    pub active: u64,
    /// Bytes in physically resident pages (`stats.resident`).
    pub resident: u64,
}

/// The process's memory, as the memory bound sees it.
#[derive(Debug)]
pub struct Memory {
    /// Whether jemalloc is the global allocator (else RSS stands in).
    jemalloc: bool,
    /// The exact figure at the last refresh.
    exact: AtomicU64,
    /// Bumped by each refresh: a thread's own count restarts from it.
    generation: AtomicU64,
    /// When the last refresh was (`now_ms`).
    refreshed_ms: AtomicU64,
    /// Whether a thread is refreshing (others read the old figure).
    refreshing: AtomicBool,
    /// The highest exact figure seen (`used_memory_peak`).
    peak: AtomicU64,
    /// The figure when the server had started (`used_memory_startup`).
    startup: AtomicU64,
}

/// A thread's jemalloc counters, and its net allocation when the current
/// generation began.
#[derive(Clone, Copy)]
struct Local {
    allocated: ThreadLocal<u64>,
    deallocated: ThreadLocal<u64>,
    generation: u64,
    base: u64,
}

impl Local {
    fn net(&self) -> u64 {
        self.allocated.get().wrapping_sub(self.deallocated.get())
    }
}

thread_local! {
    static LOCAL: Cell<Option<Local>> = const { Cell::new(None) };
}

/// Milliseconds on the engine's coarse access clock (a few ns to read).
fn now_ms() -> u64 {
    tandem_engine::evict::access::clock_ms()
}

/// Whether allocations of this process go through jemalloc: a megabyte
/// allocated here shows in jemalloc's count for this thread, or not.
fn jemalloc_is_global() -> bool {
    let Ok(allocated) = thread::allocatedp::read() else {
        return false;
    };
    let before = allocated.get();
    let probe = std::hint::black_box(vec![1u8; 1 << 20]);
    let after = allocated.get();
    drop(probe);
    after.wrapping_sub(before) >= 1 << 20
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Memory {
    /// The process's memory, measured by jemalloc if it is the global
    /// allocator.
    pub fn new() -> Self {
        let memory = Self {
            jemalloc: jemalloc_is_global(),
            exact: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            refreshed_ms: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            peak: AtomicU64::new(0),
            startup: AtomicU64::new(0),
        };
        if !memory.jemalloc {
            tracing::warn!(
                "jemalloc is not the global allocator: used_memory and maxmemory follow the resident set size"
            );
        }
        let startup = memory.refresh();
        memory.startup.store(startup, Relaxed);
        memory
    }

    /// The figure when the server had started (`used_memory_startup`).
    pub fn startup(&self) -> u64 {
        self.startup.load(Relaxed)
    }

    /// The bytes in use now, as cheaply as it can be known: the last
    /// exact figure, plus what this thread allocated since, less the big
    /// values queued for freeing. Refreshes the exact figure when stale.
    pub fn used(&self) -> u64 {
        let period = if self.jemalloc { REFRESH } else { REFRESH_RSS };
        let stale =
            now_ms().saturating_sub(self.refreshed_ms.load(Relaxed)) >= period.as_millis() as u64;
        if stale && !self.refreshing.swap(true, Relaxed) {
            self.refresh();
            self.refreshing.store(false, Relaxed);
        }
        let generation = self.generation.load(Relaxed);
        let exact = self.exact.load(Relaxed);
        let own = if self.jemalloc {
            self.own_since(generation)
        } else {
            0
        };
        let pending = tandem_engine::lazyfree_pending_bytes() as u64;
        exact.saturating_add_signed(own).saturating_sub(pending)
    }

    /// What this thread allocated, net of what it freed, since refresh
    /// `generation`.
    fn own_since(&self, generation: u64) -> i64 {
        LOCAL.with(|cell| {
            let local = match cell.get() {
                Some(l) => l,
                None => {
                    let (Ok(allocated), Ok(deallocated)) =
                        (thread::allocatedp::read(), thread::deallocatedp::read())
                    else {
                        return 0;
                    };
                    let l = Local {
                        allocated,
                        deallocated,
                        generation,
                        base: 0,
                    };
                    let l = Local { base: l.net(), ..l };
                    cell.set(Some(l));
                    l
                }
            };
            if local.generation != generation {
                cell.set(Some(Local {
                    generation,
                    base: local.net(),
                    ..local
                }));
                return 0;
            }
            local.net().wrapping_sub(local.base) as i64
        })
    }

    /// Reads the exact figure now (and records it for `used`).
    pub fn refresh(&self) -> u64 {
        let exact = if self.jemalloc {
            let _ = epoch::advance();
            stats::allocated::read().map_or(0, |n| n as u64)
        } else {
            tandem_engine::process::rss_bytes().unwrap_or(0)
        };
        self.exact.store(exact, Relaxed);
        self.peak.fetch_max(exact, Relaxed);
        self.generation.fetch_add(1, Relaxed);
        self.refreshed_ms.store(now_ms(), Relaxed);
        exact
    }

    /// The highest figure seen (`used_memory_peak`).
    pub fn peak(&self) -> u64 {
        self.peak.load(Relaxed).max(self.exact.load(Relaxed))
    }

    /// The allocator's statistics, refreshed; `None` without jemalloc.
    pub fn allocator(&self) -> Option<AllocatorStats> {
        if !self.jemalloc {
            return None;
        }
        // The refresh advanced the epoch the other figures are read at.
        let allocated = self.refresh();
        let read = |r: tikv_jemalloc_ctl::Result<usize>| r.map_or(0, |n| n as u64);
        Some(AllocatorStats {
            allocated,
            active: read(stats::active::read()),
            resident: read(stats::resident::read()),
        })
    }
}
