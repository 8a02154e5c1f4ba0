//! The servers' log, captured for tests that check what was logged.
//!
//! Owns the one global `tracing` subscriber a test process installs: the
//! servers log from their own threads, so a per-thread subscriber would
//! see nothing. The first test to call `capture` installs it; later calls
//! do nothing. It keeps WARN and above, which is where failures are logged.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

/// Everything logged at WARN and above in this test process.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends this process's log (every thread's) to the capture.
pub fn capture() {
    let _ = tracing_subscriber::fmt()
        .with_writer(|| Capture)
        .with_ansi(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .try_init();
}

/// Everything captured so far.
pub fn text() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
}

/// The captured lines that mention `marker`.
pub fn lines_with(marker: &str) -> Vec<String> {
    text()
        .lines()
        .filter(|l| l.contains(marker))
        .map(str::to_owned)
        .collect()
}
