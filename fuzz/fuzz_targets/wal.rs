//! Any bytes as a log directory: one or two log segments, or a manifest.
//! Reading them back must end in records or an error: never a panic, a
//! hang, or heap out of proportion to the input. Every record read is
//! also decoded as the engine's change record, and every PUT's value
//! checked as its type's encoding (`Db::check_stored`, the collection
//! decoder behind it), as recovery and `tandem check` do; every EDIT's
//! edits checked (`Db::check_edits`) and applied to a collection.
//!
//! The log reader verifies checksums in fuzz builds too (unlike the
//! snapshot reader), and a fuzzer almost never forges a crc32c, so the
//! target can seal what the input holds: write a segment's header, and
//! fix up each frame's crc32c, so mutated inputs reach the framing, the
//! torn-tail rule and the change-record decoder instead of stopping at
//! the first checksum.
//!
//! The input, byte by byte:
//! - byte 0, flags. `MANIFEST` set: the rest is the text of the file
//!   `manifest`, followed by its correct `crc32c` line if `SEAL_MANIFEST`
//!   is set too. Otherwise a log, as below.
//! - bytes 1..3, u16 LE: how many of the remaining bytes are the first
//!   segment's body (more than there are: all of them).
//! - bytes 3..11, u64 LE: a position `p`, read from and read up to.
//! - then the first segment's body, written after a valid header of a
//!   segment starting at LSN 0 (its frames sealed if `SEAL_FIRST`);
//! - then, if `SECOND`, the second segment: the whole file as given, or
//!   with `HEADER_SECOND` a valid header and these bytes as its body
//!   (sealed if `SEAL_SECOND`). It starts at `p` with `SECOND_AT_P`, and
//!   otherwise where the first segment's body ends, as a log that rotated
//!   there would.
//!
//! Seeds (`fuzz/corpus/wal/seed-*`) hold segments and manifests written
//! by `Wal` and `Manifest::install`, holding real change records.
#![no_main]

use std::path::Path;
use tandem_engine::journal::{record, Op};
use tandem_engine::{Db, Options, ValueType};
use tandem_storage::backend::{Backend, SimFs};
use tandem_storage::manifest::{self, Manifest};
use tandem_storage::wal::{self, segment, Replay, FRAME_HEADER};
use tandem_storage::Error;

const MANIFEST: u8 = 0x01;
const SEAL_MANIFEST: u8 = 0x02;
const SEAL_FIRST: u8 = 0x02;
const SECOND: u8 = 0x04;
const HEADER_SECOND: u8 = 0x08;
const SECOND_AT_P: u8 = 0x10;
const SEAL_SECOND: u8 = 0x20;

/// Bytes between the flags and the first segment's body: its length
/// and `p`.
const FIELDS: usize = 10;

/// Most heap one input may take per byte: the files (`SimFs` keeps each
/// twice, as written and as pending a sync), one segment read whole, and
/// the records of up to three reads kept at once, each a copy and a
/// 32-byte vector entry (doubled as the vector grows) for at least 9
/// framed bytes: about 25 a byte at worst, and 20 measured over the
/// corpus. A PUT's value, decoded, is one hash at a time of at most a
/// field per 2 bytes of the value: a table of 32-byte slots, up to twice
/// 8/7 of them a field, about 40 a byte of that value, in a record of a
/// few copies, not the small ones the 25 is for; the rest is slack.
/// Anything allocated on a claimed length (up to 576 MiB for a frame, or
/// a hash's field count) is far past it.
const HEAP_PER_BYTE: usize = 64;
const HEAP_FIXED: usize = 64 << 10;

/// The directory the files go in.
const DIR: &str = "log";

/// Record boundaries read from again, at most.
const STARTS: usize = 4;

/// A record read: the LSN just past it, and its payload.
type Record = (u64, Vec<u8>);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ((), peak) = tandem_fuzz::heap_peak(|| match data.first() {
        Some(flags) if flags & MANIFEST != 0 => {
            check_manifest(*flags, data.get(1..).unwrap_or_default())
        }
        Some(&flags) => check_log(flags, data.get(1..).unwrap_or_default()),
        None => {}
    });
    let bound = HEAP_PER_BYTE * data.len() + HEAP_FIXED;
    assert!(
        peak <= bound,
        "{peak} bytes of heap for {} bytes of input",
        data.len()
    );
});

