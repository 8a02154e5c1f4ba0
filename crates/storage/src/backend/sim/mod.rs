//! `SimFs`: an in-memory file system that fails, tears and forgets on
//! command, for crash and fault tests.
//!
//! Owns a model of what a disk keeps. A file (an inode) has the bytes reads
//! see (the page cache), the bytes that are durable (as of its last
//! successful `sync`) and the changes made since, in order. The namespace
//! is kept twice: the visible one, which creating, renaming and removing
//! change at once, and the durable one, which only `sync_dir` updates.
//! It must never pick anything at random except in `crash`, and then only
//! from the seed it is given, so a failing case can be replayed.
//!
//! Simplifications, so a test does not lean on them: directories are
//! durable as soon as they exist; a power cut keeps a prefix of each file's
//! unsynced changes (real disks may also reorder them); paths are compared
//! as given (`a/./b` is not `a/b`).

use super::{Backend, StorageFile};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest simulated file: a wild offset fails with `FileTooLarge`
/// instead of allocating what it asks for.
const MAX_FILE_LEN: usize = 1 << 30;

/// An in-memory, fault-injecting [`Backend`]. Clones share one state, as
/// do the files they open; `crash`, `crash_clean` and `kill` return an
/// independent deep copy with no fault armed and counters at zero.
///
/// A file's `sync` makes its changes durable; `sync_dir` makes the
/// creations, renames and removals in that directory durable.
///
/// A failed `sync` (see [`SimFs::fail_sync`]) behaves as Linux after a
/// failed `fsync` (fsyncgate): the changes it was flushing are marked clean
/// without being written. Reads still return them, but no later `sync` makes
/// them durable and no crash brings them back; a later successful `sync`
/// makes durable only the changes made after the failure, on top of what
/// was durable before it.
#[derive(Clone, Default)]
pub struct SimFs(Arc<Mutex<State>>);

/// A change to a file since its last sync, kept so that a power cut can
/// replay a prefix of them.
#[derive(Clone)]
enum Op {
    /// Bytes written at an offset.
    Write(usize, Vec<u8>),
    SetLen(usize),
}

impl Op {
    fn apply(&self, data: &mut Vec<u8>) {
        match self {
            Op::Write(at, bytes) => write_into(data, *at, bytes),
            Op::SetLen(len) => data.resize(*len, 0),
        }
    }
}

/// Writes `bytes` at `at` (checked by `span`), zero-filling any gap.
fn write_into(data: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    // Writing nothing does not extend a file, even past its end.
    if bytes.is_empty() {
        return;
    }
    let end = at.saturating_add(bytes.len());
    if data.len() < end {
        data.resize(end, 0);
    }
    if let Some(dst) = data.get_mut(at..end) {
        dst.copy_from_slice(bytes);
    }
}

/// Checks that `len` bytes at `offset` fit in a simulated file.
fn span(offset: u64, len: usize) -> io::Result<usize> {
    let fits = |at: &usize| at.checked_add(len).is_some_and(|end| end <= MAX_FILE_LEN);
    let at = usize::try_from(offset).ok().filter(fits);
    at.ok_or_else(|| io::Error::new(ErrorKind::FileTooLarge, "simulated file too large"))
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(ErrorKind::NotFound, path.display().to_string())
}

/// A file: what reads see, what is durable, and the changes in between.
#[derive(Clone, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
    /// Changes since the last sync, successful or not, oldest first.
    pending: Vec<Op>,
    /// Cloned into each open handle: an unlinked file lives while one does.
    open: Arc<()>,
}

impl Inode {
    /// What a power cut leaves: the durable bytes plus, given a `rng`, a
    /// random prefix of the pending changes, the last possibly torn.
    fn after_power_cut(&self, rng: Option<&mut SplitMix>) -> Inode {
        let mut data = self.durable.clone();
        if let Some(rng) = rng {
            let kept = rng.below(self.pending.len() + 1);
            for (i, op) in self.pending.iter().take(kept).enumerate() {
                match op {
                    Op::Write(at, bytes) if i + 1 == kept && rng.below(2) == 0 => {
                        let torn = bytes.get(..rng.below(bytes.len() + 1));
                        write_into(&mut data, *at, torn.unwrap_or_default());
                    }
                    op => op.apply(&mut data),
                }
            }
        }
        let durable = data.clone();
        Inode {
            data,
            durable,
            ..Inode::default()
        }
    }
}

