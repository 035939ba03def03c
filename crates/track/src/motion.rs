//! Motion models by flight phase (Li & Jilkov, "Survey of maneuvering target tracking. Part II:
//! motion models of ballistic and space targets", IEEE TAES 46(1), 2010).
//!
//! All three act on the same 10-state (see [`crate::state`]), so an IMM can mix them:
//! - **Boost**: ṙ = v, v̇ = g(r) + a_fict(r, v) + a, ȧ = w (white jerk): the thrust acceleration
//!   is a random walk; drag is absorbed in a.
//! - **Free flight**: ṙ = v, v̇ = g(r) + a_fict(r, v) + a_drag(c), a ≡ 0, c nearly constant.
//! - **Re-entry**: as free flight, with c = 1000/β a random walk so drag can be learnt.
//!
//! g is central + J2 gravity, a_fict the Coriolis and centrifugal terms of the rotating ECEF
//! frame, a_drag = −ρ(h)|v|v·c/2000 (US Standard Atmosphere 1976, tabulated).
//! Propagation is classic RK4 with sub-steps of at most `MAX_SUBSTEP_S`; the EKF's transition
//! matrix Φ = ∂x(t+Δt)/∂x(t) is the third-order expansion of the variational equation
//! Φ̇ = A(x)Φ per sub-step, with A's gravity gradient analytic (point mass; J2's gradient,
//! 10⁻³ of it, neglected).

use nalgebra::{Matrix3, SMatrix};
use tripoint_physics::atmosphere::density_table_kg_m3;
use tripoint_physics::earth::{GM_M3_S2, OMEGA_EARTH_RAD_S};
use tripoint_physics::geodesy::radial_height_m;
use tripoint_physics::gravity::{self, GravityModel};

use crate::state::{Covariance, StateVector, ACC, DRAG, N, POS, VEL};

/// The states an unpowered model's transition acts on: position, velocity, drag.
const UNPOWERED: [usize; 7] = [0, 1, 2, 3, 4, 5, DRAG];

/// Largest RK4 sub-step (s).
pub const MAX_SUBSTEP_S: f64 = 2.0;

/// The longest propagation a model takes (s): a day. Beyond it (or for a non-finite span) the
/// result is not a number, at once, instead of 10¹⁸ sub-steps.
pub const MAX_PROPAGATION_S: f64 = 86_400.0;

/// Number and length of the RK4 sub-steps over `dt` (either sign); one step of NaN for a span
/// that is not finite or longer than [`MAX_PROPAGATION_S`].
fn substeps(dt: f64) -> (usize, f64) {
    if dt.is_nan() || dt.abs() > MAX_PROPAGATION_S {
        return (1, f64::NAN);
    }
    let n = ((dt.abs() / MAX_SUBSTEP_S).ceil() as usize).max(1);
    (n, dt / n as f64)
}

/// A flight-phase model with its process noise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MotionModel {
    Boost {
        /// Spectral density of the thrust-acceleration random walk ((m/s²)²/s).
        q_accel: f64,
        /// Spectral density of unmodelled acceleration on velocity ((m/s²)²/s).
        q_vel: f64,
    },
    FreeFlight {
        q_vel: f64,
        q_drag: f64,
    },
    Reentry {
        q_vel: f64,
        q_drag: f64,
    },
}

impl MotionModel {
    pub const BOOST: MotionModel = MotionModel::Boost {
        q_accel: 4.0,
        q_vel: 1.0,
    };
    pub const FREE_FLIGHT: MotionModel = MotionModel::FreeFlight {
        q_vel: 1e-2,
        q_drag: 1e-6,
    };
    /// Free flight once the boost model has retired (the object's boost is over for good):
    /// gravity with J2 and drag is then the whole of the dynamics above the atmosphere, and
    /// only their residuals remain. The boost-time [`MotionModel::FREE_FLIGHT`]'s 10⁻² (which
    /// absorbs the end of the boost and the mixing with the boost model) had made the velocity
    /// covariance about twice the real errors at burnout + 60 s (NEES about 3 for 6 states on
    /// the lofted ICBM); `score --monte-carlo` on icbm-lofted and irbm-overflight chose
    /// 3·10⁻⁴, below which the impact ellipses no longer shrink (the README has the figures).
    pub const COAST: MotionModel = MotionModel::FreeFlight {
        q_vel: 3e-4,
        q_drag: 1e-6,
    };
    pub const REENTRY: MotionModel = MotionModel::Reentry {
        q_vel: 0.25,
        q_drag: 0.05,
    };

