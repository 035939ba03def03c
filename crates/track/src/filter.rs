//! Kalman filters: the extended (EKF) and the unscented (UKF), as a `Predictor`/`Updater` pair
//! over the 10-state and any [`MotionModel`] / [`Observation`].
//!
//! EKF (Bar-Shalom et al. 2001, §10.3): x⁻ = f(x), P⁻ = Φ P Φᵀ + Q; K = P⁻Hᵀ S⁻¹ with
//! S = H P⁻ Hᵀ + R; x = x⁻ + K ν; P = P⁻ − K S Kᵀ, symmetrised and kept positive definite
//! ([`regularize`]); H analytic for the radar, by central differences of h for bearings.
//! UKF (Julier & Uhlmann 2004; Wan & van der Merwe 2000): 2n symmetric sigma points
//! χ = x ± √(n P) columns, equal weights 1/2n (α = 1, β = 0, κ = 0, so every weight is positive
//! and P stays positive definite); moments of f(χ) and h(χ) give P⁻, S and the cross-covariance.

use nalgebra::{SMatrix, SVector};

use crate::measurement::Observation;
use crate::measurement::ObservationKind;
use crate::motion::MotionModel;
use crate::state::{regularize, Covariance, GaussianState, StateVector, N};

/// Which Kalman filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    Ekf,
    Ukf,
}

/// The innovation of an observation against a predicted state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Innovation {
    /// Squared Mahalanobis distance νᵀ S⁻¹ ν.
    pub d2: f64,
    /// ln det S.
    pub log_det_s: f64,
    pub dim: usize,
}

impl Innovation {
    /// Gaussian log-likelihood ln N(ν; 0, S).
    pub fn log_likelihood(&self) -> f64 {
        -0.5 * (self.d2 + self.log_det_s + self.dim as f64 * (2.0 * std::f64::consts::PI).ln())
    }
}

fn sigma_points(s: &GaussianState) -> Option<[StateVector; 2 * N]> {
    let l = (s.p * N as f64).cholesky()?.l();
    let mut pts = [StateVector::zeros(); 2 * N];
    for i in 0..N {
        let c = l.column(i);
        pts[i] = s.x + c;
        pts[N + i] = s.x - c;
    }
    Some(pts)
}

/// Predicts a state to time `t_s` with one motion model.
pub fn predict(
    kind: FilterKind,
    model: &MotionModel,
    s: &GaussianState,
    t_s: f64,
) -> GaussianState {
    let dt = t_s - s.t_s;
    let q = model.process_noise(dt);
    let mut out = match kind {
        FilterKind::Ekf => {
            let (x, phi) = model.propagate_with_transition(&s.x, dt);
            GaussianState {
                x,
                p: model.transform_covariance(&phi, &s.p) + q,
                t_s,
            }
        }
        FilterKind::Ukf => match sigma_points(s) {
            Some(pts) => {
                let w = 1.0 / (2 * N) as f64;
                let prop: Vec<StateVector> = pts.iter().map(|p| model.propagate(p, dt)).collect();
                let mean = prop.iter().fold(StateVector::zeros(), |a, p| a + p) * w;
                let mut p = q;
                for x in &prop {
                    let d = x - mean;
                    p += d * d.transpose() * w;
                }
                GaussianState { x: mean, p, t_s }
            }
            None => return predict(FilterKind::Ekf, model, s, t_s),
        },
    };
    // Φ P Φᵀ + Q is positive definite in exact arithmetic, but with variances from 1e-12 (drag)
    // to 1e12 (position) round-off can break that: check and nudge.
    regularize(&mut out.p);
    out
}

/// H = ∂h/∂x at `x`, by central differences of h over position and velocity (h does not
/// depend on a or c).
fn jacobian_numerical<const M: usize>(x: &StateVector, obs: &Observation) -> SMatrix<f64, M, N> {
    let mut hm = SMatrix::<f64, M, N>::zeros();
    for j in 0..6 {
        let step = if j < 3 { 1.0 } else { 1e-3 };
        let mut xp = *x;
        let mut xm = *x;
        xp[j] += step;
        xm[j] -= step;
        let d = obs.residual(&obs.predict(&xp), &obs.predict(&xm));
        for i in 0..M {
            hm[(i, j)] = d[i] / (2.0 * step);
        }
    }
    hm
}

