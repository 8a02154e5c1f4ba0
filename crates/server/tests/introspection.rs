//! Introspection over the network: INFO (every section's format, the
//! counters of commandstats and errorstats, keyspace, Tandem's shards
//! section), COMMAND (COUNT, LIST, INFO, DOCS, GETKEYS and
//! GETKEYSANDFLAGS agreeing with one another and with Redis), MEMORY
//! USAGE, OBJECT, TIME, LASTSAVE and DEBUG (SLEEP, RESIZE).
//!
//! Replies written as bytes were recorded from Redis 7.0.15 running the
//! same requests; a difference is a difference from Redis.

mod common;

use common::{Error, Raw, Running, TestResult};
use redis::{Connection, ConnectionLike, Value};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A client connection (RESP2).
fn connect(server: &Running) -> Result<Connection, Error> {
    let client = redis::Client::open(format!("redis://{}/", server.addr()))?;
    let con = client.get_connection_with_timeout(common::TIMEOUT)?;
    con.set_read_timeout(Some(common::TIMEOUT))?;
    con.set_write_timeout(Some(common::TIMEOUT))?;
    Ok(con)
}

/// Runs a request given as space-separated words; server errors are
/// replies here.
fn run(con: &mut Connection, line: &str) -> Result<Value, Error> {
    let mut words = line.split_whitespace();
    let mut cmd = redis::cmd(words.next().ok_or("empty request")?);
    for w in words {
        cmd.arg(w);
    }
    Ok(con.req_command(&cmd)?)
}

/// The text of a bulk string reply (or the code and detail of an error).
fn text(v: &Value) -> Result<String, Error> {
    match v {
        Value::BulkString(b) => Ok(String::from_utf8(b.clone())?),
        Value::SimpleString(s) => Ok(s.clone()),
        Value::Okay => Ok("OK".into()),
        Value::ServerError(e) => Ok(format!("-{} {}", e.code(), e.details().unwrap_or(""))),
        other => Err(format!("not a string: {other:?}").into()),
    }
}

fn int(v: &Value) -> Result<i64, Error> {
    match v {
        Value::Int(n) => Ok(*n),
        other => Err(format!("not an integer: {other:?}").into()),
    }
}

fn array(v: Value) -> Result<Vec<Value>, Error> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        other => Err(format!("not an array: {other:?}").into()),
    }
}

/// INFO's text parsed as Redis's clients parse it: sections of
/// `field:value` lines, each line ending in `\r\n`, one blank line
/// between sections. Fails on anything else.
fn parse_info(text: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, Error> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if text.is_empty() {
        return Ok(sections);
    }
    let body = text.strip_suffix("\r\n").ok_or("INFO must end in \\r\\n")?;
    let mut current: Option<String> = None;
    let mut previous_blank = false;
    for line in body.split("\r\n") {
        if line.contains('\n') || line.contains('\r') {
            return Err(format!("a bare line break in {line:?}").into());
        }
        if line.is_empty() {
            if previous_blank || current.is_none() {
                return Err("two blank lines, or a blank line first".into());
            }
            previous_blank = true;
            current = None;
            continue;
        }
        previous_blank = false;
        if let Some(title) = line.strip_prefix("# ") {
            if current.is_some() {
                return Err(format!("section {title} without a blank line before").into());
            }
            let name = title.to_ascii_lowercase();
            if sections.insert(name.clone(), BTreeMap::new()).is_some() {
                return Err(format!("section {title} twice").into());
            }
            current = Some(name);
            continue;
        }
        let section = current
            .as_ref()
            .ok_or(format!("{line:?} outside a section"))?;
        let (key, value) = line.split_once(':').ok_or(format!("no ':' in {line:?}"))?;
        let key_ok = !key.is_empty()
            && key.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b"_|.".contains(&b)
                    || b.is_ascii_uppercase()
            });
        if !key_ok {
            return Err(format!("bad field name in {line:?}").into());
        }
        let fields = sections.get_mut(section).ok_or("no section")?;
        if fields.insert(key.to_string(), value.to_string()).is_some() {
            return Err(format!("field {key} twice").into());
        }
    }
    Ok(sections)
}

fn info(
    con: &mut Connection,
    sections: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, Error> {
    let reply = run(con, &format!("INFO {sections}"))?;
    parse_info(&text(&reply)?)
}

/// A `k=v,k=v` value (keyspace, commandstats) as a map.
fn subfields(value: &str) -> Result<BTreeMap<String, String>, Error> {
    value
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').ok_or(format!("no '=' in {kv:?}"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

fn field<'a>(
    info: &'a BTreeMap<String, BTreeMap<String, String>>,
    section: &str,
    name: &str,
) -> Result<&'a str, Error> {
    Ok(info
        .get(section)
        .ok_or(format!("no section {section}"))?
        .get(name)
        .ok_or(format!("no {name} in {section}"))?)
}

