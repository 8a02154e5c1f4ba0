//! HyperLogLog: Redis's string layout for it, byte for byte, so that a
//! value PFADD built here reads the same in Redis after DUMP and RESTORE,
//! and the other way round.
//!
//! Owns the layout (a 16-byte header: `HYLL`, the encoding, three zero
//! bytes, the cached cardinality with its invalid bit; then 16,384
//! six-bit registers, dense, or runs of them, sparse), Redis's hash
//! (MurmurHash64A, seed 0xadc83b19), the sparse encoding's edits in the
//! order Redis makes them (so the bytes match after every PFADD), and the
//! estimate (Ertl's, as Redis 7.0 computes it). Pure functions over byte
//! strings: it must never lock, never panic on a value a client stored
//! (every read checks its bounds; a malformed sparse value is `Corrupt`),
//! and never grow a value past its dense size.

mod selftest;
#[cfg(test)]
mod tests;

pub use selftest::self_test;

/// Registers' index bits.
const P: u32 = 14;
/// The hash bits left for the run of zeros.
const Q: u32 = 64 - P;
/// How many registers.
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register.
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// The header's size.
pub const HEADER: usize = 16;
/// A dense value's size.
pub const DENSE_SIZE: usize = HEADER + (REGISTERS * BITS).div_ceil(8);
/// The encodings, as the header's fifth byte says.
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// Redis's `hll-sparse-max-bytes` default.
pub const SPARSE_MAX_BYTES: usize = 3000;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// A value that is not a HyperLogLog (Redis's WRONGTYPE for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotHll;

/// A HyperLogLog whose sparse runs do not add up (Redis's INVALIDOBJ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's `MurmurHash64A`, endian-neutral as Redis modified it.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = chunk
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `element` goes to, and the length of its hash's run of
/// zeros plus one (Redis's `hllPatLen`).
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HyperLogLog, sparse (Redis's `createHLLObject`).
pub fn new_sparse() -> Vec<u8> {
    let mut v = header(SPARSE);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        push_xzero(&mut v, run);
        left -= run;
    }
    v
}

fn header(encoding: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER + 8);
    v.extend_from_slice(b"HYLL");
    v.extend_from_slice(&[encoding, 0, 0, 0]);
    v.extend_from_slice(&[0; 8]);
    v
}

/// Checks a string is a HyperLogLog as Redis's `isHLLObjectOrReply`
/// does: the magic, a known encoding, a dense one's exact size.
pub fn check(value: &[u8]) -> Result<(), NotHll> {
    if value.len() < HEADER || value.get(..4) != Some(&b"HYLL"[..]) {
        return Err(NotHll);
    }
    match value.get(4) {
        Some(&DENSE) if value.len() == DENSE_SIZE => Ok(()),
        Some(&SPARSE) => Ok(()),
        _ => Err(NotHll),
    }
}

/// Whether a checked value is sparse.
pub fn is_sparse(value: &[u8]) -> bool {
    value.get(4) == Some(&SPARSE)
}

/// The cached cardinality, if the cache is valid.
pub fn cached(value: &[u8]) -> Option<u64> {
    let card: [u8; 8] = value.get(8..16)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores `card` as the cached cardinality.
pub fn set_cached(value: &mut [u8], card: u64) {
    if let Some(c) = value.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale (Redis's `HLL_INVALIDATE_CACHE`).
pub fn invalidate(value: &mut [u8]) {
    if let Some(b) = value.get_mut(15) {
        *b |= 0x80;
    }
}

/// Dense register `i` of `regs`.
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

/// Sets dense register `i` of `regs` to `v`.
fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u16::from(v & REGISTER_MAX);
    let max = u16::from(REGISTER_MAX);
    if let Some(b) = regs.get_mut(byte) {
        *b = ((u16::from(*b) & !(max << fb)) | (v << fb)) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = ((u16::from(*b) & !(max >> (8 - fb))) | (v >> (8 - fb))) as u8;
    }
}

/// One opcode of the sparse encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `00xxxxxx`: 1 to 64 zero registers.
    Zero(usize),
    /// `01xxxxxx xxxxxxxx`: 1 to 16,384 zero registers.
    XZero(usize),
    /// `1vvvvvxx`: 1 to 4 registers of value 1 to 32.
    Val(u8, usize),
}

impl Op {
    fn at(s: &[u8], p: usize) -> Option<Op> {
        let b = *s.get(p)?;
        Some(match b & 0xc0 {
            0x00 => Op::Zero(usize::from(b & 0x3f) + 1),
            // A second byte past the end reads as 0, as Redis reads the
            // string's terminating NUL.
            0x40 => Op::XZero(
                ((usize::from(b & 0x3f) << 8) | usize::from(s.get(p + 1).copied().unwrap_or(0)))
                    + 1,
            ),
            _ => Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 0x3) + 1),
        })
    }

    fn bytes(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
}

