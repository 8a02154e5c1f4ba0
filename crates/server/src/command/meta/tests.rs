//! The metadata agrees with the command table.

use super::*;
use crate::command::table;

#[test]
fn every_command_has_metadata() {
    for spec in table() {
        assert!(of(spec.name).is_some(), "{} has no metadata", spec.name);
    }
}

#[test]
fn names_are_unique_and_subcommands_belong_to_their_container() {
    let mut seen = std::collections::HashSet::new();
    for m in super::all() {
        assert!(seen.insert(m.name), "{} twice", m.name);
        for s in m.subcommands {
            assert_eq!(
                s.full_name.split_once('|').map(|(c, _)| c),
                Some(m.name),
                "{}",
                s.full_name
            );
            assert!(s.arity.abs() >= 2, "{}", s.full_name);
        }
    }
}

#[test]
fn key_specifications_agree_with_legacy_key_positions() {
    let check = |name: &str, range: (i32, i32, i32), specs: &[KeySpec]| {
        let Some(first) = specs.first() else {
            assert_eq!(range, (0, 0, 0), "{name} has positions but no specs");
            return;
        };
        if first.keynum.is_some() || first.keyword.is_some() {
            // Keys found by count have no legacy range (Redis's
            // `movablekeys`).
            assert_eq!(range, (0, 0, 0), "{name}");
            return;
        }
        assert_eq!(range.0, first.index, "{name}: first key");
        assert_eq!(range.2, first.keystep, "{name}: key step");
        // As Redis's legacy range: the specs that find keys by a count
        // (ZUNIONSTORE's sources) or cannot say where they are (SORT's
        // patterns) are left out of it.
        let last = specs
            .iter()
            .rfind(|k| k.keynum.is_none() && !k.unknown)
            .map_or(0, |k| match k.lastkey {
                l if l < 0 => l,
                l => k.index + l,
            });
        assert_eq!(range.1, last, "{name}: last key");
    };
    for spec in table() {
        let d = Described::command(spec);
        check(spec.name, spec.keys, d.keys);
        for sub in of(spec.name).map_or(&[][..], |m| m.subcommands) {
            check(sub.full_name, sub.key_range, sub.keys);
        }
    }
}

#[test]
fn reported_only_flags_are_never_behaviour() {
    let behaviour = flags::WRITE
        | flags::READONLY
        | flags::FAST
        | flags::NO_AUTH
        | flags::ADMIN
        | flags::DENYOOM
        | flags::PUBSUB
        | flags::NO_MULTI
        | flags::BLOCKING;
    for m in super::all() {
        assert_eq!(m.flags & behaviour, 0, "{}", m.name);
    }
}

#[test]
fn acl_categories_follow_redis_rules() {
    assert_eq!(
        implied_acl(flags::READONLY | flags::FAST, 0),
        acl::READ | acl::FAST
    );
    assert_eq!(implied_acl(flags::WRITE, 0), acl::WRITE | acl::SLOW);
    assert_eq!(
        implied_acl(flags::ADMIN, 0),
        acl::ADMIN | acl::DANGEROUS | acl::SLOW
    );
    // A read-only script command is not `@read` (Redis 7.0.15: EVAL_RO is
    // `@slow @scripting`).
    assert_eq!(
        implied_acl(flags::READONLY, acl::SCRIPTING),
        acl::SCRIPTING | acl::SLOW
    );
    for name in ["eval_ro", "evalsha_ro", "fcall_ro"] {
        let spec = table().iter().find(|s| s.name == name);
        let described = spec.map(|s| Described::command(s).acl);
        assert_eq!(described, Some(acl::SCRIPTING | acl::SLOW), "{name}");
    }
}

#[test]
fn key_positions_follow_the_range() {
    let mset = ks(key::OW, 1, -1, 2);
    let at = |k: &KeySpec, line: &str| {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        k.positions(&args)
    };
    assert_eq!(at(&mset, "mset a 1 b 2"), Some(vec![1, 3]));
    assert_eq!(at(&mset, "mset a 1 b"), Some(vec![1, 3]));
    let get = ks(key::RO, 1, 0, 1);
    assert_eq!(at(&get, "get k"), Some(vec![1]));
    assert_eq!(at(&get, "get"), None);
    let object = ks(key::RO, 2, 0, 1);
    assert_eq!(at(&object, "object encoding k"), Some(vec![2]));
    let sintercard = ks_keynum(key::RO, 1, 0, 1, 1);
    assert_eq!(
        at(&sintercard, "sintercard 2 a b limit 1"),
        Some(vec![2, 3])
    );
    assert_eq!(at(&sintercard, "sintercard 3 a b"), None);
    assert_eq!(at(&sintercard, "sintercard 0 a"), None);
    assert_eq!(at(&sintercard, "sintercard x a"), None);
}
