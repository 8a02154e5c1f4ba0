//! `tandem bench engine --workload fanout`: deliveries per second from one
//! publisher to many subscribers.
//!
//! `--subscribers` subscribers on one channel; one publisher thread
//! publishes `--messages` messages of `--value-size` bytes. Subscribers
//! are drained (`--receive`) by `--consumers` threads each polling its
//! share of them (`poll`), by one blocking thread each (`block`), or by one
//! async task each on a Tokio runtime of `--consumers` threads (`async`,
//! as a server's connections would). Reported: deliveries
//! (messages × subscribers) over the time from the first publish until the
//! last subscriber received its last message, and over the publishing time
//! alone.

use crate::args::{EngineArgs, Receive};
use serde::Serialize;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use tandem_engine::pubsub::{Hub, QueueLimits, Subscriber};

/// Fan-out throughput.
#[derive(Debug, Serialize)]
pub struct FanoutReport {
    /// Subscribers on the channel.
    pub subscribers: usize,
    /// Messages published.
    pub messages: u64,
    /// Payload bytes per message.
    pub payload_bytes: usize,
    /// How subscribers received.
    pub receive: Receive,
    /// Consumer threads (`poll`) or runtime threads (`async`).
    pub consumers: usize,
    /// Deliveries received.
    pub delivered: u64,
    /// Subscribers cut off for falling behind.
    pub cut_off: usize,
    /// Deliveries per second, first publish to last receive.
    pub deliveries_per_sec: f64,
    /// Deliveries queued per second while the publisher ran.
    pub publish_deliveries_per_sec: f64,
}

impl FanoutReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        format!(
            "fanout: {} subscribers, {} messages of {} bytes, receive {:?} with {} threads\n\
             delivered {} ({} cut off)\n\
             {:.0} deliveries/s end to end, {:.0} deliveries/s queued by the publisher",
            self.subscribers,
            self.messages,
            self.payload_bytes,
            self.receive,
            self.consumers,
            self.delivered,
            self.cut_off,
            self.deliveries_per_sec,
            self.publish_deliveries_per_sec,
        )
    }
}

/// Receives until `want` messages came or the subscriber was cut off.
fn drain_blocking(sub: &Subscriber, want: u64) -> u64 {
    let mut got = 0;
    while got < want {
        match sub.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(_)) => got += 1,
            Ok(None) | Err(_) => break,
        }
    }
    got
}

/// Polls `subs` round-robin until each received `want` or was cut off.
fn drain_polling(subs: &[Subscriber], want: u64) -> u64 {
    let mut got = vec![0u64; subs.len()];
    let mut idle_since: Option<Instant> = None;
    loop {
        let mut progress = false;
        let mut done = true;
        for (sub, n) in subs.iter().zip(&mut got) {
            while *n < want {
                match sub.try_recv() {
                    Ok(Some(_)) => {
                        *n += 1;
                        progress = true;
                    }
                    Ok(None) => break,
                    Err(_) => {
                        *n = want + 1;
                    }
                }
            }
            done &= *n >= want;
        }
        if done {
            break;
        }
        if progress {
            idle_since = None;
        } else {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(10) {
                break;
            }
            std::thread::yield_now();
        }
    }
    got.iter().map(|&n| n.min(want)).sum()
}

