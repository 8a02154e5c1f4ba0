//! The memory bound under a long churn of mixed value sizes: after ten
//! times `maxmemory` of new keys, with values from 16 bytes to 16 KiB,
//! memory in use is under the bound and the process's resident set has
//! not run away from it (fragmentation, or frees never returned).
//!
//! A test binary of its own: the server runs in this process, so its
//! resident set is only this test's. It asserts no runaway (within twice
//! the bound); how close RSS stays (the 1.1×) is a benchmark's
//! to measure (`scripts/bench_cache.py rss`, `docs/BENCHMARKS.md`).

mod common;

use common::{encode, encode_words, Raw, TestResult};

#[test]
fn rss_stays_near_the_bound_under_a_churn_of_mixed_sizes() -> TestResult {
    const BOUND: u64 = 16 << 20;
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        &encode_words("CONFIG SET maxmemory-policy allkeys-lru"),
        b"+OK\r\n",
    )?;
    let empty_rss = common::proc_status_kb("VmRSS")? * 1024;
    c.check(
        &encode_words(&format!("CONFIG SET maxmemory {BOUND}")),
        b"+OK\r\n",
    )?;
    let mut rng = fastrand::Rng::with_seed(15);
    let filler = vec![b'x'; 16 << 10];
    let (mut written, mut keys) = (0u64, 0u64);
    while written < 10 * BOUND {
        let mut pipeline = Vec::new();
        for _ in 0..64 {
            // Log-uniform from 16 bytes to 16 KiB: every size class
            // jemalloc has in that range gets its share.
            let size = (16.0 * 1024f64.powf(rng.f64())) as usize;
            let value = filler.get(..size).ok_or("size within the filler")?;
            pipeline.extend(encode(&[b"SET", format!("k{keys}").as_bytes(), value]));
            written += size as u64;
            keys += 1;
        }
        c.send(&pipeline)?;
        for _ in 0..64 {
            c.expect(b"+OK\r\n")?;
        }
    }
    common::eventually("memory under the bound", || {
        Ok(common::info_u64(&mut c, "memory", "used_memory")? <= BOUND)
    })?;
    let held: u64 = String::from_utf8_lossy(&c.call(&encode_words("DBSIZE"))?)
        .trim_start_matches(':')
        .trim()
        .parse()?;
    assert!(held > 0 && held < keys / 5, "{held} of {keys} keys held");
    let rss = common::proc_status_kb("VmRSS")? * 1024;
    let grown = rss.saturating_sub(empty_rss);
    assert!(
        grown <= 2 * BOUND,
        "RSS grew by {grown} bytes for a bound of {BOUND} ({written} bytes written)"
    );
    Ok(())
}
