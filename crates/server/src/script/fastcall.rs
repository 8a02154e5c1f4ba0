//! `redis.call`'s two halves as C functions. The first reads the
//! command's arguments straight off the Lua stack and runs the command
//! (`call::run_current`). The raising wrapper then calls the second
//! (`raising::raising_then`), which pushes the reply: a number, a string,
//! false or an `{ok = ...}` table here, anything else through
//! `call::reply_current` (mlua's conversions cost ~800 instructions a
//! call, a tenth of a four-key script's).
//!
//! Owns reading the arguments and pushing plain replies. Through mlua each argument became a handle
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

/// The C function `redis.call`'s raising wrapper calls first.
pub fn make(lua: &Lua) -> mlua::Result<Function> {
    // SAFETY: `call_c` is a C function that keeps to the Lua API's rules
    // (see it).
    unsafe { lua.create_c_function(call_c) }
}

/// The C function `redis.call`'s raising wrapper calls second.
pub fn make_reply(lua: &Lua) -> mlua::Result<Function> {
    // SAFETY: `reply_c` is a C function that keeps to the Lua API's rules
    // (see it).
    unsafe { lua.create_c_function(reply_c) }
}

/// Lua calls this with no arguments. Pushes `true` and the reply when it
/// is plain, or nothing, and the raising wrapper then calls
/// `call::reply_current` (not called from here: one C call deeper, it
/// could fail after the command ran). The pushes may raise (memory) and
/// leave by `longjmp`: no value here needs dropping by then (`Simple` is
/// plain data). A C function may push LUA_MINSTACK (20) values; this
/// pushes at most four at once. The pushes may also run a step of the
/// garbage collector, before the reply's bytes are copied: that is safe
/// only because no finalizer a script can set runs Lua (the sandbox takes
/// away `newproxy`, the one way to give a userdata a `__gc` in Lua 5.1),
/// so nothing can run a command and rewrite the reply buffer meanwhile.
unsafe extern "C-unwind" fn reply_c(state: *mut lua_State) -> c_int {
    let simple = std::panic::catch_unwind(call::take_simple).unwrap_or(None);
    let Some(simple) = simple else {
        return 0;
    };
    // SAFETY: Lua calls this with a valid state; for each push below.
    unsafe { ffi::lua_pushboolean(state, 1) };
    match simple {
        // SAFETY: as above.
        call::Simple::Integer(n) => unsafe { ffi::lua_pushnumber(state, n as ffi::lua_Number) },
        // SAFETY: as above.
        call::Simple::False => unsafe { ffi::lua_pushboolean(state, 0) },
        call::Simple::Bulk(p, len) => {
            // SAFETY: as above; `p` is readable for `len` bytes until the
            // script's next command (`take_simple`).
            unsafe { ffi::lua_pushlstring(state, p.cast(), len) };
        }
        call::Simple::Status(p, len) => {
            // SAFETY: as above.
            unsafe { ffi::lua_createtable(state, 0, 1) };
            // SAFETY: as above; a static string.
            unsafe { ffi::lua_pushlstring(state, c"ok".as_ptr(), 2) };
            // SAFETY: as for `Bulk`.
            unsafe { ffi::lua_pushlstring(state, p.cast(), len) };
            // SAFETY: as above; the table is below the key and value.
            unsafe { ffi::lua_rawset(state, -3) };
        }
    }
    2
}

/// Lua calls this with the command's arguments at 1..=n. Returns nothing:
/// what came of the command is kept for the second half.
unsafe extern "C-unwind" fn call_c(state: *mut lua_State) -> c_int {
    // SAFETY: Lua calls this with a valid state.
    let n = unsafe { ffi::lua_gettop(state) };
    // A panic must not unwind through Lua's C frames: it is caught here,
    // the script fails, and the panic goes on once it is out of Lua
    // (`call::take_panic`).
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(state, n))) {
        call::panicked(panic);
    }
    0
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
