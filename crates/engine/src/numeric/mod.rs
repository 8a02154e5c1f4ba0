//! Number parsing and formatting with Redis's exact rules.
//!
//! Owns the conversions between stored string values and numbers for the
//! counter commands and blocking timeouts. It must accept exactly what Redis accepts: a value that
//! Redis treats as "not an integer" must be one here too, or INCR on data
//! written by a client would behave differently than on Redis.

mod float;
mod int;

pub(crate) use float::incr_by_float;
pub use float::{format_score, parse_score, parse_score_lenient, parse_sort_score, seconds_to_ms};
pub(crate) use int::format_i64;
pub use int::parse_i64;
