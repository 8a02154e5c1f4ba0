//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO.
//!
//! Owns reading their arguments in Redis 7.0's order, which decides which
//! error a bad request gets: some commands look the key up before reading
//! their range (BITCOUNT on a missing key is 0 whatever follows), others
//! read every argument first (BITFIELD). Offsets are bounded by
//! `proto-max-bulk-len`, as in Redis, so no request can make a string
//! longer than a client could send. The bit arithmetic is the engine's
//! (`tandem_engine::bitmap`).

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::bitmap::{self, BitOp, Field, FieldOp, FieldType, Overflow, Range, Unit};

pub(super) const COMMANDS: &[Spec] = &[
    spec("setbit", 4, WRITE | DENYOOM, (1, 1, 1), setbit),
    spec("getbit", 3, READONLY | FAST, (1, 1, 1), getbit),
    spec("bitcount", -2, READONLY, (1, 1, 1), bitcount),
    spec("bitpos", -3, READONLY, (1, 1, 1), bitpos),
    spec("bitop", -4, WRITE | DENYOOM, (2, -1, 1), bitop),
    spec("bitfield", -2, WRITE | DENYOOM, (1, 1, 1), bitfield),
    spec("bitfield_ro", -2, READONLY | FAST, (1, 1, 1), bitfield_ro),
];

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// A bit offset as Redis reads one: an integer (`#n` for BITFIELD: n
/// fields of `width` bits), not negative, whose byte is within
/// `proto-max-bulk-len`.
fn offset(c: &Call<'_>, arg: &[u8], width: Option<u32>) -> Result<u64, Reject> {
    let (digits, fields) = match (arg.strip_prefix(b"#"), width) {
        (Some(rest), Some(w)) => (rest, Some(w)),
        _ => (arg, None),
    };
    let n = tandem_engine::parse_i64(digits).ok_or(Reject::Static(BAD_OFFSET))?;
    let n = match fields {
        Some(w) => n
            .checked_mul(i64::from(w))
            .ok_or(Reject::Static(BAD_OFFSET))?,
        None => n,
    };
    let max = c.shared.config.load().proto_max_bulk_len;
    u64::try_from(n)
        .ok()
        .filter(|&n| (n >> 3) < max)
        .ok_or(Reject::Static(BAD_OFFSET))
}

