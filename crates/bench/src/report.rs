//! Benchmark results: a latency histogram and the numbers derived from it.

use hdrhistogram::Histogram;
use serde::Serialize;

/// One benchmark run's result, printed as text or as one JSON object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The workload name.
    pub workload: String,
    /// `sharded` or `single-lock`.
    pub memtable: String,
    /// Shard count in use.
    pub shards: usize,
    /// Worker threads.
    pub threads: usize,
    /// Keyspace size.
    pub keys: u64,
    /// Operations measured.
    pub ops: u64,
    /// Key size in bytes.
    pub key_size: usize,
    /// Value size in bytes.
    pub value_size: usize,
    /// Wall-clock seconds for the measured phase.
    pub elapsed_s: f64,
    /// Operations per second over the measured phase.
    pub ops_per_sec: f64,
    /// Latency percentiles and maximum, in nanoseconds.
    pub p50_ns: u64,
    /// See `p50_ns`.
    pub p99_ns: u64,
    /// See `p50_ns`.
    pub p999_ns: u64,
    /// See `p50_ns`.
    pub max_ns: u64,
    /// For `load`: resident memory growth divided by keys loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_key: Option<f64>,
    /// For `load`: the engine's own estimate of its heap bytes per key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_bytes_per_key: Option<f64>,
    /// For `load`: the index's share of `engine_bytes_per_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_bytes_per_key: Option<f64>,
    /// For `scan`: entries per scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_len: Option<usize>,
    /// Whether keys carry a TTL.
    pub ttl: bool,
    /// Lock acquisitions that had to wait, during the measured phase.
    pub lock_waits: u64,
}

impl Report {
    pub(crate) fn fill_latency(&mut self, h: &Histogram<u64>) {
        self.p50_ns = h.value_at_quantile(0.50);
        self.p99_ns = h.value_at_quantile(0.99);
        self.p999_ns = h.value_at_quantile(0.999);
        self.max_ns = h.max();
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as human-readable text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "workload {}  memtable {} ({} shards)  threads {}  keys {}  ops {}\n\
             throughput {:.0} ops/s over {:.3} s\n\
             latency p50 {} ns  p99 {} ns  p99.9 {} ns  max {} ns\n\
             lock waits {}",
            self.workload,
            self.memtable,
            self.shards,
            self.threads,
            self.keys,
            self.ops,
            self.ops_per_sec,
            self.elapsed_s,
            self.p50_ns,
            self.p99_ns,
            self.p999_ns,
            self.max_ns,
            self.lock_waits,
        );
        if let Some(b) = self.bytes_per_key {
            s.push_str(&format!("\nmemory {b:.1} bytes per key (resident growth)"));
        }
        if let Some(b) = self.engine_bytes_per_key {
            s.push_str(&format!(
                "\nmemory {b:.1} bytes per key (engine's estimate)"
            ));
        }
        if let Some(b) = self.index_bytes_per_key {
            s.push_str(&format!(", of which the index {b:.1}"));
        }
        if let Some(n) = self.scan_len {
            s.push_str(&format!("\nscan length {n}"));
        }
        s
    }
}

/// A latency histogram as every workload records it, in nanoseconds.
#[expect(clippy::expect_used, reason = "constant bounds, valid by construction")]
pub(crate) fn new_histogram() -> Histogram<u64> {
    // 1 ns to 100 s at 2 significant digits (1%): ~30 KB per thread. At 3
    // digits each was ~220 KB, and with 100 threads recording into them the
    // histograms evicted the data being measured (8% of a run's samples).
    Histogram::new_with_bounds(1, 100_000_000_000, 2).expect("valid histogram bounds")
}