/// Armed faults, each as the value of its counter at which it fires.
#[derive(Default)]
struct Faults {
    fail_write: Option<u64>,
    tear_write: Option<(u64, usize)>,
    fail_sync: Option<u64>,
    fail_sync_dir: Option<u64>,
    /// What `bytes_written` may not pass.
    disk_limit: Option<u64>,
}

/// Everything behind the one mutex. The maps are ordered so that `crash`
/// visits files in the same order every time: determinism.
#[derive(Default)]
struct State {
    dirs: BTreeSet<PathBuf>,
    visible: BTreeMap<PathBuf, u64>,
    durable: BTreeMap<PathBuf, u64>,
    inodes: BTreeMap<u64, Inode>,
    next_id: u64,
    faults: Faults,
    // Calls made, failed ones included: what the faults count.
    write_calls: u64,
    sync_calls: u64,
    sync_dir_calls: u64,
    // Successes, and bytes written, for tests and `disk_full_after`.
    syncs: u64,
    dir_syncs: u64,
    bytes_written: u64,
}

impl State {
    fn dir_exists(&self, dir: &Path) -> bool {
        // The parent of a relative name ("") and the root always exist.
        dir.as_os_str().is_empty() || dir.parent().is_none() || self.dirs.contains(dir)
    }

    /// A file may be named only in an existing directory.
    fn check_parent(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(dir) if self.dir_exists(dir) && !self.dirs.contains(path) => Ok(()),
            _ => Err(not_found(path)),
        }
    }

    fn lookup(&self, p: &Path) -> io::Result<u64> {
        self.visible.get(p).copied().ok_or_else(|| not_found(p))
    }

    fn inode(&mut self, id: u64) -> io::Result<&mut Inode> {
        // Handles keep their inode alive: this fails only on a bug here.
        let inode = self.inodes.get_mut(&id);
        inode.ok_or_else(|| io::Error::other("simulated inode vanished"))
    }

    /// The inodes a visible or durable name refers to.
    fn named(&self) -> BTreeSet<u64> {
        let ids = self.visible.values().chain(self.durable.values());
        ids.copied().collect()
    }

    /// Forgets inodes no name and no handle refers to, so that a long test
    /// does not keep every file it deleted.
    fn sweep(&mut self) {
        let named = self.named();
        self.inodes
            .retain(|id, inode| named.contains(id) || Arc::strong_count(&inode.open) > 1);
    }

    fn write(&mut self, id: u64, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.write_calls += 1;
        let call = self.write_calls;
        if self.faults.fail_write == Some(call) {
            self.faults.fail_write = None;
            return Err(io::Error::other("injected write failure"));
        }
        let at = span(offset, buf.len())?;
        let total = self.bytes_written.saturating_add(buf.len() as u64);
        if self.faults.disk_limit.is_some_and(|limit| total > limit) {
            return Err(ErrorKind::StorageFull.into());
        }
        let (bytes, torn) = match self.faults.tear_write {
            Some((n, keep)) if n == call => {
                self.faults.tear_write = None;
                (buf.get(..keep).unwrap_or(buf), true)
            }
            _ => (buf, false),
        };
        let inode = self.inode(id)?;
        write_into(&mut inode.data, at, bytes);
        if !bytes.is_empty() {
            inode.pending.push(Op::Write(at, bytes.to_vec()));
        }
        self.bytes_written += bytes.len() as u64;
        match torn {
            true => Err(io::Error::other("injected torn write")),
            false => Ok(()),
        }
    }

    fn sync(&mut self, id: u64) -> io::Result<()> {
        self.sync_calls += 1;
        let failed = self.faults.fail_sync == Some(self.sync_calls);
        let inode = self.inode(id)?;
        // Whatever happens, these changes are no longer pending: on failure
        // they are never written (fsyncgate, see `SimFs`).
        let pending = std::mem::take(&mut inode.pending);
        if failed {
            self.faults.fail_sync = None;
            return Err(io::Error::other("injected sync failure"));
        }
        pending.iter().for_each(|op| op.apply(&mut inode.durable));
        self.syncs += 1;
        Ok(())
    }

    /// A deep copy of what is left after a kill (`kill`: everything, the
    /// unsynced changes still pending in the page cache that survives it)
    /// or a power cut (the durable names, files per `after_power_cut`).
    fn successor(&self, kill: bool, mut rng: Option<&mut SplitMix>) -> SimFs {
        let mut next = State {
            dirs: self.dirs.clone(),
            visible: if kill { &self.visible } else { &self.durable }.clone(),
            durable: self.durable.clone(),
            next_id: self.next_id,
            ..State::default()
        };
        for id in next.named() {
            let Some(inode) = self.inodes.get(&id) else {
                continue;
            };
            let copy = match kill {
                true => Inode {
                    open: Arc::default(),
                    ..inode.clone()
                },
                false => inode.after_power_cut(rng.as_deref_mut()),
            };
            next.inodes.insert(id, copy);
        }
        SimFs(Arc::new(Mutex::new(next)))
    }
}

