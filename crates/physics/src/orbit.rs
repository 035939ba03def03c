//! Two-body orbit elements from a state, and closed-form Kepler propagation.
//!
//! Used to classify objects (orbital vs. ballistic: does the osculating perigee clear the
//! atmosphere?), to move elliptical-orbit sensor platforms, and as an independent reference for
//! the integrator. Inertial frame: the "pseudo-inertial" frame aligned with ECEF at the
//! reference epoch t = 0, rotating back at −Ω (consistent with the ECEF dynamics).

use crate::dynamics::{ecef_velocity, inertial_velocity};
use crate::earth::{GM_M3_S2, OMEGA_EARTH_RAD_S, WGS84_A_M};
use crate::vec3::{self, cross, dot, norm};

/// Osculating two-body summary of a state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitSummary {
    /// Specific orbital energy v²/2 − μ/r (J/kg); negative for bound orbits.
    pub specific_energy_j_kg: f64,
    pub eccentricity: f64,
    pub semi_major_axis_m: f64,
    /// Perigee and apogee heights above the equatorial radius (m). Apogee is infinite for
    /// escape trajectories.
    pub perigee_alt_m: f64,
    pub apogee_alt_m: f64,
    pub inclination_rad: f64,
}

/// Osculating elements of a body at ECEF `r` (m) with ECEF velocity `v` (m/s).
pub fn summarize(r: [f64; 3], v: [f64; 3]) -> OrbitSummary {
    let vi = inertial_velocity(r, v);
    let rn = norm(r);
    let energy = 0.5 * dot(vi, vi) - GM_M3_S2 / rn;
    let h = cross(r, vi);
    let hn = norm(h);
    let evec = vec3::sub(
        vec3::scale(cross(vi, h), 1.0 / GM_M3_S2),
        vec3::scale(r, 1.0 / rn),
    );
    let e = norm(evec);
    let p = hn * hn / GM_M3_S2;
    let rp = p / (1.0 + e);
    let (a, ra) = if energy < 0.0 {
        let a = -GM_M3_S2 / (2.0 * energy);
        (a, a * (1.0 + e))
    } else {
        (f64::INFINITY, f64::INFINITY)
    };
    OrbitSummary {
        specific_energy_j_kg: energy,
        eccentricity: e,
        semi_major_axis_m: a,
        perigee_alt_m: rp - WGS84_A_M,
        apogee_alt_m: ra - WGS84_A_M,
        inclination_rad: (h[2] / hn).clamp(-1.0, 1.0).acos(),
    }
}

/// Classical elements of an elliptical orbit in the pseudo-inertial frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeplerOrbit {
    pub semi_major_axis_m: f64,
    pub eccentricity: f64,
    pub inclination_rad: f64,
    pub raan_rad: f64,
    pub arg_perigee_rad: f64,
    /// Mean anomaly at t = 0.
    pub mean_anomaly_rad: f64,
}

impl KeplerOrbit {
    pub fn mean_motion_rad_s(&self) -> f64 {
        (GM_M3_S2 / self.semi_major_axis_m.powi(3)).sqrt()
    }

    /// Solves Kepler's equation M = E − e sin E by Newton's method.
    pub fn eccentric_anomaly(&self, mean_anomaly_rad: f64) -> f64 {
        let e = self.eccentricity;
        let m = mean_anomaly_rad.rem_euclid(std::f64::consts::TAU);
        let mut ea = if e < 0.8 { m } else { std::f64::consts::PI };
        for _ in 0..50 {
            let d = (ea - e * ea.sin() - m) / (1.0 - e * ea.cos());
            ea -= d;
            if d.abs() < 1e-15 {
                break;
            }
        }
        ea
    }

    /// Inertial position and velocity at `t_s` seconds after the reference epoch.
    pub fn state_inertial(&self, t_s: f64) -> ([f64; 3], [f64; 3]) {
        let a = self.semi_major_axis_m;
        let e = self.eccentricity;
        let n = self.mean_motion_rad_s();
        let ea = self.eccentric_anomaly(self.mean_anomaly_rad + n * t_s);
        let (se, ce) = ea.sin_cos();
        let b = a * (1.0 - e * e).sqrt();
        // Perifocal frame.
        let xp = a * (ce - e);
        let yp = b * se;
        let rdot = n * a / (1.0 - e * ce);
        let vxp = -rdot * se;
        let vyp = rdot * (1.0 - e * e).sqrt() * ce;
        let (so, co) = self.raan_rad.sin_cos();
        let (si, ci) = self.inclination_rad.sin_cos();
        let (sw, cw) = self.arg_perigee_rad.sin_cos();
        let p = [co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si];
        let q = [-co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si];
        (
            vec3::add(vec3::scale(p, xp), vec3::scale(q, yp)),
            vec3::add(vec3::scale(p, vxp), vec3::scale(q, vyp)),
        )
    }

    /// ECEF position and velocity at `t_s` (the Earth has turned by Ω·t since t = 0).
    pub fn state_ecef(&self, t_s: f64) -> ([f64; 3], [f64; 3]) {
        let (ri, vi) = self.state_inertial(t_s);
        let (s, c) = (OMEGA_EARTH_RAD_S * t_s).sin_cos();
        let rot = |x: [f64; 3]| [c * x[0] + s * x[1], -s * x[0] + c * x[1], x[2]];
        let r = rot(ri);
        (r, ecef_velocity(r, rot(vi)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_orbit_summary_is_circular() {
        let r = WGS84_A_M + 500e3;
        let vc = (GM_M3_S2 / r).sqrt();
        let ri = [r, 0.0, 0.0];
        let v = ecef_velocity(ri, [0.0, vc, 0.0]);
        let s = summarize(ri, v);
        assert!(s.eccentricity < 1e-12);
        assert!((s.perigee_alt_m - 500e3).abs() < 1e-3);
        assert!(s.inclination_rad.abs() < 1e-12);
    }

    #[test]
    fn kepler_state_round_trips_through_summary() {
        let k = KeplerOrbit {
            semi_major_axis_m: 26_554e3,
            eccentricity: 0.72,
            inclination_rad: 63.4f64.to_radians(),
            raan_rad: 1.0,
            arg_perigee_rad: 270f64.to_radians(),
            mean_anomaly_rad: 0.3,
        };
        for t in [0.0, 1000.0, 20_000.0] {
            let (r, v) = k.state_ecef(t);
            let s = summarize(r, v);
            assert!((s.eccentricity - 0.72).abs() < 1e-9);
            assert!((s.semi_major_axis_m - 26_554e3).abs() < 1e-3);
            assert!((s.inclination_rad - 63.4f64.to_radians()).abs() < 1e-9);
        }
    }
}
