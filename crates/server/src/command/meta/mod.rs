//! What COMMAND reports beyond a command's `Spec`: documentation (group,
//! summary, complexity), ACL categories, tips, key specifications, and
//! subcommands.
//!
//! Owns the descriptive side of the command table, kept apart from
//! `Spec` (what the dispatcher acts on) so that a command module lists
//! only what its handlers need. Facts about the Redis API (when a command
//! appeared, its ACL categories, its key specifications) follow Redis
//! 7.0.15; summaries and complexities describe Tandem's commands in our
//! own words. Subcommands live here, with their own arity, flags and key
//! positions: the dispatcher checks their arity and counts them apart in
//! INFO commandstats, and cluster clients (redis-py) read their key
//! positions from COMMAND INFO.
//!
//! A command without an entry here is still served; COMMAND then reports
//! only what its `Spec` says.

mod table;
mod types_table;

use super::spec::{flags, Spec};
use std::collections::HashMap;
use std::sync::LazyLock;

/// ACL categories, as COMMAND reports them (defined with the users who
/// are granted them, in `crate::acl`).
pub use crate::acl::category as acl;

/// Key specification flags: how a command uses a key.
pub mod key {
    /// Reads the key's value.
    pub const RO: u32 = 1;
    /// Reads and changes the value.
    pub const RW: u32 = 1 << 1;
    /// Overwrites the value without reading it.
    pub const OW: u32 = 1 << 2;
    /// Removes the key.
    pub const RM: u32 = 1 << 3;
    /// Returns or copies data of the value.
    pub const ACCESS: u32 = 1 << 4;
    /// Updates the value.
    pub const UPDATE: u32 = 1 << 5;
    /// Adds to the value.
    pub const INSERT: u32 = 1 << 6;
    /// Deletes from the value.
    pub const DELETE: u32 = 1 << 7;
    /// Not a key (a shard channel), though routed like one.
    pub const NOT_KEY: u32 = 1 << 8;
    /// The flags depend on the arguments.
    pub const VARIABLE_FLAGS: u32 = 1 << 9;

    /// Each flag with its name, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where a command's keys are: from argument `index`, up to `lastkey`
/// (relative to `index` when not negative; from the end when negative,
/// -1 being the last argument), every `keystep` arguments: Redis's
/// `begin_search` by index with `find_keys` by range. Or, with `keynum`,
/// Redis's `find_keys` by count: the count at `index + keynumidx`, the
/// first key at `index + firstkey` (SINTERCARD, ZUNION, LMPOP). With
/// `keyword`, the search begins after a word instead of at `index`
/// (XREAD's `STREAMS`), and a range's `limit` takes that share of what
/// follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// `key::*` flags.
    pub flags: u32,
    /// A note Redis attaches to the specification.
    pub notes: Option<&'static str>,
    /// Position of the first key.
    pub index: i32,
    /// Last key: relative to `index`, or from the end when negative.
    pub lastkey: i32,
    /// Arguments from one key to the next.
    pub keystep: i32,
    /// Keys found by count: `(keynumidx, firstkey)`, both relative to
    /// `index`; `lastkey` is then unused.
    pub keynum: Option<(i32, i32)>,
    /// Where the keys are is not known from the arguments (SORT's BY and
    /// GET patterns, and its STORE): Redis's `unknown` search.
    pub unknown: bool,
    /// Redis's `begin_search` by keyword: the word, and where the search
    /// starts (from the end when negative).
    pub keyword: Option<(&'static str, i32)>,
    /// A range's `limit` (0: none): with `lastkey` -1, the keys are the
    /// first 1/`limit` of the arguments after the beginning.
    pub limit: i32,
}

impl KeySpec {
    /// The positions of the keys in the request `args`, or `None` when
    /// the request is too short to hold them (or, found by count, its
    /// count is not one).
    pub fn positions(&self, args: &[&[u8]]) -> Option<Vec<usize>> {
        let (first, last, step) = self.range(args)?;
        Some((first..=last).step_by(step).collect())
    }

