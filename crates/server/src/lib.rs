//! Tandem's server: the Redis protocol (RESP2 and RESP3) over the engine.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let config = tandem_server::Config::default(); // 127.0.0.1:6379
//! let server = tandem_server::Server::bind(config).await?;
//! println!("listening on {}", server.local_addr()?);
//! server.run().await // until SHUTDOWN or a ShutdownHandle
//! # }
//! ```
//!
//! Layout (see `docs/ARCHITECTURE.md`):
//! - `server`: binding, accepting, admission (maxclients, protected
//!   mode), graceful shutdown.
//! - `connection`: one connection's read → parse → execute → write loop;
//!   `contained` catches a panic in it, which closes that connection only.
//! - `resp`: request framing (parsed once, zero-copy) and reply encoding.
//! - `command`: the command table, dispatch, and one module per group.
//! - `session`, `shared`, `databases`: per-client and server-wide state;
//!   `registry` (the clients CLIENT reads) and `pause` (CLIENT PAUSE).
//! - `stats`: the counters INFO reports, kept per thread.
//! - `config`: every setting, from flags and `tandem.toml`.

// Input from the network reaches most of this crate: an index a client
// can push out of bounds would be a panic on a serving thread. Proven
// exceptions say why with `#[expect(..., reason)]`.
#![deny(clippy::indexing_slicing)]

// The command table is the server's own business; outside users need only
// the list of names (the compatibility runner skips unsupported commands).
mod acl;
mod blocking;
pub(crate) mod command;
pub mod config;
mod connection;
mod contained;
mod databases;
mod eviction;
mod fd_limit;
mod import;
mod latency;
pub mod log_level;
mod memory;
mod metrics;
mod monitor;
mod pause;
mod persistence;
mod rdb;
mod registry;
pub(crate) mod resp;
mod script;
mod server;
mod session;
mod shared;
mod slowlog;
mod socket;
mod stats;
mod ticks;
mod tls;

/// The name of every command the server supports, lowercase: what a
/// client (or the compatibility runner) may expect an answer to.
pub use command::names as command_names;
pub use config::{Config, ExpiryClock, Settings};
pub use server::{Server, ShutdownHandle};

/// Request framing, public only so that the fuzz targets in `fuzz/` can
/// drive the parser directly; the server itself is the only other user.
pub use resp::{Form, Limits, Parsed, ProtocolError, RequestParser, MAX_INLINE};

/// FUNCTION RESTORE's reading of a payload, without running the code:
/// the library texts it holds and each one's first line read, or the
/// first error. Public only for the fuzz target in `fuzz/`.
pub fn read_function_payload(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let texts = script::function::payload::texts(payload)?;
    for text in &texts {
        script::function::library::parse(text)?;
    }
    Ok(texts)
}

/// Reads an ACL file's bytes (as ACL LOAD and start-up do), and, when
/// they hold users, writes those back as ACL SAVE would and reads that
/// again: the users must come back the same, whatever
/// `acl-pubsub-default` is then, and be written the same again. (Not
/// equal field by field: `%R~* ~b %W~*` grants what `~*` grants, and is
/// saved as `~*`.) For the fuzzer: input from disk must
/// never panic, and a saved file must load as what was saved.
pub fn read_acl_file(bytes: &[u8]) -> Result<usize, String> {
    let catalog = command::acl_catalog();
    let users = acl::file::parse_bytes(bytes, "fuzz", catalog, false)?;
    let list: Vec<_> = users.values().cloned().collect();
    let written = acl::file::render(&list, catalog);
    for allchannels in [false, true] {
        let again = acl::file::parse_bytes(&written, "fuzz", catalog, allchannels)
            .map_err(|e| format!("a saved file does not load: {e}"))?;
        let again: Vec<_> = again.values().cloned().collect();
        if acl::file::render(&again, catalog) != written {
            return Err("a saved file loads as different users".into());
        }
    }
    Ok(users.len())
}

/// RESTORE's reading of a payload: the footer checked, then the value
/// built (with the default encoding limits) as RESTORE builds it, or why
/// not. Public only for the fuzz target in `fuzz/`.
pub fn read_dump_payload(payload: &[u8]) -> Result<tandem_engine::Value, String> {
    rdb::open(payload).ok_or("DUMP payload version or checksum are wrong")?;
    let mut r = rdb::string::Reader::new(payload);
    let ty = r.byte().map_err(|_| "no type")?;
    if !rdb::object::is_value_type(ty) {
        return Err("not a value type".into());
    }
    rdb::object::load(ty, &mut r, tandem_engine::Limits::default()).map_err(|e| e.to_string())
}

/// An import's reading of an RDB file: every key built and dropped, the
/// keys counted, or where and why the file is wrong. Public only for the
/// fuzz target in `fuzz/`.
pub fn read_rdb_file(bytes: &[u8]) -> Result<u64, String> {
    struct Drop;
    impl rdb::file::Sink<'_> for Drop {
        fn aux(&mut self, _: &[u8], _: &[u8]) {}
        fn resize(&mut self, _: u64, _: u64, _: u64) {}
        fn key(&mut self, _: rdb::file::Key<'_>) -> Result<(), String> {
            Ok(())
        }
        fn empty(&mut self, _: u64, _: &[u8]) {}
        fn function(&mut self, _: &[u8]) -> Result<(), String> {
            Ok(())
        }
        fn progress(&mut self, _: usize) {}
    }
    rdb::file::walk(bytes, tandem_engine::Limits::default(), &mut Drop)
        .map(|w| w.keys)
        .map_err(|e| e.to_string())
}

use std::net::SocketAddr;
use std::thread::JoinHandle;

/// A server running on its own thread and runtime, for tests and for
/// programs that embed Tandem. Dropping it shuts the server down and
/// waits for it.
pub struct Running {
    addr: SocketAddr,
    metrics: Option<SocketAddr>,
    handle: ShutdownHandle,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// The TCP address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics port's address, when `metrics-port` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
    }

    /// A handle that shuts it down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Shuts it down and waits until every connection has closed.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> std::io::Result<()> {
        self.handle.shutdown();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(std::io::Error::other("server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Starts a server with `config` on a new thread, and returns once it is
/// listening and has loaded its data (an error if that failed). `threads` overrides `config.io_threads` (the threads serving
/// connections) when not 0.
pub fn start(mut config: Config, threads: usize) -> std::io::Result<Running> {
    if threads > 0 {
        config.io_threads = threads;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let server = runtime.block_on(Server::bind(config))?;
    let addr = server.local_addr()?;
    let metrics = server.metrics_addr();
    let handle = server.shutdown_handle();
    let persistence = server.persistence();
    let thread = std::thread::Builder::new()
        .name("tandem-server".into())
        .spawn(move || runtime.block_on(server.run()))?;
    let mut running = Running {
        addr,
        metrics,
        handle,
        thread: Some(thread),
    };
    // Embedders and tests get a server that has loaded its data; the
    // binary serves (`-LOADING`) while it loads.
    if let Err(why) = persistence.wait_loaded() {
        let _ = running.stop_inner();
        return Err(std::io::Error::other(why));
    }
    Ok(running)
}
