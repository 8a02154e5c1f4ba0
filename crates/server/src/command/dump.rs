//! DUMP and RESTORE: a key's value as Redis 7.0's serialized payload, and
//! back, so keys move between Tandem and Redis both ways.
//!
//! Owns the commands' arguments, read in Redis 7.0's order (the options,
//! then whether the key exists, then the TTL, then the payload's footer,
//! then its body), which decides which error a bad request gets, and
//! Redis's error lines. The payload's bytes are `rdb`'s; RESTORE's rules
//! for the key are the engine's. It must never trust the payload: a
//! corrupt one is refused whole, nothing written.

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use crate::rdb::{self, object, string::Reader};
use tandem_engine::{Restore, Restored, Stamp};

pub(super) const COMMANDS: &[Spec] = &[
    spec("dump", 2, READONLY, (1, 1, 1), dump),
    spec("restore", -4, WRITE | DENYOOM, (1, 1, 1), restore),
];

const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT: &str = "ERR Bad data format";
const BUSY_KEY: &str = "BUSYKEY Target key name already exists.";

fn dump(c: &mut Call<'_>) -> CmdResult {
    let mut body = Vec::new();
    let mut writer = object::Writer::new(&mut body, true);
    let found = c.kv().dump_value(c.arg(1), &mut writer)?;
    if found.is_none() {
        c.out.null();
        return Ok(());
    }
    if writer.unsupported() {
        return Err(Reject::Static("ERR this type cannot be dumped yet"));
    }
    c.out.bulk(&rdb::seal(body));
    Ok(())
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct Options {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
    freq: Option<i64>,
}

fn options(c: &Call<'_>) -> Result<Options, Reject> {
    let mut o = Options::default();
    let mut i = 4;
    while let Some(&a) = c.args.get(i) {
        let next = c.args.get(i + 1).copied();
        if is(a, "replace") {
            o.replace = true;
        } else if is(a, "absttl") {
            o.absttl = true;
        } else if let (true, Some(n), None) = (is(a, "idletime"), next, o.freq) {
            let n = int(n)?;
            if n < 0 {
                return Err(Reject::Static("ERR Invalid IDLETIME value, must be >= 0"));
            }
            o.idle = Some(n);
            i += 1;
        } else if let (true, Some(n), None) = (is(a, "freq"), next, o.idle) {
            let n = int(n)?;
            if !(0..=255).contains(&n) {
                return Err(Reject::Static(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            o.freq = Some(n);
            i += 1;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

fn restore(c: &mut Call<'_>) -> CmdResult {
    let o = options(c)?;
    let key = c.arg(1);
    // Redis looks the key up as a write does: no hit or miss counted.
    if !o.replace && tandem_engine::lookups::quietly(|| c.kv().exists(&[key]))? > 0 {
        return Err(Reject::Static(BUSY_KEY));
    }
    let ttl = int(c.arg(2))?;
    if ttl < 0 {
        return Err(Reject::Static("ERR Invalid TTL value, must be >= 0"));
    }
    let payload = c.arg(3);
    if rdb::open(payload).is_none() {
        return Err(Reject::Static(BAD_PAYLOAD));
    }
    // Redis reads the value from the whole payload, footer included: a
    // body cut short reads on into it, as there.
    let mut r = Reader::new(payload);
    let ty = r.byte().map_err(|_| Reject::Static(BAD_FORMAT))?;
    if !object::is_value_type(ty) {
        return Err(Reject::Static(BAD_FORMAT));
    }
    let value =
        object::load(ty, &mut r, c.db().value_limits()).map_err(|_| Reject::Static(BAD_FORMAT))?;
    // A TTL of 0 is none; an absolute one is a Unix time in ms. The sum
    // saturates where Redis's would overflow.
    let deadline = match (ttl, o.absttl) {
        (0, _) => None,
        (t, true) => Some(t as u64),
        (t, false) => Some((t as u64).saturating_add(c.db().now_ms())),
    };
    let access = match (o.idle, o.freq) {
        (Some(s), _) => Some(Stamp::IdleSeconds(s as u64)),
        (None, Some(f)) => u8::try_from(f).ok().map(Stamp::Frequency),
        (None, None) => None,
    };
    let how = Restore {
        replace: o.replace,
        deadline,
        access,
    };
    match c.kv().restore_value(key, value, how)? {
        Restored::Busy => return Err(Reject::Static(BUSY_KEY)),
        Restored::Created | Restored::Expired { .. } => c.out.ok(),
    }
    Ok(())
}
