//! `Table`'s tests: splits, scans, copies and random picks.

use super::*;

/// Regression: fed the segment-choosing hash as it was, each segment's
/// table saw the same low bits for every field (HSET at 0.74x Redis,
/// memcmp 7% of a profile from probing).
#[test]
fn a_segment_table_places_its_fields_by_other_bits_than_the_segment() {
    let t = Table::with_capacity(SPLIT_AT * 8);
    assert_eq!(t.depth, 4);
    let in_segment_0: Vec<u64> = (0..10_000)
        .map(|i| t.hash(format!("f{i}").as_bytes()))
        .filter(|&h| t.segment_of(h) == 0)
        .collect();
    let low: std::collections::HashSet<u64> =
        in_segment_0.iter().map(|&h| Table::inner(h) & 15).collect();
    assert!(in_segment_0.len() > 100);
    assert_eq!(low.len(), 16, "slots 0-15 of the segment's table all used");
}

/// Regression: SPOP and SRANDMEMBER found their one pick by walking the
/// whole table (O(size) each: redis-benchmark's SPOP on a 260K set
/// never finished).
#[test]
fn a_few_picks_are_found_by_position_as_one_pass_finds_them() {
    let mut t = Table::with_capacity(0);
    for i in 0..20_000 {
        t.insert_new(format!("f{i}").as_bytes(), b"v");
    }
    let order: Vec<Pair<'_>> = t.iter().collect();
    for p in [0, 1, 3583, 3584, 9_999, 19_999] {
        assert_eq!(t.nth(p), order.get(p).copied(), "position {p}");
    }
    assert_eq!(t.nth(20_000), None);
    let few = [7, 19_999, 7];
    let want: Vec<Pair<'_>> = few.iter().map(|&p| order[p]).collect();
    assert_eq!(t.at_positions(&few), want);
    let many: Vec<usize> = (0..5000).map(|i| (i * 7) % 20_001).collect();
    let want: Vec<Pair<'_>> = many.iter().filter_map(|&p| order.get(p).copied()).collect();
    assert_eq!(t.at_positions(&many), want);
}

#[test]
fn random_picks_reach_every_field_about_evenly() {
    let mut t = Table::with_capacity(0);
    let n = 10_000;
    for i in 0..n {
        t.insert_new(format!("f{i}").as_bytes(), b"v");
    }
    let mut hits = std::collections::HashMap::new();
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..n * 20 {
        let (f, _) = t.random(rng.u64(..)).expect("not empty");
        *hits.entry(f.to_vec()).or_insert(0u32) += 1;
    }
    assert!(
        hits.len() > n * 99 / 100,
        "{} of {n} fields picked",
        hits.len()
    );
    let most = hits.values().max().copied().unwrap_or(0);
    assert!(
        most < 100,
        "one field picked {most} times of an expected 20"
    );
    assert_eq!(Table::with_capacity(0).random(1), None);
}

