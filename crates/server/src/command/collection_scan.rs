//! HSCAN, SSCAN and ZSCAN: what the three share around their types' own
//! scan steps.
//!
//! Owns the order Redis 7.0 checks things in (the cursor first, then the
//! key, a missing or empty one answering an empty page before any option
//! is read, then MATCH and COUNT), MATCH applied to each step's items, and
//! the reply's shape: the next cursor, then the items. It must never walk
//! a collection itself: each step is the engine's, bounded by COUNT.

use super::args::{cursor, scan_args};
use super::target::Target;
use super::{Call, CmdResult};
use crate::resp::Out;
use tandem_engine::glob_match;

/// Runs one scan step of the collection at argument 1 from the cursor at
/// argument 2: `len` says how many elements it holds (0: none, or no
/// key), `step` takes the step, `name` is what MATCH matches of an item,
/// and `write` writes an item as `bulks` bulk strings.
pub(super) fn scan_collection<T>(
    c: &mut Call<'_>,
    len: impl FnOnce(&dyn Target, &[u8]) -> tandem_engine::Result<usize>,
    step: impl FnOnce(&dyn Target, &[u8], u64, usize) -> tandem_engine::Result<(u64, Vec<T>)>,
    name: impl Fn(&T) -> &[u8],
    bulks: usize,
    write: impl Fn(&mut Out, &T),
) -> CmdResult {
    let cursor = cursor(c.arg(2))?;
    let key = c.arg(1);
    if len(c.kv(), key)? == 0 {
        c.out.array(2);
        c.out.bulk(b"0");
        c.out.array(0);
        return Ok(());
    }
    let args = scan_args(c.args_from(3), false)?;
    // A lone `*` matches everything, as in Redis.
    let pattern = args.pattern.filter(|p| *p != b"*");
    let (next, page) = step(c.kv(), key, cursor, args.count)?;
    let kept: Vec<&T> = page
        .iter()
        .filter(|item| pattern.is_none_or(|p| glob_match(p, name(item))))
        .collect();
    let mut digits = itoa::Buffer::new();
    c.out.array(2);
    c.out.bulk(digits.format(next).as_bytes());
    c.out.array(kept.len() * bulks);
    for item in kept {
        write(c.out, item);
    }
    Ok(())
}
