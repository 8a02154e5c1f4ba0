//! The geo searches: GEORADIUS, GEORADIUSBYMEMBER (and their _RO
//! forms), GEOSEARCH and GEOSEARCHSTORE, as Redis 7.0's
//! `georadiusGeneric` runs them.
//!
//! Owns reading the arguments in Redis's order (the key's type, the
//! centre and radius of the GEORADIUS forms, then the options left to
//! right, then the checks between them), collecting the members of the
//! areas `tandem_engine::geo::Search` names in its order (one read of the
//! key for all of them), sorting by distance (stable, as glibc's qsort
//! sorts; with COUNT, Redis's partial quicksort may order equal
//! distances otherwise), and the reply or the stored set. It must never
//! read more members than ANY's count asks for.

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::geo::{self, Search, Shape};
use tandem_engine::parse_score;

pub(super) const COMMANDS: &[Spec] = &[
    spec(
        "georadius",
        -6,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        georadius,
    ),
    spec("georadius_ro", -6, READONLY, (1, 1, 1), georadius_ro),
    spec(
        "georadiusbymember",
        -5,
        WRITE | DENYOOM | MOVABLE_KEYS,
        (1, 1, 1),
        georadiusbymember,
    ),
    spec(
        "georadiusbymember_ro",
        -5,
        READONLY,
        (1, 1, 1),
        georadiusbymember_ro,
    ),
    spec("geosearch", -7, READONLY, (1, 1, 1), geosearch),
    spec(
        "geosearchstore",
        -8,
        WRITE | DENYOOM,
        (1, 2, 1),
        geosearchstore,
    ),
];

/// Which command, as Redis's flags say.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS: a centre given as coordinates.
    Coords { store: bool },
    /// GEORADIUSBYMEMBER: a member's position.
    Member { store: bool },
    /// GEOSEARCH and GEOSEARCHSTORE.
    Search { store: bool },
}

fn georadius(c: &mut Call<'_>) -> CmdResult {
    search(c, Kind::Coords { store: true })
}

fn georadius_ro(c: &mut Call<'_>) -> CmdResult {
    search(c, Kind::Coords { store: false })
}

fn georadiusbymember(c: &mut Call<'_>) -> CmdResult {
    search(c, Kind::Member { store: true })
}

fn georadiusbymember_ro(c: &mut Call<'_>) -> CmdResult {
    search(c, Kind::Member { store: false })
}

fn geosearch(c: &mut Call<'_>) -> CmdResult {
    search(c, Kind::Search { store: false })
}

fn geosearchstore(c: &mut Call<'_>) -> CmdResult {
    search(c, Kind::Search { store: true })
}

const NOT_FLOAT: Reject = Reject::Static("ERR value is not a valid float");
const BAD_UNIT: Reject = Reject::Static("ERR unsupported unit provided. please use M, KM, FT, MI");
const NO_MEMBER: Reject = Reject::Static("ERR could not decode requested zset member");

/// A longitude and latitude from two arguments, checked.
fn long_lat(long: &[u8], lat: &[u8]) -> Result<(f64, f64), Reject> {
    let long = parse_score(long).ok_or(NOT_FLOAT)?;
    let lat = parse_score(lat).ok_or(NOT_FLOAT)?;
    if !geo::valid(long, lat) {
        return Err(Reject::Owned(format!(
            "ERR invalid longitude,latitude pair {long:.6},{lat:.6}"
        )));
    }
    Ok((long, lat))
}

/// A number Redis reads with its own error for it.
fn number(arg: &[u8], what: &'static str) -> Result<f64, Reject> {
    parse_score(arg).ok_or(Reject::Static(what))
}

/// A radius and its unit.
fn radius(n: &[u8], unit: &[u8]) -> Result<(f64, f64), Reject> {
    let r = number(n, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(Reject::Static("ERR radius cannot be negative"));
    }
    Ok((r, geo::unit(unit).ok_or(BAD_UNIT)?))
}

