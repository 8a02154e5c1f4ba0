//! A serving thread's Lua state: the sandbox (`sandbox.lua`), the
//! `redis` API's functions that need no running script, the scripts
//! this thread has compiled, and how one is run and its error reported.
//!
//! Owns the interpreter. Each serving thread has its own (Lua states are
//! single-threaded, and one per thread means scripts on different cores
//! never wait for each other's interpreter); what a script may reach is
//! the same in all of them, since the sandbox leaves no global a script
//! can change. It must never run a script outside `Vm::run`, which is
//! where a script's errors become Redis's error replies.

use super::cache::Script;
use super::error::{error_table, raised, ScriptError};
use super::flags::ScriptFlags;
use super::raising::{raising, raising_then, Halves};
use super::random;
use mlua::{chunk::ChunkMode, Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};
use std::collections::HashMap;

/// The chunk name Redis gives a script: errors read `user_script:1:`.
pub const SCRIPT_CHUNK: &str = "@user_script";
/// The chunk name Redis gives a function library.
pub const FUNCTION_CHUNK: &str = "@user_function";

/// A function this thread loaded: its callback, its flags and its name
/// as registered.
#[derive(Debug, Clone)]
pub struct CompiledFunction {
    /// The callback.
    pub callback: Function,
    /// Its flags.
    pub flags: ScriptFlags,
    /// Its name, as registered (errors and FUNCTION STATS show it).
    pub name: std::sync::Arc<[u8]>,
}

/// A thread's interpreter and what it compiled.
pub struct Vm {
    pub(super) lua: Lua,
    /// The protected globals every script runs in.
    env: Table,
    /// How a compiled script or function is called.
    invoker: super::invoke::Invoker,
    /// `xpcall`, kept before scripts could see it.
    pub(super) xpcall: Function,
    /// The error handler runs are protected by (Redis's
    /// `__redis__err__handler`).
    pub(super) handler: Function,
    /// The environment every library's code runs in.
    pub(super) function_env: Table,
    /// `set_loading(on)`: points `function_env` at the library API (on)
    /// or the functions' globals.
    pub(super) set_loading: Function,
    /// Functions loaded on this thread, by name in lowercase.
    functions: HashMap<Vec<u8>, CompiledFunction>,
    /// The function registry's generation they were loaded under.
    functions_generation: u64,
    /// The table `redis.call` finds its Rust half in.
    _api: Table,
    /// Compiled scripts by SHA-1, with their flags, so that a script
    /// this thread has run needs nothing shared to run again.
    /// (foldhash with a random seed: SipHash was a tenth of EVALSHA's
    /// own cost, and the seed keeps crafted names from colliding.)
    compiled: HashMap<[u8; 40], (Function, ScriptFlags), foldhash::fast::RandomState>,
    /// The script cache's generation these were compiled under.
    generation: u64,
}