/// H = ∂h/∂x at `x`: analytic for the radar (range, azimuth, elevation, range rate in the site's
/// ENU frame), numerical for bearings.
///
/// With d = r − o, (e, n, u) its ENU components, ρ = |d| and ρₕ = √(e² + n²):
/// ∂ρ/∂r = d/ρ; ∂az/∂r = (n Ê − e N̂)/ρₕ²; ∂el/∂r = (ρₕ Û − u (e Ê + n N̂)/ρₕ)/ρ²;
/// ∂ρ̇/∂r = v/ρ − (d·v) d/ρ³ and ∂ρ̇/∂v = d/ρ.
pub(crate) fn jacobian<const M: usize>(x: &StateVector, obs: &Observation) -> SMatrix<f64, M, N> {
    let ObservationKind::Radar { .. } = obs.kind else {
        return jacobian_numerical::<M>(x, obs);
    };
    let f = &obs.frame;
    let d = [x[0] - f.origin[0], x[1] - f.origin[1], x[2] - f.origin[2]];
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let (e, n, u) = (dot(d, f.east), dot(d, f.north), dot(d, f.up));
    let rho2 = dot(d, d);
    let rho = rho2.sqrt();
    let rh2 = e * e + n * n;
    let rh = rh2.sqrt();
    if rho < 1.0 || rh < 1e-3 {
        // At the site or straight overhead: azimuth is singular; fall back.
        return jacobian_numerical::<M>(x, obs);
    }
    let mut hm = SMatrix::<f64, M, N>::zeros();
    for i in 0..3 {
        hm[(0, i)] = d[i] / rho;
        hm[(1, i)] = (n * f.east[i] - e * f.north[i]) / rh2;
        hm[(2, i)] = (rh * f.up[i] - u * (e * f.east[i] + n * f.north[i]) / rh) / rho2;
    }
    if M == 4 {
        let v = [x[3], x[4], x[5]];
        let dv = dot(d, v);
        for i in 0..3 {
            hm[(3, i)] = v[i] / rho - dv * d[i] / (rho2 * rho);
            hm[(3, 3 + i)] = d[i] / rho;
        }
    }
    hm
}

/// The measurement-space moments of a predicted state: predicted measurement, S, and the
/// state-measurement cross-covariance.
struct Moments<const M: usize> {
    nu: SVector<f64, M>,
    s: SMatrix<f64, M, M>,
    pxz: SMatrix<f64, N, M>,
}

fn moments<const M: usize>(
    kind: FilterKind,
    pred: &GaussianState,
    obs: &Observation,
) -> Moments<M> {
    let r = SMatrix::<f64, M, M>::from_diagonal(&SVector::<f64, M>::from_fn(|i, _| {
        obs.sigma[i].powi(2)
    }));
    let h0 = obs.predict(&pred.x);
    let nu = SVector::<f64, M>::from_fn(|i, _| obs.residual(&obs.z, &h0)[i]);
    match kind {
        FilterKind::Ekf => {
            let hm = jacobian::<M>(&pred.x, obs);
            let pxz = pred.p * hm.transpose();
            Moments {
                nu,
                s: hm * pxz + r,
                pxz,
            }
        }
        FilterKind::Ukf => {
            let Some(pts) = sigma_points(pred) else {
                return moments::<M>(FilterKind::Ekf, pred, obs);
            };
            let w = 1.0 / (2 * N) as f64;
            // Deviations of h(χ) from h(x̄), angles wrapped, so the mean is taken on the circle.
            let dev: Vec<SVector<f64, M>> = pts
                .iter()
                .map(|p| {
                    let d = obs.residual(&obs.predict(p), &h0);
                    SVector::<f64, M>::from_fn(|i, _| d[i])
                })
                .collect();
            let mean_dev = dev.iter().fold(SVector::<f64, M>::zeros(), |a, d| a + d) * w;
            let mut s = r;
            let mut pxz = SMatrix::<f64, N, M>::zeros();
            for (p, d) in pts.iter().zip(&dev) {
                let dz = d - mean_dev;
                s += dz * dz.transpose() * w;
                pxz += (p - pred.x) * dz.transpose() * w;
            }
            Moments {
                nu: nu - mean_dev,
                s,
                pxz,
            }
        }
    }
}

fn innovation_of<const M: usize>(m: &Moments<M>) -> Option<Innovation> {
    let chol = m.s.cholesky()?;
    let sinv_nu = chol.solve(&m.nu);
    let log_det = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
    Some(Innovation {
        d2: m.nu.dot(&sinv_nu),
        log_det_s: log_det,
        dim: M,
    })
}

/// The predicted measurement of a state for one sensor geometry, with S⁻¹ factored once, so
/// many candidate detections of the same batch can be gated against it cheaply.
#[derive(Clone, Debug)]
pub struct PredictedMeasurement {
    /// Mean predicted measurement (angles unwrapped around the mean state's prediction).
    h: [f64; 4],
    s_inv: [[f64; 4]; 4],
    /// The innovation variances (S's diagonal).
    s_diag: [f64; 4],
    log_det_s: f64,
    dim: usize,
}

impl PredictedMeasurement {
    /// The window of the first measurement component (a radar's range) outside which a
    /// detection cannot pass a gate of `gate_d2`: νᵀ S⁻¹ ν ≥ ν₀² / S₀₀ for any ν, so
    /// |z₀ − h₀| ≤ √(gate_d2 · S₀₀) is necessary. Widened by a relative 10⁻⁹ so that rounding
    /// never excludes a detection the full test would pass.
    pub fn first_component_window(&self, gate_d2: f64) -> (f64, f64) {
        let half = (gate_d2 * self.s_diag[0]).max(0.0).sqrt() * (1.0 + 1e-9);
        (self.h[0] - half, self.h[0] + half)
    }

