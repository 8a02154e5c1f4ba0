//! Installing a file whole: crate rule 1 in one place.
//!
//! Owns the sequence write temp, sync, rename, sync the directory, which
//! every file that replaces another goes through (snapshots, the
//! manifest). It must never rename a file that was not synced: after a
//! crash the new name could point at a file whose data never landed.

use crate::backend::{Backend, StorageFile};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The temporary name a file is written under before it is installed as
/// `name`. Start-up removes leftovers of this form.
pub fn temp_name(name: &str) -> String {
    format!("{name}.tmp")
}

/// Whether `name` is a temporary file left by an install that did not
/// finish.
pub fn is_temp(name: &str) -> bool {
    name.ends_with(".tmp")
}

/// A file being written under its temporary name.
pub struct Staged {
    /// The temporary file's path.
    pub path: PathBuf,
    dir: PathBuf,
    name: String,
}

/// Creates `dir/<name>.tmp`, returning it open, to be filled and then
/// `commit`ted as `dir/name`.
pub fn stage(fs: &dyn Backend, dir: &Path, name: &str) -> Result<(Staged, Box<dyn StorageFile>)> {
    fs.create_dir_all(dir)
        .map_err(|e| Error::io("create directory", dir, e))?;
    let path = dir.join(temp_name(name));
    let file = fs
        .create(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    let staged = Staged {
        path,
        dir: dir.to_owned(),
        name: name.to_owned(),
    };
    Ok((staged, file))
}

impl Staged {
    /// Syncs `file` (the staged one), renames it over `name`, and syncs
    /// the directory. Returns the installed path.
    pub fn commit(self, fs: &dyn Backend, file: Box<dyn StorageFile>) -> Result<PathBuf> {
        file.sync().map_err(|e| Error::io("sync", &self.path, e))?;
        drop(file);
        self.commit_synced(fs)
    }

    /// `commit` for a file its writer already synced (an SSTable's
    /// `finish` does) and closed.
    pub fn commit_synced(self, fs: &dyn Backend) -> Result<PathBuf> {
        let target = self.dir.join(&self.name);
        fs.rename(&self.path, &target)
            .map_err(|e| Error::io("rename", &self.path, e))?;
        fs.sync_dir(&self.dir)
            .map_err(|e| Error::io("sync", &self.dir, e))?;
        Ok(target)
    }

    /// Removes the temporary file (a failed or abandoned write).
    pub fn abandon(self, fs: &dyn Backend) {
        let _ = fs.remove(&self.path);
    }
}

/// Writes `bytes` as `dir/name`, whole or not at all.
pub fn write_whole(fs: &dyn Backend, dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let (staged, file) = stage(fs, dir, name)?;
    if let Err(e) = file.write_at(0, bytes) {
        let err = Error::io("write", &staged.path, e);
        drop(file);
        staged.abandon(fs);
        return Err(err);
    }
    staged.commit(fs, file)
}
