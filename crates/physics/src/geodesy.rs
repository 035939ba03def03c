//! WGS-84 geodesy: geodetic ↔ ECEF (through `sguaba`, frames in the types), a sensor site's local
//! East-North-Up frame, look angles, line of sight over the ellipsoid, and geodesic distance and
//! azimuth on the ellipsoid (Karney's algorithm through `geographiclib-rs`).
//!
//! Validated against C++ GeographicLib (`CartConvert`, `GeodSolve`) in
//! `tests/geodesy_reference.rs`.

use geographiclib_rs::{Geodesic, InverseGeodesic};
use sguaba::math::RigidBodyTransform;
use sguaba::systems::{Ecef, Wgs84};
use sguaba::{system, Coordinate};
use uom::si::angle::radian;
use uom::si::f64::{Angle, Length};
use uom::si::length::meter;

use crate::earth::{WGS84_A_M, WGS84_B_M};
use crate::vec3;
use crate::PhysicsError;

system!(
    /// The local East-North-Up frame of one sensor site, origin at the site.
    ///
    /// All sites share this type because sites come from configuration at run time; each
    /// [`Site`] owns the one transform into its frame, so a site's ENU values never leave it
    /// untyped.
    pub struct SiteEnu using ENU
);

/// A geodetic position on WGS-84: latitude and longitude in radians, height above the
/// ellipsoid in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geodetic {
    pub lat_rad: f64,
    pub lon_rad: f64,
    pub h_m: f64,
}

impl Geodetic {
    /// Builds a geodetic position from degrees, checking that all values are finite and the
    /// latitude is in [−90°, 90°]. The longitude is wrapped to (−180°, 180°].
    pub fn from_deg(lat_deg: f64, lon_deg: f64, h_m: f64) -> Result<Self, PhysicsError> {
        for (what, value) in [
            ("latitude", lat_deg),
            ("longitude", lon_deg),
            ("height", h_m),
        ] {
            if !value.is_finite() {
                return Err(PhysicsError::NotFinite { what, value });
            }
        }
        if !(-90.0..=90.0).contains(&lat_deg) {
            return Err(PhysicsError::LatitudeOutOfRange { lat_deg });
        }
        let mut lon = lon_deg % 360.0;
        if lon > 180.0 {
            lon -= 360.0;
        } else if lon <= -180.0 {
            lon += 360.0;
        }
        Ok(Self {
            lat_rad: lat_deg.to_radians(),
            lon_rad: lon.to_radians(),
            h_m,
        })
    }

    pub fn lat_deg(&self) -> f64 {
        self.lat_rad.to_degrees()
    }
    pub fn lon_deg(&self) -> f64 {
        self.lon_rad.to_degrees()
    }

    fn to_wgs84(self) -> Wgs84 {
        let lat = self
            .lat_rad
            .clamp(-std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2);
        Wgs84::builder()
            .latitude(Angle::new::<radian>(lat))
            // Only a NaN latitude (a hand-built `Geodetic`) is refused: map it to the equator
            // rather than panic; `from_deg` never produces one.
            .unwrap_or_else(equator_latitude)
            .longitude(Angle::new::<radian>(self.lon_rad))
            .altitude(Length::new::<meter>(self.h_m))
            .build()
    }

    /// The ECEF position of this point.
    pub fn to_ecef(self) -> Coordinate<Ecef> {
        Coordinate::<Ecef>::from_wgs84(&self.to_wgs84())
    }

    /// The ECEF position as raw metres `[x, y, z]`.
    pub fn to_ecef_m(self) -> [f64; 3] {
        ecef_m(&self.to_ecef())
    }

