//! Replies between RESP and Lua, as Redis 7.0 converts them.
//!
//! Owns both directions: a command's reply (the RESP the server wrote for
//! it) into Lua values for `redis.call`, and a script's result into the
//! reply the client gets. It must never trust a depth: a reply or result
//! nested past `MAX_DEPTH` (a table that holds itself) ends in an error,
//! never in a stack overflow. (A result that holds one table many times
//! over is written out in full, as Redis writes it.)
//!
//! RESP to Lua: integer to number; bulk string to string; null bulk and
//! null array to false (RESP2) and RESP3's null to nil; array to array
//! table; status to `{ok = ...}`; error to `{err = ...}`; RESP3 map to
//! `{map = {...}}`, set to `{set = {elem = true}}`, double to
//! `{double = n}`, big number to `{big_number = "..."}`, verbatim string to
//! `{verbatim_string = {format = ..., string = ...}}`, boolean to boolean.
//!
//! Lua to RESP: string to bulk; number to integer (truncated); boolean to
//! 1 or null (RESP2), or RESP3's boolean; a table with `err`, `ok`,
//! `double`, `big_number`, `verbatim_string`, `map` or `set` to that
//! reply; any other table to an array of its items up to the first nil;
//! anything else to null.

use super::error::one_line;
use crate::resp::{Out, Protocol};
use bytes::BufMut;
use mlua::{Lua, Table, Value};

/// How deep a reply or a result may nest.
pub const MAX_DEPTH: usize = 1000;

/// Reads one reply from `bytes` (the server's own output) into a Lua value.
pub fn to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<Value> {
    let mut at = 0;
    read(lua, bytes, &mut at, 0)
}

/// A reply `to_lua` makes into one plain value or an `{ok = ...}` table,
/// which `redis.call` can push without mlua (see `fastcall.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain<'a> {
    /// `:n`, a number.
    Integer(i64),
    /// RESP2's null bulk, false.
    False,
    /// A bulk string.
    Bulk(&'a [u8]),
    /// A status, `{ok = ...}`.
    Status(&'a [u8]),
}

/// `bytes` (one whole reply) as a `Plain`, if it is one.
pub fn plain(bytes: &[u8]) -> Option<Plain<'_>> {
    let (&tag, rest) = bytes.split_first()?;
    let end = memchr::memmem::find(rest, b"\r\n")?;
    let head = rest.get(..end)?;
    let after = rest.get(end + 2..)?;
    match tag {
        b':' if after.is_empty() => tandem_engine::parse_i64(head).map(Plain::Integer),
        b'+' if after.is_empty() => Some(Plain::Status(head)),
        b'$' => {
            let n = tandem_engine::parse_i64(head)?;
            let Ok(len) = usize::try_from(n) else {
                return after.is_empty().then_some(Plain::False);
            };
            let body = after.get(..len)?;
            (after.get(len..)? == b"\r\n").then_some(Plain::Bulk(body))
        }
        _ => None,
    }
}

fn line<'b>(bytes: &'b [u8], at: &mut usize) -> mlua::Result<&'b [u8]> {
    let rest = bytes.get(*at..).unwrap_or_default();
    let end = memchr::memmem::find(rest, b"\r\n")
        .ok_or_else(|| mlua::Error::runtime("truncated reply"))?;
    *at += end + 2;
    Ok(rest.get(..end).unwrap_or_default())
}

fn number(text: &[u8]) -> mlua::Result<i64> {
    tandem_engine::parse_i64(text).ok_or_else(|| mlua::Error::runtime("bad length in reply"))
}

