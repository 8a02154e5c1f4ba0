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
use std::time::Instant;

/// Redis's reply while a script (EVAL's) is busy.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// Redis's reply while a function (FCALL's) is busy.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// What is running.
#[derive(Debug, Clone)]
pub enum Running {
    /// An EVAL's script, by its SHA-1.
    Eval([u8; 40]),
    /// A function.
    Function {
        /// Its name, as registered.
        name: Arc<[u8]>,
        /// The FCALL that runs it, arguments and all.
        command: Arc<[Vec<u8>]>,
    },
}

impl Running {
    /// Its name: the SHA-1, or the function's.
    pub fn name(&self) -> &[u8] {
        match self {
            Running::Eval(sha) => sha,
            Running::Function { name, .. } => name,
        }
    }

    fn is_eval(&self) -> bool {
        matches!(self, Running::Eval(_))
    }
}

/// A busy run, as the registry keeps it.
#[derive(Debug)]
struct Entry {
    id: u64,
    flags: Arc<Flags>,
    running: Running,
    started: Instant,
}

/// A function running past the threshold, for FUNCTION STATS.
#[derive(Debug, Clone)]
pub struct BusyFunction {
    /// Its name.
    pub name: Arc<[u8]>,
    /// Its FCALL.
    pub command: Arc<[Vec<u8>]>,
    /// Milliseconds since it started.
    pub duration_ms: u64,
}

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

    /// Whether it wrote.
    fn dirty(&self) -> bool {
        self.state.load(Ordering::Acquire) == DIRTY
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
    scripts: Mutex<Vec<Entry>>,
    next: AtomicUsize,
}

/// What SCRIPT KILL or FUNCTION KILL did.
#[derive(Debug, PartialEq, Eq)]
pub enum Kill {
    /// No script is busy.
    NotBusy,
    /// A busy script has written: it cannot be stopped without losing
    /// half of it.
    Unkillable,
    /// Only runs of the other kind are busy (SCRIPT KILL while a function
    /// is, FUNCTION KILL while an EVAL is): Redis's BUSY reply for them.
    OtherKind(&'static str),
    /// Every busy script of the kind was told to stop.
    Killed,
}

impl Busy {
    /// Whether some script is past the threshold: one atomic load, on
    /// every command's admission.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) != 0
    }

    /// Registers a run that has just passed the threshold; the id to
    /// remove it with.
    pub fn enter(&self, flags: Arc<Flags>, running: Running, started: Instant) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) as u64;
        self.scripts.lock().push(Entry {
            id,
            flags,
            running,
            started,
        });
        self.count.fetch_add(1, Ordering::Release);
        id
    }

    /// Removes a run (it ended).
    pub fn leave(&self, id: u64) {
        let mut scripts = self.scripts.lock();
        if let Some(at) = scripts.iter().position(|e| e.id == id) {
            scripts.swap_remove(at);
            self.count.fetch_sub(1, Ordering::Release);
        }
    }

    /// Redis's reply to a command refused while runs are busy: EVAL's
    /// while one is an EVAL, else FUNCTION's.
    pub fn reply(&self) -> &'static str {
        if self.scripts.lock().iter().any(|e| e.running.is_eval()) {
            BUSY_EVAL
        } else {
            BUSY_FUNCTION
        }
    }

    /// Whether a busy run is an EVAL's (FUNCTION STATS refuses then).
    pub fn eval_busy(&self) -> bool {
        self.scripts.lock().iter().any(|e| e.running.is_eval())
    }

    /// The first busy function, for FUNCTION STATS.
    pub fn function(&self) -> Option<BusyFunction> {
        self.scripts.lock().iter().find_map(|e| match &e.running {
            Running::Function { name, command } => Some(BusyFunction {
                name: Arc::clone(name),
                command: Arc::clone(command),
                duration_ms: u64::try_from(e.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            }),
            Running::Eval(_) => None,
        })
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL: stops every busy run of
    /// that kind, unless some busy run has written (Redis checks that
    /// first, whatever its kind).
    pub fn kill(&self, eval: bool) -> Kill {
        let scripts = self.scripts.lock();
        if scripts.is_empty() {
            return Kill::NotBusy;
        }
        if scripts.iter().any(|e| e.flags.dirty()) {
            return Kill::Unkillable;
        }
        let mut found = false;
        let mut unkillable = false;
        for e in scripts.iter().filter(|e| e.running.is_eval() == eval) {
            found = true;
            unkillable |= !e.flags.kill();
        }
        if !found {
            Kill::OtherKind(if eval { BUSY_FUNCTION } else { BUSY_EVAL })
        } else if unkillable {
            Kill::Unkillable
        } else {
            Kill::Killed
        }
    }

    /// SHUTDOWN NOSAVE: stops every busy script, and none of its writes
    /// reaches the log.
    pub fn abort_all(&self) {
        for e in self.scripts.lock().iter() {
            e.flags.aborted.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval() -> Running {
        Running::Eval([b'a'; 40])
    }

    #[test]
    fn a_script_that_wrote_is_not_killed() {
        let busy = Busy::default();
        assert_eq!(busy.kill(true), Kill::NotBusy);
        let writer = Arc::new(Flags::default());
        assert!(writer.write());
        let wid = busy.enter(writer.clone(), eval(), Instant::now());
        assert!(busy.any());
        assert_eq!(busy.kill(true), Kill::Unkillable);
        assert!(!writer.killed());
        busy.leave(wid);
        let reader = Arc::new(Flags::default());
        let id = busy.enter(reader.clone(), eval(), Instant::now());
        assert_eq!(busy.reply(), BUSY_EVAL);
        assert_eq!(busy.kill(false), Kill::OtherKind(BUSY_EVAL));
        assert!(!reader.killed());
        assert_eq!(busy.kill(true), Kill::Killed);
        assert!(reader.killed());
        // Killed first: its write is refused.
        assert!(!reader.write());
        busy.leave(id);
        assert!(!busy.any());
        let function = Arc::new(Flags::default());
        let running = Running::Function {
            name: Arc::from(&b"f"[..]),
            command: Arc::from(vec![b"fcall".to_vec(), b"f".to_vec(), b"0".to_vec()]),
        };
        let id = busy.enter(function.clone(), running, Instant::now());
        assert_eq!(busy.reply(), BUSY_FUNCTION);
        assert!(!busy.eval_busy());
        assert_eq!(
            busy.function().map(|f| f.name.to_vec()),
            Some(b"f".to_vec())
        );
        assert_eq!(busy.kill(true), Kill::OtherKind(BUSY_FUNCTION));
        assert_eq!(busy.kill(false), Kill::Killed);
        busy.leave(id);
    }
}
