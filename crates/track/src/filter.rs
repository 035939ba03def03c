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
    let mut p = pred.p - k * m.s * k.transpose();
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

/// Probabilistic data association update (Bar-Shalom & Tse 1975; Bar-Shalom, Daum & Huang
/// 2009, eqs. 13–17) of a predicted state with several detections of one sensor and time,
/// weighted β_j, and β₀ for none of them: with ν_j the innovations, ν̄ = Σ β_j ν_j,
/// x = x⁻ + K ν̄ and P = P⁻ − (1 − β₀) K S Kᵀ + K (Σ β_j ν_j ν_jᵀ − ν̄ ν̄ᵀ) Kᵀ.
/// Returns the posterior and the likelihood of the detections under this model for the IMM's
/// mode probabilities (IMM-PDA): ln[(1 − P_D P_G) + Σ_j (P_D/λ) N(ν_j; 0, S)] from
/// [`PdaTerms`].
pub fn pda_update(
    kind: FilterKind,
    pred: &GaussianState,
    obs: &[(&Observation, f64)],
    terms: &PdaTerms,
) -> Option<(GaussianState, f64)> {
    match obs.first()?.0.dim() {
        2 => pda_m::<2>(kind, pred, obs, terms),
        3 => pda_m::<3>(kind, pred, obs, terms),
        _ => pda_m::<4>(kind, pred, obs, terms),
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
    obs: &[(&Observation, f64)],
    terms: &PdaTerms,
) -> Option<(GaussianState, f64)> {
    let PdaTerms {
        beta0,
        ln_miss,
        ln_ratio_scale,
    } = *terms;
    let (first, _) = obs.first()?;
    if obs.iter().any(|(o, _)| o.dim() != M) {
        return None;
    }
    // S and K do not depend on which detection (one sensor, one time).
    let m = moments::<M>(kind, pred, first);
    let chol = m.s.cholesky()?;
    let sinv = chol.inverse();
    let log_det = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let k = m.pxz * sinv;
    // ν_j relative to the same predicted measurement (z_first − ν_first).
    let mut h = [0.0; 4];
    for i in 0..M {
        h[i] = first.z[i] - m.nu[i];
    }
    let mut nu_bar = SVector::<f64, M>::zeros();
    let mut spread = SMatrix::<f64, M, M>::zeros();
    let mut terms = vec![ln_miss];
    for (o, b) in obs {
        let r = o.residual(&o.z, &h);
        let nu = SVector::<f64, M>::from_fn(|i, _| r[i]);
        nu_bar += nu * *b;
        spread += nu * nu.transpose() * *b;
        let d2 = nu.dot(&(sinv * nu));
        let ll = -0.5 * (d2 + log_det + M as f64 * (2.0 * std::f64::consts::PI).ln());
        terms.push(ll + ln_ratio_scale);
    }
    spread -= nu_bar * nu_bar.transpose();
    let x = pred.x + k * nu_bar;
    let mut p = pred.p - k * m.s * k.transpose() * (1.0 - beta0) + k * spread * k.transpose();
    regularize::<N>(&mut p);
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ln_lik = max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln();
    let out = GaussianState {
        x,
        p,
        t_s: pred.t_s,
    };
    (out.x.iter().all(|v| v.is_finite()) && ln_lik.is_finite()).then_some((out, ln_lik))
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

    /// The analytic radar Jacobian agrees with central differences of h, in every direction
    /// from a site and with range rate.
    #[test]
    fn analytic_radar_jacobian_matches_central_differences() {
        let site = Geodetic::from_deg(38.0, 138.3, 50.0)
            .expect("site")
            .to_ecef_m();
        let frame = LocalFrame::at(site).expect("frame");
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
            let p = Geodetic::from_deg(lat, lon, h).expect("target").to_ecef_m();
            let mut x = StateVector::zeros();
            x[0] = p[0];
            x[1] = p[1];
            x[2] = p[2];
            x[3] = 1500.0 - 700.0 * k as f64;
            x[4] = -2500.0 + 300.0 * k as f64;
            x[5] = 900.0;
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
