//! `redis.call`'s C half: the command's arguments read straight off the
//! Lua stack, the command run (`call::run_current`), then the Rust half
//! (`call::reply_current`, an mlua function kept as this closure's
//! upvalue) called to make the reply into Lua values.
//!
//! Owns reading the arguments. Through mlua each argument became a handle
//! and a copy, a tenth of an EVALSHA's instructions; here a string is
//! borrowed where it lies (it stays on the stack until the call returns)
//! and a number is written as Redis writes it (`%.17g`). It must never
//! call a Lua function that can raise an error (allocate, convert a
//! number in place) while Rust values that need dropping are alive: an
//! error leaves by `longjmp`. The arguments are read, and the command
//! run, in `run` below, which has returned before Lua is called again;
//! nor let a panic unwind through Lua's C frames (it is caught, and
//! resumed once the script is out of Lua).

use super::call;
use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua};
use smallvec::SmallVec;
use std::os::raw::c_int;

/// The C function `redis.call`'s raising wrapper calls: `reply` (the
/// Rust half) is its upvalue.
pub fn make(lua: &Lua, reply: Function) -> mlua::Result<Function> {
    // SAFETY: `exec_raw` runs the closure with `reply` on top of the
    // stack, in a protected call; `lua_pushcclosure` pops it as the
    // closure's upvalue and pushes one function, the result.
    unsafe { lua.exec_raw::<Function>(reply, push_closure) }
}

fn push_closure(state: *mut lua_State) {
    // SAFETY: called by `exec_raw` with the upvalue on top of a valid
    // state's stack.
    unsafe { ffi::lua_pushcclosure(state, call_c, 1) };
}

/// Lua calls this with the command's arguments at 1..=n and its upvalue
/// (the Rust half). Returns what the Rust half returns.
unsafe extern "C-unwind" fn call_c(state: *mut lua_State) -> c_int {
    // SAFETY: Lua calls this with a valid state.
    let n = unsafe { ffi::lua_gettop(state) };
    // A panic must not unwind through Lua's C frames: it is caught here,
    // the script fails, and the panic goes on once it is out of Lua
    // (`call::take_panic`).
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(state, n))) {
        call::panicked(panic);
    }
    // SAFETY: as above; a C function has at least LUA_MINSTACK free slots,
    // and one is used.
    unsafe { ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1)) };
    // SAFETY: as above; the Rust half takes no arguments, and its results
    // are pushed above the arguments. Nothing in this frame needs
    // dropping if it raises.
    unsafe { ffi::lua_call(state, 0, ffi::LUA_MULTRET) };
    // SAFETY: as above.
    let top = unsafe { ffi::lua_gettop(state) };
    top - n
}

/// An argument: where it lies on the stack, or the index of its text
/// among the numbers written.
enum Arg {
    Lua(*const u8, usize),
    Number(usize),
}

/// Reads the arguments at 1..=n and runs the command. Calls nothing in
/// Lua that can raise.
fn run(state: *mut lua_State, n: c_int) {
    if n <= 0 {
        call::run_current(Err(
            "Please specify at least one argument for this redis lib call",
        ));
        return;
    }
    let mut args: SmallVec<[Arg; 8]> = SmallVec::new();
    let mut numbers: SmallVec<[String; 2]> = SmallVec::new();
    for i in 1..=n {
        // SAFETY: `i` is a valid stack index (1..=n, n the top).
        let kind = unsafe { ffi::lua_type(state, i) };
        match kind {
            ffi::LUA_TSTRING => {
                let mut len = 0usize;
                // SAFETY: as above; the value is a string, so this neither
                // converts nor allocates, and the pointer stays valid
                // while the string is on the stack (until this call
                // returns to Lua).
                let p = unsafe { ffi::lua_tolstring(state, i, &mut len) };
                args.push(Arg::Lua(p.cast(), len));
            }
            ffi::LUA_TNUMBER => {
                // SAFETY: as above; reading a number raises nothing.
                let x = unsafe { ffi::lua_tonumber(state, i) };
                args.push(Arg::Number(numbers.len()));
                // Lua 5.1 has only doubles: an integral one is still
                // `%.17g`, as Redis writes it.
                numbers.push(tandem_engine::format_score(x));
            }
            _ => {
                call::run_current(Err(
                    "Lua redis lib command arguments must be strings or integers",
                ));
                return;
            }
        }
    }
    let refs: SmallVec<[&[u8]; 8]> = args
        .iter()
        .map(|a| match *a {
            Arg::Lua(p, _) if p.is_null() => &[][..],
            // SAFETY: `p` and `len` are what `lua_tolstring` gave for a
            // string still on the stack: readable for `len` bytes.
            Arg::Lua(p, len) => unsafe { std::slice::from_raw_parts(p, len) },
            Arg::Number(k) => numbers.get(k).map_or(&[][..], |s| s.as_bytes()),
        })
        .collect();
    call::run_current(Ok(&refs));
}
