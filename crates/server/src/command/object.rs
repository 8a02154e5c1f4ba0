//! Per-key introspection: OBJECT and MEMORY.
//!
//! Owns what Tandem can say about how one key is stored. Its entries have
//! no Redis objects behind them, so OBJECT answers as Redis would for the
//! same value where that is a fact about the value (ENCODING: the name
//! Redis gives the representation it would choose; REFCOUNT: 1, nothing is
//! shared), and refuses with Redis's own error where it would need
//! tracking Tandem does not do (IDLETIME, FREQ: no access times or
//! frequencies are kept). MEMORY USAGE is the engine's estimate for the
//! key's entry and its share of the shard's index.

use super::args::{int, is};
use super::introspection::help;
use super::spec::{spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use tandem_engine::KeyValue;

pub(super) const COMMANDS: &[Spec] = &[
    spec("object", -2, 0, (0, 0, 0), object),
    spec("memory", -2, 0, (0, 0, 0), memory),
];

/// Longest string Redis stores as `embstr` (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_MAX: usize = 44;

/// The encoding Redis reports for a freshly written string value: `int`
/// for what `string2ll` accepts within 20 bytes, `embstr` up to 44 bytes,
/// `raw` beyond. (Redis also says `raw` for a short value that APPEND or
/// SETRANGE built, which depends on history Tandem does not keep.)
pub fn string_encoding(value: &[u8]) -> &'static str {
    if tandem_engine::parse_i64(value).is_some() {
        "int"
    } else if value.len() <= EMBSTR_MAX {
        "embstr"
    } else {
        "raw"
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation Redis would use for the",
    "    value stored at <key>.",
    "FREQ <key>",
    "    Return the access frequency of the <key>. Not tracked by Tandem:",
    "    always an error.",
    "IDLETIME <key>",
    "    Return the seconds since the last access to the <key>. Not tracked by",
    "    Tandem: always an error.",
    "REFCOUNT <key>",
    "    Return the number of references to the value of the <key> (always 1).",
    "HELP",
    "    Prints this help.",
];

fn object(c: &mut Call<'_>) -> CmdResult {
    // The dispatcher has checked each subcommand's arity.
    let sub = c.arg(1);
    if is(sub, "help") {
        help(c.out, OBJECT_HELP);
        return Ok(());
    }
    let known = ["encoding", "refcount", "idletime", "freq"];
    if !known.iter().any(|k| is(sub, k)) {
        return Err(unknown_subcommand(sub, "object"));
    }
    let key = c.arg(2);
    let encoding = c.db().encoding(key, string_encoding)?;
    let Some(encoding) = encoding else {
        // A missing key is answered before anything else, as Redis does.
        c.out.null();
        return Ok(());
    };
    if is(sub, "encoding") {
        c.out.bulk(encoding.as_bytes());
    } else if is(sub, "refcount") {
        c.out.int(1);
    } else if is(sub, "idletime") {
        return Err(Reject::Static(
            "ERR An LRU maxmemory policy is not selected, access time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    } else {
        return Err(Reject::Static(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value (an estimate: the",
    "    key's entry and its share of the index; SAMPLES is accepted and has",
    "    no effect, since values are strings).",
    "HELP",
    "    Prints this help.",
];

fn memory(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    if is(sub, "help") {
        help(c.out, MEMORY_HELP);
        return Ok(());
    }
    if !is(sub, "usage") {
        return Err(unknown_subcommand(sub, "memory"));
    }
    // Redis reads SAMPLES before looking the key up: a bad option is an
    // error even for a missing key.
    let mut options = c.args_from(3).iter();
    while let Some(word) = options.next() {
        match options.next() {
            Some(n) if is(word, "samples") => {
                if int(n)? < 0 {
                    return Err(Reject::Syntax);
                }
            }
            _ => return Err(Reject::Syntax),
        }
    }
    match c.db().memory_usage(c.arg(2))? {
        Some(bytes) => c.out.count(bytes),
        None => c.out.null(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_for_fresh_values() {
        assert_eq!(string_encoding(b"5"), "int");
        assert_eq!(string_encoding(b"-9223372036854775808"), "int");
        assert_eq!(string_encoding(b"12345678901234567890"), "embstr");
        assert_eq!(string_encoding(b"01"), "embstr");
        assert_eq!(string_encoding(b"+1"), "embstr");
        assert_eq!(string_encoding(b" 1"), "embstr");
        assert_eq!(string_encoding(&[b'x'; 44]), "embstr");
        assert_eq!(string_encoding(&[b'x'; 45]), "raw");
        assert_eq!(string_encoding(b""), "embstr");
    }
}
