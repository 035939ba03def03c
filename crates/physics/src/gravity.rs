//! Gravity: central term plus the J2 zonal harmonic, in ECEF (the z axis is the spin axis).
//!
//! Potential (Vallado, *Fundamentals of Astrodynamics*, 4th ed., eq. 8-22 truncated at J2):
//!   U(r) = −μ/r · [1 − J2 (a/r)² (3 z²/r² − 1)/2]
//! and acceleration g = −∇U:
//!   g_x = −μx/r³ · [1 + 1.5 J2 (a/r)² (1 − 5z²/r²)],  g_y likewise,
//!   g_z = −μz/r³ · [1 + 1.5 J2 (a/r)² (3 − 5z²/r²)].

use crate::earth::{GM_M3_S2, J2, WGS84_A_M};

/// Which gravity terms to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GravityModel {
    /// Point mass only (for closed-form checks).
    Central,
    /// Point mass plus J2 (the default).
    J2,
}

/// Gravitational acceleration (m/s²) at ECEF position `r` (m).
#[inline]
pub fn acceleration(model: GravityModel, r: [f64; 3]) -> [f64; 3] {
    let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    let rn = r2.sqrt();
    let mu_r3 = GM_M3_S2 / (r2 * rn);
    match model {
        GravityModel::Central => [-mu_r3 * r[0], -mu_r3 * r[1], -mu_r3 * r[2]],
        GravityModel::J2 => {
            let k = 1.5 * J2 * WGS84_A_M * WGS84_A_M / r2;
            let s = r[2] * r[2] / r2;
            let fxy = 1.0 + k * (1.0 - 5.0 * s);
            let fz = 1.0 + k * (3.0 - 5.0 * s);
            [-mu_r3 * r[0] * fxy, -mu_r3 * r[1] * fxy, -mu_r3 * r[2] * fz]
        }
    }
}

/// Gravitational potential energy per unit mass U (J/kg, negative), consistent with
/// [`acceleration`] (g = −∇U).
pub fn potential(model: GravityModel, r: [f64; 3]) -> f64 {
    let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    let rn = r2.sqrt();
    match model {
        GravityModel::Central => -GM_M3_S2 / rn,
        GravityModel::J2 => {
            let s = r[2] * r[2] / r2;
            -GM_M3_S2 / rn * (1.0 - 0.5 * J2 * WGS84_A_M * WGS84_A_M / r2 * (3.0 * s - 1.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// g must be −∇U: compare with central differences of the potential.
    #[test]
    fn acceleration_is_the_negative_gradient_of_the_potential() {
        for r in [
            [6.5e6, 1.0e6, 2.0e6],
            [1.0e6, -2.0e6, 6.2e6],
            [-4.0e7, 1.0e6, -3.0e6],
        ] {
            let g = acceleration(GravityModel::J2, r);
            for i in 0..3 {
                let h = 1.0;
                let mut rp = r;
                let mut rm = r;
                rp[i] += h;
                rm[i] -= h;
                let d = -(potential(GravityModel::J2, rp) - potential(GravityModel::J2, rm))
                    / (2.0 * h);
                assert!(
                    (d - g[i]).abs() < 1e-7 * g[i].abs().max(1e-3),
                    "axis {i}: {d} vs {}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn surface_gravity_is_about_9_8() {
        let g = acceleration(GravityModel::J2, [WGS84_A_M, 0.0, 0.0]);
        // Equatorial gravitation without centrifugal term: 9.814 m/s².
        assert!((g[0] + 9.814).abs() < 0.01, "{g:?}");
    }
}
