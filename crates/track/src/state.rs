//! Gaussian states of the tracker.
//!
//! The state is `x = [r (3), v (3), a (3), c]` in ECEF: position (m), velocity (m/s),
//! non-gravitational acceleration (m/s², thrust during boost), and the drag parameter
//! `c = 1000/β` (m²/t; β is the ballistic coefficient in kg/m²), scaled so all components are of
//! comparable size in the covariance.

use nalgebra::{SMatrix, SVector};

/// State dimension.
pub const N: usize = 10;
pub type StateVector = SVector<f64, N>;
pub type Covariance = SMatrix<f64, N, N>;

/// Index ranges into the state.
pub const POS: usize = 0;
pub const VEL: usize = 3;
pub const ACC: usize = 6;
pub const DRAG: usize = 9;

/// Mean of the drag parameter c of a burnt-out payload before the data constrain it (they
/// cannot above the atmosphere; the IMM restarts c from this prior at burnout there, see
/// `ImmState::restart_drag_above_the_air`). With [`DRAG_PRIOR_SIGMA_LN`], c is taken as
/// log-normal with median 0.235 (β ≈ 4 300 kg/m²) and 95 % of objects between β ≈ 1 100 and
/// 17 000 kg/m²: the span of re-entry vehicles in the open literature. Spent stages and debris
/// (β of a few hundred) lie in its tail; their drag is learnt on re-entry, where the re-entry
/// model lets c move fast. The Monte Carlo flies payloads with β drawn from the same spread
/// (`payload_beta_sigma_ln`), so that the 95 % impact ellipses are tested against objects
/// whose β the tracker does not know. A new track's c also starts at this mean.
pub const DRAG_PRIOR_MEAN: f64 = 0.3;

/// Variance of c of a new track: wide, for an object that may be a warhead, a stage or debris
/// and is usually born inside the air, where drag teaches c fast. (With the payload prior's
/// 0.057 there, spent stages, c ≈ 1.5, start 5 σ away: srbm-salvo's shortest flight was then
/// predicted 1.5–12 km off under tight ellipses in 3 of 20 runs, 0.1–0.2 km with this.)
pub const DRAG_BIRTH_VARIANCE: f64 = 1.0;

/// Spread of ln c in the drag prior (see [`DRAG_PRIOR_MEAN`]).
pub const DRAG_PRIOR_SIGMA_LN: f64 = 0.7;

/// Variance of c under the drag prior: mean²·(exp(σ²) − 1) for a log-normal.
pub fn drag_prior_variance() -> f64 {
    DRAG_PRIOR_MEAN * DRAG_PRIOR_MEAN * (DRAG_PRIOR_SIGMA_LN * DRAG_PRIOR_SIGMA_LN).exp_m1()
}

/// A Gaussian state `N(x, P)` at time `t_s` (seconds since the tracker's reference epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianState {
    pub x: StateVector,
    pub p: Covariance,
    pub t_s: f64,
}

impl GaussianState {
    pub fn position(&self) -> [f64; 3] {
        [self.x[0], self.x[1], self.x[2]]
    }
    pub fn velocity(&self) -> [f64; 3] {
        [self.x[3], self.x[4], self.x[5]]
    }
    /// The 6-state `[r, v]` for the physics crate.
    pub fn rv(&self) -> [f64; 6] {
        [
            self.x[0], self.x[1], self.x[2], self.x[3], self.x[4], self.x[5],
        ]
    }
    /// Ballistic coefficient β (kg/m²) implied by the drag parameter.
    pub fn beta_kg_m2(&self) -> f64 {
        1000.0 / self.x[DRAG].max(1e-3)
    }
    /// Root of the trace of the position covariance (m).
    pub fn position_sigma_m(&self) -> f64 {
        (self.p[(0, 0)] + self.p[(1, 1)] + self.p[(2, 2)])
            .max(0.0)
            .sqrt()
    }
    /// True when every entry is finite and the covariance is symmetric positive definite.
    pub fn is_valid(&self) -> bool {
        self.x.iter().all(|v| v.is_finite())
            && self.p.iter().all(|v| v.is_finite())
            && (self.p - self.p.transpose()).abs().max() <= 1e-9 * self.p.abs().max().max(1.0)
            && self.p.cholesky().is_some()
    }
}

/// Makes a covariance exactly symmetric. Enough after operations that preserve positive
/// definiteness (Φ P Φᵀ + Q with Q ≻ 0, convex combinations of covariances and spreads); after a
/// subtraction (a Kalman update) use [`regularize`].
#[inline]
pub fn symmetrize<const M: usize>(p: &mut SMatrix<f64, M, M>) {
    for i in 0..M {
        for j in 0..i {
            let v = 0.5 * (p[(i, j)] + p[(j, i)]);
            p[(i, j)] = v;
            p[(j, i)] = v;
        }
    }
}

