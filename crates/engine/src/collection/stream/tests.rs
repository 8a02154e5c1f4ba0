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
        // The edits, replayed on the start, give the same stream. (A
        // record applies once: replay runs it only on the stream at the
        // change count it names.)
        let edits = rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default();
        let limits = Limits { stream_node: limit, ..Limits::default() };
        let mut replayed = Collection::Stream(Box::new(start));
        if !edits.is_empty() {
            prop_assert!(edit::check(TAG_STREAM, &edits).is_ok());
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

#[derive(Debug, Clone)]
enum GroupStep {
    Add,
    Del(u8),
    Trim(u8),
    Create(u8),
    Destroy(u8),
    ReadNew {
        g: u8,
        c: u8,
        count: u8,
        noack: bool,
    },
    History {
        g: u8,
        c: u8,
    },
    Ack {
        g: u8,
        at: u8,
    },
    Claim {
        g: u8,
        c: u8,
        at: u8,
        force: bool,
        just_id: bool,
    },
    AutoClaim {
        g: u8,
        c: u8,
        count: u8,
    },
    DelConsumer {
        g: u8,
        c: u8,
    },
    SetId {
        g: u8,
        at: u8,
    },
}

fn group_step() -> impl Strategy<Value = GroupStep> {
    prop_oneof![
        4 => Just(GroupStep::Add),
        1 => any::<u8>().prop_map(GroupStep::Del),
        1 => (0u8..20).prop_map(GroupStep::Trim),
        1 => (0u8..3).prop_map(GroupStep::Create),
        1 => (0u8..3).prop_map(GroupStep::Destroy),
        3 => (0u8..3, 0u8..3, 0u8..4, any::<bool>())
            .prop_map(|(g, c, count, noack)| GroupStep::ReadNew { g, c, count, noack }),
        1 => (0u8..3, 0u8..3).prop_map(|(g, c)| GroupStep::History { g, c }),
        2 => (0u8..3, any::<u8>()).prop_map(|(g, at)| GroupStep::Ack { g, at }),
        1 => (0u8..3, 0u8..3, any::<u8>(), any::<bool>(), any::<bool>())
            .prop_map(|(g, c, at, force, just_id)| GroupStep::Claim { g, c, at, force, just_id }),
        1 => (0u8..3, 0u8..3, 1u8..5).prop_map(|(g, c, count)| GroupStep::AutoClaim { g, c, count }),
        1 => (0u8..3, 0u8..3).prop_map(|(g, c)| GroupStep::DelConsumer { g, c }),
        1 => (0u8..3, any::<u8>()).prop_map(|(g, at)| GroupStep::SetId { g, at }),
    ]
}

fn name(prefix: &str, n: u8) -> Vec<u8> {
    format!("{prefix}{n}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Groups against their invariants: every pending entry in exactly
    /// its consumer's share; an entry delivered by `>` never delivered
    /// by `>` again to the same group unless SETID moved it back; the
    /// group's last ID at least every ID `>` delivered; and the logged
    /// edits (applied once, as replay applies a record at its change
    /// count) and the snapshot encoding give back the same groups.
    #[test]
    fn groups_keep_their_invariants_and_replay(steps in proptest::collection::vec(group_step(), 1..150)) {
        let limit = small();
        let mut s = Stream::default();
        let start = s.clone();
        let rec = edit::record();
        let mut ms = 0u64;
        let mut now = 1_000i64;
        for step in steps {
            now += 7;
            match step {
                GroupStep::Add => {
                    ms += 1;
                    s.append(StreamId::new(ms, 0), &[b"f", b"v"], limit);
                }
                GroupStep::Del(i) => {
                    let live = s.range(StreamId::MIN, StreamId::MAX, 0, false);
                    if let Some(e) = live.get(usize::from(i) % live.len().max(1)) {
                        prop_assert!(s.delete(e.id));
                    }
                }
                GroupStep::Trim(n) => {
                    s.trim(Trim { to: TrimTo::MaxLen(u64::from(n)), approx: n % 2 == 0, limit: 0 });
                }
                GroupStep::Create(g) => {
                    let before = s.group(&name("g", g)).is_some();
                    prop_assert_eq!(s.create_group(&name("g", g), StreamId::MIN, Some(0)), !before);
                }
                GroupStep::Destroy(g) => {
                    let before = s.group(&name("g", g)).is_some();
                    prop_assert_eq!(s.destroy_group(&name("g", g)), before);
                }
                GroupStep::ReadNew { g, c, count, noack } => {
                    let last = s.group(&name("g", g)).map(|gr| gr.last_id);
                    if let Some((got, _)) = s.read_new(&name("g", g), &name("c", c), usize::from(count), noack, now) {
                        let last = last.unwrap_or_default();
                        prop_assert!(got.iter().all(|e| e.id > last), "delivered again");
                        prop_assert!(got.windows(2).all(|w| w[0].id < w[1].id));
                        let gr = s.group(&name("g", g)).unwrap();
                        if let Some(top) = got.last() {
                            prop_assert_eq!(gr.last_id, top.id);
                        }
                        if !noack {
                            for e in &got {
                                let p = gr.pel().get(&e.id).unwrap();
                                prop_assert_eq!(&p.consumer[..], &name("c", c)[..]);
                                prop_assert_eq!(p.delivery_count, 1);
                            }
                        }
                    }
                }
                GroupStep::History { g, c } => {
                    if let Some((got, _)) = s.read_history(&name("g", g), &name("c", c), StreamId::MIN, 0, now) {
                        let gr = s.group(&name("g", g)).unwrap();
                        let mine: Vec<StreamId> = gr.consumer(&name("c", c)).map(|cs| cs.pending_ids().collect()).unwrap_or_default();
                        let ids: Vec<StreamId> = got.iter().map(|d| match d { Delivered::Entry(e) => e.id, Delivered::Missing(id) => *id }).collect();
                        prop_assert_eq!(ids, mine);
                    }
                }
                GroupStep::Ack { g, at } => {
                    let pel: Vec<StreamId> = s.group(&name("g", g)).map(|gr| gr.pel().keys().copied().collect()).unwrap_or_default();
                    if let Some(&id) = pel.get(usize::from(at) % pel.len().max(1)) {
                        prop_assert_eq!(s.ack(&name("g", g), &[id, id]), 1);
                        prop_assert!(s.group(&name("g", g)).unwrap().pel().get(&id).is_none());
                    }
                }
                GroupStep::Claim { g, c, at, force, just_id } => {
                    let id = StreamId::new(u64::from(at) % (ms + 2), 0);
                    let opts = ClaimOptions { min_idle: 0, delivery: None, retry_count: None, force, just_id, last_id: None };
                    if let Some((got, _)) = s.claim(&name("g", g), &name("c", c), &[id], opts, now) {
                        let gr = s.group(&name("g", g)).unwrap();
                        if !got.is_empty() {
                            prop_assert_eq!(&gr.pel().get(&id).unwrap().consumer[..], &name("c", c)[..]);
                        }
                        if !s.contains(id) {
                            prop_assert!(gr.pel().get(&id).is_none(), "a claim of a gone entry drops it");
                        }
                    }
                }
                GroupStep::AutoClaim { g, c, count } => {
                    let args = AutoClaim { start: StreamId::MIN, count: usize::from(count), min_idle: 0, just_id: false };
                    if let Some((auto, _)) = s.autoclaim(&name("g", g), &name("c", c), args, now) {
                        prop_assert!(auto.claimed.len() + auto.deleted.len() <= usize::from(count));
                        for id in &auto.deleted {
                            prop_assert!(!s.contains(*id));
                        }
                    }
                }
                GroupStep::DelConsumer { g, c } => {
                    let had = s.group(&name("g", g)).and_then(|gr| gr.consumer(&name("c", c)).map(|cs| cs.pending()));
                    prop_assert_eq!(s.delete_consumer(&name("g", g), &name("c", c)).flatten(), had);
                }
                GroupStep::SetId { g, at } => {
                    s.set_group_id(&name("g", g), StreamId::new(u64::from(at) % (ms + 2), 0), None);
                }
            }
            for gr in s.groups().values() {
                prop_assert!(gr.check(), "PEL and consumers disagree");
            }
        }
        let edits = rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default();
        let limits = Limits { stream_node: limit, ..Limits::default() };
        let mut replayed = Collection::Stream(Box::new(start));
        if !edits.is_empty() {
            prop_assert!(edit::check(TAG_STREAM, &edits).is_ok());
            edit::apply(&mut replayed, &edits, limits).unwrap();
        }
        let Collection::Stream(r) = &replayed else { unreachable!() };
        prop_assert_eq!(r.groups(), s.groups());
        prop_assert_eq!(r.meta(), s.meta());
        prop_assert_eq!(&r.nodes, &s.nodes);
        let c = Collection::Stream(Box::new(s.clone()));
        let back = codec::decode(TAG_STREAM, &codec::to_vec(&c), limits).unwrap().unwrap();
        prop_assert_eq!(back, c);
    }
}

#[test]
fn radix_tree_nodes_count_as_rax_does() {
    // One key: a compressed node and the key's leaf.
    assert_eq!(radix_nodes(&[]), 1);
    let k = |ms: u64, seq: u64| StreamId::new(ms, seq).to_be_bytes();
    assert_eq!(radix_nodes(&[k(1, 0)]), 2);
    // Two keys differing in the last byte: prefix, branch, two leaves.
    assert_eq!(radix_nodes(&[k(1, 0), k(1, 1)]), 4);
}

/// Regression: a trim's dropped node was logged by its first ID alone,
/// so a replay whose nodes had other boundaries (other limits, or an
/// entry added again over a snapshot taken after the trim) removed the
/// wrong entries or none.
#[test]
fn a_dropped_node_replays_whatever_the_nodes_are() {
    let replay = |start: &Stream, edits: &[u8], limit: StreamNodeLimit| {
        let limits = Limits {
            stream_node: limit,
            ..Limits::default()
        };
        let mut c = Collection::Stream(Box::new(start.clone()));
        edit::apply(&mut c, edits, limits).unwrap();
        let Collection::Stream(s) = c else {
            unreachable!()
        };
        *s
    };
    // Entries re-added over a snapshot copied after the trim.
    let mut s = Stream::default();
    s.append(StreamId::new(1, 0), &[b"f", b"v"], small());
    let rec = edit::record();
    s.append(StreamId::new(2, 0), &[b"f", b"v"], small());
    assert_eq!(
        s.trim(Trim {
            to: TrimTo::MaxLen(0),
            approx: false,
            limit: 0
        }),
        2
    );
    let edits = rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default();
    let after = replay(&s, &edits, small());
    assert_eq!(after.len(), 0);
    assert_eq!(after.meta(), s.meta());
    // Nodes of 2 entries, trimmed by whole nodes; replayed with nodes of
    // 100, where the two dropped entries share a node with the kept ones.
    let two = StreamNodeLimit {
        bytes: 4096,
        entries: 2,
    };
    let mut s = Stream::default();
    let rec = edit::record();
    for ms in 1..=4 {
        s.append(StreamId::new(ms, 0), &[b"f", b"v"], two);
    }
    assert_eq!(
        s.trim(Trim {
            to: TrimTo::MaxLen(2),
            approx: true,
            limit: 0
        }),
        2
    );
    let edits = rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default();
    let back = replay(&Stream::default(), &edits, StreamNodeLimit::default());
    assert_eq!(back.len(), 2);
    assert_eq!(
        back.range(StreamId::MIN, StreamId::MAX, 0, false),
        s.range(StreamId::MIN, StreamId::MAX, 0, false)
    );
}

/// Regression: Redis lets XSETID go below a tombstone, and XADD then put
/// an entry after it with a smaller ID (or the same one). Snapshots,
/// DUMP's parts and the log refused or lost such a stream, and ranges
/// stopped at the tombstone.
#[test]
fn an_entry_after_a_larger_tombstone_is_kept_everywhere() {
    let limit = small();
    let mut s = Stream::default();
    s.append(StreamId::new(1, 0), &[b"f", b"v"], limit);
    let start = s.clone();
    let rec = edit::record();
    s.append(StreamId::new(5, 0), &[b"f", b"v"], limit);
    assert!(s.delete(StreamId::new(5, 0)));
    let mut meta = s.meta();
    meta.last_id = StreamId::new(2, 0);
    s.set_meta(meta);
    s.append(StreamId::new(3, 0), &[b"f", b"w"], limit);
    s.append(StreamId::new(5, 0), &[b"f", b"x"], limit);
    let edits = rec.finish(|e| e.map(<[u8]>::to_vec)).unwrap_or_default();
    let ids = |s: &Stream| -> Vec<StreamId> {
        s.range(StreamId::MIN, StreamId::new(4, 0), 0, false)
            .iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids(&s), [StreamId::new(1, 0), StreamId::new(3, 0)]);
    assert_eq!(s.last_live_id(), Some(StreamId::new(5, 0)));
    let limits = Limits {
        stream_node: limit,
        ..Limits::default()
    };
    let c = Collection::Stream(Box::new(s.clone()));
    let back = codec::decode(TAG_STREAM, &codec::to_vec(&c), limits)
        .unwrap()
        .unwrap();
    assert_eq!(back, c, "the snapshot encoding loads back");
    let parts: Vec<NodeParts<'_>> = s.node_parts().collect();
    let rebuilt = Stream::from_parts(s.meta(), s.len(), parts, s.groups().clone()).unwrap();
    assert_eq!(ids(&rebuilt), ids(&s), "DUMP's parts build it back");
    let mut replayed = Collection::Stream(Box::new(start));
    edit::apply(&mut replayed, &edits, limits).unwrap();
    let Collection::Stream(r) = &replayed else {
        unreachable!()
    };
    assert_eq!(
        r.range(StreamId::MIN, StreamId::MAX, 0, false),
        s.range(StreamId::MIN, StreamId::MAX, 0, false),
        "the log replays it"
    );
    let mut s = s;
    assert!(
        s.delete(StreamId::new(5, 0)),
        "the live 5-0, not its tombstone"
    );
    assert!(s.delete(StreamId::new(3, 0)));
    assert_eq!(s.len(), 1);
}
