//! CONFIG: reading and changing the server's settings.
//!
//! Owns CONFIG GET, which answers for every setting in `config::Settings`
//! (redis-benchmark asks for `save` and `appendonly` before it starts),
//! and CONFIG SET for every setting that can change while the server
//! runs. A CONFIG SET of several settings checks
//! them all first and applies all or none, as Redis 7 does; the new
//! `Config` is swapped in whole, and the engine and hubs are told.

use super::args::is;
use super::spec::{spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use crate::config::eviction::{bounded, BAD_POLICY, LFU, SAMPLES, TENACITY};
use crate::config::{integer, Config, LATENCY_THRESHOLD, SLOWLOG_MAX_LEN, SLOWLOG_THRESHOLD};

pub(super) const COMMANDS: &[Spec] = &[spec("config", -2, 0, (0, 0, 0), config)];

/// A path setting as CONFIG GET shows it: empty when unset.
fn path_text(p: Option<&std::path::PathBuf>) -> String {
    p.map(|p| p.display().to_string()).unwrap_or_default()
}

/// A path setting as CONFIG SET takes it: empty unsets it.
fn path_value(v: &str) -> Option<std::path::PathBuf> {
    (!v.is_empty()).then(|| std::path::PathBuf::from(v))
}

/// Every setting CONFIG GET knows, with its current value.
fn settings(c: &Config) -> Vec<(&'static str, String)> {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut all = vec![
        ("bind", c.bind.clone()),
        ("port", c.port.to_string()),
        (
            "unixsocket",
            c.unixsocket
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("tcp-backlog", c.tcp_backlog.to_string()),
        ("tcp-keepalive", c.tcp_keepalive.to_string()),
        ("requirepass", c.requirepass.clone().unwrap_or_default()),
        ("aclfile", path_text(c.aclfile.as_ref())),
        ("acllog-max-len", c.acllog_max_len.to_string()),
        (
            "acl-pubsub-default",
            if c.acl_pubsub_allchannels {
                "allchannels"
            } else {
                "resetchannels"
            }
            .into(),
        ),
        ("tls-port", c.tls.port.to_string()),
        ("tls-cert-file", path_text(c.tls.cert_file.as_ref())),
        ("tls-key-file", path_text(c.tls.key_file.as_ref())),
        ("tls-ca-cert-file", path_text(c.tls.ca_cert_file.as_ref())),
        ("tls-ca-cert-dir", path_text(c.tls.ca_cert_dir.as_ref())),
        ("tls-auth-clients", c.tls.auth_clients.as_str().into()),
        ("tls-protocols", c.tls.protocols.clone()),
        ("tls-ciphersuites", c.tls.ciphersuites.clone()),
        ("tls-ciphers", c.tls.ciphers.clone()),
        ("protected-mode", yes_no(c.protected_mode)),
        ("databases", c.databases.to_string()),
        ("maxclients", c.maxclients.to_string()),
        ("timeout", c.timeout.to_string()),
        ("proto-max-bulk-len", c.proto_max_bulk_len.to_string()),
        (
            "proto-max-multibulk-len",
            c.proto_max_multibulk_len.to_string(),
        ),
        (
            "client-query-buffer-limit",
            c.client_query_buffer_limit.to_string(),
        ),
        (
            "notify-keyspace-events",
            c.notify_keyspace_events.to_redis_string(),
        ),
        (
            "client-output-buffer-limit",
            c.client_output_buffer_limit.to_string(),
        ),
        ("loglevel", c.loglevel.clone()),
        ("io-threads", c.io_threads.to_string()),
        ("enable-debug-command", c.enable_debug_command.to_string()),
        ("dir", c.dir.display().to_string()),
        ("appendonly", yes_no(c.appendonly)),
        ("appendfsync", c.appendfsync.as_str().into()),
        ("appenddirname", c.appenddirname.clone()),
        ("dbfilename", c.dbfilename.clone()),
        ("save", c.save.to_string()),
        ("aof-load-truncated", yes_no(c.aof_load_truncated)),
        (
            "stop-writes-on-bgsave-error",
            yes_no(c.stop_writes_on_bgsave_error),
        ),
        // Redis 7 answers to the old ziplist names too.
        (
            "hash-max-listpack-entries",
            c.hash_max_listpack_entries.to_string(),
        ),
        (
            "hash-max-ziplist-entries",
            c.hash_max_listpack_entries.to_string(),
        ),
        (
            "hash-max-listpack-value",
            c.hash_max_listpack_value.to_string(),
        ),
        (
            "hash-max-ziplist-value",
            c.hash_max_listpack_value.to_string(),
        ),
        (
            "set-max-intset-entries",
            c.set_max_intset_entries.to_string(),
        ),
        ("hll-sparse-max-bytes", c.hll_sparse_max_bytes.to_string()),
        (
            "list-max-listpack-size",
            c.list_max_listpack_size.to_string(),
        ),
        (
            "list-max-ziplist-size",
            c.list_max_listpack_size.to_string(),
        ),
        (
            "zset-max-listpack-entries",
            c.zset_max_listpack_entries.to_string(),
        ),
        (
            "zset-max-ziplist-entries",
            c.zset_max_listpack_entries.to_string(),
        ),
        (
            "zset-max-listpack-value",
            c.zset_max_listpack_value.to_string(),
        ),
        (
            "zset-max-ziplist-value",
            c.zset_max_listpack_value.to_string(),
        ),
        // In the order Redis 7.0.15 lists them for `stream-node-*`.
        (
            "stream-node-max-entries",
            c.stream_node_max_entries.to_string(),
        ),
        ("stream-node-max-bytes", c.stream_node_max_bytes.to_string()),
    ];
    all.extend(c.eviction.settings());
    all.push((
        "slowlog-log-slower-than",
        c.slowlog_log_slower_than.to_string(),
    ));
    all.push(("slowlog-max-len", c.slowlog_max_len.to_string()));
    all.push(("lua-time-limit", c.busy_reply_threshold.to_string()));
    all.push(("busy-reply-threshold", c.busy_reply_threshold.to_string()));
    all.extend(c.observability.settings());
    all
}

fn config(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    if is(sub, "get") {
        let config = c.shared.config.load();
        let all = settings(&config);
        // As Redis 7: a name without glob characters is answered with the
        // name as the client wrote it; a pattern with the real names. Each
        // setting is listed once, however many arguments match it.
        let mut found: Vec<(&[u8], &str)> = Vec::new();
        for &pattern in c.args_from(2) {
            let lower = pattern.to_ascii_lowercase();
            let glob = lower.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
            for (name, value) in &all {
                let hit = if glob {
                    tandem_engine::glob_match(&lower, name.as_bytes())
                } else {
                    lower == name.as_bytes()
                };
                let listed = found
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()));
                if hit && !listed {
                    found.push((if glob { name.as_bytes() } else { pattern }, value));
                }
            }
        }
        c.out.map(found.len());
        for (name, value) in found {
            c.out.bulk(name);
            c.out.bulk(value.as_bytes());
        }
        return Ok(());
    }
    if is(sub, "set") {
        return set(c);
    }
    if is(sub, "resetstat") {
        super::info::reset_stats(c.shared);
        c.out.ok();
        return Ok(());
    }
    if is(sub, "help") {
        let lines = [
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Prints this help.",
        ];
        c.out.array(lines.len());
        for l in lines {
            c.out.simple(l);
        }
        return Ok(());
    }
    Err(unknown_subcommand(sub, "config"))
}