    /// Converts an ECEF position to geodetic. Works from the Earth's centre region out to 10¹⁰ m
    /// (sguaba's closed-form solution); outside that range returns an error instead of panicking.
    pub fn from_ecef(p: &Coordinate<Ecef>) -> Result<Self, PhysicsError> {
        let r = ecef_m(p);
        if r.iter().any(|c| !c.is_finite()) {
            return Err(PhysicsError::NotFinite {
                what: "ECEF position",
                value: vec3::norm(r),
            });
        }
        if !p.can_convert_to_wgs84() {
            return Err(PhysicsError::OutOfGeodeticRange {
                radius_m: vec3::norm(r),
            });
        }
        let w = p.to_wgs84();
        let lon = w.longitude().get::<radian>();
        Ok(Self {
            lat_rad: w.latitude().get::<radian>(),
            // On the polar axis the longitude is undefined (sguaba yields NaN): use 0.
            lon_rad: if lon.is_finite() { lon } else { 0.0 },
            h_m: w.altitude().get::<meter>(),
        })
    }

    /// Converts raw ECEF metres to geodetic.
    pub fn from_ecef_m(r: [f64; 3]) -> Result<Self, PhysicsError> {
        Self::from_ecef(&ecef(r))
    }

    /// Unit vector of the ellipsoid normal (local "up") in ECEF.
    pub fn up_ecef(&self) -> [f64; 3] {
        let (sl, cl) = self.lat_rad.sin_cos();
        let (so, co) = self.lon_rad.sin_cos();
        [cl * co, cl * so, sl]
    }
    /// Unit vector of local east in ECEF.
    pub fn east_ecef(&self) -> [f64; 3] {
        let (so, co) = self.lon_rad.sin_cos();
        [-so, co, 0.0]
    }
    /// Unit vector of local north in ECEF.
    pub fn north_ecef(&self) -> [f64; 3] {
        let (sl, cl) = self.lat_rad.sin_cos();
        let (so, co) = self.lon_rad.sin_cos();
        [-sl * co, -sl * so, cl]
    }
}

#[cold]
fn equator_latitude() -> sguaba::builder::wgs84::Builder<
    sguaba::builder::wgs84::HasLatitude,
    sguaba::builder::wgs84::MissingLongitude,
    sguaba::builder::wgs84::MissingAltitude,
> {
    Wgs84::builder()
        .latitude(Angle::new::<radian>(0.0))
        .expect("0 rad is a valid latitude")
}

/// A frame-typed ECEF coordinate from raw metres.
pub fn ecef(r: [f64; 3]) -> Coordinate<Ecef> {
    Coordinate::<Ecef>::builder()
        .x(Length::new::<meter>(r[0]))
        .y(Length::new::<meter>(r[1]))
        .z(Length::new::<meter>(r[2]))
        .build()
}

/// Raw ECEF metres of a frame-typed coordinate.
pub fn ecef_m(p: &Coordinate<Ecef>) -> [f64; 3] {
    p.to_cartesian().map(|l| l.get::<meter>())
}

/// Fast height above the ellipsoid (m) for event location in the integrator's loop: Bowring's
/// method with two iterations, accurate to well under a millimetre from −1 km to 10,000 km.
#[inline]
pub fn height_above_ellipsoid_m(r: [f64; 3]) -> f64 {
    fast_geodetic(r).2
}

/// Height above the WGS-84 ellipsoid measured along the radius instead of the normal: |r| minus
/// the ellipsoid's radius in the direction of r. No trigonometry (the geodetic inverse needs
/// several calls), for the drag and ground-impact events in inner loops: exactly zero on the
/// ellipsoid, within 1.3 m of GeographicLib's geodetic height up to 250 km and within 5 m up to
/// 1,000 km (`tests/geodesy_reference.rs`); the atmosphere's 7-km scale height makes that a
/// 0.02 % error in density at most.
#[inline]
pub fn radial_height_m(r: [f64; 3]) -> f64 {
    let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    let (a, b) = (WGS84_A_M, WGS84_B_M);
    let s2 = r[2] * r[2] / r2.max(1.0); // sin² of the geocentric latitude
    let re = a * b / (b * b * (1.0 - s2) + a * a * s2).sqrt();
    r2.sqrt() - re
}

