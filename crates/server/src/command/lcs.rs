//! LCS: the longest common subsequence of two strings, its length, or
//! where its runs lie in each (IDX), as Redis 7.0 computes them.
//!
//! Owns the dynamic-programming table and the walk back through it that
//! decides which of several longest subsequences is reported, matching
//! Redis's choice (on a tie it steps along the second string). It must
//! never allocate a table larger than `proto-max-bulk-len` bytes, as
//! Redis refuses to, whatever two strings a client stored.

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::Error as EngineError;

pub(super) const COMMANDS: &[Spec] = &[spec("lcs", -3, READONLY, (1, 2, 1), lcs)];

/// A run of the subsequence: where it lies in each string, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    a: (usize, usize),
    b: (usize, usize),
}

impl Run {
    fn len(&self) -> usize {
        self.a.1 - self.a.0 + 1
    }
}

/// What LCS found: the subsequence and its runs, last first.
struct Found {
    text: Vec<u8>,
    runs: Vec<Run>,
}

/// Cells in the table for strings of these lengths, if they can be
/// counted.
fn cells(a: usize, b: usize) -> Option<usize> {
    a.checked_add(1)?.checked_mul(b.checked_add(1)?)
}

/// The table: `t[i * (b.len() + 1) + j]` is the LCS length of `a[..i]`
/// and `b[..j]`.
fn table(a: &[u8], b: &[u8], t: &mut [u32]) {
    let w = b.len() + 1;
    let at = |i: usize, j: usize| i * w + j;
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let v = if a.get(i - 1) == b.get(j - 1) {
                t.get(at(i - 1, j - 1)).copied().unwrap_or(0) + 1
            } else {
                let up = t.get(at(i - 1, j)).copied().unwrap_or(0);
                let left = t.get(at(i, j - 1)).copied().unwrap_or(0);
                up.max(left)
            };
            if let Some(cell) = t.get_mut(at(i, j)) {
                *cell = v;
            }
        }
    }
}

/// Walks back from the end, collecting the subsequence and its runs.
fn walk(a: &[u8], b: &[u8], t: &[u32]) -> Found {
    let w = b.len() + 1;
    let get = |i: usize, j: usize| t.get(i * w + j).copied().unwrap_or(0);
    let mut text = Vec::new();
    let mut runs = Vec::new();
    let mut run: Option<Run> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a.get(i - 1) == b.get(j - 1) {
            text.push(a.get(i - 1).copied().unwrap_or(0));
            match &mut run {
                None => {
                    run = Some(Run {
                        a: (i - 1, i - 1),
                        b: (j - 1, j - 1),
                    })
                }
                Some(r) if r.a.0 == i && r.b.0 == j => {
                    r.a.0 -= 1;
                    r.b.0 -= 1;
                }
                Some(_) => emit = true,
            }
            if run.is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                emit = true;
            }
            i -= 1;
            j -= 1;
        } else {
            if get(i - 1, j) > get(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = run.is_some();
        }
        if emit {
            runs.extend(run.take());
        }
    }
    text.reverse();
    Found { text, runs }
}

fn lcs(c: &mut Call<'_>) -> CmdResult {
    // Both keys are looked up (and counted) before either is judged, in
    // one snapshot; the values are shared, not copied.
    let values = match c.kv().strings(&[c.arg(1), c.arg(2)]) {
        Err(EngineError::WrongType) => {
            return Err(Reject::Static(
                "ERR The specified keys must contain string values",
            ))
        }
        other => other?,
    };
    let value = |i: usize| values.get(i).cloned().flatten().unwrap_or_default();
    let (a, b) = (value(0), value(1));
    let (mut len_only, mut idx, mut with_len, mut min_len) = (false, false, false, 0usize);
    let mut i = 3;
    while let Some(&opt) = c.args.get(i) {
        if is(opt, "idx") {
            idx = true;
        } else if is(opt, "len") {
            len_only = true;
        } else if is(opt, "withmatchlen") {
            with_len = true;
        } else if is(opt, "minmatchlen") && i + 1 < c.args.len() {
            min_len = usize::try_from(int(c.arg(i + 1))?).unwrap_or(0);
            i += 1;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    if len_only && idx {
        return Err(Reject::Static(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let max = usize::try_from(c.shared.config.load().proto_max_bulk_len).unwrap_or(usize::MAX);
    let n = cells(a.len(), b.len()).filter(|n| n.checked_mul(4).is_some());
    if n.is_none_or(|n| n * 4 > max) {
        return Err(Reject::Static(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let n = n.unwrap_or(0);
    let mut t: Vec<u32> = Vec::new();
    if t.try_reserve_exact(n).is_err() {
        return Err(Reject::Static(
            "ERR Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    t.resize(n, 0);
    table(&a, &b, &mut t);
    let total = t.last().copied().unwrap_or(0);
    if len_only {
        c.out.int(i64::from(total));
        return Ok(());
    }
    let found = walk(&a, &b, &t);
    if !idx {
        c.out.bulk(&found.text);
        return Ok(());
    }
    let runs: Vec<&Run> = found
        .runs
        .iter()
        .filter(|r| min_len == 0 || r.len() >= min_len)
        .collect();
    c.out.map(2);
    c.out.bulk(b"matches");
    c.out.array(runs.len());
    for r in runs {
        c.out.array(2 + usize::from(with_len));
        for (s, e) in [r.a, r.b] {
            c.out.array(2);
            c.out.count(s);
            c.out.count(e);
        }
        if with_len {
            c.out.count(r.len());
        }
    }
    c.out.bulk(b"len");
    c.out.int(i64::from(total));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(a: &[u8], b: &[u8]) -> Found {
        let mut t = vec![0u32; cells(a.len(), b.len()).unwrap_or(0)];
        table(a, b, &mut t);
        walk(a, b, &t)
    }

    #[test]
    fn finds_what_redis_7_0_finds() {
        // Recorded from Redis 7.0.15.
        let f = found(b"ohmytext", b"mynewtext");
        assert_eq!(f.text, b"mytext");
        assert_eq!(
            f.runs,
            [
                Run {
                    a: (4, 7),
                    b: (5, 8)
                },
                Run {
                    a: (2, 3),
                    b: (0, 1)
                }
            ]
        );
        let f = found(b"rebitmaps", b"bitmapsre");
        assert_eq!(
            f.runs,
            [Run {
                a: (2, 8),
                b: (0, 6)
            }]
        );
        assert!(found(b"", b"abc").text.is_empty());
    }
}
