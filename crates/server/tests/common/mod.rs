//! Helpers shared by the server's integration tests: starting a server
//! in-process on a free port, and a raw TCP client that sends bytes and
//! reads whole RESP replies (RESP2 and RESP3) with a deadline, so that a
//! server that hangs fails a test instead of stalling the suite. The
//! client is `tandem_bench::resp`'s, the one RESP client in the tree;
//! this file only shapes its errors for tests.
//!
//! Every read has a deadline (`TIMEOUT`); nothing here waits forever.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

pub mod fixture;
pub mod log;
pub mod redis;
pub mod table;

// The servers run on jemalloc, as in the `tandem` binary: memory
// accounting and the memory bound are tested as they run.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tandem_bench::resp::{
    self,
    client::{Client, Fill, ReadError},
};
pub use tandem_server::{Config, Running};

/// What a failing helper or test returns.
pub type Error = Box<dyn std::error::Error>;
/// A test's result.
pub type TestResult = Result<(), Error>;

/// The longest any single read waits for the server. Generous, since a
/// loaded CI machine can be slow; a passing test never waits this long.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Worker threads per test server: two, like the CI machines, so that
/// requests from different connections really run in parallel.
const THREADS: usize = 2;

/// The default configuration, on a free port, with a data directory of
/// its own.
pub fn config() -> Config {
    Config {
        port: 0,
        dir: data_dir(),
        ..Config::default()
    }
}