/// Whether the symmetric `p` is positive definite: the Cholesky factorisation p = L Lᵀ exists
/// with a positive pivot at every step (Golub & Van Loan, *Matrix Computations*, 4th ed.,
/// alg. 4.2.1, row by row). The test nalgebra's `cholesky().is_some()` makes, on fixed-size
/// arrays and without building the factor's matrix: it runs after every update and prediction
/// of every model, where nalgebra's general column code took 4 % of the tracker's time at the
/// debris cloud's onset. A pivot that is not a number fails.
pub fn positive_definite<const M: usize>(p: &SMatrix<f64, M, M>) -> bool {
    let mut l = [[0.0f64; M]; M];
    for j in 0..M {
        let mut d = p[(j, j)];
        for k in 0..j {
            d -= l[j][k] * l[j][k];
        }
        if d.is_nan() || d <= 0.0 {
            return false;
        }
        let ljj = d.sqrt();
        l[j][j] = ljj;
        let inv = 1.0 / ljj;
        for i in j + 1..M {
            let mut s = p[(i, j)];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            l[i][j] = s * inv;
        }
    }
    true
}

/// Makes a covariance exactly symmetric and nudges it positive definite if round-off made an
/// eigenvalue non-positive.
pub fn regularize<const M: usize>(p: &mut SMatrix<f64, M, M>) {
    let sym = (*p + p.transpose()) * 0.5;
    *p = sym;
    if !positive_definite(p) {
        let scale = (0..M)
            .map(|i| p[(i, i)].abs())
            .fold(0.0, f64::max)
            .max(1e-12);
        let mut eps = 1e-12 * scale;
        for _ in 0..30 {
            let mut q = *p;
            for i in 0..M {
                q[(i, i)] += eps;
            }
            if positive_definite(&q) {
                *p = q;
                return;
            }
            eps *= 10.0;
        }
        // Last resort: keep the diagonal only.
        let d = SMatrix::<f64, M, M>::from_diagonal(&p.diagonal().map(|v| v.abs().max(1e-9)));
        *p = d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A symmetric 10×10 from A Aᵀ (positive semi-definite, rank `rank`) with `shift` on the
    /// diagonal: definite, borderline or indefinite as `shift` is positive, tiny or negative.
    fn make(a: &[f64], rank: usize, shift: f64, scale: &[f64]) -> Covariance {
        let a = SMatrix::<f64, N, N>::from_fn(|i, j| if j < rank { a[i * N + j] } else { 0.0 });
        let mut p = a * a.transpose();
        for i in 0..N {
            p[(i, i)] += shift;
        }
        // Variances from metres² to drag's 1e-12 as the tracker's covariances span.
        let d = Covariance::from_diagonal(&StateVector::from_fn(|i, _| scale[i]));
        let mut p = d * p * d;
        symmetrize(&mut p);
        p
    }

    proptest! {
        /// The pivot test says what nalgebra's Cholesky says, on definite, rank-deficient,
        /// nudged and indefinite covariances scaled as the tracker's are.
        #[test]
        fn positive_definite_agrees_with_nalgebra(
            a in prop::collection::vec(-1.0f64..1.0, N * N),
            rank in 1usize..=N,
            shift in prop_oneof![Just(0.0), -1.0f64..1.0, -1e-9f64..1e-9],
            scale in prop::collection::vec(prop_oneof![Just(1e3), Just(1.0), Just(1e-6)], N),
        ) {
            let p = make(&a, rank, shift, &scale);
            // Definiteness is the unscaled matrix's (a congruence keeps it: Sylvester's law of
            // inertia); where its smallest eigenvalue is within round-off of 0 either answer
            // is right, and the two factorisations may round differently.
            let e = make(&a, rank, shift, &[1.0; N]).symmetric_eigenvalues();
            let (lo, hi) = (e.min(), e.amax().max(1e-300));
            if lo.abs() > 1e-6 * hi {
                prop_assert_eq!(positive_definite(&p), lo > 0.0, "{}", p);
                prop_assert_eq!(p.cholesky().is_some(), lo > 0.0, "{}", p);
            }
        }
    }

    #[test]
    fn not_a_number_and_indefinite_fail_definite_passes() {
        let mut p = Covariance::identity();
        assert!(positive_definite(&p));
        p[(4, 4)] = f64::NAN;
        assert!(!positive_definite(&p));
        let mut q = Covariance::identity();
        q[(0, 1)] = 1.5;
        q[(1, 0)] = 1.5;
        assert!(
            !positive_definite(&q),
            "a 2×2 minor with determinant 1 − 2.25 < 0"
        );
        let mut z = Covariance::identity();
        z[(9, 9)] = 0.0;
        assert!(!positive_definite(&z), "singular");
        // regularize nudges an indefinite-by-round-off covariance definite.
        let mut r = Covariance::identity() * 1e6;
        r[(3, 3)] = -1e-7;
        regularize(&mut r);
        assert!(positive_definite(&r) && r.cholesky().is_some());
    }
}
