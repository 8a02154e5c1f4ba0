//! `cjson`: JSON for scripts, as lua-cjson 2.1.0 behaves in Redis 7.0.
//!
//! Encoding: numbers as `%.14g` (the precision is configurable, 1 to
//! 14), `/` escaped as `\/`, control bytes and DEL as `\u00XX`, other
//! bytes as they are; a table whose keys are all positive integers is an
//! array (holes are `null`; one sparser than half filled past index 10
//! is an error), any other table an object, the empty table `{}`;
//! `cjson.null` and nil are `null`. Decoding: `null` is `cjson.null`,
//! numbers are read as `strtod` reads them (hexadecimal, `inf` and
//! `nan` too), `\u` escapes become UTF-8, and nesting past 1000 is an
//! error. Errors are lua-cjson's, word for word.
//!
//! Configuration (`encode_max_depth`, ...) belongs to a module table, as
//! in lua-cjson; a thread's interpreter has its own, so a script that
//! changes it changes it for the scripts of that serving thread only.

mod config;
mod decode;
mod encode;
mod number;

use super::{arg_error, ok, type_error, Ret};
use crate::script::raising::raising;
use config::{Config, Shared};
use decode::decode;
use encode::encode;
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Makes a `cjson` module table with its own settings.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Rc::new(RefCell::new(Config::default()));
    let hidden = lua.create_table()?;
    let lib = lua.create_table()?;
    macro_rules! with_cfg {
        ($name:literal, $f:expr) => {{
            let cfg = cfg.clone();
            hidden.raw_set(
                $name,
                lua.create_function(move |lua, args: MultiValue| $f(lua, &cfg, args))?,
            )?;
            lib.raw_set($name, raising(lua, &hidden, $name, true)?)?;
        }};
    }
    with_cfg!("encode", encode);
    with_cfg!("decode", decode);
    with_cfg!("encode_sparse_array", sparse_array);
    with_cfg!("encode_max_depth", |lua, cfg: &Shared, args| int_option(
        lua,
        args,
        "encode_max_depth",
        1,
        i64::from(i32::MAX),
        |c: &mut Config| &mut c.encode_max_depth,
        cfg
    ));
    with_cfg!("decode_max_depth", |lua, cfg: &Shared, args| int_option(
        lua,
        args,
        "decode_max_depth",
        1,
        i64::from(i32::MAX),
        |c: &mut Config| &mut c.decode_max_depth,
        cfg
    ));
    with_cfg!("encode_number_precision", number_precision);
    with_cfg!("encode_keep_buffer", keep_buffer);
    with_cfg!("encode_invalid_numbers", encode_invalid_numbers);
    with_cfg!("decode_invalid_numbers", decode_invalid_numbers);
    hidden.raw_set(
        "new",
        lua.create_function(|lua, _: MultiValue| Ok((true, module(lua)?)))?,
    )?;
    lib.raw_set("new", raising(lua, &hidden, "new", true)?)?;
    lib.raw_set(
        "null",
        Value::LightUserData(LightUserData(std::ptr::null_mut())),
    )?;
    lib.raw_set("_NAME", "cjson")?;
    lib.raw_set("_VERSION", "2.1.0")?;
    Ok(lib)
}

// ----- configuration -----

/// lua-cjson's `json_enum_option` for booleans: on/off/true/false.
fn bool_option(lua: &Lua, args: &MultiValue, i: usize, fname: &str) -> Result<Option<bool>, Ret> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match &*s.as_bytes() {
            b"on" => Ok(Some(true)),
            b"off" => Ok(Some(false)),
            _ => Err(arg_error(
                lua,
                i + 1,
                fname,
                &format!("invalid option '{}'", s.to_string_lossy()),
            )),
        },
        Some(_) => Err(type_error(lua, args, i + 1, fname, "boolean or string")),
    }
}

