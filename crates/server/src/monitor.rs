//! MONITOR's feed: every command the server runs, as one line to each
//! client that asked for it, in Redis 7.0's format.
//!
//! Owns the line's format (time, database, client address, the arguments
//! quoted as Redis's `sdscatrepr` quotes them, secrets redacted) and the
//! hub the lines travel through (`command::run_counted` decides which
//! commands are fed: not the administrative ones). It must
//! cost a request nothing but one atomic load while nobody monitors, and
//! a slow monitor must never hold anyone back: lines queue in a pub/sub
//! hub, under the pubsub output limits, and a monitor that falls behind
//! them is cut off as a slow subscriber is.

use bytes::Bytes;
use std::io::Write;
use tandem_engine::pubsub::{Hub, QueueLimits, Subscriber};

/// The one channel of the monitors' hub.
const CHANNEL: &[u8] = b"monitor";

/// The monitors of a server: the subscribers of a hub of their own.
pub struct Monitors {
    hub: Hub,
}

impl Monitors {
    /// No monitors yet; lines queue under `limits`.
    pub fn new(limits: QueueLimits) -> Self {
        Self {
            hub: Hub::new(limits),
        }
    }

    /// New output limits for the queued lines (CONFIG SET
    /// client-output-buffer-limit's pubsub class).
    pub fn set_limits(&self, limits: QueueLimits) {
        self.hub.set_limits(limits);
    }

    /// Starts a feed for one client: its lines arrive at the subscriber,
    /// each a complete RESP simple string; dropping it stops the feed.
    pub fn start(&self) -> Subscriber {
        let sub = self.hub.subscriber();
        sub.subscribe(CHANNEL);
        sub
    }

    /// Whether anyone monitors (the hub's count of subscriptions): the
    /// only cost of the feed otherwise.
    pub fn active(&self) -> bool {
        self.hub.has_subscribers()
    }

    /// Feeds a command that ran in database `db` for the client at
    /// `peer`. The caller leaves out administrative commands, as Redis
    /// does (too dangerous to show).
    pub fn feed(&self, db: usize, peer: &str, args: &[&[u8]]) {
        self.hub.publish(CHANNEL, line(db, peer, args));
    }
}

/// One line: `+<seconds>.<microseconds> [<db> <peer>] "arg" ...`.
fn line(db: usize, peer: &str, args: &[&[u8]]) -> Bytes {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut out = Vec::with_capacity(64 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    let _ = write!(
        out,
        "+{}.{:06} [{db} {peer}] ",
        now.as_secs(),
        now.subsec_micros()
    );
    let secret = crate::slowlog::secret_positions(args);
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if secret.contains(&i) {
            quote(&mut out, b"(redacted)");
        } else {
            quote(&mut out, arg);
        }
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

/// Appends `s` in double quotes as Redis's `sdscatrepr` writes it:
/// backslash escapes for `\\`, `"`, newline, carriage return, tab, bell
/// and backspace, `\xHH` for other bytes that are not printable ASCII.
fn quote(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(s: &[u8]) -> String {
        let mut out = Vec::new();
        quote(&mut out, s);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn arguments_are_quoted_as_redis_quotes_them() {
        assert_eq!(quoted(b"plain"), "\"plain\"");
        assert_eq!(quoted(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted(b"\n\r\t\x07\x08"), "\"\\n\\r\\t\\a\\b\"");
        assert_eq!(quoted(b"\x00\x7f\xff"), "\"\\x00\\x7f\\xff\"");
        assert_eq!(quoted(b""), "\"\"");
    }

    #[test]
    fn a_line_names_the_time_database_and_client_and_hides_passwords() {
        let line = line(3, "127.0.0.1:5000", &[b"AUTH", b"secret"]);
        let text = String::from_utf8(line.to_vec()).expect("ascii");
        let (time, rest) = text
            .strip_prefix('+')
            .and_then(|t| t.split_once(' '))
            .expect("a time first");
        let (secs, micros) = time.split_once('.').expect("seconds.micros");
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{time}");
        assert_eq!(rest, "[3 127.0.0.1:5000] \"AUTH\" \"(redacted)\"\r\n");
    }

    #[test]
    fn the_feed_counts_its_monitors() {
        let limits = QueueLimits {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_seconds: 0,
        };
        let monitors = Monitors::new(limits);
        assert!(!monitors.active());
        let m = monitors.start();
        assert!(monitors.active());
        monitors.feed(0, "p", &[b"get", b"k"]);
        let msg = m.try_recv().expect("open").expect("a line");
        assert!(msg.payload().ends_with(b"[0 p] \"get\" \"k\"\r\n"));
        assert!(m.try_recv().expect("open").is_none());
        drop(m);
        assert!(!monitors.active());
    }
}
