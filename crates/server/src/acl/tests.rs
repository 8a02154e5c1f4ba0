//! Property tests of the ACL: the permission check against a
//! straightforward reference that replays a user's rules for each
//! request, over random users, commands, keys and channels; and users
//! written back as rules (ACL LIST, the ACL file) reading back the same.
//! The reference must never share code with what it checks: it replays
//! the rules one by one, without bits or the selector's own matching.

use super::catalog::{Catalog, Entry};
use super::category::{ADMIN, CONNECTION, DANGEROUS, FAST, READ, WRITE};
use super::check::{check, Refs};
use super::selector::{READ as R, WRITE as W};
use super::{describe, file, selector, Acl, User};
use proptest::prelude::*;
use std::sync::{Arc, LazyLock};

/// A small command table with every shape the rules care about: plain
/// commands, a container with subcommands, a command every user may run.
fn catalog() -> &'static Catalog {
    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
        let e = |name, categories, parent, children: &[usize], no_auth| Entry {
            name,
            categories,
            parent,
            children: children.to_vec(),
            no_auth,
        };
        Catalog::new(vec![
            e("get", READ | FAST, None, &[], false),
            e("set", WRITE, None, &[], false),
            e("config", ADMIN, None, &[3, 4], false),
            e("config|get", ADMIN, Some(2), &[], false),
            e("config|set", ADMIN | DANGEROUS, Some(2), &[], false),
            e("auth", CONNECTION | FAST, None, &[], true),
            e("select", CONNECTION | FAST, None, &[], false),
        ])
    });
    &CATALOG
}

const COMMANDS: &[&str] = &[
    "get",
    "set",
    "config",
    "config|get",
    "config|set",
    "auth",
    "select",
];
const CATEGORIES: &[(&str, u32)] = &[
    ("read", READ),
    ("write", WRITE),
    ("admin", ADMIN),
    ("dangerous", DANGEROUS),
    ("connection", CONNECTION),
    ("fast", FAST),
];
const PATTERNS: &[&str] = &["a*", "b*", "*", "ab", "a?", "x"];
const NAMES: &[&str] = &["a", "ab", "b", "ba", "x", "abc"];

/// One rule of a selector, as the generator picks them.
#[derive(Debug, Clone)]
enum Rule {
    AllCommands,
    NoCommands,
    Plus(usize),
    Minus(usize),
    PlusCat(usize),
    MinusCat(usize),
    FirstArg(usize, usize),
    AllKeys,
    ResetKeys,
    Key(u8, usize),
    AllChannels,
    ResetChannels,
    Channel(usize),
}

impl Rule {
    fn text(&self) -> String {
        match self {
            Self::AllCommands => "allcommands".into(),
            Self::NoCommands => "nocommands".into(),
            Self::Plus(c) => format!("+{}", COMMANDS[*c]),
            Self::Minus(c) => format!("-{}", COMMANDS[*c]),
            Self::PlusCat(c) => format!("+@{}", CATEGORIES[*c].0),
            Self::MinusCat(c) => format!("-@{}", CATEGORIES[*c].0),
            Self::FirstArg(c, a) => format!("+{}|{}", COMMANDS[*c], NAMES[*a]),
            Self::AllKeys => "allkeys".into(),
            Self::ResetKeys => "resetkeys".into(),
            Self::Key(perms, p) => {
                let prefix = match *perms {
                    R => "%R~",
                    W => "%W~",
                    _ => "~",
                };
                format!("{prefix}{}", PATTERNS[*p])
            }
            Self::AllChannels => "allchannels".into(),
            Self::ResetChannels => "resetchannels".into(),
            Self::Channel(p) => format!("&{}", PATTERNS[*p]),
        }
    }
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        Just(Rule::AllCommands),
        Just(Rule::NoCommands),
        (0..COMMANDS.len()).prop_map(Rule::Plus),
        (0..COMMANDS.len()).prop_map(Rule::Minus),
        (0..CATEGORIES.len()).prop_map(Rule::PlusCat),
        (0..CATEGORIES.len()).prop_map(Rule::MinusCat),
        (0..COMMANDS.len(), 0..NAMES.len()).prop_map(|(c, a)| Rule::FirstArg(c, a)),
        Just(Rule::AllKeys),
        Just(Rule::ResetKeys),
        (1u8..=3, 0..PATTERNS.len()).prop_map(|(p, k)| Rule::Key(p, k)),
        Just(Rule::AllChannels),
        Just(Rule::ResetChannels),
        (0..PATTERNS.len()).prop_map(Rule::Channel),
    ]
}

/// A request: a command, its first argument, keys with the access they
/// need, channels (and whether each is a subscription pattern).
#[derive(Debug, Clone)]
struct Request {
    id: usize,
    first: usize,
    keys: Vec<(usize, u8)>,
    channels: Vec<(usize, bool)>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        0..COMMANDS.len(),
        0..NAMES.len(),
        prop::collection::vec((0..NAMES.len(), 0u8..=3), 0..3),
        prop::collection::vec((0..PATTERNS.len(), any::<bool>()), 0..2),
    )
        .prop_map(|(id, first, keys, channels)| Request {
            id,
            first,
            keys,
            channels,
        })
}