fn setbit(c: &mut Call<'_>) -> CmdResult {
    let at = offset(c, c.arg(2), None)?;
    let on = match tandem_engine::parse_i64(c.arg(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(Reject::Static(BAD_BIT)),
    };
    let old = c.kv().setbit(c.arg(1), at, on)?;
    c.out.int(i64::from(old));
    Ok(())
}

fn getbit(c: &mut Call<'_>) -> CmdResult {
    let at = offset(c, c.arg(2), None)?;
    let mut bit = false;
    c.kv()
        .read_string(c.arg(1), &mut |v| bit = bitmap::get_bit(v, at))?;
    c.out.int(i64::from(bit));
    Ok(())
}

/// `BYTE` or `BIT`.
fn unit(arg: &[u8]) -> Result<Unit, Reject> {
    if is(arg, "bit") {
        Ok(Unit::Bit)
    } else if is(arg, "byte") {
        Ok(Unit::Byte)
    } else {
        Err(Reject::Syntax)
    }
}

/// BITCOUNT's range, read once the key is known to hold a string.
fn count_range(c: &Call<'_>) -> Result<Option<Range>, Reject> {
    match c.args.len() {
        2 => Ok(None),
        4 | 5 => {
            let (start, end) = (int(c.arg(2))?, int(c.arg(3))?);
            if start < 0 && end < 0 && start > end {
                // Empty, decided before the unit is read (as Redis does).
                return Ok(Some(Range {
                    start: 1,
                    end: Some(0),
                    unit: Unit::Byte,
                }));
            }
            let unit = match c.args.get(4) {
                Some(u) => unit(u)?,
                None => Unit::Byte,
            };
            Ok(Some(Range {
                start,
                end: Some(end),
                unit,
            }))
        }
        _ => Err(Reject::Syntax),
    }
}

fn bitcount(c: &mut Call<'_>) -> CmdResult {
    let mut n = Ok(0);
    c.kv().read_string(c.arg(1), &mut |v| {
        n = count_range(c).map(|r| bitmap::count(v, r));
    })?;
    c.out.int(i64::try_from(n?).unwrap_or(i64::MAX));
    Ok(())
}

/// BITPOS's range: the start, the unit (read before the end, as Redis
/// reads them), then the end.
fn pos_range(c: &Call<'_>) -> Result<Option<Range>, Reject> {
    match c.args.len() {
        3 => Ok(None),
        4..=6 => {
            let start = int(c.arg(3))?;
            let unit = match c.args.get(5) {
                Some(u) => unit(u)?,
                None => Unit::Byte,
            };
            let end = match c.args.get(4) {
                Some(e) => Some(int(e)?),
                None => None,
            };
            Ok(Some(Range { start, end, unit }))
        }
        _ => Err(Reject::Syntax),
    }
}

fn bitpos(c: &mut Call<'_>) -> CmdResult {
    let bit = match int(c.arg(2))? {
        0 => false,
        1 => true,
        _ => return Err(Reject::Static("ERR The bit argument must be 1 or 0.")),
    };
    let mut pos = Ok(0);
    let found = c.kv().read_string(c.arg(1), &mut |v| {
        pos = pos_range(c).map(|r| bitmap::position(v, bit, r));
    })?;
    // A missing key reads as endless zeros.
    let pos = if found { pos? } else { -i64::from(bit) };
    c.out.int(pos);
    Ok(())
}

fn bitop(c: &mut Call<'_>) -> CmdResult {
    let name = c.arg(1);
    let op = if is(name, "and") {
        BitOp::And
    } else if is(name, "or") {
        BitOp::Or
    } else if is(name, "xor") {
        BitOp::Xor
    } else if is(name, "not") {
        BitOp::Not
    } else {
        return Err(Reject::Syntax);
    };
    let sources = c.args_from(3);
    if op == BitOp::Not && sources.len() != 1 {
        return Err(Reject::Static(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let len = c.kv().bitop(op, c.arg(2), sources)?;
    c.out.count(len);
    Ok(())
}

/// BITFIELD's operations, read whole before anything runs, as Redis
/// reads them: the first bad one decides the error.
fn fields(c: &Call<'_>) -> Result<Vec<Field>, Reject> {
    let mut out = Vec::new();
    let mut overflow = Overflow::default();
    let mut i = 2;
    while let Some(&word) = c.args.get(i) {
        let left = c.args.len() - i - 1;
        let op = if is(word, "get") && left >= 2 {
            FieldOp::Get
        } else if (is(word, "set") || is(word, "incrby")) && left >= 3 {
            FieldOp::Set(0)
        } else if is(word, "overflow") && left >= 1 {
            let kind = c.arg(i + 1);
            overflow = if is(kind, "wrap") {
                Overflow::Wrap
            } else if is(kind, "sat") {
                Overflow::Sat
            } else if is(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(Reject::Static("ERR Invalid OVERFLOW type specified"));
            };
            i += 2;
            continue;
        } else {
            return Err(Reject::Syntax);
        };
        let ty = FieldType::parse(c.arg(i + 1)).ok_or(Reject::Static(BAD_TYPE))?;
        let at = offset(c, c.arg(i + 2), Some(ty.bits))?;
        let op = match op {
            FieldOp::Get => {
                i += 3;
                FieldOp::Get
            }
            _ => {
                let value = int(c.arg(i + 3))?;
                let op = if is(word, "set") {
                    FieldOp::Set(value)
                } else {
                    FieldOp::IncrBy(value)
                };
                i += 4;
                op
            }
        };
        out.push(Field {
            op,
            ty,
            offset: at,
            overflow,
        });
    }
    Ok(out)
}

fn reply_fields(c: &mut Call<'_>, replies: &[Option<i64>]) {
    c.out.array(replies.len());
    for r in replies {
        match r {
            Some(n) => c.out.int(*n),
            None => c.out.null(),
        }
    }
}

fn bitfield(c: &mut Call<'_>) -> CmdResult {
    let fields = fields(c)?;
    let replies = c.kv().bitfield(c.arg(1), &fields)?;
    reply_fields(c, &replies);
    Ok(())
}

fn bitfield_ro(c: &mut Call<'_>) -> CmdResult {
    let fields = fields(c)?;
    if fields.iter().any(|f| f.op != FieldOp::Get) {
        return Err(Reject::Static(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let replies = c.kv().bitfield(c.arg(1), &fields)?;
    reply_fields(c, &replies);
    Ok(())
}
