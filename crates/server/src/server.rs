//! The listener: binding, accepting, admission, and shutdown.
//!
//! Owns the server's life. `Server::bind` opens the sockets; `run` accepts
//! clients until the shutdown token is cancelled (by a signal, the
//! SHUTDOWN command, or a `ShutdownHandle`), then stops accepting, lets
//! every connection answer what it has read, and returns once all have
//! closed. Admission happens here: `maxclients`, and protected mode.
//!
//! Why tokio's multi-threaded runtime and not a thread per core with its
//! own listener: the engine's shards are shared by every thread (no key
//! is owned by a core), so a thread-per-core design would gain no data
//! locality, and a work-stealing runtime keeps both cores busy when a few
//! connections carry most of the load. Requests never await inside the
//! engine, so a connection's task runs each batch to completion.

use crate::config::Config;
use crate::connection;
use crate::registry::ClientEntry;
use crate::session::Session;
use crate::shared::Shared;
use crate::socket::Socket;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, UnixListener};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Redis's reply to a client refused by protected mode.
const PROTECTED_MODE_ERROR: &str = "-DENIED Tandem is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Tandem you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Tandem from the same host the server is running, however MAKE SURE Tandem is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Tandem configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// How long shutdown waits for connections to finish their replies.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound server, ready to run.
pub struct Server {
    tcp: TcpListener,
    /// The TLS port's listener, when `tls-port` is set.
    tls: Option<TcpListener>,
    unix: Option<UnixListener>,
    /// The metrics port's listener, when `metrics-port` is set.
    metrics: Option<TcpListener>,
    shared: Arc<Shared>,
}

/// Cancels a running server from outside (signals, tests, embedders).
#[derive(Clone, Debug)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    /// Starts a graceful shutdown.
    pub fn shutdown(&self) {
        self.0.cancel();
    }
}

