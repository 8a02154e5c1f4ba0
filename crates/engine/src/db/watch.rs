//! WATCH's record of a key, and EXEC's check that the key is unchanged.
//!
//! Owns what a watch remembers and the rule that compares it with the key
//! as it is now. It must never answer "unchanged" for a key that was
//! written, deleted or expired since the watch; answering "changed" for
//! one that was not costs the client a retry, which WATCH's contract
//! allows (Redis, too, fails EXEC on a key written with the value it
//! already had).
//!
//! An entry keeps only the low 32 bits of its version (the access word
//! has the other half of the 8 bytes a whole version would take), so two
//! writes 2^32 apart in one shard leave the same bits. A watch therefore
//! records the whole write count of the shard where any write to the key
//! must land (the key's shard in the active memtable), and EXEC, finding
//! the same bits, asks whether that shard handed out a version with those
//! bits since. If it did, or could have (2^32 writes or more since, or the
//! key now routes to another memtable), the key counts as changed.
//!
//! A key absent at WATCH and absent at EXEC may have been created and
//! removed in between (Redis fails EXEC then: the write touched it). The
//! shard remembers the newest version among the entries removed from it
//! (`WriteMark::newest_removed`); if that is newer than the watch, the
//! key counts as changed. So does any key of a shard that lost a key
//! created since, which is the price of not keeping tombstones.

use crate::entry::Entry;
use crate::memtable::{ShardMap, WriteMark};

/// Versions an entry keeps apart: its version is a write count modulo this.
const VERSION_SPAN: u64 = 1 << 32;

/// What WATCH saw of a key, for EXEC to compare (`KeyValue::watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// The key's active shard then.
    mark: WriteMark,
    /// The version of the key's entry then, expired or not; `None` if
    /// there was none.
    version: Option<u32>,
    /// Whether the key existed then (had an entry, not expired).
    live: bool,
}

impl Watch {
    /// Records the key's entry (`raw`, expired or not; `live` if it has
    /// not expired) against `active`, the key's shard in the active
    /// memtable, all read under their locks.
    pub(crate) fn record(raw: Option<&Entry>, live: bool, active: &ShardMap) -> Watch {
        Watch {
            mark: active.write_mark(),
            version: raw.map(Entry::version),
            live,
        }
    }

    /// Whether the key, read as `record` read it, is as the watch saw
    /// it. Never true for a key written, deleted or expired since;
    /// sometimes false for one that was not (see the module).
    pub(crate) fn holds(&self, raw: Option<&Entry>, live: bool, active: &ShardMap) -> bool {
        let now = active.write_mark();
        let then = self.mark;
        if now.memtable != then.memtable || now.written.wrapping_sub(then.written) >= VERSION_SPAN {
            return false;
        }
        let bits = raw.map(Entry::version);
        match (self.live, live) {
            (true, true) => match (self.version, bits) {
                (Some(a), Some(b)) => a == b && !handed_out_since(then.written, now.written, a),
                _ => false,
            },
            // Absent (or expired) then and now. A key created since and
            // removed again left its version in `newest_removed`; one
            // created since and still there (expired) has a version
            // handed out since, or the same bits only if one was.
            (false, false) => {
                now.newest_removed <= then.written
                    && match (self.version, bits) {
                        (_, None) => true,
                        (Some(a), Some(b)) => {
                            a == b && !handed_out_since(then.written, now.written, a)
                        }
                        (None, Some(_)) => false,
                    }
            }
            _ => false,
        }
    }
}