impl Vm {
    /// A fresh interpreter with Redis's libraries and sandbox.
    pub fn new(random: std::sync::Arc<super::random::Rand48>) -> mlua::Result<Vm> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            // A Rust panic is not a Lua error a script's pcall may catch:
            // it goes on to the connection, which closes (`contained`).
            LuaOptions::new().catch_rust_panics(false),
        )?;
        let globals = lua.globals();
        let xpcall: Function = globals.get("xpcall")?;
        let api = lua.create_table()?;
        lua.set_app_data(random);
        api.raw_set("call", super::fastcall::make(&lua)?)?;
        api.raw_set("reply", super::fastcall::make_reply(&lua)?)?;
        api.raw_set(
            "reply_lua",
            lua.create_function(super::call::reply_current)?,
        )?;
        api.raw_set("sha1hex", lua.create_function(sha1hex)?)?;
        api.raw_set("log", lua.create_function(log)?)?;
        api.raw_set("setresp", lua.create_function(setresp)?)?;
        api.raw_set("set_repl", lua.create_function(set_repl)?)?;
        api.raw_set("acl_check_cmd", lua.create_function(acl_check_cmd)?)?;
        api.raw_set("random", lua.create_function(random::lua_random)?)?;
        api.raw_set("randomseed", lua.create_function(random::lua_randomseed)?)?;
        api.raw_set(
            "register_function",
            lua.create_function(super::function::load::register_function)?,
        )?;
        let redis = lua.create_table()?;
        let halves = Halves {
            first: "call",
            then: "reply",
            fallback: "reply_lua",
        };
        redis.raw_set("call", raising_then(&lua, &api, &halves, true)?)?;
        redis.raw_set("pcall", raising_then(&lua, &api, &halves, false)?)?;
        for name in ["sha1hex", "log", "setresp", "set_repl", "acl_check_cmd"] {
            redis.raw_set(name, raising(&lua, &api, name, true)?)?;
        }
        redis.raw_set("error_reply", lua.create_function(error_reply)?)?;
        redis.raw_set("status_reply", lua.create_function(status_reply)?)?;
        redis.raw_set(
            "replicate_commands",
            lua.create_function(|_, _: MultiValue| Ok(true))?,
        )?;
        redis.raw_set(
            "breakpoint",
            lua.create_function(|_, _: MultiValue| Ok(false))?,
        )?;
        redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
        for (name, n) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
        ] {
            redis.raw_set(name, n)?;
        }
        for (name, n) in [
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            redis.raw_set(name, n)?;
        }
        redis.raw_set("REDIS_VERSION", crate::command::REDIS_VERSION)?;
        redis.raw_set("REDIS_VERSION_NUM", version_num())?;
        globals.raw_set("redis", redis)?;
        let math: Table = globals.get("math")?;
        math.raw_set("random", raising(&lua, &api, "random", true)?)?;
        math.raw_set("randomseed", raising(&lua, &api, "randomseed", true)?)?;
        super::libs::install(&lua, &globals)?;
        let (env, function_env, set_loading, function_globals): (Table, Table, Function, Table) =
            lua.load(include_str!("sandbox.lua"))
                .set_name("=sandbox")
                .set_mode(ChunkMode::Text)
                .call((
                    globals.clone(),
                    lua.create_function(|_, ()| Ok(super::watch::stopping()))?,
                    raising(&lua, &api, "register_function", true)?,
                ))?;
        // Global: the coroutines a script makes inherit it (a loop inside
        // one must still be seen, and killed).
        lua.set_global_hook(
            mlua::HookTriggers::new().every_nth_instruction(super::watch::HOOK_EVERY),
            |_, _| super::watch::hook(),
        )?;
        let handler = lua.create_function(error_handler)?;
        globals.raw_set("__redis__err__handler", handler.clone())?;
        lua.set_globals(env.clone())?;
        let invoker = super::invoke::Invoker {
            globals,
            function_globals,
            names: super::invoke::Names::new(&lua)?,
            handler: handler.clone(),
        };
        Ok(Vm {
            lua,
            env,
            invoker,
            xpcall,
            handler,
            function_env,
            set_loading,
            functions: HashMap::new(),
            functions_generation: 0,
            _api: api,
            compiled: HashMap::default(),
            generation: 0,
        })
    }

    /// Compiles `body` (the script's text after its shebang) as Redis
    /// does, or Redis's error for it.
    pub fn compile(&self, body: &[u8]) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(SCRIPT_CHUNK)
            .set_mode(ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "Error compiling script (new function): {}",
                    syntax_message(&e)
                )
            })
    }

    /// The function and flags of the script named `sha`, if this thread
    /// compiled it in the cache's current generation (SCRIPT FLUSH starts
    /// a new one, and what was compiled before is dropped).
    pub fn cached(&mut self, sha: &[u8; 40], generation: u64) -> Option<(Function, ScriptFlags)> {
        if generation != self.generation {
            self.compiled.clear();
            self.generation = generation;
        }
        self.compiled.get(sha).cloned()
    }

    /// Compiles `script` on this thread and keeps it (see `cached`).
    pub fn function(
        &mut self,
        script: &Script,
        generation: u64,
    ) -> Result<(Function, ScriptFlags), String> {
        if let Some(found) = self.cached(&script.sha, generation) {
            return Ok(found);
        }
        let f = self.compile(script.code())?;
        self.compiled.insert(script.sha, (f.clone(), script.flags));
        Ok((f, script.flags))
    }

    /// Runs `f` with KEYS and ARGV set (EVAL), protected by the error
    /// handler. The script's result, or its error as Redis reports it.
    pub fn run_eval(
        &self,
        f: &Function,
        keys: &[&[u8]],
        argv: &[&[u8]],
    ) -> Result<Value, ScriptError> {
        self.invoke(f, super::invoke::Style::Globals, keys, argv)
    }

    /// Runs the function `f` with its keys and arguments (FCALL),
    /// protected by the error handler, as `run_eval`.
    pub fn run_function(
        &self,
        f: &Function,
        keys: &[&[u8]],
        argv: &[&[u8]],
    ) -> Result<Value, ScriptError> {
        self.invoke(f, super::invoke::Style::Arguments, keys, argv)
    }

    fn invoke(
        &self,
        f: &Function,
        style: super::invoke::Style,
        keys: &[&[u8]],
        argv: &[&[u8]],
    ) -> Result<Value, ScriptError> {
        let (ok, value) = self
            .invoker
            .call(&self.lua, f, style, keys, argv)
            .map_err(ScriptError::internal)?;
        if ok {
            Ok(value)
        } else {
            Err(ScriptError::from_value(value))
        }
    }

    /// The function named `lower` (in lowercase), if this thread loaded
    /// it under the registry's generation `generation` (a change of the
    /// registry drops what was loaded before).
    pub fn loaded_function(&mut self, lower: &[u8], generation: u64) -> Option<CompiledFunction> {
        if generation != self.functions_generation {
            self.functions.clear();
            self.functions_generation = generation;
        }
        self.functions.get(lower).cloned()
    }

    /// Keeps the functions a library registered on this thread, under
    /// the registry's generation `generation` (see `loaded_function`).
    pub fn keep_functions(
        &mut self,
        generation: u64,
        registered: Vec<super::function::load::Registered>,
    ) {
        if generation != self.functions_generation {
            self.functions.clear();
            self.functions_generation = generation;
        }
        for r in registered {
            let compiled = CompiledFunction {
                callback: r.callback,
                flags: r.info.flags,
                name: std::sync::Arc::from(r.info.name.as_slice()),
            };
            // The first of two names that differ only in case is the one
            // FCALL finds (see `Libraries::add`).
            self.functions
                .entry(r.info.name.to_ascii_lowercase())
                .or_insert(compiled);
        }
    }

    /// The bytes the interpreter holds (INFO's `used_memory_lua`).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// Redis's number for its version: 7.0.15 is 0x07000f.