    /// d² of detection `j` of a batch given by component (`z[i][j]`), `angle` the component
    /// that wraps at ±π: the same arithmetic as [`PredictedMeasurement::innovation`]'s, from
    /// the batch's columns instead of each observation (a debris cloud's young tracks each
    /// test the whole batch: the columns stay in cache, the observations did not).
    #[inline]
    pub fn d2_of_column(&self, z: &[Vec<f64>; 4], angle: usize, j: usize) -> f64 {
        match self.dim {
            2 => self.d2_m::<2>(z, angle, j),
            3 => self.d2_m::<3>(z, angle, j),
            _ => self.d2_m::<4>(z, angle, j),
        }
    }

    /// d² of every detection of a batch given by component, into `out` (cleared first): each
    /// [`PredictedMeasurement::d2_of_column`]'s, to the bit, taken four detections at a time
    /// (the same operations in the same order in each lane, so the compiler can run the lanes
    /// side by side: one detection's d² is a chain of M² dependent additions).
    pub fn d2_of_columns(&self, z: &[Vec<f64>; 4], angle: usize, out: &mut Vec<f64>) {
        match self.dim {
            2 => self.d2s_m::<2>(z, angle, out),
            3 => self.d2s_m::<3>(z, angle, out),
            _ => self.d2s_m::<4>(z, angle, out),
        }
    }

    fn d2s_m<const M: usize>(&self, z: &[Vec<f64>; 4], angle: usize, out: &mut Vec<f64>) {
        use std::f64::consts::{PI, TAU};
        let n = z[0].len();
        out.clear();
        out.reserve(n);
        let blocks = n / 4;
        for q in 0..blocks {
            let mut nu = [[0.0; 4]; M];
            for i in 0..M {
                let zi = &z[i][4 * q..4 * q + 4];
                for l in 0..4 {
                    nu[i][l] = zi[l] - self.h[i];
                }
            }
            if angle < M {
                for v in nu[angle].iter_mut() {
                    if !(-PI < *v && *v <= PI) {
                        *v = (*v + PI).rem_euclid(TAU) - PI;
                    }
                }
            }
            let mut d2 = [0.0; 4];
            for i in 0..M {
                for k in 0..M {
                    for l in 0..4 {
                        d2[l] += nu[i][l] * self.s_inv[i][k] * nu[k][l];
                    }
                }
            }
            out.extend_from_slice(&d2);
        }
        for j in 4 * blocks..n {
            out.push(self.d2_m::<M>(z, angle, j));
        }
    }

    #[inline]
    fn d2_m<const M: usize>(&self, z: &[Vec<f64>; 4], angle: usize, j: usize) -> f64 {
        use std::f64::consts::{PI, TAU};
        let mut nu = [0.0; M];
        for i in 0..M {
            nu[i] = z[i][j] - self.h[i];
            if i == angle && !(-PI < nu[i] && nu[i] <= PI) {
                nu[i] = (nu[i] + PI).rem_euclid(TAU) - PI;
            }
        }
        let mut d2 = 0.0;
        for i in 0..M {
            for k in 0..M {
                d2 += nu[i] * self.s_inv[i][k] * nu[k];
            }
        }
        d2
    }

    /// The innovation with a d² taken already ([`PredictedMeasurement::d2_of_column`]).
    pub fn innovation_of_d2(&self, d2: f64) -> Innovation {
        Innovation {
            d2,
            log_det_s: self.log_det_s,
            dim: self.dim,
        }
    }

    /// The innovation of a detection of the same sensor and time.
    pub fn innovation(&self, obs: &Observation) -> Innovation {
        let nu = obs.residual(&obs.z, &self.h);
        let mut d2 = 0.0;
        for i in 0..self.dim {
            for j in 0..self.dim {
                d2 += nu[i] * self.s_inv[i][j] * nu[j];
            }
        }
        Innovation {
            d2,
            log_det_s: self.log_det_s,
            dim: self.dim,
        }
    }
}

fn predicted_m<const M: usize>(
    kind: FilterKind,
    pred: &GaussianState,
    obs: &Observation,
) -> Option<PredictedMeasurement> {
    let m = moments::<M>(kind, pred, obs);
    let chol = m.s.cholesky()?;
    let inv = chol.inverse();
    let log_det = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
    // ν = z − h(x̄) − mean_dev, so the mean prediction is z − ν.
    let mut h = [0.0; 4];
    for i in 0..M {
        h[i] = obs.z[i] - m.nu[i];
    }
    let mut s_inv = [[0.0; 4]; 4];
    let mut s_diag = [0.0; 4];
    for i in 0..M {
        s_diag[i] = m.s[(i, i)];
        for j in 0..M {
            s_inv[i][j] = inv[(i, j)];
        }
    }
    Some(PredictedMeasurement {
        h,
        s_inv,
        s_diag,
        log_det_s: log_det,
        dim: M,
    })
}

/// The predicted measurement for `obs`'s sensor geometry (any detection of the batch will do).
pub fn predicted_measurement(
    kind: FilterKind,
    pred: &GaussianState,
    obs: &Observation,
) -> Option<PredictedMeasurement> {
    match obs.dim() {
        2 => predicted_m::<2>(kind, pred, obs),
        3 => predicted_m::<3>(kind, pred, obs),
        _ => predicted_m::<4>(kind, pred, obs),
    }
}