/// Fast geodetic latitude (rad), longitude (rad) and height (m) of an ECEF point, for inner
/// loops (sub-points of thousands of sampled trajectories): Bowring's method with two
/// iterations, sub-millimetre from −1 km to 10,000 km. [`Geodetic::from_ecef_m`] is the
/// frame-typed, validated path for everything else.
#[inline]
pub fn fast_geodetic(r: [f64; 3]) -> (f64, f64, f64) {
    use crate::earth::WGS84_E2;
    let p = (r[0] * r[0] + r[1] * r[1]).sqrt();
    let z = r[2];
    let ep2 = WGS84_E2 / (1.0 - WGS84_E2);
    // Initial parametric latitude (Bowring 1976).
    let mut beta = (z * WGS84_A_M).atan2(p * WGS84_B_M);
    let mut phi = 0.0;
    for _ in 0..2 {
        let (sb, cb) = beta.sin_cos();
        phi = (z + ep2 * WGS84_B_M * sb * sb * sb).atan2(p - WGS84_E2 * WGS84_A_M * cb * cb * cb);
        beta = ((1.0 - crate::earth::WGS84_F) * phi.sin()).atan2(phi.cos());
    }
    let (sp, cp) = phi.sin_cos();
    let n = WGS84_A_M / (1.0 - WGS84_E2 * sp * sp).sqrt();
    let h = if cp.abs() > 1e-6 {
        p / cp - n
    } else {
        z.abs() / sp.abs() - n * (1.0 - WGS84_E2)
    };
    (phi, r[1].atan2(r[0]), h)
}

/// Range and look angles from a site to a point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Look {
    pub range_m: f64,
    /// Clockwise from north, in [0, 2π).
    pub az_rad: f64,
    /// Up from the local horizontal plane, in [−π/2, π/2].
    pub el_rad: f64,
}

/// A fixed site on the Earth (a radar, a launch pad) with its local ENU frame.
#[derive(Clone, Debug)]
pub struct Site {
    pub geodetic: Geodetic,
    ecef: Coordinate<Ecef>,
    to_enu: RigidBodyTransform<Ecef, SiteEnu>,
}

impl Site {
    pub fn new(geodetic: Geodetic) -> Self {
        let wgs = geodetic.to_wgs84();
        // SAFETY: `wgs` is exactly this site's position, which is the origin of the `SiteEnu`
        // frame that this `Site` owns; the transform never leaves the `Site`.
        let to_enu = unsafe { RigidBodyTransform::ecef_to_enu_at(&wgs) };
        Self {
            geodetic,
            ecef: Coordinate::<Ecef>::from_wgs84(&wgs),
            to_enu,
        }
    }

    pub fn ecef(&self) -> Coordinate<Ecef> {
        self.ecef
    }
    pub fn ecef_m(&self) -> [f64; 3] {
        ecef_m(&self.ecef)
    }

    /// A point in this site's ENU frame.
    pub fn to_enu(&self, p: &Coordinate<Ecef>) -> Coordinate<SiteEnu> {
        self.to_enu.transform(*p)
    }

    /// A point given in this site's ENU frame, back in ECEF.
    pub fn from_enu(&self, p: &Coordinate<SiteEnu>) -> Coordinate<Ecef> {
        self.to_enu.inverse_transform(*p)
    }

    /// Range, azimuth and elevation from this site to an ECEF point.
    pub fn look(&self, p: &Coordinate<Ecef>) -> Look {
        let enu = self.to_enu(p);
        let e = enu.enu_east().get::<meter>();
        let n = enu.enu_north().get::<meter>();
        let u = enu.enu_up().get::<meter>();
        let horiz = e.hypot(n);
        let mut az = e.atan2(n);
        if az < 0.0 {
            az += std::f64::consts::TAU;
        }
        Look {
            range_m: (horiz * horiz + u * u).sqrt(),
            az_rad: az,
            el_rad: u.atan2(horiz),
        }
    }

    /// The ECEF point at a given range and look angles from this site (inverse of [`look`]).
    ///
    /// [`look`]: Site::look
    pub fn point_at(&self, range_m: f64, az_rad: f64, el_rad: f64) -> Coordinate<Ecef> {
        let (se, ce) = el_rad.sin_cos();
        let (sa, ca) = az_rad.sin_cos();
        let enu = Coordinate::<SiteEnu>::builder()
            .enu_east(Length::new::<meter>(range_m * ce * sa))
            .enu_north(Length::new::<meter>(range_m * ce * ca))
            .enu_up(Length::new::<meter>(range_m * se))
            .build();
        self.from_enu(&enu)
    }
}

