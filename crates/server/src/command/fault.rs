//! TANDEM.PANIC: a command whose handler panics, to prove that a panic
//! while serving one client is contained to that client.
//!
//! Owns the server's test-only fault hooks. Compiled only with the
//! `fault-injection` feature, which the server's integration tests turn
//! on and release builds never do: this module must never be reachable
//! in a server a user runs.

use super::spec::{spec, Spec};
use super::{Call, CmdResult};

pub(super) const COMMANDS: &[Spec] = &[spec("tandem.panic", -1, 0, (0, 0, 0), panic)];

// Its documentation is with every command's, in `meta/table.rs`.

fn panic(c: &mut Call<'_>) -> CmdResult {
    let why = c
        .args
        .get(1)
        .map_or_else(String::new, |a| format!(": {}", String::from_utf8_lossy(a)));
    panic!("TANDEM.PANIC was called{why}");
}