fn push_val(v: &mut Vec<u8>, value: u8, len: usize) {
    v.push(((value - 1) << 2) | (len as u8 - 1) | 0x80);
}

fn push_zero(v: &mut Vec<u8>, len: usize) {
    v.push((len - 1) as u8);
}

fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push((l >> 8) as u8 | 0x40);
    v.push((l & 0xff) as u8);
}

/// A run of zeros, as the shortest opcode for it.
fn push_zeros(v: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        push_xzero(v, len);
    } else {
        push_zero(v, len);
    }
}

/// Calls `f(first register, op)` for each opcode of a sparse value;
/// `Corrupt` if they do not cover exactly the registers.
fn walk_sparse(value: &[u8], mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut p = HEADER;
    let mut idx = 0usize;
    while p < value.len() {
        let op = Op::at(value, p).ok_or(Corrupt)?;
        // Any run past the registers makes the value invalid, as Redis
        // finds at the end; found here, no count can overflow.
        if idx + op.span() > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, op);
        idx += op.span();
        p += op.bytes();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The value made dense (Redis's `hllSparseToDense`), its header kept.
pub fn to_dense(value: &[u8]) -> Result<Vec<u8>, Corrupt> {
    if !is_sparse(value) {
        return Ok(value.to_vec());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    if let (Some(d), Some(s)) = (dense.get_mut(..HEADER), value.get(..HEADER)) {
        d.copy_from_slice(s);
    }
    if let Some(e) = dense.get_mut(4) {
        *e = DENSE;
    }
    let regs = dense.get_mut(HEADER..).ok_or(Corrupt)?;
    walk_sparse(value, |first, op| {
        if let Op::Val(v, n) = op {
            for i in first..first + n {
                dense_set(regs, i, v);
            }
        }
    })?;
    Ok(dense)
}

/// Raises register `index` to `count` if lower (Redis's `hllDenseSet`
/// and `hllSparseSet`): whether it changed. A sparse value that would
/// pass `sparse_max` bytes, or needs a count over 32, becomes dense.
pub fn set_register(
    value: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if !is_sparse(value) {
        let regs = value.get_mut(HEADER..).ok_or(Corrupt)?;
        if count > dense_get(regs, index) {
            dense_set(regs, index, count);
            return Ok(true);
        }
        return Ok(false);
    }
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(value, index, count);
    }
    // Step 1: the opcode covering `index`, and the one before it.
    let (mut p, mut first, mut prev) = (HEADER, 0usize, None);
    let op = loop {
        let op = Op::at(value, p).ok_or(Corrupt)?;
        if index < first + op.span() {
            if p + op.bytes() > value.len() {
                return Err(Corrupt);
            }
            break op;
        }
        prev = Some(p);
        p += op.bytes();
        first += op.span();
    };
    // Step 2: the cases Redis updates in place.
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            if let Some(b) = value.get_mut(p) {
                *b = ((count - 1) << 2) | 0x80;
            }
            merge_vals(value, prev.unwrap_or(HEADER));
            invalidate(value);
            return Ok(true);
        }
        _ => {}
    }
    // The general case: the opcode split in up to three.
    let last = first + op.span() - 1;
    let mut seq = Vec::with_capacity(5);
    match op {
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            push_val(&mut seq, count, 1);
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val(cur, _) => {
            if index != first {
                push_val(&mut seq, cur, index - first);
            }
            push_val(&mut seq, count, 1);
            if index != last {
                push_val(&mut seq, cur, last - index);
            }
        }
    }
    let grows = seq.len() > op.bytes();
    if grows && value.len() + seq.len() - op.bytes() > sparse_max {
        return promote(value, index, count);
    }
    value.splice(p..p + op.bytes(), seq);
    merge_vals(value, prev.unwrap_or(HEADER));
    invalidate(value);
    Ok(true)
}

/// Converts to dense and sets the register, as Redis's `promote:` path.
fn promote(value: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    let mut dense = to_dense(value)?;
    if let Some(regs) = dense.get_mut(HEADER..) {
        if count > dense_get(regs, index) {
            dense_set(regs, index, count);
        }
    }
    *value = dense;
    Ok(true)
}

