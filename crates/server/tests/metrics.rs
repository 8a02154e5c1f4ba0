//! The metrics port over HTTP: `/metrics` reports what INFO and LATENCY
//! report (commands, keys, shards, per-shard series, durations), in the
//! OpenMetrics text format; `/` serves the live page; other paths and
//! methods are refused; the port is off by default; and every metric the
//! Grafana dashboard and the alert rules in `deploy/` name is one a
//! running server exports.

mod common;

use common::table::{connect, run};
use common::{http_get, TestResult};
use std::collections::BTreeMap;

/// One series: its name and labels (sorted), and its value.
type Series = BTreeMap<(String, Vec<(String, String)>), f64>;

/// Parses the exposition text (no escapes in Tandem's label values).
fn parse(text: &str) -> Result<Series, String> {
    let mut out = Series::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (head, value) = line.rsplit_once(' ').ok_or(format!("no value: {line}"))?;
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => {
                let mut labels = Vec::new();
                for l in rest
                    .trim_end_matches('}')
                    .split(',')
                    .filter(|l| !l.is_empty())
                {
                    let (k, v) = l.split_once('=').ok_or(format!("bad label: {line}"))?;
                    labels.push((k.to_string(), v.trim_matches('"').to_string()));
                }
                labels.sort();
                (name.to_string(), labels)
            }
            None => (head.to_string(), Vec::new()),
        };
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().map_err(|_| format!("bad value: {line}"))?,
        };
        out.insert((name, labels), value);
    }
    Ok(out)
}

fn get(series: &Series, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.sort();
    series.get(&(name.to_string(), labels)).copied()
}