fn number(
    info: &BTreeMap<String, BTreeMap<String, String>>,
    section: &str,
    name: &str,
) -> Result<u64, Error> {
    Ok(field(info, section, name)?.parse()?)
}

#[test]
fn info_sections_parse_as_redis_does() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    run(&mut con, "SET a 1")?;
    let all = info(&mut con, "")?;
    let default: Vec<&str> = all.keys().map(String::as_str).collect();
    let mut expected = vec![
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "errorstats",
        "cluster",
        "keyspace",
        "shards",
    ];
    expected.sort_unstable();
    assert_eq!(default, expected);
    // Numbers where Redis has numbers.
    let numeric = [
        ("server", "arch_bits"),
        ("server", "process_id"),
        ("server", "tcp_port"),
        ("server", "uptime_in_seconds"),
        ("server", "uptime_in_days"),
        ("server", "server_time_usec"),
        ("clients", "connected_clients"),
        ("clients", "maxclients"),
        ("clients", "blocked_clients"),
        ("memory", "used_memory"),
        ("memory", "used_memory_dataset"),
        ("memory", "maxmemory"),
        ("persistence", "loading"),
        ("persistence", "rdb_last_save_time"),
        ("persistence", "aof_enabled"),
        ("stats", "total_connections_received"),
        ("stats", "total_commands_processed"),
        ("stats", "rejected_connections"),
        ("stats", "expired_keys"),
        ("stats", "evicted_keys"),
        ("stats", "pubsub_channels"),
        ("stats", "pubsub_patterns"),
        ("stats", "total_error_replies"),
        ("replication", "connected_slaves"),
        ("replication", "master_repl_offset"),
        ("cluster", "cluster_enabled"),
        ("shards", "shards_total"),
        ("shards", "resizes_total"),
        ("shards", "fast_path_batches"),
    ];
    for (section, name) in numeric {
        number(&all, section, name).map_err(|e| format!("{section}.{name}: {e}"))?;
    }
    for name in ["used_cpu_sys", "used_cpu_user"] {
        let v: f64 = field(&all, "cpu", name)?.parse()?;
        assert!(v >= 0.0);
    }
    assert_eq!(field(&all, "server", "redis_version")?, "7.0.15");
    assert_eq!(field(&all, "server", "redis_mode")?, "standalone");
    assert_eq!(
        number(&all, "server", "tcp_port")?,
        u64::from(server.addr().port())
    );
    assert_eq!(field(&all, "replication", "role")?, "master");
    assert_eq!(field(&all, "server", "run_id")?.len(), 40);
    assert!(field(&all, "memory", "used_memory_human")?.ends_with(['B', 'K', 'M', 'G']));
    assert_eq!(number(&all, "clients", "connected_clients")?, 1);
    assert_eq!(all.get("modules").map(BTreeMap::len), Some(0));
    // All sections; one; several in any order and case; unknown ones.
    let everything = info(&mut con, "everything")?;
    assert!(everything.contains_key("commandstats"));
    assert!(everything.contains_key("latencystats"));
    assert_eq!(everything.len(), expected.len() + 2);
    assert_eq!(info(&mut con, "all")?.len(), everything.len());
    let two = info(&mut con, "KEYSPACE server")?;
    assert_eq!(two.keys().collect::<Vec<_>>(), ["keyspace", "server"]);
    assert_eq!(text(&run(&mut con, "INFO nosuch")?)?, "");
    assert_eq!(info(&mut con, "default")?.len(), expected.len());
    Ok(())
}

#[test]
fn info_bytes_follow_redis_in_both_protocols() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    // The exact framing of a section Tandem and Redis fill alike.
    c.check(
        b"INFO cluster\r\n",
        b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n",
    )?;
    c.check(b"INFO nosuch\r\n", b"$0\r\n\r\n")?;
    c.check(
        b"INFO cluster keyspace\r\n",
        b"$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n",
    )?;
    // RESP3: a verbatim string of format txt, as Redis 7 sends INFO.
    c.send(b"HELLO 3\r\n")?;
    c.reply()?;
    c.check(
        b"INFO cluster\r\n",
        b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n",
    )
}

#[test]
fn keyspace_lines_count_keys_and_expiries_per_database() -> TestResult {
    // TTLs on a stopped clock: they read back exactly as set.
    let clock = common::manual_clock();
    let server = common::start_with_clock(common::config(), &clock)?;
    let mut con = connect(&server)?;
    for line in [
        "SET a 1",
        "SET b 1 EX 100",
        "SET c 1 PX 50000",
        "SELECT 3",
        "SET d 1",
    ] {
        run(&mut con, line)?;
    }
    let keyspace = info(&mut con, "keyspace")?;
    let space = keyspace.get("keyspace").ok_or("no keyspace")?;
    assert_eq!(space.keys().collect::<Vec<_>>(), ["db0", "db3"]);
    let db0 = subfields(space.get("db0").ok_or("no db0")?)?;
    assert_eq!(
        db0.keys().collect::<Vec<_>>(),
        ["avg_ttl", "expires", "keys"]
    );
    assert_eq!((&db0["keys"][..], &db0["expires"][..]), ("3", "2"));
    // The mean of 100 s and 50 s, in milliseconds.
    assert_eq!(db0["avg_ttl"], "75000");
    assert_eq!(
        space.get("db3").map(String::as_str),
        Some("keys=1,expires=0,avg_ttl=0")
    );
    Ok(())
}

