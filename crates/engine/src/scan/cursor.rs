//! SCAN cursors: the integers Redis clients pass back, mapped to positions.
//!
//! Owns the table from cursor number to scan position. A Redis cursor is an
//! opaque 64-bit integer, but our scans resume from a key (SCAN walks keys
//! in order, which stays correct while shards are added or removed), and a
//! key does not fit in 64 bits. So the engine remembers each position and
//! hands out a number for it, as Kvrocks does.
//!
//! The table is bounded: it keeps the newest `FRESH_PER_STRIPE` unused
//! cursors per stripe and a short tail of used ones, so retrying the last
//! call works. A cursor pushed out by newer ones fails with
//! `Error::InvalidCursor` instead of silently restarting. Stripes keep
//! concurrent scans from sharing one lock.

use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

const STRIPES: usize = 16;
/// Unused cursors kept per stripe: 65,536 concurrent scans in all.
const FRESH_PER_STRIPE: usize = 4096;
/// Used cursors kept per stripe, so a client can retry a call.
const USED_PER_STRIPE: usize = 64;
/// Bytes of resume keys kept per stripe before the oldest are dropped.
const BYTES_PER_STRIPE: usize = 4 << 20;

#[derive(Default)]
struct Stripe {
    fresh: BTreeMap<u64, Box<[u8]>>,
    used: VecDeque<(u64, Box<[u8]>)>,
    bytes: usize,
}

impl Stripe {
    fn trim(&mut self) {
        while self.used.len() > USED_PER_STRIPE {
            if let Some((_, k)) = self.used.pop_front() {
                self.bytes -= k.len();
            }
        }
        while self.fresh.len() > FRESH_PER_STRIPE || self.bytes > BYTES_PER_STRIPE {
            if let Some((_, k)) = self.used.pop_front() {
                self.bytes -= k.len();
            } else if let Some((_, k)) = self.fresh.pop_first() {
                self.bytes -= k.len();
            } else {
                break;
            }
        }
    }
}

/// Issued SCAN cursors and the key each resumes after.
pub(crate) struct CursorTable {
    stripes: Box<[Mutex<Stripe>]>,
    next: AtomicU64,
}

impl CursorTable {
    pub(crate) fn new() -> Self {
        Self {
            stripes: (0..STRIPES)
                .map(|_| Mutex::new(Stripe::default()))
                .collect(),
            next: AtomicU64::new(1),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`new` makes `STRIPES` stripes and the index is taken modulo `STRIPES`"
    )]
    fn stripe(&self, id: u64) -> &Mutex<Stripe> {
        &self.stripes[(id % STRIPES as u64) as usize]
    }

    /// A new cursor resuming after `key`. Never 0, which means "start" and
    /// "done" in SCAN.
    pub(crate) fn issue(&self, key: &[u8]) -> u64 {
        // Keep cursors below 2^63 so clients that parse them as signed
        // integers still work.
        let id = self.next.fetch_add(1, Ordering::Relaxed) % (1 << 63) + 1;
        let mut stripe = self.stripe(id).lock();
        stripe.bytes += key.len();
        stripe.fresh.insert(id, key.into());
        stripe.trim();
        id
    }

    /// The key cursor `id` resumes after, if the table still holds it.
    pub(crate) fn resume(&self, id: u64) -> Option<Box<[u8]>> {
        let mut stripe = self.stripe(id).lock();
        if let Some(key) = stripe.fresh.remove(&id) {
            stripe.used.push_back((id, key.clone()));
            stripe.trim();
            return Some(key);
        }
        stripe
            .used
            .iter()
            .find(|(used, _)| *used == id)
            .map(|(_, k)| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_resume_and_can_be_retried() {
        let t = CursorTable::new();
        let a = t.issue(b"k1");
        assert_ne!(a, 0);
        assert_eq!(t.resume(a).as_deref(), Some(&b"k1"[..]));
        assert_eq!(t.resume(a).as_deref(), Some(&b"k1"[..]), "retry");
        assert_eq!(t.resume(a + 1000), None);
    }

    #[test]
    fn old_cursors_are_forgotten_not_leaked() {
        let t = CursorTable::new();
        let first = t.issue(b"first");
        for i in 0..(STRIPES * FRESH_PER_STRIPE + 10) {
            t.issue(format!("k{i}").as_bytes());
        }
        assert_eq!(t.resume(first), None);
        let total: usize = t.stripes.iter().map(|s| s.lock().fresh.len()).sum();
        assert!(total <= STRIPES * FRESH_PER_STRIPE);
    }
}
