//! A function library as FUNCTION LOAD is given it: the first line
//! (`#!lua name=mylib`) and the code after it, and the names Redis 7.0
//! allows for libraries and functions.
//!
//! Owns Redis's errors for that line (`functionExtractLibMetaData`). It
//! must never run the code: that is `load.rs`'s, on a serving thread's
//! interpreter.

use crate::resp::parse::split_args;

/// The engine every library is written for.
pub const ENGINE: &str = "LUA";

/// Redis's error for a bad library or function name.
pub const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) \
     and must be at least one character long";

/// A library's first line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata<'a> {
    /// The library's name.
    pub name: Vec<u8>,
    /// The code after the first line, from its newline (so that line
    /// numbers count the first line as 1).
    pub code: &'a [u8],
}

/// Reads the first line of `payload`, with Redis's errors.
pub fn parse(payload: &[u8]) -> Result<Metadata<'_>, String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', payload) else {
        return Err("Invalid library metadata".into());
    };
    let (line, code) = payload.split_at(end);
    let mut parts = Vec::new();
    if split_args(line, &mut parts).is_none() || parts.is_empty() {
        return Err("Invalid library metadata".into());
    }
    let engine = parts
        .first()
        .and_then(|p| p.get(2..))
        .unwrap_or_default()
        .to_vec();
    let mut name = None;
    for part in parts.iter().skip(1) {
        match part.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case(b"name=") => {
                if name.is_some() {
                    return Err(
                        "Invalid metadata value, name argument was given multiple times".into(),
                    );
                }
                name = Some(part.get(5..).unwrap_or_default().to_vec());
            }
            _ => {
                return Err(format!(
                    "Invalid metadata value given: {}",
                    String::from_utf8_lossy(part)
                ))
            }
        }
    }
    let name = name.ok_or("Library name was not given")?;
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    if !engine.eq_ignore_ascii_case(ENGINE.as_bytes()) {
        return Err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(&engine)
        ));
    }
    Ok(Metadata { name, code })
}

/// Whether `name` may name a library or a function: letters, digits and
/// underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines_read_as_redis_reads_them() {
        let md = parse(b"#!lua name=mylib\nreturn 1");
        assert_eq!(
            md,
            Ok(Metadata {
                name: b"mylib".to_vec(),
                code: b"\nreturn 1"
            })
        );
        assert!(parse(b"#!LUA NAME=x\n").is_ok());
        for (payload, err) in [
            (&b"lua name=a\nx"[..], "Missing library metadata"),
            (b"#!lua name=a", "Invalid library metadata"),
            (b"#!lua \"x\nx", "Invalid library metadata"),
            (b"#!lua\nx", "Library name was not given"),
            (
                b"#!lua name=a name=b\nx",
                "Invalid metadata value, name argument was given multiple times",
            ),
            (b"#!lua foo=a\nx", "Invalid metadata value given: foo=a"),
            (b"#!lua name=a-b\nx", BAD_NAME),
            (b"#!lua name=\nx", BAD_NAME),
            (b"#!nolua name=ab\nx", "Engine 'nolua' not found"),
        ] {
            assert_eq!(parse(payload), Err(err.to_owned()), "{payload:?}");
        }
    }
}