/// Redis's glob for `*` and `?` (the only wildcards generated).
fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

/// The reference: replays one selector's rules for this request alone.
/// `None` when the rules are invalid (a pattern after `allkeys` or
/// `allchannels`, a first argument of a subcommand).
fn reference_selector(rules: &[Rule], q: &Request, initial_channels_all: bool) -> Option<bool> {
    let cat = catalog();
    let entry = cat.get(q.id)?;
    // Whether rule target `t` (a command) covers the request's command:
    // the command itself, or its container.
    let covers = |t: usize| t == q.id || entry.parent == Some(t);
    let mut allowed = false;
    let mut first_args: Vec<&str> = Vec::new();
    let (mut all_keys, mut keys): (bool, Vec<(&str, u8)>) = (false, Vec::new());
    let (mut all_channels, mut channels): (bool, Vec<&str>) = (initial_channels_all, Vec::new());
    for r in rules {
        match r {
            Rule::AllCommands | Rule::NoCommands => {
                allowed = matches!(r, Rule::AllCommands);
                first_args.clear();
            }
            Rule::Plus(t) | Rule::Minus(t) => {
                if covers(*t) {
                    allowed = matches!(r, Rule::Plus(_));
                }
                if *t == q.id {
                    first_args.clear();
                }
            }
            Rule::PlusCat(c) | Rule::MinusCat(c) => {
                let bit = CATEGORIES[*c].1;
                let in_cat = |id: usize| cat.get(id).is_some_and(|e| e.categories & bit != 0);
                if in_cat(q.id) || entry.parent.is_some_and(in_cat) {
                    allowed = matches!(r, Rule::PlusCat(_));
                }
                if in_cat(q.id) {
                    first_args.clear();
                }
            }
            Rule::FirstArg(t, a) => {
                let target = cat.get(*t)?;
                if target.parent.is_some() {
                    return None;
                }
                if target.children.is_empty() {
                    if *t == q.id && !first_args.contains(&NAMES[*a]) {
                        first_args.push(NAMES[*a]);
                    }
                } else {
                    // `+config|ab` names no subcommand.
                    return None;
                }
            }
            // `~*` is `allkeys`, as Redis reads it (`%R~*` is a pattern).
            Rule::AllKeys => {
                all_keys = true;
                keys.clear();
            }
            Rule::Key(3, p) if PATTERNS[*p] == "*" => {
                all_keys = true;
                keys.clear();
            }
            Rule::ResetKeys => {
                all_keys = false;
                keys.clear();
            }
            Rule::Key(perms, p) => {
                if all_keys {
                    return None;
                }
                match keys.iter_mut().find(|(k, _)| *k == PATTERNS[*p]) {
                    Some((_, have)) => *have |= perms,
                    None => keys.push((PATTERNS[*p], *perms)),
                }
            }
            Rule::AllChannels => {
                all_channels = true;
                channels.clear();
            }
            Rule::Channel(p) if PATTERNS[*p] == "*" => {
                all_channels = true;
                channels.clear();
            }
            Rule::ResetChannels => {
                all_channels = false;
                channels.clear();
            }
            Rule::Channel(p) => {
                if all_channels {
                    return None;
                }
                if !channels.contains(&PATTERNS[*p]) {
                    channels.push(PATTERNS[*p]);
                }
            }
        }
    }
    let command_ok = entry.no_auth || allowed || first_args.contains(&NAMES[q.first]);
    let keys_ok = all_keys
        || q.keys.iter().all(|&(k, need)| {
            keys.iter()
                .any(|&(p, have)| have & need == need && glob(p.as_bytes(), NAMES[k].as_bytes()))
        });
    let channels_ok = all_channels
        || q.channels.iter().all(|&(c, is_pattern)| {
            channels.iter().any(|p| {
                if is_pattern {
                    *p == PATTERNS[c]
                } else {
                    glob(p.as_bytes(), PATTERNS[c].as_bytes())
                }
            })
        });
    Some(command_ok && keys_ok && channels_ok)
}

/// The request's arguments: the command's words, its first argument,
/// then its keys and channels, at the positions `Refs` names.
fn args_and_refs(q: &Request) -> (Vec<Vec<u8>>, Refs) {
    let name = COMMANDS[q.id];
    let mut args: Vec<Vec<u8>> = name.split('|').map(|w| w.as_bytes().to_vec()).collect();
    args.push(NAMES[q.first].as_bytes().to_vec());
    let mut refs = Refs::default();
    for &(k, perms) in &q.keys {
        refs.keys.push((args.len(), perms));
        args.push(NAMES[k].as_bytes().to_vec());
    }
    for &(c, is_pattern) in &q.channels {
        refs.channels.push((args.len(), is_pattern));
        args.push(PATTERNS[c].as_bytes().to_vec());
    }
    (args, refs)
}

