//! LATENCY: LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM and HELP, in
//! Redis 7.0's reply shapes and words.
//!
//! Owns the replies. The spikes are `latency::events`'s, the histograms
//! `stats`'s, GRAPH's drawing `latency::sparkline`'s; this module only
//! reads them (and RESET clears spikes).

use super::args::is;
use super::introspection::help;
use super::spec::{spec, Spec};
use super::{stat_names, subcommand_syntax_error, unknown_subcommand, Call, CmdResult, Reject};
use crate::latency::events::{analyze, unix_secs, Series};
use crate::latency::Snapshot;
use crate::shared::Shared;

pub(super) const COMMANDS: &[Spec] = &[spec("latency", -2, 0, (0, 0, 0), latency)];

const HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

fn latency(c: &mut Call<'_>) -> CmdResult {
    // The dispatcher has checked each listed subcommand's arity.
    let sub = c.arg(1);
    let monitor = &c.shared.latency.monitor;
    match c.args.len() {
        2 if is(sub, "help") => help(c.out, HELP),
        2 if is(sub, "latest") => {
            let events = monitor.events();
            c.out.array(events.len());
            for (name, series) in events {
                let last = series.samples.back().copied();
                c.out.array(4);
                c.out.bulk(name.as_bytes());
                c.out.int(last.map_or(0, |s| clamp(s.time)));
                c.out.int(last.map_or(0, |s| clamp(s.latency)));
                c.out.int(clamp(series.max));
            }
        }
        3 if is(sub, "history") => {
            let series = c.args.get(2).and_then(|e| monitor.series(e));
            let samples: Vec<_> = series.map(|s| s.samples.into()).unwrap_or_default();
            c.out.array(samples.len());
            for s in samples {
                c.out.array(2);
                c.out.int(clamp(s.time));
                c.out.int(clamp(s.latency));
            }
        }
        _ if is(sub, "reset") => {
            let reset = match c.args.get(2..) {
                Some(events) if !events.is_empty() => {
                    events.iter().map(|e| monitor.reset(Some(e))).sum()
                }
                _ => monitor.reset(None),
            };
            c.out.count(reset);
        }
        3 if is(sub, "graph") => {
            let event = c.arg(2);
            let Some(series) = monitor.series(event) else {
                return Err(Reject::Owned(format!(
                    "ERR No samples available for event '{}'",
                    String::from_utf8_lossy(event)
                )));
            };
            let text = graph(&String::from_utf8_lossy(event), &series);
            c.out.verbatim_text(text.as_bytes());
        }
        2 if is(sub, "doctor") => {
            let report = doctor(c.shared);
            c.out.verbatim_text(report.as_bytes());
        }
        _ if is(sub, "histogram") => histogram(c),
        _ if ["latest", "history", "graph", "doctor", "help"]
            .iter()
            .any(|s| is(sub, s)) =>
        {
            return Err(subcommand_syntax_error(sub, "latency"));
        }
        _ => return Err(unknown_subcommand(sub, "latency")),
    }
    Ok(())
}

/// GRAPH's text: a title, a rule, and the spikes drawn 4 rows high, 80
/// to a block, each labelled with how long ago it was.
fn graph(event: &str, series: &Series) -> String {
    use crate::latency::sparkline::{ago, render, Sample};
    let now = unix_secs();
    let samples: Vec<Sample> = series
        .samples
        .iter()
        .map(|s| Sample {
            value: s.latency as f64,
            label: ago(now.saturating_sub(s.time)),
        })
        .collect();
    let high = series.samples.iter().map(|s| s.latency).max().unwrap_or(0);
    let low = series.samples.iter().map(|s| s.latency).min().unwrap_or(0);
    format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n{}",
        series.max,
        "-".repeat(80),
        render(&samples, 80, 4)
    )
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// HISTOGRAM: per command with data, `calls` and `histogram_usec`, the
/// cumulative count at each power-of-two bucket, labelled as Redis labels
/// them (see `cumulative_usec`), where the count grows.
fn histogram(c: &mut Call<'_>) {
    let names = stat_names();
    let latencies = c.shared.stats.latencies();
    let with_data = |slot: usize| latencies.get(slot).filter(|h| h.count() > 0);
    let wanted: Vec<usize> = match c.args.get(2..) {
        Some(asked) if !asked.is_empty() => {
            let mut slots = Vec::new();
            for name in asked {
                let name = String::from_utf8_lossy(name).to_ascii_lowercase();
                // A container names itself and its subcommands.
                let prefix = format!("{name}|");
                for (slot, n) in names.iter().enumerate() {
                    if (*n == name || n.starts_with(&prefix)) && !slots.contains(&slot) {
                        slots.push(slot);
                    }
                }
            }
            slots
        }
        _ => (0..names.len()).collect(),
    };
    let rows: Vec<(&str, &Snapshot)> = wanted
        .into_iter()
        .filter_map(|slot| Some((*names.get(slot)?, with_data(slot)?)))
        .collect();
    c.out.map(rows.len());
    for (name, h) in rows {
        c.out.bulk(name.as_bytes());
        c.out.map(2);
        c.out.bulk(b"calls");
        c.out.int(clamp(h.count()));
        c.out.bulk(b"histogram_usec");
        let points = cumulative_usec(h);
        c.out.map(points.len());
        for (usec, count) in points {
            c.out.int(clamp(usec));
            c.out.int(clamp(count));
        }
    }
}

