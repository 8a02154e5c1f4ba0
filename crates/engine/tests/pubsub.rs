//! The pub/sub hub: delivery counts, Redis's glob patterns, slow
//! subscribers cut off without slowing anyone, unsubscribing with messages
//! in flight, and the async stream.

#![allow(clippy::unwrap_used)]

use futures_core::Stream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};
use tandem_engine::pubsub::{CutOff, Hub, QueueLimits};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn publish_counts_every_delivery_and_introspection_agrees() {
    let hub = Hub::default();
    let a = hub.subscriber();
    let b = hub.subscriber();
    assert_eq!(a.subscribe(b"news"), 1);
    assert_eq!(
        a.subscribe(b"news"),
        1,
        "subscribing twice is one subscription"
    );
    assert_eq!(a.psubscribe(b"n*"), 2);
    assert_eq!(b.subscribe(b"news"), 1);
    assert_eq!(b.psubscribe(b"n*"), 2);
    assert_eq!(b.psubscribe(b"*s"), 3);
    // a: channel + pattern; b: channel + two patterns.
    assert_eq!(hub.publish("news", "hello"), 5);
    assert_eq!(hub.publish("nope", "x"), 2);
    assert_eq!(hub.publish("other", "x"), 0);
    assert_eq!(hub.numsub(b"news"), 2);
    assert_eq!(hub.numpat(), 2, "distinct patterns");
    assert_eq!(hub.channels(None), vec!["news"]);
    assert!(hub.channels(Some(b"x*")).is_empty());

    let m = a.recv().unwrap();
    assert_eq!(
        (text(m.channel()), text(m.payload())),
        ("news".into(), "hello".into())
    );
    assert_eq!(m.pattern(), None);
    let m = a.recv().unwrap();
    assert_eq!(m.pattern().map(|p| text(p)), Some("n*".into()));
    assert_eq!(text(a.recv().unwrap().channel()), "nope");
    assert_eq!(a.try_recv().unwrap(), None);

    assert_eq!(a.unsubscribe(b"news"), 1);
    assert_eq!(a.punsubscribe(b"n*"), 0);
    assert_eq!(a.unsubscribe(b"never"), 0);
    assert_eq!(hub.publish("news", "again"), 3);
    drop(b);
    assert_eq!(
        hub.numsub(b"news"),
        0,
        "dropping a subscriber unsubscribes it"
    );
    assert_eq!(hub.numpat(), 0);
    assert!(!hub.has_subscribers());
    assert_eq!(hub.publish("news", "x"), 0);
}

/// What redis-server 7.0.15 answered for PSUBSCRIBE `pattern` and PUBLISH
/// to `channel` (1 receiver or 0), recorded on this machine.
#[test]
fn patterns_match_as_redis_does() {
    let cases: &[(&str, &str, bool)] = &[
        ("h?llo", "hello", true),
        ("h?llo", "hllo", false),
        ("h*llo", "hllo", true),
        ("h*llo", "heeeello", true),
        ("h[ae]llo", "hallo", true),
        ("h[ae]llo", "hillo", false),
        ("h[^e]llo", "hallo", true),
        ("h[^e]llo", "hello", false),
        ("h[a-b]llo", "hbllo", true),
        ("h[b-a]llo", "hbllo", true),
        ("h[a-b]llo", "hcllo", false),
        ("h\\*llo", "h*llo", true),
        ("h\\*llo", "hello", false),
        ("*", "anything", true),
        ("[abc", "a", true),
        ("[abc", "[abc", false),
        ("a[", "a[", false),
        ("news.*", "news.art", true),
        ("news.*", "news", false),
        ("\\", "\\", true),
        ("a\\", "a", false),
        ("[\\]]", "]", true),
        ("[a-]", "-", false),
        ("**x", "abx", true),
    ];
    for &(pattern, channel, want) in cases {
        let hub = Hub::default();
        let sub = hub.subscriber();
        sub.psubscribe(pattern.as_bytes());
        assert_eq!(
            hub.publish(channel.to_owned(), "x") == 1,
            want,
            "{pattern:?} against {channel:?}"
        );
    }
}

