//! The case file's format, and how each case is classified before it is
//! run.
//!
//! Each case is `{name, command, result, since, tags?, sort_result?,
//! float_result?, command_binary?, skipped?}`. `command` holds command
//! lines written as in redis-cli: words split on blanks, `"..."` and
//! `'...'` quote a word, and inside double quotes the escapes redis-cli
//! prints (`\xHH`, `\n`, `\r`, `\t`, `\b`, `\a`, `\\`, `\"`) stand for
//! bytes. `command_binary` marks lines whose *unquoted* words carry those
//! escapes too (DUMP payloads pasted as printed). Without it an unquoted
//! backslash is literal: the BITPOS cases set `\x00\xff\xf0` as twelve
//! ASCII bytes, and their expected bit positions only hold that way.

use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::HashSet;

/// One case, as stored.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    pub command: Vec<String>,
    pub result: Vec<Json>,
    pub since: String,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub sort_result: bool,
    #[serde(default)]
    pub float_result: bool,
    #[serde(default)]
    pub command_binary: bool,
    #[serde(default)]
    pub skipped: bool,
}

/// What the runner does with a case, decided before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Marked `skipped` in the data.
    Skipped,
    /// Tagged `cluster`: written for a cluster node (hash tags in keys),
    /// while the server under test is standalone.
    Cluster,
    /// Needs a newer Redis than the server under test claims to be.
    NeedsNewer,
    /// The case cannot be run as written: not one result per command,
    /// or a line or result the runner cannot read.
    Invalid(String),
    /// Uses commands Tandem lacks (listed, lowercase, sorted).
    Unsupported(Vec<String>),
    /// Run it.
    Run,
}

/// A dotted version, compared numerically (`7.0.15` < `7.2.0`).
pub fn version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

/// The lowercase command name of each line: its first word.
pub fn command_names(case: &Case) -> Vec<String> {
    case.command
        .iter()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The command names `case` uses that are not in `supported`.
pub fn missing_commands(case: &Case, supported: &HashSet<&str>) -> Vec<String> {
    let mut missing: Vec<String> = command_names(case)
        .into_iter()
        .filter(|n| !supported.contains(n.as_str()))
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Classifies `case` for a server claiming `server_version`. The order
/// matters only for reporting: each case is counted once, under the
/// first reason that applies.
pub fn classify(case: &Case, server_version: (u32, u32, u32), supported: &HashSet<&str>) -> Class {
    if case.skipped {
        return Class::Skipped;
    }
    if case.tags.as_deref() == Some("cluster") {
        return Class::Cluster;
    }
    // An unreadable `since` is treated as too new rather than guessed at.
    if version(&case.since).is_none_or(|v| v > server_version) {
        return Class::NeedsNewer;
    }
    if case.command.len() != case.result.len() {
        return Class::Invalid(format!(
            "{} commands but {} results",
            case.command.len(),
            case.result.len()
        ));
    }
    let unreadable = case
        .command
        .iter()
        .find_map(|line| split(line, case.command_binary).err())
        .or_else(|| {
            case.result
                .iter()
                .find_map(|r| crate::compare::Value::from_json(r).err())
        });
    if let Some(why) = unreadable {
        return Class::Invalid(why);
    }
    let missing = missing_commands(case, supported);
    if missing.is_empty() {
        Class::Run
    } else {
        Class::Unsupported(missing)
    }
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes the escape starting after a backslash at `rest[0]`; returns
/// the byte and how many input bytes it used. Unknown escapes stand for
/// the character itself, as in redis-cli.
fn escape(rest: &[u8]) -> (u8, usize) {
    match rest {
        [b'x', h, l, ..] => match (hex(*h), hex(*l)) {
            (Some(h), Some(l)) => (h * 16 + l, 3),
            _ => (b'x', 1),
        },
        [b'n', ..] => (b'\n', 1),
        [b'r', ..] => (b'\r', 1),
        [b't', ..] => (b'\t', 1),
        [b'b', ..] => (0x08, 1),
        [b'a', ..] => (0x07, 1),
        [c, ..] => (*c, 1),
        [] => (b'\\', 0),
    }
}

/// Splits one command line into arguments (see the module header).
pub fn split(line: &str, binary: bool) -> Result<Vec<Vec<u8>>, String> {
    #[derive(PartialEq)]
    enum In {
        Blank,
        Word,
        Double,
        Single,
    }
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut word = Vec::new();
    let mut state = In::Blank;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        let closing = (state == In::Double && b == b'"') || (state == In::Single && b == b'\'');
        match state {
            In::Blank | In::Word if b.is_ascii_whitespace() => {
                if state == In::Word {
                    args.push(std::mem::take(&mut word));
                }
                state = In::Blank;
            }
            In::Blank | In::Word if b == b'"' => state = In::Double,
            In::Blank | In::Word if b == b'\'' => state = In::Single,
            In::Blank | In::Word | In::Double if b == b'\\' && (binary || state == In::Double) => {
                let (byte, used) = escape(bytes.get(i..).unwrap_or_default());
                word.push(byte);
                i += used;
                if state == In::Blank {
                    state = In::Word;
                }
            }
            In::Blank | In::Word => {
                word.push(b);
                state = In::Word;
            }
            In::Single if b == b'\\' && bytes.get(i) == Some(&b'\'') => {
                word.push(b'\'');
                i += 1;
            }
            In::Double | In::Single if closing => {
                // A closing quote ends the word; redis-cli refuses one
                // followed by anything but a blank.
                if bytes.get(i).is_some_and(|n| !n.is_ascii_whitespace()) {
                    return Err(format!("closing quote not followed by a blank in {line:?}"));
                }
                args.push(std::mem::take(&mut word));
                state = In::Blank;
            }
            In::Double | In::Single => word.push(b),
        }
    }
    match state {
        In::Double | In::Single => Err(format!("unbalanced quotes in {line:?}")),
        In::Word => {
            args.push(word);
            Ok(args)
        }
        In::Blank => Ok(args),
    }
}

#[test]
fn lines_split_as_redis_cli_splits_them() {
    let words = |line, binary| split(line, binary).map(|w| w.concat());
    assert_eq!(
        split(r#"xadd s * message " World!""#, false),
        Ok(vec![
            b"xadd".to_vec(),
            b"s".to_vec(),
            b"*".to_vec(),
            b"message".to_vec(),
            b" World!".to_vec()
        ])
    );
    // Unquoted escapes are bytes only in `command_binary` cases.
    assert_eq!(words(r"SET k \x00\a", false), Ok(br"SETk\x00\a".to_vec()));
    assert_eq!(words(r"SET k \x00\a", true), Ok(b"SETk\x00\x07".to_vec()));
    // Quoted escapes always are; a raw newline inside quotes stays.
    assert_eq!(words("a \"x\\n\ny\\\"\"", false), Ok(b"ax\n\ny\"".to_vec()));
    assert_eq!(words(r"a 'it\'s'", false), Ok(b"ait's".to_vec()));
    assert_eq!(split(r#"a """#, false).map(|w| w.len()), Ok(2));
    assert!(split(r#"a "b"c"#, false).is_err());
    assert!(split(r#"a "b"#, false).is_err());
}

#[test]
fn versions_compare_numerically() {
    assert!(version("7.0.15") < version("7.2.0"));
    assert!(version("2.6.12") > version("2.6.0"));
    assert_eq!(version("7.0"), Some((7, 0, 0)));
    assert_eq!(version("seven"), None);
}
