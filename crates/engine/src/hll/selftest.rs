//! PFSELFTEST: Redis's self-test of the HyperLogLog code, run on
//! request.
//!
//! Owns the test's two parts as Redis runs them: registers set at random
//! read back unchanged, and dense and sparse estimates of up to ten
//! million elements agree and stay within six standard errors. It must
//! never touch a key: it builds its own values.

use super::{add, count, dense_get, dense_set, header, is_sparse, new_sparse, DENSE, DENSE_SIZE};
use super::{HEADER, REGISTERS, REGISTER_MAX};

/// PFSELFTEST: the dense registers hold what is set, and dense and
/// sparse estimates agree and stay within bounds, as Redis's self-test
/// checks, with `hll-sparse-max-bytes` as set. `Err` says what failed.
pub fn self_test(sparse_max: usize, mut random: impl FnMut() -> u64) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HEADER];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (random() & u64::from(REGISTER_MAX)) as u8;
            dense_set(&mut regs, i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {got}"
                ));
            }
        }
    }
    let mut dense = header(DENSE);
    dense.resize(DENSE_SIZE, 0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let seed = random();
    let mut checkpoint = 1u64;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        add(&mut dense, &ele, sparse_max).map_err(|_| "TESTFAILED corrupt dense")?;
        add(&mut sparse, &ele, sparse_max).map_err(|_| "TESTFAILED corrupt sparse")?;
        if j != checkpoint {
            continue;
        }
        if j < (sparse_max / 2) as u64 && !is_sparse(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let (d, s) = (count(&dense), count(&sparse));
        if d != s {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(d.unwrap_or(0));
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}
