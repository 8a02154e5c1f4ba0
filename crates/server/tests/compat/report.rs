//! The runner's tally and what it prints: each failure in full, then one
//! line per outcome with its count. Nothing is left out of the totals: a
//! case that did not run says why, and unsupported cases name the
//! commands they need.

use crate::compare::Value;
use std::collections::BTreeMap;

/// One command whose reply was not the expected one.
pub struct Failure {
    /// The case's position in the file (names repeat across the
    /// standalone and cluster variants).
    pub index: usize,
    pub case: String,
    pub command: String,
    pub expected: Value,
    /// The reply, or why there was none (I/O error, closed connection).
    pub got: Result<Value, String>,
}

/// Counts per outcome; every case lands in exactly one.
#[derive(Default)]
pub struct Tally {
    pub total: usize,
    pub passed: usize,
    /// Cases with at least one failure.
    pub failed_cases: usize,
    pub failures: Vec<Failure>,
    /// Cases needing commands Tandem lacks, and how many cases need each.
    pub unsupported: usize,
    pub missing: BTreeMap<String, usize>,
    /// Against an external server unsupported cases run anyway; this
    /// counts how many of the run ones Tandem would have left out.
    pub unsupported_but_run: usize,
    pub cluster: usize,
    pub needs_newer: Vec<String>,
    pub invalid: Vec<String>,
    pub skipped: Vec<String>,
}

impl Tally {
    /// Notes the commands an unsupported case needs.
    pub fn note_missing(&mut self, missing: &[String]) {
        for m in missing {
            *self.missing.entry(m.clone()).or_default() += 1;
        }
    }

    /// Prints every failure, then the totals. `external` says whether the
    /// server is someone else's (then unsupported cases were run too).
    pub fn print(&self, target: &str, version: &str, external: bool) {
        for f in &self.failures {
            let got = match &f.got {
                Ok(v) => v.to_string(),
                Err(e) => format!("no reply: {e}"),
            };
            println!(
                "FAIL #{} {:?}\n    command:  {}\n    expected: {}\n    got:      {}",
                f.index, f.case, f.command, f.expected, got
            );
        }
        let missing = self
            .missing
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "\ncompat: {} cases against {target} (Redis {version})",
            self.total
        );
        println!("  passed:      {}", self.passed);
        println!(
            "  failed:      {} ({} commands)",
            self.failed_cases,
            self.failures.len()
        );
        if external {
            println!(
                "  run although Tandem lacks their commands: {} (Tandem would skip them)",
                self.unsupported_but_run
            );
            println!("  commands Tandem lacks, with the cases needing each: {missing}");
        } else {
            println!("  unsupported: {} (not run)", self.unsupported);
            println!("    missing commands, with the cases needing each: {missing}");
        }
        println!("  cluster-only (skipped): {}", self.cluster);
        println!(
            "  needs newer Redis than {version} (skipped): {}{}",
            self.needs_newer.len(),
            list(&self.needs_newer)
        );
        println!(
            "  invalid case data (skipped): {}{}",
            self.invalid.len(),
            list(&self.invalid)
        );
        println!(
            "  marked skipped in the data: {}{}",
            self.skipped.len(),
            list(&self.skipped)
        );
    }
}

/// The names behind a count, one per line, when there are any.
fn list(items: &[String]) -> String {
    items.iter().map(|i| format!("\n      {i}")).collect()
}
