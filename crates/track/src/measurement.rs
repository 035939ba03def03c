//! Measurement models: radar range/azimuth/elevation (optional range rate) in the site's ENU
//! frame, and space-infrared bearings off nadir. Each maps the ECEF state to what the sensor
//! reports (`h(x)`), with the sensor's noise and the wrap-around of angles.

use tripoint_core::{Detection, Measurement, Nation, SensorId};
use tripoint_physics::vec3;
use tripoint_physics::Geodetic;

use crate::state::StateVector;
use crate::TrackError;

/// A local frame: origin and east, north, up unit vectors in ECEF.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalFrame {
    pub origin: [f64; 3],
    pub east: [f64; 3],
    pub north: [f64; 3],
    pub up: [f64; 3],
}

impl LocalFrame {
    /// The geodetic ENU frame at an ECEF point.
    pub fn at(origin: [f64; 3]) -> Result<Self, TrackError> {
        let g = Geodetic::from_ecef_m(origin)
            .map_err(|e| TrackError::BadSensorPosition(e.to_string()))?;
        Ok(Self {
            origin,
            east: g.east_ecef(),
            north: g.north_ecef(),
            up: g.up_ecef(),
        })
    }
}

/// What an observation measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ObservationKind {
    /// z = [range, az, el] or [range, az, el, range rate].
    Radar { range_rate: bool },
    /// z = [east, north] angles off nadir.
    Bearings,
}

/// A detection ready for the filter: measurement vector, noise and sensor geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub t_s: f64,
    pub sensor: SensorId,
    pub owner: Nation,
    pub kind: ObservationKind,
    /// Measurement components (only the first `dim()` are used).
    pub z: [f64; 4],
    /// One-sigma noise of each component.
    pub sigma: [f64; 4],
    pub frame: LocalFrame,
}

/// The largest radar range an observation may have (m): 100 000 km, far beyond any sensor.
pub const MAX_RANGE_M: f64 = 1e8;
/// The largest radar range rate an observation may have (m/s).
pub const MAX_RANGE_RATE_M_S: f64 = 1e5;
/// Where a sensor, or a tracked object, can be: its distance from the Earth's centre (m), from
/// 6 000 km (below the lowest ground) to 10⁸ m (beyond any sensor's orbit).
pub const PLAUSIBLE_RADIUS_M: std::ops::RangeInclusive<f64> = 6.0e6..=1e8;

impl Observation {
    /// Converts a detection; `t_s` is its time relative to the tracker's reference epoch.
    pub fn from_detection(
        d: &Detection,
        t_s: f64,
        owner: Nation,
        frame: LocalFrame,
    ) -> Result<Self, TrackError> {
        let n = d.noise;
        let (kind, z, sigma) = match d.measurement {
            Measurement::Radar {
                range_m,
                az_rad,
                el_rad,
                range_rate_m_s,
            } => match range_rate_m_s {
                Some(rr) => (
                    ObservationKind::Radar { range_rate: true },
                    [range_m, az_rad, el_rad, rr],
                    [
                        n.sigma_range_m,
                        n.sigma_az_rad,
                        n.sigma_el_rad,
                        n.sigma_range_rate_m_s,
                    ],
                ),
                None => (
                    ObservationKind::Radar { range_rate: false },
                    [range_m, az_rad, el_rad, 0.0],
                    [n.sigma_range_m, n.sigma_az_rad, n.sigma_el_rad, 1.0],
                ),
            },
            Measurement::Bearings {
                east_rad,
                north_rad,
            } => (
                ObservationKind::Bearings,
                [east_rad, north_rad, 0.0, 0.0],
                [n.sigma_az_rad, n.sigma_el_rad, 1.0, 1.0],
            ),
        };
        let o = Self {
            t_s,
            sensor: d.sensor.clone(),
            owner,
            kind,
            z,
            sigma,
            frame,
        };
        o.validate()?;
        Ok(o)
    }

