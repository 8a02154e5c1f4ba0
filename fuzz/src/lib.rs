//! What the fuzz targets check, on any bytes: a request stream parses the
//! same whole, byte by byte and cut where the input says; every call keeps
//! the invariants `replay` checks; and each request parsed, encoded again
//! as multibulk and as a quoted inline line, parses back to itself. Each
//! stream runs under Redis's limits and under tiny ones, so that the limit
//! paths are reached by short inputs.
//!
//! A counting allocator bounds the memory one replay may take by the
//! input's length, so a parser that reserves what a client merely claims
//! (`*1000000`) fails here long before it would exhaust a machine.
//!
//! It never keeps state between inputs: a crash must replay from its file.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub use tandem_server::{Form, Limits, Parsed, RequestParser, MAX_INLINE};

/// The driver the parser's own tests use, included from the server's
/// source: one copy, and the fuzzer checks what the tests check.
#[path = "../../crates/server/src/resp/parse/replay.rs"]
#[allow(dead_code)]
mod replay;

use replay::{inline_quoted, multibulk, replay, End, Replay};

/// Redis's defaults.
const ROOMY: Limits = Limits {
    max_bulk: 512 << 20,
    max_args: 1 << 20,
};

/// Small enough that short inputs cross every limit.
const TIGHT: Limits = Limits {
    max_bulk: 8,
    max_args: 4,
};
const TIGHT_INLINE: usize = 16;

/// Most bytes a replay may hold at once per byte of input: copies of the
/// stream and of every argument, with a vector's overhead for each, and
/// room to double. Plus a fixed allowance for the parser's own reserve.
const HEAP_PER_BYTE: usize = 256;
const HEAP_FIXED: usize = 256 << 10;

/// Byte-by-byte feeding costs a `memchr` over the buffer per byte while
/// an inline line waits: quadratic, so only for inputs up to this size.
const TRICKLE_MAX: usize = 2048;

/// Checks `stream` under both sets of limits; panics on any difference.
pub fn check_stream(stream: &[u8]) {
    for (limits, max_inline) in [(ROOMY, MAX_INLINE), (TIGHT, TIGHT_INLINE)] {
        let (whole, peak) = heap_peak(|| replay(stream, &[], limits, max_inline));
        let bound = HEAP_PER_BYTE * stream.len() + HEAP_FIXED;
        assert!(
            peak <= bound,
            "{peak} bytes of heap for {} bytes of input",
            stream.len()
        );
        let cut = replay(stream, &cuts_from(stream), limits, max_inline);
        assert_eq!(cut, whole, "cut where the input says");
        if stream.len() <= TRICKLE_MAX {
            let every: Vec<usize> = (1..stream.len()).collect();
            let trickled = replay(stream, &every, limits, max_inline);
            assert_eq!(trickled, whole, "fed byte by byte");
        }
        for request in whole.requests.iter().filter(|r| !r.is_empty()) {
            round_trip(request);
        }
    }
}

/// A request parsed once parses to the same arguments again, encoded as
/// multibulk or as an inline line.
fn round_trip(args: &[Vec<u8>]) {
    let want = Replay {
        requests: vec![args.to_vec()],
        end: End::Waiting(Vec::new()),
    };
    let again = replay(&multibulk(args), &[], ROOMY, MAX_INLINE);
    assert_eq!(again, want, "multibulk round trip");
    let line = inline_quoted(args);
    if line.len() <= MAX_INLINE {
        let again = replay(&line, &[], ROOMY, MAX_INLINE);
        assert_eq!(again, want, "inline round trip");
    }
}

/// Read sizes drawn from the input itself (a generator seeded by it), so
/// the fuzzer steers where reads end without a header in each input.
fn cuts_from(stream: &[u8]) -> Vec<usize> {
    let seed = stream.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut cuts = Vec::new();
    let mut at = 0usize;
    loop {
        // Mostly short reads, now and then a long one.
        let step = if rng.u8(..8) == 0 {
            rng.usize(..512)
        } else {
            rng.usize(..9)
        };
        at += step.max(1);
        if at >= stream.len() {
            return cuts;
        }
        cuts.push(at);
    }
}