fn read(lua: &Lua, bytes: &[u8], at: &mut usize, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime("reply nested too deep"));
    }
    let tag = *bytes
        .get(*at)
        .ok_or_else(|| mlua::Error::runtime("empty reply"))?;
    *at += 1;
    let head = line(bytes, at)?;
    match tag {
        b':' => Ok(Value::Number(number(head)? as f64)),
        b'$' | b'=' => {
            let n = number(head)?;
            let Ok(len) = usize::try_from(n) else {
                return Ok(Value::Boolean(false));
            };
            let body = bytes
                .get(*at..*at + len)
                .ok_or_else(|| mlua::Error::runtime("truncated reply"))?;
            *at += len + 2;
            if tag == b'=' {
                let (format, text) = (
                    body.get(..3).unwrap_or_default(),
                    body.get(4..).unwrap_or_default(),
                );
                let inner = lua.create_table()?;
                inner.raw_set("format", lua.create_string(format)?)?;
                inner.raw_set("string", lua.create_string(text)?)?;
                return single(lua, "verbatim_string", Value::Table(inner));
            }
            Ok(Value::String(lua.create_string(body)?))
        }
        b'+' => single(lua, "ok", Value::String(lua.create_string(head)?)),
        b'-' => Ok(Value::Table(super::error::push_error_table(
            lua,
            &[b"-", head].concat(),
        )?)),
        b'*' | b'~' | b'%' | b'>' => {
            let n = number(head)?;
            let Ok(n) = usize::try_from(n) else {
                return Ok(Value::Boolean(false));
            };
            // The count is the server's own: each element still needs
            // bytes, so nothing is reserved beyond what they can fill.
            let cap = n.min(bytes.len());
            match tag {
                b'%' => {
                    let map = lua.create_table()?;
                    for _ in 0..n {
                        let k = read(lua, bytes, at, depth + 1)?;
                        let v = read(lua, bytes, at, depth + 1)?;
                        map.raw_set(k, v)?;
                    }
                    single(lua, "map", Value::Table(map))
                }
                b'~' => {
                    let set = lua.create_table()?;
                    for _ in 0..n {
                        let k = read(lua, bytes, at, depth + 1)?;
                        set.raw_set(k, true)?;
                    }
                    single(lua, "set", Value::Table(set))
                }
                _ => {
                    let t = lua.create_table_with_capacity(cap, 0)?;
                    for i in 0..n {
                        let v = read(lua, bytes, at, depth + 1)?;
                        t.raw_seti(i + 1, v)?;
                    }
                    Ok(Value::Table(t))
                }
            }
        }
        b'_' => Ok(Value::Nil),
        b'#' => Ok(Value::Boolean(head == b"t")),
        b',' => {
            let text = std::str::from_utf8(head).unwrap_or("nan");
            let d = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                t => t.parse().unwrap_or(f64::NAN),
            };
            single(lua, "double", Value::Number(d))
        }
        b'(' => single(lua, "big_number", Value::String(lua.create_string(head)?)),
        b'|' => {
            // An attribute: read and dropped, as Redis does; the reply
            // follows it.
            let n = usize::try_from(number(head)?).unwrap_or(0);
            for _ in 0..n * 2 {
                read(lua, bytes, at, depth + 1)?;
            }
            read(lua, bytes, at, depth + 1)
        }
        _ => Err(mlua::Error::runtime("unknown reply type")),
    }
}

fn single(lua: &Lua, field: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(field, v)?;
    Ok(Value::Table(t))
}

/// Writes a script's result `v` as the reply, in the client's protocol
/// (`out.protocol`); `resp3` is the script's own `redis.setresp` choice,
/// which decides how booleans go in RESP2 terms.
pub fn write(out: &mut Out, v: &Value, resp3: bool) {
    write_at(out, v, resp3, 0);
}

fn write_at(out: &mut Out, v: &Value, resp3: bool, depth: usize) {
    if depth > MAX_DEPTH {
        out.error("ERR reached lua stack limit");
        return;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if !resp3 {
                if *b {
                    out.int(1);
                } else {
                    out.null();
                }
            } else {
                boolean(out, *b);
            }
        }
        Value::Integer(i) => out.int(*i),
        Value::Number(n) => out.int(truncate(*n)),
        Value::Table(t) => table(out, t, resp3, depth),
        _ => out.null(),
    }
}

/// As C's `(long long)` of a double on x86-64: toward zero, and
/// `i64::MIN` for NaN and what does not fit.
fn truncate(n: f64) -> i64 {
    // 2^63: the first double past `i64::MAX`.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

fn boolean(out: &mut Out, b: bool) {
    match out.protocol {
        Protocol::Resp3 => out.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        // Redis's `addReplyBool` for a RESP2 client: 1 or 0.
        Protocol::Resp2 => out.int(i64::from(b)),
    }
}

fn table(out: &mut Out, t: &Table, resp3: bool, depth: usize) {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        out.error_bytes(&one_line(&e.as_bytes()));
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        let text = one_line(&s.as_bytes());
        out.buf.put_u8(b'+');
        out.buf.put_slice(&text);
        out.buf.put_slice(b"\r\n");
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return double(out, d),
        Ok(Value::Integer(i)) => return double(out, i as f64),
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        let text = one_line(&s.as_bytes());
        match out.protocol {
            Protocol::Resp3 => {
                out.buf.put_u8(b'(');
                out.buf.put_slice(&text);
                out.buf.put_slice(b"\r\n");
            }
            Protocol::Resp2 => out.bulk(&text),
        }
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            verbatim(out, &format.as_bytes(), &text.as_bytes());
            return;
        }
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> = map.pairs::<Value, Value>().flatten().collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write_at(out, k, resp3, depth + 1);
            write_at(out, v, resp3, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let members: Vec<Value> = set
            .pairs::<Value, Value>()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        out.set(members.len());
        for k in &members {
            write_at(out, k, resp3, depth + 1);
        }
        return;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        write_at(out, v, resp3, depth + 1);
    }
}

