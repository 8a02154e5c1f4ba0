//! `Entry`'s tests: fields, sizes, the access word, shared values.

use super::*;
use crate::entry::format::INLINE_MAX;

#[test]

fn round_trips_fields() {
    let e = Entry::build(b"key", ValueIn::Slice(b"value"), 7, Some(1234)).expect("small");
    assert_eq!(e.key(), b"key");
    assert_eq!(e.value(), b"value");
    assert_eq!(e.version(), 7);
    assert_eq!(e.expiry(), Some(1234));
    let e = Entry::new(b"", b"", None).expect("small");
    assert_eq!(e.key(), b"");
    assert_eq!(e.value(), b"");
    assert_eq!(e.expiry(), None);
}

#[test]
fn sixteen_byte_key_and_64_byte_value_fit_96_bytes() {
    let e = Entry::new(&[b'k'; 16], &[b'v'; 64], None).expect("small");
    assert_eq!(e.footprint(), 96);
    let e = Entry::new(&[b'k'; 16], &[b'v'; 64], Some(1)).expect("small");
    assert_eq!(e.footprint(), 112);
    // A 3-byte value (redis-benchmark's default) needs 31 bytes: the
    // access word and the 4-byte version fit where a whole 8-byte version
    // alone would have taken it to 35, a 48-byte block.
    let e = Entry::new(&[b'k'; 16], &[b'v'; 3], None).expect("small");
    assert_eq!(e.footprint(), 32);
}

#[test]
fn the_access_word_is_apart_from_the_fields_and_carried_to_copies() {
    use std::sync::atomic::Ordering::Relaxed;
    let e = Entry::build(b"key", ValueIn::Slice(b"value"), 7, Some(1234)).expect("small");
    assert_eq!(e.access().load(Relaxed), 0);
    e.access().store(u32::MAX, Relaxed);
    assert_eq!((e.key(), e.value()), (&b"key"[..], &b"value"[..]));
    assert_eq!((e.version(), e.expiry()), (7, Some(1234)));
    assert_eq!(e.clone().access().load(Relaxed), u32::MAX);
    let renamed = e.into_key(b"other").expect("fits");
    assert_eq!(renamed.access().load(Relaxed), u32::MAX);
}

#[test]

fn expiry_is_exclusive_of_the_deadline() {
    let e = Entry::new(b"k", b"v", Some(100)).expect("small");
    assert!(!e.is_expired(99));
    assert!(!e.is_expired(100));
    assert!(e.is_expired(101));
}

#[test]

fn large_values_are_shared_not_copied() {
    let big = vec![7u8; INLINE_MAX + 1];
    let e = Entry::new(b"k", &big, None).expect("fits");
    assert_eq!(e.value(), &big[..]);
    let a = e.value_bytes();
    let b = e.value_bytes();
    assert_eq!(
        a.as_ptr(),
        b.as_ptr(),
        "a GET of a large value clones a reference"
    );
    let c = e.clone();
    assert_eq!(c.value(), &big[..]);
    drop(e);
    assert_eq!(c.value(), &big[..]);
}

#[test]
fn shared_buffer_can_grow_in_place() {
    let mut e = Entry::new(b"k", &[0u8; INLINE_MAX + 1], None).expect("fits");
    let buf = e.shared_mut().expect("shared");
    let mut v = std::mem::take(buf).to_vec();
    v.push(9);
    *buf = Bytes::from(v);
    assert_eq!(e.value().len(), INLINE_MAX + 2);
    assert_eq!(e.value().last(), Some(&9));
}
