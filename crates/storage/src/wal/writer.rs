//! `Wal`: appending records, writing them out and syncing them.
//!
//! Owns the shared append buffer, the open segment, the positions written
//! and synced, the `tandem-wal` thread, and the log's poisoning. It must
//! never hold the segment's lock during a sync (a sync can take
//! milliseconds, and servers write out under that lock before every
//! reply), and never let `durable` pass a position no successful sync
//! covered.

use super::{frame, segment, SyncPolicy, WalOptions};
use crate::backend::{Backend, StorageFile};
use crate::error::{Error, Result};
use event_listener::{Event, Listener};
use parking_lot::{Condvar, Mutex};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Records appended but not yet written out.
struct Pending {
    buf: Vec<u8>,
    /// The LSN just past the last appended byte.
    next: u64,
}

/// The segment being written.
struct Tail {
    file: Arc<dyn StorageFile>,
    path: PathBuf,
    /// LSN of the segment's first record.
    start: u64,
    /// LSN just past the last byte written to it.
    end: u64,
    /// The buffer swapped with `Pending::buf` on each write, so neither
    /// side allocates in the steady state.
    spare: Vec<u8>,
}

/// What the `tandem-wal` thread is asked for.
#[derive(Default)]
struct Wake {
    /// The highest LSN someone waits to see synced.
    wanted: u64,
    closed: bool,
}

/// Counters of the log's work since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Records appended.
    pub records: u64,
    /// `write` calls to segments.
    pub writes: u64,
    /// Successful syncs of segments.
    pub syncs: u64,
    /// Bytes written, headers included.
    pub bytes: u64,
    /// Segments created.
    pub segments: u64,
}

struct Shared {
    fs: Arc<dyn Backend>,
    dir: PathBuf,
    segment_bytes: u64,
    policy: AtomicU8,
    pending: Mutex<Pending>,
    tail: Mutex<Tail>,
    written: AtomicU64,
    durable: AtomicU64,
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
    /// Rung whenever `durable` moves, or the log fails or closes.
    progress: Event,
    wake: Mutex<Wake>,
    wake_cv: Condvar,
    records: AtomicU64,
    writes: AtomicU64,
    syncs: AtomicU64,
    bytes: AtomicU64,
    segments: AtomicU64,
}