fn int_arg(
    lua: &Lua,
    args: &MultiValue,
    i: usize,
    fname: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, Ret> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(None),
        v => match super::to_number(lua, v) {
            Some(n) => {
                let n = n as i64;
                if n < min || n > max {
                    return Err(arg_error(
                        lua,
                        i + 1,
                        fname,
                        &format!("expected integer between {min} and {max}"),
                    ));
                }
                Ok(Some(n))
            }
            None => Err(type_error(lua, args, i + 1, fname, "number")),
        },
    }
}

fn int_option(
    lua: &Lua,
    args: MultiValue,
    fname: &str,
    min: i64,
    max: i64,
    field: fn(&mut Config) -> &mut i64,
    cfg: &Shared,
) -> Ret {
    match int_arg(lua, &args, 0, fname, min, max) {
        Ok(Some(n)) => *field(&mut cfg.borrow_mut()) = n,
        Ok(None) => {}
        Err(e) => return e,
    }
    let n = *field(&mut cfg.borrow_mut());
    ok([Value::Number(n as f64)])
}

fn number_precision(lua: &Lua, cfg: &Shared, args: MultiValue) -> Ret {
    match int_arg(lua, &args, 0, "encode_number_precision", 1, 14) {
        Ok(Some(n)) => cfg.borrow_mut().precision = usize::try_from(n).unwrap_or(14),
        Ok(None) => {}
        Err(e) => return e,
    }
    let p = cfg.borrow().precision;
    ok([Value::Number(p as f64)])
}

fn sparse_array(lua: &Lua, cfg: &Shared, args: MultiValue) -> Ret {
    let fname = "encode_sparse_array";
    match bool_option(lua, &args, 0, fname) {
        Ok(Some(b)) => cfg.borrow_mut().sparse_convert = b,
        Ok(None) => {}
        Err(e) => return e,
    }
    match int_arg(lua, &args, 1, fname, 0, i64::from(i32::MAX)) {
        Ok(Some(n)) => cfg.borrow_mut().sparse_ratio = n,
        Ok(None) => {}
        Err(e) => return e,
    }
    match int_arg(lua, &args, 2, fname, 0, i64::from(i32::MAX)) {
        Ok(Some(n)) => cfg.borrow_mut().sparse_safe = n,
        Ok(None) => {}
        Err(e) => return e,
    }
    let c = *cfg.borrow();
    ok([
        Value::Boolean(c.sparse_convert),
        Value::Number(c.sparse_ratio as f64),
        Value::Number(c.sparse_safe as f64),
    ])
}

fn keep_buffer(lua: &Lua, cfg: &Shared, args: MultiValue) -> Ret {
    match bool_option(lua, &args, 0, "encode_keep_buffer") {
        Ok(Some(b)) => cfg.borrow_mut().keep_buffer = b,
        Ok(None) => {}
        Err(e) => return e,
    }
    ok([Value::Boolean(cfg.borrow().keep_buffer)])
}

fn encode_invalid_numbers(lua: &Lua, cfg: &Shared, args: MultiValue) -> Ret {
    let fname = "encode_invalid_numbers";
    match args.front() {
        Some(Value::String(s)) if &*s.as_bytes() == b"null" => {
            cfg.borrow_mut().encode_invalid_numbers = 2
        }
        _ => match bool_option(lua, &args, 0, fname) {
            Ok(Some(b)) => cfg.borrow_mut().encode_invalid_numbers = u8::from(b),
            Ok(None) => {}
            Err(e) => return e,
        },
    }
    let v = match cfg.borrow().encode_invalid_numbers {
        0 => Value::Boolean(false),
        1 => Value::Boolean(true),
        _ => Value::String(lua.create_string("null")?),
    };
    ok([v])
}

fn decode_invalid_numbers(lua: &Lua, cfg: &Shared, args: MultiValue) -> Ret {
    match bool_option(lua, &args, 0, "decode_invalid_numbers") {
        Ok(Some(b)) => cfg.borrow_mut().decode_invalid_numbers = b,
        Ok(None) => {}
        Err(e) => return e,
    }
    ok([Value::Boolean(cfg.borrow().decode_invalid_numbers)])
}
