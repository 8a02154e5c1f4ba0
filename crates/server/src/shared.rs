//! The state every connection shares: configuration, databases and their
//! persistence, the pub/sub hub, counters, and the shutdown signal.

use crate::blocking::Blocking;
use crate::config::Config;
use crate::databases::Databases;
use crate::eviction::Eviction;
use crate::latency::Latency;
use crate::monitor::Monitors;
use crate::pause::Pause;
use crate::persistence::Persistence;
use crate::registry::Clients;
use crate::slowlog::SlowLog;
pub use crate::stats::Stats;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tandem_engine::pubsub::Hub;
use tokio_util::sync::CancellationToken;

/// What all connections share.
pub struct Shared {
    /// The settings in force; swapped whole when one changes.
    pub config: ArcSwap<Config>,
    /// The databases.
    pub dbs: Databases,
    /// Their durable store, loading, and saves.
    pub persistence: Persistence,
    /// The hub all databases publish to: channels, patterns, keyspace
    /// notifications.
    pub hub: Hub,
    /// Shard channels (SSUBSCRIBE, SPUBLISH): on one node they behave as
    /// channels, but in a namespace of their own that patterns never see.
    pub shard_hub: Hub,
    /// Clients connected now.
    pub clients: AtomicUsize,
    /// Who they are (CLIENT LIST, KILL).
    pub registry: Clients,
    /// CLIENT PAUSE.
    pub pause: Pause,
    /// The memory bound: memory in use, eviction, time over the bound.
    pub eviction: Eviction,
    /// Clients blocked on list keys (BLPOP and the rest).
    pub blocking: Arc<Blocking>,
    /// The next client id.
    next_id: AtomicU64,
    /// Counters.
    pub stats: Stats,
    /// SLOWLOG's entries and settings.
    pub slowlog: SlowLog,
    /// MONITOR's feed.
    pub monitors: Monitors,
    /// The scripts EVAL and SCRIPT LOAD were given.
    pub scripts: crate::script::ScriptCache,
    /// The function libraries FUNCTION LOAD was given.
    pub functions: crate::script::function::Functions,
    /// Latency tracking's switch and the latency monitor.
    pub latency: Latency,
    /// Users and their permissions, and the ACL log.
    pub acl: crate::acl::Acl,
    /// The TLS configuration new TLS clients get (`tls-port`), swapped
    /// whole when CONFIG SET changes a certificate.
    pub tls: arc_swap::ArcSwapOption<rustls::ServerConfig>,
    /// Cancelled to shut the server down.
    pub shutdown: CancellationToken,
    /// When the server started.
    pub started: Instant,
}

impl Shared {
    /// Shared state for `config`, counting calls for every command and
    /// subcommand of `catalog` (`command::acl_catalog`, one id per stats
    /// slot; passed in because the command table sits above this module),
    /// whose names the users' rules use.
    pub fn new(config: Config, catalog: &'static crate::acl::Catalog) -> Arc<Self> {
        let stat_slots = catalog.len();
        let acl = crate::acl::Acl::new(catalog, config.requirepass.as_deref().map(str::as_bytes));
        acl.set_pubsub_default(config.acl_pubsub_allchannels);
        let hub = Hub::new(config.client_output_buffer_limit.pubsub_queue());
        hub.set_notify_flags(config.notify_keyspace_events);
        let max_value = usize::try_from(config.proto_max_bulk_len).unwrap_or(usize::MAX);
        let count = usize::try_from(config.databases).unwrap_or(16);
        let dbs = Databases::new(
            count,
            &hub,
            max_value,
            &config.clock.0,
            Databases::shard_floor(config.serving_threads()),
        );
        for db in dbs.all().iter() {
            db.set_limits(config.limits());
            set_access_rules(db, &config.eviction);
        }
        let monitors = Monitors::new(config.client_output_buffer_limit.pubsub_queue());
        let slowlog = SlowLog::new(config.slowlog_log_slower_than, config.slowlog_max_len);
        let latency = Latency::new(&config.observability);
        let shared = Arc::new(Self {
            dbs,
            persistence: Persistence::new(),
            shard_hub: Hub::new(hub.limits()),
            hub,
            config: ArcSwap::from_pointee(config),
            clients: AtomicUsize::new(0),
            registry: Clients::default(),
            pause: Pause::default(),
            eviction: Eviction::default(),
            blocking: Arc::new(Blocking::default()),
            next_id: AtomicU64::new(1),
            stats: Stats::new(stat_slots),
            slowlog,
            monitors,
            scripts: crate::script::ScriptCache::default(),
            functions: crate::script::function::Functions::default(),
            latency,
            acl,
            tls: arc_swap::ArcSwapOption::empty(),
            shutdown: CancellationToken::new(),
            started: Instant::now(),
        });
        Eviction::start_background(&shared);
        shared
    }

    /// Tells every database how lookups stamp keys under `eviction`'s
    /// policy (after CONFIG SET).
    pub fn set_access_rules(&self, eviction: &crate::config::Eviction) {
        for db in self.dbs.all().iter() {
            set_access_rules(db, eviction);
        }
    }

    /// A fresh client id.
    pub fn next_client_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Stamps for LFU under an LFU policy, for LRU otherwise (as Redis reads
/// its objects' `lru` field by the policy in force).
fn set_access_rules(db: &tandem_engine::Db, eviction: &crate::config::Eviction) {
    db.set_access_rules(
        eviction.policy,
        eviction.lfu_log_factor,
        eviction.lfu_decay_time,
    );
}
