//! `bit`: LuaBitOp 1.0.2's operations on 32-bit integers, as Redis ships
//! them: arguments read as `lua_tonumber` reads them and reduced to their
//! low 32 bits the way LuaBitOp does (adding 2^52 + 2^51 and keeping the
//! low word, so 2.5 rounds to 2 and 3.5 to 4), results returned signed.

use super::{ok, to_number, type_error, LibFn, Ret};
use mlua::{Lua, MultiValue, Value};

/// The library's functions.
pub const FUNCTIONS: &[(&str, LibFn)] = &[
    ("tobit", tobit),
    ("bnot", bnot),
    ("band", band),
    ("bor", bor),
    ("bxor", bxor),
    ("lshift", lshift),
    ("rshift", rshift),
    ("arshift", arshift),
    ("rol", rol),
    ("ror", ror),
    ("bswap", bswap),
    ("tohex", tohex),
];

/// LuaBitOp's conversion of a number to its 32 bits.
fn bits_of(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// Argument `i` (from 1) of `fname` as 32 bits; LuaBitOp's type error
/// for what is not a number.
fn arg(lua: &Lua, args: &MultiValue, i: usize, fname: &str) -> Result<u32, Ret> {
    match to_number(lua, args.get(i - 1)) {
        Some(n) => Ok(bits_of(n)),
        None => Err(type_error(lua, args, i, fname, "number")),
    }
}

fn ret(b: u32) -> Ret {
    ok([Value::Number(f64::from(b as i32))])
}

macro_rules! unary {
    ($name:ident, $f:expr) => {
        fn $name(lua: &Lua, args: MultiValue) -> Ret {
            match arg(lua, &args, 1, stringify!($name)) {
                Ok(b) => ret($f(b)),
                Err(e) => e,
            }
        }
    };
}

macro_rules! fold {
    ($name:ident, $op:tt) => {
        fn $name(lua: &Lua, args: MultiValue) -> Ret {
            let mut b = match arg(lua, &args, 1, stringify!($name)) {
                Ok(b) => b,
                Err(e) => return e,
            };
            // LuaBitOp reads the arguments from the last to the second.
            for i in (2..=args.len()).rev() {
                match arg(lua, &args, i, stringify!($name)) {
                    Ok(x) => b $op x,
                    Err(e) => return e,
                }
            }
            ret(b)
        }
    };
}

macro_rules! shift {
    ($name:ident, $f:expr) => {
        fn $name(lua: &Lua, args: MultiValue) -> Ret {
            let b = match arg(lua, &args, 1, stringify!($name)) {
                Ok(b) => b,
                Err(e) => return e,
            };
            match arg(lua, &args, 2, stringify!($name)) {
                Ok(n) => ret($f(b, n & 31)),
                Err(e) => e,
            }
        }
    };
}

unary!(tobit, |b: u32| b);
unary!(bnot, |b: u32| !b);
unary!(bswap, u32::swap_bytes);
fold!(band, &=);
fold!(bor, |=);
fold!(bxor, ^=);
shift!(lshift, |b: u32, n: u32| b << n);
shift!(rshift, |b: u32, n: u32| b >> n);
shift!(arshift, |b: u32, n: u32| ((b as i32) >> n) as u32);
shift!(rol, |b: u32, n: u32| b.rotate_left(n));
shift!(ror, |b: u32, n: u32| b.rotate_right(n));

fn tohex(lua: &Lua, args: MultiValue) -> Ret {
    let mut b = match arg(lua, &args, 1, "tohex") {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut n = if args.len() < 2 {
        8
    } else {
        match arg(lua, &args, 2, "tohex") {
            Ok(n) => n as i32,
            Err(e) => return e,
        }
    };
    let digits: &[u8; 16] = if n < 0 {
        n = n.saturating_neg();
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = usize::try_from(n.min(8)).unwrap_or(0);
    let mut buf = [0u8; 8];
    for slot in buf.iter_mut().take(n).rev() {
        *slot = digits.get((b & 15) as usize).copied().unwrap_or(b'0');
        b >>= 4;
    }
    ok([Value::String(
        lua.create_string(buf.get(..n).unwrap_or_default())?,
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_reduce_to_32_bits_as_luabitop_does() {
        assert_eq!(bits_of(2.5), 2);
        assert_eq!(bits_of(3.5), 4);
        assert_eq!(bits_of(-1.0), u32::MAX);
        assert_eq!(bits_of(4294967296.0 + 5.0), 5);
    }
}
