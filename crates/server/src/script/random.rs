//! `math.random` as Redis 7.0 gives it to scripts: the 48-bit linear
//! congruential generator of POSIX `lrand48`, one sequence for the whole
//! server (its `Rand48`, in the script cache), started from `lrand48`'s
//! default state and reseeded only by `math.randomseed`.
//!
//! Owns the generator. It must never read the clock or the OS's
//! randomness: the same calls give the same numbers, as in Redis.

use super::libs::{arg_error, fail, ok, to_number, type_error, Ret};
use mlua::{Lua, MultiValue, Value};
use std::sync::atomic::{AtomicU64, Ordering};

const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// `lrand48`'s state before any seed: 0x1234ABCD330E.
const INITIAL: u64 = 0x1234_ABCD_330E;

/// A server's generator.
#[derive(Debug)]
pub struct Rand48(AtomicU64);

impl Default for Rand48 {
    fn default() -> Self {
        Rand48(AtomicU64::new(INITIAL))
    }
}

impl Rand48 {
    /// The next number, in `0..2^31`.
    pub fn next(&self) -> i64 {
        let step = |x: u64| (A.wrapping_mul(x).wrapping_add(C)) & MASK;
        let prev = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
            .unwrap_or(INITIAL);
        i64::try_from(step(prev) >> 17).unwrap_or(0)
    }

    /// `srand48(seed)`: the seed's 32 bits above `0x330E`.
    pub fn seed(&self, seed: i32) {
        let bits = u64::from(seed as u32);
        self.0.store((bits << 16) | 0x330E, Ordering::Relaxed);
    }
}

/// The generator of the server this interpreter serves (the
/// interpreter's app data, set when it was made), while a script runs.
fn generator(lua: &Lua) -> Option<mlua::AppDataRef<'_, std::sync::Arc<Rand48>>> {
    super::call::with_run(|_| ())?;
    lua.app_data_ref::<std::sync::Arc<Rand48>>()
}

/// `RAND_MAX` of Redis's generator.
const RAND_MAX: i64 = 2_147_483_647;

/// `luaL_checkint`: a number, or text that reads as one, truncated to 32
/// bits; `luaL_typerror`'s error otherwise.
fn check_int(lua: &Lua, args: &MultiValue, n: usize, fname: &str) -> Result<i64, Ret> {
    match to_number(lua, args.get(n - 1)) {
        Some(x) => Ok(i64::from(x as i64 as i32)),
        None => Err(type_error(lua, args, n, fname, "number")),
    }
}

/// `math.random` as Redis's.
pub fn lua_random(lua: &Lua, args: MultiValue) -> Ret {
    let Some(rand) = generator(lua) else {
        return fail(
            lua,
            "math.random can only be called inside a script invocation",
        );
    };
    let r = (rand.next() % RAND_MAX) as f64 / RAND_MAX as f64;
    let n = match args.len() {
        0 => r,
        1 => {
            let u = match check_int(lua, &args, 1, "random") {
                Ok(u) => u,
                Err(e) => return e,
            };
            if u < 1 {
                return arg_error(lua, 1, "random", "interval is empty");
            }
            (r * u as f64).floor() + 1.0
        }
        2 => {
            let (l, u) = match (
                check_int(lua, &args, 1, "random"),
                check_int(lua, &args, 2, "random"),
            ) {
                (Ok(l), Ok(u)) => (l, u),
                (Err(e), _) | (_, Err(e)) => return e,
            };
            if l > u {
                return arg_error(lua, 2, "random", "interval is empty");
            }
            (r * (u - l + 1) as f64).floor() + l as f64
        }
        _ => return fail(lua, "wrong number of arguments"),
    };
    ok([Value::Number(n)])
}

/// `math.randomseed` as Redis's.
pub fn lua_randomseed(lua: &Lua, args: MultiValue) -> Ret {
    let Some(rand) = generator(lua) else {
        return fail(
            lua,
            "math.randomseed can only be called inside a script invocation",
        );
    };
    match check_int(lua, &args, 1, "randomseed") {
        Ok(s) => {
            rand.seed(i32::try_from(s).unwrap_or(0));
            ok([])
        }
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis 7.0.15 answered `math.random(100)` with 40 then 85 on a
    /// fresh server, and after `math.randomseed(7)` 27 then 0.68203523041775.
    #[test]
    fn the_sequence_is_redis_s() {
        let g = Rand48::default();
        let r = |n: i64| (n % 2147483647) as f64 / 2147483647.0;
        assert_eq!((r(g.next()) * 100.0).floor() + 1.0, 40.0);
        assert_eq!((r(g.next()) * 100.0).floor() + 1.0, 85.0);
        g.seed(7);
        assert_eq!((r(g.next()) * 100.0).floor() + 1.0, 27.0);
        assert_eq!(format!("{:.14}", r(g.next())), "0.68203523041775");
    }
}
