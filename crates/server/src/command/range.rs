//! TANDEM.RANGE: Tandem's ordered range scan, an extension Redis lacks.
//!
//! ```text
//! TANDEM.RANGE start end [LIMIT count] [WITHVALUES]
//! ```
//! `start` and `end` are written as ZRANGEBYLEX's bounds: `[key`
//! (inclusive), `(key` (exclusive), `-` (from the first key), `+` (to the
//! last). The reply is a two-element array: the continuation key (a bulk
//! string, or null when the range is exhausted), then the keys found in
//! order (with WITHVALUES, key, value, key, value, ...). To read the next
//! page, send the continuation key back as an inclusive start: `[<next>`.
//! `count` defaults to 100; the engine reads shards in bounded batches,
//! so no lock is held for the whole page.

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use std::ops::Bound;

pub(super) const COMMANDS: &[Spec] = &[spec("tandem.range", -3, READONLY, (0, 0, 0), range)];

/// Keys per page unless LIMIT says otherwise.
const DEFAULT_LIMIT: usize = 100;

/// A bound written as in ZRANGEBYLEX.
fn bound(arg: &[u8]) -> Result<Bound<&[u8]>, Reject> {
    match arg {
        b"-" | b"+" => Ok(Bound::Unbounded),
        [b'[', rest @ ..] => Ok(Bound::Included(rest)),
        [b'(', rest @ ..] => Ok(Bound::Excluded(rest)),
        _ => Err(Reject::Static("ERR min or max not valid string range item")),
    }
}

fn range(c: &mut Call<'_>) -> CmdResult {
    let start = bound(c.arg(1))?;
    let end = bound(c.arg(2))?;
    // `+` as a start or `-` as an end selects nothing, as in ZRANGEBYLEX.
    let empty = c.arg(1) == b"+" || c.arg(2) == b"-";
    let mut limit = DEFAULT_LIMIT;
    let mut values = false;
    let mut i = 3;
    while let Some(&a) = c.args.get(i) {
        if is(a, "withvalues") {
            values = true;
        } else if let (true, Some(n)) = (is(a, "limit"), c.args.get(i + 1)) {
            limit = usize::try_from(int(n)?)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(Reject::Static("ERR LIMIT must be positive"))?;
            i += 1;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    c.out.array(2);
    if empty {
        c.out.null();
        c.out.array(0);
        return Ok(());
    }
    let page = c.db().range(start, end, limit);
    c.out.bulk_or_null(page.next_start());
    c.out
        .array(if values { page.len() * 2 } else { page.len() });
    for (key, value) in page.iter() {
        c.out.bulk(key);
        if values {
            c.out.bulk(value);
        }
    }
    Ok(())
}
