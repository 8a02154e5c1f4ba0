//! lua-cjson's decoder: JSON text to Lua values, token by token as
//! lua-cjson reads it (the C string's end at a NUL byte, its token names
//! and positions in errors).

use super::config::{Config, Shared};
use super::number::strtod;
use crate::script::libs::{arg_error, fail, ok, to_bytes, type_error, Ret};
use mlua::{LightUserData, Lua, MultiValue, Value};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    /// lua-cjson's error token: what was wrong.
    Error(&'static str),
}

impl Token {
    fn name(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str(_) => "T_STRING",
            Token::Number(_) => "T_NUMBER",
            Token::Boolean(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(what) => what,
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    at: usize,
    depth: i64,
    cfg: Config,
}

impl Parser<'_> {
    /// The byte at `i`, or 0 past the end (the C string's terminator).
    fn byte(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts(&self, word: &[u8]) -> bool {
        self.data
            .get(self.at..)
            .is_some_and(|r| r.starts_with(word))
    }

    /// The next token and where it starts.
    fn next(&mut self) -> (Token, usize) {
        while matches!(self.byte(self.at), b' ' | b'\t' | b'\r' | b'\n') {
            self.at += 1;
        }
        let start = self.at;
        let ch = self.byte(self.at);
        let simple = match ch {
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b',' => Some(Token::Comma),
            b':' => Some(Token::Colon),
            0 => return (Token::End, start),
            _ => None,
        };
        if let Some(t) = simple {
            self.at += 1;
            return (t, start);
        }
        let token = match ch {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if !self.cfg.decode_invalid_numbers && self.invalid_number() {
                    Token::Error("invalid number")
                } else {
                    self.number()
                }
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if self.starts(b"true") {
                    self.at += 4;
                    Token::Boolean(true)
                } else if self.starts(b"false") {
                    self.at += 5;
                    Token::Boolean(false)
                } else if self.starts(b"null") {
                    self.at += 4;
                    Token::Null
                } else if self.cfg.decode_invalid_numbers && self.invalid_number() {
                    self.number()
                } else {
                    Token::Error("invalid token")
                }
            }
            _ => Token::Error("invalid token"),
        };
        // An error token is reported where the scan stopped.
        let at = if matches!(token, Token::Error(_)) {
            self.at
        } else {
            start
        };
        (token, at)
    }

    /// lua-cjson's test for numbers JSON does not allow.
    fn invalid_number(&self) -> bool {
        let mut p = self.at;
        match self.byte(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.byte(p);
        if c == b'0' {
            let c2 = self.byte(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let word = self.data.get(p..p + 3).unwrap_or_default();
        word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan")
    }

    fn number(&mut self) -> Token {
        let rest = self.data.get(self.at..).unwrap_or_default();
        let rest = rest.split(|&b| b == 0).next().unwrap_or_default();
        match strtod(rest) {
            Some((n, used)) if used > 0 => {
                self.at += used;
                Token::Number(n)
            }
            _ => Token::Error("invalid number"),
        }
    }

    fn string(&mut self) -> Token {
        self.at += 1;
        let mut s = Vec::new();
        loop {
            let ch = self.byte(self.at);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return Token::Error("unexpected end of string");
            }
            if ch == b'\\' {
                let decoded = match self.byte(self.at + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut s) {
                            continue;
                        }
                        return Token::Error("invalid unicode escape code");
                    }
                    _ => return Token::Error("invalid escape code"),
                };
                s.push(decoded);
                self.at += 2;
                continue;
            }
            s.push(ch);
            self.at += 1;
        }
        self.at += 1;
        Token::Str(s)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            let d = char::from(self.byte(at + i)).to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(v)
    }

    /// A `\uXXXX` escape (or a surrogate pair of them) at the cursor,
    /// appended as UTF-8.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.at + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.byte(self.at + 6) != b'\\' || self.byte(self.at + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.at + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        // Surrogates alone are written as their bytes, as lua-cjson does.
        let mut buf = [0u8; 4];
        let bytes: &[u8] = match char::from_u32(cp) {
            Some(c) => c.encode_utf8(&mut buf).as_bytes(),
            None => {
                buf[0] = 0xE0 | (cp >> 12) as u8;
                buf[1] = 0x80 | ((cp >> 6) & 0x3F) as u8;
                buf[2] = 0x80 | (cp & 0x3F) as u8;
                &buf[..3]
            }
        };
        out.extend_from_slice(bytes);
        self.at += len;
        true
    }

    fn error(&self, expected: &str, (token, at): &(Token, usize)) -> String {
        format!(
            "Expected {expected} but found {} at character {}",
            token.name(),
            at + 1
        )
    }

    fn descend(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth.min(super::config::HARD_MAX_DEPTH) {
            return Err(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.at
            ));
        }
        Ok(())
    }

    fn value(&mut self, lua: &Lua, token: (Token, usize)) -> Result<Value, String> {
        let lua_err = |e: mlua::Error| e.to_string();
        Ok(match token.0 {
            Token::Str(s) => Value::String(lua.create_string(&s).map_err(lua_err)?),
            Token::Number(n) => Value::Number(n),
            Token::Boolean(b) => Value::Boolean(b),
            Token::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
            Token::ObjBegin => {
                self.descend()?;
                let t = lua.create_table().map_err(lua_err)?;
                let mut tok = self.next();
                if tok.0 != Token::ObjEnd {
                    loop {
                        let Token::Str(key) = &tok.0 else {
                            return Err(self.error("object key string", &tok));
                        };
                        let key = lua.create_string(key).map_err(lua_err)?;
                        let colon = self.next();
                        if colon.0 != Token::Colon {
                            return Err(self.error("colon", &colon));
                        }
                        let item = self.next();
                        let v = self.value(lua, item)?;
                        t.raw_set(key, v).map_err(lua_err)?;
                        tok = self.next();
                        if tok.0 == Token::ObjEnd {
                            break;
                        }
                        if tok.0 != Token::Comma {
                            return Err(self.error("comma or object end", &tok));
                        }
                        tok = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(t)
            }
            Token::ArrBegin => {
                self.descend()?;
                let t = lua.create_table().map_err(lua_err)?;
                let mut tok = self.next();
                if tok.0 != Token::ArrEnd {
                    for i in 1.. {
                        let v = self.value(lua, tok)?;
                        t.raw_seti(i, v).map_err(lua_err)?;
                        tok = self.next();
                        if tok.0 == Token::ArrEnd {
                            break;
                        }
                        if tok.0 != Token::Comma {
                            return Err(self.error("comma or array end", &tok));
                        }
                        tok = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(t)
            }
            other => return Err(self.error("value", &(other, token.1))),
        })
    }
}

pub(super) fn decode(lua: &Lua, cfg: &Shared, args: MultiValue) -> Ret {
    if args.len() != 1 {
        return arg_error(lua, 1, "decode", "expected 1 argument");
    }
    let Some(data) = to_bytes(lua, args.front()) else {
        return type_error(lua, &args, 1, "decode", "string");
    };
    if data.len() >= 2 && (data.first() == Some(&0) || data.get(1) == Some(&0)) {
        return fail(lua, "JSON parser does not support UTF-16 or UTF-32");
    }
    let mut p = Parser {
        data: &data,
        at: 0,
        depth: 0,
        cfg: *cfg.borrow(),
    };
    let first = p.next();
    let value = match p.value(lua, first) {
        Ok(v) => v,
        Err(msg) => return fail(lua, &msg),
    };
    let end = p.next();
    if end.0 != Token::End {
        return fail(lua, &p.error("the end", &end));
    }
    ok([value])
}
