//! The slow log: the last commands that ran at least
//! `slowlog-log-slower-than` microseconds, as Redis keeps them.
//!
//! Owns the entries, their ids, the two settings in force, and what an
//! entry keeps of a request (at most 32 arguments, each cut at 128 bytes,
//! secrets redacted). It must never cost a request more than an atomic
//! load unless the request was slow: the lock is taken only to add an
//! entry or to read the log.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// Most arguments an entry keeps; the last kept one then says how many
/// were left out (Redis's `SLOWLOG_ENTRY_MAX_ARGC`).
const MAX_ARGS: usize = 32;

/// Longest argument an entry keeps (Redis's `SLOWLOG_ENTRY_MAX_STRING`).
const MAX_ARG_BYTES: usize = 128;

/// What Redis shows in place of a password.
const REDACTED: &[u8] = b"(redacted)";

/// One logged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowEntry {
    /// Numbered from 0 since the server started; RESET does not restart.
    pub id: u64,
    /// When it was logged, in Unix seconds.
    pub time: i64,
    /// How long it ran, in microseconds.
    pub micros: u64,
    /// Its arguments, cut and redacted.
    pub args: Vec<Vec<u8>>,
    /// The client's address, `ip:port`.
    pub peer: String,
    /// The client's name, empty if it has none.
    pub name: Vec<u8>,
}

/// The slow log of a server.
#[derive(Debug)]
pub struct SlowLog {
    /// `slowlog-log-slower-than`, in µs; negative: log nothing.
    threshold: AtomicI64,
    /// The same in `ticks` readings (`ticks::at_least`), `u64::MAX` when
    /// nothing is logged: what each command's time is compared with.
    threshold_ticks: AtomicU64,
    /// `slowlog-max-len`.
    max_len: AtomicUsize,
    next_id: AtomicU64,
    /// Newest first.
    entries: Mutex<VecDeque<SlowEntry>>,
}

impl SlowLog {
    /// An empty log with Redis's settings given.
    pub fn new(threshold_us: i64, max_len: u64) -> Self {
        let log = SlowLog {
            threshold: AtomicI64::new(-1),
            threshold_ticks: AtomicU64::new(u64::MAX),
            max_len: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            entries: Mutex::new(VecDeque::new()),
        };
        log.configure(threshold_us, max_len);
        log
    }

    /// Applies `slowlog-log-slower-than` and `slowlog-max-len`; a shorter
    /// log drops its oldest entries now, as Redis's next push would.
    pub fn configure(&self, threshold_us: i64, max_len: u64) {
        self.threshold.store(threshold_us, Relaxed);
        let ticks = u64::try_from(threshold_us).map_or(u64::MAX, |us| {
            crate::ticks::at_least(Duration::from_micros(us)).min(u64::MAX - 1)
        });
        self.threshold_ticks.store(ticks, Relaxed);
        let max_len = usize::try_from(max_len).unwrap_or(usize::MAX);
        let mut entries = self.entries.lock();
        self.max_len.store(max_len, Relaxed);
        entries.truncate(max_len);
    }

    /// Whether commands must be timed for the log.
    pub fn enabled(&self) -> bool {
        self.threshold_ticks.load(Relaxed) != u64::MAX
    }

    /// Whether a command that ran from `start` to `end` (`ticks`
    /// readings) may be slow enough to log: a raw comparison, cheap on
    /// every command; `record` decides exactly.
    pub fn may_log(&self, start: u64, end: u64) -> bool {
        end.saturating_sub(start) >= self.threshold_ticks.load(Relaxed)
    }