/// splitmix64, the seeded generator `crash` draws from. (`fastrand` is only
/// a dev-dependency of this crate, and `SimFs` is built into the library.)
struct SplitMix(u64);

impl SplitMix {
    /// A number in `0..n`, for `n` > 0.
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((u128::from(z ^ (z >> 31)) * n as u128) >> 64) as usize
    }
}

impl SimFs {
    /// An empty file system with no fault armed.
    pub fn new() -> Self {
        Self::default()
    }

    /// What a power cut leaves: the durable namespace, and each file's
    /// durable bytes plus a prefix (drawn from `seed`) of the writes and
    /// `set_len`s made since its last sync, in order, the last kept write
    /// possibly torn to a prefix of its bytes.
    pub fn crash(&self, seed: u64) -> SimFs {
        self.0.lock().successor(false, Some(&mut SplitMix(seed)))
    }

    /// What a power cut that keeps nothing unsynced leaves: exactly the
    /// durable namespace and contents.
    pub fn crash_clean(&self) -> SimFs {
        self.0.lock().successor(false, None)
    }

    /// What a killed process (not a power cut) leaves: every completed
    /// write and namespace change, since the page cache survives. They stay
    /// unsynced: a later `crash` of the copy can still lose them.
    pub fn kill(&self) -> SimFs {
        self.0.lock().successor(true, None)
    }

    /// Fails the `n`-th `write_at` from now (1-based, 0 counts as 1, on any
    /// file of this file system): it writes nothing and returns an error.
    pub fn fail_write(&self, n: u64) {
        let mut st = self.0.lock();
        st.faults.fail_write = Some(st.write_calls + n.max(1));
    }

    /// Tears the `n`-th `write_at` from now: it writes only its first
    /// `keep` bytes (all, if it has fewer) and returns an error.
    pub fn tear_write(&self, n: u64, keep: usize) {
        let mut st = self.0.lock();
        st.faults.tear_write = Some((st.write_calls + n.max(1), keep));
    }

    /// Fails the `n`-th file `sync` from now, dropping the changes it was
    /// flushing (fsyncgate, see [`SimFs`]).
    pub fn fail_sync(&self, n: u64) {
        let mut st = self.0.lock();
        st.faults.fail_sync = Some(st.sync_calls + n.max(1));
    }

    /// Fails the `n`-th `sync_dir` from now: no entry becomes durable (a
    /// later successful `sync_dir` still makes them so).
    pub fn fail_sync_dir(&self, n: u64) {
        let mut st = self.0.lock();
        st.faults.fail_sync_dir = Some(st.sync_dir_calls + n.max(1));
    }

    /// Lets the writes from now total at most `bytes`: one that would pass
    /// that fails with `ErrorKind::StorageFull`, writing nothing.
    pub fn disk_full_after(&self, bytes: u64) {
        let mut st = self.0.lock();
        st.faults.disk_limit = Some(st.bytes_written.saturating_add(bytes));
    }

    /// Flips bit `bit` (0 to 7) of byte `offset` of `path`, both in what
    /// reads see and in what is durable: silent corruption on the medium.
    pub fn flip_bit(&self, path: &Path, offset: u64, bit: u8) -> io::Result<()> {
        let mut st = self.0.lock();
        let id = st.lookup(path)?;
        let inode = st.inode(id)?;
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let (Some(byte), true) = (inode.data.get_mut(at), bit < 8) else {
            return Err(io::Error::new(ErrorKind::InvalidInput, "no such bit"));
        };
        *byte ^= 1 << bit;
        if let Some(byte) = inode.durable.get_mut(at) {
            *byte ^= 1 << bit;
        }
        Ok(())
    }

    /// Disarms every fault; the counters keep counting.
    pub fn clear_faults(&self) {
        self.0.lock().faults = Faults::default();
    }

    /// How many `write_at` calls were made, failed ones included (what
    /// `fail_write` and `tear_write` count).
    pub fn writes(&self) -> u64 {
        self.0.lock().write_calls
    }

    /// How many file `sync`s succeeded.
    pub fn syncs(&self) -> u64 {
        self.0.lock().syncs
    }

