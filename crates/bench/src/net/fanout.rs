//! `tandem bench net --workload fanout`: pub/sub deliveries per second
//! over TCP.
//!
//! Owns the fan-out workload. `--subscribers` connections each SUBSCRIBE
//! to `--channel`; once every confirmation has arrived, `--publishers`
//! connections (one OS thread each, blocking sockets) PUBLISH `--messages`
//! messages of `--value-size` bytes between them, `--batch` PUBLISHes per
//! write with at most `--window` batches unanswered, summing the integer
//! replies (receivers per message). Subscribers are one task each on the
//! client runtime, reading into 64 KiB buffers and counting `message`
//! frames without copying them.
//!
//! Deliveries per second = messages received by all subscribers / time
//! from the first publish to the last delivery. If not every subscriber has
//! every message within `--timeout` seconds, the report says what arrived.

use super::{connect, opt, us_per, CpuMark, NetArgs};
use crate::resp::{self, ReadBuf, Reply};
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Fan-out throughput over the network.
#[derive(Debug, Serialize)]
pub struct FanoutReport {
    /// Always `fanout`.
    pub workload: &'static str,
    /// Subscriber connections.
    pub subscribers: usize,
    /// Publisher connections.
    pub publishers: usize,
    /// Messages published in all.
    pub messages: u64,
    /// Payload bytes per message.
    pub value_size: usize,
    /// PUBLISHes per write.
    pub batch: usize,
    /// Client runtime threads (subscribers); publishers have one each.
    pub threads: usize,
    /// Messages the publishers got replies for.
    pub published: u64,
    /// Sum of PUBLISH's replies: receivers counted by the server.
    pub publish_receivers: u64,
    /// `message` frames received by all subscribers.
    pub delivered: u64,
    /// delivered / (subscribers × messages).
    pub delivered_fraction: f64,
    /// Subscribers that received every message.
    pub complete_subscribers: usize,
    /// Subscribers whose connection closed early (e.g. cut off by an
    /// output buffer limit).
    pub disconnected: usize,
    /// Whether `--timeout` ran out before every delivery arrived.
    pub timed_out: bool,
    /// Seconds from the first publish to the last delivery.
    pub elapsed_s: f64,
    /// Deliveries per second over `elapsed_s`.
    pub deliveries_per_sec: f64,
    /// Seconds from the first publish to the last PUBLISH reply.
    pub publish_s: f64,
    /// Messages published per second over `publish_s`.
    pub publish_per_sec: f64,
    /// This process's CPU seconds, first publish to last delivery.
    pub client_cpu_s: Option<f64>,
    /// Client CPU per delivery, microseconds.
    pub client_cpu_us_per_delivery: Option<f64>,
    /// Server CPU seconds over the same span (with `--server-pid`).
    pub server_cpu_s: Option<f64>,
    /// Server CPU per delivery, microseconds.
    pub server_cpu_us_per_delivery: Option<f64>,
}

impl FanoutReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        format!(
            "fanout: {} subscribers, {} publisher(s), {} messages of {} bytes, {} per write, {} client thread(s)\n\
             delivered {} of {} ({:.4}); {} subscribers complete, {} disconnected{}\n\
             {:.0} deliveries/s over {:.3} s (first publish to last delivery)\n\
             {:.0} publishes/s over {:.3} s; PUBLISH replies counted {} receivers\n\
             client CPU {} s ({} us/delivery, {} cores); server CPU {} s ({} us/delivery)",
            self.subscribers,
            self.publishers,
            self.messages,
            self.value_size,
            self.batch,
            self.threads,
            self.delivered,
            self.subscribers as u64 * self.messages,
            self.delivered_fraction,
            self.complete_subscribers,
            self.disconnected,
            if self.timed_out { ", timed out" } else { "" },
            self.deliveries_per_sec,
            self.elapsed_s,
            self.publish_per_sec,
            self.publish_s,
            self.publish_receivers,
            opt(self.client_cpu_s, 2),
            opt(self.client_cpu_us_per_delivery, 4),
            opt(self.client_cpu_s.map(|c| c / self.elapsed_s.max(1e-9)), 2),
            opt(self.server_cpu_s, 2),
            opt(self.server_cpu_us_per_delivery, 4),
        )
    }
}

