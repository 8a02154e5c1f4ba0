//! The engine's error type.
//!
//! Owns every way an engine operation can refuse. Each variant is one a
//! caller can act on, and the server maps each to Redis's exact reply, so
//! two different Redis errors must never share a variant.

/// Why an engine operation was refused. Nothing is changed when an
/// operation returns an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key holds a value of another type (Redis `WRONGTYPE`).
    #[error("operation against a key holding the wrong kind of value")]
    WrongType,
    /// The stored value or the argument is not a 64-bit integer.
    #[error("value is not an integer or out of range")]
    NotInteger,
    /// A hash field's value is not a 64-bit integer (HINCRBY).
    #[error("hash value is not an integer")]
    HashNotInteger,
    /// An increment argument is itself NaN or infinite (HINCRBYFLOAT).
    #[error("value is NaN or Infinity")]
    NotFinite,
    /// A hash field's value is not a float (HINCRBYFLOAT).
    #[error("hash value is not a float")]
    HashNotFloat,
    /// The stored value or the argument is not a float.
    #[error("value is not a valid float")]
    NotFloat,
    /// An integer increment would leave the `i64` range.
    #[error("increment or decrement would overflow")]
    Overflow,
    /// DECRBY of `i64::MIN`, which cannot be negated.
    #[error("decrement would overflow")]
    DecrementOverflow,
    /// A float increment would produce NaN or an infinity.
    #[error("increment would produce NaN or Infinity")]
    NanOrInfinity,
    /// A key or value would exceed the configured size limit.
    #[error("string exceeds maximum allowed size ({limit} bytes)")]
    ValueTooLarge {
        /// The limit in bytes (`Options::max_value_bytes`).
        limit: usize,
    },
    /// A SETRANGE/GETRANGE offset is negative or too large.
    #[error("offset is out of range")]
    OffsetOutOfRange,
    /// An expiry argument is not positive, or overflows when converted to
    /// an absolute Unix time in milliseconds.
    #[error("invalid expire time")]
    InvalidExpireTime,
    /// RENAME or RENAMENX of a key that does not exist; LSET on one.
    #[error("no such key")]
    NoSuchKey,
    /// LSET at an index the list does not have.
    #[error("index out of range")]
    IndexOutOfRange,
    /// ZINCRBY or ZADD INCR would make a score NaN (inf plus -inf).
    #[error("resulting score is not a number (NaN)")]
    ScoreNaN,
    /// COPY or MOVE onto itself: the same key in the same keyspace.
    #[error("source and destination objects are the same")]
    SameObject,
    /// A HyperLogLog command on a string that is not one (Redis's
    /// WRONGTYPE for it, with its own words).
    #[error("key is not a valid HyperLogLog string value")]
    NotHll,
    /// A HyperLogLog whose sparse runs do not add up (Redis's INVALIDOBJ).
    #[error("corrupted HLL object detected")]
    CorruptHll,
    /// A SCAN cursor that the engine never issued, or one too old to resume.
    #[error("invalid cursor")]
    InvalidCursor,
    /// An atomic batch touched a key it did not declare, so its shard was
    /// not locked. This is a bug in the caller.
    #[error("key was not declared in the atomic batch")]
    KeyNotInBatch,
    /// A background thread (the reaper or the resizer) panicked or could
    /// not be started, so keys may no longer expire or resize: every
    /// write is refused from then on; reads still work. Restart to clear.
    #[error("background thread '{thread}' died ({cause}); writes are refused")]
    BackgroundDied {
        /// The thread's name (`tandem-reaper`, `tandem-resizer`).
        thread: &'static str,
        /// Why, on one line (`panicked: ...`, `could not be spawned: ...`).
        cause: String,
    },
    /// The write-ahead log failed (an I/O error or a full disk), so a
    /// write could not be made durable: writes are refused until a
    /// snapshot succeeds; reads still work. Redis's `-MISCONF`.
    #[error("the write-ahead log failed ({0}); writes are refused until a snapshot succeeds")]
    LogFailed(String),
    /// A value read back from the log or a snapshot does not decode as the
    /// type its record names (recovery refuses it; never from a client).
    #[error("stored value does not decode: {0}")]
    BadStoredValue(String),
    /// XADD's ID is not above the stream's last ID.
    #[error("the ID specified in XADD is equal or smaller than the target stream top item")]
    StreamIdTooSmall,
    /// The stream's last ID is the largest there is.
    #[error("the stream has exhausted the last possible ID")]
    StreamExhausted,
    /// An entry's fields and values add up past what a node holds.
    #[error("elements are too large to be stored")]
    StreamElementsTooLarge,
    /// A consumer group command on a key that does not exist.
    #[error("no such stream key")]
    NoStreamKey,
    /// A consumer group that does not exist.
    #[error("no such consumer group")]
    NoGroup,
    /// XSETID below the stream's last entry.
    #[error("the ID specified in XSETID is smaller than the target stream top item")]
    XSetIdTooSmall,
    /// XSETID's ENTRIESADDED below the stream's length.
    #[error("the entries_added specified in XSETID is smaller than the target stream length")]
    XSetIdEntriesAdded,
}

/// Shorthand for engine results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
