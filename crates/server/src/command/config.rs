//! CONFIG: reading the server's settings.
//!
//! Owns CONFIG GET, which answers for every setting in `config::Settings`,
//! plus `save` and `appendonly` (no persistence yet), which redis-benchmark
//! asks for before it starts.

use super::args::is;
use super::spec::{flags::*, spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use crate::config::Config;

pub(super) const COMMANDS: &[Spec] = &[spec("config", -2, ADMIN, (0, 0, 0), config)];

/// Every setting CONFIG GET knows, with its current value.
fn settings(c: &Config) -> Vec<(&'static str, String)> {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    vec![
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
        ("requirepass", c.requirepass.clone().unwrap_or_default()),
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
        ("loglevel", c.loglevel.clone()),
        ("io-threads", c.io_threads.to_string()),
        // No persistence yet: nothing is saved, and there is no AOF.
        ("save", String::new()),
        ("appendonly", "no".into()),
    ]
}

fn config(c: &mut Call<'_>) -> CmdResult {
    let sub = c.args[1];
    if is(sub, "get") {
        if c.args.len() < 3 {
            return Err(Reject::Owned(
                "ERR wrong number of arguments for 'config|get' command".into(),
            ));
        }
        let config = c.shared.config.load();
        let all = settings(&config);
        // As Redis 7: a name without glob characters is answered with the
        // name as the client wrote it; a pattern with the real names. Each
        // setting is listed once, however many arguments match it.
        let mut found: Vec<(&[u8], &str)> = Vec::new();
        for &pattern in &c.args[2..] {
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
    if is(sub, "help") {
        let lines = [
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "HELP",
            "    Print this help.",
        ];
        c.out.array(lines.len());
        for l in lines {
            c.out.simple(l);
        }
        return Ok(());
    }
    Err(unknown_subcommand(sub, "config"))
}
