//! A stream against a plain model (a vector of entries and tombstones,
//! split into nodes as Redis splits them), over random appends, deletes
//! and trims; and its logged edits and snapshot encoding replayed.

use super::*;
use crate::collection::codec::{self, TAG_STREAM};
use crate::collection::{edit, Collection, Limits};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Add {
        fields: u8,
        value: u8,
        gap: u8,
    },
    Del(u16),
    Trim {
        maxlen: Option<u16>,
        min: u16,
        approx: bool,
        limit: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..4, any::<u8>(), 0u8..3).prop_map(|(fields, value, gap)| Op::Add { fields, value, gap }),
        2 => any::<u16>().prop_map(Op::Del),
        1 => (proptest::option::of(0u16..60), any::<u16>(), any::<bool>(), 0u8..4)
            .prop_map(|(maxlen, min, approx, limit)| Op::Trim { maxlen, min, approx, limit }),
    ]
}

/// The model: every entry ever added and not yet in a dropped node.
#[derive(Default, Clone)]
struct Model {
    /// (id, pairs, deleted)
    entries: Vec<(StreamId, Vec<Bytes>, bool)>,
}

impl Model {
    fn live(&self) -> Vec<StreamEntry> {
        self.entries
            .iter()
            .filter(|e| !e.2)
            .map(|(id, pairs, _)| StreamEntry {
                id: *id,
                pairs: pairs.clone(),
            })
            .collect()
    }
}

fn pairs_for(fields: u8, value: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in 0..=fields {
        out.push(format!("f{f}").into_bytes());
        out.push(if value.is_multiple_of(3) {
            value.to_string().into_bytes()
        } else {
            vec![b'v'; usize::from(value % 70)]
        });
    }
    out
}

fn small() -> StreamNodeLimit {
    StreamNodeLimit {
        bytes: 200,
        entries: 5,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_stream_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let limit = small();
        let mut s = Stream::default();
        let mut model = Model::default();
        let start = s.clone();
        let rec = edit::record();
        let mut ms = 1u64;
        for op in ops {
            match op {
                Op::Add { fields, value, gap } => {
                    ms += u64::from(gap);
                    let id = s.next_id(None, ms).unwrap();
                    let pairs = pairs_for(fields, value);
                    let refs: Vec<&[u8]> = pairs.iter().map(Vec::as_slice).collect();
                    s.append(id, &refs, limit);
                    model.entries.push((id, pairs.into_iter().map(Bytes::from).collect(), false));
                }
                Op::Del(i) => {
                    let live = model.live();
                    let Some(target) = live.get(usize::from(i) % live.len().max(1)).map(|e| e.id) else {
                        prop_assert!(!s.delete(StreamId::new(ms, 99)));
                        continue;
                    };
                    prop_assert!(s.delete(target));
                    prop_assert!(!s.delete(target), "deleted twice");
                    if let Some(e) = model.entries.iter_mut().find(|e| e.0 == target) {
                        e.2 = true;
                    }
                }
                Op::Trim { maxlen, min, approx, limit: lim } => {
                    let to = match maxlen {
                        Some(n) => TrimTo::MaxLen(u64::from(n)),
                        None => TrimTo::MinId(StreamId::new(u64::from(min) % (ms + 2), 0)),
                    };
                    let before = model.live();
                    let removed = s.trim(Trim { to, approx, limit: u64::from(lim) * 3 });
                    let after = s.range(StreamId::MIN, StreamId::MAX, 0, false);
                    prop_assert_eq!(before.len() as u64 - removed, after.len() as u64);
                    // Whatever went came off the front.
                    prop_assert_eq!(&before[removed as usize..], &after[..]);
                    if !approx && lim == 0 {
                        match to {
                            TrimTo::MaxLen(n) => prop_assert_eq!(after.len() as u64, (before.len() as u64).min(n)),
                            TrimTo::MinId(min) => {
                                prop_assert!(after.iter().all(|e| e.id >= min));
                                prop_assert_eq!(after.len(), before.iter().filter(|e| e.id >= min).count());
                            }
                        }
                    }
                    let gone: Vec<StreamId> = before[..removed as usize].iter().map(|e| e.id).collect();
                    for e in &mut model.entries {
                        if gone.contains(&e.0) {
                            e.2 = true;
                        }
                    }
                }
            }
            let live = model.live();
            prop_assert_eq!(s.len(), live.len() as u64);
            prop_assert_eq!(s.range(StreamId::MIN, StreamId::MAX, 0, false), live.clone());
            let mut rev = live.clone();
            rev.reverse();
            prop_assert_eq!(s.range(StreamId::MIN, StreamId::MAX, 0, true), rev);
            prop_assert_eq!(s.meta().first_id, live.first().map_or(StreamId::MIN, |e| e.id));
            prop_assert_eq!(s.last_live_id(), live.last().map(|e| e.id));
            // Nodes end where Redis's would.
            for node in s.nodes.values() {
                prop_assert!(node.entries() <= limit.entries);
            }
        }
        // A middle range with a count, both ways.
        let live = model.live();
        if live.len() > 4 {
            let (a, b) = (live[1].id, live[live.len() - 2].id);
            prop_assert_eq!(s.range(a, b, 2, false), live[1..3].to_vec());
            prop_assert_eq!(s.range(a, b, 2, true), vec![live[live.len() - 2].clone(), live[live.len() - 3].clone()]);
        }
        // The edits, replayed on the start, give the same stream; twice,
        // the same again.
        let edits = rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default();
        let limits = Limits { stream_node: limit, ..Limits::default() };
        let mut replayed = Collection::Stream(Box::new(start));
        if !edits.is_empty() {
            prop_assert!(edit::check(TAG_STREAM, &edits).is_ok());
            edit::apply(&mut replayed, &edits, limits).unwrap();
            edit::apply(&mut replayed, &edits, limits).unwrap();
        }
        let Collection::Stream(r) = &replayed else { unreachable!() };
        prop_assert_eq!(r.range(StreamId::MIN, StreamId::MAX, 0, false), s.range(StreamId::MIN, StreamId::MAX, 0, false));
        prop_assert_eq!(r.meta(), s.meta());
        prop_assert_eq!(r.node_count(), s.node_count());
        prop_assert_eq!(&r.nodes, &s.nodes);
        // And the snapshot encoding round-trips.
        let c = Collection::Stream(Box::new(s.clone()));
        let back = codec::decode(TAG_STREAM, &codec::to_vec(&c), limits).unwrap().unwrap();
        let Collection::Stream(b) = back else { unreachable!() };
        prop_assert_eq!(&b.nodes, &s.nodes);
        prop_assert_eq!(b.meta(), s.meta());
        prop_assert_eq!(b.len(), s.len());
    }
}

