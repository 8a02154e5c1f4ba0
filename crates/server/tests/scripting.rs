//! Scripting over the network: EVAL, EVALSHA, EVAL_RO, SCRIPT and the
//! Lua API against the replies a fresh redis-server 7.0.15 gave for the
//! same requests (`fixtures/redis-7.0.15-scripting.jsonl`), Tandem's rule
//! for keys a script did not declare, and atomicity under concurrency:
//! scripts moving value between keys are never seen half done.

mod common;

use common::{Raw, TestResult};

fn w(line: &str) -> Vec<u8> {
    common::encode_words(line)
}

/// SCRIPT LOAD's reply: the script's SHA-1.
fn script_load(c: &mut Raw, body: &[u8]) -> Result<String, common::Error> {
    let reply = String::from_utf8(c.call(&common::encode(&[b"SCRIPT", b"LOAD", body]))?)?;
    Ok(reply.lines().nth(1).ok_or("a bulk reply")?.to_owned())
}

fn eval(script: &str, keys: &[&str], args: &[&str]) -> Vec<u8> {
    let n = keys.len().to_string();
    let mut all: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), n.as_bytes()];
    all.extend(keys.iter().map(|k| k.as_bytes()));
    all.extend(args.iter().map(|a| a.as_bytes()));
    common::encode(&all)
}

/// Every request of the fixture, in order on one connection of a fresh
/// server, answers byte for byte as Redis 7.0.15 did: the API's functions,
/// conversions both ways in RESP2 and RESP3, errors with the script's
/// name and line, shebang flags, the sandbox (each forbidden thing tried),
/// `math.random`'s sequence, SCRIPT's subcommands.
#[test]
fn replies_match_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let wrong = common::fixture::replay(
        &mut c,
        include_str!("fixtures/redis-7.0.15-scripting.jsonl"),
    )?;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

/// The sandbox holds against what a review found: `pairs` handed out
/// the real globals (a script could then change them for every later
/// script on its thread), and a raised nesting limit let cjson recurse
/// until the thread's stack overflowed.
#[test]
fn sandbox_escapes_found_in_review_are_closed() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    for body in [
        "local _, g = pairs(_G) g.leaked = 1",
        "local _, r = pairs(redis) r.call = nil",
        "local _, s = pairs(string) s.len = nil",
        "local _, m = pairs(getmetatable('')) m.__index = nil",
    ] {
        let r = c.call(&eval(body, &[], &[]))?;
        assert!(
            r.starts_with(b"-ERR user_script:1: Attempt to modify a readonly table"),
            "{body}: {}",
            common::text(&r)
        );
    }
    let r = c.call(&eval("return leaked", &[], &[]))?;
    assert!(r.starts_with(b"-ERR user_script:1: Script attempted to access nonexistent global"));
    c.check(&eval("return redis.call('ping')", &[], &[]), b"+PONG\r\n")?;
    c.check(&eval("return ('abc'):len()", &[], &[]), b":3\r\n")?;
    let deep = "cjson.decode_max_depth(100000) \
        return cjson.decode(string.rep('[', 100000) .. string.rep(']', 100000))";
    let r = c.call(&eval(deep, &[], &[]))?;
    assert!(
        r.starts_with(b"-ERR user_script:1: Found too many nested data structures (1001)"),
        "{}",
        common::text(&r)
    );
    let deep = "cjson.encode_max_depth(100000) local t = {} local c = t \
        for i = 1, 100000 do c[1] = {} c = c[1] end return cjson.encode(t)";
    let r = c.call(&eval(deep, &[], &[]))?;
    assert!(
        r.starts_with(b"-ERR user_script:1: Cannot serialise, excessive nesting (1001)"),
        "{}",
        common::text(&r)
    );
    Ok(())
}

