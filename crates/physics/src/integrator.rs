//! Adaptive Dormand–Prince 5(4) integrator with dense output and event location.
//!
//! Coefficients, error estimator, PI step-size control and the continuous extension (`contd5`)
//! follow Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*, 2nd ed.,
//! §II.4–II.6, and their DOPRI5 code. Written here rather than taken from a crate because the
//! simulator needs allocation-free fixed-size states, dense output stored per step (so any
//! sensor can sample a trajectory later) and event location on that dense output (impact at
//! zero height), which general ODE crates do not offer together.

use crate::PhysicsError;

/// Right-hand side of y' = f(t, y) for a 6-state `[x, y, z, vx, vy, vz]`.
pub trait Dynamics {
    fn derivative(&self, t_s: f64, y: &[f64; 6]) -> [f64; 6];
}

impl<F: Fn(f64, &[f64; 6]) -> [f64; 6]> Dynamics for F {
    fn derivative(&self, t_s: f64, y: &[f64; 6]) -> [f64; 6] {
        self(t_s, y)
    }
}

/// Error tolerances: a component's local error must stay below `abs + rel·|y|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub rel: f64,
    pub abs_pos_m: f64,
    pub abs_vel_m_s: f64,
    /// Largest step allowed (s); keeps dense output fine enough for samplers.
    pub max_step_s: f64,
}

impl Tolerances {
    /// Millimetre-class accuracy over a 30-minute ballistic arc (see the `propagate` bench and
    /// `tests/dynamics.rs`).
    pub const PRECISE: Tolerances = Tolerances {
        rel: 1e-11,
        abs_pos_m: 1e-5,
        abs_vel_m_s: 1e-8,
        max_step_s: 600.0,
    };
    /// Decimetre-class accuracy: what the simulator uses for thousands of objects.
    pub const SIMULATION: Tolerances = Tolerances {
        rel: 1e-9,
        abs_pos_m: 1e-3,
        abs_vel_m_s: 1e-6,
        max_step_s: 60.0,
    };
}

// Dormand–Prince 5(4) tableau.
const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// One accepted step with its 5th-order continuous extension: for θ = (t − t0)/h ∈ [0, 1],
/// y(t) = r1 + θ(r2 + (1−θ)(r3 + θ(r4 + (1−θ) r5))).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseStep {
    pub t0_s: f64,
    pub h_s: f64,
    r: [[f64; 6]; 5],
}

impl DenseStep {
    /// End time of the step.
    pub fn t1_s(&self) -> f64 {
        self.t0_s + self.h_s
    }
    /// State at the start of the step.
    pub fn y0(&self) -> [f64; 6] {
        self.r[0]
    }
    /// State at time `t_s` (meant for t within the step; extrapolates otherwise).
    #[inline]
    pub fn eval(&self, t_s: f64) -> [f64; 6] {
        let th = (t_s - self.t0_s) / self.h_s;
        let th1 = 1.0 - th;
        let mut y = [0.0; 6];
        for (i, yi) in y.iter_mut().enumerate() {
            *yi = self.r[0][i]
                + th * (self.r[1][i]
                    + th1 * (self.r[2][i] + th * (self.r[3][i] + th1 * self.r[4][i])));
        }
        y
    }
}

/// How an integration ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// Reached the requested end time.
    Reached { t_s: f64, y: [f64; 6] },
    /// The event function crossed zero (from positive to non-positive) at `t_s`.
    Event { t_s: f64, y: [f64; 6] },
}

impl Outcome {
    pub fn t_s(&self) -> f64 {
        match self {
            Outcome::Reached { t_s, .. } | Outcome::Event { t_s, .. } => *t_s,
        }
    }
    pub fn y(&self) -> [f64; 6] {
        match self {
            Outcome::Reached { y, .. } | Outcome::Event { y, .. } => *y,
        }
    }
}

/// Counters for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub accepted: usize,
    pub rejected: usize,
    pub evaluations: usize,
}

/// The integrator. Cheap to create; holds tolerances and counters only.
#[derive(Clone, Debug)]
pub struct Dopri5 {
    pub tol: Tolerances,
    pub max_steps: usize,
    pub stats: Stats,
}

impl Dopri5 {
    pub fn new(tol: Tolerances) -> Self {
        Self {
            tol,
            max_steps: 1_000_000,
            stats: Stats::default(),
        }
    }

    #[inline]
    fn scale(&self, a: &[f64; 6], b: &[f64; 6], i: usize) -> f64 {
        let abs = if i < 3 {
            self.tol.abs_pos_m
        } else {
            self.tol.abs_vel_m_s
        };
        abs + self.tol.rel * a[i].abs().max(b[i].abs())
    }

