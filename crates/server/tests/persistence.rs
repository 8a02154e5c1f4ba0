//! Persistence over the network: what a client was told is written
//! (every type, each changed in place as well as made) survives a restart, a killed process and (under `appendfsync always`) a
//! power cut; SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, SHUTDOWN and INFO
//! answer as Redis 7.0.15 does; a disk that fails turns writes into
//! `-MISCONF` while reads go on, until a snapshot succeeds.
//!
//! Servers here run on a simulated disk (`SimFs`) where a test needs to
//! fail, tear or lose writes, and on a real directory otherwise.

mod common;

use common::{encode, encode_words, Config, Error, Raw, Running, TestResult};
use std::sync::Arc;
use tandem_engine::storage::backend::SimFs;
use tandem_engine::storage::wal::SyncPolicy;
use tandem_server::config::{SaveRules, StorageFs};

fn on(fs: &SimFs, config: Config) -> Config {
    Config {
        fs: StorageFs(Arc::new(fs.clone())),
        dir: "/data".into(),
        ..config
    }
}

fn durable(policy: SyncPolicy) -> Config {
    Config {
        appendonly: true,
        appendfsync: policy,
        ..common::config()
    }
}

/// The reply to `line`, as it came (`:1\r\n`, `$2\r\nok\r\n`, ...).
fn call(c: &mut Raw, line: &str) -> Result<String, Error> {
    Ok(String::from_utf8_lossy(&c.call(&encode_words(line))?).into_owned())
}

fn connect(server: &Running) -> Result<Raw, Error> {
    Raw::connect(server.addr())
}

/// One field of INFO persistence.
fn info(c: &mut Raw, name: &str) -> Result<String, Error> {
    let all = call(c, "INFO persistence")?;
    all.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_string())
        })
        .ok_or_else(|| format!("INFO has no {name}").into())
}

