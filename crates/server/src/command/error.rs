//! Why a command was refused, and the exact Redis error line for each.
//!
//! Owns the mapping from engine errors to Redis's replies. A handler
//! returns a `Reject`; the dispatcher writes it with the command's name
//! where Redis's text has one. The connection stays open after any of
//! these.

use tandem_engine::Error as EngineError;

/// A command's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// An engine error, mapped to Redis's text.
    Engine(EngineError),
    /// `ERR syntax error`.
    Syntax,
    /// `ERR value is not an integer or out of range`.
    NotInteger,
    /// `ERR wrong number of arguments for '<cmd>' command`.
    Arity,
    /// A full error line (without the leading `-`).
    Static(&'static str),
    /// A full error line built at run time.
    Owned(String),
}

impl From<EngineError> for Reject {
    fn from(e: EngineError) -> Self {
        Reject::Engine(e)
    }
}

/// Shorthand for handler results.
pub type CmdResult = Result<(), Reject>;

impl Reject {
    /// The error line for command `name` (lowercase, as Redis prints it).
    pub fn message(&self, name: &str) -> String {
        match self {
            Reject::Engine(e) => engine_message(e, name),
            Reject::Syntax => "ERR syntax error".into(),
            Reject::NotInteger => "ERR value is not an integer or out of range".into(),
            Reject::Arity => format!("ERR wrong number of arguments for '{name}' command"),
            Reject::Static(s) => (*s).into(),
            Reject::Owned(s) => s.clone(),
        }
    }
}

fn engine_message(e: &EngineError, name: &str) -> String {
    match e {
        EngineError::WrongType => {
            "WRONGTYPE Operation against a key holding the wrong kind of value".into()
        }
        EngineError::NotInteger => "ERR value is not an integer or out of range".into(),
        EngineError::NotFloat => "ERR value is not a valid float".into(),
        EngineError::Overflow => "ERR increment or decrement would overflow".into(),
        EngineError::DecrementOverflow => "ERR decrement would overflow".into(),
        EngineError::NanOrInfinity => "ERR increment would produce NaN or Infinity".into(),
        EngineError::NotFinite => "ERR value is NaN or Infinity".into(),
        EngineError::HashNotInteger => "ERR hash value is not an integer".into(),
        EngineError::HashNotFloat => "ERR hash value is not a float".into(),
        EngineError::ValueTooLarge { .. } => {
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)".into()
        }
        EngineError::OffsetOutOfRange => "ERR offset is out of range".into(),
        EngineError::InvalidExpireTime => format!("ERR invalid expire time in '{name}' command"),
        EngineError::NoSuchKey => "ERR no such key".into(),
        EngineError::IndexOutOfRange => "ERR index out of range".into(),
        EngineError::ScoreNaN => "ERR resulting score is not a number (NaN)".into(),
        EngineError::SameObject => "ERR source and destination objects are the same".into(),
        EngineError::InvalidCursor => "ERR invalid cursor".into(),
        EngineError::NotHll => "WRONGTYPE Key is not a valid HyperLogLog string value.".into(),
        EngineError::CorruptHll => "INVALIDOBJ Corrupted HLL object detected".into(),
        EngineError::StreamIdTooSmall => {
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                .into()
        }
        EngineError::StreamExhausted => {
            "ERR The stream has exhausted the last possible ID, unable to add more items".into()
        }
        EngineError::StreamElementsTooLarge => "ERR Elements are too large to be stored".into(),
        EngineError::XSetIdTooSmall => {
            "ERR The ID specified in XSETID is smaller than the target stream top item".into()
        }
        EngineError::XSetIdEntriesAdded => {
            "ERR The entries_added specified in XSETID is smaller than the target stream length"
                .into()
        }
        // Tandem's own (Redis has no background thread that can die): the
        // thread, why, and what it means for the client, in Redis's style.
        EngineError::BackgroundDied { .. } => format!("ERR {e}"),
        // A batch that touched an undeclared key is a bug in this server,
        // not the client's fault; say so rather than hide it.
        other => format!("ERR internal error: {other}"),
    }
}