/// A `redis.call` either runs its command and returns its reply, or
/// fails without running it, at every depth of nested C calls: its parts
/// are called from one depth, so making the reply into Lua values cannot
/// fail with "C stack overflow" after the command ran. The script dives
/// through `pcall` until Lua refuses, popping one element at each level
/// (an array reply: the slow way to Lua values) and counting with INCR
/// (a number: the fast way).
#[test]
fn redis_call_never_fails_after_its_command_ran() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let script = "local t = {} for i = 1, 1000 do t[i] = i end \
        redis.call('rpush', KEYS[1], unpack(t)) \
        local popped, counted, failed = 0, 0, 0 \
        local function dive() \
          local ok, r = pcall(redis.call, 'lpop', KEYS[1], 1) \
          if ok then popped = popped + #r else failed = failed + 1 end \
          if pcall(redis.call, 'incr', KEYS[2]) then counted = counted + 1 end \
          pcall(dive) \
        end \
        dive() \
        return {popped, 1000 - redis.call('llen', KEYS[1]), \
          counted, tonumber(redis.call('get', KEYS[2])), failed}";
    let r = c.call(&eval(script, &["list", "count"], &[]))?;
    let n: Vec<i64> = String::from_utf8_lossy(&r)
        .split("\r\n")
        .filter_map(|l| l.strip_prefix(':')?.parse().ok())
        .collect();
    let [popped, gone, counted, count, failed] = n[..] else {
        panic!("five numbers: {}", common::text(&r));
    };
    assert_eq!(popped, gone, "pops the script saw against pops done");
    assert_eq!(counted, count, "increments seen against done");
    assert!(popped > 100 && failed > 0, "dived to Lua's limit: {n:?}");
    Ok(())
}

/// A script reaches only the keys it declared: anything else is an error
/// inside the script (which `redis.pcall` catches), and so is a command
/// that reaches beyond named keys.
#[test]
fn undeclared_keys_are_refused() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let r = c.call(&eval("return redis.call('get', 'other')", &["k"], &[]))?;
    assert!(
        r.starts_with(b"-ERR Script attempted to access a key that was not declared"),
        "{}",
        common::text(&r)
    );
    let r = c.call(&eval("return redis.pcall('set', 'other', 1)", &[], &[]))?;
    assert!(
        r.starts_with(b"-ERR Script attempted"),
        "{}",
        common::text(&r)
    );
    c.check(&w("EXISTS other"), b":0\r\n")?;
    let r = c.call(&eval("return redis.call('keys', '*')", &[], &[]))?;
    assert!(
        r.starts_with(b"-ERR This command reaches beyond the keys"),
        "{}",
        common::text(&r)
    );
    // Declared, the same keys work, also several on different shards.
    let keys: Vec<String> = (0..20).map(|i| format!("key:{i}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let body = "for i, k in ipairs(KEYS) do redis.call('set', k, i) end return #KEYS";
    c.check(&eval(body, &refs, &[]), b":20\r\n")?;
    c.check(&w("GET key:19"), b"$2\r\n20\r\n")?;
    Ok(())
}

/// The common client helpers, as their libraries write them, answer as
/// Redis 7.0.15 did: a lock's acquire, extend and release (redis-py's
/// `Lock`) and a token bucket.
#[test]
fn client_library_helpers_answer_as_redis() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let release = "local token = redis.call('get', KEYS[1]) \
        if not token or token ~= ARGV[1] then return 0 end \
        redis.call('del', KEYS[1]) return 1";
    let extend = "local token = redis.call('get', KEYS[1]) \
        if not token or token ~= ARGV[1] then return 0 end \
        local expiration = redis.call('pttl', KEYS[1]) \
        if not expiration then expiration = 0 end \
        if expiration < 0 then return 0 end \
        local newttl = ARGV[2] \
        if ARGV[3] == '0' then newttl = ARGV[2] + expiration end \
        redis.call('pexpire', KEYS[1], newttl) return 1";
    c.check(&w("SET lock tok NX PX 100000"), b"+OK\r\n")?;
    c.check(&eval(extend, &["lock"], &["other", "5000", "0"]), b":0\r\n")?;
    c.check(&eval(extend, &["lock"], &["tok", "500000", "1"]), b":1\r\n")?;
    let ttl = String::from_utf8(c.call(&w("PTTL lock"))?)?;
    let ttl: i64 = ttl.trim_start_matches(':').trim().parse()?;
    assert!(ttl > 100_000 && ttl <= 500_000, "{ttl}");
    c.check(&eval(release, &["lock"], &["other"]), b":0\r\n")?;
    c.check(&eval(release, &["lock"], &["tok"]), b":1\r\n")?;
    c.check(&w("EXISTS lock"), b":0\r\n")?;
    // A token bucket: capacity 3, refilled 1 a second; time from ARGV.
    let bucket = "local tokens = tonumber(redis.call('hget', KEYS[1], 'tokens') or ARGV[1]) \
        local last = tonumber(redis.call('hget', KEYS[1], 'ts') or ARGV[3]) \
        local now = tonumber(ARGV[3]) \
        tokens = math.min(tonumber(ARGV[1]), tokens + (now - last) * tonumber(ARGV[2])) \
        local allowed = 0 \
        if tokens >= 1 then tokens = tokens - 1 allowed = 1 end \
        redis.call('hset', KEYS[1], 'tokens', tokens, 'ts', now) \
        redis.call('pexpire', KEYS[1], 60000) \
        return {allowed, tostring(tokens)}";
    for (now, expected) in [
        ("1000", "*2\r\n:1\r\n$1\r\n2\r\n"),
        ("1000", "*2\r\n:1\r\n$1\r\n1\r\n"),
        ("1000", "*2\r\n:1\r\n$1\r\n0\r\n"),
        ("1000", "*2\r\n:0\r\n$1\r\n0\r\n"),
        ("1002", "*2\r\n:1\r\n$1\r\n1\r\n"),
    ] {
        c.check(
            &eval(bucket, &["bucket"], &["3", "1", now]),
            expected.as_bytes(),
        )?;
    }
    c.check(&w("HGET bucket tokens"), b"$1\r\n1\r\n")?;
    Ok(())
}

