//! Calling a compiled script or function: its KEYS and ARGV (or its keys
//! and arguments) made as Lua tables, and the protected call with the
//! error handler, done on the Lua stack in one step.
//!
//! Owns that step. Through mlua's conversions it took two protected calls
//! and a handle per string; done directly it is one call, and tables
//! built in place (a fifth of an EVALSHA's instructions before). It must
//! never hold a Rust value that needs dropping across a Lua call (an
//! error leaves by `longjmp`), nor leave anything but its two results on
//! the stack.

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua, Table, Value};
use std::os::raw::c_int;

/// The names `KEYS` and `ARGV` as Lua strings kept in the registry:
/// fetching one is an index, where pushing the text hashes and interns
/// it again for every run.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    keys: c_int,
    argv: c_int,
}

impl Names {
    /// Interns the two names in `lua`'s registry, for its lifetime.
    pub fn new(lua: &Lua) -> mlua::Result<Names> {
        let mut refs: [c_int; 2] = [0; 2];
        let slot = &mut refs;
        // SAFETY: `exec_raw` runs the closure on a valid state, in a
        // protected call, with three free slots; each string pushed is
        // popped at once by `luaL_ref`. The closure holds only a `&mut`
        // to two integers, nothing that needs dropping.
        unsafe { lua.exec_raw::<()>((), |state| intern(state, slot))? };
        Ok(Names {
            keys: refs[0],
            argv: refs[1],
        })
    }
}

/// Pushes each name and takes a registry reference to it (popping it).
fn intern(state: *mut lua_State, refs: &mut [c_int; 2]) {
    for (name, at) in [c"KEYS", c"ARGV"].into_iter().zip(refs.iter_mut()) {
        // SAFETY: `state` is the valid state `exec_raw` runs on, with
        // free slots.
        unsafe { ffi::lua_pushstring(state, name.as_ptr()) };
        // SAFETY: as above; pops the string just pushed.
        *at = unsafe { ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX) };
    }
}

/// How a compiled chunk is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// EVAL's: KEYS and ARGV are set as globals, and the chunk is called
    /// with no arguments.
    Globals,
    /// FCALL's: the function is called with the two tables.
    Arguments,
}

/// What every call needs: the real global table (where KEYS and ARGV
/// go), the two names, and the error handler calls are protected by.
#[derive(Debug, Clone)]
pub struct Invoker {
    /// The real globals.
    pub globals: Table,
    /// The functions' globals: the thread's while a function runs, so
    /// that a chunk it loads (`loadstring`) gets them, not EVAL's.
    pub function_globals: Table,
    /// KEYS and ARGV, interned.
    pub names: Names,
    /// Redis's `__redis__err__handler`.
    pub handler: Function,
}

impl Invoker {
    /// Calls `f` with `keys` and `argv` in `style`, protected by the
    /// handler; `(true, its first result)` or `(false, what the handler
    /// returned)`.
    pub fn call(
        &self,
        lua: &Lua,
        f: &Function,
        style: Style,
        keys: &[&[u8]],
        argv: &[&[u8]],
    ) -> mlua::Result<(bool, Value)> {
        let names = self.names;
        // SAFETY: `exec_raw` pushes the four values (stack 1: the
        // globals, 2: the function, 3: the handler, 4: the functions'
        // globals) and runs the closure
        // in a protected call, with three free slots checked; the closure
        // checks for the rest it uses. It owns nothing that needs
        // dropping (two slices, two integers and a `Style`), so a Lua
        // error leaving it by `longjmp` skips no destructor. It leaves
        // exactly `(ok, value)` on the stack, which `exec_raw` reads as
        // its results.
        unsafe {
            let args = (&self.globals, f, &self.handler, &self.function_globals);
            lua.exec_raw::<(bool, Value)>(args, |state| {
                body(state, names, style, keys, argv);
            })
        }
    }
}

