//! `redis.call` and `redis.pcall`: a command run from inside a script, with
//! Redis 7.0's checks, on the keys the script holds, and its reply turned
//! into Lua values.
//!
//! Owns the rules for what a script may run (see ARCHITECTURE.md,
//! "Scripts"): the command must exist, have its arity, not be `noscript`,
//! not write in a read-only script, and touch only keys the run holds.
//! It must never run a command whose keys the run does not hold: that
//! would reach a shard lock this thread may already hold, or change a key
//! outside the script's atomic view.

use super::error::{error_table, raised};
use super::flags::ScriptFlags;
use super::reply;
use super::watch::Watch;
use crate::acl::log::Context;
use crate::command::{access, flags, keys_of, run_counted, transaction, Call, Resolved, Target};
use crate::resp::{Out, Protocol};
use crate::session::Session;
use crate::shared::Shared;
use mlua::{Lua, MultiValue, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tandem_engine::Db;

/// What the `redis` API's functions other than `call` may read or set of
/// the script running on this thread (see `begin`).
#[derive(Debug)]
pub struct RunState {
    resp3: Cell<bool>,
    /// How long it has run, and whether it was asked to stop.
    pub watch: Rc<Watch>,
}

impl RunState {
    /// `redis.setresp(3)` (true) or `(2)`.
    pub fn set_resp(&self, resp3: bool) {
        self.resp3.set(resp3);
    }

    /// Whether the script asked for RESP3.
    pub fn resp3(&self) -> bool {
        self.resp3.get()
    }
}

thread_local! {
    /// The run on this thread, if a script is running.
    static RUN: RefCell<Option<RunState>> = const { RefCell::new(None) };
    /// Its dispatcher, while the script runs (see `Dispatch::enter`).
    static CURRENT: Cell<*mut Dispatch<'static>> = const { Cell::new(std::ptr::null_mut()) };
}

/// The run on this thread, ended (and its watch's busy entry removed)
/// when dropped, whichever way the run ends.
pub struct Run(());

/// Starts a run on this thread: RESP2 to start with, as Redis's.
pub fn begin(watch: Watch) -> Run {
    RUN.set(Some(RunState {
        resp3: Cell::new(false),
        watch: Rc::new(watch),
    }));
    Run(())
}

impl Drop for Run {
    fn drop(&mut self) {
        drop(RUN.take());
    }
}

/// `f` on the run on this thread, if a script is running.
pub fn with_run<R>(f: impl FnOnce(&RunState) -> R) -> Option<R> {
    RUN.with_borrow(|run| run.as_ref().map(f))
}

/// What the last `redis.call` on this thread came to, between its two
/// halves (see `fastcall.rs`): the command runs while its arguments are
/// borrowed from the Lua stack, and its reply is made into Lua values
/// after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Nothing is pending: the reply was taken (`take_simple`,
    /// `reply_current`), or a reply half was called on its own.
    Nothing,
    /// No script runs on this thread.
    Outside,
    /// The arguments were not what `redis.call` takes.
    BadArguments(&'static str),
    /// The command was refused before it ran; its stats slot if it was
    /// known.
    Refused(Option<crate::stats::Slot>, &'static str),
    /// SCRIPT KILL stopped the script before this write.
    Killed,
    /// The command ran; its reply is in the dispatcher's buffer.
    Ran,
    /// The command panicked: the script fails with an error it cannot
    /// catch (`watch::stopping`), and the panic goes on once the script
    /// has let go of Lua (`take_panic`).
    Panicked,
}

/// A panic caught in the first half, resumed in the second.
type Panic = Box<dyn std::any::Any + Send>;

thread_local! {
    static PENDING: Cell<Pending> = const { Cell::new(Pending::Nothing) };
    static PANIC: RefCell<Option<Panic>> = const { RefCell::new(None) };
    /// The reply buffer runs on this thread share, one run after another
    /// (a new one per run was an allocation per EVALSHA).
    static SCRATCH: RefCell<Out> = RefCell::new(Out::default());
}

/// A reply buffer is kept for the next run only up to this size.
const SCRATCH_KEPT: usize = 64 * 1024;

/// `redis.call`'s first half: runs the command `args` for the script
/// running on this thread, and keeps what came of it for `reply_current`.
/// Touches no Lua state: `args` may borrow from the Lua stack.
pub fn run_current(args: Result<&[&[u8]], &'static str>) {
    // After a command panicked nothing more runs: not even from an
    // `xpcall` handler, which Lua calls before the error unwinds.
    if panic_pending() {
        PENDING.set(Pending::Panicked);
        return;
    }
    let pending = match args {
        Err(msg) => Pending::BadArguments(msg),
        Ok(args) => {
            let p = CURRENT.get();
            if p.is_null() {
                Pending::Outside
            } else {
                // SAFETY: `CURRENT` points at the dispatcher
                // `Dispatch::enter` set for the run on this thread, which
                // outlives the run (it is cleared before `enter` returns,
                // unwinding included); Lua calls this only from that run,
                // on this thread, and never while another `&mut` to it is
                // live (the run's own frame only waits for Lua). A command
                // inside cannot run a script (`noscript`), so calls never
                // nest.
                let dispatch = unsafe { &mut *p };
                dispatch.execute(args)
            }
        }
    };
    PENDING.set(pending);
}

/// `redis.acl_check_cmd`: whether the user of the client running the
/// script on this thread may run `args` (Redis's
/// `ACLCheckAllUserCommandPerm` on the original client's user). `None`
/// when no script runs here, `Some(Err(()))` for an unknown command or
/// subcommand.
pub fn acl_allows(args: &[&[u8]]) -> Option<Result<bool, ()>> {
    let p = CURRENT.get();
    if p.is_null() {
        return None;
    }
    // SAFETY: as in `run_current`: `CURRENT` points at the live
    // dispatcher of this thread's run, and no `&mut` to it is live while
    // Lua calls in.
    let dispatch = unsafe { &*p };
    let found = Resolved::find(args).filter(|c| !c.unlisted_subcommand(args));
    Some(
        found
            .ok_or(())
            .map(|cmd| access::check(&cmd, args, dispatch.session).is_ok()),
    )
}

/// The first half panicked: the panic is kept for `take_panic`.
pub fn panicked(panic: Panic) {
    PANIC.set(Some(panic));
    PENDING.set(Pending::Panicked);
}

/// Whether a command inside the script running on this thread panicked.
pub fn panic_pending() -> bool {
    PANIC.with_borrow(Option::is_some)
}

/// The panic of a command inside the script, to resume once the script
/// is out of Lua (a panic must not unwind through Lua's C frames).
pub fn take_panic() -> Option<Panic> {
    PANIC.take()
}

/// A reply `fastcall::reply_c` pushes itself: `reply::Plain` with its
/// bytes as pointers into the run's reply buffer, which stays as it is
/// until the script runs its next command (after the push).
#[derive(Debug, Clone, Copy)]
pub enum Simple {
    /// A number.
    Integer(i64),
    /// False.
    False,
    /// A string.
    Bulk(*const u8, usize),
    /// `{ok = ...}`.
    Status(*const u8, usize),
}

/// What the first half came to, taken, if it is a command's reply simple
/// enough for `Simple`; otherwise left for `reply_current`.
pub fn take_simple() -> Option<Simple> {
    if PENDING.get() != Pending::Ran {
        return None;
    }
    let p = CURRENT.get();
    if p.is_null() {
        return None;
    }
    // SAFETY: as in `reply_current`.
    let dispatch = unsafe { &*p };
    let simple = match reply::plain(&dispatch.out.buf)? {
        reply::Plain::Integer(n) => Simple::Integer(n),
        reply::Plain::False => Simple::False,
        reply::Plain::Bulk(b) => Simple::Bulk(b.as_ptr(), b.len()),
        reply::Plain::Status(s) => Simple::Status(s.as_ptr(), s.len()),
    };
    PENDING.set(Pending::Nothing);
    Some(simple)
}

/// `redis.call`'s second half, registered once per interpreter: what the
/// first half came to, as `(true, reply)` or `(false, error table)`;
/// `redis.call` raises the latter, `redis.pcall` returns it.
pub fn reply_current(lua: &Lua, _: ()) -> mlua::Result<(bool, Value)> {
    const OUTSIDE: &str = "redis.call/pcall can only be called inside a script invocation";
    let pending = PENDING.replace(Pending::Nothing);
    let p = CURRENT.get();
    match pending {
        Pending::Nothing | Pending::Outside => raised(lua, OUTSIDE),
        Pending::BadArguments(msg) => raised(lua, msg),
        Pending::Killed => Err(mlua::Error::RuntimeError(
            "Script killed by user with SCRIPT KILL...".into(),
        )),
        Pending::Panicked => Err(mlua::Error::RuntimeError(
            "A command inside the script panicked".into(),
        )),
        _ if p.is_null() => raised(lua, OUTSIDE),
        Pending::Refused(slot, msg) => {
            // SAFETY: as in `run_current`; the first half has returned,
            // so no other reference to the dispatcher is live.
            let dispatch = unsafe { &*p };
            dispatch.reject(lua, slot, msg)
        }
        Pending::Ran => {
            // SAFETY: as above.
            let dispatch = unsafe { &*p };
            dispatch.reply(lua)
        }
    }
}

/// Why a command inside a script was refused before it ran.
pub const UNDECLARED: &str = "Script attempted to access a key that was not declared in KEYS \
     (Tandem runs a script on the shards of its declared keys)";
/// A command that reaches beyond named keys (KEYS, SCAN, FLUSHDB, ...).
pub const BEYOND_KEYS: &str = "This command reaches beyond the keys a script declared, \
     which Tandem does not allow inside scripts";

/// One script run's side of `redis.call`: where its commands go and what
/// it has done so far.
pub struct Dispatch<'a> {
    /// The batch holding the declared keys (or the database).
    pub target: &'a dyn Target,
    /// The database the script runs in.
    pub db: &'a Db,
    /// The server.
    pub shared: &'a Shared,
    /// The calling client's session, lent to each command.
    pub session: &'a mut Session,
    /// The keys the run holds (KEYS, or a function's keys).
    pub declared: &'a [&'a [u8]],
    /// What the script declared.
    pub flags: ScriptFlags,
    /// EVAL_RO, FCALL_RO, or a `no-writes` script.
    pub read_only: bool,
    /// Memory was over the bound (and nothing evictable) as the run began.
    pub oom: bool,
    /// The script has run a write.
    pub dirty: bool,
    /// Each command's reply, parsed back into Lua.
    out: Out,
}