    /// Refuses non-finite values, non-positive noise (or noise whose variance is not a normal
    /// number) and impossible values: a range outside (0, [`MAX_RANGE_M`]], an azimuth beyond
    /// ±2π, an elevation beyond ±π, a range rate beyond ±[`MAX_RANGE_RATE_M_S`], a bearing
    /// beyond ±π.
    pub fn validate(&self) -> Result<(), TrackError> {
        let dim = self.dim();
        if !self.t_s.is_finite() {
            return Err(TrackError::NotFinite("time"));
        }
        if self.z[..dim].iter().any(|v| !v.is_finite()) {
            return Err(TrackError::NotFinite("measurement"));
        }
        // Positive, and a variance that is a normal number (a sigma of 1e300 squares to ∞).
        if self.sigma[..dim]
            .iter()
            .any(|s| !(s.is_finite() && *s > 0.0 && (s * s).is_normal()))
        {
            return Err(TrackError::BadNoise);
        }
        let out = |what, value: f64, range| TrackError::OutOfRange { what, value, range };
        // The sensor's frame: an origin between 6 000 km and 10⁸ m from the Earth's centre
        // (ground, sea, air or orbit), and orthonormal axes.
        let f = &self.frame;
        let r = vec3::norm(f.origin);
        if !PLAUSIBLE_RADIUS_M.contains(&r) {
            return Err(out(
                "sensor distance from the Earth's centre (m)",
                r,
                "6e6 to 1e8",
            ));
        }
        let axes = [f.east, f.north, f.up];
        for (i, a) in axes.iter().enumerate() {
            let n = vec3::norm(*a);
            if n.is_nan() || (n - 1.0).abs() > 1e-6 {
                return Err(out("sensor frame axis length", n, "1 ± 1e-6"));
            }
            for b in &axes[i + 1..] {
                let c = vec3::dot(*a, *b);
                if c.is_nan() || c.abs() > 1e-6 {
                    return Err(out("sensor frame axes' cosine", c, "|cos| ≤ 1e-6"));
                }
            }
        }
        use std::f64::consts::{PI, TAU};
        match self.kind {
            ObservationKind::Radar { range_rate } => {
                let (r, az, el) = (self.z[0], self.z[1], self.z[2]);
                if !(r > 0.0 && r <= MAX_RANGE_M) {
                    return Err(out("range (m)", r, "0 < r ≤ 1e8"));
                }
                if az.abs() > TAU {
                    return Err(out("azimuth (rad)", az, "|az| ≤ 2π"));
                }
                // Past the zenith by its noise is a real detection (the sim does not clamp it,
                // nor does a radar's estimator): only beyond the horizon behind is impossible.
                if el.abs() > PI {
                    return Err(out("elevation (rad)", el, "|el| ≤ π"));
                }
                if range_rate && self.z[3].abs() > MAX_RANGE_RATE_M_S {
                    return Err(out("range rate (m/s)", self.z[3], "|ṙ| ≤ 1e5"));
                }
            }
            ObservationKind::Bearings => {
                for (what, v) in [
                    ("east angle (rad)", self.z[0]),
                    ("north angle (rad)", self.z[1]),
                ] {
                    if v.abs() > PI {
                        return Err(out(what, v, "|angle| ≤ π"));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn dim(&self) -> usize {
        match self.kind {
            ObservationKind::Radar { range_rate: true } => 4,
            ObservationKind::Radar { range_rate: false } => 3,
            ObservationKind::Bearings => 2,
        }
    }

    /// Which components are angles that wrap at ±π.
    pub fn is_angle(&self, i: usize) -> bool {
        match self.kind {
            ObservationKind::Radar { .. } => i == 1,
            ObservationKind::Bearings => i == 0,
        }
    }

    /// h(x): the measurement the state would produce.
    #[inline]
    pub fn predict(&self, x: &StateVector) -> [f64; 4] {
        let r = [x[0], x[1], x[2]];
        let f = &self.frame;
        let d = vec3::sub(r, f.origin);
        match self.kind {
            ObservationKind::Radar { range_rate } => {
                let e = vec3::dot(d, f.east);
                let n = vec3::dot(d, f.north);
                let u = vec3::dot(d, f.up);
                let range = vec3::norm(d);
                let az = e.atan2(n).rem_euclid(std::f64::consts::TAU);
                let el = u.atan2(e.hypot(n));
                let rr = if range_rate {
                    vec3::dot(d, [x[3], x[4], x[5]]) / range.max(1e-6)
                } else {
                    0.0
                };
                [range, az, el, rr]
            }
            ObservationKind::Bearings => {
                let los = vec3::unit(d);
                let down = vec3::scale(f.up, -1.0);
                let east = vec3::dot(los, f.east).atan2(vec3::dot(los, down));
                let north = vec3::dot(los, f.north).clamp(-1.0, 1.0).asin();
                [east, north, 0.0, 0.0]
            }
        }
    }

    /// Residual z − h with angles wrapped to (−π, π].
    pub fn residual(&self, z: &[f64; 4], h: &[f64; 4]) -> [f64; 4] {
        let mut r = [0.0; 4];
        for i in 0..self.dim() {
            r[i] = z[i] - h[i];
            // Residuals are almost always inside (−π, π]: exact as they are, and no `fmod`.
            if self.is_angle(i) && !(-std::f64::consts::PI < r[i] && r[i] <= std::f64::consts::PI) {
                r[i] = (r[i] + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU)
                    - std::f64::consts::PI;
            }
        }
        r
    }

    /// For bearings: the measured unit line of sight in ECEF (inverse of the nadir angles of
    /// [`Observation::predict`]). `None` for radar observations.
    pub fn line_of_sight(&self) -> Option<[f64; 3]> {
        let ObservationKind::Bearings = self.kind else {
            return None;
        };
        let f = &self.frame;
        let (se, ce) = self.z[0].sin_cos();
        let (sn, cn) = self.z[1].sin_cos();
        Some(std::array::from_fn(|i| {
            cn * (-ce * f.up[i] + se * f.east[i]) + sn * f.north[i]
        }))
    }

    /// For a radar: the measured position in ECEF and its covariance (linearised), used to start
    /// tracks. `None` for bearings-only observations.
    pub fn position_ecef(&self) -> Option<([f64; 3], nalgebra::Matrix3<f64>)> {
        let ObservationKind::Radar { .. } = self.kind else {
            return None;
        };
        let f = &self.frame;
        let (range, az, el) = (self.z[0], self.z[1], self.z[2]);
        let (sa, ca) = az.sin_cos();
        let (se, ce) = el.sin_cos();
        let enu = [range * ce * sa, range * ce * ca, range * se];
        let p = vec3::add(
            f.origin,
            vec3::add(
                vec3::scale(f.east, enu[0]),
                vec3::add(vec3::scale(f.north, enu[1]), vec3::scale(f.up, enu[2])),
            ),
        );
        // ∂enu/∂(range, az, el).
        let j = nalgebra::Matrix3::new(
            ce * sa,
            range * ce * ca,
            -range * se * sa,
            ce * ca,
            -range * ce * sa,
            -range * se * ca,
            se,
            0.0,
            range * ce,
        );
        let r = nalgebra::Matrix3::from_diagonal(&nalgebra::Vector3::new(
            self.sigma[0].powi(2),
            self.sigma[1].powi(2),
            self.sigma[2].powi(2),
        ));
        let rot = nalgebra::Matrix3::new(
            f.east[0], f.north[0], f.up[0], f.east[1], f.north[1], f.up[1], f.east[2], f.north[2],
            f.up[2],
        );
        let m = rot * j;
        Some((p, m * r * m.transpose()))
    }
}
