//! Equations of motion in the rotating ECEF frame.
//!
//! With ω = Ω ẑ the Earth's spin, a body's acceleration seen in ECEF is
//!   r̈ = g(r) − 2 ω × ṙ − ω × (ω × r) + a_drag + a_thrust,
//! exact for a uniformly rotating frame (no ECI needed for flights of a few hours; precession,
//! nutation and polar motion are below the simulator's other errors over that time).
//! Drag uses the air at rest in ECEF: a_drag = −ρ(h) |ṙ| ṙ / (2β), with β = m / (C_D·A) in kg/m².

use crate::atmosphere::{density_kg_m3, density_table_kg_m3};
use crate::earth::OMEGA_EARTH_RAD_S;
use crate::geodesy::radial_height_m;
use crate::gravity::{self, GravityModel};
use crate::integrator::Dynamics;
use crate::vec3;

/// Which forces act on an unpowered body.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ForceModel {
    pub gravity: GravityModel,
    /// Include Coriolis and centrifugal terms (the frame rotates). Off only for closed-form
    /// checks in an inertial frame.
    pub earth_rotation: bool,
    /// Ballistic coefficient β = m/(C_D·A) in kg/m²; `None` for no drag.
    pub beta_kg_m2: Option<f64>,
    /// How the air density is evaluated.
    pub air: Air,
}

/// The US Standard Atmosphere 1976 from its formulas (the simulator's truth), or tabulated
/// (within 1.3·10⁻⁶ of them and several times faster: for estimators' flights).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Air {
    Standard,
    Tabulated,
}

impl Air {
    /// Density (kg/m³) at geometric altitude `h_m`.
    #[inline]
    pub fn density_kg_m3(self, h_m: f64) -> f64 {
        match self {
            Air::Standard => density_kg_m3(h_m),
            Air::Tabulated => density_table_kg_m3(h_m),
        }
    }
}

impl ForceModel {
    /// J2 gravity, rotating Earth, no drag.
    pub const VACUUM: ForceModel = ForceModel {
        gravity: GravityModel::J2,
        earth_rotation: true,
        beta_kg_m2: None,
        air: Air::Standard,
    };

    /// J2 gravity, rotating Earth and drag with the given ballistic coefficient.
    pub fn with_drag(beta_kg_m2: f64) -> Self {
        Self {
            beta_kg_m2: Some(beta_kg_m2),
            ..Self::VACUUM
        }
    }

    /// [`ForceModel::with_drag`] with the tabulated atmosphere ([`Air::Tabulated`]).
    pub fn with_tabulated_drag(beta_kg_m2: f64) -> Self {
        Self {
            air: Air::Tabulated,
            ..Self::with_drag(beta_kg_m2)
        }
    }

    /// Acceleration (m/s²) in ECEF of a body at `r` (m) moving at `v` (m/s) relative to ECEF.
    #[inline]
    pub fn acceleration(&self, r: [f64; 3], v: [f64; 3]) -> [f64; 3] {
        let mut a = gravity::acceleration(self.gravity, r);
        if self.earth_rotation {
            let w = OMEGA_EARTH_RAD_S;
            a[0] += 2.0 * w * v[1] + w * w * r[0];
            a[1] += -2.0 * w * v[0] + w * w * r[1];
        }
        if let Some(beta) = self.beta_kg_m2 {
            a = vec3::add(a, drag_acceleration_in(self.air, beta, r, v));
        }
        a
    }

    /// The Jacobi integral C = ½|v|² − ½|ω × r|² + U(r): constant along a drag-free,
    /// thrust-free trajectory in the rotating frame (energy in the rotating frame).
    pub fn jacobi_integral(&self, y: &[f64; 6]) -> f64 {
        let (r, v) = vec3::split(y);
        let w = if self.earth_rotation {
            OMEGA_EARTH_RAD_S
        } else {
            0.0
        };
        0.5 * vec3::dot(v, v) - 0.5 * w * w * (r[0] * r[0] + r[1] * r[1])
            + gravity::potential(self.gravity, r)
    }
}

/// Drag acceleration (m/s²) for ballistic coefficient `beta_kg_m2`. Zero above 2,000 km where
/// the tabulated atmosphere ends.
#[inline]
pub fn drag_acceleration(beta_kg_m2: f64, r: [f64; 3], v: [f64; 3]) -> [f64; 3] {
    drag_acceleration_in(Air::Standard, beta_kg_m2, r, v)
}

/// [`drag_acceleration`] with the density evaluated as `air` says.
#[inline]
pub fn drag_acceleration_in(air: Air, beta_kg_m2: f64, r: [f64; 3], v: [f64; 3]) -> [f64; 3] {
    let r2 = vec3::dot(r, r);
    // Cheap reject: everything above ~2,000 km has no drag worth computing.
    if r2 > 8.4e6 * 8.4e6 {
        return [0.0; 3];
    }
    // The radial height is within 2 m of the geodetic one where the air is (trig-free).
    let rho = air.density_kg_m3(radial_height_m(r));
    let speed = vec3::norm(v);
    vec3::scale(v, -0.5 * rho * speed / beta_kg_m2)
}

/// An unpowered body under a [`ForceModel`], for the integrator.
#[derive(Clone, Copy, Debug)]
pub struct BallisticDynamics(pub ForceModel);

impl Dynamics for BallisticDynamics {
    #[inline]
    fn derivative(&self, _t_s: f64, y: &[f64; 6]) -> [f64; 6] {
        let (r, v) = vec3::split(y);
        let a = self.0.acceleration(r, v);
        [v[0], v[1], v[2], a[0], a[1], a[2]]
    }
}

/// Velocity relative to an inertial frame momentarily aligned with ECEF: v_i = v + ω × r.
pub fn inertial_velocity(r: [f64; 3], v: [f64; 3]) -> [f64; 3] {
    let w = OMEGA_EARTH_RAD_S;
    [v[0] - w * r[1], v[1] + w * r[0], v[2]]
}

/// ECEF velocity of a body given its inertial velocity (inverse of [`inertial_velocity`]).
pub fn ecef_velocity(r: [f64; 3], v_inertial: [f64; 3]) -> [f64; 3] {
    let w = OMEGA_EARTH_RAD_S;
    [
        v_inertial[0] + w * r[1],
        v_inertial[1] - w * r[0],
        v_inertial[2],
    ]
}
