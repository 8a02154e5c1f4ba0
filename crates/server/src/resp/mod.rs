//! The Redis serialization protocol: requests in, replies out.
//!
//! `parse` frames requests (RESP multibulk and inline) from a read buffer
//! without copying; `reply` encodes replies in RESP2 or RESP3.

pub mod parse;
pub mod reply;

pub use parse::{Form, Limits, Parsed, ProtocolError, RequestParser, MAX_INLINE};
pub use reply::{Out, Protocol};
