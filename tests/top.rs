//! `tandem top` as an operator runs it: the real binary against a running
//! server, printing (piped, so one reading after another) the summary,
//! each database's shard count and the fullest shards of the one asked
//! for, with the numbers the server reports.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::process::Command;
use std::time::{Duration, Instant};
use tandem_bench::resp::client::Client;
use tandem_bench::resp::Reply;

fn ask(client: &mut Client, args: &[&[u8]]) -> String {
    client.send_command(args).unwrap();
    client
        .reply(Instant::now() + Duration::from_secs(10), |r| match r {
            Reply::Simple(b) | Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Reply::Verbatim(b) => String::from_utf8_lossy(&b[4..]).into_owned(),
            other => panic!("{other:?}"),
        })
        .unwrap()
}

#[test]
fn top_shows_the_shards_the_server_has() {
    let dir = std::env::temp_dir().join(format!("tandem-top-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = tandem_server::Config {
        port: 0,
        dir: dir.clone(),
        enable_debug_command: tandem_server::config::Allowed::Yes,
        ..tandem_server::Config::default()
    };
    let server = tandem_server::start(config, 2).unwrap();
    let mut client = Client::connect(server.addr(), Duration::from_secs(10)).unwrap();
    ask(&mut client, &[b"SELECT", b"3"]);
    for i in 0..3000 {
        ask(&mut client, &[b"SET", format!("k{i}").as_bytes(), b"v"]);
    }
    // 3,000 keys over 2 shards: the resize policy keeps it so.
    ask(&mut client, &[b"DEBUG", b"RESIZE", b"3", b"2"]);
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["top", "--port", &server.addr().port().to_string()])
        .args([
            "--db",
            "3",
            "--rows",
            "2",
            "--count",
            "2",
            "--interval",
            "0.2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Two readings, each with the summary and the tables.
    assert_eq!(text.matches("keys 3.0k").count(), 2, "{text}");
    let db3: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("db3 ") && !l.contains("fullest"))
        .collect();
    assert_eq!(db3.len(), 2, "{text}");
    let cols: Vec<&str> = db3[0].split_whitespace().collect();
    assert_eq!(cols[1], "2", "two shards: {text}");
    assert_eq!(cols[2], "3.0k", "{text}");
    assert!(
        text.contains("db3 shards, fullest first (2 of 2; mean 1.5k keys)"),
        "{text}"
    );
    // The two shard rows hold every key between them.
    let info = ask(&mut client, &[b"INFO", b"shardlist"]);
    let mut keys: Vec<u64> = info
        .lines()
        .filter(|l| l.starts_with("db3_shard_"))
        .map(|l| {
            l.split("keys=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    keys.sort_unstable();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.iter().sum::<u64>(), 3000);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn top_says_why_it_cannot_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["top", "--port", &port.to_string(), "--count", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tandem top: cannot connect"));
}
