//! Interacting Multiple Model estimator (Blom & Bar-Shalom 1988; Bar-Shalom et al. 2001, §11.6.6)
//! over the boost, free-flight and re-entry models.
//!
//! Mixing: c̄_j = Σ_i p_ij μ_i, μ_{i|j} = p_ij μ_i / c̄_j, x⁰_j = Σ_i μ_{i|j} x_i,
//! P⁰_j = Σ_i μ_{i|j} [P_i + (x_i − x⁰_j)(x_i − x⁰_j)ᵀ]; each model predicts and updates from its
//! mixed state; μ_j ∝ Λ_j c̄_j with Λ_j the model's measurement likelihood; the output is the
//! moment-matched mixture. The Markov matrix depends on Δt through each mode's mean sojourn time.

use crate::filter::{self, FilterKind};
use crate::measurement::Observation;
use crate::motion::MotionModel;
use crate::state::{symmetrize, Covariance, GaussianState, StateVector};

/// Number of models.
pub const M: usize = 3;

/// IMM configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ImmConfig {
    pub filter: FilterKind,
    pub models: [MotionModel; M],
    /// Mean time spent in each mode before switching (s).
    pub sojourn_s: [f64; M],
    /// Where a mode goes when it ends (rows sum to 1, zero diagonal).
    pub exits: [[f64; M]; M],
}

impl Default for ImmConfig {
    fn default() -> Self {
        Self {
            filter: FilterKind::Ekf,
            models: [
                MotionModel::BOOST,
                MotionModel::FREE_FLIGHT,
                MotionModel::REENTRY,
            ],
            sojourn_s: [90.0, 600.0, 600.0],
            // Boost ends in free flight (or, for short-range missiles, re-entry); free flight
            // goes to re-entry or (staging during a coast is rare) boost; re-entry is final.
            exits: [[0.0, 0.8, 0.2], [0.05, 0.0, 0.95], [0.0, 1.0, 0.0]],
        }
    }
}

impl ImmConfig {
    fn transition(&self, dt: f64) -> [[f64; M]; M] {
        let mut p = [[0.0; M]; M];
        for i in 0..M {
            let stay = (-dt.abs() / self.sojourn_s[i]).exp();
            for j in 0..M {
                p[i][j] = if i == j {
                    stay
                } else {
                    (1.0 - stay) * self.exits[i][j]
                };
            }
        }
        p
    }
}

/// The IMM's per-model estimates and mode probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct ImmState {
    pub states: [GaussianState; M],
    pub mu: [f64; M],
}

impl ImmState {
    /// Starts every model from the same Gaussian.
    pub fn new(s: GaussianState, mu: [f64; M]) -> Self {
        Self {
            states: [s.clone(), s.clone(), s],
            mu,
        }
    }

    pub fn t_s(&self) -> f64 {
        self.states[0].t_s
    }

    /// The moment-matched combined estimate.
    pub fn combined(&self) -> GaussianState {
        let x = (0..M).fold(StateVector::zeros(), |a, j| {
            a + self.states[j].x * self.mu[j]
        });
        let mut p = Covariance::zeros();
        for j in 0..M {
            let d = self.states[j].x - x;
            p += (self.states[j].p + d * d.transpose()) * self.mu[j];
        }
        // A convex combination of positive definite matrices and spreads: positive definite.
        symmetrize(&mut p);
        GaussianState {
            x,
            p,
            t_s: self.t_s(),
        }
    }

    /// Root of the trace of the combined position covariance (m), without forming the whole
    /// combined estimate: Σ_j μ_j (tr P_j,rr + |r_j − r̄|²).
    pub fn position_sigma_m(&self) -> f64 {
        let mut mean = [0.0; 3];
        for j in 0..M {
            for (i, m) in mean.iter_mut().enumerate() {
                *m += self.mu[j] * self.states[j].x[i];
            }
        }
        let mut var = 0.0;
        for j in 0..M {
            let s = &self.states[j];
            let spread: f64 = (0..3).map(|i| (s.x[i] - mean[i]).powi(2)).sum();
            var += self.mu[j] * (s.p[(0, 0)] + s.p[(1, 1)] + s.p[(2, 2)] + spread);
        }
        var.max(0.0).sqrt()
    }

