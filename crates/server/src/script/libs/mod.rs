//! The libraries Redis 7.0 gives scripts besides Lua's own: `bit`
//! (LuaBitOp), `struct`, `cjson` and `cmsgpack`, written against their
//! documented behaviour and checked against Redis's replies.
//!
//! Owns installing them in an interpreter and what their functions share:
//! reading arguments as the C libraries do (`luaL_check*`) and raising
//! their errors, with the script's position, through `raising.rs`. It
//! must never expose anything beyond the functions Redis's builds have.

mod bit;
mod cjson;
mod cmsgpack;
mod structs;

use super::raising::{position, raising};
use mlua::{Lua, MultiValue, Table, Value};

/// What a library function returns to its C closure: `true` and its
/// values, or `false` and the error to raise.
pub type Ret = mlua::Result<MultiValue>;

/// A library function's Rust half.
pub type LibFn = fn(&Lua, MultiValue) -> Ret;

/// The values `vs`, returned.
pub fn ok(vs: impl IntoIterator<Item = Value>) -> Ret {
    Ok(std::iter::once(Value::Boolean(true)).chain(vs).collect())
}

/// An error as `luaL_error` raises it: the message after the script's
/// position.
pub fn fail(lua: &Lua, msg: &str) -> Ret {
    let text = format!("{}{msg}", position(lua));
    Ok([
        Value::Boolean(false),
        Value::String(lua.create_string(text)?),
    ]
    .into_iter()
    .collect())
}

/// `luaL_typerror`'s error for argument `n` (from 1) of `fname`.
pub fn type_error(lua: &Lua, args: &MultiValue, n: usize, fname: &str, expected: &str) -> Ret {
    let got = args.get(n - 1).map_or("no value", |v| v.type_name());
    type_error_got(lua, n, fname, expected, got)
}

/// `luaL_typerror`'s error, the type found given.
pub fn type_error_got(lua: &Lua, n: usize, fname: &str, expected: &str, got: &str) -> Ret {
    arg_error(lua, n, fname, &format!("{expected} expected, got {got}"))
}

/// `luaL_argerror`'s error for argument `n` of the function running,
/// named as Lua names it (the name it was called by, `?` when called
/// through `pcall`; `fname` if Lua cannot tell).
pub fn arg_error(lua: &Lua, n: usize, fname: &str, msg: &str) -> Ret {
    // Level 1: the C closure the script called.
    let name = lua
        .inspect_stack(1, |d| d.names().name.map(|n| n.into_owned()))
        .map_or_else(|| fname.to_owned(), |n| n.unwrap_or_else(|| "?".to_owned()));
    fail(lua, &format!("bad argument #{n} to '{name}' ({msg})"))
}

/// `lua_tonumber`: a number, or a string Lua reads as one.
pub fn to_number(lua: &Lua, v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        v @ Value::String(_) => lua.coerce_number(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// `lua_tolstring`: a string's bytes, or a number as Lua writes it.
pub fn to_bytes(lua: &Lua, v: Option<&Value>) -> Option<Vec<u8>> {
    match v? {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        v @ (Value::Integer(_) | Value::Number(_)) => lua
            .coerce_string(v.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// Installs a library: `name` in `globals`, each of `functions` a C
/// closure over its Rust function (kept in a hidden table).
fn install_lib(
    lua: &Lua,
    globals: &Table,
    name: &str,
    functions: &[(&str, LibFn)],
) -> mlua::Result<Table> {
    let hidden = lua.create_table()?;
    let lib = lua.create_table()?;
    for &(fname, f) in functions {
        hidden.raw_set(fname, lua.create_function(f)?)?;
        lib.raw_set(fname, raising(lua, &hidden, fname, true)?)?;
    }
    globals.raw_set(name, lib.clone())?;
    Ok(lib)
}

/// Installs every library in `globals` (before the sandbox protects them).
pub fn install(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    install_lib(lua, globals, "bit", bit::FUNCTIONS)?;
    install_lib(lua, globals, "struct", structs::FUNCTIONS)?;
    globals.raw_set("cjson", cjson::module(lua)?)?;
    let msgpack = install_lib(lua, globals, "cmsgpack", cmsgpack::FUNCTIONS)?;
    for &(name, value) in cmsgpack::FIELDS {
        msgpack.raw_set(name, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lua_with_libs() -> mlua::Result<Lua> {
        let lua = Lua::new();
        install(&lua, &lua.globals())?;
        Ok(lua)
    }

    proptest! {
        /// Any bytes given to the decoders end in values or in a Lua
        /// error, never in a panic or a hang: scripts pass them client
        /// data.
        #[test]
        fn decoders_take_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let lua = lua_with_libs().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let s = lua.create_string(&data).map_err(|e| TestCaseError::fail(e.to_string()))?;
            lua.globals().set("data", s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // Each decoder runs inside a Lua function that keeps its values
            // in a table: `pcall(f, ...)` handing back more than 20 values
            // (cmsgpack.unpack of 64 bytes can) overruns the C stack Lua
            // 5.1's own `pcall` pushes its status onto, which a debug
            // build of Lua asserts on (a rare abort of this test in CI).
            let code = "local function all(f, ...) local a = {...} \
                pcall(function() local t = {f(unpack(a))} end) end \
                all(cjson.decode, data) all(cmsgpack.unpack, data) \
                all(cmsgpack.unpack_limit, data, 2, 1) all(struct.unpack, data, data) \
                all(struct.pack, data, 1, 'x', 2) all(struct.size, data)";
            lua.load(code).exec().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }

        /// What cmsgpack and cjson make of a value they read back the same.
        #[test]
        fn encodings_round_trip(n in any::<i32>(), text in "[a-z/\"\\\\]{0,12}") {
            let lua = lua_with_libs().map_err(|e| TestCaseError::fail(e.to_string()))?;
            lua.globals().set("n", n).map_err(|e| TestCaseError::fail(e.to_string()))?;
            lua.globals().set("text", text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let same: bool = lua
                .load("local a = cmsgpack.unpack(cmsgpack.pack({n, text})) \
                       local b = cjson.decode(cjson.encode({n, text})) \
                       return a[1] == n and a[2] == text and b[1] == n and b[2] == text")
                .eval()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(same);
        }
    }
}
