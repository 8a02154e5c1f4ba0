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
    /// A pub/sub command.
    pub const PUBSUB: u32 = 1 << 7;
    /// Refused inside MULTI.
    pub const NO_MULTI: u32 = 1 << 8;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 9;
    /// Its keys are found by reading its arguments (a count of keys), not
    /// by position alone.
    pub const MOVABLE_KEYS: u32 = 1 << 12;

    // Flags Redis keeps to itself (COMMAND does not report them) that
    // decide something here.

    /// Switched off unless `enable-debug-command` allows it (Redis's
    /// `CMD_PROTECTED`): refused before it runs or is queued.
    pub const PROTECTED: u32 = 1 << 10;
    /// Not a write, but Redis would replicate it (`CMD_MAY_REPLICATE`):
    /// CLIENT PAUSE WRITE holds it back as it holds writes.
    pub const MAY_REPLICATE: u32 = 1 << 11;

    // Flags Redis reports, most of them now deciding what they say:
    // `NOSCRIPT` (scripts' commands), `LOADING`, `ALLOW_BUSY` (`-BUSY`),
    // `SKIP_SLOWLOG`, which keeps EXEC out of the slow log (its commands
    // go in on their own); `STALE` and the rest name no behaviour yet.
    // COMMAND reports them
    // so that clients see what Redis would say; `command::meta` adds them.
    // `command::admit` says where each check will go once the state it
    // tests exists.

    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 16;
    /// Allowed while the dataset loads.
    pub const LOADING: u32 = 1 << 17;
    /// Allowed on a replica with stale data.
    pub const STALE: u32 = 1 << 18;
    /// Not logged in the slow log (`crate::slowlog`).
    pub const SKIP_SLOWLOG: u32 = 1 << 19;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 20;
    /// Refused while a replica loads a dataset in the background.
    pub const NO_ASYNC_LOADING: u32 = 1 << 21;
    /// Fed to MONITOR by the command itself (EVAL), not after it.
    pub const SKIP_MONITOR: u32 = 1 << 22;
    /// May be called with no key at all although it takes keys.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 23;

    /// Each flag with the name COMMAND prints for it, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (MOVABLE_KEYS, "movablekeys"),
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