/// Shared by the subscriber tasks. Updated once per read, not per
/// message, so the counters cost nothing next to the syscall.
#[derive(Default)]
struct Tally {
    /// Subscribers whose confirmation arrived.
    ready: AtomicUsize,
    /// Messages received, all subscribers.
    delivered: AtomicU64,
    /// Nanoseconds from `base` to the latest delivery.
    last_ns: AtomicU64,
    complete: AtomicUsize,
    disconnected: AtomicUsize,
}

/// What a publisher thread did.
struct Published {
    start: Instant,
    end: Instant,
    acked: u64,
    receivers: u64,
}

pub(super) fn run(args: &NetArgs, rt: &tokio::runtime::Runtime) -> Result<FanoutReport, String> {
    if args.subscribers == 0 || args.publishers == 0 || args.batch == 0 || args.window == 0 {
        return Err("--subscribers, --publishers, --batch and --window must be positive".into());
    }
    let want = args.messages;
    let tally = Arc::new(Tally::default());
    let base = Instant::now();
    let timeout = super::secs(args.timeout);
    rt.block_on(async {
        let mut subscribe = Vec::new();
        resp::command(&mut subscribe, &[b"SUBSCRIBE", args.channel.as_bytes()]);
        let subscribe: Arc<[u8]> = subscribe.into();
        // Connections one at a time: a thousand at once would overflow the
        // server's listen backlog and stall in SYN retries.
        let mut handles = Vec::with_capacity(args.subscribers);
        for _ in 0..args.subscribers {
            let s = connect(&args.host, args.port).await?;
            let (tally, subscribe) = (tally.clone(), subscribe.clone());
            let channel = args.channel.clone().into_bytes();
            handles.push(tokio::spawn(subscriber(
                s, subscribe, channel, want, tally, base,
            )));
        }
        let setup_deadline = Instant::now() + timeout;
        while tally.ready.load(Relaxed) < args.subscribers {
            if let Some(h) = handles.iter_mut().find(|h| h.is_finished()) {
                // A subscriber ended before the first publish: an error.
                let r = h
                    .await
                    .map_err(|e| format!("subscriber task failed: {e}"))?;
                return Err(match r {
                    Err(e) => format!("subscriber: {e}"),
                    Ok(()) => "a subscriber's connection closed before publishing began".into(),
                });
            }
            if Instant::now() > setup_deadline {
                return Err(format!(
                    "only {} of {} subscriptions confirmed within {:?}",
                    tally.ready.load(Relaxed),
                    args.subscribers,
                    timeout
                ));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        let cpu0 = CpuMark::now(args.server_pid);
        let publishers: Vec<_> = (0..args.publishers as u64)
            .map(|p| {
                // Messages shared as evenly as they go.
                let n =
                    want / args.publishers as u64 + u64::from(p < want % args.publishers as u64);
                let a = args.clone();
                std::thread::spawn(move || publish(&a, n))
            })
            .collect();

        // Wait for every subscriber to finish, or the timeout.
        let deadline = tokio::time::Instant::now() + timeout;
        let mut timed_out = false;
        let mut first_error = None;
        for h in handles.iter_mut() {
            match tokio::time::timeout_at(deadline, h).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    first_error.get_or_insert(e);
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(format!("subscriber task failed: {e}"));
                }
                Err(_) => {
                    timed_out = true;
                    break;
                }
            }
        }
        let cpu1 = CpuMark::now(args.server_pid);
        for h in &handles {
            h.abort();
        }
        // Publisher sockets time out on their own, so these joins end.
        let mut pubs = Vec::with_capacity(publishers.len());
        for p in publishers {
            match p.join() {
                Ok(Ok(r)) => pubs.push(r),
                Ok(Err(e)) => return Err(format!("publisher: {e}")),
                Err(_) => return Err("a publisher thread panicked".into()),
            }
        }
        if let Some(e) = first_error {
            return Err(format!("subscriber: {e}"));
        }
        Ok(report(
            args,
            base,
            &tally,
            &pubs,
            timed_out,
            cpu0.until(&cpu1),
        ))
    })
}

