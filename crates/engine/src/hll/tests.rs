use super::*;

/// Every register of a value, dense or sparse.
fn regs(value: &[u8]) -> Vec<u8> {
    registers(value).expect("a valid value")
}

#[test]
fn murmur_matches_redis() {
    // Redis 7.0.15's registers for these elements (PFADD k <e>, then
    // PFDEBUG GETREG k: the one non-zero register and its value).
    for (element, index, count) in [
        (&b"a"[..], 12711, 2),
        (b"hello", 9216, 1),
        (b"redis", 9467, 2),
        (b"", 5938, 2),
        (b"xxxxxxxxxxxxxxxxxxxx", 3584, 1),
    ] {
        assert_eq!(pattern(element), (index, count), "{element:?}");
    }
}

#[test]
fn a_new_value_is_sparse_and_counts_zero() {
    let v = new_sparse();
    assert_eq!(v.len(), HEADER + 2);
    assert!(check(&v).is_ok());
    assert_eq!(count(&v), Ok(0));
    assert_eq!(decode(&v), Ok("Z:16384".into()));
}

#[test]
fn sparse_and_dense_agree_register_for_register() {
    let mut sparse = new_sparse();
    let mut dense = to_dense(&sparse).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    for n in 0..20_000 {
        let e = rng.u64(..).to_le_bytes();
        let a = add(&mut sparse, &e, SPARSE_MAX_BYTES).unwrap();
        let b = add(&mut dense, &e, SPARSE_MAX_BYTES).unwrap();
        assert_eq!(a, b, "element {n}");
        if n % 997 == 0 {
            assert_eq!(regs(&sparse), regs(&dense), "after {n}");
            assert_eq!(count(&sparse), count(&dense));
        }
    }
    assert!(
        !is_sparse(&sparse),
        "past hll-sparse-max-bytes it went dense"
    );
    assert_eq!(sparse, {
        let mut d = dense.clone();
        set_cached(&mut d, 0);
        invalidate(&mut d);
        let mut s = sparse.clone();
        set_cached(&mut s, 0);
        invalidate(&mut s);
        assert_eq!(s, d);
        sparse.clone()
    });
}

#[test]
fn the_estimate_is_within_redis_bounds() {
    let mut v = new_sparse();
    for i in 0..100_000u64 {
        add(&mut v, &i.to_le_bytes(), SPARSE_MAX_BYTES).unwrap();
    }
    let c = count(&v).unwrap();
    // 1.04 / sqrt(16384) is 0.8%: within four of that.
    assert!((96_750..103_250).contains(&c), "{c}");
}

#[test]
fn malformed_values_are_errors_never_panics() {
    assert_eq!(check(b"HYLL"), Err(NotHll));
    assert_eq!(check(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"), Err(NotHll));
    let mut dense_short = new_sparse();
    dense_short[4] = 0;
    assert_eq!(check(&dense_short), Err(NotHll));
    // Sparse runs that do not cover the registers exactly.
    let mut v = new_sparse();
    v.truncate(HEADER + 1);
    assert_eq!(count(&v), Err(Corrupt));
    let mut v = new_sparse();
    v.extend_from_slice(&[0x80]);
    assert_eq!(count(&v), Err(Corrupt));
    assert_eq!(add(&mut v, b"x", SPARSE_MAX_BYTES).map(|_| ()), Ok(()));
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..2000 {
        let mut v = new_sparse();
        let n = rng.usize(0..40);
        v.truncate(HEADER);
        v.extend((0..n).map(|_| rng.u8(..)));
        let _ = count(&v);
        let _ = to_dense(&v);
        let _ = decode(&v);
        let _ = add(&mut v, &rng.u64(..).to_le_bytes(), SPARSE_MAX_BYTES);
        let mut max = [0u8; REGISTERS];
        let _ = merge_into(&mut max, &v);
    }
}

/// A sparse value of enough zero runs to overflow a 32-bit count is
/// refused, not counted (a client may store half a megabyte of them).
#[test]
fn runs_past_the_registers_are_corrupt_however_long() {
    let mut v = new_sparse();
    v.truncate(HEADER);
    for _ in 0..262_144 {
        v.extend_from_slice(&[0x7f, 0xff]);
    }
    assert_eq!(count(&v), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
    assert_eq!(to_dense(&v).map(|_| ()), Err(Corrupt));
}

/// Registers no PFADD can set (52 and up) give an estimate C cannot
/// round: Redis's LLONG_MIN, read back as 2^63.
#[test]
fn an_estimate_past_i64_is_what_redis_gives() {
    let mut v = new_sparse();
    v = to_dense(&v).unwrap();
    let regs = v.get_mut(HEADER..).unwrap();
    for i in 0..REGISTERS {
        dense_set(regs, i, 60);
    }
    assert_eq!(count(&v), Ok(1 << 63));
}

/// A value ending in half an XZERO reads the missing byte as 0, as
/// Redis reads the string's terminator.
#[test]
fn a_lone_trailing_xzero_reads_as_redis_reads_it() {
    let mut v = new_sparse();
    v.truncate(HEADER);
    v.extend_from_slice(&[0x7e, 0xfe, 0x41]);
    assert_eq!(decode(&v), Ok("Z:16127 Z:257".into()));
    assert_eq!(count(&v), Ok(0));
}

#[test]
fn the_self_test_passes() {
    let mut rng = fastrand::Rng::with_seed(11);
    assert_eq!(self_test(SPARSE_MAX_BYTES, || rng.u64(..)), Ok(()));
}
