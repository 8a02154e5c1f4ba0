//! The server's settings: command-line flags, the `tandem.toml` file, and
//! the resolved `Config` the server runs with.
//!
//! Owns every setting's default and its checks. A setting is written
//! once, in `Settings` (`settings.rs`), which is both the clap flag set
//! and the TOML file's schema; `Config::resolve` layers defaults, then
//! the file, then flags. Names follow Redis's configuration directives, so
//! `--maxclients`, `maxclients = 100` and `CONFIG GET maxclients` agree.

pub(crate) mod eviction;
mod observability;
mod output;
mod persistence;
mod settings;
pub mod tls;
mod units;

pub use eviction::Eviction;
pub use observability::{Observability, Percentiles, THRESHOLD as LATENCY_THRESHOLD};
pub use output::{ClassLimit, OutputLimits};
pub use persistence::{SaveRules, StorageFs};
pub use settings::Settings;
use tandem_engine::storage::wal::SyncPolicy;
pub use units::{integer, Allowed, BadValue, ByteSize, YesNo};

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use tandem_engine::clock::{Clock, SystemClock};
use tandem_engine::pubsub::NotifyFlags;

/// The settings the server runs with, every one resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listen address.
    pub bind: String,
    /// TCP port; 0 picks one.
    pub port: u16,
    /// Optional Unix socket path.
    pub unixsocket: Option<PathBuf>,
    /// Accept queue length.
    pub tcp_backlog: u32,
    /// Seconds of silence before TCP keepalive probes a client; 0 is off.
    pub tcp_keepalive: u32,
    /// The password, if one is required.
    pub requirepass: Option<String>,
    /// Users given in the configuration (`user` lines, without the word
    /// `user`): `name rules...`.
    pub users: Vec<String>,
    /// The ACL file, if any.
    pub aclfile: Option<PathBuf>,
    /// Most entries the ACL log keeps.
    pub acllog_max_len: u64,
    /// `acl-pubsub-default`: whether a new user (or selector) starts with
    /// every channel (`allchannels`) or none (`resetchannels`, Redis 7.0's
    /// default).
    pub acl_pubsub_allchannels: bool,
    /// TLS: its port, certificates and rules.
    pub tls: tls::Tls,
    /// Protected mode.
    pub protected_mode: bool,
    /// Number of databases.
    pub databases: u32,
    /// Most clients at once.
    pub maxclients: u32,
    /// Idle timeout in seconds; 0 is none.
    pub timeout: u64,
    /// Largest bulk string and value, in bytes.
    pub proto_max_bulk_len: u64,
    /// Most arguments in one request.
    pub proto_max_multibulk_len: u32,
    /// Most unparsed input per client, in bytes.
    pub client_query_buffer_limit: u64,
    /// Keyspace events switched on.
    pub notify_keyspace_events: NotifyFlags,
    /// Output limits per client class.
    pub client_output_buffer_limit: OutputLimits,
    /// Redis log level name.
    pub loglevel: String,
    /// Connection threads; 0 means one per core.
    pub io_threads: usize,
    /// Who may run DEBUG.
    pub enable_debug_command: Allowed,
    /// The clock TTLs are measured by. Not a setting: the system clock,
    /// unless an embedder or a test brings its own.
    pub clock: ExpiryClock,
    /// Data directory.
    pub dir: PathBuf,
    /// Whether every write is logged.
    pub appendonly: bool,
    /// When the log is synced.
    pub appendfsync: SyncPolicy,
    /// The store's directory inside `dir`.
    pub appenddirname: String,
    /// The snapshot file name pattern.
    pub dbfilename: String,
    /// A Redis RDB file to load at start-up (`import.rs`).
    pub import: Option<PathBuf>,
    /// Snapshot rules.
    pub save: SaveRules,
    /// Whether a torn log tail is cut off at start-up.
    pub aof_load_truncated: bool,
    /// Whether a failed background save refuses writes.
    pub stop_writes_on_bgsave_error: bool,
    /// Most fields in a hash's small encoding.
    pub hash_max_listpack_entries: u64,
    /// Longest field or value in a hash's small encoding, in bytes.
    pub hash_max_listpack_value: u64,
    /// Most integers in a set's intset encoding.
    pub set_max_intset_entries: u64,
    /// Largest a HyperLogLog's sparse encoding grows, in bytes.
    pub hll_sparse_max_bytes: u64,
    /// How full a list's chunk gets (Redis's `list-max-listpack-size`).
    pub list_max_listpack_size: i64,
    /// Most members in a sorted set's small encoding.
    pub zset_max_listpack_entries: u64,
    /// Longest member in a sorted set's small encoding, in bytes.
    pub zset_max_listpack_value: u64,
    /// Most bytes in a stream node (Redis's `stream-node-max-bytes`).
    pub stream_node_max_bytes: u64,
    /// Most entries in a stream node (`stream-node-max-entries`).
    pub stream_node_max_entries: u64,
    /// The memory bound and its policy.
    pub eviction: Eviction,
    /// Commands at least this slow (µs) go in the slow log; 0 is every
    /// command, -1 none.
    pub slowlog_log_slower_than: i64,
    /// Most entries the slow log keeps.
    pub slowlog_max_len: u64,
    /// `busy-reply-threshold` (`lua-time-limit`): milliseconds a script
    /// runs before others are answered -BUSY; 0 never.
    pub busy_reply_threshold: u64,
    /// Latency tracking, the latency monitor and the metrics port.
    pub observability: Observability,
    /// The file system `dir` is on. Not a setting (see `StorageFs`).
    pub fs: StorageFs,
}

