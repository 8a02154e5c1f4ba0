//! A selector: one set of permissions (commands, keys, channels). A user
//! has a root selector and any number of `(...)` ones; a request is
//! allowed when one of them allows it whole.
//!
//! Owns the selector rules of Redis 7.0's grammar (`+cmd`, `-@cat`,
//! `~pattern`, `%R~pattern`, `&channel`, `allkeys`, ...) with its error
//! for each malformed rule, and the per-selector half of the permission
//! check. It never sees a request's bytes beyond the positions the
//! caller found (`check::Refs`), and never changes a user: rules apply
//! to a copy, which replaces the user whole.

use super::catalog::Catalog;
use super::category;
use std::collections::BTreeMap;

/// A key pattern grants reading.
pub const READ: u8 = 1;
/// A key pattern grants writing.
pub const WRITE: u8 = 2;
/// Both (`~pattern`).
pub const ALL: u8 = READ | WRITE;

/// Why a rule was refused, with Redis 7.0's words for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// `+nosuch`, `-@nosuch`.
    UnknownCommand,
    /// A rule that is not one, or a pattern with a space.
    Syntax,
    /// A key pattern after `allkeys`.
    KeyAfterAll,
    /// A channel pattern after `allchannels`.
    ChannelAfterAll,
    /// `<pass` or `!hash` for a password the user does not have.
    NoSuchPassword,
    /// `#hash` or `!hash` that is not 64 lowercase hex digits.
    BadHash,
    /// `+config|get|x`.
    SubcommandFirstArg,
}

impl RuleError {
    /// Redis's description, as ACL SETUSER quotes it.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnknownCommand => "Unknown command or category name in ACL",
            Self::Syntax => "Syntax error",
            Self::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            Self::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            Self::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            Self::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            Self::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// A key pattern and what it grants (`READ`, `WRITE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    /// The glob.
    pub pattern: Vec<u8>,
    /// `READ`, `WRITE` or `ALL`.
    pub perms: u8,
    /// How it matches, found once: most patterns are a name or a prefix.
    shape: Shape,
}

/// A pattern's shape: a literal and `prefix*` match without the glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No wildcard: the key itself.
    Literal,
    /// Wildcards only as one `*` at the end.
    Prefix,
    /// Anything else.
    Glob,
}

impl KeyPattern {
    fn new(pattern: &[u8], perms: u8) -> Self {
        let special = |b: &u8| matches!(b, b'*' | b'?' | b'[' | b'\\');
        let shape = match pattern.split_last() {
            _ if !pattern.iter().any(special) => Shape::Literal,
            Some((b'*', head)) if !head.iter().any(special) => Shape::Prefix,
            _ => Shape::Glob,
        };
        Self {
            pattern: pattern.to_vec(),
            perms,
            shape,
        }
    }

    /// Whether `key` matches, as Redis's glob says (an empty key matches
    /// only an empty pattern, `*` included).
    fn matches(&self, key: &[u8]) -> bool {
        match self.shape {
            Shape::Literal => self.pattern == key,
            Shape::Prefix => {
                let head = self
                    .pattern
                    .get(..self.pattern.len() - 1)
                    .unwrap_or_default();
                !key.is_empty() && key.starts_with(head)
            }
            Shape::Glob => tandem_engine::glob_match(&self.pattern, key),
        }
    }
}

/// One set of permissions.
#[derive(Debug, Clone)]
pub struct Selector {
    /// Any key (`allkeys`, `~*`).
    pub(super) allkeys: bool,
    /// Any channel (`allchannels`, `&*`).
    pub(super) allchannels: bool,
    /// Every command, with no bit cleared since (`+@all` and nothing
    /// taken away): the check skips the bits.
    pub(super) allcommands: bool,
    /// `+@all` was the base: commands added later would be allowed
    /// (Redis's reserved bit), so the description starts with `+@all`.
    pub(super) future: bool,
    /// One bit per catalog id.
    pub(super) commands: Vec<u64>,
    /// First arguments allowed for a command whose bit is clear
    /// (`+select|0`), by id, lowercase comparisons.
    pub(super) firstargs: BTreeMap<usize, Vec<Vec<u8>>>,
    /// Key patterns, in the order given.
    pub(super) keys: Vec<KeyPattern>,
    /// Channel patterns, in the order given.
    pub(super) channels: Vec<Vec<u8>>,
}

