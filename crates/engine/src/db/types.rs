//! Argument and result types of `Db` operations.

use crate::entry::ValueType;
use bytes::Bytes;

/// When a SET writes, from its NX / XX options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetCondition {
    /// Always write.
    #[default]
    Always,
    /// Write only if the key does not exist (`NX`).
    IfAbsent,
    /// Write only if the key exists (`XX`).
    IfPresent,
}

/// An expiry time as a Redis command states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Seconds from now (`EX`, `EXPIRE`).
    Seconds(i64),
    /// Milliseconds from now (`PX`, `PEXPIRE`).
    Millis(i64),
    /// A Unix time in seconds (`EXAT`, `EXPIREAT`).
    UnixSeconds(i64),
    /// A Unix time in milliseconds (`PXAT`, `PEXPIREAT`).
    UnixMillis(i64),
}

/// What a SET does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetTtl {
    /// Remove any expiry (SET's default).
    #[default]
    Clear,
    /// Keep the current expiry (`KEEPTTL`).
    Keep,
    /// Expire at the given time (`EX`, `PX`, `EXAT`, `PXAT`).
    At(Expiry),
}

/// The options of a SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    /// NX / XX.
    pub condition: SetCondition,
    /// EX / PX / EXAT / PXAT / KEEPTTL.
    pub ttl: SetTtl,
    /// GET: return the old value.
    pub get: bool,
}

/// What a SET did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was written (false when NX or XX prevented it).
    pub written: bool,
    /// With `get`, the value before the call (`None` if there was none).
    pub old: Option<Bytes>,
}

/// The condition of an EXPIRE-family call (Redis 7's NX / XX / GT / LT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// Always set the expiry.
    #[default]
    Always,
    /// Only if the key has no expiry.
    IfNone,
    /// Only if the key has an expiry.
    IfSome,
    /// Only if the new expiry is later than the current one (no expiry
    /// counts as infinitely late).
    IfLater,
    /// Only if the new expiry is earlier than the current one (no expiry
    /// counts as infinitely late).
    IfEarlier,
    /// Only if the key has an expiry and the new one is earlier (XX with
    /// LT; XX with GT is `IfLater`, which already needs an expiry).
    IfSomeEarlier,
}

/// Options of a SCAN call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions<'a> {
    /// How many keys to examine (Redis's COUNT hint). Default 10.
    pub count: usize,
    /// Only return keys matching this glob (MATCH).
    pub pattern: Option<&'a [u8]>,
    /// Only return keys of this type (TYPE).
    pub value_type: Option<ValueType>,
}

impl Default for ScanOptions<'_> {
    fn default() -> Self {
        Self {
            count: 10,
            pattern: None,
            value_type: None,
        }
    }
}

/// One step of a SCAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPage {
    /// The cursor for the next call; 0 when the scan is complete.
    pub cursor: u64,
    /// Keys found in this step.
    pub keys: Vec<Bytes>,
}
