//! Patching an entry: a new value, deadline or version, in place when the
//! block has room.
//!
//! Owns deciding between rewriting a block where it is and building a
//! replacement, and the rewrite itself. It must never change the key or
//! the class byte of a block (`Drop` rebuilds the allocation layout from
//! it).

use super::block::truncate;
use super::block::{Entry, ValueIn};
use super::class::{class_of, class_size};
use super::format::{head_len, spans, ACCESS_LEN, FLAGS_AT, HAS_EXPIRY, VERSION_LEN, WORD};
use super::varint::get_varint;

/// A change to an entry: any of value and expiry, and always a new version.
pub(crate) struct Patch<'a> {
    /// The new value, or `None` to keep the current one.
    pub value: Option<ValueIn<'a>>,
    /// The new expiry (`Some(None)` removes it), or `None` to keep it.
    pub expiry: Option<Option<u64>>,
    /// The version the entry has after the change.
    pub version: u64,
}

impl Entry {
    /// Applies `patch`: in place when the result fits this block's capacity
    /// without wasting most of it, otherwise by building a replacement block
    /// that the caller must swap in (`self` is then left unchanged).
    #[expect(
        clippy::indexing_slicing,
        reason = "offsets come from `spans` of this block, and the in-place branch runs only when `new_size` fits the block's class size"
    )]
    pub(crate) fn apply(&mut self, patch: Patch<'_>) -> Result<Applied, Oversize> {
        let raw = self.raw();
        let s = spans(raw);
        let old_expiry = self.expiry();
        let new_expiry = patch.expiry.unwrap_or(old_expiry);
        let old_value_part = if self.is_shared() || self.is_object() {
            WORD
        } else {
            let (len, n) = get_varint(&raw[s.value_at..]);
            n + len as usize
        };
        let new_value_part = match &patch.value {
            None => old_value_part,
            Some(v) => v.part_len(),
        };
        let new_size = head_len(s.key_len, new_expiry.is_some()) + new_value_part;
        let class = self.class();
        let fits = match class_of(new_size + ACCESS_LEN) {
            Some(c) => new_size + ACCESS_LEN <= class_size(class) && c.saturating_add(2) >= class,
            None => false,
        };
        if !fits {
            if patch.value.is_none() && self.is_object() {
                // The collection moves to the new block by its pointer; the
                // old block, dropped by the caller, no longer owns it.
                let Some(c) = self.take_collection() else {
                    return Err(Oversize);
                };
                let built = Entry::build(self.key(), ValueIn::Object(c), patch.version, new_expiry);
                built.iter().for_each(|b| b.carry_access(self));
                return built.map(Applied::Moved).ok_or(Oversize);
            }
            let value = match patch.value {
                Some(v) => v,
                None => match self.shared_ptr() {
                    // SAFETY: as in `value`; the clone is a new reference.
                    Some(p) => ValueIn::Shared(unsafe { (*p).clone() }),
                    None => ValueIn::Slice(self.value()),
                },
            };
            let built = Entry::build(self.key(), value, patch.version, new_expiry);
            built.iter().for_each(|b| b.carry_access(self));
            return built.map(Applied::Moved).ok_or(Oversize);
        }
        let new_value_at = s.expiry_at + if new_expiry.is_some() { 8 } else { 0 };
        match patch.value {
            None => {
                if new_value_at != s.value_at {
                    self.raw_mut()
                        .copy_within(s.value_at..s.value_at + old_value_part, new_value_at);
                }
            }
            Some(v) => {
                self.release_shared();
                self.write_value(new_value_at, v);
            }
        }
        let raw = self.raw_mut();
        raw[s.version_at..s.version_at + VERSION_LEN]
            .copy_from_slice(&truncate(patch.version).to_le_bytes());
        match new_expiry {
            Some(t) => {
                raw[FLAGS_AT] |= HAS_EXPIRY;
                raw[s.expiry_at..s.expiry_at + 8].copy_from_slice(&t.to_le_bytes());
            }
            None => raw[FLAGS_AT] &= !HAS_EXPIRY,
        }
        Ok(Applied::InPlace)
    }
}

/// How a patch was applied.
pub(crate) enum Applied {
    /// The block was rewritten where it is.
    InPlace,
    /// The result needed another block; swap it in for the old one.
    Moved(Entry),
}

/// A patch whose result would be larger than any block can be.
#[derive(Debug)]
pub(crate) struct Oversize;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::format::INLINE_MAX;

    fn patch(value: Option<&[u8]>, expiry: Option<Option<u64>>, version: u64) -> Patch<'_> {
        Patch {
            value: value.map(ValueIn::Slice),
            expiry,
            version,
        }
    }

    fn apply(e: &mut Entry, p: Patch<'_>) {
        if let Ok(Applied::Moved(new)) = e.apply(p) {
            *e = new;
        }
    }

    #[test]
    fn patches_in_place_and_by_replacement_agree() {
        let big = vec![1u8; INLINE_MAX + 10];
        let values: [&[u8]; 5] = [b"", b"x", &[2u8; 60], &[3u8; 300], &big];
        let expiries = [None, Some(None), Some(Some(5)), Some(Some(u64::MAX))];
        for start in values {
            for start_exp in [None, Some(9)] {
                for value in [None, Some(values[1]), Some(values[3]), Some(&big[..])] {
                    for expiry in expiries {
                        let mut e = Entry::build(b"key", ValueIn::Slice(start), 1, start_exp)
                            .expect("small");
                        apply(&mut e, patch(value, expiry, 2));
                        assert_eq!(e.key(), b"key");
                        assert_eq!(e.value(), value.unwrap_or(start));
                        assert_eq!(e.expiry(), expiry.unwrap_or(start_exp));
                        assert_eq!(e.version(), 2);
                    }
                }
            }
        }
    }

    #[test]
    fn shrinking_a_value_a_lot_reallocates() {
        let mut e = Entry::new(b"k", &[0u8; 2000], None).expect("small");
        assert!(matches!(
            e.apply(patch(Some(b"tiny"), None, 1)),
            Ok(Applied::Moved(_))
        ));
        let mut e = Entry::new(b"k", &[0u8; 60], None).expect("small");
        assert!(matches!(
            e.apply(patch(Some(&[1u8; 58]), None, 1)),
            Ok(Applied::InPlace)
        ));
    }
}
