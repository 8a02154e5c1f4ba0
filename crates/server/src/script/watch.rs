//! The watch over one script run: how long it has run, and what happens
//! when it runs past `busy-reply-threshold` (Redis's `scriptInterrupt`).
//!
//! Owns the interpreter's count hook. Every few thousand Lua instructions
//! it reads the clock; past the threshold the script is registered as
//! busy (other clients' commands answer -BUSY, SCRIPT KILL may stop it),
//! and from then on each hook hands the serving thread to its other
//! connections for a moment (`stack::suspend`). A killed script fails
//! with Redis's error; one stopped by SHUTDOWN NOSAVE also leaves no
//! record in the log. It must never suspend a script that is not on a
//! request stack, nor let a registered script stay registered after it
//! ends.

use super::busy::{Busy, Flags, Running};
use super::call::with_run;
use mlua::VmState;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lua instructions between two looks at the clock.
pub const HOOK_EVERY: u32 = 10_000;

/// Redis's error for a killed script.
const KILLED: &str = "Script killed by user with SCRIPT KILL...";
/// The error of a script stopped by SHUTDOWN NOSAVE.
const ABORTED: &str = "Script killed by SHUTDOWN NOSAVE";

/// One run's watch.
#[derive(Debug)]
pub struct Watch {
    started: Instant,
    /// `busy-reply-threshold`, if any.
    threshold: Option<Duration>,
    /// What the run shares with the registry once busy.
    pub flags: Arc<Flags>,
    busy: Arc<Busy>,
    /// Its id in the registry, once busy.
    entry: Cell<Option<u64>>,
    /// What runs: the registry shows it once busy.
    running: Running,
    /// Where the log record stood when the script began (`begin_record`):
    /// what SHUTDOWN NOSAVE cuts it back to.
    record: Cell<Option<tandem_engine::journal::Mark>>,
}

impl Watch {
    /// A watch starting now; `threshold_ms` 0 never makes the run busy.
    pub fn new(threshold_ms: u64, busy: Arc<Busy>, running: Running) -> Watch {
        Watch {
            started: Instant::now(),
            threshold: (threshold_ms != 0).then(|| Duration::from_millis(threshold_ms)),
            flags: Arc::new(Flags::default()),
            busy,
            entry: Cell::new(None),
            running,
            record: Cell::new(None),
        }
    }

    /// The script begins now, inside the scope recording its changes
    /// (its own, or a pipeline batch's it shares).
    pub fn begin_record(&self) {
        self.record.set(tandem_engine::journal::mark());
    }

    /// The script is about to write: false if SCRIPT KILL stopped it
    /// first (the write must not happen).
    pub fn write(&self) -> bool {
        self.flags.write()
    }

    /// Why the run must stop now, if it must.
    pub fn stop(&self) -> Option<&'static str> {
        if self.flags.aborted.load(Ordering::Acquire) {
            // The script's changes so far stay out of the log; in a
            // pipeline batch, the scripts before it stay in.
            match self.record.get() {
                Some(mark) => tandem_engine::journal::discard_since(mark),
                None => tandem_engine::journal::discard_open_record(),
            }
            return Some(ABORTED);
        }
        self.flags.killed().then_some(KILLED)
    }

    /// Registers the run as busy the first time it is past the threshold;
    /// whether it is busy.
    fn busy_now(&self) -> bool {
        if self.entry.get().is_some() {
            return true;
        }
        let Some(threshold) = self.threshold else {
            return false;
        };
        let elapsed = self.started.elapsed();
        if elapsed < threshold {
            return false;
        }
        tracing::warn!(
            "Slow script detected: still in execution after {} milliseconds. You can try killing \
             the script using the SCRIPT KILL command. Script name is: {}.",
            elapsed.as_millis(),
            String::from_utf8_lossy(self.running.name())
        );
        self.entry.set(Some(self.busy.enter(
            Arc::clone(&self.flags),
            self.running.clone(),
            self.started,
        )));
        true
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(id) = self.entry.take() {
            self.busy.leave(id);
        }
    }
}

/// Whether the script running on this thread must stop (killed, or a
/// command inside panicked): the sandbox's `pcall`, `xpcall` and
/// `coroutine.resume` re-raise the error rather than catch it, as
/// Redis's line hook makes sure for a kill.
pub fn stopping() -> bool {
    super::call::panic_pending() || with_run(|r| r.watch.stop().is_some()).unwrap_or(false)
}

/// The count hook.
pub fn hook() -> mlua::Result<VmState> {
    if super::call::panic_pending() {
        return Err(mlua::Error::RuntimeError(
            "A command inside the script panicked".to_owned(),
        ));
    }
    if super::function::load::past_deadline() {
        return Err(mlua::Error::RuntimeError(
            super::function::load::TIMED_OUT.to_owned(),
        ));
    }
    let Some(watch) = with_run(|r| Rc::clone(&r.watch)) else {
        return Ok(VmState::Continue);
    };
    if let Some(why) = watch.stop() {
        return Err(mlua::Error::RuntimeError(why.to_owned()));
    }
    if watch.busy_now() {
        // The thread's other connections may settle meanwhile: the log
        // position of this turn's writes is kept apart from theirs.
        let lsn = tandem_engine::journal::take_thread_lsn();
        super::stack::suspend();
        tandem_engine::journal::note_thread_lsn(lsn);
        if let Some(why) = watch.stop() {
            return Err(mlua::Error::RuntimeError(why.to_owned()));
        }
    }
    Ok(VmState::Continue)
}
