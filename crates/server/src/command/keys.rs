//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX,
//! COPY, MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY, TOUCH, DBSIZE, FLUSHDB and
//! FLUSHALL.
//!
//! Owns their argument rules and replies. Multi-key commands are atomic
//! in the engine (DEL of many keys, RENAME and COPY are one batch; MOVE
//! and cross-database COPY lock both databases' keys together).

use super::args::{cursor, int, is, scan_args};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{glob_match, ScanOptions, ValueType};

pub(super) const COMMANDS: &[Spec] = &[
    spec("del", -2, WRITE, (1, -1, 1), del),
    spec("unlink", -2, WRITE | FAST, (1, -1, 1), del),
    spec("exists", -2, READONLY | FAST, (1, -1, 1), exists),
    spec("touch", -2, READONLY | FAST, (1, -1, 1), exists),
    spec("type", 2, READONLY | FAST, (1, 1, 1), key_type),
    spec("rename", 3, WRITE, (1, 2, 1), rename),
    spec("renamenx", 3, WRITE | FAST, (1, 2, 1), renamenx),
    spec("copy", -3, WRITE | DENYOOM, (1, 2, 1), copy),
    spec("move", 3, WRITE | FAST, (1, 1, 1), move_key),
    spec("swapdb", 3, WRITE | FAST, (0, 0, 0), swapdb),
    spec("keys", 2, READONLY, (0, 0, 0), keys),
    spec("scan", -2, READONLY, (0, 0, 0), scan),
    spec("randomkey", 1, READONLY, (0, 0, 0), randomkey),
    spec("dbsize", 1, READONLY | FAST, (0, 0, 0), dbsize),
    spec("flushdb", -1, WRITE, (0, 0, 0), flushdb),
    spec("flushall", -1, WRITE, (0, 0, 0), flushall),
];

fn del(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().del(c.args_from(1))?;
    c.out.count(n);
    Ok(())
}

fn exists(c: &mut Call<'_>) -> CmdResult {
    let n = c.kv().exists(c.args_from(1))?;
    c.out.count(n);
    Ok(())
}

fn key_type(c: &mut Call<'_>) -> CmdResult {
    let t = c.kv().key_type(c.arg(1))?;
    c.out.simple(t.map_or("none", |t| t.as_str()));
    Ok(())
}

fn rename(c: &mut Call<'_>) -> CmdResult {
    c.kv().rename(c.arg(1), c.arg(2))?;
    c.out.ok();
    Ok(())
}

fn renamenx(c: &mut Call<'_>) -> CmdResult {
    let done = c.kv().rename_nx(c.arg(1), c.arg(2))?;
    c.out.int(i64::from(done));
    Ok(())
}

/// A database number argument: `ERR value is not an integer or out of
/// range` if it is not a number, `ERR DB index is out of range` if no such
/// database exists.
fn db_index(c: &Call<'_>, arg: &[u8]) -> Result<usize, Reject> {
    let i = int(arg)?;
    usize::try_from(i)
        .ok()
        .filter(|&i| i < c.shared.dbs.len())
        .ok_or(Reject::Static("ERR DB index is out of range"))
}

