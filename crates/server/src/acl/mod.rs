//! Access control: users, their rules, and who may run what (Redis 7.0's
//! ACL).
//!
//! Owns the table of users (the `default` user always among them), its
//! generation (bumped by every change, so that a connection holding a
//! copy of its user takes the new one before its next command), the
//! `default` user's password as `requirepass` sets it, and the ACL log.
//! A user is an immutable value behind an `Arc`: a change builds a new
//! one and swaps it in, all rules or none. This module never touches a
//! connection: closing the clients a change affects is the caller's
//! (`command::acl`), through the client registry.

pub mod catalog;
pub mod category;
pub mod check;
pub mod describe;
pub mod file;
pub mod log;
pub mod selector;
pub mod user;

#[cfg(test)]
mod tests;

pub use catalog::Catalog;
pub use check::{check, Denied, Refs};
pub use user::User;

use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Redis's refusal of a wrong password or a disabled user.
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// The users, as a table by name (sorted, as ACL LIST lists them).
pub type Users = BTreeMap<Vec<u8>, Arc<User>>;

/// The server's users and ACL log.
#[derive(Debug)]
pub struct Acl {
    catalog: &'static Catalog,
    users: RwLock<Users>,
    generation: AtomicU64,
    /// Whether the `default` user needs no password (on and `nopass`):
    /// new connections start authenticated.
    default_open: AtomicBool,
    /// `acl-pubsub-default allchannels`: new users and selectors start
    /// with every channel.
    pubsub_all: AtomicBool,
    /// The ACL log.
    pub log: Mutex<log::Log>,
}

/// What a change to a user did, for the caller to act on live clients.
#[derive(Debug)]
pub struct Changed {
    /// The user before, if it existed.
    pub before: Option<Arc<User>>,
    /// The user now.
    pub after: Arc<User>,
}

impl Changed {
    /// Whether some channel the user could use before may now be refused:
    /// its subscribers must be checked again (Redis's
    /// `ACLKillPubsubClientsIfNeeded`, which compares the patterns as
    /// strings).
    pub fn channels_narrowed(&self) -> bool {
        let Some(before) = &self.before else {
            return false;
        };
        if self.after.selectors().any(|s| s.allchannels) {
            return false;
        }
        let upcoming: Vec<&Vec<u8>> = self.after.selectors().flat_map(|s| &s.channels).collect();
        before
            .selectors()
            .any(|s| s.allchannels || s.channels.iter().any(|c| !upcoming.contains(&c)))
    }
}

impl Acl {
    /// The ACL of a fresh server: the `default` user alone, on, with no
    /// password unless `requirepass` is given.
    pub fn new(catalog: &'static Catalog, requirepass: Option<&[u8]>) -> Self {
        let acl = Self {
            catalog,
            users: RwLock::new(Users::new()),
            generation: AtomicU64::new(0),
            default_open: AtomicBool::new(true),
            pubsub_all: AtomicBool::new(false),
            log: Mutex::new(log::Log::default()),
        };
        acl.replace_all(Users::new());
        acl.set_default_password(requirepass);
        acl
    }

    /// The commands the rules name.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// `acl-pubsub-default`: true for `allchannels`. Users that exist keep
    /// their channels (as in Redis, it applies to users made from now on).
    pub fn set_pubsub_default(&self, allchannels: bool) {
        self.pubsub_all.store(allchannels, Ordering::Release);
    }

    /// Whether new users start with every channel.
    pub fn pubsub_default(&self) -> bool {
        self.pubsub_all.load(Ordering::Acquire)
    }

    /// Makes every session take its user again (after the clients a
    /// change closes were told, so that none misses it).
    pub fn touch(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Bumped by every change to any user.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn changed(&self, users: &Users) {
        let open = users
            .get(&b"default"[..])
            .is_some_and(|d| d.enabled() && d.nopass());
        self.default_open.store(open, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether a client must authenticate before running commands other
    /// than AUTH, HELLO and the like (Redis's `authRequired`, for a
    /// client not yet authenticated).
    pub fn auth_required(&self) -> bool {
        !self.default_open.load(Ordering::Acquire)
    }

    /// The user named `name`.
    pub fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    /// The `default` user.
    pub fn default_user(&self) -> Arc<User> {
        self.user(b"default")
            .unwrap_or_else(|| Arc::new(User::default_user(self.catalog)))
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// The user `name` if `password` logs in as it (constant-time over
    /// the digests; a disabled user never logs in).
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<Arc<User>> {
        self.user(name).filter(|u| u.accepts(password))
    }

    /// ACL SETUSER: applies `rules` to user `name` (created if absent),
    /// all or none; the error is Redis's line without `ERR `.
    pub fn set_user(&self, name: &[u8], rules: &[&[u8]]) -> Result<Changed, String> {
        let rules = user::merge_selectors(rules).map_err(|start| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(&start)
            )
        })?;
        // The table's lock is held from the read to the swap, so two
        // changes to one user never lose one another.
        let mut users = self.users.write();
        let allchannels = self.pubsub_default();
        let before = users.get(name).cloned();
        let mut u = match &before {
            Some(u) => User::clone(u),
            None => User::new(name, self.catalog, allchannels),
        };
        for rule in &rules {
            u.apply(rule, self.catalog, allchannels).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(rule),
                    e.message()
                )
            })?;
        }
        let after = Arc::new(u);
        users.insert(name.to_vec(), Arc::clone(&after));
        self.changed(&users);
        Ok(Changed { before, after })
    }

    /// ACL DELUSER: removes the users named, returning how many existed.
    /// The `default` user cannot be removed.
    pub fn del_users(&self, names: &[&[u8]]) -> Result<Vec<Vec<u8>>, &'static str> {
        if names.iter().any(|n| *n == b"default") {
            return Err("ERR The 'default' user cannot be removed");
        }
        let mut users = self.users.write();
        let removed: Vec<Vec<u8>> = names
            .iter()
            .filter_map(|n| users.remove(*n).map(|_| n.to_vec()))
            .collect();
        if !removed.is_empty() {
            self.changed(&users);
        }
        Ok(removed)
    }

    /// Replaces every user (ACL LOAD, start-up). A table without the
    /// `default` user gets the one Redis starts with.
    pub fn replace_all(&self, mut new: Users) {
        new.entry(b"default".to_vec())
            .or_insert_with(|| Arc::new(User::default_user(self.catalog)));
        let mut users = self.users.write();
        *users = new;
        self.changed(&users);
    }

    /// `requirepass`: the `default` user's passwords become this one, or
    /// none and `nopass` (Redis's `ACLUpdateDefaultUserPassword`).
    pub fn set_default_password(&self, password: Option<&[u8]>) {
        let mut users = self.users.write();
        let mut u = users
            .get(&b"default"[..])
            .map_or_else(|| User::default_user(self.catalog), |u| User::clone(u));
        let _ = u.apply(b"resetpass", self.catalog, false);
        match password {
            Some(p) => {
                let rule = [&b">"[..], p].concat();
                let _ = u.apply(&rule, self.catalog, false);
            }
            None => {
                let _ = u.apply(b"nopass", self.catalog, false);
            }
        }
        users.insert(b"default".to_vec(), Arc::new(u));
        self.changed(&users);
    }
}
