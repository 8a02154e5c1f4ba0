//! LATENCY and INFO latencystats over the network, with Redis 7.0.15's
//! replies recorded beside each request: the latency monitor's spikes
//! (LATEST, HISTORY, RESET, DOCTOR) at and over the threshold only, the
//! per-command histograms (HISTOGRAM, INFO latencystats) and their
//! settings, and the errors.

mod common;

use common::table::{check, connect, render, run};
use common::TestResult;
use redis::Value;

fn ints(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Int(n) => *n,
                other => panic!("an integer, not {other:?}"),
            })
            .collect(),
        other => panic!("an array, not {other:?}"),
    }
}

/// A RESP2 map (a flat array of keys and values) as pairs.
fn pairs(v: Value) -> Vec<(Value, Value)> {
    match v {
        Value::Array(flat) => {
            let mut it = flat.into_iter();
            let mut out = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            out
        }
        Value::Map(pairs) => pairs,
        other => panic!("a map, not {other:?}"),
    }
}

fn text(v: Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::VerbatimString { text, .. } => text,
        other => panic!("text, not {other:?}"),
    }
}

#[test]
fn settings_and_errors_answer_as_redis_does() -> TestResult {
    let server = common::start(common::config())?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
            ("CONFIG GET latency-tracking", "[\"latency-tracking\", \"yes\"]"),
            (
                "CONFIG GET latency-tracking-info-percentiles",
                "[\"latency-tracking-info-percentiles\", \"50 99 99.9\"]",
            ),
            ("CONFIG GET latency-monitor-threshold", "[\"latency-monitor-threshold\", \"0\"]"),
            ("LATENCY LATEST", "[]"),
            ("LATENCY HISTORY command", "[]"),
            ("LATENCY RESET", ":0"),
            ("LATENCY RESET nosuch", ":0"),
            // RESP2: a map is a flat array.
            ("LATENCY HISTOGRAM nosuch", "[]"),
            ("LATENCY foo", "-ERR unknown subcommand 'foo'. Try LATENCY HELP."),
            ("LATENCY HISTORY", "-ERR wrong number of arguments for 'latency|history' command"),
            (
                "CONFIG SET latency-monitor-threshold -1",
                "-ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must be between 0 and 9223372036854775807 inclusive",
            ),
            (
                "CONFIG SET latency-tracking maybe",
                "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking') - argument must be 'yes' or 'no'",
            ),
            (
                "CONFIG SET latency-tracking-info-percentiles abc",
                "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters",
            ),
            (
                "CONFIG SET latency-tracking-info-percentiles 150",
                "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
            ),
        ],
    )?;
    // Several percentiles are one argument with spaces.
    let set: Value = redis::cmd("CONFIG")
        .arg("SET")
        .arg("latency-tracking-info-percentiles")
        .arg("99.99 0 50.5")
        .query(&mut con)?;
    assert_eq!(render(&set), "+OK");
    check(
        &mut con,
        &[(
            "CONFIG GET latency-tracking-info-percentiles",
            "[\"latency-tracking-info-percentiles\", \"99.99 0 50.5\"]",
        )],
    )?;
    let doctor = text(run(&mut con, "LATENCY DOCTOR")?);
    assert!(
        doctor.starts_with("I'm sorry, Dave, I can't do that. Latency monitoring is disabled"),
        "{doctor}"
    );
    let Value::Array(help) = run(&mut con, "LATENCY HELP")? else {
        return Err("HELP answers an array".into());
    };
    assert_eq!(
        render(&help[0]),
        "+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    Ok(())
}

