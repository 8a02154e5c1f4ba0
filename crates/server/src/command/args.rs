//! Reading command arguments: integers in Redis's strict syntax, option
//! words compared without case.

use super::error::Reject;

/// A signed 64-bit integer, or `ERR value is not an integer or out of range`.
pub fn int(arg: &[u8]) -> Result<i64, Reject> {
    tandem_engine::parse_i64(arg).ok_or(Reject::NotInteger)
}

/// Whether `arg` is the option `word` (ASCII, any case).
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Lossy text of an argument, for error messages.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}