fn copy(c: &mut Call<'_>) -> CmdResult {
    let mut target = c.session.db;
    let mut replace = false;
    let mut i = 3;
    while let Some(&a) = c.args.get(i) {
        if is(a, "replace") {
            replace = true;
        } else if let (true, Some(n)) = (is(a, "db"), c.args.get(i + 1)) {
            target = db_index(c, n)?;
            i += 1;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    let to = c.shared.dbs.get(target);
    let done = c.db().copy_to(c.arg(1), &to, c.arg(2), replace)?;
    if done {
        ready_in(c, target, 2);
    }
    c.out.int(i64::from(done));
    Ok(())
}

/// Argument `arg`, a key just written in database `db` (not necessarily
/// the client's), may be what a blocked client waits for: it is served
/// after this request, as `run_counted` does for the client's own.
fn ready_in(c: &mut Call<'_>, db: usize, arg: usize) {
    if c.shared.blocking.any() {
        let key = bytes::Bytes::copy_from_slice(c.arg(arg));
        c.session.ready.push((db, key));
    }
}

fn move_key(c: &mut Call<'_>) -> CmdResult {
    let target = db_index(c, c.arg(2))?;
    if target == c.session.db {
        return Err(tandem_engine::Error::SameObject.into());
    }
    let to = c.shared.dbs.get(target);
    let done = c.db().move_to(c.arg(1), &to)?;
    if done {
        ready_in(c, target, 1);
    }
    c.out.int(i64::from(done));
    Ok(())
}

fn swapdb(c: &mut Call<'_>) -> CmdResult {
    let a =
        tandem_engine::parse_i64(c.arg(1)).ok_or(Reject::Static("ERR invalid first DB index"))?;
    let b =
        tandem_engine::parse_i64(c.arg(2)).ok_or(Reject::Static("ERR invalid second DB index"))?;
    let range = |i: i64| usize::try_from(i).ok().filter(|&i| i < c.shared.dbs.len());
    let (Some(a), Some(b)) = (range(a), range(b)) else {
        return Err(Reject::Static("ERR DB index is out of range"));
    };
    if !c.shared.dbs.swap(a, b) {
        return Err(Reject::Static("ERR DB index is out of range"));
    }
    // Each database now holds what the other did: any key waited on in
    // either may have what its clients want.
    for db in [a, b] {
        for key in c.shared.blocking.keys_in(db) {
            c.session.ready.push((db, key));
        }
    }
    c.out.ok();
    Ok(())
}

/// The part of a glob before its first special character: every match
/// starts with it, so only keys with that prefix need looking at.
fn literal_prefix(pattern: &[u8]) -> &[u8] {
    let end = pattern
        .iter()
        .position(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
        .unwrap_or(pattern.len());
    pattern.get(..end).unwrap_or(pattern)
}

fn keys(c: &mut Call<'_>) -> CmdResult {
    let pattern = c.arg(1);
    let db = c.db();
    let prefix = literal_prefix(pattern);
    let all = pattern == b"*";
    let mut found = Vec::new();
    for (key, _) in db.scan_prefix(prefix) {
        if all || glob_match(pattern, &key) {
            found.push(key);
        }
    }
    c.out.bulks(found.iter());
    Ok(())
}

fn scan(c: &mut Call<'_>) -> CmdResult {
    let cursor = cursor(c.arg(1))?;
    let args = scan_args(c.args_from(2), true)?;
    let mut opts = ScanOptions {
        count: args.count,
        pattern: args.pattern,
        ..ScanOptions::default()
    };
    let type_name = args.type_name;
    // A TYPE no key can have (a type Tandem does not store yet, or a name
    // Redis does not know, as Redis 7.0 does) lets nothing through, but
    // the cursor still advances.
    let mut keep = true;
    if let Some(name) = type_name {
        match ValueType::from_name(name) {
            Some(t) => opts.value_type = Some(t),
            None => keep = false,
        }
    }
    let page = c.db().scan(cursor, opts)?;
    let mut digits = itoa::Buffer::new();
    c.out.array(2);
    c.out.bulk(digits.format(page.cursor).as_bytes());
    if keep {
        c.out.bulks(page.keys.iter());
    } else {
        c.out.array(0);
    }
    Ok(())
}

fn randomkey(c: &mut Call<'_>) -> CmdResult {
    let key = c.db().random_key();
    c.out.bulk_or_null(key.as_deref());
    Ok(())
}

fn dbsize(c: &mut Call<'_>) -> CmdResult {
    c.out.count(c.db().dbsize());
    Ok(())
}

/// FLUSHDB / FLUSHALL take an optional ASYNC or SYNC; both free memory
/// at once here.
fn flush_mode(c: &Call<'_>) -> CmdResult {
    match c.args {
        [_] => Ok(()),
        [_, m] if is(m, "async") || is(m, "sync") => Ok(()),
        _ => Err(Reject::Syntax),
    }
}

/// Every key waited on in `db`, just emptied: its blocked XREADGROUP
/// clients learn their stream is gone, as Redis tells them.
fn flushed(c: &mut Call<'_>, db: usize) {
    for key in c.shared.blocking.keys_in(db) {
        c.session.ready.push((db, key));
    }
}

fn flushdb(c: &mut Call<'_>) -> CmdResult {
    flush_mode(c)?;
    c.db().flush();
    let db = c.session.db;
    flushed(c, db);
    c.out.ok();
    Ok(())
}

fn flushall(c: &mut Call<'_>) -> CmdResult {
    flush_mode(c)?;
    for db in c.shared.dbs.all().iter() {
        db.flush();
    }
    for db in 0..c.shared.dbs.len() {
        flushed(c, db);
    }
    c.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefix_stops_at_the_first_special_character() {
        assert_eq!(literal_prefix(b"user:*"), b"user:");
        assert_eq!(literal_prefix(b"a?c"), b"a");
        assert_eq!(literal_prefix(b"x\\*y"), b"x");
        assert_eq!(literal_prefix(b"plain"), b"plain");
        assert_eq!(literal_prefix(b"*"), b"");
    }
}