/// Scripts moving units between many keys, from several clients at once,
/// while other clients read every key's sum in a script and with MGET:
/// no read ever sees a move half done, and the total is exact at the end.
/// The keys are spread over many shards, so the batch takes several
/// locks. Checked against a planted non-atomic run (each `redis.call` on
/// the database instead of the batch): the readers then see sums off.
#[test]
fn scripts_are_atomic_under_concurrency() -> TestResult {
    let server = common::start_default()?;
    let addr = server.addr();
    let keys: Vec<String> = (0..8).map(|i| format!("acct:{i}")).collect();
    let mut c = Raw::connect(addr)?;
    for k in &keys {
        c.check(&w(&format!("SET {k} 100")), b"+OK\r\n")?;
    }
    let mover = "local n = #KEYS \
        local from = KEYS[(tonumber(ARGV[1]) % n) + 1] \
        local to = KEYS[((tonumber(ARGV[1]) + 3) % n) + 1] \
        for i = 1, 5 do redis.call('decr', from) end \
        for i = 1, 5 do redis.call('incr', to) end \
        return 1";
    let summer = "local s = 0 for _, k in ipairs(KEYS) do s = s + tonumber(redis.call('get', k)) end return s";
    let spawn_mover = |seed: usize| {
        let keys = keys.clone();
        std::thread::spawn(move || -> Result<(), String> {
            let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            for i in 0..400 {
                let arg = (seed * 7 + i).to_string();
                c.check(&eval(mover, &refs, &[&arg]), b":1\r\n")
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    };
    let spawn_reader = |by_script: bool| {
        let keys = keys.clone();
        std::thread::spawn(move || -> Result<(), String> {
            let mut c = Raw::connect(addr).map_err(|e| e.to_string())?;
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            for _ in 0..400 {
                let sum: i64 = if by_script {
                    let r = c
                        .call(&eval(summer, &refs, &[]))
                        .map_err(|e| e.to_string())?;
                    let text = String::from_utf8_lossy(&r).into_owned();
                    text.trim_start_matches(':')
                        .trim()
                        .parse()
                        .map_err(|_| text)?
                } else {
                    let r = c
                        .call(&w(&format!("MGET {}", keys.join(" "))))
                        .map_err(|e| e.to_string())?;
                    String::from_utf8_lossy(&r)
                        .split("\r\n")
                        .filter(|l| !l.starts_with(['*', '$']) && !l.is_empty())
                        .map(|l| l.parse::<i64>().unwrap_or(i64::MIN / 16))
                        .sum()
                };
                if sum != 800 {
                    return Err(format!("a move seen half done: the sum was {sum}"));
                }
            }
            Ok(())
        })
    };
    let movers: Vec<_> = (0..4).map(spawn_mover).collect();
    let readers = [spawn_reader(true), spawn_reader(false)];
    for t in movers.into_iter().chain(readers) {
        t.join().map_err(|_| "a client thread panicked")??;
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    c.check(&eval(summer, &refs, &[]), b":800\r\n")?;
    Ok(())
}

/// A script's writes are logged as one record of their effects: after a
/// restart the data is what the script left, also for a script whose
/// result depended on `math.random`.
#[test]
fn script_effects_survive_a_restart() -> TestResult {
    let dir = common::data_dir();
    let config = || tandem_server::Config {
        appendonly: true,
        dir: dir.clone(),
        ..common::config()
    };
    let expected;
    {
        let server = common::start(config())?;
        let mut c = Raw::connect(server.addr())?;
        let body = "local r = math.random(1000000) \
            redis.call('set', KEYS[1], r) redis.call('rpush', KEYS[2], r, r + 1) return r";
        expected = c.call(&eval(body, &["r", "l"], &[]))?;
        server.stop()?;
    }
    let server = common::start(config())?;
    let mut c = Raw::connect(server.addr())?;
    let value = String::from_utf8(expected)?;
    let value = value.trim_start_matches(':').trim().to_owned();
    let get = c.call(&w("GET r"))?;
    assert_eq!(get, format!("${}\r\n{value}\r\n", value.len()).into_bytes());
    c.check(&w("LLEN l"), b":2\r\n")?;
    Ok(())
}

/// EVAL inside MULTI runs at EXEC, and SCRIPT LOAD's name works for
/// EVALSHA from any connection (each serving thread compiles it anew).
#[test]
fn evalsha_from_every_thread_and_inside_multi() -> TestResult {
    let server = common::start_default()?;
    let mut first = Raw::connect(server.addr())?;
    let body: &[u8] = b"return redis.call('incr', KEYS[1])";
    let sha = script_load(&mut first, body)?;
    for n in 1..=4 {
        let mut c = Raw::connect(server.addr())?;
        c.check(
            &w(&format!("EVALSHA {sha} 1 counter")),
            format!(":{n}\r\n").as_bytes(),
        )?;
    }
    first.check(&w("MULTI"), b"+OK\r\n")?;
    first.check(&w(&format!("EVALSHA {sha} 1 counter")), b"+QUEUED\r\n")?;
    first.check(&w("INCR counter"), b"+QUEUED\r\n")?;
    first.check(&w("EXEC"), b"*2\r\n:5\r\n:6\r\n")?;
    Ok(())
}

/// A pipeline of EVALSHAs of one script on the same keys runs under one
/// batch (`connection/batch.rs`): each still answers on its own and in
/// order, an error in one leaves the others alone, and a request on
/// other keys (or another command) between them is run as it comes.
#[test]
fn pipelined_evalshas_on_the_same_keys_answer_in_order() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let body: &[u8] = b"if ARGV[1] == 'fail' then return redis.call('incr', 'undeclared') end \
        return redis.call('incr', KEYS[1])";
    let sha = script_load(&mut c, body)?;
    let mut pipeline = Vec::new();
    let mut expected = Vec::new();
    let mut n = 0;
    for i in 0..40 {
        if i == 17 {
            pipeline.extend(w(&format!("EVALSHA {sha} 1 hot fail")));
            expected.push(None);
        } else if i == 25 {
            pipeline.extend(w(&format!("EVALSHA {sha} 1 cold go")));
            expected.push(Some(b":1\r\n".to_vec()));
        } else if i == 30 {
            pipeline.extend(w("GET hot"));
            expected.push(Some(format!("$2\r\n{n}\r\n").into_bytes()));
        } else {
            n += 1;
            pipeline.extend(w(&format!("EVALSHA {sha} 1 hot go")));
            expected.push(Some(format!(":{n}\r\n").into_bytes()));
        }
    }
    c.send(&pipeline)?;
    for (i, want) in expected.iter().enumerate() {
        let got = c.reply()?;
        match want {
            Some(want) => assert_eq!(&got, want, "reply {i}: {}", common::text(&got)),
            None => assert!(
                got.starts_with(b"-ERR Script attempted to access a key that was not declared"),
                "reply {i}: {}",
                common::text(&got)
            ),
        }
    }
    c.check(&w("GET hot"), format!("$2\r\n{n}\r\n").as_bytes())?;
    Ok(())
}

/// Over the memory bound, pipelined EVALSHAs on one key are each refused
/// as one alone would be (found in review: under a batch's locks a script
/// could not evict, and ran as if under the bound).
#[test]
fn pipelined_evalshas_over_the_memory_bound_are_each_refused() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(&w("CONFIG SET maxmemory-policy volatile-lru"), b"+OK\r\n")?;
    let body: &[u8] = b"#!lua\nreturn redis.call('set', KEYS[1], ARGV[1])";
    let sha = script_load(&mut c, body)?;
    c.check(&w("CONFIG SET maxmemory 1"), b"+OK\r\n")?;
    let one = w(&format!("EVALSHA {sha} 1 k v"));
    c.send(&[one.clone(), one.clone(), one].concat())?;
    for _ in 0..3 {
        let got = c.reply()?;
        assert!(
            got.starts_with(b"-OOM allow-oom flag is not set on the script"),
            "{}",
            common::text(&got)
        );
    }
    c.check(&w("CONFIG SET maxmemory 0"), b"+OK\r\n")?;
    c.check(&w("EXISTS k"), b":0\r\n")?;
    Ok(())
}
