//! Keyspace hits and misses as the engine counts them: each key a read
//! looks up counts once, the checking passes and writes' lookups not at
//! all (the server's tests compare the totals with Redis 7.0.15's).

use tandem_engine::lookups::take;
use tandem_engine::prelude::*;
use tandem_engine::{Db, Options, SetAlgebra};

#[test]
fn a_multi_key_read_counts_each_key_once() -> Result<(), tandem_engine::Error> {
    let db = Db::new(Options::default().shards(16));
    db.sadd(b"s", &[b"x".as_slice()])?;
    db.sadd(b"t", &[b"x".as_slice()])?;
    let _ = take();
    db.combine(SetAlgebra::Inter, &[b"s".as_slice(), b"t".as_slice()])?;
    assert_eq!(take(), (2, 0));
    db.combine(SetAlgebra::Union, &[b"s".as_slice(), b"nope".as_slice()])?;
    assert_eq!(take(), (1, 1));
    db.combine(SetAlgebra::Inter, &[b"s".as_slice(), b"nope".as_slice()])?;
    assert_eq!(take(), (1, 1));
    db.combine_store(SetAlgebra::Inter, b"d", &[b"s".as_slice(), b"t".as_slice()])?;
    assert_eq!(take(), (2, 0));
    db.smove(b"s", b"t", b"x")?;
    assert_eq!(take(), (0, 0));
    Ok(())
}
