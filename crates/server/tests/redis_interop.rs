//! Tandem beside a real redis-server 7.0 (Debian's), started by each
//! test: DUMP payloads restored both ways, and RDB files Redis wrote
//! imported with `--import`, for every type in every encoding Redis 7.0
//! writes, deadlines, databases past 0 and function libraries.
//!
//! Without redis-server installed these tests say so and pass, unless
//! `TANDEM_REQUIRE_REDIS` is set, as CI sets it (`common::redis`).

mod common;

use common::redis::Redis;
use common::{encode, encode_words, Raw, TestResult};
use tandem_bench::resp::{parse, Reply};

/// Keys of every type, in every encoding Redis 7.0 has for it (small and
/// big, a list of several nodes and one with a plain node), with and
/// without deadlines, binary names and values, keys in database 3, and a
/// function library.
fn fill(c: &mut Raw) -> TestResult {
    let mut run = |args: Vec<Vec<u8>>| -> TestResult {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let reply = c.call(&encode(&refs))?;
        if reply.starts_with(b"-") {
            return Err(
                format!("{}: {}", common::text(&refs.concat()), common::text(&reply)).into(),
            );
        }
        Ok(())
    };
    let words = |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|w| w.as_bytes().to_vec()).collect() };
    for line in [
        "SET str hello",
        "SET int 12345",
        "SET bigint 12345678901234",
        "SET neg -7",
        "RPUSH list a 1 -1 300 hello 70000 -70000 5000000000",
        "SADD intset 5 -3 100000 7",
        "SADD set x y 1",
        "HSET hash f1 v1 n 42",
        "ZADD zset 1.5 a -2 b 1e300 c 3 d",
        "ZADD infzset -inf lo +inf hi 0 z",
        "SET ttl v PX 5000000",
        "HSET ttlhash f v",
        "PEXPIRE ttlhash 7000000",
        "CONFIG SET list-max-listpack-size 4",
        "RPUSH chunked 0 1 2 3 4 5 6 7 8 9",
        "CONFIG SET list-max-listpack-size -2",
        "CONFIG SET stream-node-max-entries 3",
        "XADD stream 1-0 f 1 g hello",
        "XADD stream 2-5 f 70000 g -3",
        "XADD stream 3-0 other 5000000000",
        "XADD stream 4-0 f x g y",
        "XADD stream 5-1 f x g y",
        "XADD stream 9-0 f x g y",
        "XDEL stream 2-5 4-0",
        "XGROUP CREATE stream grp 0",
        "XGROUP CREATE stream late $ ENTRIESREAD 3",
        "XREADGROUP GROUP grp alice COUNT 2 STREAMS stream >",
        "XREADGROUP GROUP grp bob COUNT 1 STREAMS stream >",
        "XGROUP CREATECONSUMER stream late idle",
        "XADD emptystream 1-0 f v",
        "XDEL emptystream 1-0",
        "XGROUP CREATE made g $ MKSTREAM",
        "CONFIG SET stream-node-max-entries 100",
        "SELECT 3",
        "SET db3key x",
        "HSET db3hash a b",
        "SELECT 0",
    ] {
        run(words(line))?;
    }
    run(vec![b"SET".to_vec(), b"lzf".to_vec(), b"abc".repeat(40)])?;
    run(vec![b"SET".to_vec(), b"empty".to_vec(), Vec::new()])?;
    run(vec![
        b"SET".to_vec(),
        b"bin\x00\xff".to_vec(),
        b"\x00\x01\xfe\xff".to_vec(),
    ])?;
    run(vec![
        b"RPUSH".to_vec(),
        b"plainlist".to_vec(),
        b"x".repeat(9000),
        b"small".to_vec(),
    ])?;
    let mut big = |cmd: &str, key: &str, n: usize, item: &dyn Fn(usize) -> Vec<Vec<u8>>| {
        let mut args = vec![cmd.as_bytes().to_vec(), key.as_bytes().to_vec()];
        for i in 0..n {
            args.extend(item(i));
        }
        run(args)
    };
    big("RPUSH", "biglist", 400, &|i| {
        vec![format!("e{i}").repeat(3).into_bytes()]
    })?;
    big("SADD", "bigset", 600, &|i| vec![i.to_string().into_bytes()])?;
    big("SADD", "bigstrset", 300, &|i| {
        vec![format!("m{i}").into_bytes()]
    })?;
    big("HSET", "bighash", 200, &|i| {
        vec![format!("f{i}").into_bytes(), format!("v{i}").into_bytes()]
    })?;
    big("HSET", "longhash", 1, &|_| {
        vec![b"f".to_vec(), b"x".repeat(100)]
    })?;
    big("ZADD", "bigzset", 200, &|i| {
        vec![
            format!("{}", i as f64 / 7.0).into_bytes(),
            format!("m{i}").into_bytes(),
        ]
    })?;
    run(vec![
        b"FUNCTION".to_vec(),
        b"LOAD".to_vec(),
        b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)".to_vec(),
    ])?;
    Ok(())
}

