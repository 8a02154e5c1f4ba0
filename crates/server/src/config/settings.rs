//! Every setting as it arrives, from the command line or the
//! `tandem.toml` file, before defaults and checks (`Config::resolve`).
//!
//! Owns each setting's flag, its file key and its `--help` text: one
//! field serves clap and serde both. It never checks a value or fills a
//! default; that is `Config`'s.

use super::{Allowed, ByteSize, ConfigError, SaveRules, YesNo};
use std::path::{Path, PathBuf};

/// Every setting, each optional so that a flag or a file line can leave it
/// to the layer below. `tandem server --help` prints these docs.
#[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Read settings from this TOML file (keys as the flag names, e.g.
    /// `port = 6380`, `proto-max-bulk-len = "512mb"`); flags win over it.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1]. Binding beyond loopback
    /// without `requirepass` leaves protected mode refusing remote clients.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// TCP port [default: 6379]; 0 picks a free port and logs it.
    #[arg(long)]
    pub port: Option<u16>,

    /// Also listen on this Unix socket path [default: none].
    #[arg(long, value_name = "PATH")]
    pub unixsocket: Option<PathBuf>,

    /// Length of the queue of connections not yet accepted [default: 511].
    #[arg(long, value_name = "N")]
    pub tcp_backlog: Option<u32>,

    /// Seconds of silence before TCP keepalive probes a client (a dead
    /// peer is dropped about three probes later); 0 is off [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub tcp_keepalive: Option<u32>,

    /// Password clients must give with AUTH (or HELLO ... AUTH) before any
    /// other command [default: none].
    #[arg(long, value_name = "PASSWORD")]
    pub requirepass: Option<String>,

    /// A user and its ACL rules, as Redis's `user` directive gives them
    /// (`alice on >secret ~app:* +@read`); may be repeated. Not with
    /// `aclfile` [default: none].
    #[arg(long = "user", value_name = "RULES")]
    pub user: Option<Vec<String>>,

    /// The ACL file: users as `user <name> <rules>` lines, loaded at
    /// start-up and by ACL LOAD, written by ACL SAVE [default: none].
    #[arg(long, value_name = "PATH")]
    pub aclfile: Option<PathBuf>,

    /// Most entries the ACL log keeps (ACL LOG) [default: 128].
    #[arg(long, value_name = "N")]
    pub acllog_max_len: Option<u64>,

    /// allchannels|resetchannels: the channels a new user starts with
    /// [default: resetchannels].
    #[arg(long, value_name = "allchannels|resetchannels")]
    pub acl_pubsub_default: Option<String>,

    /// Also serve clients over TLS on this port; 0 serves none [default: 0].
    #[arg(long, value_name = "PORT")]
    pub tls_port: Option<u16>,

    /// The server's certificate chain, PEM [default: none].
    #[arg(long, value_name = "PATH")]
    pub tls_cert_file: Option<PathBuf>,

    /// The server's private key, PEM [default: none].
    #[arg(long, value_name = "PATH")]
    pub tls_key_file: Option<PathBuf>,

    /// The CA certificates clients' certificates must be signed by, PEM
    /// [default: none].
    #[arg(long, value_name = "PATH")]
    pub tls_ca_cert_file: Option<PathBuf>,

    /// A directory of CA certificates (every PEM file in it) clients'
    /// certificates may be signed by, beside or instead of
    /// tls-ca-cert-file [default: none].
    #[arg(long, value_name = "DIR")]
    pub tls_ca_cert_dir: Option<PathBuf>,

    /// yes|no|optional: whether a TLS client must show a certificate
    /// signed by tls-ca-cert-file [default: yes].
    #[arg(long, value_name = "yes|no|optional")]
    pub tls_auth_clients: Option<String>,

    /// The TLS versions allowed, e.g. "TLSv1.2 TLSv1.3" [default: both].
    #[arg(long, value_name = "VERSIONS")]
    pub tls_protocols: Option<String>,

    /// TLS 1.3 cipher suites, OpenSSL names separated by ':' [default: all
    /// rustls offers].
    #[arg(long, value_name = "SUITES")]
    pub tls_ciphersuites: Option<String>,

    /// TLS 1.2 ciphers, OpenSSL names separated by ':' [default: all
    /// rustls offers].
    #[arg(long, value_name = "CIPHERS")]
    pub tls_ciphers: Option<String>,

    /// yes|no: with no password set, refuse clients that are not on the
    /// loopback interface or the Unix socket [default: yes].
    #[arg(long, value_name = "yes|no")]
    pub protected_mode: Option<YesNo>,

    /// Number of databases, selected with SELECT [default: 16].
    #[arg(long, value_name = "N")]
    pub databases: Option<u32>,

    /// Most clients connected at once; more are refused with an error
    /// [default: 10000].
    #[arg(long, value_name = "N")]
    pub maxclients: Option<u32>,

    /// Close a client idle for this many seconds; 0 never does [default: 0].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    /// Largest bulk string a client may send, and largest string value
    /// (APPEND, SETRANGE) [default: 512mb]. Units: k, kb, m, mb, g, gb.
    #[arg(long, value_name = "SIZE")]
    pub proto_max_bulk_len: Option<ByteSize>,

    /// Most arguments in one request [default: 1048576].
    #[arg(long, value_name = "N")]
    pub proto_max_multibulk_len: Option<u32>,

    /// Most unparsed input buffered for one client; beyond it the client
    /// is disconnected [default: 1gb].
    #[arg(long, value_name = "SIZE")]
    pub client_query_buffer_limit: Option<ByteSize>,

    /// Keyspace events to publish, in Redis's flag letters (`KEA`, `Ex`,
    /// ...) [default: none, as in Redis].
    #[arg(long, value_name = "FLAGS")]
    pub notify_keyspace_events: Option<String>,

    /// Output a client may have waiting before it is disconnected, per
    /// class: `<normal|replica|pubsub> <hard> <soft> <seconds>`, repeated
    /// [default: "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60"].
    #[arg(long, value_name = "LIMITS")]
    pub client_output_buffer_limit: Option<String>,

    /// Log level: debug, verbose, notice or warning [default: notice].
    #[arg(long, value_name = "LEVEL")]
    pub loglevel: Option<String>,

    /// Threads serving connections [default: one per core].
    #[arg(long, value_name = "N")]
    pub io_threads: Option<usize>,

    /// no|yes|local: who may run DEBUG; `local` allows clients on the
    /// loopback interface or the Unix socket [default: no, as Redis 7].
    /// Fixed once the server runs.
    #[arg(long, value_name = "no|yes|local")]
    pub enable_debug_command: Option<Allowed>,

    /// Directory the data is kept in (`appenddirname` inside it)
    /// [default: ., the working directory, as Redis].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// yes|no: log every write (the write-ahead log), so a restart loses
    /// nothing acknowledged [default: no, as Redis; snapshots only].
    #[arg(long, value_name = "yes|no")]
    pub appendonly: Option<YesNo>,

    /// always|everysec|no: when the log is synced to disk. `always` before
    /// each reply; `everysec` once a second (a power cut may lose the last
    /// second; a killed process loses nothing); `no` when the kernel
    /// pleases [default: everysec].
    #[arg(long, value_name = "POLICY")]
    pub appendfsync: Option<String>,

    /// The directory, inside `dir`, holding the manifest, snapshots and
    /// log segments [default: appendonlydir].
    #[arg(long, value_name = "NAME")]
    pub appenddirname: Option<String>,

    /// Snapshot file name; the log position is added before the extension
    /// (`dump.00000000000000000042.tdb`) [default: dump.tdb].
    #[arg(long, value_name = "NAME")]
    pub dbfilename: Option<String>,

    /// Load this Redis RDB file (Redis's dump.rdb, RDB version 10 or
    /// older) at start-up into a store that holds no key yet, then save it
    /// in Tandem's own format; clients get -LOADING meanwhile
    /// [default: none].
    #[arg(long, value_name = "FILE")]
    pub import: Option<PathBuf>,

    /// Snapshot rules, pairs of `<seconds> <changes>`; "" for none
    /// [default: "3600 1 300 100 60 10000", as Redis 7].
    #[arg(long, value_name = "RULES")]
    pub save: Option<SaveRules>,

    /// yes|no: start when the log ends in a record cut short by a crash,
    /// cutting it off (logged); `no` refuses to start [default: yes].
    #[arg(long, value_name = "yes|no")]
    pub aof_load_truncated: Option<YesNo>,

    /// yes|no: refuse writes (`-MISCONF`) while the last background save
    /// failed and save rules are set [default: yes].
    #[arg(long, value_name = "yes|no")]
    pub stop_writes_on_bgsave_error: Option<YesNo>,

    /// Most fields a hash keeps in its small, ordered encoding (listpack)
    /// before it becomes a hash table [default: 512].
    #[arg(long, value_name = "N", alias = "hash-max-ziplist-entries")]
    #[serde(alias = "hash-max-ziplist-entries")]
    pub hash_max_listpack_entries: Option<u64>,

    /// Longest field or value a hash keeps in its small encoding [default:
    /// 64]. Units: k, kb, m, mb, g, gb.
    #[arg(long, value_name = "SIZE", alias = "hash-max-ziplist-value")]
    #[serde(alias = "hash-max-ziplist-value")]
    pub hash_max_listpack_value: Option<ByteSize>,

    /// Largest a HyperLogLog's sparse encoding grows, header included,
    /// before it becomes dense [default: 3000].
    #[arg(long, value_name = "BYTES")]
    pub hll_sparse_max_bytes: Option<ByteSize>,

    /// Most members a set of integers keeps in its compact encoding
    /// (intset) before it becomes a hash table [default: 512].
    #[arg(long, value_name = "N")]
    pub set_max_intset_entries: Option<u64>,

    /// How full a list's chunk (listpack) gets: -1 to -5 for 4 to 64 KiB,
    /// or a positive count of elements [default: -2].
    #[arg(
        long,
        value_name = "N",
        alias = "list-max-ziplist-size",
        allow_hyphen_values = true
    )]
    #[serde(alias = "list-max-ziplist-size")]
    pub list_max_listpack_size: Option<i64>,

    /// Most members a sorted set keeps in its small, ordered encoding
    /// (listpack) before it becomes a skiplist [default: 128].
    #[arg(long, value_name = "N", alias = "zset-max-ziplist-entries")]
    #[serde(alias = "zset-max-ziplist-entries")]
    pub zset_max_listpack_entries: Option<u64>,

    /// Longest member a sorted set keeps in its small encoding [default:
    /// 64]. Units: k, kb, m, mb, g, gb.
    #[arg(long, value_name = "SIZE", alias = "zset-max-ziplist-value")]
    #[serde(alias = "zset-max-ziplist-value")]
    pub zset_max_listpack_value: Option<ByteSize>,

    /// Most bytes of a stream's node before a new one starts, as Redis
    /// measures its listpack (0: no limit) [default: 4096]. Units: k, kb,
    /// m, mb, g, gb.
    #[arg(long, value_name = "SIZE")]
    pub stream_node_max_bytes: Option<ByteSize>,

    /// Most entries in a stream's node, deleted ones included (0: no
    /// limit) [default: 100].
    #[arg(long, value_name = "N")]
    pub stream_node_max_entries: Option<u64>,

    /// Memory bound: past it, keys are evicted by `maxmemory-policy`, or
    /// writes refused with -OOM; 0 is none [default: 0]. Units: k, kb, m,
    /// mb, g, gb.
    #[arg(long, value_name = "SIZE")]
    pub maxmemory: Option<ByteSize>,

    /// What to do past `maxmemory`: noeviction, allkeys-lru, allkeys-lfu,
    /// allkeys-random, volatile-lru, volatile-lfu, volatile-random,
    /// volatile-ttl [default: noeviction].
    #[arg(long, value_name = "POLICY")]
    pub maxmemory_policy: Option<String>,

    /// Keys sampled per database for each eviction (at most 1024 are
    /// taken): more is closer to true LRU/LFU and costs more [default: 5].
    #[arg(long, value_name = "N")]
    pub maxmemory_samples: Option<u32>,

    /// How long a request may spend evicting before the rest is left to
    /// the background, 0 to 100 (10 is 500 µs; 100 is no limit)
    /// [default: 10].
    #[arg(long, value_name = "N")]
    pub maxmemory_eviction_tenacity: Option<u32>,

    /// How slowly the LFU counter grows with hits [default: 10].
    #[arg(long, value_name = "N")]
    pub lfu_log_factor: Option<u32>,

    /// Minutes of idleness for each step an LFU counter decays; 0 never
    /// decays [default: 1].
    #[arg(long, value_name = "MINUTES")]
    pub lfu_decay_time: Option<u32>,

    /// Log commands that run at least this many microseconds in the slow
    /// log (SLOWLOG); 0 logs every command, -1 none [default: 10000].
    #[arg(long, value_name = "MICROSECONDS", allow_negative_numbers = true)]
    pub slowlog_log_slower_than: Option<i64>,

    /// Most entries the slow log keeps; the oldest go first [default: 128].
    #[arg(long, value_name = "N")]
    pub slowlog_max_len: Option<u64>,

    /// Milliseconds a script may run before other clients' commands answer
    /// -BUSY and SCRIPT KILL may stop it; 0 never [default: 5000]. Redis's
    /// older name, lua-time-limit, is accepted by CONFIG SET.
    #[arg(long, value_name = "MILLISECONDS")]
    pub busy_reply_threshold: Option<u64>,

    /// Keep every command's latency histogram (LATENCY HISTOGRAM, INFO
    /// latencystats, /metrics) [default: yes].
    #[arg(long, value_name = "yes|no")]
    pub latency_tracking: Option<YesNo>,

    /// The percentiles INFO latencystats prints, separated by spaces
    /// [default: "50 99 99.9"].
    #[arg(long, value_name = "PERCENTILES")]
    pub latency_tracking_info_percentiles: Option<String>,

    /// Record latency spikes of at least this many milliseconds (LATENCY
    /// LATEST, HISTORY, DOCTOR); 0 records none [default: 0].
    #[arg(long, value_name = "MILLISECONDS")]
    pub latency_monitor_threshold: Option<u64>,

    /// Serve Prometheus metrics (`/metrics`) and the live shard page
    /// (`/`) over HTTP on this port, on the `bind` address; 0 serves
    /// nothing [default: 0].
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
}