    /// The keys' positions as a range: first, last and step (what
    /// `positions` lists), without allocating.
    pub fn range(&self, args: &[&[u8]]) -> Option<(usize, usize, usize)> {
        let argc = i64::try_from(args.len()).ok()?;
        if self.unknown {
            return None;
        }
        let first = match self.keyword {
            Some((word, from)) => i64::try_from(keyword_at(args, word, from)?).ok()? + 1,
            None => i64::from(self.index),
        };
        let (first, last) = match self.keynum {
            Some((keynumidx, firstkey)) => {
                let at = usize::try_from(first + i64::from(keynumidx)).ok()?;
                let n = tandem_engine::parse_i64(args.get(at)?).filter(|&n| n > 0)?;
                let from = first + i64::from(firstkey);
                let step = i64::from(self.keystep.max(1));
                (from, from.checked_add((n - 1).checked_mul(step)?)?)
            }
            None if self.lastkey >= 0 => (first, first + i64::from(self.lastkey)),
            None if self.limit > 0 => (
                first,
                first + (argc - first) / i64::from(self.limit) + i64::from(self.lastkey),
            ),
            None => (first, argc + i64::from(self.lastkey)),
        };
        if first < 1 || last >= argc || last < first {
            return None;
        }
        let step = usize::try_from(self.keystep.max(1)).ok()?;
        let (first, last) = (usize::try_from(first).ok()?, usize::try_from(last).ok()?);
        Some((first, last, step))
    }
}

/// Where Redis's keyword search finds `word` in `args`: from `from` on
/// (from the end when negative), never at the last argument nor the
/// command's name, as `getKeysUsingKeySpecs` looks.
fn keyword_at(args: &[&[u8]], word: &str, from: i32) -> Option<usize> {
    let argc = i64::try_from(args.len()).ok()?;
    let start = if from > 0 {
        i64::from(from)
    } else {
        argc + i64::from(from)
    };
    let end = if from > 0 { argc - 1 } else { 0 };
    let mut i = start;
    while i != end {
        if i >= argc || i < 1 {
            return None;
        }
        let at = usize::try_from(i).ok()?;
        if args.get(at)?.eq_ignore_ascii_case(word.as_bytes()) {
            return Some(at);
        }
        i += if start <= end { 1 } else { -1 };
    }
    None
}

/// A key specification by index and range (see `KeySpec`).
pub const fn ks(flags: u32, index: i32, lastkey: i32, keystep: i32) -> KeySpec {
    KeySpec {
        flags,
        notes: None,
        index,
        lastkey,
        keystep,
        keynum: None,
        unknown: false,
        keyword: None,
        limit: 0,
    }
}

/// A key specification found after a keyword, by range (see `KeySpec`).
pub const fn ks_keyword(
    flags: u32,
    keyword: &'static str,
    startfrom: i32,
    lastkey: i32,
    keystep: i32,
    limit: i32,
) -> KeySpec {
    KeySpec {
        keyword: Some((keyword, startfrom)),
        limit,
        ..ks(flags, 0, lastkey, keystep)
    }
}

/// A key specification Redis marks unknown, with its note.
pub const fn ks_unknown(flags: u32, notes: &'static str) -> KeySpec {
    KeySpec {
        unknown: true,
        notes: Some(notes),
        ..ks(flags, 0, 0, 0)
    }
}

/// A key specification found by count (see `KeySpec`).
pub const fn ks_keynum(
    flags: u32,
    index: i32,
    keynumidx: i32,
    firstkey: i32,
    keystep: i32,
) -> KeySpec {
    KeySpec {
        keynum: Some((keynumidx, firstkey)),
        ..ks(flags, index, 0, keystep)
    }
}

/// A key specification with Redis's note.
pub const fn ks_noted(
    flags: u32,
    index: i32,
    lastkey: i32,
    keystep: i32,
    notes: &'static str,
) -> KeySpec {
    KeySpec {
        notes: Some(notes),
        ..ks(flags, index, lastkey, keystep)
    }
}

/// A command's documentation and reported attributes.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// The command's name, lowercase.
    pub name: &'static str,
    /// Redis's group: `string`, `generic`, `server`, ...
    pub group: &'static str,
    /// The Redis version that introduced it (Tandem's own: our version).
    pub since: &'static str,
    /// What it does, in a line.
    pub summary: &'static str,
    /// Its time complexity here.
    pub complexity: &'static str,
    /// Flags COMMAND reports besides the `Spec`'s (`flags::LOADING`, ...).
    pub flags: u32,
    /// ACL categories besides those its flags imply.
    pub acl: u32,
    /// Redis's command tips (`nondeterministic_output`, ...).
    pub tips: &'static [&'static str],
    /// Key specifications.
    pub keys: &'static [KeySpec],
    /// Subcommands, for a container command.
    pub subcommands: &'static [Sub],
    /// Deprecated since, and replaced by.
    pub deprecated: Option<(&'static str, &'static str)>,
    /// A system command (Redis's `syscmd` doc flag).
    pub syscmd: bool,
}

