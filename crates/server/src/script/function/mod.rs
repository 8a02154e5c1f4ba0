//! Functions: the libraries FUNCTION LOAD was given, by name, and the
//! functions they registered, shared by every serving thread.
//!
//! Owns the registry and Redis 7.0's rules for changing it: a library
//! name is taken once (unless REPLACE), a function name once across all
//! libraries (case aside), and a change either happens whole or not at
//! all (`Libraries::join` for FUNCTION RESTORE). Every change bumps a
//! generation, and each thread's interpreter reloads what it compiled
//! under an older one (`load.rs`); every change is also handed, under the
//! registry's lock, to the caller's `persist`, so that changes reach the
//! log in the order they were made. It must never hold compiled code:
//! that belongs to one thread's interpreter.

pub mod library;
pub mod load;
pub mod payload;

use super::flags::ScriptFlags;
use bytes::Bytes;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One function of a library, as it registered itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// Its name, as registered.
    pub name: Vec<u8>,
    /// Its description, if it gave one.
    pub description: Option<Vec<u8>>,
    /// Its flags.
    pub flags: ScriptFlags,
}

/// One library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Its name (case matters).
    pub name: Vec<u8>,
    /// The whole text FUNCTION LOAD was given, first line included.
    pub code: Bytes,
    /// Its functions, in the order they registered.
    pub functions: Vec<FunctionInfo>,
}

/// Every library, and every function by its name in lowercase.
#[derive(Debug, Default, Clone)]
pub struct Libraries {
    by_name: BTreeMap<Vec<u8>, Arc<Library>>,
    functions: HashMap<Vec<u8>, Arc<Library>>,
}

/// How FUNCTION RESTORE treats the libraries already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Keep them; a library of the same name is an error.
    Append,
    /// A library of the same name is replaced.
    Replace,
    /// Drop them all first.
    Flush,
}

impl Libraries {
    /// How many libraries, and how many functions they registered.
    pub fn counts(&self) -> (usize, usize) {
        let functions = self.by_name.values().map(|l| l.functions.len()).sum();
        (self.by_name.len(), functions)
    }

    /// The libraries, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Library>> {
        self.by_name.values()
    }

    /// The library named `name`.
    pub fn get(&self, name: &[u8]) -> Option<&Arc<Library>> {
        self.by_name.get(name)
    }

    /// The library holding the function named `name` (either case).
    pub fn library_of(&self, name: &[u8]) -> Option<&Arc<Library>> {
        self.functions.get(&name.to_ascii_lowercase())
    }

    /// Adds `library`, replacing the one of its name if `replace`; Redis's
    /// error if its name is taken (without `replace`) or one of its
    /// functions' is, by another library. Two functions of one library
    /// whose names differ only in case are both kept, and FCALL finds the
    /// first, as in Redis.
    pub fn add(&mut self, library: Library, replace: bool) -> Result<(), String> {
        if !replace && self.by_name.contains_key(&library.name) {
            return Err(exists(&library.name));
        }
        let mut lowered: Vec<Vec<u8>> = Vec::with_capacity(library.functions.len());
        for f in &library.functions {
            let lower = f.name.to_ascii_lowercase();
            let taken = self
                .functions
                .get(&lower)
                .is_some_and(|owner| owner.name != library.name);
            if taken {
                return Err(format!(
                    "Function {} already exists",
                    String::from_utf8_lossy(&f.name)
                ));
            }
            if !lowered.contains(&lower) {
                lowered.push(lower);
            }
        }
        self.remove(&library.name);
        let library = Arc::new(library);
        for lower in lowered {
            self.functions.insert(lower, Arc::clone(&library));
        }
        self.by_name.insert(library.name.clone(), library);
        Ok(())
    }

    /// Removes the library named `name`; whether it was there.
    pub fn remove(&mut self, name: &[u8]) -> bool {
        let Some(old) = self.by_name.remove(name) else {
            return false;
        };
        for f in &old.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        true
    }

    /// Adds every library of `other` as FUNCTION RESTORE does under
    /// `policy`: all of them or (Redis's error) none.
    pub fn join(&mut self, other: Libraries, policy: Policy) -> Result<(), String> {
        if policy == Policy::Flush {
            *self = other;
            return Ok(());
        }
        let mut next = self.clone();
        // Redis's order: a name taken is found before a function's.
        if policy == Policy::Append {
            if let Some(taken) = other.by_name.keys().find(|n| next.by_name.contains_key(*n)) {
                return Err(format!(
                    "Library {} already exists",
                    String::from_utf8_lossy(taken)
                ));
            }
        } else {
            for name in other.by_name.keys() {
                next.remove(name);
            }
        }
        for library in other.by_name.into_values() {
            let library = Arc::try_unwrap(library).unwrap_or_else(|shared| (*shared).clone());
            next.add(library, false)?;
        }
        *self = next;
        Ok(())
    }
}