/// A little of everything, in three databases, over one connection.
fn write_everything(c: &mut Raw) -> TestResult {
    for (line, want) in [
        ("SET plain v1", "+OK\r\n"),
        ("SET plain v2", "+OK\r\n"),
        ("INCRBYFLOAT f 1.5", "$3\r\n1.5\r\n"),
        ("APPEND log hello", ":5\r\n"),
        ("SET ttl x PX 3600000", "+OK\r\n"),
        ("MSET m1 a m2 b", "+OK\r\n"),
        ("RENAME m1 renamed", "+OK\r\n"),
        ("DEL m2", ":1\r\n"),
        ("HSET hh a 1 b 2 c 3", ":3\r\n"),
        ("HDEL hh b", ":1\r\n"),
        ("HINCRBY hh n 5", ":5\r\n"),
        ("HSET gone-hash f v", ":1\r\n"),
        ("HDEL gone-hash f", ":1\r\n"),
        ("RPUSH q a b c d", ":4\r\n"),
        ("LPOP q", "$1\r\na\r\n"),
        ("LSET q 0 B", "+OK\r\n"),
        ("LINSERT q BEFORE c x", ":4\r\n"),
        ("LREM q 1 d", ":1\r\n"),
        ("LMOVE q q2 LEFT RIGHT", "$1\r\nB\r\n"),
        ("RPUSH gone-list a", ":1\r\n"),
        ("RPOP gone-list", "$1\r\na\r\n"),
        ("SADD s 1 2 3 x", ":4\r\n"),
        ("SREM s 2", ":1\r\n"),
        ("SMOVE s s2 x", ":1\r\n"),
        ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
        ("ZINCRBY z 10 a", "$2\r\n11\r\n"),
        ("ZREM z b", ":1\r\n"),
        ("ZPOPMIN z", "*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
        ("ZADD z 5 e", ":1\r\n"),
        ("EXPIRE z 3600", ":1\r\n"),
        ("SORT s DESC STORE sorted", ":2\r\n"),
        ("SELECT 3", "+OK\r\n"),
        ("SET in3 three", "+OK\r\n"),
        ("SELECT 5", "+OK\r\n"),
        ("SET gone x", "+OK\r\n"),
        ("FLUSHDB", "+OK\r\n"),
        ("SET after-flush y", "+OK\r\n"),
        ("SWAPDB 0 3", "+OK\r\n"),
        ("SELECT 0", "+OK\r\n"),
    ] {
        c.check(&encode_words(line), want.as_bytes())?;
    }
    c.check(&encode(&[b"SET", b"bin\x00key", b"\x00\xff"]), b"+OK\r\n")
}

/// What `write_everything` left, read back.
fn check_everything(c: &mut Raw) -> TestResult {
    // After SWAPDB 0 3, database 0 holds what was written to 3.
    c.check(&encode_words("GET in3"), b"$5\r\nthree\r\n")?;
    c.check(&encode(&[b"GET", b"bin\x00key"]), b"$2\r\n\x00\xff\r\n")?;
    c.check(&encode_words("SELECT 3"), b"+OK\r\n")?;
    for (line, want) in [
        ("GET plain", "$2\r\nv2\r\n"),
        ("GET f", "$3\r\n1.5\r\n"),
        ("GET log", "$5\r\nhello\r\n"),
        ("GET renamed", "$1\r\na\r\n"),
        ("EXISTS m1 m2", ":0\r\n"),
        (
            "HGETALL hh",
            "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nn\r\n$1\r\n5\r\n",
        ),
        ("TYPE hh", "+hash\r\n"),
        ("EXISTS gone-hash", ":0\r\n"),
        ("LRANGE q 0 -1", "*2\r\n$1\r\nx\r\n$1\r\nc\r\n"),
        ("LRANGE q2 0 -1", "*1\r\n$1\r\nB\r\n"),
        ("LRANGE sorted 0 -1", "*2\r\n$1\r\n3\r\n$1\r\n1\r\n"),
        ("EXISTS gone-list", ":0\r\n"),
        ("SORT s", "*2\r\n$1\r\n1\r\n$1\r\n3\r\n"),
        ("SMEMBERS s2", "*1\r\n$1\r\nx\r\n"),
        (
            "ZRANGE z 0 -1 WITHSCORES",
            "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\na\r\n$2\r\n11\r\n",
        ),
        ("TYPE z", "+zset\r\n"),
        ("SELECT 5", "+OK\r\n"),
        ("DBSIZE", ":1\r\n"),
        ("GET after-flush", "$1\r\ny\r\n"),
        ("SELECT 3", "+OK\r\n"),
    ] {
        c.check(&encode_words(line), want.as_bytes())?;
    }
    let ttl: i64 = call(c, "PTTL ttl")?
        .trim_start_matches(':')
        .trim()
        .parse()?;
    assert!(ttl > 3_000_000 && ttl <= 3_600_000, "PTTL {ttl}");
    let ttl: i64 = call(c, "PTTL z")?.trim_start_matches(':').trim().parse()?;
    assert!(ttl > 3_000_000 && ttl <= 3_600_000, "PTTL z {ttl}");
    Ok(())
}

#[test]
fn a_restart_keeps_every_database_ttls_binary_keys_and_swapdb() -> TestResult {
    let config = durable(SyncPolicy::EverySec);
    let dir = config.dir.clone();
    let server = common::start(config.clone())?;
    write_everything(&mut connect(&server)?)?;
    server.stop()?;
    let server = common::start(Config { dir, ..config })?;
    check_everything(&mut connect(&server)?)
}

#[test]
fn under_everysec_a_killed_process_loses_nothing_acknowledged() -> TestResult {
    let fs = SimFs::new();
    let server = common::start(on(&fs, durable(SyncPolicy::EverySec)))?;
    write_everything(&mut connect(&server)?)?;
    // kill -9: the page cache keeps what was written, nothing is synced
    // or saved on the way out.
    let after = fs.kill();
    let restarted = common::start(on(&after, durable(SyncPolicy::EverySec)))?;
    check_everything(&mut connect(&restarted)?)?;
    drop(server);
    Ok(())
}

#[test]
fn under_always_a_power_cut_loses_nothing_acknowledged() -> TestResult {
    let fs = SimFs::new();
    let server = common::start(on(&fs, durable(SyncPolicy::Always)))?;
    // Four clients, each pipelining 50 SETs: each reply leaves only after
    // the sync that covers it.
    let mut clients: Vec<Raw> = (0..4).map(|_| connect(&server)).collect::<Result<_, _>>()?;
    for (n, c) in clients.iter_mut().enumerate() {
        let mut batch = Vec::new();
        for i in 0..50 {
            batch.extend(encode_words(&format!("SET c{n}:{i} v{i}")));
        }
        c.send(&batch)?;
    }
    for c in &mut clients {
        for reply in c.replies(50)? {
            assert_eq!(reply, b"+OK\r\n");
        }
    }
    for seed in 0..5 {
        let after = fs.crash(seed);
        let restarted = common::start(on(&after, durable(SyncPolicy::Always)))?;
        let mut c = connect(&restarted)?;
        c.check(&encode_words("DBSIZE"), b":200\r\n")?;
        c.check(&encode_words("GET c3:49"), b"$3\r\nv49\r\n")?;
    }
    let mut c = connect(&server)?;
    let fsyncs: u64 = info(&mut c, "aof_fsyncs")?.parse()?;
    let records: u64 = info(&mut c, "aof_records")?.parse()?;
    assert_eq!(records, 200);
    assert!(
        fsyncs >= 1 && fsyncs <= records,
        "{fsyncs} syncs for {records} records"
    );
    Ok(())
}

#[test]
fn save_bgsave_bgrewriteaof_lastsave_and_info_answer_as_redis() -> TestResult {
    let server = common::start(durable(SyncPolicy::EverySec))?;
    let mut c = connect(&server)?;
    assert_eq!(info(&mut c, "aof_enabled")?, "1");
    assert_eq!(info(&mut c, "rdb_saves")?, "0");
    let before: u64 = call(&mut c, "LASTSAVE")?
        .trim_start_matches(':')
        .trim()
        .parse()?;
    c.check(&encode_words("SET k v"), b"+OK\r\n")?;
    assert_eq!(info(&mut c, "rdb_changes_since_last_save")?, "1");
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    assert_eq!(info(&mut c, "rdb_saves")?, "1");
    assert_eq!(info(&mut c, "rdb_changes_since_last_save")?, "0");
    assert_eq!(info(&mut c, "rdb_last_bgsave_status")?, "ok");
    let after: u64 = call(&mut c, "LASTSAVE")?
        .trim_start_matches(':')
        .trim()
        .parse()?;
    assert!(after >= before);
    c.check(&encode_words("BGSAVE foo"), b"-ERR syntax error\r\n")?;
    c.check(&encode_words("BGSAVE"), b"+Background saving started\r\n")?;
    common::eventually("the BGSAVE", || {
        Ok(info(&mut c, "rdb_saves")? == "2" && info(&mut c, "rdb_bgsave_in_progress")? == "0")
    })?;
    c.check(
        &encode_words("BGREWRITEAOF"),
        b"+Background append only file rewriting started\r\n",
    )?;
    common::eventually("the rewrite", || {
        Ok(info(&mut c, "aof_rewrites")? == "1" && info(&mut c, "aof_rewrite_in_progress")? == "0")
    })?;
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status")?, "ok");
    c.check(&encode_words("MULTI"), b"+OK\r\n")?;
    c.check(
        &encode_words("SAVE"),
        b"-ERR Command not allowed inside a transaction\r\n",
    )?;
    Ok(())
}

#[test]
fn a_failed_log_write_refuses_writes_until_a_snapshot_succeeds() -> TestResult {
    let fs = SimFs::new();
    let server = common::start(on(&fs, durable(SyncPolicy::EverySec)))?;
    let mut c = connect(&server)?;
    c.check(&encode_words("SET before ok"), b"+OK\r\n")?;
    fs.fail_write(1);
    // The write is applied but cannot be logged: no reply is sent.
    c.send(&encode_words("SET lost x"))?;
    assert!(c.closed_within(common::TIMEOUT)?);
    let mut c = connect(&server)?;
    let refused = call(&mut c, "SET after x")?;
    assert!(
        refused.starts_with("-MISCONF Errors writing to the AOF file: "),
        "{refused}"
    );
    assert!(call(&mut c, "PING")?.starts_with("-MISCONF"));
    c.check(&encode_words("GET before"), b"$2\r\nok\r\n")?;
    assert_eq!(info(&mut c, "aof_last_write_status")?, "err");
    c.check(
        &encode_words("BGREWRITEAOF"),
        b"+Background append only file rewriting started\r\n",
    )?;
    common::eventually("the rewrite", || Ok(info(&mut c, "aof_rewrites")? == "1"))?;
    assert_eq!(info(&mut c, "aof_last_write_status")?, "ok");
    c.check(&encode_words("SET after x"), b"+OK\r\n")?;
    // The snapshot holds what was in memory, the unacknowledged write too.
    let restarted = common::start(on(&fs.kill(), durable(SyncPolicy::EverySec)))?;
    let mut r = connect(&restarted)?;
    c.check(&encode_words("GET lost"), b"$1\r\nx\r\n")?;
    r.check(
        &encode_words("MGET before lost after"),
        b"*3\r\n$2\r\nok\r\n$1\r\nx\r\n$1\r\nx\r\n",
    )?;
    Ok(())
}

#[test]
fn a_failed_background_save_refuses_writes_under_stop_writes_on_bgsave_error() -> TestResult {
    let fs = SimFs::new();
    let server = common::start(on(&fs, common::config()))?;
    let mut c = connect(&server)?;
    c.check(&encode_words("SET k v"), b"+OK\r\n")?;
    fs.fail_write(1);
    c.check(&encode_words("BGSAVE"), b"+Background saving started\r\n")?;
    common::eventually("the failed BGSAVE", || {
        Ok(info(&mut c, "rdb_last_bgsave_status")? == "err")
    })?;
    let refused = call(&mut c, "SET k2 v")?;
    assert_eq!(refused, "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n");
    c.check(
        &encode_words("CONFIG SET stop-writes-on-bgsave-error no"),
        b"+OK\r\n",
    )?;
    c.check(&encode_words("SET k2 v"), b"+OK\r\n")?;
    c.check(
        &encode_words("CONFIG SET stop-writes-on-bgsave-error yes"),
        b"+OK\r\n",
    )?;
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    c.check(&encode_words("SET k3 v"), b"+OK\r\n")?;
    Ok(())
}

#[test]
fn shutdown_saves_when_redis_would() -> TestResult {
    let fs = SimFs::new();
    let snapshots_only = on(&fs, common::config());
    let restart = |fs: &SimFs| common::start(on(fs, common::config()));
    // NOSAVE: nothing was ever saved, so nothing comes back.
    let server = common::start(snapshots_only.clone())?;
    let mut c = connect(&server)?;
    c.check(&encode_words("SET a 1"), b"+OK\r\n")?;
    c.send(&encode_words("SHUTDOWN NOSAVE"))?;
    assert!(c.closed_within(common::TIMEOUT)?);
    drop(server);
    let fs = fs.kill();
    let server = restart(&fs)?;
    let mut c = connect(&server)?;
    c.check(&encode_words("EXISTS a"), b":0\r\n")?;
    // With save rules set, SHUTDOWN saves.
    c.check(&encode_words("SET b 2"), b"+OK\r\n")?;
    c.send(&encode_words("SHUTDOWN"))?;
    assert!(c.closed_within(common::TIMEOUT)?);
    drop(server);
    let after = fs.crash(1);
    let no_rules = Config {
        save: SaveRules(Vec::new()),
        ..on(&after, common::config())
    };
    let server = common::start(no_rules.clone())?;
    let mut c = connect(&server)?;
    c.check(&encode_words("GET b"), b"$1\r\n2\r\n")?;
    // Without rules it does not, unless asked with SAVE.
    c.check(&encode_words("SET c 3"), b"+OK\r\n")?;
    c.send(&encode_words("SHUTDOWN"))?;
    assert!(c.closed_within(common::TIMEOUT)?);
    drop(server);
    let server = common::start(Config {
        fs: StorageFs(Arc::new(after.crash(2))),
        ..no_rules
    })?;
    let mut c = connect(&server)?;
    c.check(&encode_words("EXISTS c"), b":0\r\n")?;
    c.check(&encode_words("SET d 4"), b"+OK\r\n")?;
    c.send(&encode_words("SHUTDOWN SAVE"))?;
    assert!(c.closed_within(common::TIMEOUT)?);
    Ok(())
}

#[test]
fn config_set_appendonly_yes_starts_the_log_from_a_fresh_snapshot() -> TestResult {
    let fs = SimFs::new();
    let config = Config {
        save: SaveRules(Vec::new()),
        ..on(&fs, common::config())
    };
    let server = common::start(config.clone())?;
    let mut c = connect(&server)?;
    c.check(&encode_words("SET before-log 1"), b"+OK\r\n")?;
    assert_eq!(info(&mut c, "aof_enabled")?, "0");
    c.check(&encode_words("CONFIG SET appendonly yes"), b"+OK\r\n")?;
    common::eventually("the log to start", || {
        Ok(info(&mut c, "aof_enabled")? == "1")
    })?;
    c.check(
        &encode_words("CONFIG GET appendonly"),
        b"*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n",
    )?;
    c.check(&encode_words("SET after-log 2"), b"+OK\r\n")?;
    let restarted = common::start(on(&fs.kill(), config))?;
    let mut r = connect(&restarted)?;
    r.check(
        &encode_words("MGET before-log after-log"),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
    )?;
    Ok(())
}

#[test]
fn debug_reload_saves_empties_and_loads_back() -> TestResult {
    let server = common::start(Config {
        enable_debug_command: tandem_server::config::Allowed::Yes,
        ..durable(SyncPolicy::EverySec)
    })?;
    let mut c = connect(&server)?;
    write_everything(&mut c)?;
    c.check(&encode_words("DEBUG RELOAD"), b"+OK\r\n")?;
    check_everything(&mut c)?;
    c.check(&encode_words("SELECT 0"), b"+OK\r\n")?;
    // NOSAVE: what was never saved or logged... is logged here, so it
    // comes back too; NOFLUSH keeps keys the disk does not have.
    c.check(
        &encode_words("DEBUG RELOAD BOGUS"),
        b"-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n",
    )?;
    c.check(&encode_words("SET later 1"), b"+OK\r\n")?;
    c.check(&encode_words("DEBUG RELOAD NOSAVE"), b"+OK\r\n")?;
    c.check(&encode_words("GET later"), b"$1\r\n1\r\n")?;
    check_everything(&mut c)?;
    Ok(())
}

#[test]
fn commands_arriving_while_the_data_loads_get_loading() -> TestResult {
    // A server whose data takes a while to load: 200,000 keys.
    let fs = SimFs::new();
    let config = on(&fs, durable(SyncPolicy::No));
    {
        let server = common::start(config.clone())?;
        let mut c = connect(&server)?;
        for chunk in 0..200 {
            let mut batch = Vec::new();
            for i in 0..1000 {
                batch.extend(encode_words(&format!("SET key:{chunk}:{i} value")));
            }
            c.send(&batch)?;
            for reply in c.replies(1000)? {
                assert_eq!(reply, b"+OK\r\n");
            }
        }
    }
    // Served while it loads: `Server::run` loads on a thread of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let server = runtime.block_on(tandem_server::Server::bind(Config { port: 0, ..config }))?;
    let addr = server.local_addr()?;
    let handle = server.shutdown_handle();
    let thread = std::thread::spawn(move || runtime.block_on(server.run()));
    let mut c = Raw::connect(addr)?;
    let first = call(&mut c, "GET key:0:0")?;
    // Either it is still loading, or (a fast machine) it is done: both
    // are Redis's replies; INFO, allowed while loading, says which.
    assert!(
        first == "-LOADING Redis is loading the dataset in memory\r\n"
            || first == "$5\r\nvalue\r\n",
        "{first}"
    );
    common::eventually("the load", || Ok(info(&mut c, "loading")? == "0"))?;
    c.check(&encode_words("GET key:199:999"), b"$5\r\nvalue\r\n")?;
    c.check(&encode_words("DBSIZE"), b":200000\r\n")?;
    assert_eq!(info(&mut c, "rdb_last_load_keys_loaded")?, "200000");
    handle.shutdown();
    thread.join().map_err(|_| "server thread panicked")??;
    Ok(())
}

#[test]
fn snapshots_under_a_write_load_and_flushall_survive_a_restart() -> TestResult {
    let config = durable(SyncPolicy::EverySec);
    let server = common::start(config.clone())?;
    let mut c = connect(&server)?;
    for db in ["0", "7"] {
        c.check(&encode_words(&format!("SELECT {db}")), b"+OK\r\n")?;
        c.check(&encode_words("SET flushed x"), b"+OK\r\n")?;
    }
    c.check(&encode_words("FLUSHALL"), b"+OK\r\n")?;
    c.check(&encode_words("SELECT 0"), b"+OK\r\n")?;
    // Four writers, each on its own keys, while SAVE, BGSAVE and
    // BGREWRITEAOF run; each writer's last value per key is what must
    // come back.
    let addr = server.addr();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            std::thread::spawn(move || -> Result<Vec<(String, String)>, String> {
                let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
                let mut last = std::collections::BTreeMap::new();
                for i in 0..3000 {
                    let key = format!("w{w}:{}", i % 100);
                    let value = format!("{i}");
                    c.check(&encode_words(&format!("SET {key} {value}")), b"+OK\r\n")
                        .map_err(|e| e.to_string())?;
                    last.insert(key, value);
                }
                Ok(last.into_iter().collect())
            })
        })
        .collect();
    c.check(&encode_words("BGSAVE"), b"+Background saving started\r\n")?;
    common::eventually("the BGSAVE", || {
        Ok(info(&mut c, "rdb_bgsave_in_progress")? == "0")
    })?;
    c.check(&encode_words("SAVE"), b"+OK\r\n")?;
    c.check(
        &encode_words("BGREWRITEAOF"),
        b"+Background append only file rewriting started\r\n",
    )?;
    let mut expected = Vec::new();
    for w in writers {
        expected.extend(w.join().map_err(|_| "writer panicked")??);
    }
    common::eventually("the rewrite", || {
        Ok(info(&mut c, "aof_rewrite_in_progress")? == "0")
    })?;
    server.stop()?;
    let server = common::start(config)?;
    let mut c = connect(&server)?;
    c.check(&encode_words("DBSIZE"), b":400\r\n")?;
    for (key, value) in expected {
        let want = format!("${}\r\n{value}\r\n", value.len());
        c.check(&encode_words(&format!("GET {key}")), want.as_bytes())?;
    }
    c.check(&encode_words("SELECT 7"), b"+OK\r\n")?;
    c.check(&encode_words("DBSIZE"), b":0\r\n")?;
    Ok(())
}
