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

/// A SCAN-family cursor: an unsigned 64-bit decimal, or `ERR invalid
/// cursor`.
pub fn cursor(arg: &[u8]) -> Result<u64, Reject> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(Reject::Static("ERR invalid cursor"))
}

/// The options of a SCAN-family command, as Redis's `scanGenericCommand`
/// reads them.
#[derive(Debug, Default)]
pub struct ScanArgs<'a> {
    /// COUNT, at least 1 (default 10).
    pub count: usize,
    /// MATCH's pattern, as given.
    pub pattern: Option<&'a [u8]>,
    /// TYPE's name (SCAN only), as given.
    pub type_name: Option<&'a [u8]>,
}

/// Reads option pairs COUNT and MATCH, and TYPE where `with_type`
/// (SCAN; HSCAN has none); anything else, or a missing value, is a syntax
/// error, and a COUNT below 1 too.
pub fn scan_args<'a>(options: &[&'a [u8]], with_type: bool) -> Result<ScanArgs<'a>, Reject> {
    let mut out = ScanArgs {
        count: 10,
        ..ScanArgs::default()
    };
    let mut words = options.iter();
    while let Some(word) = words.next() {
        let value = *words.next().ok_or(Reject::Syntax)?;
        if is(word, "count") {
            out.count = usize::try_from(int(value)?)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(Reject::Syntax)?;
        } else if is(word, "match") {
            out.pattern = Some(value);
        } else if with_type && is(word, "type") {
            out.type_name = Some(value);
        } else {
            return Err(Reject::Syntax);
        }
    }
    Ok(out)
}

/// Lossy text of an argument, for error messages.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// The keys, the side and the count of LMPOP, BLMPOP, ZMPOP and BZMPOP,
/// from `numkeys key [key ...] SIDE [COUNT count]`, where SIDE is one of
/// `sides` (case-insensitive; `true` for the second), read as Redis
/// does: a count of keys that leaves no room for the side is a syntax
/// error.
pub fn mpop<'a>(
    numkeys: &[u8],
    rest: &'a [&'a [u8]],
    sides: [&str; 2],
) -> Result<(&'a [&'a [u8]], bool, usize), Reject> {
    let numkeys = int(numkeys)
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Reject::Static("ERR numkeys should be greater than 0"))?;
    let (keys, options) = rest.split_at_checked(numkeys).ok_or(Reject::Syntax)?;
    let [first_side, second_side] = sides;
    let (second, options) = match options.split_first() {
        Some((word, options)) if is(word, first_side) => (false, options),
        Some((word, options)) if is(word, second_side) => (true, options),
        _ => return Err(Reject::Syntax),
    };
    let count = match options {
        [] => 1,
        [word, value] if is(word, "count") => int(value)
            .ok()
            .filter(|n| *n > 0)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(Reject::Static("ERR count should be greater than 0"))?,
        _ => return Err(Reject::Syntax),
    };
    Ok((keys, second, count))
}