fn version_num() -> u32 {
    let mut parts = crate::command::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// A syntax error's text as Lua gives it (`user_script:1: ...`), without
/// what mlua adds around it.
pub(super) fn syntax_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Redis's `__redis__err__handler`: the error as a table with `err`
/// ("ERR " and the message, for a plain error), and where the script was
/// when it failed: the function that raised it, or its caller when that
/// was a C function or the sandbox's own Lua (the `raising` wrappers).
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        other => {
            let msg = match &other {
                Value::Nil => "nil".to_owned(),
                Value::Boolean(b) => b.to_string(),
                Value::Error(e) => raised_text(e),
                v => match lua.coerce_string(v.clone()) {
                    Ok(Some(s)) => s.to_string_lossy(),
                    _ => format!("{}: {:p}", v.type_name(), v.to_pointer()),
                },
            };
            error_table(lua, &msg)?
        }
    };
    for level in 1..16 {
        let frame = lua.inspect_stack(level, |d| {
            let src = d.source();
            (
                src.what,
                src.source.map(|s| s.into_owned()),
                d.current_line(),
            )
        });
        let Some((what, source, line)) = frame else {
            break;
        };
        if what == "C" || source.as_deref() == Some("=sandbox") {
            continue;
        }
        if let Some(source) = source {
            table.raw_set("source", source)?;
        }
        if let Some(line) = line {
            table.raw_set("line", line)?;
        }
        break;
    }
    Ok(table)
}

/// The message of an error a Rust function raised (the count hook's
/// kill): its own words, without mlua's wrapping.
fn raised_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => raised_text(cause),
        other => other.to_string(),
    }
}

