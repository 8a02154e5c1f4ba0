//! Active expiry: removing keys at their deadline, with one `expired`
//! event each.
//!
//! Owns when and how expired keys are found and removed outside of
//! requests. Lazy expiry stays where it was (`db::access`): a request that
//! meets an expired key treats it as absent, and a write removes it.
//!
//! - **Finding what is due**: each shard's tree is its timer index
//!   (`memtable::tree::due`): per-child lower bounds on deadlines lead a
//!   descent straight to the expired entries. Nothing is scanned or
//!   sampled.
//! - **Waking on time** (`memtable::alarm`): each shard publishes a lower
//!   bound on its deadlines; the one reaper thread of a `Background`
//!   sleeps until the earliest across all its keyspaces and is rung when a
//!   write brings an earlier one.
//! - **Removing** (`reaper`): at most `REAP_BATCH` keys per shard lock
//!   hold, released fairly to waiting requests in between, so a million
//!   keys due at once never hold a shard for long.
//!
//! **Exactly one `expired` event per expiry.** Whoever removes an expired
//! entry announces it, under the shard's write lock: a write that meets it
//! (`access::live_slot`), the reaper, or the migrator (which purges rather
//! than moves it). An entry is removed once, so it is announced once. The
//! one exception is a stale copy in a frozen memtable that a blind write
//! (keyspace rule 5) shadowed: that key lives on, so its stale copy goes
//! silently. That copy was alive when it was shadowed: a blind write whose
//! key's frozen shard may hold something already expired pulls the key
//! first (`Keyspace::write_blind`), so the expired copy is removed, and
//! announced, before the new value is written.

mod reaper;

pub(crate) use reaper::run as run_reaper;