fn report(
    args: &NetArgs,
    base: Instant,
    tally: &Tally,
    pubs: &[Published],
    timed_out: bool,
    (client_cpu, server_cpu): (Option<f64>, Option<f64>),
) -> FanoutReport {
    let first = pubs.iter().map(|p| p.start).min().unwrap_or(base);
    let publish_end = pubs.iter().map(|p| p.end).max().unwrap_or(first);
    let last = base + Duration::from_nanos(tally.last_ns.load(Relaxed));
    let elapsed = last
        .saturating_duration_since(first)
        .as_secs_f64()
        .max(1e-9);
    let publish_s = publish_end.duration_since(first).as_secs_f64().max(1e-9);
    let delivered = tally.delivered.load(Relaxed);
    let published: u64 = pubs.iter().map(|p| p.acked).sum();
    let expected = args.subscribers as u64 * args.messages;
    FanoutReport {
        workload: "fanout",
        subscribers: args.subscribers,
        publishers: args.publishers,
        messages: args.messages,
        value_size: args.value_size,
        batch: args.batch,
        threads: args.threads.max(1),
        published,
        publish_receivers: pubs.iter().map(|p| p.receivers).sum(),
        delivered,
        delivered_fraction: if expected == 0 {
            1.0
        } else {
            delivered as f64 / expected as f64
        },
        complete_subscribers: tally.complete.load(Relaxed),
        disconnected: tally.disconnected.load(Relaxed),
        timed_out,
        elapsed_s: elapsed,
        deliveries_per_sec: delivered as f64 / elapsed,
        publish_s,
        publish_per_sec: published as f64 / publish_s,
        client_cpu_s: client_cpu,
        client_cpu_us_per_delivery: us_per(client_cpu, delivered),
        server_cpu_s: server_cpu,
        server_cpu_us_per_delivery: us_per(server_cpu, delivered),
    }
}

/// One subscriber: subscribes, reports ready, then counts `message`
/// frames until it has `want` of them or the connection closes.
async fn subscriber(
    mut s: TcpStream,
    subscribe: Arc<[u8]>,
    channel: Vec<u8>,
    want: u64,
    tally: Arc<Tally>,
    base: Instant,
) -> Result<(), String> {
    s.write_all(&subscribe)
        .await
        .map_err(|e| format!("write failed: {e}"))?;
    // Large enough that one read takes all a server's batched write.
    let mut rb = ReadBuf::new(64 * 1024);
    let mut subscribed = false;
    let mut got = 0u64;
    while got < want || !subscribed {
        match rb.fill(&mut s).await {
            Ok(0) => {
                tally.disconnected.fetch_add(1, Relaxed);
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
        let mut used = 0;
        let mut messages = 0u64;
        loop {
            let rest = rb.data().get(used..).unwrap_or_default();
            let Some((r, n)) = resp::parse(rest).map_err(|e| e.to_string())? else {
                break;
            };
            used += n;
            match frame_kind(&r) {
                Some(b"message") => messages += 1,
                Some(b"subscribe") if !subscribed => {
                    subscribed = true;
                    check_confirmation(&r, &channel)?;
                    tally.ready.fetch_add(1, Relaxed);
                }
                _ => return Err(format!("unexpected frame: {}", resp::describe(&r))),
            }
        }
        rb.consume(used);
        if messages > 0 {
            got += messages;
            tally.delivered.fetch_add(messages, Relaxed);
            let ns = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
            tally.last_ns.fetch_max(ns, Relaxed);
        }
    }
    tally.complete.fetch_add(1, Relaxed);
    Ok(())
}

/// A pub/sub frame's kind: its first element, if it is a bulk string.
fn frame_kind<'a>(r: &Reply<'a>) -> Option<&'a [u8]> {
    match r {
        Reply::Array(Some(e)) if e.len == 3 => match e.first() {
            Some(Reply::Bulk(Some(kind))) => Some(kind),
            _ => None,
        },
        _ => None,
    }
}