/// Loads `text` as a manifest: an error, or a manifest that installs and
/// loads again as itself.
fn check_manifest(flags: u8, text: &[u8]) {
    let dir = Path::new(DIR);
    let mut bytes = text.to_vec();
    if flags & SEAL_MANIFEST != 0 {
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(format!("crc32c {crc:08x}\n").as_bytes());
    }
    let fs = SimFs::new();
    put(&fs, manifest::NAME, &bytes);
    match Manifest::load(&fs, dir) {
        Ok(Some(m)) => {
            // What loads installs again as itself: recovery rewrites the
            // manifest it loaded (setting or clearing `log-end`).
            let again = SimFs::new();
            m.install(&again, dir).expect("install into an empty SimFs");
            let back = Manifest::load(&again, dir).expect("load what was installed");
            assert_eq!(back, Some(m), "a manifest round-trips");
        }
        Ok(None) => panic!("a manifest that is there loaded as none"),
        Err(_) => {}
    }
}

/// Builds the segments `input` describes (see the module docs) and reads
/// them whole, from record ends, up to the end, and from and up to `p`.
fn check_log(flags: u8, input: &[u8]) {
    let (Some(split), Some(p)) = (input.get(0..2), input.get(2..10)) else {
        return;
    };
    let split = usize::from(u16::from_le_bytes([split[0], split[1]]));
    let p = u64::from_le_bytes(p.try_into().unwrap_or_default());
    let rest = input.get(FIELDS..).unwrap_or_default();
    let (first, second) = rest.split_at(split.min(rest.len()));

    let fs = SimFs::new();
    let mut body = first.to_vec();
    if flags & SEAL_FIRST != 0 {
        seal(&mut body);
    }
    put(
        &fs,
        &segment::name(0),
        &[&segment::header(0)[..], &body].concat(),
    );
    let mut second_start = None;
    if flags & SECOND != 0 {
        let start = if flags & SECOND_AT_P != 0 {
            p
        } else {
            first.len() as u64
        };
        let mut file = second.to_vec();
        if flags & HEADER_SECOND != 0 {
            file.splice(0..0, segment::header(start));
        }
        if flags & SEAL_SECOND != 0 {
            if let Some(body) = file.get_mut(segment::HEADER as usize..) {
                seal(body);
            }
        }
        // A second segment at 0 replaces the first.
        put(&fs, &segment::name(start), &file);
        second_start = Some(start);
    }

    // Whole, leniently and strictly: they agree up to a torn tail.
    let (records, lenient) = read(&fs, 0, None, true);
    let (strict_records, strict) = read(&fs, 0, None, false);
    assert_eq!(strict_records, records, "strict and lenient read alike");
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => assert_eq!(s, l, "no torn tail, same replay"),
        (Err(Error::Truncated { path, offset }), Ok(l)) => {
            let torn = l.torn.as_ref().map(|t| (&t.path, t.offset));
            assert_eq!(torn, Some((path, *offset)), "strict refuses the torn tail");
        }
        (Err(s), Err(l)) => assert_eq!(s.to_string(), l.to_string(), "the same error"),
        _ => panic!("strict {strict:?} but lenient {lenient:?}"),
    }

    // From a record's end, and up to the log's end: the same log.
    if let Ok(whole) = &lenient {
        for (i, &(from, _)) in sample(&records) {
            let (suffix, replay) = read(&fs, from, None, true);
            assert_eq!(suffix, records[i + 1..], "reading from {from}");
            let replay = replay.expect("a read from a record's end succeeds");
            assert_eq!((replay.end, &replay.torn), (whole.end, &whole.torn));
        }
        // The torn tail lies past the end: a read stops before it.
        let (upto, replay) = read(&fs, 0, Some(whole.end), true);
        assert_eq!(upto, records, "reading up to the end");
        assert_eq!(replay.map(|r| r.end).ok(), Some(whole.end));
    }

    // Positions from the input, anywhere: an error or records, no panic.
    let _ = read(&fs, p, None, true);
    let _ = read(&fs, 0, Some(p), false);
    if let Some(start) = second_start {
        let _ = read(&fs, start, Some(p), true);
    }
}

/// Up to `STARTS` records, each with its index: the first, the last, and
/// two between.
fn sample(records: &[Record]) -> Vec<(usize, &Record)> {
    let n = records.len();
    let mut picks: Vec<usize> = (0..STARTS)
        .map(|k| k * n.saturating_sub(1) / (STARTS - 1))
        .collect();
    picks.dedup();
    picks
        .into_iter()
        .filter_map(|i| Some((i, records.get(i)?)))
        .collect()
}