/// What the options asked for.
#[derive(Default)]
struct Options<'a> {
    centre: Option<(f64, f64)>,
    shape: Option<(Shape, f64)>,
    from_member: bool,
    from_lonlat: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    /// Ascending (`Some(false)`), descending (`Some(true)`), or neither.
    desc: Option<bool>,
    count: usize,
    store: Option<&'a [u8]>,
    store_dist: bool,
}

fn search(c: &mut Call<'_>, kind: Kind) -> CmdResult {
    let key = c.arg(match kind {
        Kind::Search { store: true } => 2,
        _ => 1,
    });
    // The key's type first: a WRONGTYPE comes before anything else.
    let exists = c.kv().zscore_ranges(key, &[], &mut |_, _| false)?;
    // Redis looks the key up once: the reads after the first count no
    // keyspace hit or miss, and stamp no access.
    let position = |c: &Call<'_>, member: &[u8]| -> Result<Option<(f64, f64)>, Reject> {
        let score = tandem_engine::lookups::quietly(|| c.kv().zmscore(key, &[member]))?;
        Ok(score.first().copied().flatten().map(geo::position))
    };
    let mut o = Options::default();
    let base = match kind {
        Kind::Coords { .. } => {
            o.centre = Some(long_lat(c.arg(2), c.arg(3))?);
            let (r, unit) = radius(c.arg(4), c.arg(5))?;
            o.shape = Some((Shape::Radius(r), unit));
            6
        }
        Kind::Member { .. } if !exists => 5,
        Kind::Member { .. } => {
            o.centre = Some(position(c, c.arg(2))?.ok_or(NO_MEMBER)?);
            let (r, unit) = radius(c.arg(3), c.arg(4))?;
            o.shape = Some((Shape::Radius(r), unit));
            5
        }
        Kind::Search { store: true } => {
            o.store = Some(c.arg(1));
            3
        }
        Kind::Search { store: false } => 2,
    };
    let (is_search, can_store) = match kind {
        Kind::Search { store } => (true, store),
        Kind::Coords { store } | Kind::Member { store } => (false, store),
    };
    let rest = c.args.get(base..).unwrap_or_default();
    let mut i = 0;
    while let Some(&arg) = rest.get(i) {
        let left = rest.len() - i - 1;
        if is(arg, "withdist") {
            o.with_dist = true;
        } else if is(arg, "withhash") {
            o.with_hash = true;
        } else if is(arg, "withcoord") {
            o.with_coord = true;
        } else if is(arg, "any") {
            o.any = true;
        } else if is(arg, "asc") {
            o.desc = Some(false);
        } else if is(arg, "desc") {
            o.desc = Some(true);
        } else if is(arg, "count") && left >= 1 {
            let n = int(rest.get(i + 1).copied().unwrap_or_default())?;
            if n <= 0 {
                return Err(Reject::Static("ERR COUNT must be > 0"));
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist")) && left >= 1 && !is_search && can_store
        {
            o.store = rest.get(i + 1).copied();
            o.store_dist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && is_search && can_store {
            o.store_dist = true;
        } else if is(arg, "frommember") && left >= 1 && is_search && !o.from_lonlat {
            o.from_member = true;
            let member = rest.get(i + 1).copied().unwrap_or_default();
            if exists {
                o.centre = Some(position(c, member)?.ok_or(NO_MEMBER)?);
            }
            i += 1;
        } else if is(arg, "fromlonlat") && left >= 2 && is_search && !o.from_member {
            let long = rest.get(i + 1).copied().unwrap_or_default();
            let lat = rest.get(i + 2).copied().unwrap_or_default();
            o.centre = Some(long_lat(long, lat)?);
            o.from_lonlat = true;
            i += 2;
        } else if is(arg, "byradius")
            && left >= 2
            && is_search
            && !matches!(o.shape, Some((Shape::Box(..), _)))
        {
            let n = rest.get(i + 1).copied().unwrap_or_default();
            let unit = rest.get(i + 2).copied().unwrap_or_default();
            let (r, unit) = radius(n, unit)?;
            o.shape = Some((Shape::Radius(r), unit));
            i += 2;
        } else if is(arg, "bybox")
            && left >= 3
            && is_search
            && !matches!(o.shape, Some((Shape::Radius(_), _)))
        {
            let w = number(
                rest.get(i + 1).copied().unwrap_or_default(),
                "ERR need numeric width",
            )?;
            let h = number(
                rest.get(i + 2).copied().unwrap_or_default(),
                "ERR need numeric height",
            )?;
            if h < 0.0 || w < 0.0 {
                return Err(Reject::Static("ERR height or width cannot be negative"));
            }
            let unit = geo::unit(rest.get(i + 3).copied().unwrap_or_default()).ok_or(BAD_UNIT)?;
            o.shape = Some((Shape::Box(w, h), unit));
            i += 3;
        } else {
            return Err(Reject::Syntax);
        }
        i += 1;
    }
    if o.store.is_some() && (o.with_dist || o.with_hash || o.with_coord) {
        let what = if is_search {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(Reject::Owned(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(c.arg(0)).into_owned();
    if is_search && !(o.from_member || o.from_lonlat) {
        return Err(Reject::Owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if is_search && o.shape.is_none() {
        return Err(Reject::Owned(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if o.any && o.count == 0 {
        return Err(Reject::Static(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    let (Some((long, lat)), Some((shape, unit)), true) = (o.centre, o.shape, exists) else {
        // No source key: an empty reply, or the store key deleted.
        match o.store {
            Some(dst) => {
                c.kv().zstore(dst, &[], "")?;
                c.out.int(0);
            }
            None => c.out.array(0),
        }
        return Ok(());
    };
    let s = Search {
        long,
        lat,
        shape,
        unit,
    };
    let limit = if o.any { o.count } else { 0 };
    let mut found: Vec<(Vec<u8>, f64, f64, f64, f64)> = Vec::new();
    tandem_engine::lookups::quietly(|| {
        c.kv()
            .zscore_ranges(key, &s.ranges(), &mut |member, score| {
                if let Some((d, x, y)) = s.within(score) {
                    found.push((member.to_vec(), score, d, x, y));
                }
                !(limit > 0 && found.len() >= limit)
            })
    })?;
    let desc = match o.desc {
        None if o.count > 0 && !o.any => Some(false),
        other => other,
    };
    if let Some(desc) = desc {
        found.sort_by(|a, b| {
            let order = a.2.partial_cmp(&b.2).unwrap_or(std::cmp::Ordering::Equal);
            if desc {
                order.reverse()
            } else {
                order
            }
        });
    }
    if o.count > 0 {
        found.truncate(o.count);
    }
    if let Some(dst) = o.store {
        let pairs: Vec<(f64, &[u8])> = found
            .iter()
            .map(|(m, score, d, ..)| (if o.store_dist { d / unit } else { *score }, &m[..]))
            .collect();
        let event = if is_search {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        let n = c.kv().zstore(dst, &pairs, event)?;
        // GEORADIUS's STORE key is not where the dispatcher finds keys
        // (its key specification is a keyword's): clients blocked on it
        // are served here, as SORT's are.
        if n > 0 && !is_search && c.shared.blocking.any() {
            c.session
                .ready
                .push((c.session.db, bytes::Bytes::copy_from_slice(dst)));
        }
        c.out.count(n);
        return Ok(());
    }
    let extra = usize::from(o.with_dist) + usize::from(o.with_hash) + usize::from(o.with_coord);
    c.out.array(found.len());
    for (member, score, d, x, y) in found {
        if extra > 0 {
            c.out.array(extra + 1);
        }
        c.out.bulk(&member);
        if o.with_dist {
            c.out.bulk(geo::distance_text(d / unit).as_bytes());
        }
        if o.with_hash {
            c.out.int(score as i64);
        }
        if o.with_coord {
            c.out.array(2);
            c.out.double_text(geo::coordinate_text(x).as_bytes());
            c.out.double_text(geo::coordinate_text(y).as_bytes());
        }
    }
    Ok(())
}