/// The innovation of `obs` against a predicted state (for gating and likelihoods).
pub fn innovation(kind: FilterKind, pred: &GaussianState, obs: &Observation) -> Option<Innovation> {
    match obs.dim() {
        2 => innovation_of(&moments::<2>(kind, pred, obs)),
        3 => innovation_of(&moments::<3>(kind, pred, obs)),
        _ => innovation_of(&moments::<4>(kind, pred, obs)),
    }
}

fn update_m<const M: usize>(
    kind: FilterKind,
    pred: &GaussianState,
    obs: &Observation,
) -> Option<(GaussianState, Innovation)> {
    let m = moments::<M>(kind, pred, obs);
    let inn = innovation_of(&m)?;
    let sinv = m.s.cholesky()?.inverse();
    let k = m.pxz * sinv;
    let x = pred.x + k * m.nu;
    let mut p = pred.p;
    subtract_sandwich(&mut p, &k, &m.s);
    regularize::<N>(&mut p);
    let out = GaussianState {
        x,
        p,
        t_s: pred.t_s,
    };
    out.x.iter().all(|v| v.is_finite()).then_some((out, inn))
}

/// Updates a predicted state with an observation taken at the same time.
pub fn update(
    kind: FilterKind,
    pred: &GaussianState,
    obs: &Observation,
) -> Option<(GaussianState, Innovation)> {
    match obs.dim() {
        2 => update_m::<2>(kind, pred, obs),
        3 => update_m::<3>(kind, pred, obs),
        _ => update_m::<4>(kind, pred, obs),
    }
}

/// The detections of one PDA update (one sensor, one time) with their weights β_j, prepared
/// once for every model of an IMM: each detection's residual r_j from the first one
/// (z_j − z_1, angles wrapped) and the weighted sums B = Σ β_j, R₁ = Σ β_j r_j and
/// R₂ = Σ β_j r_j r_jᵀ. Under a model whose innovation of the first detection is δ, the
/// innovations are ν_j = r_j + δ, so a model's PDA moments follow from these sums
/// ([`pda_update`]) and only its likelihoods need each detection again. `None` for an empty set
/// or mixed measurement dimensions.
#[derive(Clone, Debug)]
pub struct PdaDetections<'a> {
    first: &'a Observation,
    dim: usize,
    n: usize,
    /// The residuals r_j by component, one array each (a model's likelihoods are taken four
    /// detections at a time), padded with zeros to a multiple of four; `dim` of them used.
    r: [Vec<f64>; 4],
    b: f64,
    r1: [f64; 4],
    r2: [[f64; 4]; 4],
}

