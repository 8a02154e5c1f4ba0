//! BITFIELD's fields: a signed (1 to 64 bits) or unsigned (1 to 63 bits)
//! integer at any bit offset, read, set or incremented with Redis 7.0's
//! overflow rules (WRAP, SAT, FAIL), including its results for values
//! outside the field's range.

/// Where a field's bits are read and written: a string, or a string with
/// changes laid over it.
pub trait BitStore {
    /// The bit at `offset`, 0 past the end.
    fn bit(&self, offset: u64) -> bool;
    /// Sets the bit at `offset`.
    fn set_bit(&mut self, offset: u64, on: bool);
}

impl BitStore for [u8] {
    fn bit(&self, offset: u64) -> bool {
        super::get_bit(self, offset)
    }
    fn set_bit(&mut self, offset: u64, on: bool) {
        super::set_bit(self, offset, on);
    }
}

/// A field's type, `i<bits>` or `u<bits>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    /// Two's complement (`i`) or not (`u`).
    pub signed: bool,
    /// Its width: 1 to 64 signed, 1 to 63 unsigned.
    pub bits: u32,
}

impl FieldType {
    /// `i16`, `u8`, ...: a lowercase `i` or `u`, then the width in
    /// Redis's integer syntax.
    pub fn parse(arg: &[u8]) -> Option<FieldType> {
        let (&kind, digits) = arg.split_first()?;
        let signed = match kind {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let bits = crate::parse_i64(digits)?;
        let most = if signed { 64 } else { 63 };
        let bits = u32::try_from(bits)
            .ok()
            .filter(|b| (1..=most).contains(b))?;
        Some(FieldType { signed, bits })
    }
}

/// What a write does when the result does not fit the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Keep the low bits (the default).
    #[default]
    Wrap,
    /// Clamp to the field's least or greatest value.
    Sat,
    /// Write nothing; the reply is null.
    Fail,
}

/// One BITFIELD operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// Read the field.
    Get,
    /// Write a value; the reply is the old one.
    Set(i64),
    /// Add to the field; the reply is the new value.
    IncrBy(i64),
}

/// A field and what to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The operation.
    pub op: FieldOp,
    /// The field's type.
    pub ty: FieldType,
    /// Its first bit.
    pub offset: u64,
    /// The overflow rule in force for it.
    pub overflow: Overflow,
}

/// What running a field came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The reply: a number, or `None` (null) for a write FAIL refused.
    pub reply: Option<i64>,
    /// Whether the field's bits changed.
    pub changed: bool,
}

impl Field {
    /// The last bit a write reaches (`None` for a read).
    pub fn last_written_bit(&self) -> Option<u64> {
        match self.op {
            FieldOp::Get => None,
            _ => Some(self.offset.saturating_add(u64::from(self.ty.bits) - 1)),
        }
    }

    /// The field's value in `store`, read in place (a GET).
    pub fn get<S: BitStore + ?Sized>(&self, store: &S) -> i64 {
        let raw = read(store, self.offset, self.ty.bits);
        if self.ty.signed {
            sign_extend(raw, self.ty.bits)
        } else {
            raw as i64
        }
    }

    /// Runs the operation on `store`.
    pub fn run<S: BitStore + ?Sized>(&self, store: &mut S) -> Outcome {
        let bits = self.ty.bits;
        let old = self.get(store);
        let (new, reply) = match self.op {
            FieldOp::Get => {
                return Outcome {
                    reply: Some(old),
                    changed: false,
                }
            }
            FieldOp::Set(v) => (fit(v, 0, self.ty, self.overflow), old),
            FieldOp::IncrBy(by) => {
                let new = fit(old, by, self.ty, self.overflow);
                (new, new.unwrap_or(0))
            }
        };
        let Some(new) = new else {
            return Outcome {
                reply: None,
                changed: false,
            };
        };
        write(store, self.offset, bits, new as u64);
        Outcome {
            reply: Some(reply),
            changed: new != old,
        }
    }
}

fn read<S: BitStore + ?Sized>(store: &S, offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |v, i| {
        (v << 1) | u64::from(store.bit(offset.saturating_add(i)))
    })
}

fn write<S: BitStore + ?Sized>(store: &mut S, offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let on = (value >> (u64::from(bits) - 1 - i)) & 1 == 1;
        store.set_bit(offset.saturating_add(i), on);
    }
}

fn sign_extend(raw: u64, bits: u32) -> i64 {
    if bits < 64 && raw & (1 << (bits - 1)) != 0 {
        (raw | (u64::MAX << bits)) as i64
    } else {
        raw as i64
    }
}