/// A subscriber that stops reading is cut off at the hard limit, with the
/// reason; the publisher never waits for it and another subscriber gets
/// every message. (The publisher keeps at most 100 messages ahead of the
/// reading subscriber, so that one stays under the limit on a slow machine.)
#[test]
fn a_slow_subscriber_is_cut_off_and_the_others_get_everything() {
    let hub = Hub::new(QueueLimits {
        hard_bytes: 64 * 1024,
        soft_bytes: 0,
        soft_seconds: 0,
    });
    let slow = hub.subscriber();
    slow.subscribe(b"feed");
    let fast = hub.subscriber();
    fast.psubscribe(b"fe*");
    const N: usize = 20_000;
    let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let reader = {
        let read = read.clone();
        thread::spawn(move || {
            for next in 0..N {
                let m = fast.recv().unwrap();
                assert_eq!(
                    text(m.payload()),
                    format!("{next:0100}"),
                    "in order, none lost"
                );
                read.store(next + 1, Ordering::Release);
            }
            fast
        })
    };
    let mut delivered_to_slow = 0;
    for i in 0..N {
        while i >= read.load(Ordering::Acquire) + 100 {
            thread::yield_now();
        }
        let n = hub.publish("feed", format!("{i:0100}"));
        assert!(n >= 1, "the fast subscriber always counts");
        delivered_to_slow += n - 1;
    }
    let fast = reader.join().unwrap();
    assert!(
        delivered_to_slow < 1_000,
        "the slow subscriber stopped counting"
    );
    match slow.recv() {
        Err(CutOff::HardLimit { queued, limit }) => {
            assert_eq!(limit, 64 * 1024);
            assert!(queued > limit);
        }
        other => panic!("expected a cut-off, got {other:?}"),
    }
    assert!(slow.cut_off().is_some());
    assert!(fast.cut_off().is_none());
    assert_eq!(slow.queued_bytes(), 0, "its queue was freed at once");
    assert_eq!(hub.numsub(b"feed"), 0, "its subscriptions are gone");
    assert_eq!(slow.subscribe(b"feed"), 0, "a cut-off subscriber stays off");
    assert_eq!(hub.publish("feed", "after"), 1);
    assert_eq!(text(fast.recv().unwrap().payload()), "after");
}

#[test]
fn the_soft_limit_cuts_off_a_subscriber_that_stays_over_it() {
    let hub = Hub::new(QueueLimits {
        hard_bytes: 0,
        soft_bytes: 1_000,
        soft_seconds: 0,
    });
    let sub = hub.subscriber();
    sub.subscribe(b"c");
    let payload = vec![b'x'; 400];
    for _ in 0..3 {
        hub.publish("c", payload.clone());
    }
    assert!(sub.cut_off().is_none(), "over the soft limit only just now");
    // Reading below the limit resets the clock...
    while sub.queued_bytes() > 500 {
        sub.recv().unwrap();
    }
    thread::sleep(Duration::from_millis(20));
    hub.publish("c", payload.clone());
    hub.publish("c", payload.clone());
    assert!(sub.cut_off().is_none(), "the clock restarted");
    // ...staying over it does not.
    thread::sleep(Duration::from_millis(20));
    hub.publish("c", payload.clone());
    assert!(matches!(
        sub.cut_off(),
        Some(CutOff::SoftLimit {
            limit: 1_000,
            seconds: 0,
            ..
        })
    ));
}

