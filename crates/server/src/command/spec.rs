//! What the server knows about each command: name, arity, flags and key
//! positions (what COMMAND reports and client libraries read), and its
//! handler.

use super::{Call, CmdResult};

/// Command flags, as COMMAND reports them.
pub mod flags {
    /// Changes data.
    pub const WRITE: u32 = 1;
    /// Only reads data.
    pub const READONLY: u32 = 1 << 1;
    /// Constant or logarithmic time.
    pub const FAST: u32 = 1 << 2;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 3;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 4;
    /// May grow memory use.
    pub const DENYOOM: u32 = 1 << 5;
    /// Affects or reads the connection, not data.
    pub const CONNECTION: u32 = 1 << 6;
    /// A pub/sub command.
    pub const PUBSUB: u32 = 1 << 7;

    /// Each flag with the name COMMAND prints for it.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (NO_AUTH, "no_auth"),
        (PUBSUB, "pubsub"),
        (FAST, "fast"),
    ];
}

/// A command's handler.
pub type Handler = fn(&mut Call<'_>) -> CmdResult;

/// One command.
#[derive(Clone, Copy)]
pub struct Spec {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis's arity: exact argument count (the name included) when
    /// positive, a minimum when negative.
    pub arity: i32,
    /// `flags::*` bits.
    pub flags: u32,
    /// First key position, last key position (-1 for the last argument),
    /// and step; zeros for a command without keys.
    pub keys: (i32, i32, i32),
    /// Runs it.
    pub handler: Handler,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("arity", &self.arity)
            .finish()
    }
}

/// Shorthand for table entries.
pub const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    handler: Handler,
) -> Spec {
    Spec {
        name,
        arity,
        flags,
        keys,
        handler,
    }
}