/// `value + incr` fitted to the field by `overflow`: `None` when it does
/// not fit and the rule is FAIL. As Redis 7.0 decides it, in its integer
/// types: an unsigned field reads `value` as `u64`, so a negative SET
/// overflows upwards.
fn fit(value: i64, incr: i64, ty: FieldType, overflow: Overflow) -> Option<i64> {
    let bits = ty.bits;
    let limit = if ty.signed {
        let max = if bits == 64 {
            i64::MAX
        } else {
            (1i64 << (bits - 1)) - 1
        };
        let min = -max - 1;
        let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
        let min_incr = min.wrapping_sub(value);
        if value > max
            || (bits != 64 && incr > max_incr)
            || (value >= 0 && incr > 0 && incr > max_incr)
        {
            max
        } else if value < min
            || (bits != 64 && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr)
        {
            min
        } else {
            return Some(value.wrapping_add(incr));
        }
    } else {
        let v = value as u64;
        let max = (1u64 << bits) - 1;
        let max_incr = max.wrapping_sub(v) as i64;
        let min_incr = (v as i64).wrapping_neg();
        if v > max || (incr > 0 && incr > max_incr) {
            max as i64
        } else if incr < 0 && incr < min_incr {
            0
        } else {
            return Some(v.wrapping_add(incr as u64) as i64);
        }
    };
    match overflow {
        Overflow::Fail => None,
        Overflow::Sat => Some(limit),
        Overflow::Wrap => {
            let sum = (value as u64).wrapping_add(incr as u64);
            Some(if ty.signed {
                sign_extend(
                    if bits < 64 {
                        sum & !(u64::MAX << bits)
                    } else {
                        sum
                    },
                    bits,
                )
            } else {
                (sum & !(u64::MAX << bits)) as i64
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The field's range, exactly.
    fn bounds(t: FieldType) -> (i128, i128) {
        let b = t.bits;
        if t.signed {
            (-(1i128 << (b - 1)), (1i128 << (b - 1)) - 1)
        } else {
            (0, (1i128 << b) - 1)
        }
    }

    /// `v` brought into the field's range modulo 2^bits.
    fn wrapped(v: i128, t: FieldType) -> i128 {
        let m = 1i128 << t.bits;
        let r = v.rem_euclid(m);
        let (_, max) = bounds(t);
        if r > max {
            r - m
        } else {
            r
        }
    }

    /// What a field should hold after writing `v` (already a sum, in
    /// exact arithmetic) under `ow`; `None` for FAIL.
    fn model_fit(v: i128, t: FieldType, ow: Overflow) -> Option<i128> {
        let (min, max) = bounds(t);
        if (min..=max).contains(&v) {
            return Some(v);
        }
        match ow {
            Overflow::Fail => None,
            Overflow::Wrap => Some(wrapped(v, t)),
            Overflow::Sat => Some(if v > max { max } else { min }),
        }
    }

    fn field_type() -> impl Strategy<Value = FieldType> {
        prop_oneof![
            (1u32..=64).prop_map(|bits| FieldType { signed: true, bits }),
            (1u32..=63).prop_map(|bits| FieldType {
                signed: false,
                bits
            }),
        ]
    }

    fn overflow() -> impl Strategy<Value = Overflow> {
        prop_oneof![
            Just(Overflow::Wrap),
            Just(Overflow::Sat),
            Just(Overflow::Fail)
        ]
    }

    proptest! {
        /// Against exact arithmetic: any sequence of reads, increments and
        /// sets (of values whose sign Redis reads as the field's: SET of a
        /// negative number into an unsigned field, and SET of a value
        /// near i64::MIN into a narrow signed one, follow Redis's own
        /// integer rules, pinned by the recorded replies instead).
        #[test]
        fn fields_behave_as_exact_arithmetic(
            ops in proptest::collection::vec(
                (field_type(), 0u64..40, overflow(), 0u8..3, any::<i64>()),
                1..40,
            )
        ) {
            let mut bytes = vec![0u8; 16];
            for (t, offset, ow, kind, n) in ops {
                let f = |op| Field { op, ty: t, offset, overflow: ow };
                let before = f(FieldOp::Get).run(bytes.as_mut_slice()).reply.unwrap_or(0);
                match kind {
                    0 => {
                        let got = f(FieldOp::Get).run(bytes.as_mut_slice()).reply;
                        prop_assert_eq!(got, Some(before));
                    }
                    1 => {
                        let expect = model_fit(i128::from(before) + i128::from(n), t, ow);
                        let got = f(FieldOp::IncrBy(n)).run(bytes.as_mut_slice()).reply;
                        prop_assert_eq!(got.map(i128::from), expect);
                        let now = f(FieldOp::Get).run(bytes.as_mut_slice()).reply.unwrap_or(0);
                        prop_assert_eq!(i128::from(now), expect.unwrap_or(i128::from(before)));
                    }
                    _ => {
                        let v64 = if t.signed { n.max(-(1i64 << 62)) } else { n.max(0) };
                        let v = i128::from(v64);
                        let expect = model_fit(v, t, ow);
                        let got = f(FieldOp::Set(v64)).run(bytes.as_mut_slice()).reply;
                        prop_assert_eq!(got, expect.map(|_| before));
                        let now = f(FieldOp::Get).run(bytes.as_mut_slice()).reply.unwrap_or(0);
                        prop_assert_eq!(i128::from(now), expect.unwrap_or(i128::from(before)));
                    }
                }
            }
        }
    }

    fn ty(s: &str) -> FieldType {
        FieldType::parse(s.as_bytes()).unwrap_or(FieldType {
            signed: false,
            bits: 0,
        })
    }

    #[test]
    fn types_parse_as_redis_reads_them() {
        assert_eq!(ty("i64").bits, 64);
        assert_eq!(ty("u63").bits, 63);
        for bad in [
            "u64", "i65", "i0", "u0", "x8", "U8", "i", "i08", "i-1", "i+8", "",
        ] {
            assert_eq!(FieldType::parse(bad.as_bytes()), None, "{bad}");
        }
    }

    fn run(bytes: &mut Vec<u8>, op: FieldOp, t: &str, offset: u64, ow: Overflow) -> Option<i64> {
        let f = Field {
            op,
            ty: ty(t),
            offset,
            overflow: ow,
        };
        if let Some(last) = f.last_written_bit() {
            let need = usize::try_from(last / 8 + 1).unwrap_or(0);
            if bytes.len() < need {
                bytes.resize(need, 0);
            }
        }
        f.run(bytes.as_mut_slice()).reply
    }

    /// The replies Redis 7.0.15 gave for the same sequences.
    #[test]
    fn fields_read_write_and_overflow_as_redis_7_0() {
        use FieldOp::*;
        use Overflow::*;
        let mut b = Vec::new();
        assert_eq!(run(&mut b, Set(100), "i8", 0, Wrap), Some(0));
        assert_eq!(run(&mut b, Get, "u4", 0, Wrap), Some(6));
        assert_eq!(run(&mut b, IncrBy(1), "u2", 100, Wrap), Some(1));
        assert_eq!(run(&mut b, IncrBy(200), "i8", 0, Sat), Some(127));
        assert_eq!(run(&mut b, IncrBy(1), "u2", 100, Wrap), Some(2));
        assert_eq!(run(&mut b, IncrBy(1), "u2", 102, Sat), Some(1));
        assert_eq!(run(&mut b, IncrBy(300), "u8", 8, Wrap), Some(44));
        assert_eq!(run(&mut b, IncrBy(300), "u8", 8, Fail), None);
        assert_eq!(run(&mut b, IncrBy(-300), "i8", 16, Sat), Some(-128));
        assert_eq!(run(&mut b, IncrBy(300), "i8", 16, Sat), Some(127));
        assert_eq!(run(&mut b, IncrBy(200), "i8", 16, Wrap), Some(71));
        let mut b = Vec::new();
        assert_eq!(run(&mut b, Set(-1), "i64", 0, Wrap), Some(0));
        assert_eq!(run(&mut b, Get, "u63", 1, Wrap), Some(i64::MAX));
        assert_eq!(run(&mut b, Set(i64::MAX), "i64", 0, Wrap), Some(-1));
        assert_eq!(run(&mut b, IncrBy(i64::MAX), "i64", 0, Sat), Some(i64::MAX));
        assert_eq!(run(&mut b, IncrBy(i64::MIN), "i64", 0, Sat), Some(-1));
        let mut b = Vec::new();
        assert_eq!(run(&mut b, Set(200), "i8", 0, Fail), None);
        assert_eq!(run(&mut b, Set(256), "u8", 0, Fail), None);
        assert_eq!(run(&mut b, Set(-5), "u8", 0, Sat), Some(0));
        assert_eq!(run(&mut b, Get, "u8", 0, Sat), Some(255));
        assert_eq!(run(&mut b, Set(200), "i8", 0, Wrap), Some(-1));
        assert_eq!(run(&mut b, Get, "i8", 0, Wrap), Some(-56));
        assert_eq!(run(&mut b, Set(-1), "u4", 0, Wrap), Some(12));
        assert_eq!(run(&mut b, Get, "u4", 0, Wrap), Some(15));
        let mut b = vec![0u8; 8];
        assert_eq!(run(&mut b, IncrBy(1), "u1", 3, Wrap), Some(1));
        assert_eq!(run(&mut b, IncrBy(1), "u1", 3, Wrap), Some(0));
        assert_eq!(run(&mut b, IncrBy(1), "i1", 3, Wrap), Some(-1));
        assert_eq!(run(&mut b, IncrBy(1), "i1", 3, Wrap), Some(0));
        assert_eq!(run(&mut b, IncrBy(1), "i1", 5, Sat), Some(0));
        assert_eq!(run(&mut b, IncrBy(-2), "i1", 5, Sat), Some(-1));
        assert_eq!(run(&mut b, IncrBy(5), "u1", 5, Sat), Some(1));
    }
}