#[test]
fn a_scan_step_keeps_to_its_count_and_survives_splits_between_steps() {
    let mut t = Table::with_capacity(0);
    let n = SPLIT_AT * 6;
    for i in 0..n {
        t.insert_new(format!("kept{i}").as_bytes(), b"v");
        t.insert_new(format!("gone{i}").as_bytes(), b"v");
    }
    let mut seen = std::collections::HashMap::new();
    let (mut cursor, mut steps, mut added) = (0u64, 0usize, 0usize);
    loop {
        let (next, page) = t.scan(cursor, 50);
        assert!(page.len() <= 50, "{} fields in a step of 50", page.len());
        let fields: Vec<Vec<u8>> = page.iter().map(|(f, _)| f.to_vec()).collect();
        for f in fields {
            *seen.entry(f).or_insert(0u32) += 1;
        }
        steps += 1;
        // Between steps: enough new fields to split segments, and
        // some fields removed.
        for _ in 0..40 {
            t.insert_new(format!("new{added}").as_bytes(), b"v");
            added += 1;
        }
        t.remove(format!("gone{steps}").as_bytes());
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert!(t.segments.len() > 16, "{} segments", t.segments.len());
    for i in 0..n {
        let f = format!("kept{i}").into_bytes();
        assert_eq!(seen.get(&f), Some(&1), "kept{i}");
    }
    assert!(seen.values().all(|&k| k == 1), "a field returned twice");
    // About len/count steps, not a fixed number of passes.
    assert!(steps > 2 * n / 50 / 2, "{steps} steps");
    assert_eq!(Table::with_capacity(0).scan(0, 10), (0, Vec::new()));
}

#[test]
fn copying_runs_hands_each_field_over_once_while_segments_split() {
    let mut t = Table::with_capacity(0);
    let n = SPLIT_AT * 6;
    for i in 0..n {
        t.insert_new(format!("kept{i}").as_bytes(), b"v");
    }
    let mut seen = std::collections::HashMap::new();
    let (mut cursor, mut steps, mut added) = (0u64, 0usize, 0usize);
    loop {
        let mut step = 0;
        cursor = t.copy_runs(cursor, 1, |(f, _)| {
            *seen.entry(f.to_vec()).or_insert(0u32) += 1;
            step += 1;
        });
        // One segment a call.
        assert!(step <= SPLIT_AT, "{step} fields in one step");
        steps += 1;
        for _ in 0..2_000 {
            t.insert_new(format!("new{added}").as_bytes(), b"v");
            added += 1;
        }
        if cursor == 0 {
            break;
        }
    }
    for i in 0..n {
        assert_eq!(
            seen.get(&format!("kept{i}").into_bytes()),
            Some(&1),
            "kept{i}"
        );
    }
    assert!(seen.values().all(|&k| k == 1), "a field handed over twice");
    assert!(steps >= 4, "{steps} steps");
}

#[test]
fn copying_runs_from_a_cursor_inside_a_run_skips_what_lies_before_it() {
    // Two tables of one order (a clone), one split finer than the
    // other: a cursor from the finer one falls inside a run of the
    // coarser.
    let mut fine = Table::with_capacity(0);
    for i in 0..SPLIT_AT {
        fine.insert_new(format!("f{i}").as_bytes(), b"v");
    }
    let coarse = fine.clone();
    for i in SPLIT_AT..3 * SPLIT_AT {
        fine.insert_new(format!("f{i}").as_bytes(), b"v");
    }
    assert_eq!(coarse.segments.len(), 1);
    let mut seen = std::collections::HashSet::new();
    let cursor = fine.copy_runs(0, 1, |(f, _)| assert!(seen.insert(f.to_vec())));
    assert_ne!(cursor, 0);
    let end = coarse.copy_runs(cursor, 1, |(f, _)| {
        assert!(
            seen.insert(f.to_vec()),
            "{:?} twice",
            String::from_utf8_lossy(f)
        )
    });
    assert_eq!(end, 0);
    // Everything the coarse table holds was handed over by one or the
    // other.
    for i in 0..SPLIT_AT {
        assert!(seen.contains(format!("f{i}").as_bytes()), "f{i}");
    }
}

#[test]
fn set_replaces_and_remove_reports_the_value_length() {
    let mut t = Table::with_capacity(0);
    assert_eq!(t.set(b"f", b"one"), None);
    assert_eq!(t.set(b"f", b"three"), Some(3));
    assert_eq!(t.get(b"f"), Some(&b"three"[..]));
    assert_eq!(t.remove(b"f"), Some(5));
    assert_eq!(t.remove(b"f"), None);
}

#[test]
fn every_field_stays_findable_while_segments_split() {
    let mut t = Table::with_capacity(0);
    let n = SPLIT_AT * 9 + 17;
    for i in 0..n {
        let f = format!("f{i}");
        assert!(t.get(f.as_bytes()).is_none());
        t.insert_new(f.as_bytes(), i.to_string().as_bytes());
        if i % 997 == 0 {
            for j in (0..=i).step_by(101) {
                let want = j.to_string();
                assert_eq!(t.get(format!("f{j}").as_bytes()), Some(want.as_bytes()));
            }
        }
    }
    assert_eq!(t.len(), n);
    assert!(t.segments.len() >= 9, "{} segments", t.segments.len());
    // Every segment holds between a quarter and all of `SPLIT_AT`
    // (halves start near half; hash skew allows some spread), and the
    // directory names each by its own low bits.
    for (i, seg) in t.segments.iter().enumerate() {
        assert!(seg.fields.len() <= SPLIT_AT, "segment {i} overfull");
        assert!(seg.fields.len() >= SPLIT_AT / 4, "segment {i} nearly empty");
        assert!(seg.depth <= t.depth);
    }
    for (at, &i) in t.directory.iter().enumerate() {
        let depth = t.segments[i as usize].depth;
        let mask = (1usize << depth) - 1;
        let first = t.directory.iter().position(|&j| j == i).unwrap_or(0);
        assert_eq!(at & mask, first & mask, "entry {at} of segment {i}");
    }
    assert_eq!(t.iter().count(), n);
    for i in (0..n).step_by(2) {
        assert!(t.remove(format!("f{i}").as_bytes()).is_some());
    }
    assert_eq!(t.len(), n / 2);
    for i in 0..n {
        assert_eq!(t.get(format!("f{i}").as_bytes()).is_some(), i % 2 == 1);
    }
    let loaded = Table::with_capacity(100_000);
    assert_eq!(loaded.segments.len(), 64);
    assert_eq!(loaded.directory.len(), 64);
}
