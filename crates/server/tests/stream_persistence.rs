//! Streams across restarts: entries, tombstones, node boundaries, the
//! counters, and consumer groups with their pending entries and
//! consumers come back exactly as they were, whether the log is replayed
//! (a restart, a killed process) or a snapshot is loaded and the log
//! after it replayed. Compared by XINFO STREAM FULL, which shows all of
//! it (absolute times included), and XRANGE.

mod common;

use common::{encode_words, Config, Error, Raw, TestResult};
use std::sync::Arc;
use tandem_engine::storage::backend::SimFs;
use tandem_engine::storage::wal::SyncPolicy;
use tandem_server::config::StorageFs;

fn durable() -> Config {
    Config {
        appendonly: true,
        appendfsync: SyncPolicy::EverySec,
        // Small nodes: splits, whole-node trims and tombstones in many.
        stream_node_max_entries: 4,
        ..common::config()
    }
}

fn on(fs: &SimFs) -> Config {
    Config {
        fs: StorageFs(Arc::new(fs.clone())),
        dir: "/data".into(),
        ..durable()
    }
}

fn run(c: &mut Raw, lines: &[&str]) -> TestResult {
    for line in lines {
        let reply = c.call(&encode_words(line))?;
        assert!(!reply.starts_with(b"-"), "{line}: {}", common::text(&reply));
    }
    Ok(())
}

/// Every change a stream and its groups can take.
fn write_streams(c: &mut Raw, round: u32) -> TestResult {
    let key = format!("s{round}");
    for i in 1..=40 {
        let fields = if i % 3 == 0 { "f v g w" } else { "f v" };
        run(c, &[&format!("XADD {key} {i}-{} {fields}", i % 2)])?;
    }
    run(
        c,
        &[
            &format!("XDEL {key} 3-1 4-0 20-0"),
            &format!("XTRIM {key} MAXLEN ~ 30"),
            &format!("XTRIM {key} MINID 12"),
            &format!("XGROUP CREATE {key} g 0"),
            &format!("XGROUP CREATE {key} h $ ENTRIESREAD 7"),
            &format!("XGROUP CREATE {key} gone 0"),
            &format!("XREADGROUP GROUP g alice COUNT 5 STREAMS {key} >"),
            &format!("XREADGROUP GROUP g bob COUNT 3 STREAMS {key} >"),
            &format!("XREADGROUP GROUP g carol NOACK COUNT 2 STREAMS {key} >"),
            &format!("XREADGROUP GROUP g alice STREAMS {key} 0"),
            &format!("XACK {key} g 12-0 13-1"),
            &format!("XCLAIM {key} g bob 0 14-0 RETRYCOUNT 9"),
            &format!("XCLAIM {key} g dave 0 30-0 FORCE"),
            &format!("XAUTOCLAIM {key} g erin 0 0 COUNT 2"),
            &format!("XGROUP CREATECONSUMER {key} g frank"),
            &format!("XGROUP DELCONSUMER {key} g carol"),
            &format!("XGROUP DESTROY {key} gone"),
            &format!("XGROUP SETID {key} h 25-0"),
            &format!("XDEL {key} 16-0"),
            &format!("XADD {key} 50-0 late entry"),
            &format!("XSETID {key} 60-0 ENTRIESADDED 100 MAXDELETEDID 55-0"),
            &format!("XGROUP CREATE e{round} g $ MKSTREAM"),
            // An entry after a larger tombstone, as Redis allows.
            &format!("XADD e{round} 1-0 f v"),
            &format!("XADD e{round} 5-0 f v"),
            &format!("XDEL e{round} 5-0"),
            &format!("XSETID e{round} 2-0"),
            &format!("XADD e{round} 3-0 f w"),
            &format!("XADD e{round} 5-0 f x"),
        ],
    )
}

/// What a client sees of every stream.
fn state(c: &mut Raw, rounds: u32) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    for round in 0..rounds {
        for key in [format!("s{round}"), format!("e{round}")] {
            out.push(c.call(&encode_words(&format!("XINFO STREAM {key} FULL COUNT 0")))?);
            out.push(c.call(&encode_words(&format!("XRANGE {key} - +")))?);
            out.push(c.call(&encode_words(&format!("XINFO GROUPS {key}")))?);
        }
    }
    Ok(out)
}

#[test]
fn streams_and_their_groups_survive_a_restart() -> TestResult {
    let config = durable();
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    write_streams(&mut c, 0)?;
    let before = state(&mut c, 1)?;
    server.stop()?;
    let server = common::start(config.clone())?;
    let mut c = Raw::connect(server.addr())?;
    assert_eq!(state(&mut c, 1)?, before, "replayed from the log");
    // A snapshot, more changes after it, and a restart: the snapshot
    // loaded, the log after it replayed.
    run(&mut c, &["SAVE"])?;
    write_streams(&mut c, 1)?;
    run(&mut c, &["XADD s0 70-0 more after", "XACK s0 g 14-0"])?;
    let before = state(&mut c, 2)?;
    server.stop()?;
    let server = common::start(config)?;
    let mut c = Raw::connect(server.addr())?;
    assert_eq!(state(&mut c, 2)?, before, "a snapshot and the log after it");
    // Not vacuous: the groups and their pending entries are there.
    let groups = c.call(&encode_words("XPENDING s0 g"))?;
    assert!(
        groups.starts_with(b"*4\r\n:6\r\n"),
        "{}",
        common::text(&groups)
    );
    Ok(())
}

#[test]
fn a_killed_process_loses_no_acknowledged_stream_change() -> TestResult {
    let fs = SimFs::new();
    let server = common::start(on(&fs))?;
    let mut c = Raw::connect(server.addr())?;
    write_streams(&mut c, 0)?;
    run(&mut c, &["BGSAVE"])?;
    write_streams(&mut c, 1)?;
    let before = state(&mut c, 2)?;
    let after = fs.kill();
    let restarted = common::start(on(&after))?;
    let mut c = Raw::connect(restarted.addr())?;
    assert_eq!(state(&mut c, 2)?, before);
    drop(server);
    Ok(())
}