/// `cmdstat_<name>`'s numbers.
fn cmdstat(
    info: &BTreeMap<String, BTreeMap<String, String>>,
    name: &str,
) -> Result<BTreeMap<String, String>, Error> {
    subfields(field(info, "commandstats", &format!("cmdstat_{name}"))?)
}

#[test]
fn commandstats_count_calls_rejections_and_failures() -> TestResult {
    let server = common::start_default()?;
    // Several connections: the server's threads keep their own counts,
    // and INFO adds them up.
    let mut cons = (0..4)
        .map(|_| connect(&server))
        .collect::<Result<Vec<_>, _>>()?;
    for con in &mut cons {
        run(con, "SET n 10")?;
        run(con, "GET n")?;
        run(con, "GET")?; // wrong arity: rejected
        run(con, "SET s abc")?;
        run(con, "INCR s")?; // not an integer: failed
        run(con, "OBJECT ENCODING n")?;
        run(con, "OBJECT ENCODING")?; // the subcommand's arity: rejected
        run(con, "NOSUCH")?; // unknown: an error, no command's
    }
    let con = &mut cons[0];
    let stats = info(con, "commandstats")?;
    let get = cmdstat(&stats, "get")?;
    assert_eq!(
        (
            &get["calls"][..],
            &get["rejected_calls"][..],
            &get["failed_calls"][..]
        ),
        ("4", "4", "0")
    );
    let incr = cmdstat(&stats, "incr")?;
    assert_eq!((&incr["calls"][..], &incr["failed_calls"][..]), ("4", "4"));
    let set = cmdstat(&stats, "set")?;
    assert_eq!(&set["calls"][..], "8");
    let usec: u64 = set["usec"].parse()?;
    let per_call: f64 = set["usec_per_call"].parse()?;
    assert!(per_call >= 0.0 && usec < 8_000_000);
    assert_eq!(
        set.keys().collect::<Vec<_>>(),
        [
            "calls",
            "failed_calls",
            "rejected_calls",
            "usec",
            "usec_per_call"
        ]
    );
    let encoding = cmdstat(&stats, "object|encoding")?;
    assert_eq!(
        (&encoding["calls"][..], &encoding["rejected_calls"][..]),
        ("4", "4")
    );
    // Commands never run are not listed; unknown commands are no one's.
    assert!(cmdstat(&stats, "getrange").is_err());
    assert!(cmdstat(&stats, "nosuch").is_err());
    // The total is every command's calls (the client library may send
    // its own commands on connecting: they count too).
    let everything = info(con, "commandstats stats")?;
    let mut calls = 0;
    for name in everything
        .get("commandstats")
        .ok_or("no commandstats")?
        .keys()
    {
        let name = name.strip_prefix("cmdstat_").ok_or("not a cmdstat")?;
        calls += cmdstat(&everything, name)?["calls"].parse::<u64>()?;
    }
    assert_eq!(
        number(&everything, "stats", "total_commands_processed")?,
        calls
    );
    assert!(calls >= 21);
    assert_eq!(
        number(&everything, "stats", "total_connections_received")?,
        4
    );
    Ok(())
}