/// `subscribe <channel> 1`: this connection is on the channel, alone.
fn check_confirmation(r: &Reply<'_>, channel: &[u8]) -> Result<(), String> {
    let Reply::Array(Some(e)) = r else {
        return Err("malformed subscribe confirmation".into());
    };
    let mut it = e.iter().skip(1);
    match (it.next(), it.next()) {
        (Some(Reply::Bulk(Some(c))), Some(Reply::Integer(1))) if c == channel => Ok(()),
        _ => Err(format!(
            "unexpected subscribe confirmation: {}",
            resp::describe(r)
        )),
    }
}

/// One publisher: PUBLISHes `n` messages on a blocking socket, `--batch`
/// per write and at most `--window` batches ahead of the replies.
fn publish(args: &NetArgs, n: u64) -> Result<Published, String> {
    let mut s = std::net::TcpStream::connect((args.host.as_str(), args.port))
        .map_err(|e| super::connect_error(&args.host, args.port, &e))?;
    let io = |e: std::io::Error| format!("{}:{}: {e}", args.host, args.port);
    s.set_nodelay(true).map_err(io)?;
    // A stalled server ends the run as an error instead of hanging it.
    s.set_read_timeout(Some(super::secs(args.timeout).max(Duration::from_secs(1))))
        .map_err(io)?;
    let payload: Vec<u8> = (0..args.value_size)
        .map(|i| b'A' + (i % 26) as u8)
        .collect();
    let mut one = Vec::new();
    resp::command(&mut one, &[b"PUBLISH", args.channel.as_bytes(), &payload]);
    let batch = one.repeat(args.batch);
    let ahead = (args.window * args.batch) as u64;
    let mut rb = ReadBuf::new(64 * 1024);
    let (mut sent, mut acked, mut receivers) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    while acked < n {
        while sent < n && sent - acked < ahead {
            let k = (n - sent).min(args.batch as u64);
            let bytes = batch.get(..one.len() * k as usize).unwrap_or_default();
            s.write_all(bytes).map_err(io)?;
            sent += k;
        }
        if rb.fill_blocking(&mut s).map_err(io)? == 0 {
            return Err("the server closed the publisher's connection".into());
        }
        let mut used = 0;
        loop {
            let rest = rb.data().get(used..).unwrap_or_default();
            let Some((r, k)) = resp::parse(rest).map_err(io)? else {
                break;
            };
            used += k;
            match r {
                Reply::Integer(c) => receivers += u64::try_from(c).unwrap_or(0),
                other => {
                    return Err(format!(
                        "unexpected PUBLISH reply: {}",
                        resp::describe(&other)
                    ))
                }
            }
            acked += 1;
        }
        rb.consume(used);
    }
    Ok(Published {
        start,
        end: Instant::now(),
        acked,
        receivers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_frames() {
        let (m, _) = resp::parse(b"*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$1\r\nx\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(frame_kind(&m), Some(&b"message"[..]));
        let (c, _) = resp::parse(b"*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(frame_kind(&c), Some(&b"subscribe"[..]));
        assert!(check_confirmation(&c, b"bench").is_ok());
        assert!(check_confirmation(&c, b"other").is_err());
        assert_eq!(frame_kind(&Reply::Integer(1)), None);
    }
}