/// Messages published before an unsubscribe returns may still arrive;
/// after it, none for that channel is queued. What arrives is a gapless,
/// ordered prefix of what was published.
#[test]
fn unsubscribing_while_messages_are_in_flight() {
    let hub = Hub::default();
    let sub = hub.subscriber();
    sub.subscribe(b"seq");
    sub.subscribe(b"keep");
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(2));
    let publisher = {
        let (hub, stop, start) = (hub.clone(), stop.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                hub.publish("seq", i.to_string());
                i += 1;
            }
            i
        })
    };
    start.wait();
    let mut got = Vec::new();
    while got.len() < 1_000 {
        got.push(sub.recv().unwrap());
    }
    assert_eq!(sub.unsubscribe(b"seq"), 1);
    // Anything after this marker was published after the unsubscribe.
    assert_eq!(hub.publish("keep", "marker"), 1);
    stop.store(true, Ordering::Relaxed);
    let published = publisher.join().unwrap();
    // A fence, once nothing else is published: a subscriber's messages
    // arrive in order, so all it was sent comes before this. Reading up
    // to it, not until a quiet spell, cannot miss a late message.
    assert_eq!(hub.publish("keep", "end"), 1);
    let mut after_marker = 0;
    let mut seen_marker = false;
    loop {
        let Some(m) = sub.recv_timeout(Duration::from_secs(10)).unwrap() else {
            panic!("the fence never arrived");
        };
        if &m.channel()[..] == b"keep" {
            if &m.payload()[..] == b"end" {
                break;
            }
            seen_marker = true;
        } else if seen_marker {
            after_marker += 1;
        } else {
            got.push(m);
        }
    }
    assert!(seen_marker);
    assert_eq!(after_marker, 0, "a message arrived after the unsubscribe");
    let seqs: Vec<u64> = got
        .iter()
        .map(|m| text(m.payload()).parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gap or reorder");
    assert!(seqs.len() as u64 <= published);
    assert_eq!(hub.numsub(b"seq"), 0);
}

/// A waker that unparks the polling thread and records that it woke it:
/// a minimal executor, so the test needs no async runtime.
struct Unpark {
    thread: thread::Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

#[test]
fn the_async_stream_yields_messages_then_the_cut_off() {
    let hub = Hub::new(QueueLimits {
        hard_bytes: 2_000,
        ..QueueLimits::default()
    });
    let sub = hub.subscriber();
    sub.subscribe(b"c");
    // Each message is published only once the stream has returned
    // `Pending` (a handshake, not a sleep), so every one must come through
    // the waker: a stream that never woke its task would fail below
    // rather than be rescued by polling again.
    let (pending_tx, pending_rx) = std::sync::mpsc::channel::<()>();
    let publisher = {
        let hub = hub.clone();
        thread::spawn(move || {
            let messages = (0..3)
                .map(|i| format!("m{i}").into_bytes())
                // Far over the limit at once: a cut-off.
                .chain([vec![0u8; 4_000]]);
            for message in messages {
                let waited = pending_rx.recv_timeout(Duration::from_secs(10));
                assert!(waited.is_ok(), "the stream never waited");
                hub.publish("c", message);
            }
        })
    };
    let unpark = Arc::new(Unpark {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    let mut stream = sub.stream();
    let mut items = Vec::new();
    loop {
        match Pin::new(&mut stream).poll_next(&mut cx) {
            Poll::Ready(Some(item)) => items.push(item.map(|m| text(m.payload()))),
            Poll::Ready(None) => break,
            Poll::Pending => {
                let deadline = Instant::now() + Duration::from_secs(10);
                unpark.woken.store(false, Ordering::SeqCst);
                // The publisher may be gone once it has sent everything.
                let _ = pending_tx.send(());
                while !unpark.woken.load(Ordering::SeqCst) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    assert!(
                        !left.is_zero(),
                        "a message arrived but the waker was not called"
                    );
                    thread::park_timeout(left);
                }
            }
        }
    }
    publisher.join().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[..3],
        [Ok("m0".into()), Ok("m1".into()), Ok("m2".into())]
    );
    assert!(matches!(items[3], Err(CutOff::HardLimit { .. })));
}