impl Settings {
    /// Reads a `tandem.toml` file.
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// `self` with the settings it leaves unset taken from `lower`.
    pub(super) fn or(self, lower: Settings) -> Settings {
        Settings {
            config: self.config.or(lower.config),
            bind: self.bind.or(lower.bind),
            port: self.port.or(lower.port),
            unixsocket: self.unixsocket.or(lower.unixsocket),
            tcp_backlog: self.tcp_backlog.or(lower.tcp_backlog),
            tcp_keepalive: self.tcp_keepalive.or(lower.tcp_keepalive),
            requirepass: self.requirepass.or(lower.requirepass),
            user: self.user.or(lower.user),
            aclfile: self.aclfile.or(lower.aclfile),
            acllog_max_len: self.acllog_max_len.or(lower.acllog_max_len),
            acl_pubsub_default: self.acl_pubsub_default.or(lower.acl_pubsub_default),
            tls_port: self.tls_port.or(lower.tls_port),
            tls_cert_file: self.tls_cert_file.or(lower.tls_cert_file),
            tls_key_file: self.tls_key_file.or(lower.tls_key_file),
            tls_ca_cert_file: self.tls_ca_cert_file.or(lower.tls_ca_cert_file),
            tls_ca_cert_dir: self.tls_ca_cert_dir.or(lower.tls_ca_cert_dir),
            tls_auth_clients: self.tls_auth_clients.or(lower.tls_auth_clients),
            tls_protocols: self.tls_protocols.or(lower.tls_protocols),
            tls_ciphersuites: self.tls_ciphersuites.or(lower.tls_ciphersuites),
            tls_ciphers: self.tls_ciphers.or(lower.tls_ciphers),
            protected_mode: self.protected_mode.or(lower.protected_mode),
            databases: self.databases.or(lower.databases),
            maxclients: self.maxclients.or(lower.maxclients),
            timeout: self.timeout.or(lower.timeout),
            proto_max_bulk_len: self.proto_max_bulk_len.or(lower.proto_max_bulk_len),
            proto_max_multibulk_len: self
                .proto_max_multibulk_len
                .or(lower.proto_max_multibulk_len),
            client_query_buffer_limit: self
                .client_query_buffer_limit
                .or(lower.client_query_buffer_limit),
            notify_keyspace_events: self.notify_keyspace_events.or(lower.notify_keyspace_events),
            client_output_buffer_limit: self
                .client_output_buffer_limit
                .or(lower.client_output_buffer_limit),
            loglevel: self.loglevel.or(lower.loglevel),
            io_threads: self.io_threads.or(lower.io_threads),
            enable_debug_command: self.enable_debug_command.or(lower.enable_debug_command),
            dir: self.dir.or(lower.dir),
            appendonly: self.appendonly.or(lower.appendonly),
            appendfsync: self.appendfsync.or(lower.appendfsync),
            appenddirname: self.appenddirname.or(lower.appenddirname),
            dbfilename: self.dbfilename.or(lower.dbfilename),
            import: self.import.or(lower.import),
            save: self.save.or(lower.save),
            aof_load_truncated: self.aof_load_truncated.or(lower.aof_load_truncated),
            stop_writes_on_bgsave_error: self
                .stop_writes_on_bgsave_error
                .or(lower.stop_writes_on_bgsave_error),
            hash_max_listpack_entries: self
                .hash_max_listpack_entries
                .or(lower.hash_max_listpack_entries),
            hash_max_listpack_value: self
                .hash_max_listpack_value
                .or(lower.hash_max_listpack_value),
            set_max_intset_entries: self.set_max_intset_entries.or(lower.set_max_intset_entries),
            hll_sparse_max_bytes: self.hll_sparse_max_bytes.or(lower.hll_sparse_max_bytes),
            list_max_listpack_size: self.list_max_listpack_size.or(lower.list_max_listpack_size),
            zset_max_listpack_entries: self
                .zset_max_listpack_entries
                .or(lower.zset_max_listpack_entries),
            zset_max_listpack_value: self
                .zset_max_listpack_value
                .or(lower.zset_max_listpack_value),
            stream_node_max_bytes: self.stream_node_max_bytes.or(lower.stream_node_max_bytes),
            stream_node_max_entries: self
                .stream_node_max_entries
                .or(lower.stream_node_max_entries),
            maxmemory: self.maxmemory.or(lower.maxmemory),
            maxmemory_policy: self.maxmemory_policy.or(lower.maxmemory_policy),
            maxmemory_samples: self.maxmemory_samples.or(lower.maxmemory_samples),
            maxmemory_eviction_tenacity: self
                .maxmemory_eviction_tenacity
                .or(lower.maxmemory_eviction_tenacity),
            lfu_log_factor: self.lfu_log_factor.or(lower.lfu_log_factor),
            lfu_decay_time: self.lfu_decay_time.or(lower.lfu_decay_time),
            slowlog_log_slower_than: self
                .slowlog_log_slower_than
                .or(lower.slowlog_log_slower_than),
            slowlog_max_len: self.slowlog_max_len.or(lower.slowlog_max_len),
            busy_reply_threshold: self.busy_reply_threshold.or(lower.busy_reply_threshold),
            latency_tracking: self.latency_tracking.or(lower.latency_tracking),
            latency_tracking_info_percentiles: self
                .latency_tracking_info_percentiles
                .or(lower.latency_tracking_info_percentiles),
            latency_monitor_threshold: self
                .latency_monitor_threshold
                .or(lower.latency_monitor_threshold),
            metrics_port: self.metrics_port.or(lower.metrics_port),
        }
    }
}