#[test]
fn errorstats_count_every_error_reply_by_code() -> TestResult {
    let server = common::start(tandem_server::Config {
        requirepass: Some("secret".into()),
        ..common::config()
    })?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"GET k\r\n", b"-NOAUTH Authentication required.\r\n")?;
    c.check(
        b"AUTH wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    )?;
    c.check(b"AUTH secret\r\n", b"+OK\r\n")?;
    c.call(b"GET\r\n")?;
    c.call(b"NOSUCH\r\n")?;
    c.call(b"HELLO 4\r\n")?;
    let reply = c.call(b"INFO errorstats stats\r\n")?;
    let text = String::from_utf8(reply)?;
    let body = text.split_once("\r\n").ok_or("no bulk header")?.1;
    let info = parse_info(body.strip_suffix("\r\n").ok_or("no bulk end")?)?;
    let errors = info.get("errorstats").ok_or("no errorstats")?;
    let expected: BTreeMap<String, String> = [
        ("errorstat_ERR", "count=2"),
        ("errorstat_NOAUTH", "count=1"),
        ("errorstat_NOPROTO", "count=1"),
        ("errorstat_WRONGPASS", "count=1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(errors, &expected);
    assert_eq!(number(&info, "stats", "total_error_replies")?, 5);
    Ok(())
}

#[test]
fn command_count_list_info_and_docs_agree() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    let count = usize::try_from(int(&run(&mut con, "COMMAND COUNT")?)?)?;
    let listed: Vec<String> = array(run(&mut con, "COMMAND LIST")?)?
        .iter()
        .map(text)
        .collect::<Result<_, _>>()?;
    let commands: Vec<&String> = listed.iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(commands.len(), count);
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), listed.len());
    let all = array(run(&mut con, "COMMAND")?)?;
    assert_eq!(all.len(), count);
    let mut subcommands = Vec::new();
    for entry in all {
        let entry = array(entry)?;
        assert_eq!(entry.len(), 10);
        let name = text(&entry[0])?;
        for sub in array(entry[9].clone())? {
            let sub = array(sub)?;
            assert_eq!(sub.len(), 10);
            let sub_name = text(&sub[0])?;
            assert!(sub_name.starts_with(&format!("{name}|")), "{sub_name}");
            subcommands.push(sub_name);
        }
    }
    assert_eq!(subcommands.len() + count, listed.len());
    // DOCS documents every command, with Redis's four fields at least.
    let docs = match run(&mut con, "COMMAND DOCS")? {
        Value::Array(flat) => flat,
        other => return Err(format!("COMMAND DOCS: {other:?}").into()),
    };
    assert_eq!(docs.len(), 2 * count);
    for pair in docs.chunks(2) {
        let name = text(&pair[0])?;
        let fields: Vec<String> = array(pair[1].clone())?
            .iter()
            .step_by(2)
            .map(text)
            .collect::<Result<_, _>>()?;
        for f in ["summary", "since", "group", "complexity"] {
            assert!(fields.iter().any(|x| x == f), "{name} has no {f}");
        }
    }
    // A subcommand is found by its full name too.
    let info = array(run(
        &mut con,
        "COMMAND INFO config|get object|encoding nosuch",
    )?)?;
    assert_eq!(text(&array(info[0].clone())?[0])?, "config|get");
    assert_eq!(text(&array(info[1].clone())?[0])?, "object|encoding");
    assert_eq!(info[2], Value::Nil);
    Ok(())
}

/// A request for `name` with `argc` arguments in all, named `a1`, `a2`...
fn sample_request(name: &str, argc: usize) -> Vec<String> {
    let mut args: Vec<String> = name.split('|').map(str::to_string).collect();
    while args.len() < argc {
        args.push(format!("a{}", args.len()));
    }
    args
}

#[test]
fn getkeys_finds_the_keys_command_info_describes_for_every_command() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    let mut entries = Vec::new();
    for entry in array(run(&mut con, "COMMAND")?)? {
        let entry = array(entry)?;
        entries.extend(array(entry[9].clone())?.into_iter().map(array));
        entries.push(Ok(entry));
    }
    let mut checked = 0;
    for entry in entries {
        let entry = entry?;
        let name = text(&entry[0])?;
        let arity = int(&entry[1])?;
        let (first, last, step) = (int(&entry[3])?, int(&entry[4])?, int(&entry[5])?);
        if entry[9] != Value::Array(vec![]) && entry[9] != Value::Set(vec![]) {
            continue; // a container: its subcommands carry the keys
        }
        // Exactly the arity, or its minimum: at least one key.
        let argc = usize::try_from(arity.unsigned_abs())?;
        let request = sample_request(&name, argc);
        let mut cmd = redis::cmd("COMMAND");
        cmd.arg("GETKEYS").arg(&request);
        let reply = con.req_command(&cmd)?;
        if first == 0 {
            assert!(matches!(reply, Value::ServerError(_)), "{name}: {reply:?}");
            continue;
        }
        let last = if last < 0 {
            i64::try_from(argc)? + last
        } else {
            last
        };
        let expected: Vec<String> = (first..=last)
            .step_by(usize::try_from(step)?)
            .map(|i| request[usize::try_from(i).unwrap_or(0)].clone())
            .collect();
        let got: Vec<String> = match reply {
            Value::Array(keys) => keys.iter().map(text).collect::<Result<_, _>>()?,
            // Shard channels have positions, but are not keys to Redis.
            Value::ServerError(_)
                if ["ssubscribe", "sunsubscribe", "spublish"].contains(&&name[..]) =>
            {
                continue
            }
            other => return Err(format!("{name}: {other:?}").into()),
        };
        assert_eq!(got, expected, "{name} {request:?}");
        checked += 1;
    }
    assert!(checked > 30, "only {checked} commands with keys");
    Ok(())
}

