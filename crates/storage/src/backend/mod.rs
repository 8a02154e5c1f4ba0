//! The file-system seam: every byte storage reads or writes goes through a
//! `Backend` and the `StorageFile`s it opens.
//!
//! Owns the trait, the real implementation (`StdFs`, positional reads and
//! writes on `std::fs::File`) and, for tests, `SimFs` (`sim/`): an
//! in-memory file system that can fail the Nth write or sync, tear a
//! write, flip a bit, and lose everything not synced, as a power cut
//! would. It must never decide anything about formats or retries: it
//! does what it is asked once and reports what happened.

mod fs;
pub mod sim;
pub mod sync_timing;

pub use fs::StdFs;
pub use sim::SimFs;

use std::io;
use std::path::Path;

/// A file system: where storage's files live.
pub trait Backend: Send + Sync + 'static {
    /// Creates `path` empty (truncating any file of that name), for reading
    /// and writing. The new name is durable only after `sync_dir`.
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Opens the existing file `path` for reading and writing.
    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Renames `from` to `to`, replacing `to` atomically if it exists.
    /// Durable only after `sync_dir` of the directory.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// The names of the files in `dir`, in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates `dir` and its parents if they are missing.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creations, renames, removals)
    /// durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// An open file. Reads and writes are positional, so one handle can be
/// shared by a writer and readers without a cursor.
pub trait StorageFile: Send + Sync {
    /// Writes all of `buf` at `offset`, extending the file if needed.
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()>;
    /// Reads into `buf` from `offset`; returns how many bytes were read,
    /// fewer than asked only at the end of the file.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// The file's length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Cuts or extends the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Makes the file's data durable (`fdatasync`).
    fn sync(&self) -> io::Result<()>;
}

/// Reads exactly `buf.len()` bytes at `offset`, or fails with
/// `UnexpectedEof`.
pub fn read_exact_at(
    file: &dyn StorageFile,
    mut offset: u64,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        let n = file.read_at(offset, buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = buf.get_mut(n..).unwrap_or_default();
        offset += n as u64;
    }
    Ok(())
}