/// A write-ahead log open for appending (see the module `wal`).
pub struct Wal {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Wal {
    /// Starts a log in `dir` whose first record will be at `lsn`, in a new
    /// segment, and the `tandem-wal` thread that syncs it.
    pub fn create(fs: Arc<dyn Backend>, dir: &Path, lsn: u64, options: &WalOptions) -> Result<Wal> {
        fs.create_dir_all(dir)
            .map_err(|e| Error::io("create directory", dir, e))?;
        let (file, path) = segment::create(fs.as_ref(), dir, lsn)?;
        let shared = Arc::new(Shared {
            fs,
            dir: dir.to_owned(),
            segment_bytes: options.segment_bytes.max(1),
            policy: AtomicU8::new(options.policy.to_u8()),
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                next: lsn,
            }),
            tail: Mutex::new(Tail {
                file: Arc::from(file),
                path,
                start: lsn,
                end: lsn,
                spare: Vec::new(),
            }),
            written: AtomicU64::new(lsn),
            durable: AtomicU64::new(lsn),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            progress: Event::new(),
            wake: Mutex::new(Wake::default()),
            wake_cv: Condvar::new(),
            records: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            bytes: AtomicU64::new(segment::HEADER),
            segments: AtomicU64::new(1),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tandem-wal".into())
            .spawn(move || guarded(&worker, || worker.run()))
            .map_err(|e| Error::io("spawn the log thread for", dir, e))?;
        Ok(Wal {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Appends one record, returning the LSN just past it: wait for that
    /// with `write_out` or `synced`. No I/O happens here.
    pub fn append(&self, payload: &[u8]) -> Result<u64> {
        let s = &self.shared;
        if s.failed.load(Ordering::Acquire) {
            return Err(s.poisoned());
        }
        let header = frame::header(payload);
        let mut p = s.pending.lock();
        // 2^64 bytes is centuries of writing; a log recovered from a
        // crafted position could get there, and must not wrap.
        let lsn = p
            .next
            .checked_add((frame::FRAME_HEADER + payload.len()) as u64)
            .ok_or(Error::Poisoned("the log position would overflow".into()))?;
        p.buf.extend_from_slice(&header);
        p.buf.extend_from_slice(payload);
        p.next = lsn;
        drop(p);
        s.records.fetch_add(1, Ordering::Relaxed);
        Ok(lsn)
    }

    /// The LSN the next record will get. Read while every writer is held
    /// off (all shard locks), it is the exact boundary of a snapshot.
    pub fn next_lsn(&self) -> u64 {
        self.shared.pending.lock().next
    }

    /// LSN up to which records are in the segment files (the page cache).
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// LSN up to which records are synced.
    pub fn durable(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// Writes every buffered record up to at least `lsn` into the segment,
    /// on the calling thread (one `write` for everything buffered).
    pub fn write_out(&self, lsn: u64) -> Result<()> {
        let s = &self.shared;
        if s.written.load(Ordering::Acquire) >= lsn {
            return Ok(());
        }
        let mut tail = s.tail.lock();
        s.write_locked(&mut tail, lsn)
    }

    /// Waits until a sync covers `lsn`, asking the log thread for one.
    pub async fn synced(&self, lsn: u64) -> Result<()> {
        loop {
            match self.shared.listen(lsn) {
                Ok(listener) => listener.await,
                Err(done) => return done,
            }
        }
    }

    /// `synced`, blocking the calling thread.
    pub fn wait_synced(&self, lsn: u64) -> Result<()> {
        loop {
            match self.shared.listen(lsn) {
                Ok(listener) => listener.wait(),
                Err(done) => return done,
            }
        }
    }

    /// Writes out and syncs everything appended so far, on this thread.
    pub fn sync_now(&self) -> Result<()> {
        self.shared.sync_once()
    }

    /// The sync policy in force.
    pub fn policy(&self) -> SyncPolicy {
        SyncPolicy::from_u8(self.shared.policy.load(Ordering::Relaxed))
    }

    /// Changes the sync policy (CONFIG SET appendfsync).
    pub fn set_policy(&self, policy: SyncPolicy) {
        self.shared.policy.store(policy.to_u8(), Ordering::Relaxed);
        self.shared.wake_cv.notify_one();
    }

    /// Whether the log failed or was closed (one atomic load).
    pub fn has_failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Why the log refuses appends, if it does.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure.lock().clone()
    }

    /// The directory the segments are in.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Counters of the log's work.
    pub fn stats(&self) -> WalStats {
        let s = &self.shared;
        WalStats {
            records: s.records.load(Ordering::Relaxed),
            writes: s.writes.load(Ordering::Relaxed),
            syncs: s.syncs.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
            segments: s.segments.load(Ordering::Relaxed),
        }
    }

    /// Starts a new segment after a failure, discarding what was buffered
    /// and never written, and returns the new segment's start. Appends are
    /// still refused: call `resume` once a manifest names the new start
    /// (crash window 3). Only call it once a snapshot holds every change
    /// made so far: what was discarded was never acknowledged, and the
    /// snapshot has its effect.
    pub fn reopen(&self) -> Result<u64> {
        let s = &self.shared;
        let mut tail = s.tail.lock();
        let mut p = s.pending.lock();
        p.buf.clear();
        let start = p.next.max(tail.end);
        p.next = start;
        let (file, path) = segment::create(s.fs.as_ref(), &s.dir, start)?;
        *tail = Tail {
            file: Arc::from(file),
            path,
            start,
            end: start,
            spare: std::mem::take(&mut tail.spare),
        };
        s.segments.fetch_add(1, Ordering::Relaxed);
        s.written.store(start, Ordering::Release);
        s.durable.store(start, Ordering::Release);
        Ok(start)
    }

    /// Accepts appends again after `reopen`.
    pub fn resume(&self) {
        let s = &self.shared;
        *s.failure.lock() = None;
        s.failed.store(false, Ordering::Release);
    }

    /// Writes out and syncs what is buffered (unless the log has failed),
    /// then stops the log thread. Appends fail afterwards.
    pub fn close(&self) -> Result<()> {
        {
            let mut w = self.shared.wake.lock();
            w.closed = true;
        }
        self.shared.wake_cv.notify_one();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
        match self.shared.failure.lock().clone() {
            Some(why) => Err(Error::Poisoned(why)),
            None => Ok(()),
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Runs the log thread's `body`; a panic is not silent: it poisons the log
/// (logged, refused writes, waiters told), so a waiter under `always`
/// does not wait forever for a sync that will never come.
fn guarded(shared: &Shared, body: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        shared.poison(&Error::Poisoned(format!("the log thread panicked: {why}")));
    }
}

impl Shared {
    fn poisoned(&self) -> Error {
        match self.failure.lock().clone() {
            Some(why) => Error::Poisoned(why),
            None => Error::Closed,
        }
    }

    /// Marks the log failed (crate rule 2) and tells every waiter.
    fn poison(&self, err: &Error) {
        let mut failure = self.failure.lock();
        if failure.is_none() {
            tracing::error!("write-ahead log failed, writes are refused: {err}");
            *failure = Some(err.to_string());
        }
        self.failed.store(true, Ordering::Release);
        drop(failure);
        self.progress.notify(usize::MAX);
    }

    /// `Some` once `lsn` is synced or can never be.
    fn reached(&self, lsn: u64) -> Option<Result<()>> {
        if self.durable.load(Ordering::Acquire) >= lsn {
            Some(Ok(()))
        } else if self.failed.load(Ordering::Acquire) {
            Some(Err(self.poisoned()))
        } else {
            None
        }
    }

    /// A listener to wait on for `lsn`'s sync, asked for; or, as `Err`,
    /// the outcome if it is already known. The listener is made before
    /// the last check, so a sync landing in between still wakes it.
    fn listen(&self, lsn: u64) -> Result<event_listener::EventListener, Result<()>> {
        if let Some(done) = self.reached(lsn) {
            return Err(done);
        }
        let listener = self.progress.listen();
        self.request(lsn);
        match self.reached(lsn) {
            Some(done) => Err(done),
            None => Ok(listener),
        }
    }

    fn request(&self, lsn: u64) {
        let mut w = self.wake.lock();
        if w.wanted < lsn {
            w.wanted = lsn;
            drop(w);
            self.wake_cv.notify_one();
        }
    }

    /// Writes everything buffered if `written` is short of `lsn`.
    fn write_locked(&self, tail: &mut Tail, lsn: u64) -> Result<()> {
        if self.written.load(Ordering::Acquire) >= lsn {
            return Ok(());
        }
        if self.failed.load(Ordering::Acquire) {
            return Err(self.poisoned());
        }
        let next = {
            let mut p = self.pending.lock();
            std::mem::swap(&mut p.buf, &mut tail.spare);
            p.next
        };
        if !tail.spare.is_empty() {
            let offset = segment::HEADER + (tail.end - tail.start);
            if let Err(e) = tail.file.write_at(offset, &tail.spare) {
                let err = Error::io("write", &tail.path, e);
                self.poison(&err);
                return Err(err);
            }
            self.writes.fetch_add(1, Ordering::Relaxed);
            self.bytes
                .fetch_add(tail.spare.len() as u64, Ordering::Relaxed);
            tail.spare.clear();
        }
        tail.end = next;
        // Nobody waits for `written` (`write_out` is synchronous): waking
        // the sync waiters here would only wake them early, for nothing.
        self.written.store(next, Ordering::Release);
        if tail.end - tail.start >= self.segment_bytes {
            self.rotate(tail)?;
        }
        Ok(())
    }

    /// Closes the full segment (synced whole: crash window 2) and starts
    /// the next at the following record.
    fn rotate(&self, tail: &mut Tail) -> Result<()> {
        let step = tail
            .file
            .sync()
            .map_err(|e| Error::io("sync", &tail.path, e))
            .and_then(|()| segment::create(self.fs.as_ref(), &self.dir, tail.end));
        let (file, path) = match step {
            Ok(created) => created,
            Err(err) => {
                let msg = err.to_string();
                self.poison(&err);
                return Err(Error::Poisoned(msg));
            }
        };
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.segments.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(segment::HEADER, Ordering::Relaxed);
        self.durable.fetch_max(tail.end, Ordering::AcqRel);
        let end = tail.end;
        *tail = Tail {
            file: Arc::from(file),
            path,
            start: end,
            end,
            spare: std::mem::take(&mut tail.spare),
        };
        self.progress.notify(usize::MAX);
        Ok(())
    }

    /// Writes out everything buffered, then syncs the segment without
    /// holding its lock.
    fn sync_once(&self) -> Result<()> {
        let (file, path, end) = {
            let mut tail = self.tail.lock();
            self.write_locked(&mut tail, u64::MAX)?;
            (tail.file.clone(), tail.path.clone(), tail.end)
        };
        if self.durable.load(Ordering::Acquire) >= end {
            return Ok(());
        }
        if let Err(e) = file.sync() {
            let err = Error::io("sync", &path, e);
            self.poison(&err);
            return Err(err);
        }
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.durable.fetch_max(end, Ordering::AcqRel);
        self.progress.notify(usize::MAX);
        Ok(())
    }

    /// The `tandem-wal` thread: syncs on request, and once a second writes
    /// out what is buffered (and syncs it, under `everysec`).
    fn run(&self) {
        let tick = Duration::from_secs(1);
        let mut last = Instant::now();
        loop {
            let (closed, asked) = {
                let mut w = self.wake.lock();
                loop {
                    let asked = w.wanted > self.durable.load(Ordering::Acquire)
                        && !self.failed.load(Ordering::Acquire);
                    if w.closed || asked || last.elapsed() >= tick {
                        break (w.closed, asked);
                    }
                    let left = tick.saturating_sub(last.elapsed());
                    self.wake_cv.wait_for(&mut w, left);
                }
            };
            let policy = SyncPolicy::from_u8(self.policy.load(Ordering::Relaxed));
            let periodic = last.elapsed() >= tick;
            if periodic {
                last = Instant::now();
            }
            // Errors poison the log and are logged there; waiters see them.
            let _ = if closed || asked || (periodic && policy == SyncPolicy::EverySec) {
                if self.failed.load(Ordering::Acquire) {
                    Ok(())
                } else {
                    self.sync_once()
                }
            } else if periodic {
                let mut tail = self.tail.lock();
                self.write_locked(&mut tail, u64::MAX)
            } else {
                Ok(())
            };
            if closed {
                // Later appends are refused: `poisoned` says "closed" while
                // no failure is recorded.
                self.failed.store(true, Ordering::Release);
                self.progress.notify(usize::MAX);
                return;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backend::SimFs;

    #[test]
    fn a_panic_in_the_log_thread_poisons_the_log_and_wakes_waiters() {
        let fs = SimFs::new();
        let wal = Wal::create(Arc::new(fs), Path::new("/log"), 0, &WalOptions::default()).unwrap();
        let lsn = wal.append(b"before").unwrap();
        guarded(&wal.shared, || panic!("boom"));
        assert!(wal.has_failed());
        assert!(wal
            .failure()
            .unwrap()
            .contains("the log thread panicked: boom"));
        assert!(wal.wait_synced(lsn).is_err());
        assert!(wal.append(b"after").is_err());
    }
}
