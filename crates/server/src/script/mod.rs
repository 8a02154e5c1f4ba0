//! Scripting: Lua scripts run atomically on the keyspace, as Redis 7.0
//! runs EVAL.
//!
//! Owns running a script: its interpreter (one per serving thread,
//! `vm.rs`), the cache of scripts by SHA-1 (`cache.rs`), the shebang's
//! flags (`flags.rs`), `redis.call` (`call.rs`), replies between RESP and
//! Lua (`reply.rs`) and errors (`error.rs`). A script holds its declared
//! keys' shards for its whole run, through the engine batch EXEC uses, so
//! no other client sees it half done; see ARCHITECTURE.md, "Scripts", for
//! the rule on keys it did not declare. It must never run a script
//! without that batch, nor let a script's command take a lock of its own.

pub mod busy;
pub mod cache;
mod call;
mod error;
mod fastcall;
pub mod flags;
pub mod function;
mod invoke;
mod libs;
mod raising;
mod random;
mod reply;
pub mod stack;
mod vm;
mod watch;

pub use cache::{Script, ScriptCache};

use crate::command::{Call, CmdResult, Reject};
use crate::eviction::Outcome;
use flags::ScriptFlags;
use mlua::Function;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use vm::Vm;

thread_local! {
    /// This thread's interpreter, made at its first script.
    static VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's interpreter, making it first if needed.
fn with_vm<R>(
    random: &Arc<random::Rand48>,
    f: impl FnOnce(&mut Vm) -> Result<R, Reject>,
) -> Result<R, Reject> {
    VM.with_borrow_mut(|slot| {
        if slot.is_none() {
            let vm = Vm::new(Arc::clone(random)).map_err(|e| {
                Reject::Owned(format!("ERR Error creating the Lua interpreter: {e}"))
            })?;
            *slot = Some(vm);
        }
        match slot.as_mut() {
            Some(vm) => {
                let r = f(vm);
                publish_vm_bytes(vm);
                r
            }
            None => Err(Reject::Static("ERR no Lua interpreter")),
        }
    })
}

/// The cached script of `body`, compiling and caching it if it is new
/// (EVAL, SCRIPT LOAD); Redis's error if its shebang or its code is bad.
pub fn load(cache: &ScriptCache, body: &[u8]) -> Result<Arc<Script>, Reject> {
    let sha = cache::sha1_key(body);
    if let Some(script) = cache.get(&sha) {
        return Ok(script);
    }
    let script = ScriptCache::prepare(body).map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    let generation = cache.generation();
    with_vm(&cache.random, |vm| compile(vm, &script, generation))?;
    Ok(cache.insert(script))
}

fn compile(
    vm: &mut Vm,
    script: &Script,
    generation: u64,
) -> Result<(Function, ScriptFlags), Reject> {
    vm.function(script, generation)
        .map_err(|e| Reject::Owned(format!("ERR {e}")))
}

/// The script a run is asked for.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// EVALSHA's: a SHA-1, in either case.
    Sha(&'a [u8]),
    /// EVAL's: the text.
    Body(&'a [u8]),
}

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// The function and flags of `source`, from this thread's interpreter if
/// it ran the script before (nothing shared touched), else from the cache
/// (EVALSHA) or compiled and cached (EVAL).
fn resolve(
    vm: &mut Vm,
    cache: &ScriptCache,
    source: Source<'_>,
) -> Result<(Function, ScriptFlags, [u8; 40]), Reject> {
    let generation = cache.generation();
    let sha = match source {
        Source::Sha(sha) => cache::key(sha).ok_or(Reject::Static(NOSCRIPT))?,
        Source::Body(body) => cache::sha1_key(body),
    };
    if let Some((f, flags)) = vm.cached(&sha, generation) {
        return Ok((f, flags, sha));
    }
    let script = match (cache.get(&sha), source) {
        (Some(script), _) => script,
        (None, Source::Sha(_)) => return Err(Reject::Static(NOSCRIPT)),
        (None, Source::Body(body)) => {
            let script =
                ScriptCache::prepare(body).map_err(|e| Reject::Owned(format!("ERR {e}")))?;
            compile(vm, &script, generation)?;
            cache.insert(script)
        }
    };
    let (f, flags) = compile(vm, &script, generation)?;
    Ok((f, flags, sha))
}

/// Whether this thread is running a script's command now (Redis's
/// `CLIENT_SCRIPT`): XREAD refuses BLOCK then.
pub fn in_script() -> bool {
    call::with_run(|_| ()).is_some()
}

/// Whether the command named `name` runs a script or a function.
pub fn runs_script(name: &str) -> bool {
    matches!(
        name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// Whether a request to `name` from `session` must run on a stack of its
/// own (`stack`): it runs a script, or it is an EXEC whose queue does.
pub fn needs_stack(name: &str, session: &crate::session::Session) -> bool {
    runs_script(name) || (name == "exec" && session.multi.as_ref().is_some_and(|m| m.scripts))
}

/// Runs a script for the client of `c` and writes its reply: Redis 7.0's
/// checks before it runs (`scriptPrepareForRun`), then the run on a batch
/// holding its keys.
pub fn run(
    c: &mut Call<'_>,
    source: Source<'_>,
    keys: &[&[u8]],
    argv: &[&[u8]],
    read_only_command: bool,
) -> CmdResult {
    let shared = c.shared;
    with_vm(&shared.scripts.random, |vm| {
        let (f, flags, sha) = resolve(vm, &shared.scripts, source)?;
        let target = Target {
            f: &f,
            flags,
            running: busy::Running::Eval(sha),
            function: false,
        };
        run_resolved(c, vm, target, keys, argv, read_only_command)
    })
}

/// Runs the function named `name` for the client of `c` (FCALL,
/// FCALL_RO) and writes its reply, as `run` runs a script.
pub fn fcall(
    c: &mut Call<'_>,
    name: &[u8],
    keys: &[&[u8]],
    argv: &[&[u8]],
    read_only_command: bool,
) -> CmdResult {
    let shared = c.shared;
    let command: std::sync::Arc<[Vec<u8>]> = c.args.iter().map(|a| a.to_vec()).collect();
    with_vm(&shared.scripts.random, |vm| {
        let found = function_on_thread(vm, &shared.functions, name)?;
        let target = Target {
            f: &found.callback,
            flags: found.flags,
            running: busy::Running::Function {
                name: found.name,
                command,
            },
            function: true,
        };
        run_resolved(c, vm, target, keys, argv, read_only_command)
    })
}

const FUNCTION_NOT_FOUND: &str = "ERR Function not found";

/// Whether the script an EVAL, EVALSHA or FCALL request `args` would run
/// declared `no-writes`, as Redis's `getCommandFlags` reads it for them:
/// such a request is no write (CLIENT PAUSE WRITE lets it through). A
/// script without a shebang, a bad shebang, an unknown SHA or function
/// may write.
pub fn declares_no_writes(args: &[&[u8]], shared: &crate::shared::Shared) -> bool {
    let (Some(name), Some(what)) = (args.first(), args.get(1)) else {
        return false;
    };
    let flags = if name.eq_ignore_ascii_case(b"eval") {
        flags::parse(what).ok().map(|(f, _)| f)
    } else if name.eq_ignore_ascii_case(b"evalsha") {
        shared.scripts.get(what).map(|s| s.flags)
    } else if name.eq_ignore_ascii_case(b"fcall") {
        shared.functions.read(|l| {
            l.library_of(what).and_then(|lib| {
                lib.functions
                    .iter()
                    .find(|f| f.name.eq_ignore_ascii_case(what))
                    .map(|f| f.flags)
            })
        })
    } else {
        None
    };
    flags.is_some_and(|f| !f.compat && f.no_writes)
}

/// The function named `name` (either case) as this thread loaded it,
/// loading its library first if this thread has not since the registry
/// last changed.
fn function_on_thread(
    vm: &mut Vm,
    functions: &function::Functions,
    name: &[u8],
) -> Result<vm::CompiledFunction, Reject> {
    // Read before the library: a change in between makes what is kept
    // below stale at once, never current when it is not.
    let generation = functions.generation();
    let lower = name.to_ascii_lowercase();
    if let Some(found) = vm.loaded_function(&lower, generation) {
        return Ok(found);
    }
    let library = functions
        .read(|l| l.library_of(name).cloned())
        .ok_or(Reject::Static(FUNCTION_NOT_FOUND))?;
    let md =
        function::library::parse(&library.code).map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    let registered = vm
        .load_library(md.code, None)
        .map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    vm.keep_functions(generation, registered);
    vm.loaded_function(&lower, generation)
        .ok_or(Reject::Static(FUNCTION_NOT_FOUND))
}

/// Loads `text` (a library, first line included) on this thread's
/// interpreter, as FUNCTION LOAD does, and returns the library to add to
/// the registry, or Redis's error (without `ERR `). `timeout`: FUNCTION
/// LOAD's limit, or none.
pub fn prepare_library(
    random: &Arc<random::Rand48>,
    text: &[u8],
    timeout: Option<std::time::Duration>,
) -> Result<function::Library, String> {
    let md = function::library::parse(text)?;
    let registered = with_vm(random, |vm| {
        vm.load_library(md.code, timeout).map_err(Reject::Owned)
    })
    .map_err(|e| match e {
        Reject::Owned(text) => text,
        other => other.message("function|load"),
    })?;
    if registered.is_empty() {
        return Err("No functions registered".into());
    }
    Ok(function::Library {
        name: md.name,
        code: bytes::Bytes::copy_from_slice(text),
        functions: registered.into_iter().map(|r| r.info).collect(),
    })
}

/// What a run runs.
struct Target<'a> {
    f: &'a Function,
    flags: ScriptFlags,
    running: busy::Running,
    /// A function (FCALL): called with its keys and arguments, not with
    /// KEYS and ARGV set.
    function: bool,
}

fn run_resolved(
    c: &mut Call<'_>,
    vm: &mut Vm,
    target: Target<'_>,
    keys: &[&[u8]],
    argv: &[&[u8]],
    read_only_command: bool,
) -> CmdResult {
    let Target {
        f,
        flags,
        running,
        function,
    } = target;
    let shared = c.shared;
    let config = shared.config.load();
    if !flags.compat && !flags.no_writes {
        if shared.persistence.refusal(&config).is_some() {
            return Err(Reject::Static(
                "MISCONF Redis is configured to persist data to AOF, but it's currently unable to \
                 persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only \
                 scripts.",
            ));
        }
        if read_only_command {
            return Err(Reject::Static(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
    }
    // Redis's `pre_command_oom_state`: evicting here, before the batch
    // holds any lock that eviction could need (a pipeline's batch of
    // EVALSHAs forms only while there is no memory bound).
    let oom = config.eviction.maxmemory != 0
        && shared.eviction.perform(&shared.config, &shared.dbs) == Outcome::Stuck;
    if oom && !flags.compat && !(flags.allow_oom || flags.no_writes) {
        return Err(Reject::Static(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > \
             'maxmemory'",
        ));
    }
    let threshold = config.busy_reply_threshold;
    drop(config);
    let read_only = read_only_command || (!flags.compat && flags.no_writes);
    // A copy, not an allocation: a SHA-1's bytes, or two references.
    let shown = running.clone();
    let watch = watch::Watch::new(threshold, Arc::clone(&shared.scripts.busy), running);
    let run = call::begin(watch);
    let db = c.db();
    let batch = c.batch();
    let session = &mut *c.session;
    let was_in_exec = session.in_exec;
    // No command inside a script blocks (Redis's CLIENT_DENY_BLOCKING):
    // BLPOP and friends answer at once, as inside EXEC.
    session.in_exec = true;
    let in_batch = |f: &mut dyn FnMut(&dyn crate::command::Target) -> _| match batch {
        // A pipeline's batch holds the keys already (`connection/batch.rs`
        // lets only EVALSHAs whose keys it holds join).
        Some(tx) => f(tx),
        None => db.atomically(keys, |tx| f(tx)),
    };
    let result = in_batch(&mut |tx| {
        crate::eviction::holding_locks(|| {
            call::with_run(|r| r.watch.begin_record());
            let mut dispatch =
                call::Dispatch::new(tx, db, shared, session, keys, flags, read_only, oom);
            let result = dispatch.enter(|| {
                if function {
                    vm.run_function(f, keys, argv)
                } else {
                    vm.run_eval(f, keys, argv)
                }
            });
            // A command inside panicked: the panic goes on from here, out
            // of Lua, as any command's (the connection closes, the
            // batch lets go of the keys).
            if let Some(panic) = call::take_panic() {
                std::panic::resume_unwind(panic);
            }
            result
        })
    });
    session.in_exec = was_in_exec;
    let outcome = result.map(|value| {
        let resp3 = call::with_run(call::RunState::resp3).unwrap_or(false);
        reply::write(c.out, &value, resp3);
    });
    drop(run);
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => {
            let line = e.line(&String::from_utf8_lossy(shown.name()));
            if e.counted() {
                // Counted when the command inside failed.
                c.out.error_bytes(&line);
                Ok(())
            } else {
                Err(Reject::Owned(String::from_utf8_lossy(&line).into_owned()))
            }
        }
    }
}

/// Drops this thread's interpreter and takes its bytes out of INFO's
/// count: for a thread that loaded libraries and now ends (start-up's
/// loading thread), whose interpreter would otherwise be counted forever.
pub fn release_thread_vm() {
    let vm = VM.with_borrow_mut(Option::take);
    drop(vm);
    let published = PUBLISHED.replace(0);
    VM_BYTES.fetch_sub(
        published.min(VM_BYTES.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
}

/// Bytes held by every thread's interpreter, as last published.
static VM_BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// What this thread's interpreter last added to `VM_BYTES`.
    static PUBLISHED: Cell<u64> = const { Cell::new(0) };
}

/// Adds this thread's interpreter's change in size to `VM_BYTES` when it
/// moved by 16 KiB or more: one shared write now and then, not per script.
fn publish_vm_bytes(vm: &Vm) {
    let now = u64::try_from(vm.used_memory()).unwrap_or(u64::MAX);
    let before = PUBLISHED.get();
    if now.abs_diff(before) >= 16 * 1024 || before == 0 {
        if now >= before {
            VM_BYTES.fetch_add(now - before, Ordering::Relaxed);
        } else {
            VM_BYTES.fetch_sub(before - now, Ordering::Relaxed);
        }
        PUBLISHED.set(now);
    }
}

/// What scripting holds, for INFO's memory section.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// The interpreters' bytes (`used_memory_lua`).
    pub vm_bytes: u64,
    /// The cached scripts' bytes (`used_memory_scripts_eval`).
    pub script_bytes: u64,
    /// How many scripts are cached.
    pub scripts: u64,
    /// How many function libraries there are (`number_of_libraries`).
    pub libraries: u64,
    /// How many functions they registered (`number_of_functions`).
    pub functions: u64,
    /// The bytes the libraries take (`used_memory_functions`).
    pub function_bytes: u64,
}

/// What scripting holds now.
pub fn usage(cache: &ScriptCache, functions: &function::Functions) -> Usage {
    let (scripts, bytes) = cache.usage();
    let (libraries, count) = functions.read(function::Libraries::counts);
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    Usage {
        vm_bytes: VM_BYTES.load(Ordering::Relaxed),
        script_bytes: n(bytes),
        scripts: n(scripts),
        libraries: n(libraries),
        functions: n(count),
        function_bytes: n(functions.bytes()),
    }
}