/// Reads the log from `from`, checking and keeping every record.
fn read(
    fs: &SimFs,
    from: u64,
    until: Option<u64>,
    allow_torn: bool,
) -> (Vec<Record>, Result<Replay, Error>) {
    let mut records = Vec::new();
    let mut at = from;
    let mut framed = 0u64;
    let result = wal::read(
        fs,
        Path::new(DIR),
        from,
        until,
        allow_torn,
        |lsn, payload| {
            // A record's LSN is the position just past it.
            let len = (FRAME_HEADER + payload.len()) as u64;
            assert_eq!(Some(lsn), at.checked_add(len), "LSNs count framed bytes");
            at = lsn;
            framed += len;
            check_record(payload);
            records.push((lsn, payload.to_vec()));
            Ok(())
        },
    );
    if let Ok(replay) = &result {
        assert_eq!(replay.end, at, "the replay ends past its last record");
        assert_eq!(replay.records, records.len() as u64, "records counted");
        assert_eq!(replay.bytes, framed, "bytes counted");
    }
    (records, result)
}

/// Decodes `payload` as a change record. Whatever it holds, the ops end,
/// an error ends them, each PUT's value checks (see `check_value`), and
/// the ops read encode again as a record no longer than this one that
/// decodes to the same ops.
fn check_record(payload: &[u8]) {
    let Ok(mut ops) = record::decode(payload) else {
        return;
    };
    let mut again = Vec::new();
    record::start(&mut again);
    let mut count = 0;
    let mut whole = true;
    while let Some(op) = ops.next() {
        count += 1;
        assert!(count <= payload.len(), "each op takes a byte at least");
        match op {
            Ok(op) => {
                check_value(&op);
                record::encode(&op, &mut again);
            }
            Err(_) => {
                assert!(ops.next().is_none(), "an error ends the ops");
                whole = false;
                break;
            }
        }
    }
    if !whole {
        return;
    }
    assert!(
        again.len() <= payload.len(),
        "re-encoded, a record only shrinks"
    );
    let (Ok(first), Ok(second)) = (record::decode(payload), record::decode(&again)) else {
        panic!("a record read once decodes again");
    };
    assert!(first.eq(second), "re-encoded, a record reads the same");
}

/// Checks a PUT's value as recovery decodes it: any bytes under any tag
/// end in its type or a reason, and a type is the tag's own. Applies an
/// EDIT's edits, once checked, to a one-element collection of their type
/// at the record's change count, as recovery would: never a panic.
fn check_value(op: &Op<'_>) {
    match *op {
        Op::Put { tag, value, .. } => {
            if let Ok(kind) = Db::check_stored(tag, value) {
                assert_eq!(kind.tag(), tag, "a value checks as its own tag's type");
            }
        }
        Op::Edit {
            tag, seq, edits, ..
        } => {
            if Db::check_edits(tag, edits).is_err() {
                return;
            }
            let kind = ValueType::from_tag(tag).expect("checked edits name a known type");
            let mut seed: Vec<u8> = match kind {
                ValueType::Hash => vec![1, 1, b'f', 1, b'v'],
                ValueType::Set => vec![1, 1, b'm'],
                ValueType::List => vec![1, 1, b'x'],
                ValueType::ZSet => vec![1, 1, b'm', 0, 0, 0, 0, 0, 0, 0, 0],
                _ => panic!("edits checked for a type that is not a collection"),
            };
            if kind == ValueType::List {
                let mut n = seq;
                while n >= 0x80 {
                    seed.push((n as u8) | 0x80);
                    n >>= 7;
                }
                seed.push(n as u8);
            }
            let db = Db::new(Options::default().shards(1));
            db.restore(b"k", kind, &seed, None)
                .expect("the seed value restores");
            db.restore_edits(b"k", kind, seq, edits)
                .expect("checked edits apply");
        }
        _ => {}
    }
}

/// Fixes up the crc32c of each frame in `body` whose claimed length fits
/// what follows, from the start until one does not.
fn seal(body: &mut [u8]) {
    let mut at = 0;
    while let Some(header) = body.get(at..at + FRAME_HEADER) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let end = at + FRAME_HEADER + len as usize;
        let Some(payload) = body.get(at + FRAME_HEADER..end).filter(|_| len > 0) else {
            return;
        };
        let crc = crc32c::crc32c_append(crc32c::crc32c(&len.to_le_bytes()), payload);
        body[at + 4..at + FRAME_HEADER].copy_from_slice(&crc.to_le_bytes());
        at = end;
    }
}

/// Writes `bytes` as the file `name` of the log directory.
fn put(fs: &SimFs, name: &str, bytes: &[u8]) {
    let dir = Path::new(DIR);
    fs.create_dir_all(dir).expect("SimFs makes a directory");
    let file = fs.create(&dir.join(name)).expect("SimFs creates a file");
    file.write_at(0, bytes).expect("SimFs writes a small file");
}
