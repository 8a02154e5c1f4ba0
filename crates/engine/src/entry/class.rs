//! Allocation size classes for entry blocks.
//!
//! A block is allocated at the size of the class that fits it, and the class
//! index is stored in the block. The classes are jemalloc's (16-byte steps
//! to 128, then four per power of two; the binary's allocator), so the
//! rounding costs no memory the allocator would not waste anyway, and a
//! value that grows a little is rewritten in place.

/// The largest block we will allocate: far above any key or value limit,
/// and low enough that class arithmetic cannot overflow.
pub(crate) const MAX_BLOCK: usize = 1 << 40;

/// The smallest class that holds `size` bytes, or `None` above `MAX_BLOCK`.
pub(crate) fn class_of(size: usize) -> Option<u8> {
    if size > MAX_BLOCK {
        return None;
    }
    let class = if size <= 128 {
        size.div_ceil(16).max(1) - 1
    } else {
        let p = (usize::BITS - 1 - (size - 1).leading_zeros()) as usize;
        let step = 1usize << (p - 2);
        let s = (size - (1usize << p)).div_ceil(step);
        8 + 4 * (p - 7) + (s - 1)
    };
    u8::try_from(class).ok()
}

/// The byte size of class `class`.
pub(crate) fn class_size(class: u8) -> usize {
    let c = usize::from(class);
    if c < 8 {
        16 * (c + 1)
    } else {
        let i = c - 8;
        let g = i / 4;
        let s = i % 4 + 1;
        (128usize << g) + s * (32usize << g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_size_gets_the_smallest_class_that_fits() {
        for n in 1..200_000usize {
            let c = class_of(n).expect("in range");
            assert!(class_size(c) >= n, "size {n} class {c}");
            if c > 0 {
                assert!(class_size(c - 1) < n, "size {n} class {c} not minimal");
            }
        }
    }

    #[test]
    fn classes_match_the_allocator() {
        let first: Vec<usize> = (0..20).map(class_size).collect();
        assert_eq!(
            first,
            [
                16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768,
                896, 1024
            ]
        );
    }

    #[test]
    fn huge_sizes_are_refused_not_wrapped() {
        assert!(class_of(MAX_BLOCK).is_some());
        assert!(class_size(class_of(MAX_BLOCK).expect("fits")) >= MAX_BLOCK);
        assert_eq!(class_of(MAX_BLOCK + 1), None);
        assert_eq!(class_of(usize::MAX), None);
    }
}