impl<'a> Dispatch<'a> {
    /// A dispatcher for one run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: &'a dyn Target,
        db: &'a Db,
        shared: &'a Shared,
        session: &'a mut Session,
        declared: &'a [&'a [u8]],
        flags: ScriptFlags,
        read_only: bool,
        oom: bool,
    ) -> Self {
        Dispatch {
            target,
            db,
            shared,
            session,
            declared,
            flags,
            read_only,
            oom,
            dirty: false,
            out: SCRATCH.with_borrow_mut(std::mem::take),
        }
    }

    /// Runs `f` (the script) with this as the thread's `redis.call`.
    pub fn enter<R>(&mut self, f: impl FnOnce() -> R) -> R {
        struct Leave(*mut Dispatch<'static>);
        impl Drop for Leave {
            fn drop(&mut self) {
                CURRENT.set(self.0);
            }
        }
        let me: *mut Dispatch<'_> = self;
        let _leave = Leave(CURRENT.replace(me.cast()));
        f()
    }

    /// Runs the command `args` on the run's batch, with Redis 7.0's
    /// checks first; its reply is left in `out`.
    fn execute(&mut self, args: &[&[u8]]) -> Pending {
        let found = Resolved::find(args).filter(|c| !c.unlisted_subcommand(args));
        let Some(cmd) = found else {
            return Pending::Refused(None, "Unknown Redis command called from script");
        };
        if let Err(msg) = self.admit(&cmd, args) {
            return Pending::Refused(Some(cmd.slot), msg);
        }
        if cmd.flags() & flags::WRITE != 0 && !self.dirty {
            // SCRIPT KILL either stopped it already, or cannot now.
            if !with_run(|r| r.watch.write()).unwrap_or(true) {
                return Pending::Killed;
            }
            self.dirty = true;
        }
        self.out.buf.clear();
        self.out.protocol = if with_run(RunState::resp3).unwrap_or(false) {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        // Each command is timed from its own start, not from where the
        // script's previous command ended.
        self.session.turn_clock = None;
        let mut call = Call::new(
            args,
            &mut self.out,
            self.session,
            self.shared,
            self.db,
            self.target,
        );
        run_counted(&mut call, &cmd);
        Pending::Ran
    }

    /// The reply `execute` left, as Lua values.
    fn reply(&self, lua: &Lua) -> mlua::Result<(bool, Value)> {
        let value = reply::to_lua(lua, &self.out.buf)?;
        match value {
            // An error reply: counted already, as the command's error.
            Value::Table(t) if self.out.buf.first() == Some(&b'-') => {
                t.raw_set("ignore_error_stats_update", true)?;
                Ok((false, Value::Table(t)))
            }
            v => Ok((true, v)),
        }
    }

    /// Redis 7.0's checks of a command called from a script, in its order
    /// (`scriptCall`), and Tandem's one: its keys must be held.
    fn admit(&self, cmd: &Resolved, args: &[&[u8]]) -> Result<(), &'static str> {
        if cmd.arity_error(args.len()).is_some() {
            return Err("Wrong number of args calling Redis command from script");
        }
        let f = cmd.flags();
        if f & flags::NOSCRIPT != 0 {
            return Err("This Redis command is not allowed from script");
        }
        if let Err(denied) = access::check(cmd, args, self.session) {
            access::log_denied(self.shared, self.session, cmd, args, denied, Context::Lua);
            return Err(access::script_message(denied));
        }
        if self.read_only && f & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
            return Err("Write commands are not allowed from read-only scripts.");
        }
        if f & flags::WRITE != 0 && !self.dirty {
            if let Some(_msg) = self.shared.persistence.refusal(&self.shared.config.load()) {
                return Err(MISCONF);
            }
            let allow_oom = !self.flags.compat && self.flags.allow_oom;
            if self.oom && !allow_oom && f & flags::DENYOOM != 0 {
                return Err("-OOM command not allowed when used memory > 'maxmemory'.");
            }
        }
        if !transaction::is_atomic(cmd.index) {
            return Err(BEYOND_KEYS);
        }
        let keys = keys_of(cmd.spec, args);
        if keys.iter().any(|k| !self.declared.contains(k)) {
            return Err(UNDECLARED);
        }
        Ok(())
    }

    fn reject(
        &self,
        lua: &Lua,
        slot: Option<crate::stats::Slot>,
        msg: &str,
    ) -> mlua::Result<(bool, Value)> {
        let t = error_table(lua, msg)?;
        // Counted as Redis counts a refusal: the command's rejected call
        // and the error, so not again when the script fails with it.
        if let Some(slot) = slot {
            self.shared.stats.reject(slot);
        }
        if let Ok(Value::String(s)) = t.raw_get::<Value>("err") {
            self.shared.stats.error(&s.as_bytes());
        }
        t.raw_set("ignore_error_stats_update", true)?;
        Ok((false, Value::Table(t)))
    }
}

impl Drop for Dispatch<'_> {
    fn drop(&mut self) {
        if self.out.buf.capacity() <= SCRATCH_KEPT {
            let out = std::mem::take(&mut self.out);
            SCRATCH.with_borrow_mut(|kept| *kept = out);
        }
    }
}

/// Redis's words for a write refused while the server cannot persist.
const MISCONF: &str = "-MISCONF Errors writing to disk: writes are refused until the problem is \
     fixed (see INFO persistence)";

/// A command's arguments from Lua values, as Redis takes them: strings as
/// they are, numbers as `%.17g`; anything else is refused.
pub fn arguments(args: &MultiValue) -> Result<Vec<Vec<u8>>, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    args.iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.as_bytes().to_vec()),
            // Lua 5.1 has only doubles: an integral one is still `%.17g`.
            Value::Integer(i) => Ok(tandem_engine::format_score(*i as f64).into_bytes()),
            Value::Number(n) => Ok(tandem_engine::format_score(*n).into_bytes()),
            _ => Err("Lua redis lib command arguments must be strings or integers"),
        })
        .collect()
}