/// Two selectors are equal when they grant the same: `allcommands` is a
/// shortcut the bits already say (`+@all -get +get` grants what `+@all`
/// does, without it).
impl PartialEq for Selector {
    fn eq(&self, other: &Self) -> bool {
        self.allkeys == other.allkeys
            && self.allchannels == other.allchannels
            && self.future == other.future
            && self.commands == other.commands
            && self.firstargs == other.firstargs
            && self.keys == other.keys
            && self.channels == other.channels
    }
}

impl Eq for Selector {}

/// Whether a pattern or name holds a space or NUL (Redis refuses them,
/// so that ACL LIST and the ACL file read back as written).
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b)
}

impl Selector {
    /// A selector granting nothing, over a catalog of `ids` commands.
    pub fn new(ids: usize) -> Self {
        Self {
            allkeys: false,
            allchannels: false,
            allcommands: false,
            future: false,
            commands: vec![0; ids.div_ceil(64)],
            firstargs: BTreeMap::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// Whether command `id`'s bit is set.
    pub fn allows(&self, id: usize) -> bool {
        self.commands
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// Whether this selector grants everything: every command, key and
    /// channel.
    pub fn unrestricted(&self) -> bool {
        self.allcommands && self.allkeys && self.allchannels
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.commands.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
                self.allcommands = false;
            }
        }
    }

    /// Allows or forbids command `id` and, for a container, every
    /// subcommand; its first arguments are forgotten.
    pub(super) fn change(&mut self, catalog: &Catalog, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.remove(&id);
        if let Some(e) = catalog.get(id) {
            for &child in &e.children {
                self.set_bit(child, allow);
            }
        }
    }

    /// Allows or forbids every command of category `bit`, containers'
    /// subcommands by their own categories, as Redis walks its table.
    pub(super) fn change_category(&mut self, catalog: &Catalog, bit: u32, allow: bool) {
        for (id, e) in catalog.iter() {
            if e.categories & bit != 0 {
                self.change(catalog, id, allow);
            }
        }
    }

    fn set_all(&mut self, allow: bool) {
        let fill = if allow { u64::MAX } else { 0 };
        self.commands.iter_mut().for_each(|w| *w = fill);
        self.allcommands = allow;
        self.future = allow;
        self.firstargs.clear();
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8], catalog: &Catalog) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.allkeys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if let Some(rest) = op.strip_prefix(b"~") {
            self.add_key(ALL, rest)?;
        } else if let Some(rest) = op.strip_prefix(b"%") {
            // Redis refuses any key rule after `allkeys` before reading it.
            if self.allkeys {
                return Err(RuleError::KeyAfterAll);
            }
            let (perms, pattern) = key_perms(rest)?;
            self.add_key(perms, pattern)?;
        } else if let Some(pattern) = op.strip_prefix(b"&") {
            if self.allchannels {
                return Err(RuleError::ChannelAfterAll);
            }
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.allchannels = false;
        } else if let Some(cat) = op.strip_prefix(b"+@") {
            let bit = category::by_name(cat).ok_or(RuleError::UnknownCommand)?;
            self.change_category(catalog, bit, true);
        } else if let Some(cat) = op.strip_prefix(b"-@") {
            let bit = category::by_name(cat).ok_or(RuleError::UnknownCommand)?;
            self.change_category(catalog, bit, false);
        } else if let Some(name) = op.strip_prefix(b"+") {
            self.allow_command(name, catalog)?;
        } else if let Some(name) = op.strip_prefix(b"-") {
            let id = catalog.find(name).ok_or(RuleError::UnknownCommand)?;
            self.change(catalog, id, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key(&mut self, perms: u8, pattern: &[u8]) -> Result<(), RuleError> {
        if self.allkeys {
            return Err(RuleError::KeyAfterAll);
        }
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(k) => k.perms |= perms,
            None => self.keys.push(KeyPattern::new(pattern, perms)),
        }
        Ok(())
    }

    /// `+name`, `+container|sub` or `+command|first-arg`.
    fn allow_command(&mut self, name: &[u8], catalog: &Catalog) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = catalog.find(name).ok_or(RuleError::UnknownCommand)?;
            self.change(catalog, id, true);
            return Ok(());
        };
        let (base, sub) = (name.get(..bar).unwrap_or_default(), name.get(bar + 1..));
        let id = catalog.find(base).ok_or(RuleError::UnknownCommand)?;
        let entry = catalog.get(id).ok_or(RuleError::UnknownCommand)?;
        if entry.parent.is_some() {
            return Err(RuleError::SubcommandFirstArg);
        }
        let sub = sub.filter(|s| !s.is_empty()).ok_or(RuleError::Syntax)?;
        if entry.children.is_empty() {
            // A first argument of a command without subcommands
            // (`+select|0`): Redis allows it, deprecated. Beside the
            // command's own bit it would change nothing, and any rule that
            // clears the bit forgets it, so it is not kept.
            if self.allows(id) {
                return Ok(());
            }
            let args = self.firstargs.entry(id).or_default();
            if !args.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                args.push(sub.to_vec());
            }
        } else {
            let sub_id = catalog.find(name).ok_or(RuleError::UnknownCommand)?;
            self.change(catalog, sub_id, true);
        }
        Ok(())
    }

    /// Whether this selector lets `perms` (`READ`, `WRITE`, both, or
    /// neither: a key only named) touch `key`.
    pub fn allows_key(&self, key: &[u8], perms: u8) -> bool {
        self.allkeys
            || self
                .keys
                .iter()
                .any(|k| k.perms & perms == perms && k.matches(key))
    }

    /// Whether `perms` are granted on every key (`allkeys`, or a `*`
    /// pattern granting them): SORT's BY and GET need it.
    pub fn allows_every_key(&self, perms: u8) -> bool {
        self.allkeys
            || self
                .keys
                .iter()
                .any(|k| k.perms & perms == perms && k.pattern == b"*")
    }

    /// Whether this selector lets a client publish or subscribe to
    /// `channel`; a subscription pattern (`is_pattern`) must be one of
    /// the selector's patterns, letter for letter.
    pub fn allows_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.allchannels || channel_in(&self.channels, channel, is_pattern)
    }
}