#[test]
fn spikes_at_or_over_the_threshold_are_recorded_by_event() -> TestResult {
    let server = common::start_with_debug()?;
    let mut con = connect(&server)?;
    check(
        &mut con,
        &[
            ("CONFIG SET latency-monitor-threshold 20", "+OK"),
            // Under the threshold: nothing.
            ("DEBUG SLEEP 0", "+OK"),
            ("LATENCY LATEST", "[]"),
            ("DEBUG SLEEP 0.03", "+OK"),
        ],
    )?;
    let Value::Array(latest) = run(&mut con, "LATENCY LATEST")? else {
        return Err("LATEST answers an array".into());
    };
    assert_eq!(latest.len(), 1, "{latest:?}");
    let Value::Array(event) = &latest[0] else {
        return Err("an event is an array".into());
    };
    assert_eq!(render(&event[0]), "\"command\"");
    let (Value::Int(time), Value::Int(ms), Value::Int(max)) = (&event[1], &event[2], &event[3])
    else {
        return Err(format!("time, latest, max: {event:?}").into());
    };
    assert!(*ms >= 30 && max == ms, "{ms} {max}");
    assert!(*time > 1_700_000_000, "Unix seconds: {time}");
    let Value::Array(history) = run(&mut con, "LATENCY HISTORY command")? else {
        return Err("HISTORY answers an array".into());
    };
    assert_eq!(history.len(), 1);
    assert_eq!(ints(&history[0]), vec![*time, *ms]);
    // GRAPH: Redis 7.0.15's title, rule and a one-sample sparkline (a
    // flat series sits on the floor), labelled with its age.
    let graph = text(run(&mut con, "LATENCY GRAPH command")?);
    let mut lines = graph.lines();
    assert_eq!(
        lines.next(),
        Some(format!("command - high {ms} ms, low {ms} ms (all time high {ms} ms)").as_str())
    );
    assert_eq!(lines.next(), Some("-".repeat(80).as_str()));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows[..5], [" ", " ", " ", "_", " "], "{graph}");
    assert!(
        rows[5].chars().all(|c| c.is_ascii_digit()) && rows[rows.len() - 1] == "s",
        "{graph}"
    );
    check(
        &mut con,
        &[(
            "LATENCY GRAPH nosuch",
            "-ERR No samples available for event 'nosuch'",
        )],
    )?;
    let doctor = text(run(&mut con, "LATENCY DOCTOR")?);
    assert!(
        doctor.contains("1. command: 1 latency spikes (average ")
            && doctor.contains("- Check your Slow Log"),
        "{doctor}"
    );
    check(
        &mut con,
        &[
            ("LATENCY RESET COMMAND", ":1"),
            ("LATENCY LATEST", "[]"),
            ("CONFIG SET latency-monitor-threshold 0", "+OK"),
            ("DEBUG SLEEP 0.03", "+OK"),
            ("LATENCY LATEST", "[]"),
        ],
    )?;
    let doctor = text(run(&mut con, "LATENCY DOCTOR")?);
    assert!(doctor.starts_with("I'm sorry, Dave"), "{doctor}");
    Ok(())
}

#[test]
fn every_call_goes_in_its_commands_histogram() -> TestResult {
    let server = common::start_with_debug()?;
    let mut con = connect(&server)?;
    for i in 0..50 {
        run(&mut con, &format!("SET k{i} v"))?;
    }
    run(&mut con, "DEBUG SLEEP 0.01")?;
    run(&mut con, "CONFIG GET maxmemory")?;
    let all = pairs(run(&mut con, "LATENCY HISTOGRAM set config debug")?);
    let names: Vec<String> = all.iter().map(|(k, _)| render(k)).collect();
    // In the order asked, as Redis answers.
    assert_eq!(names, vec!["\"set\"", "\"config|get\"", "\"debug\""]);
    for (name, h) in &all {
        let fields = pairs(h.clone());
        assert_eq!(render(&fields[0].0), "\"calls\"");
        let calls = match (render(name).as_str(), &fields[0].1) {
            ("\"set\"", Value::Int(n)) => {
                assert_eq!(*n, 50);
                50
            }
            (_, Value::Int(n)) => {
                assert_eq!(*n, 1);
                1
            }
            (_, other) => return Err(format!("calls: {other:?}").into()),
        };
        let buckets = pairs(fields[1].1.clone());
        let points: Vec<(i64, i64)> = buckets
            .iter()
            .map(|(k, v)| match (k, v) {
                (Value::Int(k), Value::Int(v)) => (*k, *v),
                other => panic!("{other:?}"),
            })
            .collect();
        // Cumulative, growing, ending at every call.
        assert!(points
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
        assert_eq!(points.last().map(|p| p.1), Some(calls));
        if render(name) == "\"debug\"" {
            // 10 ms is under 2^24 ns: Redis 7.0.15 labels that bucket
            // 16908 (DEBUG SLEEP 0.01 answered `16908 1` there); the next
            // one, 33816, if the sleep ran 7 ms late.
            assert_eq!(points.len(), 1, "{points:?}");
            assert!([(16908, 1), (33816, 1)].contains(&points[0]), "{points:?}");
        }
    }
    let info = text(run(&mut con, "INFO latencystats")?);
    let set = info
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"))
        .ok_or(format!("no set line in {info}"))?;
    assert!(
        set.contains(":p50=") && set.contains(",p99=") && set.contains(",p99.9="),
        "{set}"
    );
    let debug = info
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_debug:"))
        .ok_or("no debug line")?;
    let p50: f64 = debug
        .split(['=', ','])
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or(debug.to_string())?;
    // A 10 ms sleep, in µs (a sleep may run late on a loaded machine).
    assert!((10_000.0..20_000.0).contains(&p50), "{debug}");
    // Not in the default sections; RESETSTAT empties it; off stops it.
    assert!(!text(run(&mut con, "INFO")?).contains("# Latencystats"));
    check(
        &mut con,
        &[
            ("CONFIG RESETSTAT", "+OK"),
            ("LATENCY HISTOGRAM set", "[]"),
            ("CONFIG SET latency-tracking no", "+OK"),
            ("SET a b", "+OK"),
            ("LATENCY HISTOGRAM set", "[]"),
        ],
    )?;
    assert_eq!(
        text(run(&mut con, "INFO latencystats")?),
        "# Latencystats\r\n"
    );
    Ok(())
}