impl<'a> PdaDetections<'a> {
    pub fn new(obs: &[(&'a Observation, f64)]) -> Option<Self> {
        let (first, _) = *obs.first()?;
        let dim = first.dim();
        if obs.iter().any(|(o, _)| o.dim() != dim) {
            return None;
        }
        let at = |j: usize| {
            let (o, w) = obs[j];
            (o.z, w)
        };
        Some(Self::from_measurements(first, obs.len(), at))
    }

    /// The same set from a batch given by component (`z[i][d]`: component i of detection d,
    /// all of `first`'s kind and dimension) and the (detection, weight) pairs, `first` being
    /// the first pair's observation: a track in a debris cloud weighs most of a scan, and the
    /// columns stay in cache where the observations did not.
    pub fn from_columns(
        first: &'a Observation,
        z: &[Vec<f64>; 4],
        weighted: &[(usize, f64)],
    ) -> Option<Self> {
        if weighted.is_empty() || weighted.iter().any(|&(d, _)| d >= z[0].len()) {
            return None;
        }
        let at = |j: usize| {
            let (d, w) = weighted[j];
            ([z[0][d], z[1][d], z[2][d], z[3][d]], w)
        };
        Some(Self::from_measurements(first, weighted.len(), at))
    }

    fn from_measurements(
        first: &'a Observation,
        n: usize,
        at: impl Fn(usize) -> ([f64; 4], f64),
    ) -> Self {
        let dim = first.dim();
        let padded = n.next_multiple_of(4);
        let mut r: [Vec<f64>; 4] = std::array::from_fn(|i| {
            if i < dim {
                vec![0.0; padded]
            } else {
                Vec::new()
            }
        });
        let (b, r1, mut r2) = match dim {
            2 => sums::<2>(
                n,
                |j| {
                    let (z, w) = at(j);
                    ([z[0], z[1]], w)
                },
                first,
                &mut r,
            ),
            3 => sums::<3>(
                n,
                |j| {
                    let (z, w) = at(j);
                    ([z[0], z[1], z[2]], w)
                },
                first,
                &mut r,
            ),
            _ => sums::<4>(n, &at, first, &mut r),
        };
        for i in 0..dim {
            for k in 0..i {
                r2[k][i] = r2[i][k];
            }
        }
        Self {
            first,
            dim,
            n,
            r,
            b,
            r1,
            r2,
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The measurement dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

/// [`PdaDetections`]' pass over the detections, for `M` components: `n` detections, detection
/// j's measurement and weight from `at(j)`; each residual from `first` into `r` (columns of
/// at least `n`), and B, R₁ and R₂'s lower triangle (the residual as [`Observation::residual`]
/// takes it, with the angle known once).
#[allow(clippy::type_complexity)]
fn sums<const M: usize>(
    n: usize,
    at: impl Fn(usize) -> ([f64; M], f64),
    first: &Observation,
    r: &mut [Vec<f64>; 4],
) -> (f64, [f64; 4], [[f64; 4]; 4]) {
    use std::f64::consts::{PI, TAU};
    let angle = (0..M).find(|&i| first.is_angle(i)).unwrap_or(usize::MAX);
    let (mut b, mut r1, mut r2) = (0.0, [0.0; M], [[0.0; M]; M]);
    // (Written in place, the columns sized already: no call in the loop, the sums stay in
    // registers.)
    let [c0, c1, c2, c3] = r;
    let cols: [&mut [f64]; 4] = [c0, c1, c2, c3];
    for j in 0..n {
        let (z, w) = at(j);
        let mut rj = [0.0; M];
        for i in 0..M {
            rj[i] = z[i] - first.z[i];
            if i == angle && !(-PI < rj[i] && rj[i] <= PI) {
                rj[i] = (rj[i] + PI).rem_euclid(TAU) - PI;
            }
        }
        b += w;
        for i in 0..M {
            r1[i] += w * rj[i];
            for k in 0..=i {
                r2[i][k] += w * rj[i] * rj[k];
            }
            cols[i][j] = rj[i];
        }
    }
    let mut s1 = [0.0; 4];
    let mut s2 = [[0.0; 4]; 4];
    for i in 0..M {
        s1[i] = r1[i];
        s2[i][..M].copy_from_slice(&r2[i]);
    }
    (b, s1, s2)
}

/// Probabilistic data association update (Bar-Shalom & Tse 1975; Bar-Shalom, Daum & Huang
/// 2009, eqs. 13–17) of a predicted state with several detections of one sensor and time,
/// weighted β_j, and β₀ for none of them: with ν_j the innovations, ν̄ = Σ β_j ν_j,
/// x = x⁻ + K ν̄ and P = P⁻ − (1 − β₀) K S Kᵀ + K (Σ β_j ν_j ν_jᵀ − ν̄ ν̄ᵀ) Kᵀ.
/// Returns the posterior and the likelihood of the detections under this model for the IMM's
/// mode probabilities (IMM-PDA): ln[(1 − P_D P_G) + Σ_j (P_D/λ) N(ν_j; 0, S)] from
/// [`PdaTerms`].
///
/// With ν_j = r_j + δ ([`PdaDetections`]): ν̄ = R₁ + B δ and
/// Σ β_j ν_j ν_jᵀ − ν̄ ν̄ᵀ = (R₂ − R₁R₁ᵀ) + (1 − B)(R₁δᵀ + δR₁ᵀ) + (B − B²) δδᵀ; each
/// d²_j = |L⁻¹ r_j + L⁻¹ δ|² with S = L Lᵀ.
pub fn pda_update(
    kind: FilterKind,
    pred: &GaussianState,
    set: &PdaDetections,
    terms: &PdaTerms,
) -> Option<(GaussianState, f64)> {
    match set.dim {
        2 => pda_m::<2>(kind, pred, set, terms),
        3 => pda_m::<3>(kind, pred, set, terms),
        _ => pda_m::<4>(kind, pred, set, terms),
    }
}

/// The scalars of a PDA update besides the detections and their weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PdaTerms {
    /// β₀: probability that none of the detections is the track's.
    pub beta0: f64,
    /// ln(1 − P_D P_G).
    pub ln_miss: f64,
    /// ln(P_D/λ).
    pub ln_ratio_scale: f64,
}

fn pda_m<const M: usize>(
    kind: FilterKind,
    pred: &GaussianState,
    set: &PdaDetections,
    terms: &PdaTerms,
) -> Option<(GaussianState, f64)> {
    let PdaTerms {
        beta0,
        ln_miss,
        ln_ratio_scale,
    } = *terms;
    if set.dim != M || set.is_empty() {
        return None;
    }
    // S and K do not depend on which detection (one sensor, one time).
    let m = moments::<M>(kind, pred, set.first);
    let chol = m.s.cholesky()?;
    let l = chol.l();
    let sinv = chol.inverse();
    let log_det = 2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let k = m.pxz * sinv;
    let delta = m.nu;
    let b = set.b;
    let r1 = SVector::<f64, M>::from_fn(|i, _| set.r1[i]);
    let r2 = SMatrix::<f64, M, M>::from_fn(|i, j| set.r2[i][j]);
    let nu_bar = r1 + delta * b;
    let r1d = r1 * delta.transpose();
    let spread = (r2 - r1 * r1.transpose())
        + (r1d + r1d.transpose()) * (1.0 - b)
        + delta * delta.transpose() * (b - b * b);
    // d²_j = |y_j + c|², y_j = L⁻¹ r_j, c = L⁻¹ δ (forward substitution, L lower).
    let mut linv = [[0.0; 4]; 4];
    for i in 0..M {
        let d = 1.0 / l[(i, i)];
        linv[i][i] = d;
        for j in 0..i {
            let mut acc = 0.0;
            for q in j..i {
                acc -= l[(i, q)] * linv[q][j];
            }
            linv[i][j] = acc * d;
        }
    }
    let mut c = [0.0; 4];
    for i in 0..M {
        for j in 0..=i {
            c[i] += linv[i][j] * delta[j];
        }
    }
    let ll0 = -0.5 * (log_det + M as f64 * (2.0 * std::f64::consts::PI).ln()) + ln_ratio_scale;
    // The detections' log-likelihood terms four at a time (the residuals by component: a loop
    // the compiler vectorises), then the log-sum-exp with the miss term; the padding lanes
    // (r = 0) are left out.
    let n = set.len();
    let mut lanes: Vec<[f64; 4]> = (0..n.div_ceil(4))
        .map(|q| {
            let rv: [&[f64]; M] = std::array::from_fn(|k| &set.r[k][4 * q..4 * q + 4]);
            let mut d2 = [0.0; 4];
            for i in 0..M {
                let mut y = [c[i]; 4];
                for k in 0..=i {
                    for l in 0..4 {
                        y[l] += linv[i][k] * rv[k][l];
                    }
                }
                for l in 0..4 {
                    d2[l] += y[l] * y[l];
                }
            }
            d2.map(|d| ll0 - 0.5 * d)
        })
        .collect();
    let terms = &mut lanes.as_flattened_mut()[..n];
    let max = terms
        .iter()
        .fold(ln_miss, |m, &t| if t > m { t } else { m });
    // The detections' e^(t − max) four at a time ([`crate::vexp`]); the miss term first, then
    // the detections in order.
    crate::vexp::exp_shifted_in_place_f64(terms, max);
    let sum = terms.iter().fold((ln_miss - max).exp(), |a, e| a + e);
    let x = pred.x + k * nu_bar;
    // P − K S Kᵀ (1 − β₀) + K spread Kᵀ = P − K [S (1 − β₀) − spread] Kᵀ (Bar-Shalom, Daum &
    // Huang 2009, eq. 17): one sandwich.
    let mut p = pred.p;
    subtract_sandwich(&mut p, &k, &(m.s * (1.0 - beta0) - spread));
    regularize::<N>(&mut p);
    let ln_lik = max + sum.ln();
    let out = GaussianState {
        x,
        p,
        t_s: pred.t_s,
    };
    (out.x.iter().all(|v| v.is_finite()) && ln_lik.is_finite()).then_some((out, ln_lik))
}

/// `p ← p − K C Kᵀ` for a symmetric `C`: the lower triangle's entries, each subtracted from
/// both halves, so a symmetric `p` stays exactly symmetric (the covariance updates of every
/// model of every track).
fn subtract_sandwich<const M: usize>(
    p: &mut Covariance,
    k: &SMatrix<f64, N, M>,
    c: &SMatrix<f64, M, M>,
) {
    let kc = k * c;
    for j in 0..N {
        // Column j of (K C) Kᵀ whole (the compiler runs it four rows at a time), then its
        // lower part subtracted from both halves.
        let mut col = [0.0; N];
        for q in 0..M {
            let kjq = k[(j, q)];
            for (v, &a) in col.iter_mut().zip(kc.column(q).iter()) {
                *v += a * kjq;
            }
        }
        for i in j..N {
            p[(i, j)] -= col[i];
            if i != j {
                p[(j, i)] -= col[i];
            }
        }
    }
}

/// Convenience: a covariance from standard deviations.
pub fn diag_cov(sigmas: [f64; N]) -> Covariance {
    Covariance::from_diagonal(&StateVector::from_fn(|i, _| sigmas[i] * sigmas[i]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::LocalFrame;
    use tripoint_core::{Nation, SensorId};
    use tripoint_physics::Geodetic;

    /// The test radar's frame, on Sado-like ground (38.0° N, 138.3° E).
    fn test_frame() -> LocalFrame {
        let site = Geodetic::from_deg(38.0, 138.3, 50.0)
            .expect("site")
            .to_ecef_m();
        LocalFrame::at(site).expect("frame")
    }

    /// A state at (`lat`, `lon`, `h` m) moving at `v` (ECEF, m/s).
    fn state_at(lat: f64, lon: f64, h: f64, v: [f64; 3]) -> StateVector {
        let p = Geodetic::from_deg(lat, lon, h).expect("target").to_ecef_m();
        let mut x = StateVector::zeros();
        for i in 0..3 {
            x[i] = p[i];
            x[3 + i] = v[i];
        }
        x
    }

    /// The PDA update from the shared sums ([`PdaDetections`]) agrees with the textbook form
    /// taken detection by detection (Bar-Shalom, Daum & Huang 2009, eqs. 13–17: each ν_j against
    /// the model's own predicted measurement), for radar with and without range rate and for
    /// bearings, with the EKF and the UKF; and one detection of weight 1 is the Kalman update.
    #[test]
    fn pda_from_shared_sums_matches_the_textbook_form_and_the_kalman_update() {
        let frame = test_frame();
        let kinds = [
            (
                ObservationKind::Radar { range_rate: true },
                [30.0, 1e-3, 1e-3, 3.0],
            ),
            (
                ObservationKind::Radar { range_rate: false },
                [30.0, 1e-3, 1e-3, 0.0],
            ),
            (ObservationKind::Bearings, [2e-4, 2e-4, 0.0, 0.0]),
        ];
        // West of the site, and due south of it: the radar's azimuth at the ±π cut, where the
        // detections' azimuths wrap.
        for (lat, lon, alt) in [(39.0, 134.0, 600e3), (33.0, 138.3, 500e3)] {
            let x = state_at(lat, lon, alt, [1200.0, -2100.0, 800.0]);
            let pred = GaussianState {
                x,
                p: diag_cov([900.0, 700.0, 800.0, 40.0, 30.0, 35.0, 0.5, 0.5, 0.5, 0.3]),
                t_s: 0.0,
            };
            for filter in [FilterKind::Ekf, FilterKind::Ukf] {
                for (kind, sigma) in kinds {
                    let base = Observation {
                        t_s: 0.0,
                        sensor: SensorId::new("jpn-test").expect("id"),
                        owner: Nation::JPN,
                        kind,
                        z: [0.0; 4],
                        sigma,
                        frame,
                    };
                    let h = base.predict(&pred.x);
                    let s_sd: [f64; 4] = match base.dim() {
                        2 => std::array::from_fn(|i| {
                            moments::<2>(filter, &pred, &base).s[(i.min(1), i.min(1))].sqrt()
                        }),
                        3 => std::array::from_fn(|i| {
                            moments::<3>(filter, &pred, &base).s[(i.min(2), i.min(2))].sqrt()
                        }),
                        _ => std::array::from_fn(|i| {
                            moments::<4>(filter, &pred, &base).s[(i, i)].sqrt()
                        }),
                    };
                    // Seven detections within ±2 sigmas of the innovation around the prediction,
                    // angles wrapped into (−π, π] as a sensor reports them.
                    let obs: Vec<Observation> = (0..7)
                        .map(|j| {
                            let mut o = base.clone();
                            let mut z = [0.0; 4];
                            for (i, zi) in z.iter_mut().enumerate().take(o.dim()) {
                                let u = ((j * 7 + i * 3) % 11) as f64 / 5.0 - 1.0;
                                *zi = h[i] + 2.0 * u * s_sd[i];
                            }
                            o.z = o.residual(&z, &[0.0; 4]);
                            o
                        })
                        .collect();
                    if lat < 35.0 && matches!(kind, ObservationKind::Radar { .. }) {
                        assert!(
                            obs.iter().any(|o| o.z[1] > 0.0) && obs.iter().any(|o| o.z[1] < 0.0),
                            "the azimuths straddle the cut"
                        );
                    }
                    // The gate's d² from a batch's columns is the innovation's, to the bit,
                    // across the azimuth cut too.
                    if let ObservationKind::Radar { .. } = kind {
                        let pm = predicted_measurement(filter, &pred, &obs[0]).expect("pm");
                        let cols: [Vec<f64>; 4] =
                            std::array::from_fn(|i| obs.iter().map(|o| o.z[i]).collect());
                        // And four at a time (a block of four and a tail of three).
                        let mut all = Vec::new();
                        pm.d2_of_columns(&cols, 1, &mut all);
                        assert_eq!(all.len(), obs.len());
                        for (j, o) in obs.iter().enumerate() {
                            assert_eq!(
                                pm.d2_of_column(&cols, 1, j).to_bits(),
                                pm.innovation(o).d2.to_bits(),
                                "{filter:?} {kind:?}: detection {j}"
                            );
                            assert_eq!(
                                all[j].to_bits(),
                                pm.innovation(o).d2.to_bits(),
                                "{filter:?} {kind:?}: detection {j}, four at a time"
                            );
                        }
                    }
                    let betas = [0.30, 0.05, 0.20, 0.01, 0.15, 0.08, 0.11];
                    let weighted: Vec<(&Observation, f64)> = obs.iter().zip(betas).collect();
                    let beta0 = 1.0 - betas.iter().sum::<f64>();
                    // The miss term far below the detections', so the likelihood answers to every d².
                    let terms = PdaTerms {
                        beta0,
                        ln_miss: -50.0,
                        ln_ratio_scale: 1.7,
                    };
                    let set = PdaDetections::new(&weighted).expect("set");
                    let (got, got_ll) = pda_update(filter, &pred, &set, &terms).expect("pda");
                    // The same set from the batch's columns: the same update, to the bit.
                    if let ObservationKind::Radar { .. } = kind {
                        let cols: [Vec<f64>; 4] =
                            std::array::from_fn(|i| obs.iter().map(|o| o.z[i]).collect());
                        let pairs: Vec<(usize, f64)> = betas.iter().copied().enumerate().collect();
                        let set = PdaDetections::from_columns(&obs[0], &cols, &pairs).expect("set");
                        let (c, c_ll) = pda_update(filter, &pred, &set, &terms).expect("pda");
                        assert_eq!(c_ll.to_bits(), got_ll.to_bits(), "{filter:?} {kind:?}");
                        assert!(c.x == got.x && c.p == got.p, "{filter:?} {kind:?}");
                    }
                    // The textbook form, detection by detection, with nalgebra's inverse.
                    let (want, want_ll) = match obs[0].dim() {
                        2 => textbook::<2>(filter, &pred, &weighted, &terms),
                        3 => textbook::<3>(filter, &pred, &weighted, &terms),
                        _ => textbook::<4>(filter, &pred, &weighted, &terms),
                    };
                    let what = format!("{filter:?} {kind:?}");
                    for i in 0..N {
                        let scale = pred.p[(i, i)].sqrt();
                        assert!(
                            (got.x[i] - want.x[i]).abs() < 1e-9 * scale,
                            "{what}: x[{i}] {} vs {}",
                            got.x[i],
                            want.x[i]
                        );
                        for j in 0..N {
                            let scale = (pred.p[(i, i)] * pred.p[(j, j)]).sqrt();
                            assert!(
                                (got.p[(i, j)] - want.p[(i, j)]).abs() < 1e-9 * scale,
                                "{what}: P[{i},{j}] {} vs {}",
                                got.p[(i, j)],
                                want.p[(i, j)]
                            );
                        }
                    }
                    assert!(
                        (got_ll - want_ll).abs() < 1e-9,
                        "{what}: ln L {got_ll} vs {want_ll}"
                    );
                    // One detection, weight 1, none missed: the Kalman update.
                    let one = [(&obs[2], 1.0)];
                    let set = PdaDetections::new(&one).expect("set");
                    let terms = PdaTerms {
                        beta0: 0.0,
                        ..terms
                    };
                    let (pda, _) = pda_update(filter, &pred, &set, &terms).expect("pda");
                    let (kf, _) = update(filter, &pred, &obs[2]).expect("kf");
                    for i in 0..N {
                        let scale = pred.p[(i, i)].sqrt();
                        assert!((pda.x[i] - kf.x[i]).abs() < 1e-9 * scale, "{what}: x[{i}]");
                        for j in 0..N {
                            let scale = (pred.p[(i, i)] * pred.p[(j, j)]).sqrt();
                            assert!(
                                (pda.p[(i, j)] - kf.p[(i, j)]).abs() < 1e-9 * scale,
                                "{what}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Bar-Shalom, Daum & Huang (2009) eqs. 13–17 as written, one innovation per detection.
    fn textbook<const M: usize>(
        kind: FilterKind,
        pred: &GaussianState,
        obs: &[(&Observation, f64)],
        terms: &PdaTerms,
    ) -> (GaussianState, f64) {
        let m = moments::<M>(kind, pred, obs[0].0);
        let sinv = m.s.try_inverse().expect("S invertible");
        let k = m.pxz * sinv;
        let h0 = {
            let mut h = [0.0; 4];
            for i in 0..M {
                h[i] = obs[0].0.z[i] - m.nu[i];
            }
            h
        };
        let mut nu_bar = SVector::<f64, M>::zeros();
        let mut second = SMatrix::<f64, M, M>::zeros();
        let mut lik = terms.ln_miss.exp();
        let norm = ((2.0 * std::f64::consts::PI).powi(M as i32)
            * m.s.cholesky().expect("S positive definite").determinant())
        .sqrt();
        for (o, b) in obs {
            let r = o.residual(&o.z, &h0);
            let nu = SVector::<f64, M>::from_fn(|i, _| r[i]);
            nu_bar += nu * *b;
            second += nu * nu.transpose() * *b;
            let d2 = (nu.transpose() * sinv * nu)[(0, 0)];
            lik += terms.ln_ratio_scale.exp() * (-0.5 * d2).exp() / norm;
        }
        let x = pred.x + k * nu_bar;
        let mut p = pred.p - k * m.s * k.transpose() * (1.0 - terms.beta0)
            + k * (second - nu_bar * nu_bar.transpose()) * k.transpose();
        regularize::<N>(&mut p);
        (
            GaussianState {
                x,
                p,
                t_s: pred.t_s,
            },
            lik.ln(),
        )
    }

    /// The analytic radar Jacobian agrees with central differences of h, in every direction
    /// from a site and with range rate.
    #[test]
    fn analytic_radar_jacobian_matches_central_differences() {
        let frame = test_frame();
        for (k, (lat, lon, h)) in [
            (40.0, 131.0, 300e3),
            (35.0, 140.0, 80e3),
            (39.0, 138.0, 900e3),
            (30.0, 150.0, 1200e3),
            (38.5, 138.29, 400e3),
        ]
        .into_iter()
        .enumerate()
        {
            let k = k as f64;
            let x = state_at(
                lat,
                lon,
                h,
                [1500.0 - 700.0 * k, -2500.0 + 300.0 * k, 900.0],
            );
            let obs = Observation {
                t_s: 0.0,
                sensor: SensorId::new("jpn-test").expect("id"),
                owner: Nation::JPN,
                kind: ObservationKind::Radar { range_rate: true },
                z: [0.0; 4],
                sigma: [50.0, 1e-3, 1e-3, 5.0],
                frame,
            };
            let a = jacobian::<4>(&x, &obs);
            let n = jacobian_numerical::<4>(&x, &obs);
            for i in 0..4 {
                for j in 0..N {
                    let tol = 1e-6 * n[(i, j)].abs() + 1e-9;
                    assert!(
                        (a[(i, j)] - n[(i, j)]).abs() <= tol,
                        "case {k}: H[{i},{j}] analytic {} numerical {}",
                        a[(i, j)],
                        n[(i, j)]
                    );
                }
            }
        }
    }
}
