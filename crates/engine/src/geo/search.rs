//! The areas a radius or box search reads, and whether a point is in the
//! shape: Redis's `geohashCalculateAreasByShapeWGS84` and
//! `geoWithinShape`, step for step, so that the same members are found in
//! the same order.
//!
//! Owns the step estimate, the bounding box, the centre cell and its
//! eight neighbours (the ones that cannot hold a match dropped), and each
//! cell's range of scores. Pure functions.

use super::{deg_rad, distance, encode_in, EARTH_RADIUS_M, LAT_MAX, LAT_MIN};
use super::{LONG_MAX, LONG_MIN};

/// The widest a step-1 cell is, in metres (Redis's `MERCATOR_MAX`).
const MERCATOR_MAX: f64 = 20_037_726.37;

/// What a search covers around its centre, in the user's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// BYRADIUS (and GEORADIUS).
    Radius(f64),
    /// BYBOX: width and height.
    Box(f64, f64),
}

/// A search: its centre, shape and unit (metres per unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Longitude of the centre.
    pub long: f64,
    /// Latitude of the centre.
    pub lat: f64,
    /// The shape, in `unit`s.
    pub shape: Shape,
    /// Metres per unit.
    pub unit: f64,
}

fn rad_deg(rad: f64) -> f64 {
    rad / (std::f64::consts::PI / 180.0)
}

/// A cell: its bits at `step` bits each way (Redis's `GeoHashBits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    bits: u64,
    step: u32,
}

/// A cell's bounds (Redis's `geohashDecode`).
struct Area {
    long_min: f64,
    long_max: f64,
    lat_min: f64,
    lat_max: f64,
}

fn decode(cell: Cell) -> Area {
    let (ilat, ilong) = super::deinterleave(cell.bits);
    let cells = (1u64 << cell.step) as f64;
    let lat_scale = LAT_MAX - LAT_MIN;
    let long_scale = LONG_MAX - LONG_MIN;
    Area {
        lat_min: LAT_MIN + (f64::from(ilat) * 1.0 / cells) * lat_scale,
        lat_max: LAT_MIN + ((f64::from(ilat) + 1.0) * 1.0 / cells) * lat_scale,
        long_min: LONG_MIN + (f64::from(ilong) * 1.0 / cells) * long_scale,
        long_max: LONG_MIN + ((f64::from(ilong) + 1.0) * 1.0 / cells) * long_scale,
    }
}

/// Moves a cell one step along the coordinate whose bits `moving` masks
/// (Redis's `geohash_move_x` and `geohash_move_y`): `d` 1 east or north,
/// -1 west or south.
fn shift(c: Cell, d: i8, moving: u64) -> Cell {
    let width = 64 - c.step * 2;
    let x = c.bits & moving;
    let y = c.bits & !moving;
    let zz = !moving >> width;
    let x = if d > 0 {
        x.wrapping_add(zz + 1)
    } else {
        (x | zz).wrapping_sub(zz + 1)
    };
    Cell {
        bits: (x & (moving >> width)) | y,
        ..c
    }
}

/// East (1) or west (-1): the longitude's (odd) bits.
fn move_x(c: Cell, d: i8) -> Cell {
    shift(c, d, 0xaaaa_aaaa_aaaa_aaaa)
}

/// North (1) or south (-1): the latitude's (even) bits.
fn move_y(c: Cell, d: i8) -> Cell {
    shift(c, d, 0x5555_5555_5555_5555)
}