#[test]
fn ids_are_given_out_as_redis_gives_them() {
    let mut s = Stream::default();
    assert_eq!(s.next_id(None, 5), Some(StreamId::new(5, 0)));
    s.append(StreamId::new(5, 0), &[b"a", b"1"], small());
    assert_eq!(s.next_id(None, 5), Some(StreamId::new(5, 1)));
    assert_eq!(
        s.next_id(None, 3),
        Some(StreamId::new(5, 1)),
        "the clock went back"
    );
    assert_eq!(
        s.next_id(Some(IdArg::AutoSeq(5)), 0),
        Some(StreamId::new(5, 1))
    );
    assert_eq!(
        s.next_id(Some(IdArg::AutoSeq(7)), 0),
        Some(StreamId::new(7, 0))
    );
    assert_eq!(s.next_id(Some(IdArg::AutoSeq(4)), 0), None);
    assert_eq!(s.next_id(Some(IdArg::Id(StreamId::new(5, 0))), 0), None);
    s.append(StreamId::new(5, u64::MAX), &[b"a", b"1"], small());
    assert_eq!(s.next_id(Some(IdArg::AutoSeq(5)), 0), None);
    assert_eq!(s.next_id(None, 0), Some(StreamId::new(6, 0)));
}

#[test]
fn a_trim_to_a_tombstone_leaves_an_empty_node_as_redis_does() {
    let mut s = Stream::default();
    let limit = StreamNodeLimit {
        bytes: 4096,
        entries: 3,
    };
    for ms in 1..=4 {
        s.append(StreamId::new(ms, 0), &[b"f", b"v"], limit);
    }
    assert!(s.delete(StreamId::new(3, 0)));
    let removed = s.trim(Trim {
        to: TrimTo::MinId(StreamId::new(3, 0)),
        approx: false,
        limit: 0,
    });
    assert_eq!(removed, 2);
    assert_eq!(s.node_count(), 2, "the first node, all tombstones, stays");
    assert_eq!(s.len(), 1);
    let c = Collection::Stream(Box::new(s.clone()));
    let back = codec::decode(TAG_STREAM, &codec::to_vec(&c), Limits::default()).unwrap();
    assert_eq!(back, Some(c));
}
