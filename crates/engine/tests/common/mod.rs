//! Helpers shared by the engine's integration tests: the databases a
//! server would open, sharing one set of background threads.

use tandem_engine::prelude::*;
use tandem_engine::Background;

/// `n` databases (indexes 0..n) of `shards` shards each, on one
/// `Background`, as a server opens its databases.
pub fn dbs(n: usize, shards: usize) -> Vec<Db> {
    let background = Background::new();
    (0..n as u32)
        .map(|i| {
            Db::new(
                Options::default()
                    .db_index(i)
                    .shards(shards)
                    .background(background.clone()),
            )
        })
        .collect()
}