    /// Integrates from `(t0_s, y0)` to `t_end_s` (forward or backward), calling `sink` with each
    /// accepted step, and stopping early where `event(t, y)` goes from > 0 to ≤ 0. The event is
    /// located on the dense output to 1 µs.
    pub fn integrate<D, E, S>(
        &mut self,
        f: &D,
        t0_s: f64,
        y0: [f64; 6],
        t_end_s: f64,
        mut event: E,
        mut sink: S,
    ) -> Result<Outcome, PhysicsError>
    where
        D: Dynamics + ?Sized,
        E: FnMut(f64, &[f64; 6]) -> f64,
        S: FnMut(&DenseStep),
    {
        for (i, v) in y0.iter().enumerate() {
            if !v.is_finite() {
                return Err(PhysicsError::NotFinite {
                    what: if i < 3 {
                        "initial position"
                    } else {
                        "initial velocity"
                    },
                    value: *v,
                });
            }
        }
        let span = t_end_s - t0_s;
        if span == 0.0 {
            return Ok(Outcome::Reached { t_s: t0_s, y: y0 });
        }
        let dir = span.signum();
        let mut t = t0_s;
        let mut y = y0;
        let mut k1 = f.derivative(t, &y);
        self.stats.evaluations += 1;
        let mut h = dir * self.initial_step(f, t, &y, &k1).min(span.abs());
        let mut g_old = event(t, &y);
        let mut facold: f64 = 1e-4;
        let mut last_rejected = false;
        let mut steps = 0usize;

        loop {
            steps += 1;
            if steps > self.max_steps {
                return Err(PhysicsError::TooManySteps {
                    action: "propagating a trajectory",
                    max_steps: self.max_steps,
                });
            }
            let last = (t + h - t_end_s) * dir >= 0.0;
            if last {
                h = t_end_s - t;
            }
            if h.abs() < 1e-12 * t.abs().max(1.0) {
                return Err(PhysicsError::StepSizeUnderflow {
                    action: "propagating a trajectory",
                    t_s: t,
                    step_s: h,
                });
            }

            let mut yt = [0.0; 6];
            for i in 0..6 {
                yt[i] = y[i] + h * A21 * k1[i];
            }
            let k2 = f.derivative(t + C2 * h, &yt);
            for i in 0..6 {
                yt[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
            }
            let k3 = f.derivative(t + C3 * h, &yt);
            for i in 0..6 {
                yt[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            }
            let k4 = f.derivative(t + C4 * h, &yt);
            for i in 0..6 {
                yt[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            }
            let k5 = f.derivative(t + C5 * h, &yt);
            for i in 0..6 {
                yt[i] = y[i]
                    + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            }
            let k6 = f.derivative(t + h, &yt);
            let mut y_new = [0.0; 6];
            for i in 0..6 {
                y_new[i] = y[i]
                    + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
            }
            let k7 = f.derivative(t + h, &y_new);
            self.stats.evaluations += 6;

            let mut err2 = 0.0;
            for i in 0..6 {
                let e = h
                    * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                let s = self.scale(&y, &y_new, i);
                err2 += (e / s) * (e / s);
            }
            let err = (err2 / 6.0).sqrt();
            if !err.is_finite() {
                // The dynamics blew up inside the step: shrink hard and retry.
                h *= 0.1;
                self.stats.rejected += 1;
                last_rejected = true;
                continue;
            }

            // PI step-size control (Hairer's DOPRI5 defaults: β = 0.04, safety 0.9).
            let fac11 = err.powf(0.17);
            if err <= 1.0 {
                let mut fac = fac11 / facold.powf(0.04);
                fac = (fac / 0.9).clamp(0.2, 10.0);
                let mut h_new = h / fac;
                facold = err.max(1e-4);
                if last_rejected {
                    h_new = dir * h_new.abs().min(h.abs());
                }
                last_rejected = false;
                self.stats.accepted += 1;

                let mut step = DenseStep {
                    t0_s: t,
                    h_s: h,
                    r: [[0.0; 6]; 5],
                };
                for i in 0..6 {
                    let ydiff = y_new[i] - y[i];
                    let bspl = h * k1[i] - ydiff;
                    step.r[0][i] = y[i];
                    step.r[1][i] = ydiff;
                    step.r[2][i] = bspl;
                    step.r[3][i] = ydiff - h * k7[i] - bspl;
                    step.r[4][i] = h
                        * (D1 * k1[i]
                            + D3 * k3[i]
                            + D4 * k4[i]
                            + D5 * k5[i]
                            + D6 * k6[i]
                            + D7 * k7[i]);
                }
                sink(&step);

                let g_new = event(t + h, &y_new);
                if g_old > 0.0 && g_new <= 0.0 {
                    let t_e = locate_event(&step, g_old, g_new, &mut event);
                    return Ok(Outcome::Event {
                        t_s: t_e,
                        y: step.eval(t_e),
                    });
                }
                g_old = g_new;
                t += h;
                y = y_new;
                k1 = k7;
                if last {
                    return Ok(Outcome::Reached { t_s: t, y });
                }
                h = dir * h_new.abs().min(self.tol.max_step_s);
            } else {
                h /= (fac11 / 0.9).min(5.0);
                self.stats.rejected += 1;
                last_rejected = true;
            }
        }
    }

    /// Starting step size (Hairer's `hinit`).
    fn initial_step<D: Dynamics + ?Sized>(
        &mut self,
        f: &D,
        t: f64,
        y: &[f64; 6],
        k1: &[f64; 6],
    ) -> f64 {
        let mut d0 = 0.0;
        let mut d1 = 0.0;
        for i in 0..6 {
            let s = self.scale(y, y, i);
            d0 += (y[i] / s).powi(2);
            d1 += (k1[i] / s).powi(2);
        }
        let (d0, d1) = ((d0 / 6.0).sqrt(), (d1 / 6.0).sqrt());
        let h0 = if d0 < 1e-10 || d1 < 1e-10 {
            1e-6
        } else {
            0.01 * d0 / d1
        };
        let mut y1 = [0.0; 6];
        for i in 0..6 {
            y1[i] = y[i] + h0 * k1[i];
        }
        let k2 = f.derivative(t + h0, &y1);
        self.stats.evaluations += 1;
        let mut d2 = 0.0;
        for i in 0..6 {
            let s = self.scale(y, y, i);
            d2 += ((k2[i] - k1[i]) / s).powi(2);
        }
        let d2 = (d2 / 6.0).sqrt() / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        (100.0 * h0).min(h1).min(self.tol.max_step_s)
    }
}

/// Finds the zero of the event function inside a step with the Illinois variant of regula falsi
/// on the dense output.
fn locate_event<E: FnMut(f64, &[f64; 6]) -> f64>(
    step: &DenseStep,
    g0: f64,
    g1: f64,
    event: &mut E,
) -> f64 {
    let (mut a, mut b) = (step.t0_s, step.t1_s());
    let (mut ga, mut gb) = (g0, g1);
    let mut side = 0i8;
    for _ in 0..100 {
        if (b - a).abs() < 1e-6 {
            break;
        }
        let c = (a * gb - b * ga) / (gb - ga);
        let c = if c.is_finite() && (c - a) * (c - b) < 0.0 {
            c
        } else {
            0.5 * (a + b)
        };
        let gc = event(c, &step.eval(c));
        if gc > 0.0 {
            a = c;
            ga = gc;
            if side == -1 {
                gb *= 0.5;
            }
            side = -1;
        } else {
            b = c;
            gb = gc;
            if side == 1 {
                ga *= 0.5;
            }
            side = 1;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Harmonic oscillator in each axis: exact solution known, checks order and dense output.
    #[test]
    fn harmonic_oscillator_and_dense_output_are_accurate() {
        let f = |_t: f64, y: &[f64; 6]| [y[3], y[4], y[5], -y[0], -y[1], -y[2]];
        let mut ig = Dopri5::new(Tolerances {
            rel: 1e-12,
            abs_pos_m: 1e-12,
            abs_vel_m_s: 1e-12,
            max_step_s: 1.0,
        });
        let mut steps = Vec::new();
        let out = ig
            .integrate(
                &f,
                0.0,
                [1.0, 0.0, 0.5, 0.0, 1.0, 0.0],
                10.0,
                |_, _| 1.0,
                |s| steps.push(*s),
            )
            .expect("integrates");
        let y = out.y();
        assert!((y[0] - 10f64.cos()).abs() < 1e-9);
        assert!((y[1] - 10f64.sin()).abs() < 1e-9);
        for s in &steps {
            let tm = s.t0_s + 0.37 * s.h_s;
            let ym = s.eval(tm);
            assert!((ym[0] - tm.cos()).abs() < 1e-8, "dense output at {tm}");
        }
    }

    #[test]
    fn event_is_located_precisely_and_backward_integration_works() {
        // Free fall from 100 m at 1 g: hits zero at sqrt(200/9.8).
        let f = |_t: f64, y: &[f64; 6]| [y[3], y[4], y[5], 0.0, 0.0, -9.8];
        let mut ig = Dopri5::new(Tolerances::PRECISE);
        let out = ig
            .integrate(
                &f,
                0.0,
                [0.0, 0.0, 100.0, 0.0, 0.0, 0.0],
                100.0,
                |_, y| y[2],
                |_| {},
            )
            .expect("integrates");
        let want = (200.0f64 / 9.8).sqrt();
        assert!(matches!(out, Outcome::Event { .. }));
        assert!((out.t_s() - want).abs() < 2e-6, "{} vs {want}", out.t_s());
        let back = ig
            .integrate(&f, out.t_s(), out.y(), 0.0, |_, _| 1.0, |_| {})
            .expect("integrates");
        assert!((back.y()[2] - 100.0).abs() < 1e-6);
    }

    #[test]
    fn non_finite_start_is_an_error() {
        let f = |_t: f64, y: &[f64; 6]| *y;
        let mut ig = Dopri5::new(Tolerances::SIMULATION);
        assert!(ig
            .integrate(&f, 0.0, [f64::NAN; 6], 1.0, |_, _| 1.0, |_| {})
            .is_err());
    }
}
