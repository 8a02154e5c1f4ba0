//! The permission check: may this user run this request?
//!
//! Owns Redis 7.0's decision (`ACLCheckAllUserCommandPerm`): a request
//! passes when one selector allows its command (or its first argument),
//! every key it names with the access it needs, and every channel it
//! publishes or subscribes to; when none does, the denial reported is the
//! one Redis picks (a channel over a key over the command, the last
//! position on ties). Where a request's keys and channels are is the
//! command table's knowledge (`command::access`); this module gets their
//! positions and never parses a request.

use super::catalog::Catalog;
use super::selector::Selector;
use super::user::User;
use smallvec::SmallVec;

/// Where a request names keys and channels, and what it does to each.
#[derive(Debug, Default, Clone)]
pub struct Refs {
    /// Each key's position and the access it needs (`selector::READ`,
    /// `WRITE`, both, or neither).
    pub keys: SmallVec<[(usize, u8); 4]>,
    /// Each channel's position, and whether it is a subscription
    /// pattern (PSUBSCRIBE's, matched letter for letter).
    pub channels: SmallVec<[(usize, bool); 2]>,
    /// The access the request needs to every key, for a command that
    /// returns keys its arguments do not name (TANDEM.RANGE): refused
    /// as a key at position 0 (the command's name) unless granted.
    pub every_key: Option<u8>,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand) is not allowed.
    Command,
    /// The key at this position is not.
    Key(usize),
    /// The channel at this position is not.
    Channel(usize),
}

impl Denied {
    /// Redis's ranking of denials (`ACL_DENIED_*`): the highest is
    /// reported, then the latest position.
    fn rank(self) -> (u8, usize) {
        match self {
            Self::Command => (1, 0),
            Self::Key(at) => (2, at),
            Self::Channel(at) => (4, at),
        }
    }
}

/// Whether `user` may run the request `args`, command `id`, naming the
/// keys and channels of `refs`.
pub fn check(
    user: &User,
    catalog: &Catalog,
    id: usize,
    args: &[&[u8]],
    refs: &Refs,
) -> Result<(), Denied> {
    let mut worst = Denied::Command;
    for s in user.selectors() {
        match check_selector(s, catalog, id, args, refs) {
            Ok(()) => return Ok(()),
            Err(d) if d.rank() > worst.rank() => worst = d,
            Err(_) => {}
        }
    }
    Err(worst)
}

fn check_selector(
    s: &Selector,
    catalog: &Catalog,
    id: usize,
    args: &[&[u8]],
    refs: &Refs,
) -> Result<(), Denied> {
    let entry = catalog.get(id);
    let no_auth = entry.is_some_and(|e| e.no_auth);
    if !s.allcommands && !no_auth && !s.allows(id) {
        // Allowed only with one of its listed first arguments, if any.
        let at = if entry.is_some_and(|e| e.parent.is_some()) {
            2
        } else {
            1
        };
        let first = args.get(at).ok_or(Denied::Command)?;
        let listed = s.firstargs.get(&id).ok_or(Denied::Command)?;
        if !listed.iter().any(|a| a.eq_ignore_ascii_case(first)) {
            return Err(Denied::Command);
        }
    }
    if !s.allkeys {
        if let Some(perms) = refs.every_key {
            if !s.allows_every_key(perms) {
                return Err(Denied::Key(0));
            }
        }
        for &(at, perms) in &refs.keys {
            let key = args.get(at).copied().unwrap_or_default();
            if !s.allows_key(key, perms) {
                return Err(Denied::Key(at));
            }
        }
    }
    if !s.allchannels {
        for &(at, is_pattern) in &refs.channels {
            let channel = args.get(at).copied().unwrap_or_default();
            if !s.allows_channel(channel, is_pattern) {
                return Err(Denied::Channel(at));
            }
        }
    }
    Ok(())
}

/// Whether `user` may use `channel` (a subscription pattern when
/// `is_pattern`), as a live subscriber's channels are checked again
/// after its user changes.
pub fn channel_allowed(user: &User, channel: &[u8], is_pattern: bool) -> bool {
    user.selectors()
        .any(|s| s.allows_channel(channel, is_pattern))
}

/// Whether a selector of `user` that allows the request also grants
/// `perms` on every key (SORT's BY and GET patterns need it: Redis's
/// `ACLUserCheckCmdWithUnrestrictedKeyAccess`).
pub fn allows_every_key(
    user: &User,
    catalog: &Catalog,
    id: usize,
    args: &[&[u8]],
    refs: &Refs,
    perms: u8,
) -> bool {
    user.selectors()
        .any(|s| check_selector(s, catalog, id, args, refs).is_ok() && s.allows_every_key(perms))
}