/// Why a value was refused, in Redis's words.
type Refusal = String;

/// A memory value as Redis's `memtoull` reads one: digits and a unit,
/// nothing else (no sign, no spaces); an empty value is 0.
fn memory(v: &str, min: u64) -> Result<u64, Refusal> {
    let n = if v.is_empty() {
        0
    } else if !v.starts_with(|c: char| c.is_ascii_digit()) || v.contains(char::is_whitespace) {
        return Err("argument must be a memory value".into());
    } else {
        v.parse::<crate::config::ByteSize>()
            .map_err(|_| "argument must be a memory value".to_string())?
            .0
    };
    if n < min {
        return Err(format!(
            "argument must be between {min} and 9223372036854775807 inclusive"
        ));
    }
    Ok(n)
}

fn yes_no(v: &str) -> Result<bool, Refusal> {
    Ok(v.parse::<crate::config::YesNo>()
        .map_err(|_| "argument must be 'yes' or 'no'".to_string())?
        .0)
}

/// What CONFIG SET does with a setting.
enum Settable {
    /// Changes it in `config`.
    Now(fn(&mut Config, &str) -> Result<(), Refusal>),
    /// Known, but fixed once the server runs.
    Immutable,
    /// Fixed too; Redis 7.0 calls these protected (`enable-protected-configs`
    /// is off by default), and says so.
    Protected,
}