    /// Logs a command that ran for `took`, if that is slow enough.
    pub fn record(&self, took: Duration, args: &[&[u8]], peer: &str, name: Option<&[u8]>) {
        let threshold = self.threshold.load(Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let Ok(threshold) = u64::try_from(threshold) else {
            return;
        };
        if micros < threshold {
            return;
        }
        let entry = SlowEntry {
            id: self.next_id.fetch_add(1, Relaxed),
            time: unix_seconds(),
            micros,
            args: kept_args(args),
            peer: peer.to_string(),
            name: name.map(<[u8]>::to_vec).unwrap_or_default(),
        };
        let mut entries = self.entries.lock();
        // Read under the lock, so that a `configure` that shortened the
        // log is not undone by a push with the old length.
        let max_len = self.max_len.load(Relaxed);
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    /// The newest `count` entries (all of them for `None`), newest first.
    pub fn newest(&self, count: Option<usize>) -> Vec<SlowEntry> {
        let entries = self.entries.lock();
        let n = count.unwrap_or(entries.len());
        entries.iter().take(n).cloned().collect()
    }

    /// How many entries the log holds.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// Forgets every entry (ids go on from where they were).
    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}

fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What an entry keeps of a request's arguments: secrets redacted, at
/// most `MAX_ARGS` (the last of them then counting the rest), each cut at
/// `MAX_ARG_BYTES` with the bytes left out counted.
fn kept_args(args: &[&[u8]]) -> Vec<Vec<u8>> {
    let secret = secret_positions(args);
    let kept = args.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, arg) in args.iter().take(kept).enumerate() {
        if kept < args.len() && i == kept - 1 {
            let more = args.len() - kept + 1;
            out.push(format!("... ({more} more arguments)").into_bytes());
        } else if secret.contains(&i) {
            out.push(REDACTED.to_vec());
        } else if arg.len() > MAX_ARG_BYTES {
            let mut cut = arg.get(..MAX_ARG_BYTES).unwrap_or(arg).to_vec();
            let more = arg.len() - MAX_ARG_BYTES;
            cut.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
            out.push(cut);
        } else {
            out.push(arg.to_vec());
        }
    }
    out
}

/// The positions of `args` Redis redacts from its logs (the slow log and
/// MONITOR's feed): AUTH's username and password, HELLO's after AUTH,
/// and the value CONFIG SET gives `requirepass`.
pub(crate) fn secret_positions(args: &[&[u8]]) -> Vec<usize> {
    let is = |i: usize, word: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    };
    if is(0, "auth") {
        return (1..args.len()).collect();
    }
    if is(0, "hello") {
        return (2..args.len())
            .filter(|&i| is(i - 1, "auth") || (i >= 3 && is(i - 2, "auth")))
            .collect();
    }
    if is(0, "config") && is(1, "set") {
        return (3..args.len())
            .step_by(2)
            .filter(|&i| is(i - 1, "requirepass"))
            .collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        kept_args(&words.iter().map(|w| w.as_bytes()).collect::<Vec<_>>())
    }

    fn strings(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|a| String::from_utf8(a).expect("text"))
            .collect()
    }

    #[test]
    fn long_arguments_are_cut_and_counted() {
        let long = "x".repeat(130);
        let kept = strings(args(&["set", "k", &long]));
        assert_eq!(kept[2], format!("{}... (2 more bytes)", "x".repeat(128)));
        assert_eq!(strings(args(&["set", "k", &"y".repeat(128)]))[2].len(), 128);
    }

    #[test]
    fn at_most_32_arguments_the_last_counting_the_rest() {
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let words: Vec<&str> = many.iter().map(String::as_str).collect();
        let kept = strings(args(&words));
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[30], "30");
        assert_eq!(kept[31], "... (9 more arguments)");
        let exactly: Vec<&str> = words[..32].to_vec();
        assert_eq!(strings(args(&exactly))[31], "31");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(strings(args(&["AUTH", "pw"])), ["AUTH", "(redacted)"]);
        assert_eq!(
            strings(args(&["auth", "user", "pw"])),
            ["auth", "(redacted)", "(redacted)"]
        );
        assert_eq!(
            strings(args(&["HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"])),
            [
                "HELLO",
                "3",
                "AUTH",
                "(redacted)",
                "(redacted)",
                "SETNAME",
                "n"
            ]
        );
        assert_eq!(
            strings(args(&["config", "set", "timeout", "5", "requirepass", "s"])),
            ["config", "set", "timeout", "5", "requirepass", "(redacted)"]
        );
    }

    #[test]
    fn only_commands_at_the_threshold_or_slower_are_kept_newest_first() {
        let log = SlowLog::new(100, 2);
        let peer = "127.0.0.1:5000";
        log.record(Duration::from_micros(99), &[b"get"], peer, None);
        assert_eq!(log.len(), 0);
        log.record(Duration::from_micros(100), &[b"one"], peer, None);
        log.record(Duration::from_micros(500), &[b"two"], peer, Some(b"app"));
        log.record(Duration::from_micros(101), &[b"three"], peer, None);
        let newest = log.newest(None);
        assert_eq!(newest.len(), 2, "slowlog-max-len");
        assert_eq!(
            (newest[0].id, newest[0].args[0].as_slice()),
            (2, &b"three"[..])
        );
        assert_eq!((newest[1].id, newest[1].name.as_slice()), (1, &b"app"[..]));
        assert_eq!(newest[1].micros, 500);
        assert_eq!(log.newest(Some(1)).len(), 1);
        log.reset();
        assert_eq!(log.len(), 0);
        log.record(Duration::from_micros(100), &[b"four"], peer, None);
        assert_eq!(log.newest(None)[0].id, 3, "ids go on after a reset");
    }

    #[test]
    fn a_negative_threshold_logs_nothing_and_zero_everything() {
        let log = SlowLog::new(-1, 10);
        assert!(!log.enabled());
        log.record(Duration::from_secs(5), &[b"debug"], "p", None);
        assert_eq!(log.len(), 0);
        log.configure(0, 10);
        assert!(log.enabled());
        log.record(Duration::ZERO, &[b"ping"], "p", None);
        assert_eq!(log.len(), 1);
        log.configure(0, 0);
        assert_eq!(log.len(), 0, "a shorter log drops its oldest entries");
    }
}
