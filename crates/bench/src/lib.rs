//! Tandem's benchmarks, run as `tandem bench <target> ...`.
//!
//! Owns workload generation, timing and reporting. Benchmarks measure;
//! they never assert. Results go to `docs/BENCHMARKS.md` with the command
//! that produced them.

mod cpu;
pub mod engine;
pub mod expiry;
pub mod fanout;
pub mod grow;
mod keys;
pub mod net;
mod report;
mod rss;

pub use report::Report;