fn settable(name: &str) -> Option<Settable> {
    use Settable::{Immutable, Now, Protected};
    Some(match name {
        "tcp-keepalive" => Now(|c, v| {
            c.tcp_keepalive = u32::try_from(integer(v, 0, i64::from(i32::MAX))?).unwrap_or(0);
            Ok(())
        }),
        "timeout" => Now(|c, v| {
            c.timeout = integer(v, 0, i64::from(i32::MAX))?.unsigned_abs();
            Ok(())
        }),
        "hash-max-listpack-entries" | "hash-max-ziplist-entries" => Now(|c, v| {
            c.hash_max_listpack_entries = integer(v, 0, i64::MAX)?.unsigned_abs();
            Ok(())
        }),
        "hash-max-listpack-value" | "hash-max-ziplist-value" => Now(|c, v| {
            c.hash_max_listpack_value = memory(v, 0)?;
            Ok(())
        }),
        "list-max-listpack-size" | "list-max-ziplist-size" => Now(|c, v| {
            c.list_max_listpack_size = integer(v, i64::from(i32::MIN), i64::from(i32::MAX))?;
            Ok(())
        }),
        "zset-max-listpack-entries" | "zset-max-ziplist-entries" => Now(|c, v| {
            c.zset_max_listpack_entries = integer(v, 0, i64::MAX)?.unsigned_abs();
            Ok(())
        }),
        "zset-max-listpack-value" | "zset-max-ziplist-value" => Now(|c, v| {
            c.zset_max_listpack_value = memory(v, 0)?;
            Ok(())
        }),
        "stream-node-max-bytes" => Now(|c, v| {
            c.stream_node_max_bytes = memory(v, 0)?;
            Ok(())
        }),
        "stream-node-max-entries" => Now(|c, v| {
            c.stream_node_max_entries = integer(v, 0, i64::MAX)?.unsigned_abs();
            Ok(())
        }),
        "maxmemory" => Now(|c, v| {
            c.eviction.maxmemory = memory(v, 0)?;
            Ok(())
        }),
        "maxmemory-policy" => Now(|c, v| {
            c.eviction.policy =
                tandem_engine::evict::Policy::from_name(v).ok_or_else(|| BAD_POLICY.to_string())?;
            Ok(())
        }),
        "maxmemory-samples" => Now(|c, v| {
            c.eviction.samples = bounded(v, SAMPLES.0, SAMPLES.1)?;
            Ok(())
        }),
        "maxmemory-eviction-tenacity" => Now(|c, v| {
            c.eviction.tenacity = bounded(v, TENACITY.0, TENACITY.1)?;
            Ok(())
        }),
        "lfu-log-factor" => Now(|c, v| {
            c.eviction.lfu_log_factor = bounded(v, LFU.0, LFU.1)?;
            Ok(())
        }),
        "lfu-decay-time" => Now(|c, v| {
            c.eviction.lfu_decay_time = bounded(v, LFU.0, LFU.1)?;
            Ok(())
        }),
        "slowlog-log-slower-than" => Now(|c, v| {
            c.slowlog_log_slower_than = integer(v, SLOWLOG_THRESHOLD.0, SLOWLOG_THRESHOLD.1)?;
            Ok(())
        }),
        "slowlog-max-len" => Now(|c, v| {
            c.slowlog_max_len = integer(v, SLOWLOG_MAX_LEN.0, SLOWLOG_MAX_LEN.1)?.unsigned_abs();
            Ok(())
        }),
        "busy-reply-threshold" | "lua-time-limit" => Now(|c, v| {
            c.busy_reply_threshold = integer(v, 0, i64::MAX)?.unsigned_abs();
            Ok(())
        }),
        "latency-tracking" => Now(|c, v| {
            c.observability.latency_tracking = yes_no(v)?;
            Ok(())
        }),
        "latency-tracking-info-percentiles" => Now(|c, v| {
            c.observability.percentiles =
                crate::config::Percentiles(crate::latency::parse_percentiles(v)?);
            Ok(())
        }),
        "latency-monitor-threshold" => Now(|c, v| {
            c.observability.latency_monitor_threshold =
                integer(v, LATENCY_THRESHOLD.0, LATENCY_THRESHOLD.1)?.unsigned_abs();
            Ok(())
        }),
        "hll-sparse-max-bytes" => Now(|c, v| {
            c.hll_sparse_max_bytes = memory(v, 0)?;
            Ok(())
        }),
        "set-max-intset-entries" => Now(|c, v| {
            c.set_max_intset_entries = integer(v, 0, i64::MAX)?.unsigned_abs();
            Ok(())
        }),
        "maxclients" => Now(|c, v| {
            let n = u32::try_from(integer(v, 1, i64::from(u32::MAX))?).unwrap_or(u32::MAX);
            // Redis's `updateMaxclients`: the open-file limit is raised
            // for them, and a number the OS cannot take is refused.
            if let Ok(fits) = crate::fd_limit::fit(n) {
                if fits < u64::from(n) {
                    return Err(format!(
                        "The operating system is not able to handle the specified number of clients, try with {fits}"
                    ));
                }
            }
            c.maxclients = n;
            Ok(())
        }),
        "requirepass" => Now(|c, v| {
            c.requirepass = (!v.is_empty()).then(|| v.to_string());
            Ok(())
        }),
        // A change of these builds the TLS configuration again (`set`):
        // Redis's way to rotate certificates without a restart.
        "tls-cert-file" => Now(|c, v| {
            c.tls.cert_file = path_value(v);
            Ok(())
        }),
        "tls-key-file" => Now(|c, v| {
            c.tls.key_file = path_value(v);
            Ok(())
        }),
        "tls-ca-cert-file" => Now(|c, v| {
            c.tls.ca_cert_file = path_value(v);
            Ok(())
        }),
        "tls-ca-cert-dir" => Now(|c, v| {
            c.tls.ca_cert_dir = path_value(v);
            Ok(())
        }),
        "tls-auth-clients" => Now(|c, v| {
            c.tls.auth_clients = crate::config::tls::AuthClients::parse(v)?;
            Ok(())
        }),
        "tls-protocols" => Now(|c, v| {
            crate::config::tls::protocols(v)?;
            c.tls.protocols = v.to_string();
            Ok(())
        }),
        "tls-ciphersuites" => Now(|c, v| {
            c.tls.ciphersuites = v.to_string();
            Ok(())
        }),
        "tls-ciphers" => Now(|c, v| {
            c.tls.ciphers = v.to_string();
            Ok(())
        }),
        "acl-pubsub-default" => Now(|c, v| {
            c.acl_pubsub_allchannels = crate::config::acl_pubsub_default(v)?;
            Ok(())
        }),
        "acllog-max-len" => Now(|c, v| {
            c.acllog_max_len = integer(v, 0, i64::MAX)?.unsigned_abs();
            Ok(())
        }),
        "protected-mode" => Now(|c, v| {
            c.protected_mode = yes_no(v)?;
            Ok(())
        }),
        "proto-max-bulk-len" => Now(|c, v| {
            c.proto_max_bulk_len = memory(v, 1 << 20)?;
            Ok(())
        }),
        "proto-max-multibulk-len" => Now(|c, v| {
            let n = integer(v, 1, i64::from(i32::MAX))?;
            c.proto_max_multibulk_len = u32::try_from(n).unwrap_or(u32::MAX);
            Ok(())
        }),
        "client-query-buffer-limit" => Now(|c, v| {
            c.client_query_buffer_limit = memory(v, 1 << 20)?;
            Ok(())
        }),
        "notify-keyspace-events" => Now(|c, v| {
            c.notify_keyspace_events = tandem_engine::pubsub::NotifyFlags::parse(v.as_bytes())
                .map_err(|_| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
            Ok(())
        }),
        "client-output-buffer-limit" => Now(|c, v| {
            c.client_output_buffer_limit = c.client_output_buffer_limit.with(v)?;
            Ok(())
        }),
        "save" => Now(|c, v| {
            c.save = crate::config::SaveRules::from_config_set(v)?;
            Ok(())
        }),
        "appendonly" => Now(|c, v| {
            c.appendonly = yes_no(v)?;
            Ok(())
        }),
        "appendfsync" => Now(|c, v| {
            c.appendfsync = tandem_engine::storage::wal::SyncPolicy::parse(v).ok_or_else(|| {
                "argument(s) must be one of the following: everysec, always, no".to_string()
            })?;
            Ok(())
        }),
        "aof-load-truncated" => Now(|c, v| {
            c.aof_load_truncated = yes_no(v)?;
            Ok(())
        }),
        "stop-writes-on-bgsave-error" => Now(|c, v| {
            c.stop_writes_on_bgsave_error = yes_no(v)?;
            Ok(())
        }),
        // Redis can move `dir` and rename `dbfilename` at run time; here
        // the store is opened in them once, at start-up.
        "dir" | "dbfilename" => Protected,
        "bind" | "port" | "unixsocket" | "tcp-backlog" | "databases" | "io-threads"
        | "appenddirname" | "metrics-port" | "aclfile" | "tls-port" => Immutable,
        "loglevel" => Now(|c, v| {
            let level = v.to_ascii_lowercase();
            if crate::config::log_filter(&level).is_none() {
                return Err(
                    "argument(s) must be one of the following: debug, verbose, notice, warning"
                        .into(),
                );
            }
            c.loglevel = level;
            Ok(())
        }),
        // Redis 7 refuses to change a protected command's switch at run
        // time, with the immutable settings' words.
        "enable-debug-command" => Immutable,
        _ => return None,
    })
}

fn set(c: &mut Call<'_>) -> CmdResult {
    let pairs = c.args_from(2);
    if !pairs.len().is_multiple_of(2) {
        return Err(Reject::Static("ERR syntax error"));
    }
    let failed = |name: &str, why: &str| {
        Reject::Owned(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    // As Redis's `configSetCommand`: every name is looked at before any
    // value, the first problem (unknown, fixed, given twice) is the one
    // reported, naming the parameter as it was typed; a bad value names
    // the setting (lowercase).
    let mut appliers = Vec::with_capacity(pairs.len() / 2);
    let mut seen: Vec<String> = Vec::with_capacity(pairs.len() / 2);
    for name in pairs.iter().step_by(2) {
        let typed = String::from_utf8_lossy(name);
        let lower = typed.to_ascii_lowercase();
        let why = match settable(&lower) {
            None => {
                return Err(Reject::Owned(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{typed}'"
                )))
            }
            Some(Settable::Immutable) => "can't set immutable config",
            Some(Settable::Protected) => "can't set protected config",
            Some(Settable::Now(_)) if seen.contains(&lower) => "duplicate parameter",
            Some(Settable::Now(apply)) => {
                appliers.push(apply);
                seen.push(lower);
                continue;
            }
        };
        return Err(failed(&typed, why));
    }
    let mut next = Config::clone(&c.shared.config.load());
    let mut requirepass_given = false;
    let mut tls_given: Option<String> = None;
    for ((name, value), apply) in pairs
        .iter()
        .step_by(2)
        .zip(pairs.iter().skip(1).step_by(2))
        .zip(appliers)
    {
        let typed = String::from_utf8_lossy(name);
        let lower = typed.to_ascii_lowercase();
        requirepass_given |= lower == "requirepass";
        if lower.starts_with("tls-") && tls_given.is_none() {
            tls_given = Some(lower.clone());
        }
        let value = String::from_utf8_lossy(value);
        apply(&mut next, &value).map_err(|why| failed(&lower, &why))?;
    }
    // A TLS change is checked by building it, before anything applies.
    let shared = c.shared;
    let tls = match &tls_given {
        // Without a TLS port the settings are only kept, as in Redis.
        Some(name) if next.tls.port != 0 => {
            let built = crate::tls::server_config(&next.tls).map_err(|why| {
                tracing::warn!("CONFIG SET {name}: the TLS configuration cannot be built: {why}");
                failed(
                    name,
                    "Unable to update TLS configuration. Check server logs.",
                )
            })?;
            Some(built)
        }
        _ => None,
    };
    // Everything checked: now the engine and hubs, then the new config.
    if let Some(tls) = tls {
        // New handshakes use it; connections already up keep theirs.
        shared.tls.store(Some(tls));
    }
    shared.hub.set_notify_flags(next.notify_keyspace_events);
    let queue = next.client_output_buffer_limit.pubsub_queue();
    shared.hub.set_limits(queue);
    shared.shard_hub.set_limits(queue);
    shared.monitors.set_limits(queue);
    let max_value = usize::try_from(next.proto_max_bulk_len).unwrap_or(usize::MAX);
    for db in shared.dbs.all().iter() {
        db.set_max_value_bytes(max_value);
        db.set_limits(next.limits());
    }
    let before = shared.config.load_full();
    if next.appendfsync != before.appendfsync {
        shared.persistence.set_sync(next.appendfsync);
    }
    if next.appendonly != before.appendonly {
        // Redis's words when the log cannot be started.
        shared
            .persistence
            .set_appendonly(next.appendonly, shared.stats.changes())
            .map_err(|why| {
                tracing::error!("CONFIG SET appendonly {}: {why}", next.appendonly);
                failed("appendonly", "Failed to set current 'appendonly' config")
            })?;
    }
    shared.set_access_rules(&next.eviction);
    shared
        .slowlog
        .configure(next.slowlog_log_slower_than, next.slowlog_max_len);
    shared.latency.configure(&next.observability);
    shared.acl.set_pubsub_default(next.acl_pubsub_allchannels);
    if next.loglevel != before.loglevel {
        if let Some(directive) = crate::config::log_filter(&next.loglevel) {
            if let Err(why) = crate::log_level::apply(directive) {
                tracing::warn!("CONFIG SET loglevel: the log filter did not change: {why}");
            }
        }
    }
    if requirepass_given {
        // As Redis: the default user's passwords become this one alone.
        shared
            .acl
            .set_default_password(next.requirepass.as_deref().map(str::as_bytes));
    }
    let maxmemory = next.eviction.maxmemory;
    let lowered = maxmemory != 0 && maxmemory != before.eviction.maxmemory;
    shared.config.store(std::sync::Arc::new(next));
    if lowered {
        let used = shared.eviction.memory.refresh();
        if maxmemory < used {
            tracing::warn!(
                "WARNING: the new maxmemory value set via CONFIG SET ({maxmemory}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
            );
        }
        // As Redis's `startEvictionTimeProc`: the background evicts, so
        // that this reply does not wait for the whole drop.
        shared.eviction.wake();
    }
    c.out.ok();
    Ok(())
}