/// The closure's body; see `call` for the stack it starts with.
fn body(state: *mut lua_State, names: Names, style: Style, keys: &[&[u8]], argv: &[&[u8]]) {
    // SAFETY: `state` is the valid state `exec_raw` runs the closure on.
    let room = unsafe { ffi::lua_checkstack(state, 10) };
    if room == 0 {
        // SAFETY: as above; three slots are free whatever happens.
        unsafe { ffi::lua_settop(state, 0) };
        // SAFETY: as above.
        unsafe { ffi::lua_pushboolean(state, 0) };
        // SAFETY: as above.
        unsafe { ffi::lua_pushnil(state) };
        return;
    }
    let nargs = match style {
        Style::Globals => {
            set_global(state, names.keys, keys);
            set_global(state, names.argv, argv);
            // SAFETY: as above; index 2 is the function.
            unsafe { ffi::lua_pushvalue(state, 2) };
            0
        }
        Style::Arguments => {
            // SAFETY: as above.
            unsafe { ffi::lua_pushvalue(state, 2) };
            push_array(state, keys);
            push_array(state, argv);
            // Everything that may fail is done: the thread's globals are
            // switched only around the protected call, which returns.
            // SAFETY: as above; stack: 1..4, the function, its two tables.
            unsafe { ffi::lua_pushvalue(state, ffi::LUA_GLOBALSINDEX) };
            // SAFETY: as above; the thread's globals go to index 5, below
            // the function and its tables.
            unsafe { ffi::lua_insert(state, 5) };
            // SAFETY: as above; index 4 is the functions' globals.
            unsafe { ffi::lua_pushvalue(state, 4) };
            // SAFETY: as above; pops them into the thread's globals.
            unsafe { ffi::lua_replace(state, ffi::LUA_GLOBALSINDEX) };
            2
        }
    };
    // SAFETY: as above; the function and its `nargs` arguments are on
    // top, the handler at index 3; one value (the result, or the
    // handler's) replaces them.
    let status = unsafe { ffi::lua_pcall(state, nargs, 1, 3) };
    if style == Style::Arguments {
        // SAFETY: as above; index 5 holds the thread's globals.
        unsafe { ffi::lua_pushvalue(state, 5) };
        // SAFETY: as above; puts them back.
        unsafe { ffi::lua_replace(state, ffi::LUA_GLOBALSINDEX) };
    }
    // SAFETY: as above.
    unsafe { ffi::lua_pushboolean(state, c_int::from(status == 0)) };
    // SAFETY: as above; moves `ok` to index 1.
    unsafe { ffi::lua_replace(state, 1) };
    // SAFETY: as above; moves the value (now on top) to index 2.
    unsafe { ffi::lua_replace(state, 2) };
    // SAFETY: as above; drops the rest.
    unsafe { ffi::lua_settop(state, 2) };
}

/// Sets `globals[name] = {items...}` without metamethods, `name` the
/// registry's reference to the name; the globals are at index 1.
fn set_global(state: *mut lua_State, name: c_int, items: &[&[u8]]) {
    // SAFETY: `state` is valid and has room (checked in `body`); `name`
    // is a reference `Names::new` made in this state's registry.
    unsafe { ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(name)) };
    push_array(state, items);
    // SAFETY: as above; the key and the table are on top, the globals at
    // index 1.
    unsafe { ffi::lua_rawset(state, 1) };
}

/// Pushes a new table holding `items` at 1, 2, ...
fn push_array(state: *mut lua_State, items: &[&[u8]]) {
    let n = c_int::try_from(items.len()).unwrap_or(c_int::MAX);
    // SAFETY: `state` is valid and has room (checked in `body`).
    unsafe { ffi::lua_createtable(state, n, 0) };
    for (i, item) in items.iter().enumerate() {
        // SAFETY: as above; `item` is readable for its length, and Lua
        // copies it.
        unsafe { ffi::lua_pushlstring(state, item.as_ptr().cast(), item.len()) };
        let at = c_int::try_from(i + 1).unwrap_or(c_int::MAX);
        // SAFETY: as above; the table is just below the string, and `at`
        // fits a C int (what this Lua's tables index by).
        unsafe { ffi::lua_rawseti(state, -2, ffi::lua_Integer::from(at)) };
    }
}