/// A reply's elements, as byte strings (an array of bulks).
fn elements(reply: &[u8]) -> Result<Vec<Vec<u8>>, common::Error> {
    let (r, _) = parse(reply)?.ok_or("a complete reply")?;
    let Reply::Array(Some(items)) = r else {
        return Err(format!("not an array: {}", common::text(reply)).into());
    };
    Ok(items
        .iter()
        .map(|i| match i {
            Reply::Bulk(Some(b)) => b.to_vec(),
            _ => Vec::new(),
        })
        .collect())
}

/// Everything a client can see of `key`, the same on both servers when
/// the key is: type, encoding, absolute deadline, and the value (a set's
/// members and a hash's pairs sorted, their order being the table's).
fn describe(c: &mut Raw, key: &[u8]) -> Result<String, common::Error> {
    let ty = c.call(&encode(&[b"TYPE", key]))?;
    let enc = c.call(&encode(&[b"OBJECT", b"ENCODING", key]))?;
    let deadline = c.call(&encode(&[b"PEXPIRETIME", key]))?;
    let value = match &ty[..] {
        b"+string\r\n" => c.call(&encode(&[b"GET", key]))?,
        b"+list\r\n" => c.call(&encode(&[b"LRANGE", key, b"0", b"-1"]))?,
        b"+zset\r\n" => c.call(&encode(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]))?,
        b"+set\r\n" => {
            let mut m = elements(&c.call(&encode(&[b"SMEMBERS", key]))?)?;
            m.sort();
            m.concat()
        }
        b"+hash\r\n" => {
            let flat = elements(&c.call(&encode(&[b"HGETALL", key]))?)?;
            let mut pairs: Vec<Vec<u8>> = flat.chunks(2).map(<[Vec<u8>]>::concat).collect();
            pairs.sort();
            pairs.concat()
        }
        // Times included: a restored stream keeps its groups' times.
        b"+stream\r\n" => c.call(&encode(&[
            b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0",
        ]))?,
        other => other.to_vec(),
    };
    Ok(format!(
        "{} {} {} {}",
        common::text(&ty),
        common::text(&enc),
        common::text(&deadline),
        common::text(&value)
    ))
}

/// Every key of the selected database, sorted.
fn keys(c: &mut Raw) -> Result<Vec<Vec<u8>>, common::Error> {
    let mut k = elements(&c.call(&encode_words("KEYS *"))?)?;
    k.sort();
    Ok(k)
}

/// Every database `a` holds keys in reads the same on `b`.
fn same_data(a: &mut Raw, b: &mut Raw) -> TestResult {
    for db in ["0", "3"] {
        a.check(&encode(&[b"SELECT", db.as_bytes()]), b"+OK\r\n")?;
        b.check(&encode(&[b"SELECT", db.as_bytes()]), b"+OK\r\n")?;
        let names = keys(a)?;
        assert!(!names.is_empty(), "db {db} has keys");
        assert_eq!(keys(b)?, names, "db {db}");
        for k in &names {
            assert_eq!(describe(b, k)?, describe(a, k)?, "{}", common::text(k));
        }
    }
    a.check(&encode_words("SELECT 0"), b"+OK\r\n")?;
    b.check(&encode_words("SELECT 0"), b"+OK\r\n")?;
    let list = encode_words("FUNCTION LIST WITHCODE");
    assert_eq!(common::text(&b.call(&list)?), common::text(&a.call(&list)?));
    Ok(())
}

/// Every key Redis holds, dumped there and restored in Tandem, reads the
/// same; dumped back from Tandem and restored in Redis, it reads the same
/// as the original there.
#[test]
fn dump_and_restore_round_trip_with_redis() -> TestResult {
    let Some(redis) = Redis::start(&[])? else {
        return Ok(());
    };
    let mut r = redis.connect()?;
    fill(&mut r)?;
    let server = common::start_default()?;
    let mut t = Raw::connect(server.addr())?;
    for key in keys(&mut r)? {
        let payload = r.call(&encode(&[b"DUMP", &key]))?;
        let payload = elements(&[b"*1\r\n".as_slice(), &payload].concat())?.concat();
        let deadline = r.call(&encode(&[b"PEXPIRETIME", &key]))?;
        let deadline = String::from_utf8_lossy(&deadline)
            .trim_start_matches(':')
            .trim()
            .to_owned();
        let (ttl, abs): (&[u8], &[u8]) = if deadline.starts_with('-') {
            (b"0", b"REPLACE")
        } else {
            (deadline.as_bytes(), b"ABSTTL")
        };
        t.check(&encode(&[b"RESTORE", &key, ttl, &payload, abs]), b"+OK\r\n")?;
        assert_eq!(
            describe(&mut t, &key)?,
            describe(&mut r, &key)?,
            "{}",
            common::text(&key)
        );

        let back = t.call(&encode(&[b"DUMP", &key]))?;
        let back = elements(&[b"*1\r\n".as_slice(), &back].concat())?.concat();
        let copy = [b"back:".as_slice(), &key].concat();
        r.check(&encode(&[b"RESTORE", &copy, ttl, &back, abs]), b"+OK\r\n")?;
        let (orig, copied) = (describe(&mut r, &key)?, describe(&mut r, &copy)?);
        assert_eq!(copied, orig, "{} back in Redis", common::text(&key));
    }
    Ok(())
}

