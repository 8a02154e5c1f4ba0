//! Geo: positions as Redis stores them in a sorted set's scores, so that
//! scores, positions, hashes and distances match Redis's to the last
//! digit.
//!
//! Owns the 52-bit geohash Redis uses (26 steps of longitude and
//! latitude interleaved, latitude limited to ±85.05112878 as in Web
//! Mercator), decoding a score back to the centre of its cell, the
//! standard 11-character geohash text, and the haversine distance on
//! Redis's Earth radius; the arithmetic is Redis's, operation for
//! operation, and the trigonometry is the C library's, as Redis's is.
//! The radius and box searches' areas are `search`'s. Pure functions:
//! no locks, no keys.

mod search;
#[cfg(test)]
mod tests;

pub use search::{Search, Shape};

/// Steps of the hash: 26 each way, 52 bits.
const STEP_MAX: u32 = 26;
/// The longitudes a position may have.
pub const LONG_MIN: f64 = -180.0;
/// See `LONG_MIN`.
pub const LONG_MAX: f64 = 180.0;
/// The latitudes a position may have (Web Mercator's limit).
pub const LAT_MIN: f64 = -85.051_128_78;
/// See `LAT_MIN`.
pub const LAT_MAX: f64 = 85.051_128_78;
/// Redis's Earth radius, in metres.
pub const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// Degrees to radians, as Redis's `deg_rad` (one multiplication).
fn deg_rad(deg: f64) -> f64 {
    deg * (std::f64::consts::PI / 180.0)
}

/// Spreads the low 32 bits of `x` to the even bits and `y`'s to the odd.
fn interleave(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The even bits of `bits` and its odd ones, each packed down.
fn deinterleave(bits: u64) -> (u32, u32) {
    fn pack(mut v: u64) -> u32 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF;
        v as u32
    }
    (pack(bits), pack(bits >> 1))
}

/// Whether a longitude and latitude can be stored.
pub fn valid(long: f64, lat: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&long) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The hash of a position over the given latitude range, `step` bits
/// each way (Redis's `geohashEncode`; the offsets truncated to integers
/// as C converts them).
fn encode_in(long: f64, lat: f64, lat_min: f64, lat_max: f64, step: u32) -> u64 {
    let lat_offset = (lat - lat_min) / (lat_max - lat_min) * (1u64 << step) as f64;
    let long_offset = (long - LONG_MIN) / (LONG_MAX - LONG_MIN) * (1u64 << step) as f64;
    interleave(lat_offset as u32, long_offset as u32)
}

/// The score GEOADD stores for a valid position: its 52-bit hash.
pub fn score(long: f64, lat: f64) -> f64 {
    encode_in(long, lat, LAT_MIN, LAT_MAX, STEP_MAX) as f64
}

/// A score as Redis's `(uint64_t)score` gives it on x86-64, where Redis
/// runs here (the C conversion is undefined outside 0..2^64, and that is
/// what the machine does): a negative score wraps through i64, one of
/// 2^64 or more (or infinite) is 0. Only ZADD can store such a score
/// where GEOPOS reads one.
fn score_bits(score: f64) -> u64 {
    if score < 0.0 {
        score as i64 as u64
    } else if score < 18_446_744_073_709_551_616.0 {
        score as u64
    } else {
        0
    }
}

/// The position a score stands for: the centre of its cell, clamped to
/// the valid range (Redis's `geohashDecodeToLongLatWGS84`).
pub fn position(score: f64) -> (f64, f64) {
    let (ilat, ilong) = deinterleave(score_bits(score));
    let cells = (1u64 << STEP_MAX) as f64;
    let lat_scale = LAT_MAX - LAT_MIN;
    let long_scale = LONG_MAX - LONG_MIN;
    let lat_lo = LAT_MIN + (f64::from(ilat) * 1.0 / cells) * lat_scale;
    let lat_hi = LAT_MIN + ((f64::from(ilat) + 1.0) * 1.0 / cells) * lat_scale;
    let long_lo = LONG_MIN + (f64::from(ilong) * 1.0 / cells) * long_scale;
    let long_hi = LONG_MIN + ((f64::from(ilong) + 1.0) * 1.0 / cells) * long_scale;
    let long = ((long_lo + long_hi) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((lat_lo + lat_hi) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (long, lat)
}

/// GEOHASH's text for a score: the position re-encoded over the standard
/// latitude range (±90), as 11 base-32 characters, the last always `0`
/// (52 bits fill ten and a bit).
pub fn hash_text(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (long, lat) = position(score);
    let bits = encode_in(long, lat, -90.0, 90.0, STEP_MAX);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET.get(idx as usize).copied().unwrap_or(b'0');
    }
    out
}

/// The distance in metres between two positions, by the haversine
/// formula on Redis's Earth radius (Redis's `geohashGetDistance`,
/// including its shortcut when the longitudes agree).
pub fn distance(long1: f64, lat1: f64, long2: f64, lat2: f64) -> f64 {
    let v = ((deg_rad(long2) - deg_rad(long1)) / 2.0).sin();
    if v == 0.0 {
        return EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs();
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Metres in one of Redis's units (`m`, `km`, `ft`, `mi`, any case).
pub fn unit(name: &[u8]) -> Option<f64> {
    [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)]
        .into_iter()
        .find(|(u, _)| name.eq_ignore_ascii_case(u.as_bytes()))
        .map(|(_, m)| m)
}

/// A distance as Redis replies with one: four decimals, rounded half to
/// even after scaling (Redis's `fixedpoint_d2string`).
pub fn distance_text(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = (d * 10_000.0).round_ties_even();
    // `llrint` of what a long long cannot hold (or NaN) is LLONG_MIN.
    let scaled = if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&scaled) {
        scaled
    } else {
        -9_223_372_036_854_775_808.0
    };
    let negative = scaled < 0.0;
    let digits = format!("{:.0}", scaled.abs());
    let digits = format!("{digits:0>5}");
    let (int, frac) = digits.split_at(digits.len() - 4);
    format!("{}{int}.{frac}", if negative { "-" } else { "" })
}

/// A coordinate as GEOPOS replies with one: `%.17Lf` with the trailing
/// zeros (and a bare point) removed (Redis's `LD_STR_HUMAN`).
pub fn coordinate_text(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut s = format!("{x:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}