/// Whether a shard whose write count went from `from` to `to` may have
/// handed out a version whose low 32 bits are `bits` in between: versions
/// `from + 1 ..= to` were handed out, one each.
fn handed_out_since(from: u64, to: u64, bits: u32) -> bool {
    let Some(count) = to.checked_sub(from) else {
        return true;
    };
    if count >= VERSION_SPAN {
        return true;
    }
    let first = from.wrapping_add(1);
    // How far past `first` the next version with these low bits lies.
    let gap = u64::from(bits.wrapping_sub(first as u32));
    gap < count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::ValueIn;

    fn entry(version: u64) -> Entry {
        Entry::build(b"k", ValueIn::Slice(b"v"), version, None).expect("small")
    }

    fn shard(written: u64) -> ShardMap {
        ShardMap::after_writes(1, written)
    }

    #[test]
    fn a_key_left_alone_holds_while_others_are_written() {
        let e = entry(5);
        let w = Watch::record(Some(&e), true, &shard(5));
        assert!(w.holds(Some(&e), true, &shard(5)));
        assert!(w.holds(Some(&e), true, &shard(1_000_000)));
        // Other keys removed meanwhile do not matter to a key that exists.
        assert!(w.holds(Some(&e), true, &shard(9).after_removing(8)));
    }

    #[test]
    fn a_write_delete_or_expiry_never_holds() {
        let e = entry(5);
        let w = Watch::record(Some(&e), true, &shard(5));
        assert!(!w.holds(Some(&entry(6)), true, &shard(6)));
        assert!(!w.holds(None, false, &shard(5)), "deleted");
        assert!(!w.holds(Some(&e), false, &shard(5)), "expired");
        let absent = Watch::record(None, false, &shard(5));
        assert!(!absent.holds(Some(&entry(6)), true, &shard(6)), "created");
        assert!(
            !absent.holds(Some(&entry(6)), false, &shard(6)),
            "created, already expired"
        );
        assert!(absent.holds(None, false, &shard(9)));
    }

    #[test]
    fn a_key_created_and_removed_since_the_watch_does_not_hold() {
        let absent = Watch::record(None, false, &shard(5));
        // Version 7 was handed out after the watch and removed since.
        assert!(!absent.holds(None, false, &shard(9).after_removing(7)));
        // A key removed that was written before the watch: it could not
        // be this one, absent then.
        assert!(absent.holds(None, false, &shard(9).after_removing(4)));
    }

    #[test]
    fn a_key_expired_at_the_watch_holds_when_reaped() {
        // As Redis: a key already expired when watched is not modified by
        // its removal.
        let e = entry(3);
        let w = Watch::record(Some(&e), false, &shard(5));
        assert!(w.holds(Some(&e), false, &shard(8)), "still there");
        assert!(w.holds(None, false, &shard(8).after_removing(3)), "reaped");
    }

    #[test]
    fn a_write_2_pow_32_versions_later_does_not_pass_for_the_old_one() {
        // The key's version 5 was handed out at the watch's count; a write
        // 2^32 versions later leaves the same 32 bits in the entry.
        let w = Watch::record(Some(&entry(5)), true, &shard(5));
        let again = entry(5 + VERSION_SPAN);
        assert_eq!(again.version(), 5);
        assert!(!w.holds(Some(&again), true, &shard(5 + VERSION_SPAN)));
        // A key written long before the watch: a write with the same bits
        // less than 2^32 versions after the watch is caught by the window.
        let w = Watch::record(Some(&entry(3)), true, &shard(VERSION_SPAN));
        let active = shard(VERSION_SPAN + 3);
        assert!(!w.holds(Some(&entry(VERSION_SPAN + 3)), true, &active));
    }

    #[test]
    fn another_memtable_never_holds() {
        let e = entry(5);
        let w = Watch::record(Some(&e), true, &shard(5));
        assert!(!w.holds(Some(&e), true, &ShardMap::after_writes(2, 5)));
        let absent = Watch::record(None, false, &shard(5));
        assert!(!absent.holds(None, false, &ShardMap::after_writes(2, 5)));
    }

    #[test]
    fn a_version_in_the_window_is_found_and_one_outside_is_not() {
        // Versions 11..=20 were handed out.
        assert!(handed_out_since(10, 20, 11));
        assert!(handed_out_since(10, 20, 20));
        assert!(!handed_out_since(10, 20, 10));
        assert!(!handed_out_since(10, 20, 21));
        assert!(!handed_out_since(10, 10, 10));
        // 2^32 + 5 has the low bits of 5.
        assert!(handed_out_since(VERSION_SPAN, VERSION_SPAN + 10, 5));
        assert!(!handed_out_since(VERSION_SPAN, VERSION_SPAN + 10, 11));
    }

    #[test]
    fn the_window_wraps_across_the_low_bits() {
        let from = VERSION_SPAN - 3;
        // Handed out: 2^32 - 2, 2^32 - 1, 2^32, 2^32 + 1.
        assert!(handed_out_since(from, from + 4, u32::MAX - 1));
        assert!(handed_out_since(from, from + 4, u32::MAX));
        assert!(handed_out_since(from, from + 4, 0));
        assert!(handed_out_since(from, from + 4, 1));
        assert!(!handed_out_since(from, from + 4, 2));
        assert!(!handed_out_since(from, from + 4, u32::MAX - 2));
    }

    #[test]
    fn a_full_turn_of_the_low_bits_counts_as_written() {
        // 2^32 versions since: every value of the low bits was handed out.
        assert!(handed_out_since(7, 7 + VERSION_SPAN, 7));
        assert!(handed_out_since(7, 7 + VERSION_SPAN, 3));
        // One fewer: 8 ..= 2^32 + 6 leaves out only the bits of 7.
        assert!(!handed_out_since(7, 7 + VERSION_SPAN - 1, 7));
        assert!(handed_out_since(7, 7 + VERSION_SPAN - 1, 6));
        assert!(handed_out_since(7, 7 + VERSION_SPAN - 1, 8));
    }

    #[test]
    fn a_count_that_went_back_counts_as_written() {
        assert!(handed_out_since(20, 10, 15));
    }
}