/// An RDB file Redis saved, imported at start-up, reads the same as Redis
/// does, and is still there after a restart without `--import`, from
/// Tandem's own files. With compression and checksums off as well.
#[test]
fn imports_an_rdb_file_redis_wrote() -> TestResult {
    for (logged, config) in [
        (false, &[("enable-debug-command", "yes")][..]),
        (
            true,
            &[
                ("enable-debug-command", "yes"),
                ("rdbcompression", "no"),
                ("rdbchecksum", "no"),
            ][..],
        ),
    ] {
        let Some(redis) = Redis::start(config)? else {
            return Ok(());
        };
        let mut r = redis.connect()?;
        fill(&mut r)?;
        // A key whose deadline has passed when Redis saves (active expiry
        // off, the server held past it): in the file, and left out.
        r.check(&encode_words("DEBUG SET-ACTIVE-EXPIRE 0"), b"+OK\r\n")?;
        r.check(&encode_words("SET gone v PX 1"), b"+OK\r\n")?;
        r.check(&encode_words("DEBUG SLEEP 0.01"), b"+OK\r\n")?;
        r.check(&encode_words("SAVE"), b"+OK\r\n")?;
        let saved = std::fs::read(redis.rdb_path())?;
        assert!(
            saved.windows(4).any(|w| w == b"gone"),
            "the expired key is in the file"
        );
        let dir = common::data_dir();
        let config = common::Config {
            dir: dir.clone(),
            import: Some(redis.rdb_path()),
            appendonly: logged,
            ..common::config()
        };
        let server = common::start(config)?;
        let mut t = Raw::connect(server.addr())?;
        same_data(&mut r, &mut t)?;
        // DBSIZE counts a key kept past its deadline; `gone` was left out.
        let live = keys(&mut r)?.len();
        t.check(&encode_words("DBSIZE"), format!(":{live}\r\n").as_bytes())?;
        server.stop()?;

        let server = common::start(common::Config {
            dir,
            appendonly: logged,
            ..common::config()
        })?;
        let mut t = Raw::connect(server.addr())?;
        same_data(&mut r, &mut t)?;
    }
    Ok(())
}

/// An import into a store that holds keys is refused, and the server
/// does not start: a restart that kept `--import` cannot put an old file
/// over newer data.
#[test]
fn an_import_into_a_store_with_keys_is_refused() -> TestResult {
    let Some(redis) = Redis::start(&[])? else {
        return Ok(());
    };
    let mut r = redis.connect()?;
    r.check(&encode_words("SET k from-redis"), b"+OK\r\n")?;
    r.check(&encode_words("SAVE"), b"+OK\r\n")?;
    let dir = common::data_dir();
    let server = common::start(common::Config {
        dir: dir.clone(),
        ..common::config()
    })?;
    let mut t = Raw::connect(server.addr())?;
    t.check(&encode_words("SET k newer"), b"+OK\r\n")?;
    t.check(&encode_words("SAVE"), b"+OK\r\n")?;
    server.stop()?;
    let refused = common::start(common::Config {
        dir: dir.clone(),
        import: Some(redis.rdb_path()),
        ..common::config()
    });
    let why = refused.err().ok_or("the import was refused")?.to_string();
    assert!(why.contains("refusing to import"), "{why}");
    let server = common::start(common::Config {
        dir,
        ..common::config()
    })?;
    let mut t = Raw::connect(server.addr())?;
    t.check(&encode_words("GET k"), b"$5\r\nnewer\r\n")?;
    Ok(())
}