/// Runs the fan-out workload.
pub fn run(args: &EngineArgs) -> FanoutReport {
    // Limits high enough that a consumer briefly behind is not cut off:
    // this measures delivery, not the limit.
    let hub = Hub::new(QueueLimits {
        hard_bytes: 1 << 30,
        soft_bytes: 0,
        soft_seconds: 0,
    });
    let n = args.subscribers.max(1);
    let subs: Vec<Subscriber> = (0..n)
        .map(|_| {
            let s = hub.subscriber();
            s.subscribe(b"fanout");
            s
        })
        .collect();
    let want = args.messages;
    let payload = tandem_engine::Bytes::from(vec![b'x'; args.value_size]);
    let consumers = args.consumers.max(1);
    if args.receive == Receive::Async {
        return run_async(args, &hub, subs, &payload);
    }
    let blocking = args.receive == Receive::Block;
    let groups: Vec<Vec<Subscriber>> = if blocking {
        subs.into_iter().map(|s| vec![s]).collect()
    } else {
        let mut g: Vec<Vec<Subscriber>> = (0..consumers).map(|_| Vec::new()).collect();
        for (i, s) in subs.into_iter().enumerate() {
            if let Some(group) = g.get_mut(i % consumers) {
                group.push(s);
            }
        }
        g
    };
    let start = Arc::new(Barrier::new(groups.len() + 1));
    let threads: Vec<_> = groups
        .into_iter()
        .map(|group| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let got = if blocking {
                    group.iter().map(|s| drain_blocking(s, want)).sum()
                } else {
                    drain_polling(&group, want)
                };
                let cut = group.iter().filter(|s| s.cut_off().is_some()).count();
                (got, cut, Instant::now())
            })
        })
        .collect();
    start.wait();
    let mut tally = publish_all(hub.clone(), &payload, want);
    for t in threads {
        if let Ok((got, cut, end)) = t.join() {
            tally.received(got, cut, end);
        }
    }
    report(args, n, consumers, &tally)
}

/// What a run measured.
struct Tally {
    start: Instant,
    queued: u64,
    published: Duration,
    delivered: u64,
    cut_off: usize,
    last: Instant,
}

impl Tally {
    /// Adds what one consumer received, and when it finished.
    fn received(&mut self, got: u64, cut_off: usize, end: Instant) {
        self.delivered += got;
        self.cut_off += cut_off;
        self.last = self.last.max(end);
    }
}

/// Publishes `want` messages, timing it.
fn publish_all(hub: Hub, payload: &tandem_engine::Bytes, want: u64) -> Tally {
    let start = Instant::now();
    let mut queued = 0u64;
    for _ in 0..want {
        queued += hub.publish("fanout", payload.clone()) as u64;
    }
    Tally {
        start,
        queued,
        published: start.elapsed(),
        delivered: 0,
        cut_off: 0,
        last: start,
    }
}

fn report(args: &EngineArgs, subscribers: usize, consumers: usize, t: &Tally) -> FanoutReport {
    let total = t.last.duration_since(t.start).as_secs_f64().max(1e-9);
    FanoutReport {
        subscribers,
        messages: args.messages,
        payload_bytes: args.value_size,
        receive: args.receive,
        consumers,
        delivered: t.delivered,
        cut_off: t.cut_off,
        deliveries_per_sec: t.delivered as f64 / total,
        publish_deliveries_per_sec: t.queued as f64 / t.published.as_secs_f64().max(1e-9),
    }
}

/// The `async` mode: one task per subscriber on a multi-threaded runtime.
fn run_async(
    args: &EngineArgs,
    hub: &Hub,
    subs: Vec<Subscriber>,
    payload: &tandem_engine::Bytes,
) -> FanoutReport {
    let n = subs.len();
    let want = args.messages;
    let threads = args.consumers.max(1);
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .build()
    else {
        // No runtime, nothing measured: a report of zeros.
        return report(args, n, threads, &publish_all(hub.clone(), payload, 0));
    };
    let tasks: Vec<_> = subs
        .into_iter()
        .map(|sub| {
            rt.spawn(async move {
                let mut got = 0u64;
                while got < want {
                    match sub.recv_async().await {
                        Ok(_) => got += 1,
                        Err(_) => break,
                    }
                }
                (got, usize::from(sub.cut_off().is_some()), Instant::now())
            })
        })
        .collect();
    let mut tally = publish_all(hub.clone(), payload, want);
    for t in tasks {
        if let Ok((got, cut, end)) = rt.block_on(t) {
            tally.received(got, cut, end);
        }
    }
    report(args, n, threads, &tally)
}
