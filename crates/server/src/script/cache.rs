//! The script cache: every script EVAL or SCRIPT LOAD was given, by the
//! SHA-1 of its text, shared by all serving threads.
//!
//! Owns the bodies, their flags, `math.random`'s generator (one per
//! server, as in Redis) and the cache's generation (SCRIPT FLUSH
//! starts a new one, and each thread's interpreter drops what it compiled
//! under an older one). It must never hold compiled functions: those
//! belong to one thread's interpreter (`vm.rs`).

use super::flags::{self, ScriptFlags};
use bytes::Bytes;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One cached script.
#[derive(Debug)]
pub struct Script {
    /// The SHA-1 of `body`, in lowercase hex.
    pub sha: [u8; 40],
    /// The text as given, shebang included.
    pub body: Bytes,
    /// What its shebang declared.
    pub flags: ScriptFlags,
    /// Bytes of `body` the shebang line takes.
    shebang: usize,
}

impl Script {
    /// The text the interpreter compiles: after the shebang line, whose
    /// newline stays so that line numbers count from the shebang.
    pub fn code(&self) -> &[u8] {
        self.body.get(self.shebang..).unwrap_or_default()
    }
}

/// The SHA-1 of `bytes`, lowercase hex.
pub fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

/// The SHA-1 of `bytes` as a cache key (lowercase hex), without
/// allocating.
pub fn sha1_key(bytes: &[u8]) -> [u8; 40] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha1_smol::Sha1::from(bytes).digest().bytes();
    let mut key = [0u8; 40];
    for (pair, b) in key.chunks_exact_mut(2).zip(digest) {
        if let [hi, lo] = pair {
            *hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            *lo = HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0');
        }
    }
    key
}

/// `sha` as a cache key: 40 hex digits, in either case.
pub fn key(sha: &[u8]) -> Option<[u8; 40]> {
    let mut k: [u8; 40] = sha.try_into().ok()?;
    k.make_ascii_lowercase();
    Some(k)
}

/// The cache.
#[derive(Debug, Default)]
pub struct ScriptCache {
    scripts: RwLock<HashMap<[u8; 40], Arc<Script>>>,
    generation: AtomicU64,
    /// `math.random`'s generator, one for the server as in Redis.
    pub random: Arc<super::random::Rand48>,
    /// The scripts running past `busy-reply-threshold`.
    pub busy: Arc<super::busy::Busy>,
}

impl ScriptCache {
    /// The script named `sha` (either case), if cached.
    pub fn get(&self, sha: &[u8]) -> Option<Arc<Script>> {
        let k = key(sha)?;
        self.scripts.read().get(&k).cloned()
    }

    /// The script of `body`, parsed but not yet cached: its flags, or
    /// Redis's error for its shebang.
    pub fn prepare(body: &[u8]) -> Result<Script, String> {
        let (flags, shebang) = flags::parse(body)?;
        Ok(Script {
            sha: sha1_key(body),
            body: Bytes::copy_from_slice(body),
            flags,
            shebang,
        })
    }

    /// Caches `script` (compiled once already, so known good); the one
    /// cached, if another thread got there first.
    pub fn insert(&self, script: Script) -> Arc<Script> {
        let mut map = self.scripts.write();
        map.entry(script.sha)
            .or_insert_with(|| Arc::new(script))
            .clone()
    }

    /// Whether `sha` is cached (SCRIPT EXISTS).
    pub fn contains(&self, sha: &[u8]) -> bool {
        key(sha).is_some_and(|k| self.scripts.read().contains_key(&k))
    }

    /// Forgets every script (SCRIPT FLUSH).
    pub fn flush(&self) {
        let old = std::mem::take(&mut *self.scripts.write());
        self.generation.fetch_add(1, Ordering::Release);
        drop(old);
    }

    /// The generation: it changes when the cache is flushed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// How many scripts are cached, and the bytes their texts and names
    /// take (INFO's `number_of_cached_scripts`, `used_memory_scripts_eval`).
    pub fn usage(&self) -> (usize, usize) {
        let map = self.scripts.read();
        let bytes = map
            .values()
            .map(|s| s.body.len() + 40 + std::mem::size_of::<Script>())
            .sum();
        (map.len(), bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_named_by_their_sha1() {
        assert_eq!(
            sha1_hex(b"return 1"),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
        let cache = ScriptCache::default();
        let Ok(script) = ScriptCache::prepare(b"return 1") else {
            panic!("a plain script parses");
        };
        cache.insert(script);
        assert!(cache.contains(b"E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"));
        assert!(!cache.contains(b"e0e1"));
        let before = cache.generation();
        cache.flush();
        assert!(cache
            .get(b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
            .is_none());
        assert_ne!(before, cache.generation());
    }
}