#[test]
fn command_info_and_getkeys_match_redis_byte_for_byte() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let key_spec = |flags: &str, index: u8| {
        format!(
            "*6\r\n$5\r\nflags\r\n{flags}$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:{index}\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n"
        )
    };
    let get = format!(
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n{}*0\r\n",
        key_spec("*2\r\n+RO\r\n+access\r\n", 1)
    );
    c.check(b"COMMAND INFO get\r\n", get.as_bytes())?;
    let rename = format!(
        "*1\r\n*10\r\n$6\r\nrename\r\n:3\r\n*1\r\n+write\r\n:1\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@write\r\n+@slow\r\n*0\r\n*2\r\n{}{}*0\r\n",
        key_spec("*3\r\n+RW\r\n+access\r\n+delete\r\n", 1),
        key_spec("*2\r\n+OW\r\n+update\r\n", 2)
    );
    c.check(b"COMMAND INFO rename\r\n", rename.as_bytes())?;
    let table: &[(&str, &[u8])] = &[
        ("COMMAND GETKEYS get k", b"*1\r\n$1\r\nk\r\n"),
        (
            "COMMAND GETKEYS mset a 1 b 2",
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            "COMMAND GETKEYS mset a b c",
            b"*2\r\n$1\r\na\r\n$1\r\nc\r\n",
        ),
        ("COMMAND GETKEYS object encoding k", b"*1\r\n$1\r\nk\r\n"),
        ("COMMAND GETKEYS memory usage k", b"*1\r\n$1\r\nk\r\n"),
        (
            "COMMAND GETKEYS ping x",
            b"-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS config get x",
            b"-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS nosuch a",
            b"-ERR Invalid command specified\r\n",
        ),
        (
            "COMMAND GETKEYS object foo k",
            b"-ERR Invalid command specified\r\n",
        ),
        (
            "COMMAND GETKEYS set k",
            b"-ERR Invalid number of arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS get",
            b"-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS set k v",
            b"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS set k v GET",
            b"*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 overflow wrap",
            b"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS bitfield k get u8",
            b"*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
        ),
        ("COMMAND LIST FILTERBY ACLCAT nosuch", b"*0\r\n"),
        ("COMMAND LIST FILTERBY MODULE x", b"*0\r\n"),
        ("COMMAND LIST FILTERBY FOO x", b"-ERR syntax error\r\n"),
        ("COMMAND DOCS nosuch", b"*0\r\n"),
    ];
    for (request, expected) in table {
        let got = c.call(&common::encode_words(request))?;
        assert_eq!(common::text(&got), common::text(expected), "{request}");
    }
    Ok(())
}

#[test]
fn command_list_filters_by_acl_category_and_pattern() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    let names = |con: &mut Connection, line: &str| -> Result<Vec<String>, Error> {
        array(run(con, line)?)?.iter().map(text).collect()
    };
    let strings = names(&mut con, "COMMAND LIST FILTERBY ACLCAT string")?;
    assert!(strings.contains(&"get".to_string()) && strings.contains(&"setrange".to_string()));
    assert!(!strings.contains(&"del".to_string()));
    let config = names(&mut con, "COMMAND LIST FILTERBY PATTERN conf*")?;
    assert!(config.contains(&"config".to_string()) && config.contains(&"config|get".to_string()));
    assert!(config.iter().all(|n| n.starts_with("config")));
    Ok(())
}

#[test]
fn object_memory_time_and_lastsave_answer_as_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let freq = b"-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n";
    let table: &[(&str, &[u8])] = &[
        ("SET n 12345", b"+OK\r\n"),
        ("SET s hello", b"+OK\r\n"),
        ("SET big 12345678901234567890", b"+OK\r\n"),
        ("OBJECT ENCODING n", b"$3\r\nint\r\n"),
        ("OBJECT ENCODING s", b"$6\r\nembstr\r\n"),
        ("OBJECT ENCODING big", b"$6\r\nembstr\r\n"),
        ("OBJECT ENCODING nokey", b"$-1\r\n"),
        ("OBJECT REFCOUNT s", b":1\r\n"),
        ("OBJECT REFCOUNT nokey", b"$-1\r\n"),
        ("OBJECT FREQ s", freq),
        ("OBJECT FREQ nokey", b"$-1\r\n"),
        ("OBJECT IDLETIME nokey", b"$-1\r\n"),
        (
            "OBJECT foo",
            b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n",
        ),
        (
            "OBJECT",
            b"-ERR wrong number of arguments for 'object' command\r\n",
        ),
        (
            "OBJECT ENCODING a b",
            b"-ERR wrong number of arguments for 'object|encoding' command\r\n",
        ),
        (
            "OBJECT HELP x",
            b"-ERR wrong number of arguments for 'object|help' command\r\n",
        ),
        ("MEMORY USAGE nokey", b"$-1\r\n"),
        (
            "MEMORY USAGE s SAMPLES x",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        ("MEMORY USAGE s FOO", b"-ERR syntax error\r\n"),
        ("MEMORY USAGE s SAMPLES", b"-ERR syntax error\r\n"),
        ("MEMORY USAGE s SAMPLES -1", b"-ERR syntax error\r\n"),
        ("MEMORY USAGE nokey SAMPLES 0", b"$-1\r\n"),
        (
            "MEMORY",
            b"-ERR wrong number of arguments for 'memory' command\r\n",
        ),
        (
            "MEMORY FOO",
            b"-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n",
        ),
        (
            "TIME x",
            b"-ERR wrong number of arguments for 'time' command\r\n",
        ),
        (
            "LASTSAVE x",
            b"-ERR wrong number of arguments for 'lastsave' command\r\n",
        ),
    ];
    for (request, expected) in table {
        let got = c.call(&common::encode_words(request))?;
        assert_eq!(common::text(&got), common::text(expected), "{request}");
    }
    let mut con = connect(&server)?;
    // Under an LRU (or no) policy, IDLETIME answers: just written.
    assert!(int(&run(&mut con, "OBJECT IDLETIME s")?)? <= 1);
    // MEMORY USAGE grows with the value.
    let small = int(&run(&mut con, "MEMORY USAGE s")?)?;
    run(&mut con, &format!("SET s {}", "x".repeat(10_000)))?;
    let large = int(&run(&mut con, "MEMORY USAGE s SAMPLES 5")?)?;
    assert!(
        small > 0 && large >= 10_000 && large > small,
        "{small} {large}"
    );
    assert_eq!(text(&run(&mut con, "OBJECT ENCODING s")?)?, "raw");
    // TIME: now, as two bulk strings; LASTSAVE: when the server started.
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let time = array(run(&mut con, "TIME")?)?;
    let secs: u64 = text(&time[0])?.parse()?;
    let micros: u64 = text(&time[1])?.parse()?;
    assert!(secs.abs_diff(now) <= 2 && micros < 1_000_000);
    let lastsave = u64::try_from(int(&run(&mut con, "LASTSAVE")?)?)?;
    assert!(lastsave <= secs && secs - lastsave < 60);
    Ok(())
}