/// Runs `f`, returning what it returned and the most heap it held at once
/// beyond what was held before. Every target may use it: the counting
/// allocator below is this crate's, so it counts for any target that
/// links it.
pub fn heap_peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed).saturating_sub(base))
}

/// Reads `data` as a FUNCTION RESTORE payload, as given and sealed (the
/// RDB version and the CRC-64 appended, as FUNCTION DUMP ends one): never
/// a panic, and heap bounded by what LZF can expand the input to.
pub fn check_function_payload(data: &[u8]) {
    let sealed = sealed(data);
    for payload in [data, sealed.as_slice()] {
        let (read, peak) = heap_peak(|| tandem_server::read_function_payload(payload));
        // An LZF string expands at most 88 times; every text is kept.
        let bound = 200 * payload.len() + HEAP_FIXED;
        assert!(
            peak <= bound,
            "{peak} bytes of heap for a {}-byte payload",
            payload.len()
        );
        if let Ok(texts) = read {
            for text in texts {
                assert!(text.starts_with(b"#!"), "a library text has its first line");
            }
        }
    }
}

/// `data` sealed as a DUMP payload: the RDB version and the CRC-64
/// appended, so the fuzzer's effort goes past the checksum.
fn sealed(data: &[u8]) -> Vec<u8> {
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&sealed);
    sealed.extend_from_slice(&crc.to_le_bytes());
    sealed
}

/// Heap a value built from `n` input bytes may take: LZF expands a byte
/// at most 88 times, and a built element costs tens of bytes of table
/// and block for the one or two bytes it took in the payload.
fn value_heap_bound(n: usize) -> usize {
    88 * 64 * n + HEAP_FIXED
}

/// Reads `data` as a RESTORE payload, as given and sealed: never a panic,
/// and heap bounded by what the payload could hold.
pub fn check_dump_payload(data: &[u8]) {
    let sealed = sealed(data);
    for payload in [data, sealed.as_slice()] {
        let (read, peak) = heap_peak(|| tandem_server::read_dump_payload(payload));
        drop(read);
        let bound = value_heap_bound(payload.len());
        assert!(
            peak <= bound,
            "{peak} bytes of heap for a {}-byte payload",
            payload.len()
        );
    }
}

/// Reads `data` as an RDB file's body: with Redis 7.0's header before it
/// and its end mark and CRC-64 after (so the walk gets past the checks),
/// and as given. Never a panic; heap bounded as for a payload, since each
/// key is built and dropped in turn.
pub fn check_rdb_file(data: &[u8]) {
    let mut file = b"REDIS0010".to_vec();
    file.extend_from_slice(data);
    file.push(0xff);
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&file);
    file.extend_from_slice(&crc.to_le_bytes());
    for bytes in [data, file.as_slice()] {
        let (read, peak) = heap_peak(|| tandem_server::read_rdb_file(bytes));
        drop(read);
        let bound = value_heap_bound(bytes.len());
        assert!(
            peak <= bound,
            "{peak} bytes of heap for a {}-byte file",
            bytes.len()
        );
    }
}

/// Any bytes as an ACL file (from disk): never a panic, and users read
/// from it, saved as ACL SAVE writes them, load back the same.
pub fn check_acl_file(data: &[u8]) {
    if let Err(e) = tandem_server::read_acl_file(data) {
        assert!(
            !e.starts_with("a saved file"),
            "{e}: {}",
            String::from_utf8_lossy(data)
        );
    }
}

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the bytes live and their peak.
struct Counting;

#[global_allocator]
static ALLOC: Counting = Counting;

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call goes to `System` with the caller's own arguments, so
// `System`'s guarantees are passed on; the counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller keeps `alloc`'s contract, which we forward.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, that is from `System`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System`, and the caller keeps
        // `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}
