//! Geo commands on sorted sets: GEOADD, GEOPOS, GEODIST and GEOHASH.
//!
//! Owns their arguments, read in Redis 7.0's order (GEOADD checks the
//! count of its triples, then each position, then the key's type;
//! GEODIST its unit before the key), and their replies in Redis's text:
//! positions as `%.17Lf` trimmed, distances with four decimals. The
//! positions' arithmetic is `tandem_engine::geo`'s; the sorted set is
//! the engine's (GEOADD is ZADD with the positions' scores). The radius
//! and box searches (GEORADIUS, GEOSEARCH and their forms) are not here
//! yet.

use super::args::is;
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::{geo, parse_score, ZAddFlags, ZAdded};

pub(super) const COMMANDS: &[Spec] = &[
    spec("geoadd", -5, WRITE | DENYOOM, (1, 1, 1), geoadd),
    spec("geopos", -2, READONLY, (1, 1, 1), geopos),
    spec("geodist", -4, READONLY, (1, 1, 1), geodist),
    spec("geohash", -2, READONLY, (1, 1, 1), geohash),
];

const NOT_FLOAT: Reject = Reject::Static("ERR value is not a valid float");
const BAD_UNIT: Reject = Reject::Static("ERR unsupported unit provided. please use M, KM, FT, MI");

fn geoadd(c: &mut Call<'_>) -> CmdResult {
    let mut flags = ZAddFlags::default();
    let mut at = 2;
    while let Some(word) = c.args.get(at) {
        if is(word, "nx") {
            flags.nx = true;
        } else if is(word, "xx") {
            flags.xx = true;
        } else if is(word, "ch") {
            flags.ch = true;
        } else {
            break;
        }
        at += 1;
    }
    let rest = c.args_from(at);
    // No triple at all is ZADD's syntax error in Redis, which GEOADD
    // calls with what it built.
    if rest.is_empty() || !rest.len().is_multiple_of(3) || (flags.nx && flags.xx) {
        return Err(Reject::Syntax);
    }
    let mut pairs = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks_exact(3) {
        let [long, lat, member] = triple else {
            return Err(Reject::Syntax);
        };
        let long = parse_score(long).ok_or(NOT_FLOAT)?;
        let lat = parse_score(lat).ok_or(NOT_FLOAT)?;
        if !geo::valid(long, lat) {
            return Err(Reject::Owned(format!(
                "ERR invalid longitude,latitude pair {long:.6},{lat:.6}"
            )));
        }
        pairs.push((geo::score(long, lat), *member));
    }
    match c.kv().zadd(c.arg(1), flags, false, &pairs)? {
        ZAdded::Count(n) => c.out.count(n),
        ZAdded::Score(_) => return Err(Reject::Syntax),
    }
    Ok(())
}

fn geopos(c: &mut Call<'_>) -> CmdResult {
    let scores = c.kv().zmscore(c.arg(1), c.args_from(2))?;
    c.out.array(scores.len());
    for score in scores {
        match score {
            Some(s) => {
                let (long, lat) = geo::position(s);
                c.out.array(2);
                c.out.double_text(geo::coordinate_text(long).as_bytes());
                c.out.double_text(geo::coordinate_text(lat).as_bytes());
            }
            None => c.out.null_array(),
        }
    }
    Ok(())
}

fn geodist(c: &mut Call<'_>) -> CmdResult {
    let to_metres = match c.args.get(4) {
        None => 1.0,
        Some(_) if c.args.len() > 5 => return Err(Reject::Syntax),
        Some(u) => geo::unit(u).ok_or(BAD_UNIT)?,
    };
    let scores = c.kv().zmscore(c.arg(1), &[c.arg(2), c.arg(3)])?;
    match scores.as_slice() {
        [Some(a), Some(b)] => {
            let (x1, y1) = geo::position(*a);
            let (x2, y2) = geo::position(*b);
            let d = geo::distance(x1, y1, x2, y2) / to_metres;
            c.out.bulk(geo::distance_text(d).as_bytes());
        }
        _ => c.out.null(),
    }
    Ok(())
}

fn geohash(c: &mut Call<'_>) -> CmdResult {
    let scores = c.kv().zmscore(c.arg(1), c.args_from(2))?;
    c.out.array(scores.len());
    for score in scores {
        match score {
            Some(s) => c.out.bulk(&geo::hash_text(s)),
            None => c.out.null(),
        }
    }
    Ok(())
}
