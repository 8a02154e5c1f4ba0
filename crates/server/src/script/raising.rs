//! The `redis` API's functions that raise errors, as C functions.
//!
//! Owns one small C closure: it calls the function stored under a name in
//! the API table (or, for `redis.call`, the two or three parts stored
//! under names, one after the other) and raises the value it gets back
//! when that says so. Redis's own API functions are C functions, and that matters
//! for where an error is reported: a script's `return redis.call(...)` is
//! a tail call, which in Lua 5.1 drops the script's frame if the callee
//! is a Lua function but not if it is a C one. A Lua wrapper would report
//! errors without the script's line. mlua raises a Rust callback's error
//! as its own userdata, never as the table or string Redis raises, hence
//! this. It must never do more than those calls and that raise.

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua, Table};
use std::os::raw::c_int;

/// A C function that calls `api[name](...)`, which returns `ok` and then
/// its values (`(true, ...)`) or what to raise (`(false, error)`), and
/// returns those values; the error is raised if `raise` is set, and
/// returned otherwise (`redis.pcall`).
pub fn raising(lua: &Lua, api: &Table, name: &str, raise: bool) -> mlua::Result<Function> {
    // SAFETY: `exec_raw` runs the closure with the pushed values on top
    // of the stack, in a protected call; `lua_pushcclosure` pops them as
    // the closure's upvalues and pushes one function, the result.
    unsafe { lua.exec_raw::<Function>((api.clone(), name, raise), push_closure) }
}

/// The names of a two-half function's parts in the API table (see
/// `raising_then`).
pub struct Halves<'a> {
    /// Called with the arguments; returns nothing.
    pub first: &'a str,
    /// Called with none; its values are taken as `raising`'s, unless it
    /// returns none.
    pub then: &'a str,
    /// Called with none when `then` returned none, its values taken.
    pub fallback: &'a str,
}

/// As `raising`, for a function in two halves (see `Halves`). The parts
/// are called one after the other from here, at the same depth of C
/// calls, so that if the first could be called the others can too
/// (`redis.call` runs its command in the first: it must never fail after
/// it).
pub fn raising_then(
    lua: &Lua,
    api: &Table,
    halves: &Halves<'_>,
    raise: bool,
) -> mlua::Result<Function> {
    let upvalues = (
        api.clone(),
        halves.first,
        raise,
        halves.then,
        halves.fallback,
    );
    // SAFETY: as in `raising`, with five upvalues.
    unsafe { lua.exec_raw::<Function>(upvalues, push_closure_then) }
}

fn push_closure(state: *mut lua_State) {
    // SAFETY: called by `exec_raw` with the three upvalues on top of a
    // valid state's stack.
    unsafe { ffi::lua_pushcclosure(state, trampoline, 3) };
}

fn push_closure_then(state: *mut lua_State) {
    // SAFETY: called by `exec_raw` with the five upvalues on top of a
    // valid state's stack.
    unsafe { ffi::lua_pushcclosure(state, trampoline, 5) };
}

