//! Command categories (`@read`, `@admin`, ...), as Redis 7.0 defines
//! them: the bits COMMAND reports and ACL rules grant or take away.
//!
//! Owns the category bits and names. Which command is in which category
//! is the command table's business (`command::meta`); this file never
//! names a command.

/// Works on keys generically.
pub const KEYSPACE: u32 = 1;
/// Reads data (implied by `readonly`).
pub const READ: u32 = 1 << 1;
/// Writes data (implied by `write`).
pub const WRITE: u32 = 1 << 2;
/// Works on strings.
pub const STRING: u32 = 1 << 3;
/// Pub/sub (implied by `pubsub`).
pub const PUBSUB: u32 = 1 << 4;
/// Administrative (implied by `admin`).
pub const ADMIN: u32 = 1 << 5;
/// Constant or logarithmic time (implied by `fast`).
pub const FAST: u32 = 1 << 6;
/// Everything not `fast`.
pub const SLOW: u32 = 1 << 7;
/// May block (implied by `blocking`).
pub const BLOCKING: u32 = 1 << 8;
/// Potentially dangerous (implied by `admin`).
pub const DANGEROUS: u32 = 1 << 9;
/// About the connection.
pub const CONNECTION: u32 = 1 << 10;
/// Transactions.
pub const TRANSACTION: u32 = 1 << 11;
/// Works on hashes.
pub const HASH: u32 = 1 << 12;
/// Works on sets.
pub const SET: u32 = 1 << 13;
/// Works on lists.
pub const LIST: u32 = 1 << 14;
/// Works on sorted sets.
pub const SORTEDSET: u32 = 1 << 15;
/// Scripting.
pub const SCRIPTING: u32 = 1 << 16;
/// Works on bitmaps.
pub const BITMAP: u32 = 1 << 17;
/// Works on HyperLogLogs.
pub const HYPERLOGLOG: u32 = 1 << 18;
/// Works on geospatial indexes.
pub const GEO: u32 = 1 << 19;
/// Works on streams.
pub const STREAM: u32 = 1 << 20;

/// Each category with its name, in Redis's order.
pub const NAMES: &[(u32, &str)] = &[
    (KEYSPACE, "@keyspace"),
    (READ, "@read"),
    (WRITE, "@write"),
    (SET, "@set"),
    (SORTEDSET, "@sortedset"),
    (LIST, "@list"),
    (HASH, "@hash"),
    (STRING, "@string"),
    (BITMAP, "@bitmap"),
    (HYPERLOGLOG, "@hyperloglog"),
    (GEO, "@geo"),
    (STREAM, "@stream"),
    (PUBSUB, "@pubsub"),
    (ADMIN, "@admin"),
    (FAST, "@fast"),
    (SLOW, "@slow"),
    (BLOCKING, "@blocking"),
    (DANGEROUS, "@dangerous"),
    (CONNECTION, "@connection"),
    (TRANSACTION, "@transaction"),
    (SCRIPTING, "@scripting"),
];

/// The category named `name` (without the `@`, any case), as ACL rules
/// and ACL CAT name them.
pub fn by_name(name: &[u8]) -> Option<u32> {
    NAMES
        .iter()
        .find(|(_, n)| {
            n.trim_start_matches('@')
                .as_bytes()
                .eq_ignore_ascii_case(name)
        })
        .map(|&(bit, _)| bit)
}