/// `(label in µs, cumulative count)` at each power of two of nanoseconds
/// from 2^10 to 2^30, where the count grows, as Redis's `fillCommandCDF`
/// reports them. Redis's label is the top of its HDR histogram's bucket
/// holding 2^k ns (two significant digits: 2^k + 2^(k-7) - 1 ns), in whole
/// µs: 1, 2, 4, 8, 16, 33, 66, 132, ...; the count here is of durations
/// under 2^k ns, so one of the 1/128 just above 2^k is counted one bucket
/// later than Redis counts it. Redis clamps durations at 1 s, so its last
/// bucket (2^30) holds every longer one; so does this.
pub(crate) fn cumulative_usec(h: &Snapshot) -> Vec<(u64, u64)> {
    const LAST: u32 = 30;
    let total = h.count();
    let mut out = Vec::new();
    let mut previous = 0;
    for exp in 10..=LAST {
        let label = ((1u64 << exp) + (1u64 << (exp - 7)) - 1) / 1000;
        let count = if exp == LAST {
            total
        } else {
            h.at_most((1u64 << exp) - 1)
        };
        if count > previous {
            out.push((label, count));
        }
        previous = count;
        if count == total {
            break;
        }
    }
    out
}

/// DOCTOR's report: Redis 7.0's text for the events Tandem records.
fn doctor(shared: &Shared) -> String {
    let monitor = &shared.latency.monitor;
    let events = monitor.events();
    let threshold = monitor.threshold();
    if events.is_empty() && threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string();
    }
    let slowlog = shared.config.load().slowlog_log_slower_than;
    let now = unix_secs();
    let mut report = String::new();
    let mut advice = Advice::default();
    for (i, (name, series)) in events.iter().enumerate() {
        if i == 0 {
            report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        report.push_str(&event_line(i + 1, name, series, now));
        advice.note(name, slowlog, threshold);
        report.push('\n');
    }
    if events.is_empty() && advice.count == 0 {
        report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if advice.count == 0 {
        report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        report.push_str("\nI have a few advices for you:\n\n");
        advice.write(&mut report, threshold);
    }
    report
}

fn event_line(n: usize, name: &str, series: &Series, now: u64) -> String {
    let a = analyze(series, now);
    format!(
        "{n}. {name}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
        a.samples,
        a.avg,
        a.mad,
        a.period as f64 / a.samples.max(1) as f64,
        series.max
    )
}

/// The advice DOCTOR gives, as Redis's flags.
#[derive(Default)]
struct Advice {
    count: u32,
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    large_objects: bool,
    mass_eviction: bool,
}

impl Advice {
    fn note(&mut self, event: &str, slowlog: i64, threshold: u64) {
        match event {
            "command" => {
                if slowlog < 0 {
                    self.slowlog_enabled = true;
                    self.count += 1;
                } else if u64::try_from(slowlog / 1000).unwrap_or(0) > threshold {
                    self.slowlog_tuning = true;
                    self.count += 1;
                }
                self.slowlog_inspect = true;
                self.large_objects = true;
                self.count += 2;
            }
            "fast-command" => {
                self.scheduler = true;
                self.count += 1;
            }
            "eviction-cycle" => {
                self.mass_eviction = true;
                self.count += 1;
            }
            _ => {}
        }
    }

    fn write(&self, report: &mut String, threshold: u64) {
        let micros = threshold.saturating_mul(1000);
        if self.slowlog_enabled {
            report.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {micros}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
        }
        if self.slowlog_tuning {
            report.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {micros}'.\n"));
        }
        if self.slowlog_inspect {
            report.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        }
        if self.scheduler {
            report.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if self.large_objects {
            report.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
        if self.mass_eviction {
            report.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
        }
    }
}