/// True when the straight segment between two ECEF points does not pass through the WGS-84
/// ellipsoid (no refraction). Exact: the ellipsoid is scaled to a unit sphere and the closest
/// point of the segment to its centre is tested. Both endpoints may be slightly inside (a site at
/// negative height) without blocking the view along the surface: a margin of `grace_m` is allowed.
pub fn line_of_sight(a: [f64; 3], b: [f64; 3], grace_m: f64) -> bool {
    let ka = 1.0 / (WGS84_A_M - grace_m);
    let kb = 1.0 / (WGS84_B_M - grace_m);
    let p = [a[0] * ka, a[1] * ka, a[2] * kb];
    let q = [b[0] * ka, b[1] * ka, b[2] * kb];
    let d = vec3::sub(q, p);
    let dd = vec3::dot(d, d);
    if dd == 0.0 {
        return vec3::dot(p, p) >= 1.0;
    }
    let t = (-vec3::dot(p, d) / dd).clamp(0.0, 1.0);
    let c = vec3::add(p, vec3::scale(d, t));
    vec3::dot(c, c) >= 1.0
}

/// Line-of-sight angles off nadir from a platform to a target (see
/// `tripoint_core::Measurement::Bearings`): `(east_rad, north_rad)`.
pub fn nadir_bearings(platform_ecef_m: [f64; 3], target_ecef_m: [f64; 3]) -> Option<(f64, f64)> {
    let g = Geodetic::from_ecef_m(platform_ecef_m).ok()?;
    let los = vec3::unit(vec3::sub(target_ecef_m, platform_ecef_m));
    let down = vec3::scale(g.up_ecef(), -1.0);
    let east = vec3::dot(los, g.east_ecef());
    let north = vec3::dot(los, g.north_ecef());
    Some((
        east.atan2(vec3::dot(los, down)),
        north.clamp(-1.0, 1.0).asin(),
    ))
}

/// The unit line of sight in ECEF for nadir bearings (inverse of [`nadir_bearings`]).
pub fn nadir_line_of_sight(
    platform_ecef_m: [f64; 3],
    east_rad: f64,
    north_rad: f64,
) -> Option<[f64; 3]> {
    let g = Geodetic::from_ecef_m(platform_ecef_m).ok()?;
    let (se, ce) = east_rad.sin_cos();
    let (sn, cn) = north_rad.sin_cos();
    let down = vec3::scale(g.up_ecef(), -1.0);
    Some(vec3::add(
        vec3::scale(
            vec3::add(vec3::scale(down, ce), vec3::scale(g.east_ecef(), se)),
            cn,
        ),
        vec3::scale(g.north_ecef(), sn),
    ))
}

/// The geodesic between two points on the ellipsoid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroundLine {
    pub distance_m: f64,
    /// Azimuth at the first point, clockwise from north (degrees, (−180, 180]).
    pub azimuth1_deg: f64,
    /// Forward azimuth at the second point (degrees).
    pub azimuth2_deg: f64,
}

/// Ground distance and azimuths between two surface points (geodesic inverse problem, Karney
/// 2013, "Algorithms for geodesics").
pub fn ground_line(a: &Geodetic, b: &Geodetic) -> GroundLine {
    let g = Geodesic::wgs84();
    let (s12, azi1, azi2, _a12): (f64, f64, f64, f64) =
        g.inverse(a.lat_deg(), a.lon_deg(), b.lat_deg(), b.lon_deg());
    GroundLine {
        distance_m: s12,
        azimuth1_deg: azi1,
        azimuth2_deg: azi2,
    }
}