/// A string or number as Lua's `tostring` writes it (numbers `%.14g`),
/// as Lua's `lua_isstring` takes it; `None` for other values.
pub(super) fn text_bytes(lua: &Lua, v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(v.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// `text_bytes` as text.
fn text_of(lua: &Lua, v: &Value) -> Option<String> {
    text_bytes(lua, v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn sha1hex(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if args.len() != 1 {
        let t = error_table(lua, "wrong number of arguments")?;
        return Ok((false, Value::Table(t)));
    }
    let bytes = match args.front() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        Some(v) => text_of(lua, v).unwrap_or_default().into_bytes(),
        None => Vec::new(),
    };
    let hex = super::cache::sha1_hex(&bytes);
    Ok((true, Value::String(lua.create_string(hex)?)))
}

fn single_field(lua: &Lua, args: &MultiValue, field: &str) -> mlua::Result<Table> {
    match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => {
            let t = lua.create_table()?;
            t.raw_set(field, s.clone())?;
            Ok(t)
        }
        _ => error_table(lua, "wrong number or type of arguments"),
    }
}

fn error_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Table> {
    match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => {
            let text = s.as_bytes();
            let mut dashed = Vec::with_capacity(text.len() + 1);
            if text.first() != Some(&b'-') {
                dashed.push(b'-');
            }
            dashed.extend_from_slice(&text);
            super::error::push_error_table(lua, &dashed)
        }
        _ => error_table(lua, "wrong number or type of arguments"),
    }
}

fn status_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Table> {
    single_field(lua, &args, "ok")
}

fn log(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let fail = |msg: &str| raised(lua, msg);
    if args.len() < 2 {
        return fail("redis.log() requires two arguments or more.");
    }
    let level = match args.front() {
        Some(Value::Integer(i)) => *i as f64,
        Some(Value::Number(n)) => *n,
        Some(Value::String(s)) => match s.to_str().ok().and_then(|t| t.trim().parse().ok()) {
            Some(n) => n,
            None => return fail("First argument must be a number (log level)."),
        },
        _ => return fail("First argument must be a number (log level)."),
    };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return fail("Invalid debug level.");
    }
    let mut text = String::new();
    for (i, v) in args.iter().skip(1).enumerate() {
        let Some(piece) = text_of(lua, v) else {
            continue;
        };
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&piece);
    }
    match level {
        0 => tracing::debug!(target: "tandem::script", "{text}"),
        1 => tracing::info!(target: "tandem::script", "{text}"),
        2 => tracing::info!(target: "tandem::script", "{text}"),
        _ => tracing::warn!(target: "tandem::script", "{text}"),
    }
    Ok((true, Value::Nil))
}

fn setresp(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let fail = |msg: &str| raised(lua, msg);
    if super::call::with_run(|_| ()).is_none() {
        return fail("redis.setresp can only be called inside a script invocation");
    }
    if args.len() != 1 {
        return fail("redis.setresp() requires one argument.");
    }
    let resp = match args.front() {
        Some(Value::Integer(i)) => *i,
        Some(Value::Number(n)) => *n as i64,
        Some(Value::String(s)) => s
            .to_str()
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map_or(0, |n| n as i64),
        _ => 0,
    };
    if resp != 2 && resp != 3 {
        return fail("RESP version must be 2 or 3.");
    }
    super::call::with_run(|run| run.set_resp(resp == 3));
    Ok((true, Value::Nil))
}

fn set_repl(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let fail = |msg: &str| raised(lua, msg);
    if super::call::with_run(|_| ()).is_none() {
        return fail("redis.set_repl can only be called inside a script invocation");
    }
    if args.len() != 1 {
        return fail("redis.set_repl() requires two arguments.");
    }
    let flags = match args.front() {
        Some(Value::Integer(i)) => *i,
        Some(Value::Number(n)) => *n as i64,
        _ => 0,
    };
    // Effects are what is logged, whatever the script asks: a no-op
    // beyond Redis's check of the value.
    if flags & !3 != 0 {
        return fail(
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
    }
    Ok((true, Value::Nil))
}

fn acl_check_cmd(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let fail = |msg: &str| raised(lua, msg);
    if super::call::with_run(|_| ()).is_none() {
        return fail("redis.acl_check_cmd can only be called inside a script invocation");
    }
    let args = match super::call::arguments(&args) {
        Ok(a) => a,
        Err(msg) => return fail(msg),
    };
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    match super::call::acl_allows(&refs) {
        Some(Ok(allowed)) => Ok((true, Value::Boolean(allowed))),
        Some(Err(())) => fail("Invalid command passed to redis.acl_check_cmd()"),
        None => fail("redis.acl_check_cmd can only be called inside a script invocation"),
    }
}