/// Redis's `geohashEstimateStepsByRadius`.
fn steps_for(mut metres: f64, lat: f64) -> u32 {
    if metres == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while metres < MERCATOR_MAX {
        metres *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u32
}

impl Search {
    /// Half-extents in metres: north-south and east-west.
    fn half_metres(&self) -> (f64, f64) {
        match self.shape {
            Shape::Radius(r) => (self.unit * r, self.unit * r),
            Shape::Box(w, h) => (self.unit * (h / 2.0), self.unit * (w / 2.0)),
        }
    }

    /// The score ranges to read, in Redis's order (the centre cell, then
    /// north, south, east, west, north-east, north-west, south-east,
    /// south-west), each `[min, max)`; cells that cannot hold a match are
    /// left out, and one equal to the last read is not read again.
    pub fn ranges(&self) -> Vec<(f64, f64)> {
        let (long, lat) = (self.long, self.lat);
        let (height, width) = self.half_metres();
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat - lat_delta).cos());
        let southern = lat < 0.0;
        let min_lon = if southern {
            long - long_delta_bottom
        } else {
            long - long_delta_top
        };
        let max_lon = if southern {
            long + long_delta_bottom
        } else {
            long + long_delta_top
        };
        let (min_lat, max_lat) = (lat - lat_delta, lat + lat_delta);

        let mut radius = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
        };
        radius *= self.unit;
        let mut steps = steps_for(radius, lat);
        let centre = |steps: u32| Cell {
            bits: encode_in(long, lat, LAT_MIN, LAT_MAX, steps),
            step: steps,
        };
        let mut hash = centre(steps);
        let neighbours = |h: Cell| {
            [
                move_y(h, 1),              // north
                move_y(h, -1),             // south
                move_x(h, 1),              // east
                move_x(h, -1),             // west
                move_y(move_x(h, 1), 1),   // north-east
                move_y(move_x(h, -1), 1),  // north-west
                move_y(move_x(h, 1), -1),  // south-east
                move_y(move_x(h, -1), -1), // south-west
            ]
        };
        let mut n = neighbours(hash);
        let [north, south, east, west, ..] = n.map(decode);
        let decrease = north.lat_max < max_lat
            || south.lat_min > min_lat
            || east.long_max < max_lon
            || west.long_min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            hash = centre(steps);
            n = neighbours(hash);
        }
        let area = decode(hash);
        let mut cells: [Option<Cell>; 9] = [Some(hash); 9];
        for (slot, c) in cells.iter_mut().skip(1).zip(n) {
            *slot = Some(c);
        }
        if steps >= 2 {
            // Indexes in `cells`: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
            let mut drop = |which: &[usize]| {
                for &i in which {
                    if let Some(c) = cells.get_mut(i) {
                        *c = None;
                    }
                }
            };
            if area.lat_min < min_lat {
                drop(&[2, 8, 7]);
            }
            if area.lat_max > max_lat {
                drop(&[1, 5, 6]);
            }
            if area.long_min < min_lon {
                drop(&[4, 8, 6]);
            }
            if area.long_max > max_lon {
                drop(&[3, 7, 5]);
            }
        }
        let mut out = Vec::with_capacity(9);
        // The last cell read, by its index: Redis compares with it only
        // once it is past the centre (index 0 reads as "none yet").
        let mut last: Option<(usize, Cell)> = None;
        for (i, c) in cells.into_iter().enumerate() {
            let Some(c) = c else { continue };
            if matches!(last, Some((j, l)) if j > 0 && l == c) {
                continue;
            }
            let shift = 52 - c.step * 2;
            out.push(((c.bits << shift) as f64, ((c.bits + 1) << shift) as f64));
            last = Some((i, c));
        }
        out
    }

    /// Whether the point a score stands for is in the shape: its
    /// distance from the centre in metres and its position if so.
    pub fn within(&self, score: f64) -> Option<(f64, f64, f64)> {
        let (x, y) = super::position(score);
        let (x1, y1) = (self.long, self.lat);
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(x1, y1, x, y);
                (d <= r * self.unit).then_some((d, x, y))
            }
            Shape::Box(w, h) => {
                let lat_distance = EARTH_RADIUS_M * (deg_rad(y1) - deg_rad(y)).abs();
                if lat_distance > (h * self.unit) / 2.0 {
                    return None;
                }
                if distance(x, y, x1, y) > (w * self.unit) / 2.0 {
                    return None;
                }
                Some((distance(x1, y1, x, y), x, y))
            }
        }
    }
}