/// The clock the databases measure TTLs by. Tests give a
/// `tandem_engine::clock::ManualClock` and move time themselves; with a
/// clock that does not follow real time the engine runs no reaper, and
/// expired keys vanish when touched.
#[derive(Clone, Debug)]
pub struct ExpiryClock(pub Arc<dyn Clock>);

impl Default for ExpiryClock {
    fn default() -> Self {
        // One shared system clock, so that default configs compare equal.
        static SYSTEM: LazyLock<Arc<dyn Clock>> = LazyLock::new(|| Arc::new(SystemClock));
        ExpiryClock(Arc::clone(&SYSTEM))
    }
}

/// Two configs name the same clock only if it is the same object: clocks
/// have no value to compare.
impl PartialEq for ExpiryClock {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

impl Eq for ExpiryClock {}

/// `slowlog-log-slower-than`'s range (Redis 7.0's): -1 logs nothing.
pub const SLOWLOG_THRESHOLD: (i64, i64) = (-1, i64::MAX);
/// `slowlog-max-len`'s range (Redis 7.0's).
pub const SLOWLOG_MAX_LEN: (i64, i64) = (0, i64::MAX);

/// Reads `acl-pubsub-default`'s words: true for `allchannels`.
pub fn acl_pubsub_default(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "allchannels" => Ok(true),
        "resetchannels" => Ok(false),
        _ => Err("argument(s) must be one of the following: allchannels, resetchannels".into()),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1".into(),
            port: 6379,
            unixsocket: None,
            tcp_backlog: 511,
            tcp_keepalive: 300,
            requirepass: None,
            users: Vec::new(),
            aclfile: None,
            acllog_max_len: 128,
            acl_pubsub_allchannels: false,
            tls: tls::Tls::default(),
            protected_mode: true,
            databases: 16,
            maxclients: 10_000,
            timeout: 0,
            proto_max_bulk_len: 512 << 20,
            proto_max_multibulk_len: 1 << 20,
            client_query_buffer_limit: 1 << 30,
            notify_keyspace_events: NotifyFlags::default(),
            client_output_buffer_limit: OutputLimits::default(),
            loglevel: "notice".into(),
            io_threads: 0,
            enable_debug_command: Allowed::No,
            clock: ExpiryClock::default(),
            dir: PathBuf::from("."),
            appendonly: false,
            appendfsync: SyncPolicy::EverySec,
            appenddirname: "appendonlydir".into(),
            dbfilename: "dump.tdb".into(),
            import: None,
            save: SaveRules::default(),
            aof_load_truncated: true,
            stop_writes_on_bgsave_error: true,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            hll_sparse_max_bytes: 3000,
            list_max_listpack_size: -2,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            eviction: Eviction::default(),
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            busy_reply_threshold: 5000,
            observability: Observability::default(),
            fs: StorageFs::default(),
        }
    }
}

