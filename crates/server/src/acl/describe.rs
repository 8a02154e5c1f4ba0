//! Users written back as rules: ACL LIST's and the ACL file's lines, and
//! ACL GETUSER's fields.
//!
//! Owns Redis 7.0's way of describing a command bitmap: start from
//! `+@all` or `-@all`, apply the categories that fit best one by one,
//! then the single commands still different, so that the rules read back
//! give exactly the same bits. It never changes a user.

use super::catalog::Catalog;
use super::category;
use super::selector::{KeyPattern, Selector, ALL, READ, WRITE};
use super::user::{hex, User};
use std::io::Write;

/// The rules that rebuild `sel`'s command bits (`-@all +@read -get`).
pub fn command_rules(sel: &Selector, catalog: &Catalog) -> Vec<u8> {
    let mut rules = Vec::new();
    let mut fake = Selector::new(catalog.len());
    let additive = !sel.future;
    if additive {
        rules.extend_from_slice(b"-@all ");
    } else {
        rules.extend_from_slice(b"+@all ");
        fake.apply(b"+@all", catalog).ok();
    }
    // What is left to explain: categories are taken off it as they are
    // used, so that each pass picks the next best fit.
    let mut left = sel.clone();
    let mut applied = vec![false; category::NAMES.len()];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (usize::MAX, 0);
        for (j, &(bit, _)) in category::NAMES.iter().enumerate() {
            if applied.get(j).copied().unwrap_or(true) {
                continue;
            }
            let (mut on, mut off) = (0, 0);
            for (id, e) in catalog.iter() {
                if e.categories & bit != 0 {
                    if left.allows(id) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
            }
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some((j, bit));
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some((j, bit)) = best else { break };
        let name = category::NAMES.get(j).map_or("", |(_, n)| n);
        let _ = write!(rules, "{}{name} ", if additive { "+" } else { "-" });
        fake.change_category(catalog, bit, additive);
        left.change_category(catalog, bit, !additive);
        if let Some(a) = applied.get_mut(j) {
            *a = true;
        }
    }
    // The single commands, each container followed by its subcommands.
    for (id, e) in catalog.iter().filter(|(_, e)| e.parent.is_none()) {
        single(sel, &mut fake, catalog, id, e.name, &mut rules);
        for &child in &e.children {
            single(
                sel,
                &mut fake,
                catalog,
                child,
                catalog.name(child),
                &mut rules,
            );
        }
        if !sel.allows(id) {
            for arg in sel.firstargs.get(&id).into_iter().flatten() {
                let _ = write!(rules, "+{}|", e.name);
                rules.extend_from_slice(arg);
                rules.push(b' ');
            }
        }
    }
    rules.pop();
    rules
}

/// Writes the rule that makes `fake`'s bit for `id` what `sel`'s is.
fn single(
    sel: &Selector,
    fake: &mut Selector,
    catalog: &Catalog,
    id: usize,
    name: &str,
    rules: &mut Vec<u8>,
) {
    let bit = sel.allows(id);
    if bit != fake.allows(id) {
        let _ = write!(rules, "{}{name} ", if bit { "+" } else { "-" });
        fake.change(catalog, id, bit);
    }
}

/// A key pattern as a rule: `~p`, `%R~p`, `%W~p`.
pub fn key_rule(k: &KeyPattern) -> Vec<u8> {
    let prefix = match k.perms {
        ALL => "~",
        READ => "%R~",
        WRITE => "%W~",
        _ => "%~",
    };
    [prefix.as_bytes(), &k.pattern].concat()
}

/// A selector's rules: keys, channels, commands.
pub fn selector(sel: &Selector, catalog: &Catalog) -> Vec<u8> {
    let mut out = Vec::new();
    if sel.allkeys {
        out.extend_from_slice(b"~* ");
    } else {
        for k in &sel.keys {
            out.extend_from_slice(&key_rule(k));
            out.push(b' ');
            // `%R~*` then `%W~*` leave a pattern `*` for both, written `~*`,
            // which reads back as `allkeys`, after which another pattern is
            // refused. Redis 7.0 writes the patterns after it anyway (`~*
            // ~b`), and its ACL file then fails to load. They grant nothing
            // more, so they are left out.
            if k.pattern == b"*" && k.perms == ALL {
                break;
            }
        }
    }
    if sel.allchannels {
        out.extend_from_slice(b"&* ");
    } else {
        out.extend_from_slice(b"resetchannels ");
        for c in &sel.channels {
            out.push(b'&');
            out.extend_from_slice(c);
            out.push(b' ');
        }
    }
    out.extend_from_slice(&command_rules(sel, catalog));
    out
}

/// A user's rules as ACL LIST and the ACL file write them (after `user
/// name `).
pub fn user(u: &User, catalog: &Catalog) -> Vec<u8> {
    let mut out = Vec::new();
    for flag in u.flag_names() {
        let _ = write!(out, "{flag} ");
    }
    for h in u.passwords() {
        let _ = write!(out, "#{} ", hex(h));
    }
    out.extend_from_slice(&selector(u.root(), catalog));
    for s in u.more() {
        out.extend_from_slice(b" (");
        out.extend_from_slice(&selector(s, catalog));
        out.push(b')');
    }
    out
}

/// ACL GETUSER's `keys` field: the patterns joined by spaces, `~*` for
/// all keys.
pub fn keys_field(sel: &Selector) -> Vec<u8> {
    if sel.allkeys {
        return b"~*".to_vec();
    }
    sel.keys
        .iter()
        .map(key_rule)
        .collect::<Vec<_>>()
        .join(&b' ')
}

/// ACL GETUSER's `channels` field.
pub fn channels_field(sel: &Selector) -> Vec<u8> {
    if sel.allchannels {
        return b"&*".to_vec();
    }
    sel.channels
        .iter()
        .map(|c| [&b"&"[..], c].concat())
        .collect::<Vec<_>>()
        .join(&b' ')
}