impl Meta {
    /// A command's documentation; the builder methods add the rest.
    pub const fn new(
        name: &'static str,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Meta {
        Meta {
            name,
            group,
            since,
            summary,
            complexity,
            flags: 0,
            acl: 0,
            tips: &[],
            keys: &[],
            subcommands: &[],
            deprecated: None,
            syscmd: false,
        }
    }

    /// With reported-only flags.
    pub const fn flags(self, flags: u32) -> Meta {
        Meta { flags, ..self }
    }

    /// With explicit ACL categories.
    pub const fn acl(self, acl: u32) -> Meta {
        Meta { acl, ..self }
    }

    /// With tips.
    pub const fn tips(self, tips: &'static [&'static str]) -> Meta {
        Meta { tips, ..self }
    }

    /// With key specifications.
    pub const fn keys(self, keys: &'static [KeySpec]) -> Meta {
        Meta { keys, ..self }
    }

    /// With subcommands.
    pub const fn subcommands(self, subcommands: &'static [Sub]) -> Meta {
        Meta {
            subcommands,
            ..self
        }
    }

    /// Deprecated since a version, in favour of another command.
    pub const fn deprecated(self, since: &'static str, replaced_by: &'static str) -> Meta {
        Meta {
            deprecated: Some((since, replaced_by)),
            ..self
        }
    }

    /// A system command.
    pub const fn syscmd(self) -> Meta {
        Meta {
            syscmd: true,
            ..self
        }
    }
}

/// A subcommand: `CONFIG GET`, `OBJECT ENCODING`, ...
#[derive(Debug, Clone, Copy)]
pub struct Sub {
    /// `container|name`, lowercase, as COMMAND and INFO print it.
    pub full_name: &'static str,
    /// Its arity, counting the container's name and its own.
    pub arity: i32,
    /// Every flag (`flags::*`): there is no `Spec` for a subcommand.
    pub flags: u32,
    /// First and last key position and step, as in `Spec::keys`.
    pub key_range: (i32, i32, i32),
    /// ACL categories besides those its flags imply.
    pub acl: u32,
    /// The Redis version that introduced it.
    pub since: &'static str,
    /// What it does, in a line.
    pub summary: &'static str,
    /// Its time complexity here.
    pub complexity: &'static str,
    /// Redis's command tips.
    pub tips: &'static [&'static str],
    /// Key specifications.
    pub keys: &'static [KeySpec],
}

impl Sub {
    /// A subcommand; the builder methods add the rest.
    pub const fn new(
        full_name: &'static str,
        arity: i32,
        flags: u32,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Sub {
        Sub {
            full_name,
            arity,
            flags,
            key_range: (0, 0, 0),
            acl: 0,
            since,
            summary,
            complexity,
            tips: &[],
            keys: &[],
        }
    }

    /// Its own name, without the container's.
    pub fn name(&self) -> &'static str {
        let full = self.full_name;
        full.split_once('|').map_or(full, |(_, name)| name)
    }

    /// With explicit ACL categories.
    pub const fn acl(self, acl: u32) -> Sub {
        Sub { acl, ..self }
    }

    /// With tips.
    pub const fn tips(self, tips: &'static [&'static str]) -> Sub {
        Sub { tips, ..self }
    }

    /// With key positions and specifications.
    pub const fn keys(self, key_range: (i32, i32, i32), keys: &'static [KeySpec]) -> Sub {
        Sub {
            key_range,
            keys,
            ..self
        }
    }
}