    /// Index of the most probable mode.
    pub fn mode(&self) -> usize {
        (0..M)
            .max_by(|&a, &b| self.mu[a].total_cmp(&self.mu[b]))
            .unwrap_or(1)
    }

    /// Mixes and predicts to `t_s`. The result's `mu` holds the predicted mode probabilities c̄.
    pub fn predict(&self, cfg: &ImmConfig, t_s: f64) -> ImmState {
        let p = cfg.transition(t_s - self.t_s());
        let mut cbar = [0.0; M];
        for j in 0..M {
            cbar[j] = (0..M)
                .map(|i| p[i][j] * self.mu[i])
                .sum::<f64>()
                .max(1e-300);
        }
        let states = std::array::from_fn(|j| {
            let w: [f64; M] = std::array::from_fn(|i| p[i][j] * self.mu[i] / cbar[j]);
            let x0 = (0..M).fold(StateVector::zeros(), |a, i| a + self.states[i].x * w[i]);
            let mut p0 = Covariance::zeros();
            for i in 0..M {
                let d = self.states[i].x - x0;
                p0 += (self.states[i].p + d * d.transpose()) * w[i];
            }
            symmetrize(&mut p0);
            let mixed = GaussianState {
                x: x0,
                p: p0,
                t_s: self.t_s(),
            };
            filter::predict(cfg.filter, &cfg.models[j], &mixed, t_s)
        });
        let total: f64 = cbar.iter().sum();
        ImmState {
            states,
            mu: cbar.map(|c| c / total),
        }
    }

    /// Updates a predicted IMM state (from [`ImmState::predict`]) with an observation. Returns
    /// the posterior, or `None` if every model failed numerically. (The innovation of the
    /// combined prediction, for gating, is [`filter::predicted_measurement`]'s job.)
    pub fn update(&self, cfg: &ImmConfig, obs: &Observation) -> Option<ImmState> {
        self.update_each(|s| {
            filter::update(cfg.filter, s, obs).map(|(post, inn)| (post, inn.log_likelihood()))
        })
    }

    /// Updates each model with `f` (posterior and log-likelihood of the data under the model)
    /// and sets μ_j ∝ Λ_j c̄_j, keeping every mode alive so the IMM can switch back. `None` if
    /// every model failed.
    fn update_each(
        &self,
        f: impl Fn(&GaussianState) -> Option<(GaussianState, f64)>,
    ) -> Option<ImmState> {
        let mut states = self.states.clone();
        let mut log_w = [f64::NEG_INFINITY; M];
        for j in 0..M {
            if let Some((post, ll)) = f(&self.states[j]) {
                states[j] = post;
                log_w[j] = ll + self.mu[j].max(1e-300).ln();
            }
        }
        let max = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if !max.is_finite() {
            return None;
        }
        let w: [f64; M] = log_w.map(|l| (l - max).exp());
        let total: f64 = w.iter().sum();
        let mut mu = w.map(|v| (v / total).max(1e-6));
        let s: f64 = mu.iter().sum();
        mu = mu.map(|v| v / s);
        Some(ImmState { states, mu })
    }

    /// Updates a predicted IMM state with several weighted detections of one sensor and time
    /// (JPDA): each model takes the PDA update with the weights `obs` (β_j) and `beta0`; the
    /// mode probabilities follow each model's likelihood of the whole set of detections.
    /// `None` if every model failed numerically.
    pub fn update_pda(
        &self,
        cfg: &ImmConfig,
        obs: &[(&Observation, f64)],
        beta0: f64,
        params: &crate::associate::JpdaParams,
    ) -> Option<ImmState> {
        let dim = obs.first()?.0.dim();
        let terms = filter::PdaTerms {
            beta0,
            ln_miss: params.ln_miss(),
            ln_ratio_scale: params.ln_detection_scale(dim),
        };
        self.update_each(|s| filter::pda_update(cfg.filter, s, obs, &terms))
    }
}
