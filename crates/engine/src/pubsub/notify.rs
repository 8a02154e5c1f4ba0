//! Keyspace notifications: Redis's `notify-keyspace-events` flags, and
//! turning an engine event into its two channels.
//!
//! Owns the flag letters and their string form (byte for byte as Redis 7
//! prints them in CONFIG GET, including its quirk of dropping `n` when `A`
//! is shown), and `Notifier`, which a keyspace calls for every event. With
//! notifications off, or no subscriber at all, an event costs one or two
//! atomic loads and builds no channel name.

use super::Hub;
use arc_swap::ArcSwap;
use bytes::{BufMut, Bytes, BytesMut};
use std::sync::Arc;

/// The classes of events, and where to send them, as in Redis
/// (`notify-keyspace-events`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyFlags(u32);

impl NotifyFlags {
    /// `K`: publish to `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish to `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, PERSIST, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: keys expiring.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: keys evicted for memory.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: reads of missing keys.
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: keys created.
    pub const NEW: u32 = 1 << 14;
    /// `A`: `g$lshzxetd`.
    pub const ALL: u32 = Self::GENERIC
        | Self::STRING
        | Self::LIST
        | Self::SET
        | Self::HASH
        | Self::ZSET
        | Self::EXPIRED
        | Self::EVICTED
        | Self::STREAM
        | Self::MODULE;

    /// No notifications (Redis's default).
    pub const NONE: NotifyFlags = NotifyFlags(0);

    /// Flags from their bits.
    pub fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Parses Redis's flag letters (`KEA`, `Ex`, ...). Any other character
    /// is an error, as in Redis.
    pub fn parse(s: &[u8]) -> Result<Self, InvalidNotifyFlags> {
        let mut bits = 0;
        for &c in s {
            bits |= match c {
                b'A' => Self::ALL,
                b'g' => Self::GENERIC,
                b'$' => Self::STRING,
                b'l' => Self::LIST,
                b's' => Self::SET,
                b'h' => Self::HASH,
                b'z' => Self::ZSET,
                b'x' => Self::EXPIRED,
                b'e' => Self::EVICTED,
                b'K' => Self::KEYSPACE,
                b'E' => Self::KEYEVENT,
                b't' => Self::STREAM,
                b'm' => Self::KEY_MISS,
                b'd' => Self::MODULE,
                b'n' => Self::NEW,
                _ => return Err(InvalidNotifyFlags),
            };
        }
        Ok(Self(bits))
    }

    /// The flags as Redis 7 prints them (`keyspaceEventsFlagsToString`).
    pub fn to_redis_string(self) -> String {
        let b = self.0;
        let mut s = String::new();
        if b & Self::ALL == Self::ALL {
            s.push('A');
        } else {
            for (bit, c) in [
                (Self::GENERIC, 'g'),
                (Self::STRING, '$'),
                (Self::LIST, 'l'),
                (Self::SET, 's'),
                (Self::HASH, 'h'),
                (Self::ZSET, 'z'),
                (Self::EXPIRED, 'x'),
                (Self::EVICTED, 'e'),
                (Self::STREAM, 't'),
                (Self::MODULE, 'd'),
                (Self::NEW, 'n'),
            ] {
                if b & bit != 0 {
                    s.push(c);
                }
            }
        }
        for (bit, c) in [
            (Self::KEYSPACE, 'K'),
            (Self::KEYEVENT, 'E'),
            (Self::KEY_MISS, 'm'),
        ] {
            if b & bit != 0 {
                s.push(c);
            }
        }
        s
    }
}

/// A `notify-keyspace-events` string with a character Redis does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")]
pub struct InvalidNotifyFlags;

/// Publishes one keyspace's events to its hub.
#[derive(Clone)]
pub(crate) struct Notifier {
    hub: Hub,
    /// The channel prefixes, swapped whole when the database's number
    /// changes (SWAPDB), so a publish never sees half of a change.
    prefixes: Arc<ArcSwap<Prefixes>>,
}

/// `__keyspace@<db>__:` and `__keyevent@<db>__:`.
struct Prefixes {
    space: Bytes,
    event: Bytes,
}

impl Prefixes {
    fn new(db: u32) -> Self {
        Self {
            space: Bytes::from(format!("__keyspace@{db}__:")),
            event: Bytes::from(format!("__keyevent@{db}__:")),
        }
    }
}

impl Notifier {
    pub(crate) fn new(hub: Hub, db: u32) -> Self {
        Self {
            hub,
            prefixes: Arc::new(ArcSwap::from_pointee(Prefixes::new(db))),
        }
    }

    /// Renames the database in the channels of later events.
    pub(crate) fn set_db_index(&self, db: u32) {
        self.prefixes.store(Arc::new(Prefixes::new(db)));
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Publishes `event` on `key` if events of `class` are switched on, as
    /// Redis's `notifyKeyspaceEvent`: the keyspace channel first, then the
    /// keyevent channel.
    pub(crate) fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        let flags = self.hub.notify_bits();
        if flags & class == 0 || !self.hub.has_subscribers() {
            return;
        }
        let prefixes = self.prefixes.load();
        if flags & NotifyFlags::KEYSPACE != 0 {
            self.hub.publish(
                join(&prefixes.space, key),
                Bytes::from_static(event.as_bytes()),
            );
        }
        if flags & NotifyFlags::KEYEVENT != 0 {
            self.hub.publish(
                join(&prefixes.event, event.as_bytes()),
                Bytes::copy_from_slice(key),
            );
        }
    }
}

fn join(prefix: &[u8], tail: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(prefix.len() + tail.len());
    b.put_slice(prefix);
    b.put_slice(tail);
    b.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings Redis 7.0.15 returned from CONFIG GET after CONFIG SET
    /// of each input (checked against redis-server on this machine).
    #[test]
    fn flag_strings_match_redis() {
        for (input, redis) in [
            ("g$", "g$"),
            ("A", "A"),
            ("KEA", "AKE"),
            ("KA", "AK"),
            ("Ex", "xE"),
            ("x", "x"),
            ("E", "E"),
            ("KEg$lshzxetdmn", "AKEm"),
            ("Kn", "nK"),
            ("KEAn", "AKE"),
            ("", ""),
        ] {
            let f = NotifyFlags::parse(input.as_bytes()).expect("valid");
            assert_eq!(f.to_redis_string(), redis, "{input}");
        }
        assert!(NotifyFlags::parse(b"KEAn").is_ok_and(|f| f.bits() & NotifyFlags::NEW != 0));
        assert_eq!(NotifyFlags::parse(b"KEQ"), Err(InvalidNotifyFlags));
    }
}