/// Database 0's finished resizes in `INFO shards`, each as its fields.
fn db0_resizes(
    shards: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<BTreeMap<String, String>>, Error> {
    shards
        .get("shards")
        .ok_or("no shards")?
        .iter()
        .filter(|(k, _)| k.starts_with("db0_resize_"))
        .map(|(_, v)| subfields(v))
        .collect()
}

/// A database keeps eight shards per serving thread at least (the test
/// servers run two): it starts there, and an emptied one shrinks back to
/// there in one step, not to one shard that every thread would queue on
/// when the next burst of writes comes.
#[test]
fn an_emptied_database_shrinks_to_the_shard_floor_not_to_one() -> TestResult {
    let server = common::start_with_debug()?;
    let mut con = connect(&server)?;
    let db0 = |con: &mut Connection| -> Result<BTreeMap<String, String>, Error> {
        subfields(field(&info(con, "shards")?, "shards", "db0")?)
    };
    assert_eq!(&db0(&mut con)?["shards"][..], "16");
    assert_eq!(text(&run(&mut con, "DEBUG RESIZE 0 64")?)?, "OK");
    let mut events = Vec::new();
    common::eventually("the empty database to shrink", || {
        events = db0_resizes(&info(&mut con, "shards")?)?;
        Ok(events.iter().any(|e| e["reason"] == "shrink"))
    })?;
    let shrink = events
        .iter()
        .find(|e| e["reason"] == "shrink")
        .ok_or("no shrink")?;
    assert_eq!((&shrink["from"][..], &shrink["to"][..]), ("64", "16"));
    assert_eq!(&db0(&mut con)?["shards"][..], "16");
    Ok(())
}

#[test]
fn debug_resize_changes_the_shard_count_shown_in_info() -> TestResult {
    let server = common::start_with_debug()?;
    let mut con = connect(&server)?;
    for i in 0..200 {
        run(&mut con, &format!("SET k{i} {i}"))?;
    }
    assert_eq!(text(&run(&mut con, "DEBUG RESIZE 0 8")?)?, "OK");
    let shards = info(&mut con, "shards")?;
    let db0 = subfields(field(&shards, "shards", "db0")?)?;
    assert_eq!(&db0["shards"][..], "8");
    assert_eq!(&db0["keys"][..], "200");
    assert_eq!(&db0["resizing"][..], "0");
    let resizes: u64 = db0["resizes"].parse()?;
    assert!(resizes >= 1);
    // The resize is in the history, with its reason.
    let history = db0_resizes(&shards)?;
    assert!(history
        .iter()
        .any(|e| e["to"] == "8" && e["reason"] == "forced" && e["keys_moved"] == "200"));
    assert_eq!(int(&run(&mut con, "DBSIZE")?)?, 200);
    assert_eq!(text(&run(&mut con, "GET k7")?)?, "7");
    let table = [
        ("DEBUG RESIZE 99 4", "-ERR DB index is out of range"),
        (
            "DEBUG RESIZE 0 0",
            "-ERR shard count must be between 1 and 1024",
        ),
        (
            "DEBUG RESIZE 0 x",
            "-ERR value is not an integer or out of range",
        ),
        (
            "DEBUG RESIZE 0",
            "-ERR unknown subcommand or wrong number of arguments for 'RESIZE'. Try DEBUG HELP.",
        ),
        (
            "DEBUG FOO",
            "-ERR unknown subcommand or wrong number of arguments for 'FOO'. Try DEBUG HELP.",
        ),
        ("DEBUG SLEEP 0", "OK"),
    ];
    for (request, expected) in table {
        assert_eq!(
            text(&run(&mut con, request)?)?.trim_end(),
            expected,
            "{request}"
        );
    }
    assert!(array(run(&mut con, "DEBUG HELP")?)?.len() > 3);
    Ok(())
}

#[test]
fn debug_sleep_pauses_the_connection() -> TestResult {
    let server = common::start_with_debug()?;
    let mut con = connect(&server)?;
    let start = Instant::now();
    assert_eq!(text(&run(&mut con, "DEBUG SLEEP 0.2")?)?, "OK");
    assert!(start.elapsed() >= Duration::from_millis(200));
    Ok(())
}

#[test]
fn cluster_clients_find_subcommand_key_positions() -> TestResult {
    // redis-py's cluster client looks a container's subcommand up in
    // COMMAND's tenth field and reads its key positions there.
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    let object = array(array(run(&mut con, "COMMAND INFO object")?)?.remove(0))?;
    assert_eq!(
        (int(&object[3])?, int(&object[4])?, int(&object[5])?),
        (0, 0, 0)
    );
    let subs = array(object[9].clone())?;
    let encoding = subs
        .into_iter()
        .map(array)
        .find(|s| {
            s.as_ref()
                .is_ok_and(|s| s.first() == Some(&Value::BulkString(b"object|encoding".to_vec())))
        })
        .ok_or("no object|encoding")??;
    assert_eq!(
        (int(&encoding[3])?, int(&encoding[4])?, int(&encoding[5])?),
        (2, 2, 1)
    );
    Ok(())
}

#[test]
fn shards_section_reports_expiry_lateness() -> TestResult {
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    for i in 0..10 {
        run(&mut con, &format!("SET k{i} v PX 20"))?;
    }
    // The reaper removes them at their deadline; wait until it has.
    let deadline = Instant::now() + common::TIMEOUT;
    loop {
        let shards = info(&mut con, "shards")?;
        let expiry = subfields(field(&shards, "shards", "db0_expiry")?)?;
        if expiry["reaped"] == "10" {
            let p99: u64 = expiry["lateness_p99_ms"].parse()?;
            let max: u64 = expiry["lateness_max_ms"].parse()?;
            assert!(p99 <= max && max < 10_000, "{expiry:?}");
            let stats = info(&mut con, "stats")?;
            assert_eq!(number(&stats, "stats", "expired_keys")?, 10);
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("not reaped: {expiry:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fixture's rows as words, its comments and blank lines left out.
fn fixture_rows(text: &str) -> impl Iterator<Item = std::str::SplitWhitespace<'_>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::split_whitespace)
}

/// Every command's and subcommand's COMMAND entry, by name.
fn served_entries(con: &mut Connection) -> Result<BTreeMap<String, Vec<Value>>, Error> {
    let mut served = BTreeMap::new();
    for entry in array(run(con, "COMMAND")?)? {
        let entry = array(entry)?;
        for sub in array(entry[9].clone())? {
            let sub = array(sub)?;
            served.insert(text(&sub[0])?, sub);
        }
        served.insert(text(&entry[0])?, entry);
    }
    Ok(served)
}

/// The words of an entry's field (its flags, its ACL categories).
fn words(field: &Value) -> Result<Vec<String>, Error> {
    array(field.clone())?.iter().map(text).collect()
}

/// Name, arity and flags of every command and subcommand COMMAND
/// describes.
fn served_flags(con: &mut Connection) -> Result<BTreeMap<String, (i64, Vec<String>)>, Error> {
    served_entries(con)?
        .into_iter()
        .map(|(name, e)| Ok((name, (int(&e[1])?, words(&e[2])?))))
        .collect()
}

#[test]
fn command_flags_match_redis_7_0_15_for_every_command() -> TestResult {
    let mut recorded = BTreeMap::new();
    for mut words in fixture_rows(include_str!("fixtures/redis-7.0.15-command-flags.txt")) {
        let name = words.next().ok_or("empty line")?.to_string();
        let arity: i64 = words.next().ok_or("no arity")?.parse()?;
        recorded.insert(name, (arity, words.map(str::to_string).collect::<Vec<_>>()));
    }
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    let mut served = served_flags(&mut con)?;
    // Tandem's own commands have no Redis flags to match: TANDEM.RANGE,
    // and the fault hook these tests are built with (`fault-injection`).
    assert!(served.remove("tandem.range").is_some());
    assert!(served.remove("tandem.panic").is_some());
    assert_eq!(
        served.keys().collect::<Vec<_>>(),
        recorded.keys().collect::<Vec<_>>(),
        "the fixture must list exactly the commands Tandem serves"
    );
    let wrong: Vec<String> = served
        .iter()
        .filter(|(name, got)| recorded.get(*name) != Some(got))
        .map(|(name, got)| format!("{name}: {got:?}, Redis {:?}", recorded.get(name)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

#[test]
fn debug_is_off_by_default_and_its_switch_fixed() -> TestResult {
    let refused = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"DEBUG SLEEP 0\r\n", refused.as_bytes())?;
    c.check(b"DEBUG HELP\r\n", refused.as_bytes())?;
    // The arity check comes first.
    c.check(
        b"DEBUG\r\n",
        b"-ERR wrong number of arguments for 'debug' command\r\n",
    )?;
    c.check(
        b"CONFIG GET enable-debug-command\r\n",
        b"*2\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n",
    )?;
    // Redis 7.0.15 refuses it as an immutable setting.
    c.check(
        b"CONFIG SET enable-debug-command yes\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n",
    )?;
    // Refusals are rejected calls, as in Redis.
    let stats = String::from_utf8(c.call(b"INFO commandstats\r\n")?)?;
    assert!(
        stats.contains(
            "cmdstat_debug:calls=0,usec=0,usec_per_call=0.00,rejected_calls=3,failed_calls=0"
        ),
        "{stats}"
    );
    Ok(())
}

#[test]
fn debug_local_allows_loopback_clients() -> TestResult {
    let server = common::start(common::Config {
        enable_debug_command: tandem_server::config::Allowed::Local,
        ..common::config()
    })?;
    // Tests connect over 127.0.0.1: a local client.
    let mut c = Raw::connect(server.addr())?;
    assert!(c.local_addr()?.ip().is_loopback());
    c.check(b"DEBUG SLEEP 0\r\n", b"+OK\r\n")?;
    c.check(
        b"CONFIG GET enable-debug-command\r\n",
        b"*2\r\n$20\r\nenable-debug-command\r\n$5\r\nlocal\r\n",
    )?;
    Ok(())
}

#[test]
fn debug_refusal_comes_before_noauth() -> TestResult {
    // Redis 7.0.15 checks a protected command's switch before the
    // client's authentication.
    let server = common::start(tandem_server::Config {
        requirepass: Some("secret".into()),
        ..common::config()
    })?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        b"DEBUG SLEEP 0\r\n",
        b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n",
    )?;
    c.check(b"SHUTDOWN\r\n", b"-NOAUTH Authentication required.\r\n")?;
    c.check(b"MULTI\r\n", b"-NOAUTH Authentication required.\r\n")?;
    c.check(
        b"EXEC\r\n",
        b"-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n",
    )?;
    Ok(())
}

#[test]
fn debug_local_allows_unix_socket_clients() -> TestResult {
    use std::io::{Read, Write};
    let path = std::env::temp_dir().join(format!("tandem-debug-local-{}.sock", std::process::id()));
    let _server = common::start(common::Config {
        enable_debug_command: tandem_server::config::Allowed::Local,
        unixsocket: Some(path.clone()),
        ..common::config()
    })?;
    let mut unix = std::os::unix::net::UnixStream::connect(&path)?;
    unix.set_read_timeout(Some(common::TIMEOUT))?;
    unix.write_all(b"DEBUG SLEEP 0\r\n")?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 64];
    while !got.ends_with(b"\r\n") {
        let n = unix.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(common::text(&got), "+OK\\r\\n");
    Ok(())
}

/// Each command's and subcommand's ACL categories, as COMMAND reports
/// them (its seventh field).
fn served_categories(con: &mut Connection) -> Result<BTreeMap<String, Vec<String>>, Error> {
    served_entries(con)?
        .into_iter()
        .map(|(name, e)| Ok((name, words(&e[6])?)))
        .collect()
}

#[test]
fn acl_categories_match_redis_7_0_15_for_every_command() -> TestResult {
    let mut recorded = BTreeMap::new();
    for mut words in fixture_rows(include_str!("fixtures/redis-7.0.15-acl-categories.txt")) {
        let name = words.next().ok_or("empty line")?.to_string();
        recorded.insert(name, words.map(str::to_string).collect::<Vec<_>>());
    }
    let server = common::start_default()?;
    let mut con = connect(&server)?;
    let mut served = served_categories(&mut con)?;
    served.remove("tandem.range");
    served.remove("tandem.panic");
    assert_eq!(
        served.keys().collect::<Vec<_>>(),
        recorded.keys().collect::<Vec<_>>(),
        "the fixture must list exactly the commands Tandem serves"
    );
    let wrong: Vec<String> = served
        .iter()
        .filter(|(name, got)| recorded.get(*name) != Some(got))
        .map(|(name, got)| format!("{name}: {got:?}, Redis {:?}", recorded.get(name)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}
