//! Geodesy checked against C++ GeographicLib 2.1 (Karney): reference vectors made by
//! `tools/gen-geodesy-vectors.sh` with `CartConvert` and `GeodSolve` and committed under
//! `tests/data/`. Requirement: ≤ 1 mm from −1 km to 40,000 km height.

use tripoint_physics::geodesy::{ground_line, Geodetic};

fn rows(text: &str) -> impl Iterator<Item = Vec<f64>> + '_ {
    text.lines().skip(1).map(|l| {
        l.split(',')
            .map(|f| f.trim().parse::<f64>().expect("reference data is numeric"))
            .collect()
    })
}

#[test]
fn geodetic_to_ecef_matches_geographiclib_to_a_millimetre() {
    let mut n = 0;
    let mut worst: f64 = 0.0;
    for r in rows(include_str!("data/geocentric.csv")) {
        let g = Geodetic::from_deg(r[0], r[1], r[2]).expect("valid reference point");
        let p = g.to_ecef_m();
        let d = ((p[0] - r[3]).powi(2) + (p[1] - r[4]).powi(2) + (p[2] - r[5]).powi(2)).sqrt();
        worst = worst.max(d);
        assert!(d <= 1e-3, "{r:?}: {p:?} is {d} m off");
        n += 1;
    }
    assert!(n > 900, "only {n} vectors");
    eprintln!("geodetic→ECEF worst error over {n} points: {worst:e} m");
}

#[test]
fn ecef_to_geodetic_matches_geographiclib_to_a_millimetre() {
    let mut worst: f64 = 0.0;
    for r in rows(include_str!("data/geocentric.csv")) {
        let g = Geodetic::from_ecef_m([r[3], r[4], r[5]]).expect("convertible");
        let radius = 6_378_137.0 + r[2].max(0.0);
        let dlat = (g.lat_deg() - r[0]).to_radians() * radius;
        let mut dlon_deg = (g.lon_deg() - r[1]).abs() % 360.0;
        if dlon_deg > 180.0 {
            dlon_deg = 360.0 - dlon_deg;
        }
        let dlon = dlon_deg.to_radians() * radius * r[0].to_radians().cos();
        let dh = g.h_m - r[2];
        let d = (dlat * dlat + dlon * dlon + dh * dh).sqrt();
        worst = worst.max(d);
        assert!(
            d <= 1e-3,
            "{r:?}: got ({}, {}, {}) {d} m off",
            g.lat_deg(),
            g.lon_deg(),
            g.h_m
        );
    }
    eprintln!("ECEF→geodetic worst error: {worst:e} m");
}

/// The fast inner-loop conversion (warning forecasts) against the same GeographicLib vectors,
/// up to 10,000 km: a millimetre.
#[test]
fn fast_geodetic_matches_geographiclib_to_a_millimetre() {
    let mut n = 0;
    for r in rows(include_str!("data/geocentric.csv")) {
        if r[2] > 10_000e3 {
            continue;
        }
        let (lat, lon, h) = tripoint_physics::geodesy::fast_geodetic([r[3], r[4], r[5]]);
        let radius = 6_378_137.0 + r[2].max(0.0);
        let dlat = (lat.to_degrees() - r[0]).to_radians() * radius;
        let mut dlon_deg = (lon.to_degrees() - r[1]).abs() % 360.0;
        if dlon_deg > 180.0 {
            dlon_deg = 360.0 - dlon_deg;
        }
        let dlon = dlon_deg.to_radians() * radius * r[0].to_radians().cos();
        let d = (dlat * dlat + dlon * dlon + (h - r[2]).powi(2)).sqrt();
        assert!(d <= 1e-3, "{r:?}: {d} m off");
        n += 1;
    }
    assert!(n > 500);
}

#[test]
fn ground_distance_and_azimuth_match_geodsolve() {
    for r in rows(include_str!("data/geodesic_inverse.csv")) {
        let a = Geodetic::from_deg(r[0], r[1], 0.0).expect("valid");
        let b = Geodetic::from_deg(r[2], r[3], 0.0).expect("valid");
        let l = ground_line(&a, &b);
        assert!(
            (l.distance_m - r[6]).abs() <= 1e-3,
            "{r:?}: {}",
            l.distance_m
        );
        let daz = ((l.azimuth1_deg - r[4] + 540.0) % 360.0 - 180.0).abs();
        assert!(daz < 1e-6, "{r:?}: azimuth {}", l.azimuth1_deg);
    }
}

/// The drag's trig-free radial height against GeographicLib's geodetic height: exact on the
/// ellipsoid, within 2 m up to 250 km and 20 m up to 1,000 km.
#[test]
fn radial_height_is_close_to_the_geodetic_height_where_there_is_air() {
    let (mut n, mut worst_low, mut worst_high) = (0, 0.0f64, 0.0f64);
    for r in rows(include_str!("data/geocentric.csv")) {
        if !(-1e3..=1_000e3).contains(&r[2]) {
            continue;
        }
        let err = (tripoint_physics::geodesy::radial_height_m([r[3], r[4], r[5]]) - r[2]).abs();
        if r[2] <= 250e3 {
            worst_low = worst_low.max(err);
        } else {
            worst_high = worst_high.max(err);
        }
        n += 1;
    }
    eprintln!("{n} points: worst {worst_low} m below 250 km, {worst_high} m above");
    assert!(n > 100, "{n} reference points");
    assert!(worst_low <= 2.0, "{worst_low} m off below 250 km");
    assert!(worst_high <= 20.0, "{worst_high} m off up to 1,000 km");
}
