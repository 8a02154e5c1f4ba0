//! Per-key introspection: OBJECT.
//!
//! Owns what Tandem can say about how one key is stored. Its entries have
//! no Redis objects behind them, so OBJECT answers as Redis would for the
//! same value where that is a fact about the value (ENCODING: the name
//! Redis gives the representation it would choose; REFCOUNT: 1, nothing is
//! shared). IDLETIME and FREQ read the key's access word, as Redis reads
//! its object's `lru` field: IDLETIME unless an LFU policy is in force,
//! FREQ only under one, with Redis's errors otherwise.

use super::args::is;
use super::introspection::help;
use super::spec::{spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use tandem_engine::KeyValue;

pub(super) const COMMANDS: &[Spec] = &[spec("object", -2, 0, (0, 0, 0), object)];

/// Redis's refusal of OBJECT IDLETIME under an LFU policy.
const NO_LRU: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// Redis's refusal of OBJECT FREQ under any other policy.
const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

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
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
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
    } else {
        let lfu = c.shared.config.load().eviction.policy.lfu();
        if is(sub, "idletime") {
            if lfu {
                return Err(Reject::Static(NO_LRU));
            }
            // The key may have gone since ENCODING found it: 0, as for a
            // key just used.
            let idle = c.db().idle_ms(key)?.unwrap_or(0);
            c.out.int(i64::try_from(idle / 1000).unwrap_or(i64::MAX));
        } else {
            if !lfu {
                return Err(Reject::Static(NO_LFU));
            }
            let freq = c.db().frequency(key)?.unwrap_or(0);
            c.out.int(i64::from(freq));
        }
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