/// The point at `distance_m` along azimuth `azimuth_deg` from `a` (geodesic direct problem).
pub fn ground_destination(a: &Geodetic, azimuth_deg: f64, distance_m: f64) -> Geodetic {
    use geographiclib_rs::DirectGeodesic;
    let g = Geodesic::wgs84();
    let (lat2, lon2): (f64, f64) = g.direct(a.lat_deg(), a.lon_deg(), azimuth_deg, distance_m);
    Geodetic {
        lat_rad: lat2.to_radians(),
        lon_rad: lon2.to_radians(),
        h_m: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_geodetic_input_is_an_error_not_a_panic() {
        assert!(Geodetic::from_deg(91.0, 0.0, 0.0).is_err());
        assert!(Geodetic::from_deg(f64::NAN, 0.0, 0.0).is_err());
        assert!(Geodetic::from_deg(0.0, f64::INFINITY, 0.0).is_err());
        assert!(Geodetic::from_ecef_m([f64::NAN, 0.0, 0.0]).is_err());
        assert!(Geodetic::from_ecef_m([1e12, 0.0, 0.0]).is_err());
        let g = Geodetic::from_deg(10.0, 540.0, 0.0).expect("valid");
        assert!((g.lon_deg() - 180.0).abs() < 1e-12);
    }

    #[test]
    fn look_angles_point_the_right_way() {
        let site = Site::new(Geodetic::from_deg(40.0, 140.0, 0.0).expect("valid"));
        // A point straight up.
        let up = Geodetic::from_deg(40.0, 140.0, 100_000.0)
            .expect("valid")
            .to_ecef();
        let l = site.look(&up);
        assert!((l.el_rad - std::f64::consts::FRAC_PI_2).abs() < 1e-9);
        assert!((l.range_m - 100_000.0).abs() < 1e-6);
        // A point due east, slightly: azimuth ≈ 90°.
        let east = Geodetic::from_deg(40.0, 140.5, 10_000.0)
            .expect("valid")
            .to_ecef();
        assert!((site.look(&east).az_rad.to_degrees() - 90.0).abs() < 0.5);
        // Round trip through point_at.
        let back = site.point_at(l.range_m, l.az_rad, l.el_rad);
        assert!(vec3::norm(vec3::sub(ecef_m(&back), ecef_m(&up))) < 1e-6);
    }

    #[test]
    fn line_of_sight_is_blocked_by_the_earth() {
        let a = Geodetic::from_deg(0.0, 0.0, 10.0)
            .expect("valid")
            .to_ecef_m();
        let b = Geodetic::from_deg(0.0, 180.0, 10.0)
            .expect("valid")
            .to_ecef_m();
        assert!(!line_of_sight(a, b, 0.0));
        let c = Geodetic::from_deg(0.0, 5.0, 500_000.0)
            .expect("valid")
            .to_ecef_m();
        assert!(line_of_sight(a, c, 0.0));
        // Just below the geometric horizon of a 500 km object is blocked.
        let d = Geodetic::from_deg(0.0, 30.0, 500_000.0)
            .expect("valid")
            .to_ecef_m();
        assert!(!line_of_sight(a, d, 0.0));
    }

    #[test]
    fn nadir_bearings_round_trip_and_are_small_for_a_staring_geo_sensor() {
        let geo = Geodetic::from_deg(0.0, 128.0, 35_786e3)
            .expect("valid")
            .to_ecef_m();
        let target = Geodetic::from_deg(40.0, 127.0, 50e3)
            .expect("valid")
            .to_ecef_m();
        let (e, n) = nadir_bearings(geo, target).expect("converts");
        assert!(e.abs() < 0.2 && n > 0.0 && n < 0.2, "{e} {n}");
        let los = nadir_line_of_sight(geo, e, n).expect("converts");
        let want = vec3::unit(vec3::sub(target, geo));
        assert!(vec3::norm(vec3::sub(los, want)) < 1e-12);
    }

    #[test]
    fn fast_height_matches_the_exact_conversion() {
        for (lat, lon, h) in [
            (0.0, 0.0, 0.0),
            (45.0, 10.0, 1234.5),
            (89.9, -70.0, 4.0e6),
            (-30.0, 100.0, -900.0),
            (90.0, 0.0, 100.0),
        ] {
            let g = Geodetic::from_deg(lat, lon, h).expect("valid");
            let got = height_above_ellipsoid_m(g.to_ecef_m());
            assert!((got - h).abs() < 1e-4, "{lat},{lon},{h}: {got}");
        }
    }
}
