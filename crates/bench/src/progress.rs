//! Progress of a long benchmark run, drawn on standard error while it is
//! a terminal, and nothing at all when it is piped or redirected (CI,
//! scripts that parse `--json`).
//!
//! Owns the bar's look and when it shows. It must never write to
//! standard output (reports go there) and never cost a measured
//! operation more than an atomic add: workers report in batches of
//! `EVERY` operations, and a run of fixed length is moved by a thread of
//! its own that only reads the clock (`clock`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Operations a worker counts before it reports them.
pub const EVERY: u64 = 4096;

/// A bar over `total` operations labelled `what`, hidden unless standard
/// error is a terminal.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>8} [{bar:40}] {human_pos}/{human_len} ops, {elapsed} so far, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A bar over a run of fixed length, labelled `what`, that moves with the
/// clock: for the benchmarks that run for a time rather than a count.
/// Hidden (and no thread) unless standard error is a terminal; the bar
/// ends when the guard is dropped.
pub fn clock(total: Duration, what: &str) -> Clock {
    if !std::io::stderr().is_terminal() {
        return Clock { ticker: None };
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total.as_millis()).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template("{msg:>8} [{bar:40}] {elapsed} of {len_secs}") {
        bar.set_style(
            style
                .with_key(
                    "len_secs",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}s", s.len().unwrap_or(0) / 1000);
                    },
                )
                .progress_chars("=> "),
        );
    }
    bar.set_message(what.to_string());
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let ticking = bar.clone();
    let started = Instant::now();
    let thread = std::thread::spawn(move || {
        while stopped.recv_timeout(Duration::from_millis(200)).is_err() {
            ticking.set_position(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        ticking.finish_and_clear();
    });
    Clock {
        ticker: Some((stop, thread)),
    }
}

/// Keeps a `clock` bar moving until dropped.
pub struct Clock {
    ticker: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Drop for Clock {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.ticker.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

/// Counts operations for `bar` and reports them every `EVERY`, and the
/// rest when dropped.
pub struct Counter {
    bar: ProgressBar,
    pending: u64,
}

impl Counter {
    /// A counter reporting to `bar` (a clone of it: bars are shared).
    pub fn new(bar: &ProgressBar) -> Self {
        Self {
            bar: bar.clone(),
            pending: 0,
        }
    }

    /// One operation done.
    pub fn tick(&mut self) {
        self.add(1);
    }

    /// `n` operations done.
    pub fn add(&mut self, n: u64) {
        self.pending += n;
        if self.pending >= EVERY {
            self.bar.inc(self.pending);
            self.pending = 0;
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.bar.inc(self.pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_reports_every_operation_by_the_time_it_is_dropped() {
        let bar = bar(10_000, "test");
        {
            let mut c = Counter::new(&bar);
            for _ in 0..5_000 {
                c.tick();
            }
            assert_eq!(bar.position(), EVERY, "reported in batches");
            c.add(3);
        }
        assert_eq!(bar.position(), 5_003);
        bar.finish_and_clear();
    }
}
