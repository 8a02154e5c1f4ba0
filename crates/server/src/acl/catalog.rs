//! The commands as ACL rules see them: one id per command and per listed
//! subcommand, with its full name, categories and container.
//!
//! Owns the id space the users' command bits index. The command table
//! (`command::acl_catalog`) builds it once; this module never looks at a
//! handler or a key specification. Ids are the statistics slots, so a
//! request's `Resolved::slot` is its id with no second lookup.

use std::collections::HashMap;

/// One command or subcommand.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `name` or `container|name`, lowercase.
    pub name: &'static str,
    /// Its ACL categories (`category::*` bits), implied ones included.
    pub categories: u32,
    /// The container, for a subcommand.
    pub parent: Option<usize>,
    /// The subcommands' ids, for a container.
    pub children: Vec<usize>,
    /// Allowed before AUTH (Redis's `no-auth`): every user may run it.
    pub no_auth: bool,
}

/// Every command and subcommand, by id.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_name: HashMap<&'static str, usize>,
}

impl Catalog {
    /// A catalog of `entries`, each at the id of its position.
    pub fn new(entries: Vec<Entry>) -> Self {
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name, i))
            .collect();
        Self { entries, by_name }
    }

    /// How many ids there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry of `id`.
    pub fn get(&self, id: usize) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Every entry with its id, commands and subcommands in table order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries.iter().enumerate()
    }

    /// The id of `name` (`get`, `config|get`), in any case.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        self.by_name.get(lower.as_str()).copied()
    }

    /// The full name of `id`, or `""` for an id it does not hold.
    pub fn name(&self, id: usize) -> &'static str {
        self.entries.get(id).map_or("", |e| e.name)
    }
}