/// Whether `channel` is granted by one of `patterns` (Redis's
/// `ACLCheckChannelAgainstList`).
pub fn channel_in(patterns: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    patterns.iter().any(|p| {
        if is_pattern {
            p == channel
        } else {
            tandem_engine::glob_match(p, channel)
        }
    })
}

/// The permissions of a `%R~`, `%W~` or `%RW~` rule (after the `%`) and
/// its pattern. Redis reads the letters until `~`; a rule with no letter,
/// or a letter twice, or anything else, is a syntax error.
fn key_perms(rest: &[u8]) -> Result<(u8, &[u8]), RuleError> {
    let mut perms = 0;
    let mut at = 0;
    while let Some(&b) = rest.get(at) {
        at += 1;
        match b.to_ascii_uppercase() {
            b'R' if perms & READ == 0 => perms |= READ,
            b'W' if perms & WRITE == 0 => perms |= WRITE,
            b'~' => break,
            _ => return Err(RuleError::Syntax),
        }
    }
    if perms == 0 {
        return Err(RuleError::Syntax);
    }
    Ok((perms, rest.get(at..).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcuts agree with the glob on every shape, the empty key
    /// (which `*` does not match, as in Redis) included.
    #[test]
    fn literal_and_prefix_patterns_match_as_the_glob_does() {
        let patterns: &[&[u8]] = &[
            b"", b"*", b"a", b"a*", b"ab*", b"a?", b"a*b", b"[a]*", b"a\\*", b"**",
        ];
        let keys: &[&[u8]] = &[b"", b"a", b"ab", b"abc", b"b", b"a*", b"ba"];
        for &p in patterns {
            let k = KeyPattern::new(p, ALL);
            for &key in keys {
                assert_eq!(
                    k.matches(key),
                    tandem_engine::glob_match(p, key),
                    "{:?} against {:?}",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(key)
                );
            }
        }
    }
}
