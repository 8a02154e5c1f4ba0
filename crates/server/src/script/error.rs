//! Errors inside scripts, in Redis 7.0's shapes: the `{err = "CODE msg"}`
//! tables that `redis.call` raises and `redis.pcall` returns, and the
//! error reply a failed script gets (`... script: <name>, on
//! @user_script:<line>.`).
//!
//! Owns those texts. It must never add an error code where Redis keeps
//! the script's own (`error({err = "MY code"})` replies `-MY code`).

use mlua::{Lua, Table, Value};

/// An error table for `msg`, as Redis's `luaPushError`: a message
/// starting with `-` names its code (`-WRONGTYPE ...`), any other gets
/// `ERR`; a trailing newline is dropped.
pub fn error_table(lua: &Lua, msg: &str) -> mlua::Result<Table> {
    push_error_table(lua, msg.as_bytes())
}

/// `error_table` for bytes (a command's error line, which may hold any).
pub fn push_error_table(lua: &Lua, msg: &[u8]) -> mlua::Result<Table> {
    let mut text: Vec<u8> = Vec::with_capacity(msg.len() + 4);
    match msg.strip_prefix(b"-") {
        Some(rest) => match memchr::memchr(b' ', rest) {
            Some(space) => {
                text.extend_from_slice(rest.get(..space).unwrap_or_default());
                text.push(b' ');
                text.extend_from_slice(trim_newlines(rest.get(space + 1..).unwrap_or_default()));
            }
            None => {
                text.extend_from_slice(b"ERR ");
                text.extend_from_slice(trim_newlines(rest));
            }
        },
        None => {
            text.extend_from_slice(b"ERR ");
            text.extend_from_slice(trim_newlines(msg));
        }
    }
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&text)?)?;
    Ok(t)
}

/// `(false, error table for msg)`: what a raising API function returns
/// (see `raising.rs`) to raise Redis's error for `msg`.
pub fn raised(lua: &Lua, msg: &str) -> mlua::Result<(bool, Value)> {
    Ok((false, Value::Table(error_table(lua, msg)?)))
}

/// `text` with CR and LF made spaces, as Redis writes a status or error
/// line it did not compose.
pub fn one_line(text: &[u8]) -> Vec<u8> {
    text.iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

/// As `sdstrim(s, "\r\n")`: CR and LF off both ends.
fn trim_newlines(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// Why a script failed, ready to be written as its reply.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptError {
    /// A Lua error, as the error handler described it.
    Raised {
        /// The error line without its `-`: the code, a space, the text.
        msg: Vec<u8>,
        /// Where the script was (`@user_script`) and the line.
        at: Option<(String, u64)>,
        /// The error was already counted when the command inside failed.
        counted: bool,
    },
    /// The interpreter itself failed (out of memory, a broken state).
    Internal(String),
}

impl ScriptError {
    /// The error a failed `xpcall` left: the handler's table, or (if the
    /// handler could not run) whatever value was raised.
    pub fn from_value(v: Value) -> ScriptError {
        let Value::Table(t) = v else {
            let text = match v {
                Value::String(s) => s.to_string_lossy(),
                _ => "execution failure".to_owned(),
            };
            return ScriptError::Internal(text);
        };
        // A number converts as Lua's `tostring` writes it.
        let msg = match t.get::<Option<mlua::LuaString>>("err") {
            Ok(Some(s)) => s.as_bytes().to_vec(),
            _ => b"ERR unknown error".to_vec(),
        };
        let source = match t.get::<Value>("source") {
            Ok(Value::String(s)) => Some(s.to_string_lossy()),
            _ => None,
        };
        let line = match t.get::<Value>("line") {
            Ok(Value::Integer(i)) => u64::try_from(i).ok(),
            Ok(Value::Number(n)) if n >= 0.0 => Some(n as u64),
            _ => None,
        };
        let counted = matches!(
            t.get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        );
        ScriptError::Raised {
            msg,
            at: source.zip(line),
            counted,
        }
    }

    /// The error of a failure inside the interpreter.
    pub fn internal(e: mlua::Error) -> ScriptError {
        ScriptError::Internal(e.to_string())
    }

    /// The reply's error line (without the `-`), for the script or
    /// function called `name`.
    pub fn line(&self, name: &str) -> Vec<u8> {
        let line = match self {
            ScriptError::Raised { msg, at, .. } => {
                let mut line = msg.clone();
                if let Some((source, n)) = at {
                    line.extend_from_slice(format!(" script: {name}, on {source}:{n}.").as_bytes());
                }
                line
            }
            ScriptError::Internal(text) => {
                let text: String = text.chars().take(100).collect();
                format!("ERR Error running script {name}, {text}").into_bytes()
            }
        };
        // A reply line holds no CR or LF (Redis turns them into spaces).
        one_line(&line)
    }

    /// Whether the error was counted already, when the command inside the
    /// script that raised it failed.
    pub fn counted(&self) -> bool {
        matches!(self, ScriptError::Raised { counted: true, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_tables_take_their_code_as_redis_does() -> mlua::Result<()> {
        let lua = Lua::new();
        let err =
            |m: &[u8]| -> mlua::Result<String> { push_error_table(&lua, m)?.get::<String>("err") };
        assert_eq!(
            err(b"-WRONGTYPE Operation against")?,
            "WRONGTYPE Operation against"
        );
        assert_eq!(err(b"-NOSCRIPT")?, "ERR NOSCRIPT");
        assert_eq!(err(b"plain words")?, "ERR plain words");
        assert_eq!(err(b"-ERR trailing\r\n")?, "ERR trailing");
        Ok(())
    }

    #[test]
    fn reply_lines_name_the_script_and_line() {
        let e = ScriptError::Raised {
            msg: b"ERR boom".to_vec(),
            at: Some(("@user_script".into(), 3)),
            counted: false,
        };
        assert_eq!(
            e.line("abc"),
            b"ERR boom script: abc, on @user_script:3.".to_vec()
        );
    }
}
