use super::*;

/// Redis 7.0.15's answers for `GEOADD Sicily 13.361389 38.115556 Palermo
/// 15.087269 37.502669 Catania`: ZSCORE, GEOPOS, GEODIST ... km, GEOHASH.
#[test]
fn sicily_matches_redis() {
    let palermo = score(13.361389, 38.115556);
    let catania = score(15.087269, 37.502669);
    assert_eq!(palermo, 3_479_099_956_230_698.0);
    assert_eq!(catania, 3_479_447_370_796_909.0);
    let (x1, y1) = position(palermo);
    let (x2, y2) = position(catania);
    assert_eq!(coordinate_text(x1), "13.36138933897018433");
    assert_eq!(coordinate_text(y1), "38.11555639549629859");
    assert_eq!(coordinate_text(x2), "15.08726745843887329");
    assert_eq!(coordinate_text(y2), "37.50266842333162032");
    assert_eq!(distance_text(distance(x1, y1, x2, y2) / 1000.0), "166.2742");
    assert_eq!(&hash_text(palermo), b"sqc8b49rny0");
    assert_eq!(&hash_text(catania), b"sqdtr74hyu0");
}

#[test]
fn interleaving_round_trips() {
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..10_000 {
        let (x, y) = (rng.u32(..), rng.u32(..));
        assert_eq!(deinterleave(interleave(x, y)), (x, y));
    }
}

#[test]
fn texts_as_redis_writes_them() {
    assert_eq!(distance_text(0.0), "0.0000");
    assert_eq!(distance_text(0.00005), "0.0000");
    // 0.00015 scales to 1.4999999999999998, below the half.
    assert_eq!(distance_text(0.00015), "0.0001");
    assert_eq!(distance_text(0.0006), "0.0006");
    assert_eq!(distance_text(12.5), "12.5000");
    assert_eq!(coordinate_text(-180.0), "-180");
    assert_eq!(coordinate_text(0.5), "0.5");
    assert_eq!(unit(b"KM"), Some(1000.0));
    assert_eq!(unit(b"yd"), None);
    assert!(valid(180.0, LAT_MAX) && !valid(180.1, 0.0) && !valid(0.0, 85.06));
}

#[test]
fn the_edges_decode_inside_the_range() {
    for (long, lat) in [(LONG_MIN, LAT_MIN), (LONG_MAX, LAT_MAX), (0.0, 0.0)] {
        let (x, y) = position(score(long, lat));
        assert!(valid(x, y), "{long},{lat} -> {x},{y}");
        assert!((x - long).abs() < 1e-5 && (y - lat).abs() < 1e-5);
    }
}

/// What `llrint` cannot hold prints as LLONG_MIN does.
#[test]
fn a_distance_past_i64_prints_as_llong_min() {
    assert_eq!(distance_text(f64::NAN), "-922337203685477.5808");
    assert_eq!(distance_text(1e300), "-922337203685477.5808");
}
