//! `struct`: Roberto Ierusalimschy's library for packing numbers and
//! strings into binary strings, as Redis ships it (`pack`, `unpack`,
//! `size`; C `long` integers of 8 bytes, native little-endian, a
//! `double`'s alignment of 8), with its errors.
//!
//! Format options: `<` `>` endianness, `!n` maximum alignment, `x` a zero
//! byte, `b`/`B` `h`/`H` `l`/`L` `T` `i[n]`/`I[n]` integers (signed when
//! lowercase), `f` `d` floats, `c[n]` fixed strings (`c0`: the length
//! given before), `s` zero-terminated strings; spaces are ignored.

use super::{arg_error, fail, ok, to_bytes, to_number, type_error, type_error_got, LibFn, Ret};
use mlua::{Lua, MultiValue, Value};

/// The library's functions.
pub const FUNCTIONS: &[(&str, LibFn)] = &[("pack", pack), ("unpack", unpack), ("size", size)];

/// Largest integer size (`i32` would be `i32`'s: `MAXINTSIZE`).
const MAX_INT_SIZE: usize = 32;
/// The default and largest alignment (`!` alone): a double's.
const MAX_ALIGN: usize = 8;

/// The format's reading state.
struct Format<'f> {
    fmt: &'f [u8],
    at: usize,
    little: bool,
    align: usize,
}

/// Why reading the format failed, as the error to raise.
enum Bad {
    /// `luaL_error`'s message.
    Error(String),
    /// `luaL_argerror` on argument 1.
    Arg(String),
}

impl<'f> Format<'f> {
    fn new(fmt: &'f [u8]) -> Self {
        Format {
            fmt,
            at: 0,
            little: true,
            align: 1,
        }
    }

    fn next(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// Digits at the cursor, or `default`.
    fn number(&mut self, default: usize) -> Result<usize, Bad> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(d) = self.fmt.get(self.at).filter(|c| c.is_ascii_digit()) {
            let d = usize::from(d - b'0');
            if a > (i32::MAX as usize) / 10 || a * 10 > (i32::MAX as usize) - d {
                return Err(Bad::Error("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a)
    }

    /// The size of option `opt` (0 for those without one).
    fn size(&mut self, opt: u8) -> Result<usize, Bad> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(Bad::Error(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                size
            }
            _ => 0,
        })
    }

    /// Padding before an item of `size` at offset `len`.
    fn padding(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align);
        (size - (len & (size - 1))) & (size - 1)
    }

    /// Endianness, alignment and spaces; anything else is invalid.
    fn control(&mut self, opt: u8) -> Result<(), Bad> {
        match opt {
            b' ' => {}
            b'>' => self.little = false,
            b'<' => self.little = true,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(Bad::Error(format!("alignment {a} is not a power of 2")));
                }
                self.align = a;
            }
            other => {
                return Err(Bad::Arg(format!(
                    "invalid format option '{}'",
                    char::from(other)
                )))
            }
        }
        Ok(())
    }
}

fn raise(lua: &Lua, fname: &str, bad: Bad) -> Ret {
    match bad {
        Bad::Error(msg) => fail(lua, &msg),
        Bad::Arg(msg) => arg_error(lua, 1, fname, &msg),
    }
}

fn format_arg(lua: &Lua, args: &MultiValue, fname: &str) -> Result<Vec<u8>, Ret> {
    to_bytes(lua, args.front()).ok_or_else(|| type_error(lua, args, 1, fname, "string"))
}

fn pack(lua: &Lua, args: MultiValue) -> Ret {
    let fmt = match format_arg(lua, &args, "pack") {
        Ok(f) => f,
        Err(e) => return e,
    };
    let mut f = Format::new(&fmt);
    let mut out: Vec<u8> = Vec::new();
    let mut arg = 2;
    while let Some(opt) = f.next() {
        let size = match f.size(opt) {
            Ok(s) => s,
            Err(bad) => return raise(lua, "pack", bad),
        };
        // The output's length is the library's running total.
        let pad = f.padding(out.len(), opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let Some(n) = to_number(lua, args.get(arg - 1)) else {
                    return missing(lua, &args, arg, "number");
                };
                arg += 1;
                // As C: a negative number through the signed type.
                let value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let bytes: Vec<u8> = (0..size)
                    .map(|i| value.checked_shr(8 * i as u32).unwrap_or(0) as u8)
                    .collect();
                if f.little {
                    out.extend(&bytes);
                } else {
                    out.extend(bytes.iter().rev());
                }
            }
            b'x' => out.push(0),
            b'f' | b'd' => {
                let Some(n) = to_number(lua, args.get(arg - 1)) else {
                    return missing(lua, &args, arg, "number");
                };
                arg += 1;
                let mut bytes = if opt == b'f' {
                    (n as f32).to_le_bytes().to_vec()
                } else {
                    n.to_le_bytes().to_vec()
                };
                if !f.little {
                    bytes.reverse();
                }
                out.extend(bytes);
            }
            b'c' | b's' => {
                let Some(s) = to_bytes(lua, args.get(arg - 1)) else {
                    return missing(lua, &args, arg, "string");
                };
                arg += 1;
                let len = if size == 0 { s.len() } else { size };
                if s.len() < len {
                    // The library names the argument after this one.
                    return arg_error(lua, arg, "pack", "string too short");
                }
                out.extend(s.get(..len).unwrap_or_default());
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => {
                if let Err(bad) = f.control(opt) {
                    return raise(lua, "pack", bad);
                }
            }
        }
    }
    ok([Value::String(lua.create_string(&out)?)])
}