/// Every entry of the metadata tables.
fn all() -> impl Iterator<Item = &'static Meta> {
    table::META.iter().chain(types_table::TYPES)
}

/// The metadata of command `name` (lowercase), if it has any.
pub fn of(name: &str) -> Option<&'static Meta> {
    static INDEX: LazyLock<HashMap<&'static str, &'static Meta>> = LazyLock::new(|| {
        let all = all();
        #[cfg(feature = "fault-injection")]
        let all = all.chain(table::FAULT_META);
        all.map(|m| (m.name, m)).collect()
    });
    INDEX.get(name).copied()
}

/// Subcommand `name` (any case) of `container`, if listed.
pub fn subcommand(container: &'static Meta, name: &[u8]) -> Option<&'static Sub> {
    container
        .subcommands
        .iter()
        .find(|s| s.name().as_bytes().eq_ignore_ascii_case(name))
}

/// A command's ACL categories: `given` and those its flags imply, as
/// Redis's `setImplicitACLCategories` derives them: `write`, `read` (not
/// for `@scripting` commands: EVAL_RO and FCALL_RO are not `@read`),
/// `admin` (with `dangerous`), `pubsub`, `fast` or else `slow`,
/// `blocking`.
pub fn implied_acl(flags: u32, given: u32) -> u32 {
    let mut acl = given;
    let pairs = [
        (flags::WRITE, acl::WRITE),
        (flags::READONLY, acl::READ),
        (flags::ADMIN, acl::ADMIN | acl::DANGEROUS),
        (flags::PUBSUB, acl::PUBSUB),
        (flags::FAST, acl::FAST),
        (flags::BLOCKING, acl::BLOCKING),
    ];
    for (flag, categories) in pairs {
        if flags & flag != 0 && !(categories == acl::READ && given & acl::SCRIPTING != 0) {
            acl |= categories;
        }
    }
    if acl & acl::FAST == 0 {
        acl |= acl::SLOW;
    }
    acl
}

/// Everything COMMAND INFO says about one command or subcommand.
#[derive(Debug, Clone, Copy)]
pub struct Described {
    /// `name` or `container|name`, as COMMAND prints it.
    pub name: &'static str,
    /// Arity.
    pub arity: i32,
    /// Every flag.
    pub flags: u32,
    /// Legacy key positions: first, last, step.
    pub key_range: (i32, i32, i32),
    /// Every ACL category, implied ones included.
    pub acl: u32,
    /// Tips.
    pub tips: &'static [&'static str],
    /// Key specifications.
    pub keys: &'static [KeySpec],
}

impl Described {
    /// How COMMAND describes `spec`. A command without metadata gets key
    /// specifications built from its legacy key positions, with no flags.
    pub fn command(spec: &Spec) -> Described {
        let meta = of(spec.name);
        let flags = spec.flags | meta.map_or(0, |m| m.flags);
        Described {
            name: spec.name,
            arity: spec.arity,
            flags,
            key_range: spec.keys,
            acl: implied_acl(flags, meta.map_or(0, |m| m.acl)),
            tips: meta.map_or(&[], |m| m.tips),
            keys: meta.map_or(&[], |m| m.keys),
        }
    }

    /// How COMMAND describes a subcommand.
    pub fn sub(sub: &'static Sub) -> Described {
        Described {
            name: sub.full_name,
            arity: sub.arity,
            flags: sub.flags,
            key_range: sub.key_range,
            acl: implied_acl(sub.flags, sub.acl),
            tips: sub.tips,
            keys: sub.keys,
        }
    }

    /// The key specifications, or one built from the legacy key range
    /// when there are none (a command without metadata).
    pub fn key_specs(&self) -> Vec<KeySpec> {
        match (self.keys, self.key_range) {
            (specs, _) if !specs.is_empty() => specs.to_vec(),
            (_, (0, _, _)) => Vec::new(),
            (_, (first, last, step)) => {
                let lastkey = if last < 0 { last } else { last - first };
                vec![ks(0, first, lastkey, step)]
            }
        }
    }
}

#[cfg(test)]
mod tests;