/// The closure's body. Upvalue 1 is the API table, 2 the function's name,
/// 3 whether to raise, and 4 and 5 (a `raising_then` closure's only; nil
/// in Lua 5.1 for a closure with three) the second half's name and its
/// fallback's. Lua calls it
/// with a valid state and those upvalues;
/// every stack index used is an argument or a value pushed here.
/// `lua_call` and `lua_error` may leave by `longjmp`, over a frame that
/// holds nothing to drop.
unsafe extern "C-unwind" fn trampoline(state: *mut lua_State) -> c_int {
    // SAFETY: see above, for each call below.
    let argc = unsafe { ffi::lua_gettop(state) };
    // SAFETY: as above.
    unsafe { ffi::lua_pushvalue(state, ffi::lua_upvalueindex(2)) };
    // SAFETY: as above; upvalue 1 is a table.
    unsafe { ffi::lua_rawget(state, ffi::lua_upvalueindex(1)) };
    // SAFETY: as above.
    unsafe { ffi::lua_insert(state, 1) };
    // SAFETY: as above; upvalue 4 is a string or nil.
    let then = unsafe { ffi::lua_type(state, ffi::lua_upvalueindex(4)) } == ffi::LUA_TSTRING;
    if then {
        // SAFETY: as above; the first half and its `argc` arguments are
        // on the stack from index 1; it leaves nothing.
        unsafe { ffi::lua_call(state, argc, 0) };
        // SAFETY: as above.
        unsafe { ffi::lua_settop(state, 0) };
        // SAFETY: as above.
        unsafe { ffi::lua_pushvalue(state, ffi::lua_upvalueindex(4)) };
        // SAFETY: as above; upvalue 1 is a table.
        unsafe { ffi::lua_rawget(state, ffi::lua_upvalueindex(1)) };
        // SAFETY: as above; the second half's values from index 1.
        unsafe { ffi::lua_call(state, 0, ffi::LUA_MULTRET) };
        // SAFETY: as above.
        if unsafe { ffi::lua_gettop(state) } == 0 {
            // SAFETY: as above; upvalue 5 is a string.
            unsafe { ffi::lua_pushvalue(state, ffi::lua_upvalueindex(5)) };
            // SAFETY: as above; upvalue 1 is a table.
            unsafe { ffi::lua_rawget(state, ffi::lua_upvalueindex(1)) };
            // SAFETY: as above; the fallback's values from index 1.
            unsafe { ffi::lua_call(state, 0, ffi::LUA_MULTRET) };
        }
    } else {
        // SAFETY: as above; the function and its `argc` arguments are on
        // the stack from index 1; its results replace them from index 1.
        unsafe { ffi::lua_call(state, argc, ffi::LUA_MULTRET) };
    }
    // SAFETY: as above.
    let results = unsafe { ffi::lua_gettop(state) };
    // SAFETY: as above; index 1 is the first result (`ok`), or none.
    let ok = unsafe { ffi::lua_toboolean(state, 1) } != 0;
    // SAFETY: as above.
    let raise = unsafe { ffi::lua_toboolean(state, ffi::lua_upvalueindex(3)) } != 0;
    if results == 0 {
        return 0;
    }
    // SAFETY: as above; drops `ok`, leaving the values (or the error).
    unsafe { ffi::lua_remove(state, 1) };
    if ok || !raise {
        return results - 1;
    }
    // SAFETY: as above; the error is now at index 1.
    unsafe { ffi::lua_settop(state, 1) };
    // SAFETY: as above; the value raised is on top.
    unsafe { ffi::lua_error(state) }
}

/// Where the script that called a raising function is, as `luaL_where`
/// writes it (`user_script:3: `): the caller of the C closure, two levels
/// above the Rust function it called. Empty when that caller is a C
/// function (`pcall`), as in Lua.
pub fn position(lua: &Lua) -> String {
    lua.inspect_stack(2, |d| {
        let src = d.source();
        match (src.short_src, d.current_line()) {
            (Some(s), Some(line)) if line > 0 => format!("{s}:{line}: "),
            _ => String::new(),
        }
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_what_the_function_returns() -> mlua::Result<()> {
        let lua = Lua::new();
        let api = lua.create_table()?;
        api.set(
            "f",
            lua.create_function(|lua, fail: bool| {
                let t = lua.create_table()?;
                t.set("err", "ERR nope")?;
                Ok((!fail, t))
            })?,
        )?;
        lua.globals().set("f", raising(&lua, &api, "f", true)?)?;
        let ok: bool = lua.load("return type(f(false)) == 'table'").eval()?;
        assert!(ok);
        let caught: String = lua
            .load("local ok, e = pcall(f, true); return e.err")
            .eval()?;
        assert_eq!(caught, "ERR nope");
        Ok(())
    }
}