fn exists(name: &[u8]) -> String {
    format!("Library '{}' already exists", String::from_utf8_lossy(name))
}

/// The registry every serving thread reads.
#[derive(Debug, Default)]
pub struct Functions {
    libraries: RwLock<Libraries>,
    generation: AtomicU64,
}

/// Hands the libraries as they now are to the store (see the module).
pub type Persist<'a> = &'a dyn Fn(&Libraries);

impl Functions {
    /// The generation: it changes with every change of the libraries.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Reads the libraries.
    pub fn read<R>(&self, f: impl FnOnce(&Libraries) -> R) -> R {
        f(&self.libraries.read())
    }

    /// Changes the libraries by `change`, on a copy: if it succeeds, the
    /// copy is taken, a new generation starts and `persist` is given the
    /// result, all under the lock; if it fails, nothing changed.
    pub fn change<R>(
        &self,
        persist: Persist<'_>,
        change: impl FnOnce(&mut Libraries) -> Result<R, String>,
    ) -> Result<R, String> {
        let mut libraries = self.libraries.write();
        let mut next = libraries.clone();
        let r = change(&mut next)?;
        *libraries = next;
        self.generation.fetch_add(1, Ordering::AcqRel);
        persist(&libraries);
        Ok(r)
    }

    /// Bytes the libraries take (INFO's `used_memory_functions`).
    pub fn bytes(&self) -> usize {
        self.read(|l| {
            l.iter()
                .map(|lib| {
                    lib.code.len()
                        + lib.name.len()
                        + std::mem::size_of::<Library>()
                        + lib
                            .functions
                            .iter()
                            .map(|f| {
                                f.name.len() * 2
                                    + f.description.as_ref().map_or(0, Vec::len)
                                    + std::mem::size_of::<FunctionInfo>()
                            })
                            .sum::<usize>()
                })
                .sum()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(name: &str, functions: &[&str]) -> Library {
        Library {
            name: name.as_bytes().to_vec(),
            code: Bytes::from(format!("#!lua name={name}\n")),
            functions: functions
                .iter()
                .map(|f| FunctionInfo {
                    name: f.as_bytes().to_vec(),
                    description: None,
                    flags: ScriptFlags::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn names_are_taken_once_and_changes_are_whole() {
        let mut l = Libraries::default();
        assert_eq!(l.add(lib("a", &["f", "g"]), false), Ok(()));
        assert_eq!(
            l.add(lib("a", &["h"]), false),
            Err("Library 'a' already exists".into())
        );
        assert_eq!(
            l.add(lib("b", &["F"]), false),
            Err("Function F already exists".into())
        );
        // Replacing a library may keep its own function names.
        assert_eq!(l.add(lib("a", &["f", "k"]), true), Ok(()));
        assert!(l.library_of(b"G").is_none());
        assert_eq!(
            l.library_of(b"K").map(|x| x.name.clone()),
            Some(b"a".to_vec())
        );
        assert_eq!(l.counts(), (1, 2));

        let mut other = Libraries::default();
        assert_eq!(other.add(lib("a", &["x"]), false), Ok(()));
        assert_eq!(other.add(lib("c", &["f"]), false), Ok(()));
        let before = l.counts();
        assert_eq!(
            l.join(other.clone(), Policy::Append),
            Err("Library a already exists".into())
        );
        // Replacing `a` drops its `f`, so `c`'s `f` is free.
        assert_eq!(l.join(other.clone(), Policy::Replace), Ok(()));
        assert_eq!(l.counts(), (2, 2));
        let mut clash = Libraries::default();
        assert_eq!(clash.add(lib("d", &["x"]), false), Ok(()));
        assert_eq!(
            l.join(clash, Policy::Replace),
            Err("Function x already exists".into())
        );
        assert_eq!(l.counts(), (2, 2), "a failed join changes nothing");
        assert_ne!(before, l.counts());
        assert_eq!(l.join(Libraries::default(), Policy::Flush), Ok(()));
        assert_eq!(l.counts(), (0, 0));
    }
}