impl Server {
    /// Opens the listening sockets `config` asks for.
    pub async fn bind(config: Config) -> io::Result<Server> {
        let ip: IpAddr = config.bind.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bind address '{}' is not an IP address", config.bind),
            )
        })?;
        let tcp = listen(SocketAddr::new(ip, config.port), config.tcp_backlog)?;
        // Port 0 asks for a free port: record the one chosen, so that
        // CONFIG GET port says where the server listens.
        let mut config = Config {
            port: tcp.local_addr()?.port(),
            ..config
        };
        // As Redis's `adjustOpenFilesLimit`: the open-file limit is raised
        // for maxclients, and maxclients lowered to what fits if the OS
        // will not raise it that far.
        match crate::fd_limit::fit(config.maxclients) {
            Ok(0) => {
                return Err(io::Error::other(format!(
                    "the open-file limit ('ulimit -n') is too low to serve any client: at least {} are needed",
                    crate::fd_limit::RESERVED_FDS + 1
                )))
            }
            Ok(fits) if fits < u64::from(config.maxclients) => {
                tracing::warn!(
                    "maxclients {} needs {} open files, more than the OS allows: maxclients lowered to {fits}; raise 'ulimit -n' for more",
                    config.maxclients,
                    u64::from(config.maxclients) + crate::fd_limit::RESERVED_FDS,
                );
                config.maxclients = u32::try_from(fits).unwrap_or(config.maxclients);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("the open-file limit cannot be read ({e}): maxclients left as it is"),
        }
        // As Redis: the files are read only when there is a TLS port.
        let tls = if config.tls.port != 0 {
            let built = crate::tls::server_config(&config.tls)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("TLS: {e}")))?;
            Some(built)
        } else {
            None
        };
        let tls_listener = match config.tls.port {
            0 => None,
            port => {
                let l = listen(SocketAddr::new(ip, port), config.tcp_backlog)?;
                config.tls.port = l.local_addr()?.port();
                Some(l)
            }
        };
        let unix = match &config.unixsocket {
            Some(path) => {
                // A socket file left by an earlier run would make bind fail.
                if path.exists() {
                    std::fs::remove_file(path)?;
                }
                Some(UnixListener::bind(path)?)
            }
            None => None,
        };
        let metrics = crate::metrics::bind(&config.bind, config.observability.metrics_port).await?;
        let shared = Shared::new(config, crate::command::acl_catalog());
        shared.tls.store(tls);
        crate::command::load_users(&shared)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("ACL: {e}")))?;
        Ok(Server {
            tcp,
            tls: tls_listener,
            unix,
            metrics,
            shared,
        })
    }

    /// The TCP address it listens on (the real port when 0 was asked).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The metrics port's address, if it serves one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// A handle that shuts this server down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shared.shutdown.clone())
    }

    /// The server's persistence (to wait until it has loaded).
    pub(crate) fn persistence(&self) -> crate::persistence::Persistence {
        self.shared.persistence.clone()
    }

    /// Serves clients until shutdown, then waits for connections to
    /// finish (at most `DRAIN_TIMEOUT`).
    pub async fn run(self) -> io::Result<()> {
        let Server {
            tcp,
            tls,
            unix,
            metrics,
            shared,
        } = self;
        // TLS clients shake hands on tasks of their own (a slow or silent
        // one holds up no one), then come back here to be admitted.
        let (handshaken, mut secured) = tokio::sync::mpsc::channel(64);
        let handshakes = Arc::new(AtomicUsize::new(0));
        let tracker = TaskTracker::new();
        let token = shared.shutdown.clone();
        let cores = Cores::start(shared.config.load().serving_threads(), &token, &tracker)?;
        // Clients are served while the data loads; until it has, they get
        // `-LOADING` (`command::admit`).
        let loader = load(&shared)?;
        let rules = tokio::spawn(save_rules(Arc::clone(&shared)));
        let metrics = metrics.map(|l| tokio::spawn(crate::metrics::serve(l, Arc::clone(&shared))));
        loop {
            let accepted = tokio::select! {
                () = token.cancelled() => break,
                r = tcp.accept() => r.map(|(s, peer)| {
                    keep_alive(&s, shared.config.load().tcp_keepalive);
                    (Socket::Tcp(s), Some(peer))
                }),
                r = accept_unix(unix.as_ref()) => r.map(|s| (Socket::Unix(s), None)),
                Some((s, peer)) = secured.recv() => Ok((s, Some(peer))),
                r = accept_tcp(tls.as_ref()) => {
                    match r {
                        Ok((s, peer)) => {
                            keep_alive(&s, shared.config.load().tcp_keepalive);
                            handshake(s, peer, &shared, &handshakes, &handshaken)
                        }
                        Err(e) => {
                            tracing::warn!("accept failed on the TLS port: {e}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    continue;
                }
            };
            match accepted {
                Ok((socket, peer)) => admit(socket, peer, &shared, &tracker, &cores).await,
                Err(e) => {
                    // Running out of file descriptors is transient: wait a
                    // little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        tracing::info!("shutting down: no longer accepting clients");
        tracker.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some clients did not close within {DRAIN_TIMEOUT:?}");
            // A script still running would keep its thread forever: it is
            // stopped as SHUTDOWN NOSAVE stops it (its open changes never
            // logged), and nothing is saved, which would hold half of it.
            if shared.scripts.busy.any() {
                tracing::warn!("stopping the scripts still running; nothing is saved");
                shared.persistence.skip_save();
                shared.scripts.busy.abort_all();
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait()).await;
            }
        }
        cores.join();
        rules.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        if let Some(path) = &shared.config.load().unixsocket {
            let _ = std::fs::remove_file(path);
        }
        let loaded = loader
            .join()
            .unwrap_or_else(|_| Err("the loader panicked".into()));
        if let Err(why) = loaded {
            return Err(io::Error::other(format!("could not load the data: {why}")));
        }
        // A signal (not SHUTDOWN, which saved already): save as Redis does
        // when save rules are set, then sync the log.
        let config = shared.config.load();
        if let Err(why) = shared
            .persistence
            .shutdown(config.save.any(), shared.stats.changes())
        {
            tracing::error!(
                "saving at shutdown failed ({why}); the data on disk is the last saved"
            );
        }
        tracing::info!("Tandem is now ready to exit, bye bye...");
        Ok(())
    }
}

/// Loads the data on a thread of its own; a failure (corrupt files) is
/// logged and shuts the server down.
fn load(shared: &Arc<Shared>) -> io::Result<std::thread::JoinHandle<Result<(), String>>> {
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name("tandem-load".into())
        .spawn(move || {
            let config = shared.config.load_full();
            tracing::info!("loading the data in {}", config.store_dir().display());
            let restore = || {
                crate::command::restore_functions(&shared)
                    .map_err(|why| format!("the function libraries it keeps do not load: {why}"))?;
                if let Some(path) = &config.import {
                    crate::import::run(&shared, path)?;
                }
                Ok(())
            };
            let loaded = shared.persistence.load(&config, &shared.dbs, &restore);
            crate::script::release_thread_vm();
            if let Err(e) = &loaded {
                tracing::error!("could not load the data: {e}");
                shared.shutdown.cancel();
            }
            loaded.map_err(|e| e.to_string())
        })
}

/// Checks the `save` rules once a second (Redis's `serverCron` does).
async fn save_rules(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let config = shared.config.load();
        shared.persistence.tick(&config, shared.stats.changes());
    }
}

/// A listening socket on `addr`, Nagle off for the clients it accepts.
fn listen(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// `tcp-keepalive`: probes after `seconds` of silence, then every third
/// of that, three times, as Redis's `anetKeepAlive` sets them, so a peer
/// that vanished without a FIN is noticed. A socket that refuses the
/// options keeps serving without them.
fn keep_alive(tcp: &tokio::net::TcpStream, seconds: u32) {
    if seconds == 0 {
        return;
    }
    let idle = Duration::from_secs(u64::from(seconds));
    let every = Duration::from_secs(u64::from(seconds / 3).max(1));
    let probes = socket2::TcpKeepalive::new()
        .with_time(idle)
        .with_interval(every)
        .with_retries(3);
    if let Err(e) = socket2::SockRef::from(tcp).set_tcp_keepalive(&probes) {
        tracing::debug!("tcp-keepalive not set: {e}");
    }
}

async fn accept_tcp(l: Option<&TcpListener>) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Runs a TLS client's handshake on a task of its own, bounded in time
/// (`Tls::handshake_timeout`) and in number (`maxclients` at once, as it
/// is now: past that a new one is closed at once), then hands the
/// connection back to the accept loop through `done`. A client that
/// sends garbage or never finishes only costs its own task.
fn handshake(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    under_way: &Arc<AtomicUsize>,
    done: &tokio::sync::mpsc::Sender<(Socket, SocketAddr)>,
) {
    /// Counts a handshake under way until dropped.
    struct Slot(Arc<AtomicUsize>);
    impl Drop for Slot {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let limit = usize::try_from(shared.config.load().maxclients).unwrap_or(usize::MAX);
    if under_way.fetch_add(1, Ordering::Relaxed) >= limit {
        under_way.fetch_sub(1, Ordering::Relaxed);
        tracing::warn!(%peer, "too many TLS handshakes under way: closing");
        shared.stats.count_rejected();
        return;
    }
    let slot = Slot(Arc::clone(under_way));
    let Some(config) = shared.tls.load_full() else {
        return;
    };
    let timeout = shared.config.load().tls.handshake_timeout;
    let done = done.clone();
    tokio::spawn(async move {
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => {
                drop(slot);
                let (tcp, conn) = stream.into_inner();
                let socket = Socket::Tls(Box::new(crate::tls::stream::TlsStream::new(tcp, conn)));
                // The loop is gone only at shutdown: the client is dropped.
                let _ = done.send((socket, peer)).await;
            }
            Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
            Err(_) => tracing::debug!(%peer, "TLS handshake not done in {timeout:?}: closing"),
        }
    });
}

async fn accept_unix(unix: Option<&UnixListener>) -> io::Result<tokio::net::UnixStream> {
    match unix {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

/// Admits a client, or refuses it with Redis's error: over `maxclients`,
/// or remote while protected mode is on without a password.
async fn admit(
    mut socket: Socket,
    peer: Option<SocketAddr>,
    shared: &Arc<Shared>,
    tracker: &TaskTracker,
    cores: &Cores,
) {
    let config = shared.config.load();
    let refusal = if shared.clients.load(Ordering::Relaxed) >= config.maxclients as usize {
        Some("-ERR max number of clients reached\r\n")
    } else if config.protected_mode
        && shared.acl.default_user().nopass()
        && peer.is_some_and(|p| !is_loopback(p.ip()))
    {
        Some(PROTECTED_MODE_ERROR)
    } else {
        None
    };
    if let Some(reply) = refusal {
        shared.stats.count_rejected();
        tracing::debug!(?peer, "refusing client: {}", reply.trim_end());
        // Best effort: the client may not even read it.
        let _ = socket.write_all(reply.as_bytes()).await;
        return;
    }
    shared.stats.count_connection();
    let id = shared.next_client_id();
    let addr = peer.map_or_else(|| "unix".to_string(), |p| p.to_string());
    let laddr = socket.local_addr();
    let seat = Seat::take(shared, id, addr, laddr);
    let session = Session::new(Arc::clone(&seat.entry), &shared.acl);
    // The socket leaves this runtime's reactor and joins its core's.
    let socket = match socket.into_std() {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!("cannot hand a client over: {e}");
            return;
        }
    };
    tracker.spawn_on(
        async move {
            // Given back after the session (and its subscriptions), which
            // `serve` drops, whichever way the connection ends.
            let seat = seat;
            if let Ok(socket) = Socket::from_std(socket) {
                let mut socket = connection::serve(socket, session, Arc::clone(&seat.shared)).await;
                // Forgotten before the client sees the close: a client
                // that sees it finds INFO and CLIENT LIST without itself.
                drop(seat);
                socket.shutdown().await;
            }
        },
        cores.next(),
    );
}

/// What an admitted client holds of the server: a `maxclients` slot and
/// its registry entry. Given back when dropped, so every way a
/// connection ends (the client leaving, an error, CLIENT KILL, shutdown,
/// a panic, or a task dropped unpolled) gives back the same.
struct Seat {
    shared: Arc<Shared>,
    entry: Arc<ClientEntry>,
}

impl Seat {
    /// Counts a client in and registers it.
    fn take(shared: &Arc<Shared>, id: u64, addr: String, laddr: String) -> Seat {
        shared.clients.fetch_add(1, Ordering::Relaxed);
        let entry = shared
            .registry
            .register(id, addr, laddr, shared.shutdown.child_token());
        Seat {
            shared: Arc::clone(shared),
            entry,
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.shared.registry.remove(self.entry.id);
        self.shared.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The threads that serve connections: one single-threaded runtime per
/// core, each owning the connections handed to it, round robin. A
/// connection never moves between threads, so no request pays for work
/// stealing or wakes another thread; the engine's shards are shared by all
/// of them.
struct Cores {
    handles: Vec<Handle>,
    threads: Vec<std::thread::JoinHandle<()>>,
    next: AtomicUsize,
}

impl Cores {
    /// Starts `count` serving threads. They run until `token` is
    /// cancelled and every task of `tracker` has finished.
    fn start(count: usize, token: &CancellationToken, tracker: &TaskTracker) -> io::Result<Cores> {
        let count = count.max(1);
        let mut cores = Cores {
            handles: Vec::with_capacity(count),
            threads: Vec::with_capacity(count),
            next: AtomicUsize::new(0),
        };
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            cores.handles.push(runtime.handle().clone());
            let (token, tracker) = (token.clone(), tracker.clone());
            let thread = std::thread::Builder::new()
                .name(format!("tandem-io-{i}"))
                .spawn(move || {
                    runtime.block_on(async {
                        token.cancelled().await;
                        tracker.wait().await;
                    });
                })?;
            cores.threads.push(thread);
        }
        Ok(cores)
    }

    /// The runtime for the next connection.
    #[expect(
        clippy::indexing_slicing,
        reason = "the index is taken modulo the length, which `start` makes at least 1"
    )]
    fn next(&self) -> &Handle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[i]
    }

    /// Waits for the threads, once shutdown has been signalled.
    fn join(self) {
        for t in self.threads {
            // A serving thread that panicked has already logged it.
            let _ = t.join();
        }
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probes are set as Redis's `anetKeepAlive` sets them, and 0
    /// leaves keepalive off.
    #[tokio::test]
    async fn tcp_keepalive_sets_redis_s_probes() -> io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let _a = tokio::net::TcpStream::connect(addr).await?;
        let (served, _) = listener.accept().await?;
        keep_alive(&served, 60);
        let sock = socket2::SockRef::from(&served);
        assert!(sock.keepalive()?);
        assert_eq!(sock.tcp_keepalive_time()?, Duration::from_secs(60));
        assert_eq!(sock.tcp_keepalive_interval()?, Duration::from_secs(20));
        assert_eq!(sock.tcp_keepalive_retries()?, 3);
        let _b = tokio::net::TcpStream::connect(addr).await?;
        let (off, _) = listener.accept().await?;
        keep_alive(&off, 0);
        assert!(!socket2::SockRef::from(&off).keepalive()?);
        Ok(())
    }
}