/// A fresh, empty data directory for one test server: tests run in
/// parallel, and a server loads whatever its directory holds.
pub fn data_dir() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "tandem-test-{}-{}-{n}",
        std::process::id(),
        std::thread::current()
            .name()
            .unwrap_or("t")
            .replace("::", "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts a server with `config` on a free port (the port in `config` is
/// ignored: tests run in parallel and must never share one). A config
/// still on the working directory gets a data directory of its own.
pub fn start(config: Config) -> Result<Running, Error> {
    let dir = if config.dir == std::path::Path::new(".") {
        data_dir()
    } else {
        config.dir.clone()
    };
    Ok(tandem_server::start(
        Config {
            port: 0,
            dir,
            ..config
        },
        THREADS,
    )?)
}

/// Starts a server with the default configuration.
pub fn start_default() -> Result<Running, Error> {
    start(config())
}

/// Tests that measure the process's memory, or that use a lot of it, take
/// this lock, so that one does not see the other's allocations. (The
/// servers run inside the test process, and tests run in parallel.)
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A test that panicked while holding it leaves nothing to clean up.
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmSize`, ...).
pub fn proc_status_kb(field: &str) -> Result<u64, Error> {
    tandem_engine::process::status_kb(field)
        .ok_or_else(|| format!("no {field} in /proc/self/status").into())
}

/// The soft limit on open files, from `/proc/self/limits`.
pub fn open_files_limit() -> Result<u64, Error> {
    tandem_engine::process::open_files_limit()
        .ok_or_else(|| "no 'Max open files' in /proc/self/limits".into())
}

/// Bytes as readable text (`\r\n` escaped), for comparisons whose
/// failure messages a person has to read.
pub fn text(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// A request in RESP multibulk form.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    resp::command(&mut out, args);
    out
}

/// `encode` for arguments that are all text, split on spaces.
pub fn encode_words(line: &str) -> Vec<u8> {
    let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    encode(&words)
}

/// The length of the complete RESP value at the start of `buf`, or
/// `None` if it has not all arrived. Knows every RESP2 and RESP3 type.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, Error> {
    Ok(resp::parse(buf)?.map(|(_, len)| len))
}

/// A raw TCP client: writes exactly the bytes a test gives it, and reads
/// the server's replies frame by frame (the bench crate's RESP client,
/// with test-shaped errors).
pub struct Raw {
    client: Client,
}

impl Raw {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Result<Raw, Error> {
        Ok(Raw {
            client: Client::connect(addr, TIMEOUT)?,
        })
    }

    /// The local address of this connection.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.client.stream().local_addr()?)
    }

    /// Sends `bytes` as one write.
    pub fn send(&mut self, bytes: &[u8]) -> TestResult {
        self.client.send(bytes)?;
        Ok(())
    }

    /// Sends a request in multibulk form.
    pub fn send_args(&mut self, args: &[&[u8]]) -> TestResult {
        self.client.send_command(args)?;
        Ok(())
    }

    fn timed_out(&self) -> Error {
        let unread = self.client.pending();
        let shown = unread.get(..unread.len().min(200)).unwrap_or_default();
        format!(
            "timed out waiting for the server; {} bytes unread: {}",
            unread.len(),
            text(shown)
        )
        .into()
    }

    /// Reads one complete reply (its raw bytes).
    pub fn reply(&mut self) -> Result<Vec<u8>, Error> {
        match self.client.frame(Instant::now() + TIMEOUT) {
            Ok(frame) => Ok(frame),
            Err(ReadError::TimedOut) => Err(self.timed_out()),
            Err(ReadError::Closed) => Err(format!(
                "connection closed before a whole reply; got {}",
                text(self.client.pending())
            )
            .into()),
            Err(ReadError::Io(e)) => Err(e.into()),
        }
    }

    /// Reads `n` replies.
    pub fn replies(&mut self, n: usize) -> Result<Vec<Vec<u8>>, Error> {
        (0..n).map(|_| self.reply()).collect()
    }

    /// Reads whole replies until they add up to `expected.len()` bytes,
    /// and checks they are exactly `expected`.
    pub fn expect(&mut self, expected: &[u8]) -> TestResult {
        let mut got = Vec::new();
        while got.len() < expected.len() {
            got.extend(self.reply()?);
        }
        if got != expected {
            return Err(format!(
                "unexpected reply\n  got:  {}\n  want: {}",
                text(&got),
                text(expected)
            )
            .into());
        }
        Ok(())
    }

    /// Reads the keyspace events `recorded` ((event, key), in order), as a
    /// client subscribed with `PSUBSCRIBE __keyevent@*` gets them from
    /// database 0.
    pub fn expect_keyevents(&mut self, recorded: &[(&str, &str)]) -> TestResult {
        for (event, key) in recorded {
            let channel = format!("__keyevent@0__:{event}");
            let want = format!(
                "*4\r\n$8\r\npmessage\r\n$12\r\n__keyevent@*\r\n${}\r\n{channel}\r\n${}\r\n{key}\r\n",
                channel.len(),
                key.len()
            );
            let got = self.reply()?;
            assert_eq!(String::from_utf8_lossy(&got), want, "{event} of {key}");
        }
        Ok(())
    }

    /// Sends `request` and checks the replies are exactly `expected`.
    pub fn check(&mut self, request: &[u8], expected: &[u8]) -> TestResult {
        self.send(request)?;
        self.expect(expected)
    }

    /// Sends `request` and returns its one reply.
    pub fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error> {
        self.send(request)?;
        self.reply()
    }

    /// Everything the server sends until it closes the connection.
    pub fn read_until_closed(&mut self) -> Result<Vec<u8>, Error> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.client.fill(deadline)? {
                Fill::Data => {}
                Fill::TimedOut => return Err(self.timed_out()),
                Fill::Closed => return Ok(self.client.take_pending()),
            }
        }
    }

    /// Checks the server sends exactly `expected` and then closes.
    pub fn expect_then_closed(&mut self, expected: &[u8]) -> TestResult {
        let got = self.read_until_closed()?;
        if got != expected {
            return Err(format!(
                "unexpected bytes before close\n  got:  {}\n  want: {}",
                text(&got),
                text(expected)
            )
            .into());
        }
        Ok(())
    }

    /// Whether the server has closed the connection by `deadline`,
    /// discarding anything it sent.
    pub fn closed_within(&mut self, wait: Duration) -> Result<bool, Error> {
        let deadline = Instant::now() + wait;
        loop {
            match self.client.fill(deadline)? {
                Fill::Closed => return Ok(true),
                Fill::Data => drop(self.client.take_pending()),
                Fill::TimedOut => return Ok(false),
            }
        }
    }
}

/// A client and a subscriber to every keyspace event of the server
/// (`notify-keyspace-events` set to `flags`, `PSUBSCRIBE __keyevent@*`),
/// for `Raw::expect_keyevents`.
pub fn keyevents(server: &Running, flags: &str) -> Result<(Raw, Raw), Error> {
    let mut c = Raw::connect(server.addr())?;
    let mut s = Raw::connect(server.addr())?;
    c.check(
        &encode_words(&format!("CONFIG SET notify-keyspace-events {flags}")),
        b"+OK\r\n",
    )?;
    s.check(
        &encode_words("PSUBSCRIBE __keyevent@*"),
        b"*3\r\n$10\r\npsubscribe\r\n$12\r\n__keyevent@*\r\n:1\r\n",
    )?;
    Ok((c, s))
}

/// Proves that the server sent `c` nothing more before this point: sends
/// a PING with a message no reply could hold by chance, and requires the
/// very next reply to be its echo (a fence). "Nothing arrived" is shown by
/// the order of the replies, not by waiting, so this cannot pass on a
/// slow machine without testing anything. Works in every protocol and
/// while subscribed (where PING replies with an array). Not for a
/// connection that is in the middle of sending a request.
pub fn fence(c: &mut Raw) -> TestResult {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let token = format!("fence-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    c.send(&encode(&[b"PING", token.as_bytes()]))?;
    let reply = c.reply()?;
    let echo = format!("${}\r\n{token}\r\n", token.len());
    if !reply.ends_with(echo.as_bytes()) {
        return Err(format!(
            "expected nothing before the fence's reply ({token}), got {}",
            text(&reply)
        )
        .into());
    }
    Ok(())
}

/// A field of `INFO section`, as text.
pub fn info_field(c: &mut Raw, section: &str, name: &str) -> Result<String, Error> {
    let all =
        String::from_utf8_lossy(&c.call(&encode_words(&format!("INFO {section}")))?).into_owned();
    all.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| format!("INFO {section} has no {name}: {all}").into())
}

/// A numeric field of `INFO section`.
pub fn info_u64(c: &mut Raw, section: &str, name: &str) -> Result<u64, Error> {
    Ok(info_field(c, section, name)?.parse()?)
}

/// Polls `check` until it holds, failing after `TIMEOUT`: for what the
/// server does in the background (the reaper, a closing connection), so
/// that a test waits exactly as long as it must, and never by a fixed
/// sleep.
pub fn eventually(what: &str, mut check: impl FnMut() -> Result<bool, Error>) -> TestResult {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if check()? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A clock for TTLs that only the test moves, reading the real time now
/// (so absolute times in tests mean what they say). Servers on it run no
/// reaper: a key past its deadline vanishes when touched.
pub fn manual_clock() -> std::sync::Arc<tandem_engine::clock::ManualClock> {
    use tandem_engine::clock::Clock;
    let now = tandem_engine::clock::SystemClock.now_ms();
    std::sync::Arc::new(tandem_engine::clock::ManualClock::new(now))
}

/// Starts a server with `config` whose TTLs run on `clock`.
pub fn start_with_clock(
    config: Config,
    clock: &std::sync::Arc<tandem_engine::clock::ManualClock>,
) -> Result<Running, Error> {
    let clock: std::sync::Arc<dyn tandem_engine::clock::Clock> = clock.clone();
    start(Config {
        clock: tandem_server::ExpiryClock(clock),
        ..config
    })
}

/// A server that lets every client run DEBUG (off by default, as in
/// Redis 7).
pub fn start_with_debug() -> Result<Running, Error> {
    start(Config {
        enable_debug_command: tandem_server::config::Allowed::Yes,
        ..config()
    })
}

/// A server that also serves its metrics port, on a free port, with
/// DEBUG allowed (to force resizes).
pub fn start_with_metrics() -> Result<Running, Error> {
    // The kernel's choice of a free port, released for the server to
    // take: `metrics-port` 0 means off, so the server cannot pick.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut config = Config {
        enable_debug_command: tandem_server::config::Allowed::Yes,
        ..config()
    };
    config.observability.metrics_port = port;
    start(config)
}

/// An HTTP GET of `path` on `server`'s metrics port: status and body.
pub fn http_get(server: &Running, path: &str) -> Result<(u16, String), Error> {
    let addr = server.metrics_addr().ok_or("no metrics port")?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut response = agent.get(&format!("http://{addr}{path}")).call()?;
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string()?))
}