/// An import that fails part way (a key in database 20, past Tandem's
/// 16, after more keys than one batch, so one batch went in) leaves
/// nothing behind, with the log on: the keys before it were never
/// logged, so the store is as empty as before and the import can run
/// again once the setting is right.
#[test]
fn a_failed_import_leaves_the_store_empty() -> TestResult {
    let Some(redis) = Redis::start(&[("databases", "32"), ("enable-debug-command", "yes")])? else {
        return Ok(());
    };
    let mut r = redis.connect()?;
    fill(&mut r)?;
    r.check(&encode_words("DEBUG POPULATE 100000 key 8"), b"+OK\r\n")?;
    r.check(&encode_words("SELECT 20"), b"+OK\r\n")?;
    r.check(&encode_words("SET far away"), b"+OK\r\n")?;
    r.check(&encode_words("SAVE"), b"+OK\r\n")?;
    let dir = common::data_dir();
    let refused = common::start(common::Config {
        dir: dir.clone(),
        appendonly: true,
        import: Some(redis.rdb_path()),
        ..common::config()
    });
    let why = refused.err().ok_or("the import failed")?.to_string();
    assert!(why.contains("database 20"), "{why}");
    let server = common::start(common::Config {
        dir: dir.clone(),
        appendonly: true,
        ..common::config()
    })?;
    let mut t = Raw::connect(server.addr())?;
    t.check(&encode_words("DBSIZE"), b":0\r\n")?;
    server.stop()?;
    let server = common::start(common::Config {
        dir,
        appendonly: true,
        databases: 32,
        import: Some(redis.rdb_path()),
        ..common::config()
    })?;
    let mut t = Raw::connect(server.addr())?;
    t.check(&encode_words("SELECT 20"), b"+OK\r\n")?;
    t.check(&encode_words("GET far"), b"$4\r\naway\r\n")?;
    Ok(())
}

/// A file with one byte changed is refused with where and why, and the
/// server does not start.
#[test]
fn a_corrupt_rdb_file_is_refused() -> TestResult {
    let Some(redis) = Redis::start(&[])? else {
        return Ok(());
    };
    let mut r = redis.connect()?;
    fill(&mut r)?;
    r.check(&encode_words("SAVE"), b"+OK\r\n")?;
    let mut bytes = std::fs::read(redis.rdb_path())?;
    let middle = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(middle) {
        *b ^= 0x55;
    }
    let bad = redis.dir.join("bad.rdb");
    std::fs::write(&bad, &bytes)?;
    let refused = common::start(common::Config {
        import: Some(bad),
        ..common::config()
    });
    let why = refused.err().ok_or("the import was refused")?.to_string();
    assert!(why.contains("bad.rdb: at byte"), "{why}");
    Ok(())
}

/// A file of more keys than one import batch (65,536) loads whole: Redis's
/// DEBUG POPULATE keys, a share with deadlines.
#[test]
fn a_large_file_imports_in_batches() -> TestResult {
    let Some(redis) = Redis::start(&[("enable-debug-command", "yes")])? else {
        return Ok(());
    };
    let mut r = redis.connect()?;
    r.check(&encode_words("DEBUG POPULATE 200000 key 8"), b"+OK\r\n")?;
    for i in (0..200_000).step_by(1000) {
        r.check(
            &encode_words(&format!("PEXPIRE key:{i} 9000000")),
            b":1\r\n",
        )?;
    }
    r.check(&encode_words("SAVE"), b"+OK\r\n")?;
    let server = common::start(common::Config {
        import: Some(redis.rdb_path()),
        ..common::config()
    })?;
    let mut t = Raw::connect(server.addr())?;
    t.check(&encode_words("DBSIZE"), b":200000\r\n")?;
    for i in (0..200_000).step_by(9973) {
        let key = format!("key:{i}");
        assert_eq!(
            describe(&mut t, key.as_bytes())?,
            describe(&mut r, key.as_bytes())?,
            "{key}"
        );
    }
    Ok(())
}

/// A file naming one key twice in a database is refused, as Redis's
/// loader refuses it, whichever batch each copy falls in.
#[test]
fn a_key_twice_in_a_file_is_refused() -> TestResult {
    use crc::{Crc, CRC_64_REDIS};
    for gap in [0usize, 70_000] {
        let mut f = b"REDIS0010".to_vec();
        let string = |f: &mut Vec<u8>, key: &[u8]| {
            f.push(0);
            f.push(key.len() as u8);
            f.extend_from_slice(key);
            f.extend_from_slice(b"\x01v");
        };
        string(&mut f, b"twice");
        for i in 0..gap {
            string(&mut f, format!("k{i}").as_bytes());
        }
        string(&mut f, b"twice");
        f.push(0xff);
        let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        let dir = common::data_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("twice.rdb");
        std::fs::write(&path, &f)?;
        let refused = common::start(common::Config {
            import: Some(path),
            ..common::config()
        });
        let why = refused.err().ok_or("the import was refused")?.to_string();
        assert!(why.contains("'twice' appears twice"), "{why}");
    }
    Ok(())
}