/// Why the settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown setting.
    #[error("bad config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A setting has a value out of its range.
    #[error("bad value for '{name}': {why}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// Why.
        why: String,
    },
}

impl Config {
    /// When each type's compact encoding gives way to a table, for the
    /// engine.
    pub fn limits(&self) -> tandem_engine::Limits {
        let clamp = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        tandem_engine::Limits {
            hash: tandem_engine::Listpack {
                entries: clamp(self.hash_max_listpack_entries),
                value: clamp(self.hash_max_listpack_value),
            },
            set_intset_entries: clamp(self.set_max_intset_entries),
            list_chunk: tandem_engine::ChunkLimit(self.list_max_listpack_size),
            zset: tandem_engine::Listpack {
                entries: clamp(self.zset_max_listpack_entries),
                value: clamp(self.zset_max_listpack_value),
            },
            stream_node: tandem_engine::StreamNodeLimit {
                bytes: clamp(self.stream_node_max_bytes),
                entries: clamp(self.stream_node_max_entries),
            },
        }
    }

    /// The threads serving connections: `io_threads`, or one per core when
    /// it is 0.
    pub fn serving_threads(&self) -> usize {
        match self.io_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Defaults, overridden by the file `flags.config` names (if any),
    /// overridden by the flags themselves.
    pub fn resolve(flags: Settings) -> Result<Config, ConfigError> {
        let file = match &flags.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        Config::from_settings(flags.or(file))
    }

    /// Defaults overridden by `s`, with each value checked.
    pub fn from_settings(s: Settings) -> Result<Config, ConfigError> {
        let d = Config::default();
        let invalid = |name, why: &str| ConfigError::Invalid {
            name,
            why: why.to_owned(),
        };
        let databases = s.databases.unwrap_or(d.databases);
        if !(1..=1 << 16).contains(&databases) {
            return Err(invalid("databases", "must be between 1 and 65536"));
        }
        let maxclients = s.maxclients.unwrap_or(d.maxclients);
        if maxclients == 0 {
            return Err(invalid("maxclients", "must be at least 1"));
        }
        let bulk = s.proto_max_bulk_len.map_or(d.proto_max_bulk_len, |b| b.0);
        if bulk < 1 << 20 {
            return Err(invalid("proto-max-bulk-len", "must be at least 1mb"));
        }
        let multibulk = s
            .proto_max_multibulk_len
            .unwrap_or(d.proto_max_multibulk_len);
        if multibulk == 0 {
            return Err(invalid("proto-max-multibulk-len", "must be at least 1"));
        }
        let notify = match &s.notify_keyspace_events {
            Some(text) => NotifyFlags::parse(text.as_bytes())
                .map_err(|_| invalid("notify-keyspace-events", "unknown event class"))?,
            None => d.notify_keyspace_events,
        };
        let output = match &s.client_output_buffer_limit {
            Some(text) => d
                .client_output_buffer_limit
                .with(text)
                .map_err(|why| invalid("client-output-buffer-limit", &why))?,
            None => d.client_output_buffer_limit,
        };
        let loglevel = s.loglevel.unwrap_or(d.loglevel);
        if log_filter(&loglevel).is_none() {
            return Err(invalid(
                "loglevel",
                "must be one of debug, verbose, notice, warning",
            ));
        }
        let appendfsync = match &s.appendfsync {
            Some(p) => SyncPolicy::parse(p)
                .ok_or_else(|| invalid("appendfsync", "must be one of always, everysec, no"))?,
            None => d.appendfsync,
        };
        let appenddirname = s.appenddirname.unwrap_or(d.appenddirname);
        if !plain_name(&appenddirname) {
            return Err(invalid("appenddirname", "must be a name, not a path"));
        }
        let dbfilename = s.dbfilename.unwrap_or(d.dbfilename);
        if !plain_name(&dbfilename) {
            return Err(invalid("dbfilename", "must be a name, not a path"));
        }
        let slowlog_log_slower_than = s
            .slowlog_log_slower_than
            .map_or(Ok(d.slowlog_log_slower_than), |n| {
                integer(&n.to_string(), SLOWLOG_THRESHOLD.0, SLOWLOG_THRESHOLD.1)
            })
            .map_err(|why| invalid("slowlog-log-slower-than", &why))?;
        let slowlog_max_len = s
            .slowlog_max_len
            .map_or(Ok(d.slowlog_max_len), |n| {
                let max = SLOWLOG_MAX_LEN.1;
                match i64::try_from(n) {
                    Ok(n) if n <= max => Ok(n.unsigned_abs()),
                    _ => Err(format!("argument must be between 0 and {max} inclusive")),
                }
            })
            .map_err(|why| invalid("slowlog-max-len", &why))?;
        let busy_reply_threshold = s
            .busy_reply_threshold
            .map_or(Ok(d.busy_reply_threshold), |n| match i64::try_from(n) {
                Ok(n) => Ok(n.unsigned_abs()),
                Err(_) => Err(format!(
                    "argument must be between 0 and {} inclusive",
                    i64::MAX
                )),
            })
            .map_err(|why| invalid("busy-reply-threshold", &why))?;
        let observability = Observability::resolve(
            s.latency_tracking.map(|y| y.0),
            s.latency_tracking_info_percentiles.as_deref(),
            s.latency_monitor_threshold,
            s.metrics_port,
        )?;
        let eviction = Eviction::resolve(
            s.maxmemory.map(|b| b.0),
            s.maxmemory_policy.as_deref(),
            s.maxmemory_samples,
            s.maxmemory_eviction_tenacity,
            s.lfu_log_factor,
            s.lfu_decay_time,
        )?;
        let tls = tls::Tls {
            port: s.tls_port.unwrap_or(d.tls.port),
            cert_file: s.tls_cert_file.or(d.tls.cert_file),
            key_file: s.tls_key_file.or(d.tls.key_file),
            ca_cert_file: s.tls_ca_cert_file.or(d.tls.ca_cert_file),
            ca_cert_dir: s.tls_ca_cert_dir.or(d.tls.ca_cert_dir),
            auth_clients: s
                .tls_auth_clients
                .as_deref()
                .map_or(Ok(d.tls.auth_clients), tls::AuthClients::parse)
                .map_err(|why| invalid("tls-auth-clients", &why))?,
            protocols: s.tls_protocols.unwrap_or(d.tls.protocols),
            ciphersuites: s.tls_ciphersuites.unwrap_or(d.tls.ciphersuites),
            ciphers: s.tls_ciphers.unwrap_or(d.tls.ciphers),
            handshake_timeout: d.tls.handshake_timeout,
        };
        tls::protocols(&tls.protocols).map_err(|why| invalid("tls-protocols", &why))?;
        Ok(Config {
            bind: s.bind.unwrap_or(d.bind),
            port: s.port.unwrap_or(d.port),
            unixsocket: s.unixsocket.or(d.unixsocket),
            tcp_backlog: s.tcp_backlog.unwrap_or(d.tcp_backlog),
            tcp_keepalive: s.tcp_keepalive.unwrap_or(d.tcp_keepalive),
            requirepass: s.requirepass.filter(|p| !p.is_empty()).or(d.requirepass),
            users: s.user.unwrap_or(d.users),
            aclfile: s
                .aclfile
                .filter(|p| !p.as_os_str().is_empty())
                .or(d.aclfile),
            acllog_max_len: s.acllog_max_len.unwrap_or(d.acllog_max_len),
            acl_pubsub_allchannels: s
                .acl_pubsub_default
                .as_deref()
                .map_or(Ok(d.acl_pubsub_allchannels), acl_pubsub_default)
                .map_err(|why| invalid("acl-pubsub-default", &why))?,
            tls,
            protected_mode: s.protected_mode.map_or(d.protected_mode, |y| y.0),
            databases,
            maxclients,
            timeout: s.timeout.unwrap_or(d.timeout),
            proto_max_bulk_len: bulk,
            proto_max_multibulk_len: multibulk,
            client_query_buffer_limit: s
                .client_query_buffer_limit
                .map_or(d.client_query_buffer_limit, |b| b.0),
            notify_keyspace_events: notify,
            client_output_buffer_limit: output,
            loglevel,
            io_threads: s.io_threads.unwrap_or(d.io_threads),
            enable_debug_command: s.enable_debug_command.unwrap_or(d.enable_debug_command),
            clock: d.clock,
            dir: s.dir.unwrap_or(d.dir),
            appendonly: s.appendonly.map_or(d.appendonly, |y| y.0),
            appendfsync,
            appenddirname,
            dbfilename,
            import: s.import,
            save: s.save.unwrap_or(d.save),
            aof_load_truncated: s.aof_load_truncated.map_or(d.aof_load_truncated, |y| y.0),
            stop_writes_on_bgsave_error: s
                .stop_writes_on_bgsave_error
                .map_or(d.stop_writes_on_bgsave_error, |y| y.0),
            hash_max_listpack_entries: s
                .hash_max_listpack_entries
                .unwrap_or(d.hash_max_listpack_entries),
            hash_max_listpack_value: s
                .hash_max_listpack_value
                .map_or(d.hash_max_listpack_value, |b| b.0),
            set_max_intset_entries: s.set_max_intset_entries.unwrap_or(d.set_max_intset_entries),
            hll_sparse_max_bytes: s
                .hll_sparse_max_bytes
                .map_or(d.hll_sparse_max_bytes, |b| b.0),
            list_max_listpack_size: s.list_max_listpack_size.unwrap_or(d.list_max_listpack_size),
            zset_max_listpack_entries: s
                .zset_max_listpack_entries
                .unwrap_or(d.zset_max_listpack_entries),
            zset_max_listpack_value: s
                .zset_max_listpack_value
                .map_or(d.zset_max_listpack_value, |b| b.0),
            stream_node_max_bytes: s
                .stream_node_max_bytes
                .map_or(d.stream_node_max_bytes, |b| b.0),
            stream_node_max_entries: s
                .stream_node_max_entries
                .unwrap_or(d.stream_node_max_entries),
            eviction,
            slowlog_log_slower_than,
            slowlog_max_len,
            busy_reply_threshold,
            observability,
            fs: d.fs,
        })
    }

    /// The store's directory: `appenddirname` inside `dir`.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join(&self.appenddirname)
    }
}

