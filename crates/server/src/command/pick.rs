//! Random picks for HRANDFIELD, SRANDMEMBER and SPOP: which positions of
//! a collection to return for a count, by Redis's rules.
//!
//! Owns those rules: a negative count asks for that many independent
//! picks (repeats allowed); a count at least the size, the whole
//! collection in order; otherwise that many distinct positions in random
//! order.
//!
//! One deliberate difference: a negative count asks for that many picks
//! with repeats, whatever the collection's size, and Redis builds a reply
//! that long (HRANDFIELD h -9223372036854775807 runs it out of memory).
//! Tandem refuses more than `MAX_REPEATED_PICKS` with Redis's "value is
//! out of range", so no client can make it allocate what it merely
//! claims.

use super::args::int;
use super::Reject;
use tandem_engine::Picks;

/// The most picks a negative count may ask for (see the module header).
pub(super) const MAX_REPEATED_PICKS: i64 = 1 << 20;

/// Redis's `getRangeLongFromObjectOrReply(..., -LONG_MAX, LONG_MAX, ...)`.
pub(super) fn count_arg(arg: &[u8]) -> Result<i64, Reject> {
    match int(arg)? {
        i64::MIN => Err(Reject::Static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        n => Ok(n),
    }
}

/// What to return from a collection of `size` for `count`: with a
/// negative count, `-count` independent random picks (repeats allowed);
/// one random pick for a count of 1; with a count of at least the size,
/// every position in order; otherwise `count` distinct positions in
/// random order. Random picks cost O(1) each in a big table, positions a
/// walk (`tandem_engine::Picks`).
pub(super) fn picks(count: i64, size: usize, rng: &mut fastrand::Rng) -> Picks {
    let want = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if size > 1 && (count < 0 || count == 1) {
        return Picks::Random((0..want).map(|_| rng.u64(..)).collect());
    }
    Picks::Positions(positions(count, size, rng))
}

/// The positions to return from a collection of `size` for `count`: with
/// a negative count, `-count` independent picks (repeats allowed); with a
/// count of at least the size, every position in order; otherwise `count`
/// distinct positions in random order.
fn positions(count: i64, size: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    if size == 0 || count == 0 {
        return Vec::new();
    }
    let want = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if count < 0 {
        return (0..want).map(|_| rng.usize(..size)).collect();
    }
    if want >= size {
        return (0..size).collect();
    }
    if want.saturating_mul(2) <= size {
        // Few picks from many: Floyd's sampling, O(want) and not O(size)
        // (a pick of 5 from a 10M-member set must not allocate 10M slots).
        let mut chosen = std::collections::HashSet::with_capacity(want);
        let mut out = Vec::with_capacity(want);
        for j in size - want..size {
            let t = rng.usize(..=j);
            let pick = if chosen.insert(t) { t } else { j };
            chosen.insert(pick);
            out.push(pick);
        }
        rng.shuffle(&mut out);
        return out;
    }
    let mut all: Vec<usize> = (0..size).collect();
    // A partial Fisher-Yates shuffle: the first `want` are the sample.
    for i in 0..want {
        let j = rng.usize(i..size);
        all.swap(i, j);
    }
    all.truncate(want);
    all
}

/// The checks HRANDFIELD and ZRANDMEMBER make on a count once it is read:
/// with pairs (WITHVALUES, WITHSCORES) Redis's half range, and Tandem's
/// cap on repeated picks (`MAX_REPEATED_PICKS`).
pub(super) fn check_count(count: i64, with_pairs: bool) -> Result<(), Reject> {
    if with_pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(Reject::Static("ERR value is out of range"));
    }
    if count < -MAX_REPEATED_PICKS {
        return Err(Reject::Static("ERR value is out of range"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{picks, positions, Picks};

    #[test]
    fn picks_follow_redis_rules() {
        let mut rng = fastrand::Rng::with_seed(7);
        assert!(positions(0, 5, &mut rng).is_empty());
        assert!(positions(3, 0, &mut rng).is_empty());
        assert_eq!(positions(9, 3, &mut rng), vec![0, 1, 2]);
        let repeats = positions(-50, 2, &mut rng);
        assert_eq!(repeats.len(), 50);
        assert!(repeats.iter().all(|&p| p < 2));
        let mut distinct = positions(4, 10, &mut rng);
        assert_eq!(distinct.len(), 4);
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "a positive count never repeats");
        for (count, size) in [(5, 10_000_000), (600, 1000), (999, 1000)] {
            let mut got = positions(count, size, &mut rng);
            assert_eq!(got.len(), count as usize);
            assert!(got.iter().all(|&p| p < size));
            got.sort_unstable();
            got.dedup();
            assert_eq!(got.len(), count as usize, "distinct, {count} of {size}");
        }
        assert!(matches!(picks(1, 10, &mut rng), Picks::Random(r) if r.len() == 1));
        assert!(matches!(picks(-7, 10, &mut rng), Picks::Random(r) if r.len() == 7));
        assert_eq!(picks(1, 1, &mut rng), Picks::Positions(vec![0]));
        assert_eq!(picks(-2, 1, &mut rng), Picks::Positions(vec![0, 0]));
        assert_eq!(picks(5, 3, &mut rng), Picks::Positions(vec![0, 1, 2]));
    }
}