fn double(out: &mut Out, d: f64) {
    let text = tandem_engine::format_score(d);
    out.double_text(text.as_bytes());
}

fn verbatim(out: &mut Out, format: &[u8], text: &[u8]) {
    match out.protocol {
        Protocol::Resp3 => {
            let mut digits = itoa::Buffer::new();
            out.buf.put_u8(b'=');
            out.buf.put_slice(digits.format(text.len() + 4).as_bytes());
            out.buf.put_slice(b"\r\n");
            let mut f = [b' '; 3];
            for (slot, b) in f.iter_mut().zip(format) {
                *slot = *b;
            }
            out.buf.put_slice(&f);
            out.buf.put_u8(b':');
            out.buf.put_slice(text);
            out.buf.put_slice(b"\r\n");
        }
        Protocol::Resp2 => out.bulk(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(lua: &Lua, bytes: &[u8], protocol: Protocol) -> Vec<u8> {
        let v = to_lua(lua, bytes).unwrap_or(Value::Nil);
        let mut out = Out {
            protocol,
            ..Out::default()
        };
        write(&mut out, &v, protocol == Protocol::Resp3);
        out.buf.to_vec()
    }

    #[test]
    fn replies_come_back_as_they_went_in() {
        let lua = Lua::new();
        for r in [
            &b":12\r\n"[..],
            b"$3\r\nabc\r\n",
            b"*2\r\n:1\r\n$1\r\nx\r\n",
            b"+OK\r\n",
            b"-ERR bad thing\r\n",
            b"-WRONGTYPE Operation\r\n",
        ] {
            assert_eq!(round_trip(&lua, r, Protocol::Resp2), r.to_vec());
        }
        // A null bulk is false, which RESP2 writes as the null bulk.
        assert_eq!(
            round_trip(&lua, b"$-1\r\n", Protocol::Resp2),
            b"$-1\r\n".to_vec()
        );
        assert_eq!(
            round_trip(&lua, b"*-1\r\n", Protocol::Resp2),
            b"$-1\r\n".to_vec()
        );
        for r in [
            &b",1.5\r\n"[..],
            b"#t\r\n",
            b"(123\r\n",
            b"%1\r\n$1\r\na\r\n:1\r\n",
            b"~1\r\n$1\r\na\r\n",
        ] {
            assert_eq!(round_trip(&lua, r, Protocol::Resp3), r.to_vec());
        }
        assert_eq!(
            round_trip(&lua, b"_\r\n", Protocol::Resp3),
            b"_\r\n".to_vec()
        );
    }

    #[test]
    fn plain_replies_read_as_to_lua_reads_them() {
        assert_eq!(plain(b":-12\r\n"), Some(Plain::Integer(-12)));
        assert_eq!(plain(b"$3\r\na\r\n\r\n"), Some(Plain::Bulk(b"a\r\n")));
        assert_eq!(plain(b"$0\r\n\r\n"), Some(Plain::Bulk(b"")));
        assert_eq!(plain(b"$-1\r\n"), Some(Plain::False));
        assert_eq!(plain(b"+OK\r\n"), Some(Plain::Status(b"OK")));
        // Everything else goes the slow way, to `to_lua`: other types,
        // and replies that are cut short or run on.
        for r in [
            &b""[..],
            b"-ERR x\r\n",
            b"*1\r\n:1\r\n",
            b"_\r\n",
            b",1.5\r\n",
            b"$5\r\nab",
            b"$2\r\nabc\r\n",
            b"$1\r\na",
            b":1\r\n:2\r\n",
            b"+OK\r\nx",
            b"$-1\r\nx",
            b":x\r\n",
        ] {
            assert_eq!(plain(r), None, "{r:?}");
        }
    }

    #[test]
    fn broken_replies_are_errors_not_panics() {
        let lua = Lua::new();
        for r in [&b""[..], b"$5\r\nab", b"*3\r\n:1\r\n", b"?x\r\n", b":12"] {
            assert!(to_lua(&lua, r).is_err(), "{r:?}");
        }
    }

    #[test]
    fn a_table_holding_itself_ends_in_an_error() -> mlua::Result<()> {
        let lua = Lua::new();
        let t = lua.create_table()?;
        t.raw_seti(1, t.clone())?;
        let mut out = Out::default();
        write(&mut out, &Value::Table(t), false);
        assert!(out.buf.ends_with(b"-ERR reached lua stack limit\r\n"));
        Ok(())
    }

    #[test]
    fn numbers_truncate_as_c_does() {
        assert_eq!(truncate(-3.9), -3);
        assert_eq!(truncate(f64::NAN), i64::MIN);
        assert_eq!(truncate(f64::INFINITY), i64::MIN);
        assert_eq!(truncate(2f64.powi(70)), i64::MIN);
    }
}