/// `user` as it reads back from its own description. `%R~*` then `%W~*`
/// leave a pattern `*` that grants both, where `~*` sets `allkeys`; Redis
/// 7.0 keeps the two apart the same way and describes both as `~*`, so a
/// copy read back holds `allkeys` (and no other pattern, which `~*`
/// clears). The two grant the same keys.
fn settled(user: &User) -> User {
    let mut user = user.clone();
    for s in std::iter::once(&mut user.root).chain(user.more.iter_mut()) {
        if s.keys
            .iter()
            .any(|k| k.pattern == b"*" && k.perms == selector::ALL)
        {
            s.allkeys = true;
            s.keys.clear();
        }
    }
    user
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_check_agrees_with_replaying_the_rules(
        root in prop::collection::vec(rule(), 0..8),
        more in prop::collection::vec(prop::collection::vec(rule(), 0..5), 0..3),
        q in request(),
        pubsub_all in any::<bool>(),
    ) {
        let acl = Acl::new(catalog(), None);
        // `acl-pubsub-default`: the channels each selector starts with.
        acl.set_pubsub_default(pubsub_all);
        let mut words: Vec<String> = root.iter().map(Rule::text).collect();
        for s in &more {
            let inner: Vec<String> = s.iter().map(Rule::text).collect();
            words.push(format!("({})", inner.join(" ")));
        }
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        let applied = acl.set_user(b"u", &words);
        // The first argument of a command a selector's rules name only by
        // first argument reaches the check at position 1 (or 2 for a
        // subcommand), where `args_and_refs` puts it.
        let reference: Option<Vec<bool>> = std::iter::once(&root)
            .chain(&more)
            .map(|rules| reference_selector(rules, &q, pubsub_all))
            .collect();
        match (applied, reference) {
            (Err(_), None) => {}
            (Ok(changed), Some(each)) => {
                let (args, refs) = args_and_refs(&q);
                let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                let got = check(&changed.after, catalog(), q.id, &args, &refs).is_ok();
                prop_assert_eq!(got, each.iter().any(|&a| a), "{:?}", words);
            }
            (applied, reference) => {
                prop_assert!(false, "valid: {} against the reference's {}", applied.is_ok(), reference.is_some());
            }
        }
    }

    #[test]
    fn users_written_as_rules_read_back_the_same(
        root in prop::collection::vec(rule(), 0..10),
        more in prop::collection::vec(prop::collection::vec(rule(), 0..5), 0..3),
        password in prop::option::of("[a-z]{1,8}"),
    ) {
        let acl = Acl::new(catalog(), None);
        let mut words: Vec<String> = root.iter().map(Rule::text).collect();
        for s in &more {
            let inner: Vec<String> = s.iter().map(Rule::text).collect();
            words.push(format!("({})", inner.join(" ")));
        }
        if let Some(p) = password {
            words.push(format!(">{p}"));
        }
        words.push("on".into());
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        let Ok(changed) = acl.set_user(b"u", &words) else {
            return Ok(());
        };
        let written = file::render(&[Arc::clone(&changed.after)], catalog());
        let read = file::parse_bytes(&written, "test", catalog(), false);
        prop_assert!(read.is_ok(), "{}", String::from_utf8_lossy(&written));
        let read = read.unwrap_or_default();
        let again = read.get(&b"u"[..]).map(|u| settled(u));
        let settled_before = settled(&changed.after);
        prop_assert_eq!(again.as_ref(), Some(&settled_before), "{}", String::from_utf8_lossy(&written));
        // And the description of the copy is the same text.
        if let Some(u) = again {
            prop_assert_eq!(describe::user(&u, catalog()), describe::user(&settled_before, catalog()));
        }
    }
}

#[test]
fn the_server_s_catalog_ids_are_its_stats_slots() {
    let catalog = crate::command::acl_catalog();
    let names: Vec<&str> = catalog.iter().map(|(_, e)| e.name).collect();
    assert_eq!(names, crate::command::stat_names());
    for (id, e) in catalog.iter() {
        for &child in &e.children {
            assert_eq!(catalog.get(child).and_then(|c| c.parent), Some(id));
        }
    }
}

#[test]
fn a_pattern_star_for_both_after_other_patterns_is_saved_so_it_loads() {
    // Redis 7.0.15: ACL SETUSER u3 reset on %R~* ~b %W~*, then ACL LIST
    // gives `~* ~b`, a line its own ACL LOAD refuses.
    let acl = Acl::new(catalog(), None);
    let rules: [&[u8]; 5] = [b"reset", b"on", b"%R~*", b"~b", b"%W~*"];
    let Ok(changed) = acl.set_user(b"u", &rules) else {
        panic!("the rules are valid");
    };
    let written = file::render(&[Arc::clone(&changed.after)], catalog());
    assert_eq!(
        String::from_utf8_lossy(&written),
        "user u on sanitize-payload ~* resetchannels -@all\n"
    );
    let read = file::parse_bytes(&written, "test", catalog(), false);
    let read = read.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        read.get(&b"u"[..]).map(|u| settled(u)),
        Some(settled(&changed.after))
    );
}
