//! A simulated object's path: the integrator's dense-output steps, so the state is available
//! at any time between the first and last step (sensors sample it at their own times).

use tripoint_physics::geodesy::height_above_ellipsoid_m;
use tripoint_physics::integrator::DenseStep;

/// Why a trajectory ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Reached the ellipsoid (height 0).
    Impact,
    /// Replaced by fragments.
    BrokeUp,
    /// Still flying at the end of the simulated time.
    EndOfTime,
}

/// Piecewise-polynomial trajectory in ECEF (m, m/s), time in seconds since scenario start.
#[derive(Clone, Debug)]
pub struct Trajectory {
    t_start_s: f64,
    steps: Vec<DenseStep>,
    t_end_s: f64,
    y_end: [f64; 6],
    pub end: EndReason,
}

impl Trajectory {
    pub fn new(t_start_s: f64) -> Self {
        Self {
            t_start_s,
            steps: Vec::new(),
            t_end_s: t_start_s,
            y_end: [0.0; 6],
            end: EndReason::EndOfTime,
        }
    }

    pub(crate) fn push(&mut self, s: DenseStep) {
        self.steps.push(s);
    }

    pub(crate) fn finish(&mut self, t_s: f64, y: [f64; 6], end: EndReason) {
        self.t_end_s = t_s;
        self.y_end = y;
        self.end = end;
    }

    pub fn t_start_s(&self) -> f64 {
        self.t_start_s
    }
    pub fn t_end_s(&self) -> f64 {
        self.t_end_s
    }
    pub fn final_state(&self) -> [f64; 6] {
        self.y_end
    }
    pub fn steps(&self) -> &[DenseStep] {
        &self.steps
    }

    /// True when the object exists at `t_s`.
    pub fn alive_at(&self, t_s: f64) -> bool {
        t_s >= self.t_start_s && t_s <= self.t_end_s
    }

    /// State at `t_s`, or `None` outside the trajectory's life.
    pub fn state_at(&self, t_s: f64) -> Option<[f64; 6]> {
        if !self.alive_at(t_s) {
            return None;
        }
        if t_s == self.t_end_s {
            return Some(self.y_end);
        }
        let i = self.steps.partition_point(|s| s.t0_s <= t_s);
        let step = self.steps.get(i.checked_sub(1)?)?;
        Some(step.eval(t_s))
    }

    /// Highest point (time, height above the ellipsoid) found by sampling every step at
    /// eight points and refining the best with a golden-section search.
    pub fn apogee(&self) -> (f64, f64) {
        let h = |t: f64| {
            self.state_at(t).map_or(f64::NEG_INFINITY, |y| {
                height_above_ellipsoid_m([y[0], y[1], y[2]])
            })
        };
        let mut best = (self.t_start_s, h(self.t_start_s));
        let mut best_step = None;
        for (i, s) in self.steps.iter().enumerate() {
            for k in 0..=8 {
                let t = (s.t0_s + s.h_s * k as f64 / 8.0).min(self.t_end_s);
                let v = h(t);
                if v > best.1 {
                    best = (t, v);
                    best_step = Some(i);
                }
            }
        }
        if let Some(i) = best_step {
            let s = &self.steps[i];
            let dt = s.h_s / 8.0;
            let (mut a, mut b) = (
                (best.0 - dt).max(self.t_start_s),
                (best.0 + dt).min(self.t_end_s),
            );
            let gr = 0.618_033_988_749_895;
            for _ in 0..60 {
                let c = b - gr * (b - a);
                let d = a + gr * (b - a);
                if h(c) > h(d) {
                    b = d;
                } else {
                    a = c;
                }
            }
            let t = 0.5 * (a + b);
            let v = h(t);
            if v > best.1 {
                best = (t, v);
            }
        }
        best
    }
}
