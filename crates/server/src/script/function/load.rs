//! Loading a library on a serving thread's interpreter: its code runs
//! once, and what it registers with `redis.register_function` becomes
//! its functions (Redis 7.0's `luaEngineCreate`).
//!
//! Owns `redis.register_function` and Redis's errors for its arguments,
//! and the load's time limit (FUNCTION LOAD's 500 ms; none when a library
//! that loaded before is loaded again on another thread or at start-up,
//! since its code, which can reach no clock and no randomness, ends as it
//! ended then). It must never let a library's code see more than the
//! library API while it loads (`sandbox.lua` switches the environment),
//! nor leave that API switched on after.

use super::super::error::raised;
use super::super::flags::ScriptFlags;
use super::super::vm::{text_bytes as text, Vm, FUNCTION_CHUNK};
use super::library::{valid_name, BAD_NAME};
use super::FunctionInfo;
use mlua::{chunk::ChunkMode, Function, Lua, MultiValue, Value};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// FUNCTION LOAD's time limit.
pub const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// Redis's error for a load past its time limit.
pub const TIMED_OUT: &str = "FUNCTION LOAD timeout";

/// A function a library registered, with its code on this thread.
#[derive(Debug, Clone)]
pub struct Registered {
    /// What the registry keeps of it.
    pub info: FunctionInfo,
    /// Its callback, in this thread's interpreter.
    pub callback: Function,
}

/// The load running on this thread.
struct Loading {
    registered: Vec<Registered>,
    deadline: Option<Instant>,
}

thread_local! {
    static LOADING: RefCell<Option<Loading>> = const { RefCell::new(None) };
}

/// Whether the library loading on this thread is past its time limit:
/// the interpreter's count hook asks.
pub fn past_deadline() -> bool {
    LOADING.with_borrow(|l| {
        l.as_ref()
            .and_then(|l| l.deadline)
            .is_some_and(|d| Instant::now() >= d)
    })
}

/// Ends the load on this thread when dropped, whatever happened.
struct LoadGuard<'a> {
    set_loading: &'a Function,
}

impl Drop for LoadGuard<'_> {
    fn drop(&mut self) {
        // The load ends first, so that its time limit cannot fail the
        // switch back (the count hook raises while a load is past it).
        LOADING.with_borrow_mut(|l| *l = None);
        if let Err(e) = self.set_loading.call::<()>(false) {
            tracing::error!("could not switch the functions' globals back after a load: {e}");
        }
    }
}

impl Vm {
    /// Runs a library's `code` (what follows its first line) and returns
    /// the functions it registered, or Redis's error (without `ERR `).
    pub fn load_library(
        &self,
        code: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<Registered>, String> {
        let f = self
            .lua
            .load(code)
            .set_name(FUNCTION_CHUNK)
            .set_mode(ChunkMode::Text)
            .set_environment(self.function_env.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "Error compiling function: {}",
                    super::super::vm::syntax_message(&e)
                )
            })?;
        LOADING.with_borrow_mut(|l| {
            *l = Some(Loading {
                registered: Vec::new(),
                deadline: timeout.map(|t| Instant::now() + t),
            })
        });
        let guard = LoadGuard {
            set_loading: &self.set_loading,
        };
        self.set_loading
            .call::<()>(true)
            .map_err(|e| e.to_string())?;
        let ran = self
            .xpcall
            .call::<(bool, Value)>((f, &self.handler))
            .map_err(|e| e.to_string())?;
        let registered = LOADING.with_borrow_mut(|l| l.take().map(|l| l.registered));
        drop(guard);
        match ran {
            (true, _) => Ok(registered.unwrap_or_default()),
            (false, err) => {
                let msg = match super::super::error::ScriptError::from_value(err) {
                    super::super::error::ScriptError::Raised { msg, .. } => msg,
                    super::super::error::ScriptError::Internal(text) => text.into_bytes(),
                };
                Err(format!(
                    "Error registering functions: {}",
                    String::from_utf8_lossy(&msg)
                ))
            }
        }
    }
}

/// `redis.register_function`, as Redis 7.0's `luaRegisterFunction`: by
/// name and callback, or by a table of named arguments.
pub fn register_function(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if LOADING.with_borrow(Option::is_none) {
        return raised(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    }
    let read = match args.len() {
        1 => named(lua, args.front()),
        2 => positional(lua, args.front(), args.get(1)),
        _ => Err("wrong number of arguments to redis.register_function"),
    };
    let (info, callback) = match read {
        Ok(r) => r,
        Err(msg) => return raised(lua, msg),
    };
    if !valid_name(&info.name) {
        return raised(lua, BAD_NAME);
    }
    let added = LOADING.with_borrow_mut(|l| match l {
        Some(l) if l.registered.iter().any(|r| r.info.name == info.name) => false,
        Some(l) => {
            l.registered.push(Registered { info, callback });
            true
        }
        None => false,
    });
    if !added {
        return raised(lua, "Function already exists in the library");
    }
    Ok((true, Value::Nil))
}

type Read = Result<(FunctionInfo, Function), &'static str>;

fn positional(lua: &Lua, name: Option<&Value>, callback: Option<&Value>) -> Read {
    let name = name
        .and_then(|v| text(lua, v))
        .ok_or("first argument to redis.register_function must be a string")?;
    let Some(Value::Function(callback)) = callback else {
        return Err("second argument to redis.register_function must be a function");
    };
    Ok((
        FunctionInfo {
            name,
            description: None,
            flags: ScriptFlags::default(),
        },
        callback.clone(),
    ))
}

fn named(lua: &Lua, table: Option<&Value>) -> Read {
    let Some(Value::Table(table)) = table else {
        return Err(
            "calling redis.register_function with a single argument is only applicable \
                    to Lua table (representing named arguments).",
        );
    };
    let (mut name, mut description, mut callback) = (None, None, None);
    let mut flags = ScriptFlags::default();
    for pair in table.clone().pairs::<Value, Value>() {
        let (key, value) = pair.map_err(|_| "unknown argument given to redis.register_function")?;
        let key = text(lua, &key)
            .ok_or("named argument key given to redis.register_function is not a string")?;
        match key.to_ascii_lowercase().as_slice() {
            b"function_name" => {
                name = Some(text(lua, &value).ok_or(
                    "function_name argument given to redis.register_function must be a string",
                )?);
            }
            b"description" => {
                description = Some(text(lua, &value).ok_or(
                    "description argument given to redis.register_function must be a string",
                )?);
            }
            b"callback" => match value {
                Value::Function(f) => callback = Some(f),
                _ => {
                    return Err(
                        "callback argument given to redis.register_function must be a function",
                    )
                }
            },
            b"flags" => {
                let Value::Table(list) = value else {
                    return Err("flags argument to redis.register_function must be a table \
                                representing function flags");
                };
                flags = read_flags(lua, &list).ok_or("unknown flag given")?;
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok((
        FunctionInfo {
            name,
            description,
            flags,
        },
        callback,
    ))
}

/// The flags listed in `list` (`{'no-writes', ...}`, any case), read up
/// to its first hole; `None` for one that is not a flag.
fn read_flags(lua: &Lua, list: &mlua::Table) -> Option<ScriptFlags> {
    let mut flags = ScriptFlags::default();
    for i in 1.. {
        let v: Value = list.raw_get(i).ok()?;
        if v.is_nil() {
            break;
        }
        let name = text(lua, &v)?;
        if !flags.set(&name.to_ascii_lowercase()) {
            return None;
        }
    }
    Some(flags)
}