    /// How many `sync_dir`s succeeded.
    pub fn dir_syncs(&self) -> u64 {
        self.0.lock().dir_syncs
    }

    /// What reads of `path` see now, if it exists.
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.0.lock();
        let inode = st.visible.get(path).and_then(|id| st.inodes.get(id));
        inode.map(|inode| inode.data.clone())
    }

    /// What `crash_clean` would leave of `path`, if anything.
    pub fn durable_file(&self, path: &Path) -> Option<Vec<u8>> {
        let st = self.0.lock();
        let inode = st.durable.get(path).and_then(|id| st.inodes.get(id));
        inode.map(|inode| inode.durable.clone())
    }

    fn handle(&self, st: &mut State, id: u64) -> io::Result<Box<dyn StorageFile>> {
        let _open = Arc::clone(&st.inode(id)?.open);
        let fs = Arc::clone(&self.0);
        Ok(Box::new(SimFile { fs, id, _open }))
    }
}

impl std::fmt::Debug for SimFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files = self.0.lock().visible.len();
        f.debug_struct("SimFs")
            .field("files", &files)
            .finish_non_exhaustive()
    }
}

impl Backend for SimFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut st = self.0.lock();
        st.check_parent(path)?;
        if let Ok(id) = st.lookup(path) {
            // O_TRUNC keeps the inode: the truncation is a change to the
            // file, durable only after its `sync`.
            let inode = st.inode(id)?;
            inode.data.clear();
            inode.pending.push(Op::SetLen(0));
            return self.handle(&mut st, id);
        }
        let id = st.next_id;
        st.next_id += 1;
        st.inodes.insert(id, Inode::default());
        st.visible.insert(path.to_path_buf(), id);
        self.handle(&mut st, id)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut st = self.0.lock();
        let id = st.lookup(path)?;
        self.handle(&mut st, id)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.0.lock();
        let id = st.lookup(from)?;
        st.check_parent(to)?;
        st.visible.remove(from);
        st.visible.insert(to.to_path_buf(), id);
        st.sweep();
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut st = self.0.lock();
        st.visible.remove(path).ok_or_else(|| not_found(path))?;
        st.sweep();
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let st = self.0.lock();
        if !st.dir_exists(dir) {
            return Err(not_found(dir));
        }
        let files = st.visible.keys().filter(|p| p.parent() == Some(dir));
        Ok(files
            .filter_map(|p| Some(p.file_name()?.to_str()?.to_owned()))
            .collect())
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut st = self.0.lock();
        let dirs: Vec<&Path> = dir
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .collect();
        if let Some(file) = dirs.iter().find(|a| st.visible.contains_key(**a)) {
            return Err(io::Error::new(
                ErrorKind::AlreadyExists,
                file.display().to_string(),
            ));
        }
        st.dirs.extend(dirs.into_iter().map(Path::to_path_buf));
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut guard = self.0.lock();
        // Reborrowed so that the maps can be borrowed apart.
        let st = &mut *guard;
        if !st.dir_exists(dir) {
            return Err(not_found(dir));
        }
        st.sync_dir_calls += 1;
        if st.faults.fail_sync_dir == Some(st.sync_dir_calls) {
            st.faults.fail_sync_dir = None;
            return Err(io::Error::other("injected directory sync failure"));
        }
        let in_dir = |path: &PathBuf| path.parent() == Some(dir);
        st.durable.retain(|path, _| !in_dir(path));
        let now = st.visible.iter().filter(|(path, _)| in_dir(path));
        st.durable.extend(now.map(|(path, &id)| (path.clone(), id)));
        st.sweep();
        st.dir_syncs += 1;
        Ok(())
    }
}

/// An open simulated file: an inode number and the state that holds it.
struct SimFile {
    fs: Arc<Mutex<State>>,
    id: u64,
    /// Keeps the inode from `State::sweep` while this handle lives.
    _open: Arc<()>,
}

impl StorageFile for SimFile {
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.fs.lock().write(self.id, offset, buf)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.fs.lock();
        let data = &st.inode(self.id)?.data;
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let src = data.get(at..).unwrap_or_default();
        let n = src.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.fs.lock().inode(self.id)?.data.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let len = span(len, 0)?;
        let mut st = self.fs.lock();
        let inode = st.inode(self.id)?;
        inode.data.resize(len, 0);
        inode.pending.push(Op::SetLen(len));
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        self.fs.lock().sync(self.id)
    }
}

#[cfg(test)]
mod tests;