    pub fn name(&self) -> &'static str {
        match self {
            MotionModel::Boost { .. } => "boost",
            MotionModel::FreeFlight { .. } => "free_flight",
            MotionModel::Reentry { .. } => "reentry",
        }
    }

    fn thrusting(&self) -> bool {
        matches!(self, MotionModel::Boost { .. })
    }

    /// Time derivative of the state.
    #[inline]
    pub fn derivative(&self, x: &StateVector) -> StateVector {
        let r = [x[0], x[1], x[2]];
        let v = [x[3], x[4], x[5]];
        let g = gravity::acceleration(GravityModel::J2, r);
        let w = OMEGA_EARTH_RAD_S;
        let mut a = [
            g[0] + 2.0 * w * v[1] + w * w * r[0],
            g[1] - 2.0 * w * v[0] + w * w * r[1],
            g[2],
        ];
        if self.thrusting() {
            a[0] += x[ACC];
            a[1] += x[ACC + 1];
            a[2] += x[ACC + 2];
        } else {
            let k = drag_factor(x);
            a[0] -= k * v[0];
            a[1] -= k * v[1];
            a[2] -= k * v[2];
        }
        let mut d = StateVector::zeros();
        d[0] = v[0];
        d[1] = v[1];
        d[2] = v[2];
        d[3] = a[0];
        d[4] = a[1];
        d[5] = a[2];
        d
    }

    /// Jacobian A = ∂ẋ/∂x.
    fn jacobian(&self, x: &StateVector) -> Covariance {
        let mut a = Covariance::zeros();
        for i in 0..3 {
            a[(POS + i, VEL + i)] = 1.0;
        }
        let r = nalgebra::Vector3::new(x[0], x[1], x[2]);
        let rn = r.norm();
        // Point-mass gravity gradient: μ/r³ (3 r̂ r̂ᵀ − I).
        let rh = r / rn;
        let gg = (rh * rh.transpose() * 3.0 - Matrix3::identity()) * (GM_M3_S2 / (rn * rn * rn));
        let w = OMEGA_EARTH_RAD_S;
        for i in 0..3 {
            for j in 0..3 {
                a[(VEL + i, POS + j)] = gg[(i, j)];
            }
        }
        a[(VEL, POS)] += w * w;
        a[(VEL + 1, POS + 1)] += w * w;
        a[(VEL, VEL + 1)] += 2.0 * w;
        a[(VEL + 1, VEL)] -= 2.0 * w;
        if self.thrusting() {
            for i in 0..3 {
                a[(VEL + i, ACC + i)] = 1.0;
            }
        } else {
            // Drag: a_d = −k(c, h) |v| v with k ∝ c; ∂a_d/∂v = −k(|v| I + v vᵀ/|v|), ∂a_d/∂c.
            let v = nalgebra::Vector3::new(x[3], x[4], x[5]);
            let vn = v.norm();
            let k = drag_factor(x) / vn.max(1e-9);
            if k > 0.0 && vn > 0.0 {
                let dv = (Matrix3::identity() * vn + v * v.transpose() / vn) * (-k);
                for i in 0..3 {
                    for j in 0..3 {
                        a[(VEL + i, VEL + j)] += dv[(i, j)];
                    }
                    a[(VEL + i, DRAG)] = -k * vn * v[i] / x[DRAG].max(1e-6);
                }
            }
        }
        a
    }

    /// Propagates a mean over `dt` seconds (either sign).
    pub fn propagate(&self, x: &StateVector, dt: f64) -> StateVector {
        let mut y = *x;
        if !self.thrusting() {
            for i in 0..3 {
                y[ACC + i] = 0.0;
            }
        }
        let (n, h) = substeps(dt);
        for _ in 0..n {
            y = self.rk4_step(&y, h).0;
        }
        y
    }

    /// One classic RK4 step of `h` seconds from `y`: the new state, and the midpoint estimate
    /// y + k₁h/2 at which the transition's Jacobian is taken.
    #[inline]
    fn rk4_step(&self, y: &StateVector, h: f64) -> (StateVector, StateVector) {
        let k1 = self.derivative(y);
        let y2 = y + k1 * (0.5 * h);
        let k2 = self.derivative(&y2);
        let k3 = self.derivative(&(y + k2 * (0.5 * h)));
        let k4 = self.derivative(&(y + k3 * h));
        (y + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0), y2)
    }

    /// Propagates a mean and its transition matrix Φ over `dt`: RK4 for the mean, and per
    /// sub-step Φ_k = I + AΔt + (AΔt)²/2 + (AΔt)³/6 with A at the sub-step's midpoint (third
    /// order: exact for the thrust → velocity → position chain).
    pub fn propagate_with_transition(&self, x: &StateVector, dt: f64) -> (StateVector, Covariance) {
        if self.thrusting() {
            self.propagate_with_transition_dense(x, dt)
        } else {
            self.propagate_with_transition_unpowered(x, dt)
        }
    }

    /// [`MotionModel::propagate_with_transition`] on the whole state (any model).
    pub fn propagate_with_transition_dense(
        &self,
        x: &StateVector,
        dt: f64,
    ) -> (StateVector, Covariance) {
        let mut y = *x;
        let mut phi = Covariance::identity();
        if !self.thrusting() {
            for i in 0..3 {
                y[ACC + i] = 0.0;
                phi[(ACC + i, ACC + i)] = 0.0;
            }
        }
        let (n, h) = substeps(dt);
        for _ in 0..n {
            let (next, y2) = self.rk4_step(&y, h);
            // A's last four rows are zero (a and c have no dynamics), so every power of AΔt is
            // zero there too and the products need only the top six rows: B = (AΔt)[0..6, :],
            // (AΔt)² = B[:, 0..6]·B, (AΔt)³ = (AΔt)²[:, 0..6]·B, and Φ ← Φ + S·Φ with
            // S = (step − I)[0..6, :].
            let b: SMatrix<f64, 6, N> = (self.jacobian(&y2) * h).fixed_rows::<6>(0).into_owned();
            let b2: SMatrix<f64, 6, N> = b.fixed_columns::<6>(0) * b;
            let b3: SMatrix<f64, 6, N> = b2.fixed_columns::<6>(0) * b;
            let s = b + b2 * 0.5 + b3 * (1.0 / 6.0);
            y = next;
            let sp: SMatrix<f64, 6, N> = s * phi;
            let mut top = phi.fixed_rows_mut::<6>(0);
            top += sp;
        }
        (y, phi)
    }

    /// [`MotionModel::propagate_with_transition`] without thrust: the acceleration states are
    /// zeroed and nothing depends on them, so Φ is zero in their rows and columns and the
    /// products run on the 7 states [r, v, c] (same result, about half the work).
    fn propagate_with_transition_unpowered(
        &self,
        x: &StateVector,
        dt: f64,
    ) -> (StateVector, Covariance) {
        let mut y = *x;
        for i in 0..3 {
            y[ACC + i] = 0.0;
        }
        let mut phi7 = SMatrix::<f64, 7, 7>::identity();
        let (n, h) = substeps(dt);
        for _ in 0..n {
            let (next, y2) = self.rk4_step(&y, h);
            let a = self.jacobian(&y2);
            let b = SMatrix::<f64, 6, 7>::from_fn(|i, j| a[(i, UNPOWERED[j])] * h);
            let b2: SMatrix<f64, 6, 7> = b.fixed_columns::<6>(0) * b;
            let b3: SMatrix<f64, 6, 7> = b2.fixed_columns::<6>(0) * b;
            let s = b + b2 * 0.5 + b3 * (1.0 / 6.0);
            y = next;
            let sp: SMatrix<f64, 6, 7> = s * phi7;
            let mut top = phi7.fixed_rows_mut::<6>(0);
            top += sp;
        }
        let mut phi = Covariance::zeros();
        for (i, &r) in UNPOWERED.iter().enumerate() {
            for (j, &c) in UNPOWERED.iter().enumerate() {
                phi[(r, c)] = phi7[(i, j)];
            }
        }
        (y, phi)
    }

    /// Φ P Φᵀ for a transition of this model: on [r, v, c] only when unpowered (Φ is zero in
    /// the acceleration rows and columns), on the whole state otherwise.
    pub fn transform_covariance(&self, phi: &Covariance, p: &Covariance) -> Covariance {
        if self.thrusting() {
            // Φ's last four rows are those of the identity (a and c have no dynamics), so with
            // A = Φ[0..6, :] and T = A P: ΦPΦᵀ = [[T Aᵀ, T[:, 6..]], [T[:, 6..]ᵀ, P[6.., 6..]]]
            // (half the work of the dense product).
            let a: SMatrix<f64, 6, N> = phi.fixed_rows::<6>(0).into_owned();
            let t: SMatrix<f64, 6, N> = a * p;
            let tl: nalgebra::Matrix6<f64> = t * a.transpose();
            let mut out = *p;
            out.fixed_view_mut::<6, 6>(0, 0).copy_from(&tl);
            for i in 0..6 {
                for j in 6..N {
                    out[(i, j)] = t[(i, j)];
                    out[(j, i)] = t[(i, j)];
                }
            }
            return out;
        }
        let phi7 = SMatrix::<f64, 7, 7>::from_fn(|i, j| phi[(UNPOWERED[i], UNPOWERED[j])]);
        let p7 = SMatrix::<f64, 7, 7>::from_fn(|i, j| p[(UNPOWERED[i], UNPOWERED[j])]);
        let out7 = phi7 * p7 * phi7.transpose();
        let mut out = Covariance::zeros();
        for (i, &r) in UNPOWERED.iter().enumerate() {
            for (j, &c) in UNPOWERED.iter().enumerate() {
                out[(r, c)] = out7[(i, j)];
            }
        }
        out
    }

    /// Process noise Q(Δt) of the discretised white-noise inputs (Bar-Shalom, Li & Kirubarajan,
    /// *Estimation with Applications to Tracking and Navigation*, §6.2).
    pub fn process_noise(&self, dt: f64) -> Covariance {
        let dt = dt.abs();
        let mut q = Covariance::zeros();
        let (q_vel, q_acc, q_drag) = match *self {
            MotionModel::Boost { q_accel, q_vel } => (q_vel, q_accel, 0.0),
            MotionModel::FreeFlight { q_vel, q_drag } | MotionModel::Reentry { q_vel, q_drag } => {
                (q_vel, 0.0, q_drag)
            }
        };
        for i in 0..3 {
            // White acceleration on [r, v].
            q[(POS + i, POS + i)] += q_vel * dt.powi(3) / 3.0;
            q[(POS + i, VEL + i)] += q_vel * dt.powi(2) / 2.0;
            q[(VEL + i, POS + i)] += q_vel * dt.powi(2) / 2.0;
            q[(VEL + i, VEL + i)] += q_vel * dt;
            if q_acc > 0.0 {
                // White jerk on [r, v, a].
                q[(POS + i, POS + i)] += q_acc * dt.powi(5) / 20.0;
                q[(POS + i, VEL + i)] += q_acc * dt.powi(4) / 8.0;
                q[(VEL + i, POS + i)] += q_acc * dt.powi(4) / 8.0;
                q[(POS + i, ACC + i)] += q_acc * dt.powi(3) / 6.0;
                q[(ACC + i, POS + i)] += q_acc * dt.powi(3) / 6.0;
                q[(VEL + i, VEL + i)] += q_acc * dt.powi(3) / 3.0;
                q[(VEL + i, ACC + i)] += q_acc * dt.powi(2) / 2.0;
                q[(ACC + i, VEL + i)] += q_acc * dt.powi(2) / 2.0;
                q[(ACC + i, ACC + i)] += q_acc * dt;
            } else {
                // Keep the (zeroed) acceleration slightly uncertain so mixing stays regular.
                q[(ACC + i, ACC + i)] += 1e-6;
            }
        }
        q[(DRAG, DRAG)] += q_drag * dt + 1e-12;
        q
    }
}

/// k = ρ(h)|v| c / 2000 so that a_drag = −k v.
#[inline]
fn drag_factor(x: &StateVector) -> f64 {
    let r = [x[0], x[1], x[2]];
    let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    if r2 > 6.6e6 * 6.6e6 {
        return 0.0; // above ~220 km drag is far below the process noise
    }
    let c = x[DRAG].max(0.0);
    let vn = (x[3] * x[3] + x[4] * x[4] + x[5] * x[5]).sqrt();
    density_table_kg_m3(radial_height_m(r)) * vn * c / 2000.0
}

/// Transition matrix sanity helper for tests: Φ by central differences of [`MotionModel::propagate`].
pub fn numerical_transition(m: &MotionModel, x: &StateVector, dt: f64) -> SMatrix<f64, N, N> {
    let mut phi = SMatrix::<f64, N, N>::zeros();
    for j in 0..N {
        let h = (x[j].abs() * 1e-7).max(1e-4);
        let mut xp = *x;
        let mut xm = *x;
        xp[j] += h;
        xm[j] -= h;
        let d = (m.propagate(&xp, dt) - m.propagate(&xm, dt)) / (2.0 * h);
        phi.set_column(j, &d);
    }
    phi
}