fn with_name<'a>(
    series: &'a Series,
    name: &'a str,
) -> impl Iterator<Item = (&'a Vec<(String, String)>, f64)> + 'a {
    series
        .iter()
        .filter(move |((n, _), _)| n == name)
        .map(|((_, l), v)| (l, *v))
}

fn info_number(
    con: &mut redis::Connection,
    section: &str,
    field: &str,
) -> Result<String, common::Error> {
    info_text(con, section)?
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .ok_or_else(|| format!("no {field} in INFO {section}").into())
}

fn info_text(con: &mut redis::Connection, section: &str) -> Result<String, common::Error> {
    match run(con, &format!("INFO {section}"))? {
        redis::Value::VerbatimString { text, .. } => Ok(text),
        redis::Value::BulkString(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        other => Err(format!("INFO answers text, not {other:?}").into()),
    }
}

#[test]
fn the_port_is_off_by_default() -> TestResult {
    let server = common::start(common::config())?;
    assert_eq!(server.metrics_addr(), None);
    Ok(())
}

#[test]
fn a_scrape_reports_what_info_reports() -> TestResult {
    let server = common::start_with_metrics()?;
    let mut con = connect(&server)?;
    for i in 0..500 {
        run(&mut con, &format!("SET key:{i} value"))?;
    }
    for i in 0..300 {
        run(&mut con, &format!("GET key:{i}"))?;
    }
    run(&mut con, "GET")?;
    let (status, text) = http_get(&server, "/metrics")?;
    assert_eq!(status, 200);
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    let s = parse(&text)?;
    assert_eq!(
        get(&s, "tandem_commands_total", &[("cmd", "set")]),
        Some(500.0)
    );
    assert_eq!(
        get(&s, "tandem_commands_total", &[("cmd", "get")]),
        Some(300.0)
    );
    assert_eq!(
        get(
            &s,
            "tandem_commands_rejected_calls_total",
            &[("cmd", "get")]
        ),
        Some(1.0)
    );
    // Error replies by code, as INFO errorstats counts them (the client
    // library's CLIENT SETINFO, new in Redis 7.2, is refused too).
    let errors: f64 = info_number(&mut con, "errorstats", "errorstat_ERR")?
        .trim_start_matches("count=")
        .parse()?;
    assert!(errors >= 1.0);
    assert_eq!(
        get(&s, "tandem_errors_total", &[("err", "ERR")]),
        Some(errors)
    );
    assert_eq!(get(&s, "tandem_memtable_write_ops_total", &[]), Some(500.0));
    // Every call is in its command's histogram, and in its kind's.
    assert_eq!(
        get(
            &s,
            "tandem_command_duration_seconds_count",
            &[("cmd", "set")]
        ),
        Some(500.0)
    );
    assert_eq!(
        get(
            &s,
            "tandem_command_duration_seconds_bucket",
            &[("cmd", "set"), ("le", "+Inf")]
        ),
        Some(500.0)
    );
    assert_eq!(
        get(&s, "tandem_memtable_write_latency_seconds_count", &[]),
        Some(500.0)
    );
    assert_eq!(
        get(&s, "tandem_memtable_read_latency_seconds_count", &[]),
        Some(300.0)
    );
    // The keyspace, as INFO has it.
    let info = info_text(&mut con, "shards")?;
    let db0 = info
        .lines()
        .find(|l| l.starts_with("db0:"))
        .ok_or("no db0 in INFO shards")?;
    let field = |name: &str| -> f64 {
        db0.split([':', ','])
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    assert_eq!(get(&s, "tandem_db_keys", &[("db", "0")]), Some(500.0));
    let shards = get(&s, "tandem_memtable_shards", &[("db", "0")]).ok_or("no shards")?;
    assert_eq!(shards, field("shards"));
    let per_shard: Vec<f64> = with_name(&s, "tandem_memtable_shard_keys")
        .filter(|(l, _)| l.iter().any(|(k, v)| k == "db" && v == "0"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(per_shard.len() as f64, shards, "one series per shard");
    assert_eq!(per_shard.iter().sum::<f64>(), 500.0);
    assert_eq!(
        get(&s, "tandem_memtable_shard_imbalance_ratio", &[("db", "0")]),
        Some(field("imbalance"))
    );
    // Empty databases add no series.
    assert_eq!(get(&s, "tandem_db_keys", &[("db", "5")]), None);
    let used: f64 = info_number(&mut con, "memory", "maxmemory")?.parse()?;
    assert_eq!(get(&s, "tandem_memory_max_bytes", &[]), Some(used));
    Ok(())
}

#[test]
fn other_paths_and_methods_are_refused_and_the_page_is_served() -> TestResult {
    let server = common::start_with_metrics()?;
    let (status, page) = http_get(&server, "/")?;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"shard-count\"") && page.contains("fetch(\"/metrics\""));
    assert_eq!(http_get(&server, "/nope")?.0, 404);
    let addr = server.metrics_addr().ok_or("no metrics port")?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let posted = agent.post(&format!("http://{addr}/metrics")).send("x")?;
    assert_eq!(posted.status().as_u16(), 405);
    // A request head larger than the port reads is refused, and the port
    // goes on serving.
    use std::io::{Read, Write};
    let mut raw = std::net::TcpStream::connect(addr)?;
    raw.set_read_timeout(Some(common::TIMEOUT))?;
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let _ = raw.write_all(huge.as_bytes());
    let mut reply = Vec::new();
    let _ = raw.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
    assert_eq!(http_get(&server, "/metrics")?.0, 200);
    Ok(())
}

/// The metric names a PromQL expression mentions.
fn names_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("tandem_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

#[test]
fn the_dashboard_and_the_alerts_name_only_exported_metrics() -> TestResult {
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        deploy.join("grafana/tandem.json"),
    )?)?;
    let panels = dashboard["panels"].as_array().ok_or("panels")?;
    assert_eq!(panels.len(), 5, "the five panels of the design");
    let mut wanted = Vec::new();
    for panel in panels {
        for target in panel["targets"].as_array().ok_or("targets")? {
            wanted.extend(names_in(target["expr"].as_str().ok_or("expr")?));
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .ok_or("templating")?
    {
        if let Some(q) = variable["definition"].as_str() {
            wanted.extend(names_in(q));
        }
    }
    // The rules' expressions: each `expr: |` and the lines indented
    // under it.
    let alerts = std::fs::read_to_string(deploy.join("prometheus/alerts.yml"))?;
    let mut in_expr: Option<usize> = None;
    for line in alerts.lines() {
        let indent = line.len() - line.trim_start().len();
        match in_expr {
            Some(at) if indent > at && !line.trim().is_empty() => wanted.extend(names_in(line)),
            _ => {
                in_expr = line.trim_start().starts_with("expr:").then_some(indent);
                if let Some(rest) = line.trim_start().strip_prefix("expr:") {
                    wanted.extend(names_in(rest));
                }
            }
        }
    }
    assert!(wanted.len() > 20, "{wanted:?}");
    // A server with keys, expired keys and a resize behind it.
    let server = common::start_with_metrics()?;
    let mut con = connect(&server)?;
    for i in 0..200 {
        run(&mut con, &format!("SET k{i} v PX 1"))?;
    }
    run(&mut con, "SET kept v")?;
    run(&mut con, "DEBUG RESIZE 0 8")?;
    let (_, text) = http_get(&server, "/metrics")?;
    let exported = parse(&text)?;
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|name| !exported.keys().any(|(n, _)| n == *name))
        .collect();
    assert!(missing.is_empty(), "named but not exported: {missing:?}");
    Ok(())
}

/// Keyspace hits and misses after each command from an empty database,
/// as Redis 7.0.15 counted them (`INFO stats`, after CONFIG RESETSTAT):
/// reads count each key once, writes' lookups not at all.
const HITS_AND_MISSES: &[(&str, u64, u64)] = &[
    ("SET a 1", 0, 0),
    ("GET a", 1, 0),
    ("GET b", 0, 1),
    ("EXISTS a b", 1, 1),
    ("TYPE a", 1, 0),
    ("MGET a b c", 1, 2),
    ("INCR a", 0, 0),
    ("TTL a", 1, 0),
    ("OBJECT ENCODING a", 1, 0),
    ("RANDOMKEY", 0, 0),
    ("HSET h f v", 0, 0),
    ("HGET h f", 1, 0),
    ("HGET h g", 1, 0),
    ("SADD s x", 0, 0),
    ("SISMEMBER s x", 1, 0),
    ("SUNION s t", 1, 1),
    ("SINTER s t", 1, 1),
    ("SMOVE s t x", 0, 0),
    ("RENAME a b", 0, 0),
    ("COPY b c", 1, 0),
    ("GETEX b", 1, 0),
    ("SET b 2 GET", 1, 0),
    ("LPUSH l a", 0, 0),
    ("LMOVE l l2 LEFT LEFT", 0, 0),
    ("ZADD z 1 m", 0, 0),
    ("ZUNION 2 z y", 1, 1),
    ("SADD t x", 0, 0),
    ("SINTERSTORE d s t", 1, 1),
    ("SUNIONSTORE d s nope", 0, 2),
    ("ZUNIONSTORE o 2 z y", 1, 1),
    ("LMPOP 2 nope l2 LEFT", 0, 0),
    ("ZMPOP 2 nope z MIN", 0, 0),
    ("SINTERCARD 2 s t", 1, 1),
];

#[test]
fn keyspace_hits_and_misses_count_as_redis_counts() -> TestResult {
    let server = common::start_with_metrics()?;
    let mut con = connect(&server)?;
    for (line, hits, misses) in HITS_AND_MISSES {
        run(&mut con, "CONFIG RESETSTAT")?;
        run(&mut con, line)?;
        let got = (
            info_number(&mut con, "stats", "keyspace_hits")?.parse::<u64>()?,
            info_number(&mut con, "stats", "keyspace_misses")?.parse::<u64>()?,
        );
        assert_eq!(got, (*hits, *misses), "{line}");
    }
    // And /metrics reports the same counters.
    run(&mut con, "CONFIG RESETSTAT")?;
    run(&mut con, "MGET a b c nope")?;
    let s = parse(&http_get(&server, "/metrics")?.1)?;
    assert_eq!(get(&s, "tandem_keyspace_hits_total", &[]), Some(2.0));
    assert_eq!(get(&s, "tandem_keyspace_misses_total", &[]), Some(2.0));
    Ok(())
}