/// PACK's error for argument `n`: past the last one the library finds
/// the nil it pushes to mark the end of the arguments.
fn missing(lua: &Lua, args: &MultiValue, n: usize, expected: &str) -> Ret {
    let got = args.get(n - 1).map_or("nil", Value::type_name);
    type_error_got(lua, n, "pack", expected, got)
}

/// An integer of `bytes` (in memory order), as the library reads one.
fn integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: u8| l = (l << 8) | u64::from(b);
    if little {
        bytes.iter().rev().for_each(|&b| push(b));
    } else {
        bytes.iter().for_each(|&b| push(b));
    }
    if !signed {
        return l as f64;
    }
    // As x86 shifts: by the count modulo 64.
    let mask = u64::MAX.wrapping_shl((bytes.len() * 8).wrapping_sub(1) as u32);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: MultiValue) -> Ret {
    let fmt = match format_arg(lua, &args, "unpack") {
        Ok(f) => f,
        Err(e) => return e,
    };
    let Some(data) = to_bytes(lua, args.get(1)) else {
        return type_error(lua, &args, 2, "unpack", "string");
    };
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1i64,
        v => match to_number(lua, v) {
            Some(n) => n as i64,
            None => return type_error(lua, &args, 3, "unpack", "number"),
        },
    };
    if start == 0 {
        return arg_error(lua, 3, "unpack", "offset must be 1 or greater");
    }
    // `size_t` arithmetic, as the library's: a negative offset wraps.
    let ld = data.len() as u64;
    let mut pos = (start as u64).wrapping_sub(1);
    let mut f = Format::new(&fmt);
    let mut results: Vec<Value> = Vec::new();
    let too_short = |lua: &Lua| arg_error(lua, 2, "unpack", "data string too short");
    while let Some(opt) = f.next() {
        let mut size = match f.size(opt) {
            Ok(s) => s as u64,
            Err(bad) => return raise(lua, "unpack", bad),
        };
        pos = pos.wrapping_add(f.padding(pos as usize, opt, size as usize) as u64);
        if !(size <= ld && pos <= ld - size) {
            return too_short(lua);
        }
        let at = pos as usize;
        let item = |len: u64| data.get(at..at + len as usize).unwrap_or_default();
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = integer(item(size), f.little, opt.is_ascii_lowercase());
                results.push(Value::Number(n));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(item(4));
                let v = if f.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                results.push(Value::Number(f64::from(v)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(item(8));
                let v = if f.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                results.push(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let previous = results.last().and_then(|v| to_number(lua, Some(v)));
                    let Some(n) = previous else {
                        return fail(lua, "format 'c0' needs a previous size");
                    };
                    results.pop();
                    size = n as u64;
                    if !(size <= ld && pos <= ld - size) {
                        return too_short(lua);
                    }
                }
                results.push(Value::String(lua.create_string(item(size))?));
            }
            b's' => {
                let rest = data.get(at..).unwrap_or_default();
                let Some(end) = memchr::memchr(0, rest) else {
                    return fail(lua, "unfinished string in data");
                };
                results.push(Value::String(
                    lua.create_string(rest.get(..end).unwrap_or_default())?,
                ));
                size = end as u64 + 1;
            }
            _ => {
                if let Err(bad) = f.control(opt) {
                    return raise(lua, "unpack", bad);
                }
            }
        }
        pos = pos.wrapping_add(size);
    }
    results.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    ok(results)
}

fn size(lua: &Lua, args: MultiValue) -> Ret {
    let fmt = match format_arg(lua, &args, "size") {
        Ok(f) => f,
        Err(e) => return e,
    };
    let mut f = Format::new(&fmt);
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = match f.size(opt) {
            Ok(s) => s,
            Err(bad) => return raise(lua, "size", bad),
        };
        pos += f.padding(pos, opt, size);
        if opt == b's' {
            return arg_error(lua, 1, "size", "option 's' has no fixed size");
        }
        if opt == b'c' && size == 0 {
            return arg_error(lua, 1, "size", "option 'c0' has no fixed size");
        }
        if !opt.is_ascii_alphanumeric() {
            if let Err(bad) = f.control(opt) {
                return raise(lua, "size", bad);
            }
        }
        pos += size;
    }
    ok([Value::Number(pos as f64)])
}
