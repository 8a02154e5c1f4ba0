//! ACL LOG: the latest refusals (commands, keys, channels, failed AUTH),
//! newest first, similar ones folded into one entry with a count.
//!
//! Owns the entries and their grouping as Redis 7.0 groups them: the same
//! reason, context, object and user within 60 seconds, looked for among
//! the 10 newest. It never decides a refusal.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

/// Refusals closer than this (ms) fold into one entry.
const GROUPING_MS: i64 = 60_000;
/// How many of the newest entries are searched for one to fold into.
const SCANNED: usize = 10;

/// What was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A command.
    Command,
    /// A key.
    Key,
    /// A channel.
    Channel,
    /// A password (AUTH, HELLO AUTH).
    Auth,
}

impl Reason {
    /// ACL LOG's word for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Key => "key",
            Self::Channel => "channel",
            Self::Auth => "auth",
        }
    }
}

/// Where the refused command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A client's own request.
    Toplevel,
    /// Inside MULTI, or at EXEC.
    Multi,
    /// A script's `redis.call`.
    Lua,
}

impl Context {
    /// ACL LOG's word for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Toplevel => "toplevel",
            Self::Multi => "multi",
            Self::Lua => "lua",
        }
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// How many refusals it stands for.
    pub count: u64,
    /// What was refused.
    pub reason: Reason,
    /// Where.
    pub context: Context,
    /// The command's name, the key, the channel, or AUTH's name.
    pub object: Vec<u8>,
    /// The user refused (for AUTH, the one asked for).
    pub username: Vec<u8>,
    /// When it last happened, ms since the epoch.
    pub ctime: i64,
    /// The client, as CLIENT LIST shows it, the last time.
    pub client_info: String,
}

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The log.
#[derive(Debug, Default)]
pub struct Log {
    entries: VecDeque<Entry>,
}

impl Log {
    /// Adds `e`, folding it into a similar recent entry if there is one;
    /// a new entry trims the log to `max_len` entries. As in Redis, a
    /// lowered `acllog-max-len` trims the log only when an entry is added,
    /// and a folded one trims nothing.
    pub fn add(&mut self, e: Entry, max_len: usize) {
        let similar = self.entries.iter().take(SCANNED).position(|old| {
            old.reason == e.reason
                && old.context == e.context
                && (old.ctime - e.ctime).abs() <= GROUPING_MS
                && old.object == e.object
                && old.username == e.username
        });
        if let Some(old) = similar.and_then(|at| self.entries.remove(at)) {
            self.entries.push_front(Entry {
                count: old.count + 1,
                ctime: e.ctime,
                client_info: e.client_info,
                ..old
            });
        } else {
            self.entries.push_front(e);
            self.entries.truncate(max_len);
        }
    }

    /// The newest `count` entries, newest first.
    pub fn newest(&self, count: usize) -> impl Iterator<Item = &Entry> {
        self.entries.iter().take(count)
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// ACL LOG RESET.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, ctime: i64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Key,
            context: Context::Toplevel,
            object: object.into(),
            username: b"u".to_vec(),
            ctime,
            client_info: format!("at {ctime}"),
        }
    }

    #[test]
    fn similar_refusals_fold_and_the_log_is_bounded() {
        let mut log = Log::default();
        log.add(entry("k", 1_000), 3);
        log.add(entry("j", 2_000), 3);
        log.add(entry("k", 3_000), 3);
        let all: Vec<_> = log.newest(10).collect();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].object.as_slice(), all[0].count), (&b"k"[..], 2));
        assert_eq!(all[0].client_info, "at 3000");
        // Past a minute, a new entry.
        log.add(entry("k", 3_000 + GROUPING_MS + 1), 3);
        assert_eq!(log.len(), 3);
        log.add(entry("x", 100_000), 3);
        assert_eq!(log.len(), 3);
        assert_eq!(
            log.newest(1).next().map(|e| e.object.clone()),
            Some(b"x".to_vec())
        );
        // A lower bound trims at the next new entry, not at a folded one.
        log.add(entry("x", 100_001), 1);
        assert_eq!(log.len(), 3);
        log.add(entry("y", 100_002), 1);
        assert_eq!(log.len(), 1);
    }
}