/// A file name with no directory (Redis refuses paths in `appenddirname`
/// and `dbfilename`) and no control characters (the manifest is lines of
/// text).
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(|c: char| c == '/' || c.is_control())
        && name != "."
        && name != ".."
}

/// The `tracing` filter for a Redis log level name.
pub fn log_filter(level: &str) -> Option<&'static str> {
    match level {
        "debug" => Some("debug"),
        "verbose" => Some("info"),
        "notice" => Some("info"),
        "warning" => Some("warn"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file: Settings = toml::from_str(
            "port = 7000\nmaxclients = 5\nproto-max-bulk-len = \"1mb\"\nprotected-mode = \"no\"",
        )
        .unwrap_or_default();
        let flags = Settings {
            port: Some(7001),
            ..Settings::default()
        };
        let c = Config::from_settings(flags.or(file)).ok();
        let c = c.as_ref();
        assert_eq!(c.map(|c| c.port), Some(7001));
        assert_eq!(c.map(|c| c.maxclients), Some(5));
        assert_eq!(c.map(|c| c.proto_max_bulk_len), Some(1 << 20));
        assert_eq!(c.map(|c| c.protected_mode), Some(false));
        assert_eq!(c.map(|c| c.databases), Some(16));
    }

    /// The example file in the repository lists every setting with its
    /// default: it must parse, and resolve to the defaults.
    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../../../../tandem.example.toml");
        let parsed: Result<Settings, _> = toml::from_str(text);
        assert!(parsed.is_ok(), "{parsed:?}");
        let config = parsed
            .map_err(|e| e.to_string())
            .and_then(|s| Config::from_settings(s).map_err(|e| e.to_string()));
        assert_eq!(config.ok(), Some(Config::default()));
    }

    /// Regression: a `dbfilename` with a control character would be
    /// written into the manifest's lines and not read back as itself.
    #[test]
    fn names_with_paths_or_control_characters_are_refused() {
        for bad in ["a/b", "dump.tdb\r", "x\ny", "", ".", ".."] {
            let s = Settings {
                dbfilename: Some(bad.into()),
                ..Settings::default()
            };
            assert!(Config::from_settings(s).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_file_settings_and_bad_values_are_refused() {
        assert!(toml::from_str::<Settings>("prot = 1").is_err());
        let bad = Settings {
            databases: Some(0),
            ..Settings::default()
        };
        assert!(Config::from_settings(bad).is_err());
    }
}
