//! Scripts past `busy-reply-threshold`: which are running, whether they
//! wrote, and the requests to stop them (SCRIPT KILL, SHUTDOWN NOSAVE).
//!
//! Owns that registry and the one atomic every command's admission reads
//! (`any`). A script enters it only once it has run past the threshold,
//! so a script that ends in time never touches anything shared. It must
//! never hold a lock while a script runs: the registry's mutex is taken
//! to add, remove and list entries, not to run.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// Redis's reply while a script (EVAL's) is busy.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

/// One running script's flags, shared between its run and the registry.
/// Whether it wrote and whether it was killed are one state, changed by
/// compare-and-swap, so that SCRIPT KILL and a first write cannot both
/// win: a script is either killed before it wrote, or unkillable.
#[derive(Debug, Default)]
pub struct Flags {
    /// `CLEAN`, `DIRTY` or `KILLED`.
    state: AtomicU8,
    /// SHUTDOWN NOSAVE asked it to stop, its writes unlogged.
    pub aborted: AtomicBool,
}

const CLEAN: u8 = 0;
const DIRTY: u8 = 1;
const KILLED: u8 = 2;

impl Flags {
    /// The script is about to write: false if it was killed (the write
    /// must not happen), true otherwise (it can no longer be killed).
    pub fn write(&self) -> bool {
        match self
            .state
            .compare_exchange(CLEAN, DIRTY, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(now) => now == DIRTY,
        }
    }

    /// Whether SCRIPT KILL stopped it.
    pub fn killed(&self) -> bool {
        self.state.load(Ordering::Acquire) == KILLED
    }

    /// SCRIPT KILL: false if it has written.
    fn kill(&self) -> bool {
        match self
            .state
            .compare_exchange(CLEAN, KILLED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(now) => now == KILLED,
        }
    }
}

/// The scripts running past the threshold.
#[derive(Debug, Default)]
pub struct Busy {
    count: AtomicUsize,
    scripts: Mutex<Vec<(u64, Arc<Flags>)>>,
    next: AtomicUsize,
}

/// What SCRIPT KILL did.
#[derive(Debug, PartialEq, Eq)]
pub enum Kill {
    /// No script is busy.
    NotBusy,
    /// A busy script has written: it cannot be stopped without losing
    /// half of it.
    Unkillable,
    /// Every busy script was told to stop.
    Killed,
}

impl Busy {
    /// Whether some script is past the threshold: one atomic load, on
    /// every command's admission.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) != 0
    }

    /// Registers a script that has just passed the threshold; the id to
    /// remove it with.
    pub fn enter(&self, flags: Arc<Flags>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) as u64;
        self.scripts.lock().push((id, flags));
        self.count.fetch_add(1, Ordering::Release);
        id
    }

    /// Removes a script (it ended).
    pub fn leave(&self, id: u64) {
        let mut scripts = self.scripts.lock();
        if let Some(at) = scripts.iter().position(|(i, _)| *i == id) {
            scripts.swap_remove(at);
            self.count.fetch_sub(1, Ordering::Release);
        }
    }

    /// SCRIPT KILL: stops every busy script that has not written;
    /// `Unkillable` if one had.
    pub fn kill(&self) -> Kill {
        let scripts = self.scripts.lock();
        if scripts.is_empty() {
            return Kill::NotBusy;
        }
        let mut unkillable = false;
        for (_, f) in scripts.iter() {
            unkillable |= !f.kill();
        }
        if unkillable {
            Kill::Unkillable
        } else {
            Kill::Killed
        }
    }

    /// SHUTDOWN NOSAVE: stops every busy script, and none of its writes
    /// reaches the log.
    pub fn abort_all(&self) {
        for (_, f) in self.scripts.lock().iter() {
            f.aborted.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_that_wrote_is_not_killed() {
        let busy = Busy::default();
        assert_eq!(busy.kill(), Kill::NotBusy);
        let writer = Arc::new(Flags::default());
        assert!(writer.write());
        let wid = busy.enter(writer.clone());
        assert!(busy.any());
        assert_eq!(busy.kill(), Kill::Unkillable);
        assert!(!writer.killed());
        busy.leave(wid);
        let reader = Arc::new(Flags::default());
        let id = busy.enter(reader.clone());
        assert_eq!(busy.kill(), Kill::Killed);
        assert!(reader.killed());
        // Killed first: its write is refused.
        assert!(!reader.write());
        busy.leave(id);
        assert!(!busy.any());
    }
}
