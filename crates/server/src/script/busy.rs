//! Scripts past `busy-reply-threshold`: which are running, whether they
//! wrote, and the requests to stop them (SCRIPT KILL, SHUTDOWN NOSAVE).
//!
//! Owns that registry and the one atomic every command's admission reads
//! (`any`). A script enters it only once it has run past the threshold,
//! so a script that ends in time never touches anything shared. It must
//! never hold a lock while a script runs: the registry's mutex is taken
//! to add, remove and list entries, not to run.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Redis's reply while a script (EVAL's) is busy.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

/// One running script's flags, shared between its run and the registry.
#[derive(Debug, Default)]
pub struct Flags {
    /// The script has run a write command.
    pub dirty: AtomicBool,
    /// SCRIPT KILL asked it to stop.
    pub killed: AtomicBool,
    /// SHUTDOWN NOSAVE asked it to stop, its writes unlogged.
    pub aborted: AtomicBool,
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

    /// SCRIPT KILL: stops every busy script, unless one of them wrote.
    pub fn kill(&self) -> Kill {
        let scripts = self.scripts.lock();
        if scripts.is_empty() {
            return Kill::NotBusy;
        }
        if scripts.iter().any(|(_, f)| f.dirty.load(Ordering::Acquire)) {
            return Kill::Unkillable;
        }
        for (_, f) in scripts.iter() {
            f.killed.store(true, Ordering::Release);
        }
        Kill::Killed
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
        let reader = Arc::new(Flags::default());
        let id = busy.enter(reader.clone());
        assert!(busy.any());
        let writer = Arc::new(Flags::default());
        writer.dirty.store(true, Ordering::Relaxed);
        let wid = busy.enter(writer);
        assert_eq!(busy.kill(), Kill::Unkillable);
        assert!(!reader.killed.load(Ordering::Relaxed));
        busy.leave(wid);
        assert_eq!(busy.kill(), Kill::Killed);
        assert!(reader.killed.load(Ordering::Relaxed));
        busy.leave(id);
        assert!(!busy.any());
    }
}
