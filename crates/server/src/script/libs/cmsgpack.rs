//! `cmsgpack`: MessagePack for scripts, as lua-cmsgpack 0.4.0 behaves in
//! Redis 7.0 (`pack`, `unpack`, `unpack_one`, `unpack_limit`).
//!
//! Packing: integral numbers as the smallest integer format, others as
//! a float when a float holds them exactly and as a double otherwise;
//! strings as str 8/16/32; a table whose keys are exactly 1..n as an
//! array (the empty table too), any other as a map; tables nested 16
//! deep, functions and nil as nil. Unpacking: what those formats read
//! back as; an unsigned 64-bit number past `i64::MAX` reads negative, as
//! the C library's cast makes it. A claimed length reserves nothing: an
//! element needs its bytes before it is made.

use super::{arg_error, fail, ok, to_bytes, to_number, type_error, LibFn, Ret};
use mlua::{Lua, MultiValue, Table, Value};

/// The library's functions.
pub const FUNCTIONS: &[(&str, LibFn)] = &[
    ("pack", pack),
    ("unpack", unpack),
    ("unpack_one", unpack_one),
    ("unpack_limit", unpack_limit),
];

/// The library's fields besides its functions.
pub const FIELDS: &[(&str, &str)] = &[
    ("_NAME", "cmsgpack"),
    ("_VERSION", "lua-cmsgpack 0.4.0"),
    ("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
    ("_DESCRIPTION", "MessagePack C implementation for Lua"),
];

/// Tables nested this deep are packed as nil.
const MAX_NESTING: usize = 16;
/// How deep unpacking may nest before it stops with an error (the C
/// library stops where the Lua stack does).
const MAX_DEPTH: usize = 1000;

fn pack(lua: &Lua, args: MultiValue) -> Ret {
    if args.is_empty() {
        return arg_error(lua, 0, "pack", "MessagePack pack needs input.");
    }
    let mut out = Vec::new();
    for v in &args {
        encode(v, 0, &mut out)?;
    }
    ok([Value::String(lua.create_string(&out)?)])
}

fn encode(v: &Value, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::String(s) => bytes(&s.as_bytes(), out),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => integer(*i, out),
        Value::Number(n) => {
            // As C: `(int64_t)n == n`, where the cast of what does not
            // fit is `i64::MIN`.
            let fits =
                n.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(n);
            if fits && (*n as i64) as f64 == *n {
                integer(*n as i64, out);
            } else {
                double(*n, out);
            }
        }
        Value::Table(t) if level < MAX_NESTING => table(t, level, out)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn integer(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn double(d: f64, out: &mut Vec<u8>) {
    let f = d as f32;
    if f64::from(f) == d {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// The C library's test: every key a positive number that fits an `int`
/// exactly, and the largest equal to their count.
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || n > f64::from(i32::MAX) || n.trunc() != n {
            return Ok(false);
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok(max == count)
}

fn table(t: &Table, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    if is_array(t)? {
        let len = t.raw_len();
        header(0x90, 0xdc, 0xdd, len, out);
        for i in 1..=len {
            let v: Value = t.get(i)?;
            encode(&v, level + 1, out)?;
        }
    } else {
        let pairs: Vec<(Value, Value)> = t
            .clone()
            .pairs::<Value, Value>()
            .collect::<mlua::Result<_>>()?;
        header(0x80, 0xde, 0xdf, pairs.len(), out);
        for (k, v) in &pairs {
            encode(k, level + 1, out)?;
            encode(v, level + 1, out)?;
        }
    }
    Ok(())
}

fn header(fix: u8, sixteen: u8, thirty_two: u8, n: usize, out: &mut Vec<u8>) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(sixteen);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(thirty_two);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Why unpacking stopped.
enum Stop {
    /// The input ended inside a value.
    Eof,
    /// A byte that starts no value this library reads.
    BadFormat,
    /// Nested deeper than `MAX_DEPTH`.
    TooDeep,
    /// The interpreter failed.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Lua(e)
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.data.len().saturating_sub(self.at)
    }

    /// `n` bytes from the cursor, consumed.
    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        if self.left() < n {
            return Err(Stop::Eof);
        }
        let s = self.data.get(self.at..self.at + n).ok_or(Stop::Eof)?;
        self.at += n;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }
}

fn decode(lua: &Lua, c: &mut Cursor<'_>, depth: usize) -> Result<Value, Stop> {
    if depth > MAX_DEPTH {
        return Err(Stop::TooDeep);
    }
    let tag = c.take(1)?.first().copied().unwrap_or(0);
    let number = |n: f64| Ok(Value::Number(n));
    match tag {
        0xcc => number(c.be(1)? as f64),
        0xd0 => number(f64::from(c.be(1)? as u8 as i8)),
        0xcd => number(c.be(2)? as f64),
        0xd1 => number(f64::from(c.be(2)? as u16 as i16)),
        0xce => number(c.be(4)? as f64),
        0xd2 => number(f64::from(c.be(4)? as u32 as i32)),
        // Pushed through `lua_Integer`, so past `i64::MAX` it wraps.
        0xcf => number(c.be(8)? as i64 as f64),
        0xd3 => number(c.be(8)? as i64 as f64),
        0xc0 => Ok(Value::Nil),
        0xc3 => Ok(Value::Boolean(true)),
        0xc2 => Ok(Value::Boolean(false)),
        0xca => number(f64::from(f32::from_bits(c.be(4)? as u32))),
        0xcb => number(f64::from_bits(c.be(8)?)),
        0xd9..=0xdb => {
            let n = match tag {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            let len = usize::try_from(c.be(n)?).map_err(|_| Stop::Eof)?;
            Ok(Value::String(lua.create_string(c.take(len)?)?))
        }
        0xdc | 0xdd => {
            let len = c.be(if tag == 0xdc { 2 } else { 4 })?;
            array(lua, c, len, depth)
        }
        0xde | 0xdf => {
            let len = c.be(if tag == 0xde { 2 } else { 4 })?;
            map(lua, c, len, depth)
        }
        t if t & 0x80 == 0 => number(f64::from(t)),
        t if t & 0xe0 == 0xe0 => number(f64::from(t as i8)),
        t if t & 0xe0 == 0xa0 => Ok(Value::String(
            lua.create_string(c.take(usize::from(t & 0x1f))?)?,
        )),
        t if t & 0xf0 == 0x90 => array(lua, c, u64::from(t & 0xf), depth),
        t if t & 0xf0 == 0x80 => map(lua, c, u64::from(t & 0xf), depth),
        _ => Err(Stop::BadFormat),
    }
}

fn array(lua: &Lua, c: &mut Cursor<'_>, len: u64, depth: usize) -> Result<Value, Stop> {
    let t = lua.create_table()?;
    for i in 1..=len {
        let v = decode(lua, c, depth + 1)?;
        t.set(i, v)?;
    }
    Ok(Value::Table(t))
}

fn map(lua: &Lua, c: &mut Cursor<'_>, len: u64, depth: usize) -> Result<Value, Stop> {
    let t = lua.create_table()?;
    for _ in 0..len {
        let k = decode(lua, c, depth + 1)?;
        let v = decode(lua, c, depth + 1)?;
        // A nil or NaN key: `lua_settable` raises, as it does in C.
        t.set(k, v)?;
    }
    Ok(Value::Table(t))
}

/// Unpacks up to `limit` values from `offset` (both 0: every value, and
/// no offset returned), as `mp_unpack_full`.
fn unpack_full(lua: &Lua, args: &MultiValue, limit: i64, offset: i64) -> Ret {
    let Some(data) = to_bytes(lua, args.front()) else {
        return type_error(lua, args, 1, "unpack", "string");
    };
    let len = data.len();
    if offset < 0 || limit < 0 {
        // The library prints the input's length where it says limit.
        return fail(
            lua,
            &format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32, len as i32
            ),
        );
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    if offset > len {
        return fail(
            lua,
            &format!(
                "Start offset {} greater than input length {}.",
                offset as i32, len as i32
            ),
        );
    }
    let all = limit == 0 && offset == 0;
    let limit = if all { i64::from(i32::MAX) } else { limit };
    let mut c = Cursor {
        data: &data,
        at: offset,
    };
    let mut values = Vec::new();
    while c.left() > 0 && (values.len() as i64) < limit {
        match decode(lua, &mut c, 0) {
            Ok(v) => values.push(v),
            Err(Stop::Eof) => return fail(lua, "Missing bytes in input."),
            Err(Stop::BadFormat) => return fail(lua, "Bad data format in input."),
            Err(Stop::TooDeep) => {
                return fail(
                    lua,
                    "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
                )
            }
            Err(Stop::Lua(e)) => return Err(e),
        }
    }
    if !all {
        let next = if c.left() == 0 { -1.0 } else { c.at as f64 };
        values.insert(0, Value::Number(next));
    }
    ok(values)
}

fn unpack(lua: &Lua, args: MultiValue) -> Ret {
    unpack_full(lua, &args, 0, 0)
}

/// `luaL_optinteger`/`luaL_checkinteger` on argument `i` (from 1).
fn integer_arg(
    lua: &Lua,
    args: &MultiValue,
    i: usize,
    fname: &str,
    default: Option<i64>,
) -> Result<i64, Ret> {
    match (args.get(i - 1), default) {
        (None | Some(Value::Nil), Some(d)) => Ok(d),
        (v, _) => to_number(lua, v)
            .map(|n| n as i64)
            .ok_or_else(|| type_error(lua, args, i, fname, "number")),
    }
}

fn unpack_one(lua: &Lua, args: MultiValue) -> Ret {
    match integer_arg(lua, &args, 2, "unpack_one", Some(0)) {
        Ok(offset) => unpack_full(lua, &args, 1, offset),
        Err(e) => e,
    }
}

fn unpack_limit(lua: &Lua, args: MultiValue) -> Ret {
    let limit = match integer_arg(lua, &args, 2, "unpack_limit", None) {
        Ok(l) => l,
        Err(e) => return e,
    };
    match integer_arg(lua, &args, 3, "unpack_limit", Some(0)) {
        Ok(offset) => unpack_full(lua, &args, limit, offset),
        Err(e) => e,
    }
}