/// Redis's step 4: adjacent VAL opcodes of one value merged, scanning up
/// to five opcodes from `p`.
fn merge_vals(value: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < value.len() && scan > 0 {
        scan -= 1;
        match Op::at(value, p) {
            Some(Op::XZero(_)) => {
                p += 2;
                continue;
            }
            Some(Op::Zero(_)) | None => {
                p += 1;
                continue;
            }
            Some(Op::Val(v1, l1)) => {
                if let Some(Op::Val(v2, l2)) = Op::at(value, p + 1) {
                    if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                        if let Some(b) = value.get_mut(p + 1) {
                            *b = ((v1 - 1) << 2) | (l1 + l2 - 1) as u8 | 0x80;
                        }
                        value.remove(p);
                        continue;
                    }
                }
                p += 1;
            }
        }
    }
}

/// Adds `element` (Redis's `hllAdd`): whether a register changed.
pub fn add(value: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    set_register(value, index, count, sparse_max)
}

/// Raises each of `max`'s registers to the value's (Redis's `hllMerge`).
pub fn merge_into(max: &mut [u8; REGISTERS], value: &[u8]) -> Result<(), Corrupt> {
    if !is_sparse(value) {
        let regs = value.get(HEADER..).ok_or(Corrupt)?;
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    walk_sparse(value, |first, op| {
        if let Op::Val(v, n) = op {
            for m in max.iter_mut().skip(first).take(n) {
                *m = (*m).max(v);
            }
        }
    })
}

/// The estimate from a histogram of register values (Redis 7.0's
/// `hllCount`, after Ertl).
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let at = |j: usize| f64::from(histo.get(j).copied().unwrap_or(0));
    let mut z = m * tau((m - at(q + 1)) / m);
    for j in (1..=q).rev() {
        z += at(j);
        z *= 0.5;
    }
    z += m * sigma(at(0) / m);
    // Redis's `llroundl`: rounding half away from zero; a value it cannot
    // hold (only a crafted value's registers give one) is LLONG_MIN, read
    // back as 2^63.
    let e = (0.721_347_520_444_481_7 * m * m / z).round();
    if e < 9_223_372_036_854_775_808.0 {
        e as u64
    } else {
        1 << 63
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// Counts `n` registers of value `v` (at most 63: six bits, or a sparse
/// run's five).
fn bump(histo: &mut [u32; 64], v: usize, n: usize) {
    if let Some(h) = histo.get_mut(v & 63) {
        *h += n as u32;
    }
}

/// The value's estimated cardinality, computed (not the cache).
pub fn count(value: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if is_sparse(value) {
        walk_sparse(value, |_, op| match op {
            Op::Val(v, n) => bump(&mut histo, usize::from(v), n),
            Op::Zero(n) | Op::XZero(n) => bump(&mut histo, 0, n),
        })?;
    } else {
        let regs = value.get(HEADER..).ok_or(Corrupt)?;
        for i in 0..REGISTERS {
            bump(&mut histo, usize::from(dense_get(regs, i)), 1);
        }
    }
    Ok(estimate(&histo))
}

/// The estimate of raw registers, a byte each (PFCOUNT over several keys).
pub fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in regs {
        bump(&mut histo, usize::from(r), 1);
    }
    estimate(&histo)
}

/// The registers as PFDEBUG GETREG lists them (a dense value's).
pub fn registers(value: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let dense = to_dense(value)?;
    let regs = dense.get(HEADER..).ok_or(Corrupt)?;
    Ok((0..REGISTERS).map(|i| dense_get(regs, i)).collect())
}

/// PFDEBUG DECODE's text for a sparse value (`z:`, `Z:`, `v:` runs).
pub fn decode(value: &[u8]) -> Result<String, Corrupt> {
    let mut out = Vec::new();
    let mut p = HEADER;
    while p < value.len() {
        let op = Op::at(value, p).ok_or(Corrupt)?;
        out.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        });
        p += op.bytes();
    }
    Ok(out.join(" "))
}

/// A value of dense registers from raw ones (PFMERGE's target when a
/// source was dense), with an invalid cache.
pub fn set_registers(
    value: &mut Vec<u8>,
    max: &[u8; REGISTERS],
    sparse_max: usize,
) -> Result<(), Corrupt> {
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            set_register(value, i, m, sparse_max)?;
        }
    }
    invalidate(value);
    Ok(())
}
