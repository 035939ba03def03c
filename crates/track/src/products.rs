//! Per-track estimation products: instantaneous impact point (IIP) and time with covariance and
//! 95 % ellipse, launch point and time, apogee, ground track, and the ballistic / orbital /
//! unknown classification with its evidence.
//!
//! Uncertainty goes through the unscented transform (Julier & Uhlmann 2004): the 2n symmetric
//! sigma points of the track's position, velocity and drag marginal (n = 7) are each flown with
//! the full physics (J2, rotating Earth, drag with the track's β; thrust assumed to stop now, the
//! definition of an IIP) to the ellipsoid, and the impact points' spread in the local
//! east-north plane at the mean impact gives the covariance. The flight to impact adds the
//! free-flight model's process noise (q·T³/3 of position variance after T seconds, entered as
//! an equivalent velocity spread before the sigma points are flown). The 95 % ellipse scales
//! its eigen-axes by √χ²₂(0.95) = √5.991.

use rayon::prelude::*;
use serde::Serialize;
use tripoint_physics::dynamics::{BallisticDynamics, ForceModel};
use tripoint_physics::earth::GM_M3_S2;
use tripoint_physics::geodesy::{height_above_ellipsoid_m, radial_height_m};
use tripoint_physics::integrator::{Dopri5, Outcome, Tolerances};
use tripoint_physics::orbit::summarize;
use tripoint_physics::{vec3, Geodetic};

use crate::state::{GaussianState, StateVector, ACC, DRAG};

/// χ²₂ 95 % quantile.
pub const CHI2_2_95: f64 = 5.991_464_547_107_979;

/// A point on the ground with its uncertainty.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroundEstimate {
    /// Seconds since the tracker's reference epoch.
    pub t_s: f64,
    pub sigma_t_s: f64,
    pub lat_deg: f64,
    pub lon_deg: f64,
    /// Covariance in the local east-north plane (m²): [ee, en, nn].
    pub cov_en_m2: [f64; 3],
    pub ellipse95: Ellipse,
}

/// A confidence ellipse on the ground.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ellipse {
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    /// Direction of the major axis, clockwise from north (degrees, [0, 180)).
    pub orientation_deg: f64,
}

impl Ellipse {
    /// From an east-north covariance and a χ² quantile.
    pub fn from_cov(cov: [f64; 3], chi2: f64) -> Self {
        let (a, b, c) = (cov[0], cov[1], cov[2]);
        let tr = a + c;
        let det = a * c - b * b;
        let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
        let l1 = (tr / 2.0 + disc).max(0.0);
        let l2 = (tr / 2.0 - disc).max(0.0);
        // Eigenvector of l1: (b, l1 − a) in (east, north).
        let (ve, vn) = if b.abs() > 1e-12 {
            (b, l1 - a)
        } else if a >= c {
            (1.0, 0.0)
        } else {
            (0.0, 1.0)
        };
        let mut ori = ve.atan2(vn).to_degrees();
        if ori < 0.0 {
            ori += 180.0;
        }
        if ori >= 180.0 {
            ori -= 180.0;
        }
        Self {
            semi_major_m: (l1 * chi2).sqrt(),
            semi_minor_m: (l2 * chi2).sqrt(),
            orientation_deg: ori,
        }
    }

    /// True when an east-north offset (m) from the centre lies inside the ellipse given by the
    /// covariance at quantile `chi2`.
    pub fn contains(cov: [f64; 3], chi2: f64, de: f64, dn: f64) -> bool {
        Self::mahalanobis2(cov, de, dn).is_some_and(|d2| d2 <= chi2)
    }

    /// Squared Mahalanobis distance of an east-north offset (m) under the covariance
    /// `[ee, en, nn]` (m²); `None` when the covariance is not positive definite. For a
    /// calibrated 2-D estimate its mean over many draws is 2 (χ² with two degrees of freedom).
    pub fn mahalanobis2(cov: [f64; 3], de: f64, dn: f64) -> Option<f64> {
        let det = cov[0] * cov[2] - cov[1] * cov[1];
        if det <= 0.0 || cov[0] <= 0.0 {
            return None;
        }
        Some((cov[2] * de * de - 2.0 * cov[1] * de * dn + cov[0] * dn * dn) / det)
    }
}

/// Orbital or ballistic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Ballistic,
    Orbital,
    Unknown,
}

/// What the classification rests on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub perigee_alt_km: f64,
    pub apogee_alt_km: f64,
    pub specific_energy_mj_kg: f64,
    pub altitude_km: f64,
    pub flight_path_angle_deg: f64,
    pub speed_over_circular: f64,
    pub boost_probability: f64,
    /// The boost model's thrust acceleration along the velocity (m/s², negative when it points
    /// backwards), [`boost_thrust_along_m_s2`].
    pub thrust_along_m_s2: f64,
}

/// All products of one track at one time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Products {
    pub classification: Classification,
    pub evidence: Evidence,
    pub impact: Option<GroundEstimate>,
    pub launch: Option<GroundEstimate>,
    /// Highest point of the predicted flight (km above the ellipsoid) and when (s).
    pub apogee_alt_km: Option<f64>,
    pub apogee_t_s: Option<f64>,
    /// Predicted sub-object points every 30 s until impact (lat, lon degrees). Shared: the
    /// quick products of an update carry their reference's (a copy per update was a memory
    /// allocation on the path from a detection to its products).
    #[serde(serialize_with = "points")]
    pub ground_track: std::sync::Arc<[[f64; 2]]>,
}

fn points<S: serde::Serializer>(p: &std::sync::Arc<[[f64; 2]]>, s: S) -> Result<S::Ok, S::Error> {
    p.as_ref().serialize(s)
}

/// Products are published once a track's velocity sigma is below this (m/s): an impact point
/// from a velocity still uncertain by hundreds of m/s is noise, whatever its ellipse says.
pub const MAX_PRODUCT_SIGMA_V_M_S: f64 = 100.0;

/// True when a state's velocity is known well enough for products ([`MAX_PRODUCT_SIGMA_V_M_S`]).
pub fn converged(e: &GaussianState) -> bool {
    (e.p[(3, 3)] + e.p[(4, 4)] + e.p[(5, 5)]).max(0.0).sqrt() <= MAX_PRODUCT_SIGMA_V_M_S
}

/// When a track's products are due: at most every `every_s` per track, and only from a
/// converged velocity ([`MAX_PRODUCT_SIGMA_V_M_S`]).
#[derive(Clone, Debug, Default)]
pub struct ProductSchedule {
    pub every_s: f64,
    last: std::collections::HashMap<u64, f64>,
}

impl ProductSchedule {
    pub fn new(every_s: f64) -> Self {
        Self {
            every_s,
            last: Default::default(),
        }
    }

    /// Whether products of `track_id` with estimate `e` are due now; if so, records them as
    /// computed at `e.t_s`.
    pub fn due(&mut self, track_id: u64, e: &GaussianState) -> bool {
        let due = self.every_s.is_finite()
            && converged(e)
            && self
                .last
                .get(&track_id)
                .is_none_or(|&t| e.t_s - t >= self.every_s);
        if due {
            self.last.insert(track_id, e.t_s);
        }
        due
    }
}

/// Size of the position, velocity and log-drag marginal.
pub const N7: usize = 7;

/// The position, velocity and drag marginal, with the drag parameter c = 1000/β taken as
/// log-normal (sigma points in ln c): c is positive and its uncertainty spans orders of
/// magnitude before re-entry, so symmetric sigma points in c itself would fly absurd objects.
pub fn marginal7(
    s: &GaussianState,
) -> Option<(nalgebra::SVector<f64, N7>, nalgebra::SMatrix<f64, N7, N7>)> {
    let idx = [0, 1, 2, 3, 4, 5, DRAG];
    let c = s.x[DRAG].max(0.02);
    let var_c = s.p[(DRAG, DRAG)].max(0.0);
    let var_l = (1.0 + var_c / (c * c)).ln();
    let mut x = nalgebra::SVector::<f64, N7>::from_fn(|i, _| s.x[idx[i]]);
    x[6] = c.ln() - 0.5 * var_l;
    let mut p = nalgebra::SMatrix::<f64, N7, N7>::from_fn(|i, j| s.p[(idx[i], idx[j])]);
    for i in 0..6 {
        p[(i, 6)] /= c;
        p[(6, i)] /= c;
    }
    p[(6, 6)] = var_l;
    crate::state::regularize(&mut p);
    Some((x, p))
}

struct Flight {
    impact: Option<(f64, [f64; 3])>,
    apogee: (f64, f64),
    ground: Vec<[f64; 2]>,
}

/// Integration accuracy of the products' flights: within a metre of a millimetre-class
/// integration at impact after a 20-minute flight (0.6 m; test), far inside any impact ellipse,
/// with about 4× fewer steps than the decimetre-class setting used before.
pub const PRODUCT_TOLERANCES: Tolerances = Tolerances {
    rel: 1e-5,
    abs_pos_m: 10.0,
    abs_vel_m_s: 1e-2,
    max_step_s: 120.0,
};

fn fly(t0: f64, y: [f64; 6], c: f64, record: bool, max_s: f64) -> Flight {
    fly_with(PRODUCT_TOLERANCES, t0, y, c, record, max_s)
}

fn fly_with(tol: Tolerances, t0: f64, y: [f64; 6], c: f64, record: bool, max_s: f64) -> Flight {
    fly_sampled(tol, t0, y, c, record, max_s, false)
}

/// [`fly_with`]; with `every_sample`, the apogee sampled in every step (the reference for the
/// test of the steps it skips).
fn fly_sampled(
    tol: Tolerances,
    t0: f64,
    y: [f64; 6],
    c: f64,
    record: bool,
    max_s: f64,
    every_sample: bool,
) -> Flight {
    let beta = 1000.0 / c.clamp(0.02, 100.0);
    let dynamics = BallisticDynamics(ForceModel::with_tabulated_drag(beta));
    let mut ig = Dopri5::new(tol);
    let mut apogee = (t0, height_above_ellipsoid_m([y[0], y[1], y[2]]));
    let mut ground = Vec::new();
    let mut next_ground = t0;
    let mut fell_before = false;
    let h0 = apogee.1;
    let out = ig.integrate(
        &dynamics,
        t0,
        y,
        t0 + max_s,
        // Event at zero height; an object starting below 1 km (a pad) needs to climb first.
        // The radial height is exactly zero where the geodetic one is, and trig-free.
        |_, yy| {
            let h = radial_height_m([yy[0], yy[1], yy[2]]);
            if h0 < 0.0 {
                h - h0 + 1.0
            } else {
                h
            }
        },
        |step| {
            if record {
                // The apogee is the highest of samples every 2 s of each step. A step of at
                // most 120 s holds at most one turning point of the height (they are half an
                // orbit apart), so a step that climbs at both ends climbs all through (the
                // radial velocity above 1 % of the speed: more than the 0.19° between the
                // radius and the ellipsoid's normal can turn, so the geodetic height climbs
                // too), and its highest sample is its last; and a step that falls at both ends
                // after a step that started falling is below that one's samples. Only the other
                // steps (about the apogee) need every sample for it (the same apogee and ground
                // track as sampling every one: test `a_flight_records_the_apogee_of_its_samples`).
                let vertical = |y: [f64; 6]| {
                    let (r, v) = vec3::split(&y);
                    let margin = 0.01 * vec3::norm(r) * vec3::norm(v);
                    let rv = vec3::dot(r, v);
                    (rv > margin, rv < -margin)
                };
                let (climbs_from, falls_from) = vertical(step.y0());
                let (climbs_to, falls_to) = vertical(step.eval(step.t1_s()));
                let apogee_in = if every_sample {
                    ApogeeIn::Every
                } else if climbs_from && climbs_to {
                    ApogeeIn::Last
                } else if fell_before && falls_from && falls_to {
                    ApogeeIn::None
                } else {
                    ApogeeIn::Every
                };
                fell_before = falls_from;
                let mut t = step.t0_s;
                while t <= step.t1_s() {
                    let sample_apogee = match apogee_in {
                        ApogeeIn::Every => true,
                        ApogeeIn::Last => t + 2.0 > step.t1_s(),
                        ApogeeIn::None => false,
                    };
                    if sample_apogee || t >= next_ground {
                        let s = step.eval(t);
                        if sample_apogee {
                            let h = height_above_ellipsoid_m([s[0], s[1], s[2]]);
                            if h > apogee.1 {
                                apogee = (t, h);
                            }
                        }
                        if t >= next_ground {
                            if let Ok(g) = Geodetic::from_ecef_m([s[0], s[1], s[2]]) {
                                ground.push([g.lat_deg(), g.lon_deg()]);
                            }
                            next_ground += 30.0;
                        }
                    }
                    t += 2.0;
                }
            }
        },
    );
    let impact = match out {
        Ok(Outcome::Event { t_s, y }) => Some((t_s, [y[0], y[1], y[2]])),
        _ => None,
    };
    Flight {
        impact,
        apogee,
        ground,
    }
}

/// Which of a step's samples can hold the flight's apogee ([`fly_sampled`]).
enum ApogeeIn {
    Every,
    Last,
    None,
}

/// Mean position (ECEF) and time of a set of ground points, and the geodetic point under it.
fn mean_point(points: &[(f64, [f64; 3])]) -> Option<([f64; 3], f64, Geodetic)> {
    let n = points.len() as f64;
    let mean_r = points.iter().fold([0.0; 3], |a, (_, p)| vec3::add(a, *p));
    let mean_r = vec3::scale(mean_r, 1.0 / n);
    let mean_t = points.iter().map(|(t, _)| t).sum::<f64>() / n;
    Some((mean_r, mean_t, Geodetic::from_ecef_m(mean_r).ok()?))
}

/// The products' sigma points sit at x̄ ± √m·σ along the columns of chol(m P), m = 3: the
/// unscented transform with κ = 3 − n (Julier & Uhlmann, "A new extension of the Kalman filter
/// to nonlinear systems", 1997), whose points match a Gaussian's fourth moment along each
/// axis. With m = n = 7 (κ = 0, used until 2026-12-03) the points sat at ±2.6 σ, where the
/// impact depends on ln c far from linearly (β from a sixth to six times its median): for
/// c = exp(u), u ~ N(0, 0.7²), such points give var(c) 2.0 against a true 1.03, and a mean
/// pulled towards light, short-falling objects. Measured on `score --monte-carlo 100`: the
/// lofted ICBM's median d² 0.70 → 1.08 (1.39 when calibrated), the IRBM's median miss a
/// minute after burnout 1.20 → 0.81 km with β drawn, coverage 94–99 % either way. The
/// ellipse and the linearisation's nonlinear part Ω take weight 1/(2m) per point (a linear
/// map's covariance stays exact, `scaled`; the centre's weight 1 − n/m is left out, which
/// keeps Ω positive semi-definite).
pub const SIGMA_SPREAD: f64 = 3.0;

/// `g` with its covariance (and time sigma) multiplied by `k`.
fn scaled(mut g: GroundEstimate, k: f64) -> GroundEstimate {
    for c in &mut g.cov_en_m2 {
        *c *= k;
    }
    g.sigma_t_s *= k.sqrt();
    g.ellipse95 = Ellipse::from_cov(g.cov_en_m2, CHI2_2_95);
    g
}

/// Spread of a set of ground points (ECEF) and times into a [`GroundEstimate`].
fn ground_estimate(points: &[(f64, [f64; 3])]) -> Option<GroundEstimate> {
    let n = points.len() as f64;
    let (mean_r, mean_t, g) = mean_point(points)?;
    let (e, nn) = (g.east_ecef(), g.north_ecef());
    let mut cov = [0.0; 3];
    let mut vt = 0.0;
    for (t, p) in points {
        let d = vec3::sub(*p, mean_r);
        let de = vec3::dot(d, e);
        let dn = vec3::dot(d, nn);
        cov[0] += de * de / n;
        cov[1] += de * dn / n;
        cov[2] += dn * dn / n;
        vt += (t - mean_t).powi(2) / n;
    }
    Some(GroundEstimate {
        t_s: mean_t,
        sigma_t_s: vt.sqrt(),
        lat_deg: g.lat_deg(),
        lon_deg: g.lon_deg(),
        cov_en_m2: cov,
        ellipse95: Ellipse::from_cov(cov, CHI2_2_95),
    })
}

/// Smallest thrust acceleration along the velocity (m/s²) that counts as powered flight: a
/// ballistic-missile or launcher stage accelerates at 1 g or more.
pub const MIN_BOOST_M_S2: f64 = 5.0;

/// The boost model's thrust acceleration along the velocity (m/s²) from the combined state
/// `s` of an IMM whose boost model has probability `boost_probability`: the unpowered models
/// hold no thrust, so the combined thrust is μ_boost times the boost model's. Zero when the
/// boost model has no weight or the track does not move.
pub fn boost_thrust_along_m_s2(s: &GaussianState, boost_probability: f64) -> f64 {
    let v = s.velocity();
    let speed = vec3::norm(v);
    if boost_probability <= 0.0 || speed <= 0.0 {
        return 0.0;
    }
    let a = [s.x[ACC], s.x[ACC + 1], s.x[ACC + 2]];
    vec3::dot(a, v) / speed / boost_probability
}

/// Classification from a state and the boost-mode probability.
///
/// Powered flight (`Unknown` until it is seen to head for orbit) needs the boost model to be
/// the more probable and its thrust to push forward by at least [`MIN_BOOST_M_S2`]. A body
/// slowing down in dense air can make the boost model probable, its "thrust" then pointing
/// backwards: that is drag, and the body is ballistic. (Without this test, fragments coming
/// down through 12–20 km in `breakup` flipped between ballistic and unknown every few seconds
/// as their boost probability swung about 0.5.)
pub fn classify(s: &GaussianState, boost_probability: f64) -> (Classification, Evidence) {
    let r = s.position();
    let v = s.velocity();
    let o = summarize(r, v);
    let vi = tripoint_physics::dynamics::inertial_velocity(r, v);
    let rn = vec3::norm(r);
    let h = height_above_ellipsoid_m(r);
    let gamma = vec3::dot(vec3::unit(r), vec3::unit(vi))
        .clamp(-1.0, 1.0)
        .asin();
    let ratio = vec3::norm(vi) / (GM_M3_S2 / rn).sqrt();
    let ev = Evidence {
        perigee_alt_km: o.perigee_alt_m / 1e3,
        apogee_alt_km: o.apogee_alt_m / 1e3,
        specific_energy_mj_kg: o.specific_energy_j_kg / 1e6,
        altitude_km: h / 1e3,
        flight_path_angle_deg: gamma.to_degrees(),
        speed_over_circular: ratio,
        boost_probability,
        thrust_along_m_s2: boost_thrust_along_m_s2(s, boost_probability),
    };
    let class = if o.perigee_alt_m > 100e3 || o.specific_energy_j_kg >= 0.0 {
        Classification::Orbital
    } else if boost_probability > 0.5 && ev.thrust_along_m_s2 >= MIN_BOOST_M_S2 {
        // Still thrusting. A vehicle flattening out high above the atmosphere at most of
        // circular speed is heading for orbit (no ballistic missile needs to).
        if h > 200e3 && gamma.abs() < 15f64.to_radians() && ratio > 0.75 {
            Classification::Orbital
        } else {
            Classification::Unknown
        }
    } else {
        // Unpowered with its perigee inside the atmosphere: it will come down.
        Classification::Ballistic
    };
    (class, ev)
}

/// How long (s) a track's classification from [`classify`] must stay changed between
/// ballistic and powered (`Unknown`) before the products show the change. A track hopping
/// between fragments of a debris cloud sees accelerations of 5–50 m/s² that no fragment has,
/// for a few seconds, and the boost model takes them: on `slv-failure` 12 of its 15 false
/// "powered" spells were gone within 2–7 s, and `breakup` had 75 such spells (every one on
/// objects whose true non-gravitational acceleration was nil). A rocket stage burns for tens
/// of seconds, so a real change shows 4 s late. Orbital is never held: it is shown when seen.
pub const CLASS_HOLD_S: f64 = 4.0;

/// A track's shown classification: [`classify`]'s with a hold of [`CLASS_HOLD_S`] on changes
/// between ballistic and powered.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClassHold {
    shown: Option<Classification>,
    /// A raw classification differing from the shown one, and since when (s).
    pending: Option<(Classification, f64)>,
}

impl ClassHold {
    /// What to show at `t_s` for the raw classification `raw`, leaving the hold as it is.
    pub fn peek(&self, t_s: f64, raw: Classification) -> Classification {
        self.step(t_s, raw).0
    }

    /// What to show at `t_s` for `raw`, remembered (the same `t_s` and `raw` twice change
    /// nothing).
    pub fn commit(&mut self, t_s: f64, raw: Classification) -> Classification {
        let (shown, next) = self.step(t_s, raw);
        *self = next;
        shown
    }

    fn step(&self, t_s: f64, raw: Classification) -> (Classification, ClassHold) {
        let show = |c: Classification, pending| {
            (
                c,
                ClassHold {
                    shown: Some(c),
                    pending,
                },
            )
        };
        let Some(shown) = self.shown.filter(|&c| c != raw) else {
            return show(raw, None);
        };
        use Classification::{Ballistic, Unknown};
        let held = matches!((shown, raw), (Ballistic, Unknown) | (Unknown, Ballistic));
        let since = match self.pending {
            Some((c, since)) if c == raw => since,
            _ => t_s,
        };
        if held && t_s - since < CLASS_HOLD_S {
            show(shown, Some((raw, since)))
        } else {
            show(raw, None)
        }
    }
}

/// Computes a track's products. `boost_probability` is the IMM's boost-mode probability;
/// `early` is an early state of the track (near launch) for the launch-point estimate.
pub fn products(
    s: &GaussianState,
    boost_probability: f64,
    early: Option<(&GaussianState, f64)>,
) -> Products {
    products_with_linearisation(s, boost_probability, early).0
}

/// [`products`], and the impact's statistical linearisation around this state for cheap
/// updates ([`linearised_impact`]), when there is an impact.
pub fn products_with_linearisation(
    s: &GaussianState,
    boost_probability: f64,
    early: Option<(&GaussianState, f64)>,
) -> (Products, Option<ImpactLinearisation>) {
    let (classification, evidence) = classify(s, boost_probability);
    // No flight noise is added on the way to the ground: above the atmosphere the dynamics
    // are the whole story, and inside it the drag parameter's uncertainty carries the rest.
    // (A white-acceleration density of 3.5·10⁻³ was added here while a ghost track on the
    // ICBM's warhead and its spent stage made the errors; without the ghost it was the largest
    // part of ellipses far too wide: the truth's median d² on the lofted ICBM 0.03 with it,
    // 0.48 without, 1.39 for calibrated ellipses.)
    let sigma = (classification != Classification::Orbital)
        .then(|| marginal7(s))
        .flatten()
        .and_then(|(x7, p7)| Some((x7, (p7 * SIGMA_SPREAD).cholesky()?.l())));
    // The mean's flight and the sigma points' are independent: together over the thread pool,
    // so a track whose products wait for this computation gets them from both cores (the
    // sigma points in order; any flight that never lands voids them all, and they count only
    // if the mean's lands: they are flown alongside it, not after). A mean that never lands
    // (three hours of flight: an object going to orbit, not yet classified so) stops the
    // sigma points' flights not yet begun, so such a state costs about two flights, not 15.
    let void = std::sync::atomic::AtomicBool::new(false);
    let (mean, pts) = rayon::join(
        || {
            let mean = fly(s.t_s, s.rv(), s.x[DRAG], true, 3.0 * 3600.0);
            if mean.impact.is_none() {
                void.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            mean
        },
        || {
            let (x7, l) = sigma.as_ref()?;
            (0..2 * N7)
                .into_par_iter()
                .map(|k| {
                    if void.load(std::sync::atomic::Ordering::Relaxed) {
                        return None;
                    }
                    let sign = if k < N7 { 1.0 } else { -1.0 };
                    let xi = x7 + l.column(k % N7) * sign;
                    let y = [xi[0], xi[1], xi[2], xi[3], xi[4], xi[5]];
                    fly(s.t_s, y, xi[6].exp(), false, 3.0 * 3600.0).impact
                })
                .collect::<Option<Vec<_>>>()
        },
    );
    let mut impact = None;
    let mut linearisation = None;
    if let (Some((x7, l)), Some(pts), Some(_)) = (sigma, pts, mean.impact) {
        impact = ground_estimate(&pts).map(|g| scaled(g, N7 as f64 / SIGMA_SPREAD));
        linearisation = ImpactLinearisation::fit(s.t_s, x7, l, &pts);
    }
    let launch = early.and_then(|(e, pb)| launch_point(e, pb));
    let (apogee_alt_km, apogee_t_s) =
        if mean.impact.is_some() || classification == Classification::Ballistic {
            (Some(mean.apogee.1 / 1e3), Some(mean.apogee.0))
        } else {
            (None, None)
        };
    (
        Products {
            classification,
            evidence,
            impact,
            launch,
            apogee_alt_km,
            apogee_t_s,
            ground_track: mean.ground.into(),
        },
        linearisation,
    )
}

/// The impact point's statistical linear regression on the state, from the sigma points of a
/// full product computation (Lefebvre, Bruyninckx & De Schutter, "Comment on 'A new method for
/// the nonlinear transformation of means and covariances'", IEEE TAC 47(8), 2002): with the
/// symmetric sigma points x̄ ± Lₖ (L = chol(m P), m = [`SIGMA_SPREAD`]) flown to impacts Yₖ±
/// (east, north and time about their mean), dₖ = (Yₖ₊ − Yₖ₋)/2 and sₖ = (Yₖ₊ + Yₖ₋)/2,
///
/// ```text
/// J = D L⁻¹            (Y ≈ J δx; at δx = 0 and the same P it gives the UT's covariance:)
/// J P Jᵀ = (1/m) Σ dₖdₖᵀ,   Ω = (1/m) Σ sₖsₖᵀ ⪰ 0   (the nonlinear part).
/// ```
///
/// A later state (x₁, P₁) at t₁ is mapped back to the reference time t₀ along its own
/// ballistic flight (x_b = f(x₁, t₀ − t₁), P_b = Φ P₁ Φᵀ: the same flight lands at the same
/// place and time, so an IIP is invariant along it, which also holds for a state still under
/// thrust: its IIP is that of its ballistic continuation), and then
/// impact = Ȳ + J (x_b − x̄), C = J P_b Jᵀ + Ω. Valid while x_b and P_b stay inside the
/// region the sigma points sampled; outside it [`linearised_impact`] refuses.
#[derive(Clone, Debug, PartialEq)]
pub struct ImpactLinearisation {
    /// Reference time (s).
    pub t_s: f64,
    x7: nalgebra::SVector<f64, N7>,
    /// chol(n P₇) at the reference.
    l: nalgebra::SMatrix<f64, N7, N7>,
    j: nalgebra::SMatrix<f64, 3, N7>,
    omega: nalgebra::Matrix3<f64>,
    /// Each sigma direction's share of the reference's ground ellipse: dₖᵀ C⁻¹ dₖ / n over the
    /// east-north block (they sum to at most 2).
    share: [f64; N7],
    centre: [f64; 3],
    east: [f64; 3],
    north: [f64; 3],
    t_impact_s: f64,
}

/// Why a linearised impact was not given: the state left the region the reference's sigma
/// points sampled, so only a full computation is right.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stale {
    /// Squared Mahalanobis distance of the mapped-back mean from the reference mean (under the
    /// reference covariance) above [`MAX_LINEAR_D2`].
    Moved(f64),
    /// Mean variance ratio (tr(P₀⁻¹ P_b)/n) above [`MAX_LINEAR_SPREAD`]: the uncertainty grew.
    Spread(f64),
    /// The variance along a sigma direction that matters for the ground ellipse fell below
    /// 1/[`MAX_LINEAR_SPREAD`] of the reference's (for provisional products of a reference
    /// made ahead, below [`AHEAD_MIN_RATIO`]).
    Shrunk(f64),
    /// A covariance could not be factorised.
    Numerical,
}

/// The mapped-back mean may be this far (squared Mahalanobis distance under the reference
/// covariance) from the reference mean: two sigmas, about the region the sigma points sampled
/// (they sit at √3 ≈ 1.7 sigmas, [`SIGMA_SPREAD`]; the regression is a secant across them). On
/// the IRBM scenario's tracks the linearised impact is then within 0.02 sigma of the full one at p99
/// (test `linearised_products_agree_with_full_products_on_the_irbm_tracks`; 1 sigma gave the
/// same accuracy with twice the refusals).
pub const MAX_LINEAR_D2: f64 = 4.0;

/// Below this height (m), on the way up, products are computed in full, never linearised or
/// provisional ([`LiveProducts::quick`]).
pub const LINEAR_MIN_HEIGHT_M: f64 = 120e3;

/// The uncertainty may grow this much over the reference's (mean variance ratio), or shrink
/// this much along a sigma direction with more than [`MIN_SHARE`] of the ground ellipse.
pub const MAX_LINEAR_SPREAD: f64 = 1.5;

/// Provisional products ([`LiveProducts::provisional`]) may come from a state this far from
/// the reference (squared Mahalanobis distance: four sigmas) and this much more uncertain
/// (variance ratio): on the `breakup` tracks, measured against the full computation made
/// right after, such products were within 0.41 sigma of the full impact at p99 and their
/// ellipse axes 0.79–1.13 of the full ones at p1–p99, like those of references that were only
/// due by age (0.38 sigma, 0.82–1.20); beyond them the error grew (moved more than ten sigmas:
/// 2 sigmas off at p99; spread over 5×: axes up to 2.9×). The full computation follows at once,
/// off the detection-to-product path.
pub const MAX_PROVISIONAL_D2: f64 = 16.0;
pub const MAX_PROVISIONAL_SPREAD: f64 = 3.0;

/// A sigma direction's share of the ground ellipse (of 2) above which its shrinking refuses
/// (0.1 left the IRBM test's ellipse axes 5.9 % off at p99; 0.02 gives 3.9 %).
pub const MIN_SHARE: f64 = 0.02;

impl ImpactLinearisation {
    fn fit(
        t_s: f64,
        x7: nalgebra::SVector<f64, N7>,
        l: nalgebra::SMatrix<f64, N7, N7>,
        pts: &[(f64, [f64; 3])],
    ) -> Option<Self> {
        if pts.len() != 2 * N7 {
            return None;
        }
        let (centre, t_impact_s, g) = mean_point(pts)?;
        let (east, north) = (g.east_ecef(), g.north_ecef());
        let y = |k: usize| {
            let (t, p) = pts[k];
            let d = vec3::sub(p, centre);
            nalgebra::Vector3::new(vec3::dot(d, east), vec3::dot(d, north), t - t_impact_s)
        };
        let mut d = nalgebra::SMatrix::<f64, 3, N7>::zeros();
        let mut omega = nalgebra::Matrix3::zeros();
        for k in 0..N7 {
            let (plus, minus) = (y(k), y(k + N7));
            d.set_column(k, &((plus - minus) * 0.5));
            let sk = (plus + minus) * 0.5;
            omega += sk * sk.transpose() / SIGMA_SPREAD;
        }
        let c: nalgebra::Matrix2<f64> = (d * d.transpose() / SIGMA_SPREAD + omega)
            .fixed_view::<2, 2>(0, 0)
            .into();
        let c_inv = c.try_inverse()?;
        let share = std::array::from_fn(|k| {
            let dk = nalgebra::Vector2::new(d[(0, k)], d[(1, k)]);
            dk.dot(&(c_inv * dk)) / SIGMA_SPREAD
        });
        // J = D L⁻¹, i.e. Lᵀ Jᵀ = Dᵀ.
        let jt = l.transpose().solve_upper_triangular(&d.transpose())?;
        Some(Self {
            t_s,
            x7,
            l,
            j: jt.transpose(),
            omega,
            share,
            centre,
            east,
            north,
            t_impact_s,
        })
    }
}

/// The impact point of a later state `s` of the same object from a full computation's
/// [`ImpactLinearisation`]: a few microseconds instead of fifteen flights to the ground. Refuses
/// ([`Stale`]) when the state is outside the region the linearisation is good for.
pub fn linearised_impact(
    lin: &ImpactLinearisation,
    s: &GaussianState,
) -> Result<GroundEstimate, Stale> {
    let m = map_back(lin, s)?;
    STRICT.admit(&m)?;
    Ok(m.impact)
}

/// How far a state may be from its reference for a linearised impact: the largest squared
/// Mahalanobis distance and variance ratio, and whether shrinking along a sigma direction
/// refuses.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Limits {
    d2: f64,
    spread: f64,
    /// The smallest variance ratio (state over reference) allowed along a sigma direction
    /// with more than [`MIN_SHARE`] of the ground ellipse (0: any).
    min_ratio: f64,
}

/// Updates published as linearised ([`LiveProducts::quick`]).
const STRICT: Limits = Limits {
    d2: MAX_LINEAR_D2,
    spread: MAX_LINEAR_SPREAD,
    min_ratio: 1.0 / MAX_LINEAR_SPREAD,
};

/// Provisional products, ahead of a due full computation ([`LiveProducts::provisional`]). A
/// state that is tighter than the reference along some direction is still inside the region
/// the sigma points sampled (its ellipse axes are then a few per cent off: the secant's slope
/// across the reference's wider spread).
const LENIENT: Limits = Limits {
    d2: MAX_PROVISIONAL_D2,
    spread: MAX_PROVISIONAL_SPREAD,
    min_ratio: 0.0,
};

/// Provisional products from a reference made ahead of a batch from the track's prediction
/// ([`LiveProducts::refresh_ahead`]).
const AHEAD: Limits = Limits {
    d2: MAX_LINEAR_D2,
    spread: MAX_LINEAR_SPREAD,
    min_ratio: AHEAD_MIN_RATIO,
};

impl Limits {
    /// Whether a mapped-back state is inside these limits ([`Stale`] says why not).
    fn admit(&self, m: &Mapped) -> Result<(), Stale> {
        // Written so that a NaN refuses.
        if m.d2.is_nan() || m.d2 > self.d2 {
            return Err(Stale::Moved(m.d2));
        }
        if m.spread.is_nan() || m.spread > self.spread {
            return Err(Stale::Spread(m.spread));
        }
        match m.least_ratio {
            Some(rho) if rho < self.min_ratio => Err(Stale::Shrunk(rho)),
            _ => Ok(()),
        }
    }
}

/// A later state mapped back to its reference: how far it moved and how much it spread or
/// shrank there (what [`Limits::admit`] judges), and its linearised impact.
struct Mapped {
    d2: f64,
    spread: f64,
    /// The least variance ratio along the sigma directions that carry more than
    /// [`MIN_SHARE`] of the ground ellipse (None if none does).
    least_ratio: Option<f64>,
    impact: GroundEstimate,
}

/// Maps `s` back to `lin`'s reference and linearises its impact (once, whatever limits then
/// judge it; only a numerical failure refuses here).
fn map_back(lin: &ImpactLinearisation, s: &GaussianState) -> Result<Mapped, Stale> {
    // Back along the state's own ballistic flight to the reference time. A reference made
    // ahead of the batch is at the state's own time: Φ is then the identity on the states
    // `marginal7` takes (one RK4 step of length 0 and Φ P Φᵀ were ~40 % of this function).
    let dt = lin.t_s - s.t_s;
    let flown;
    let back = if dt == 0.0 {
        s
    } else {
        let (xb, phi) = crate::motion::MotionModel::FREE_FLIGHT.propagate_with_transition(&s.x, dt);
        flown = GaussianState {
            x: xb,
            p: crate::motion::MotionModel::FREE_FLIGHT.transform_covariance(&phi, &s.p),
            t_s: lin.t_s,
        };
        &flown
    };
    let (x7, p7) = marginal7(back).ok_or(Stale::Numerical)?;
    let delta = x7 - lin.x7;
    // Distances under the reference covariance P₀ = L Lᵀ / m.
    let z = lin
        .l
        .solve_lower_triangular(&delta)
        .ok_or(Stale::Numerical)?;
    let d2 = z.norm_squared() * SIGMA_SPREAD;
    let a = lin.l.solve_lower_triangular(&p7).ok_or(Stale::Numerical)?;
    let b = lin
        .l
        .solve_lower_triangular(&a.transpose())
        .ok_or(Stale::Numerical)?;
    let spread = b.trace() * SIGMA_SPREAD / N7 as f64;
    let y = lin.j * delta;
    // Nor may it shrink too much (the limits' least ratio) along a sigma direction that carries
    // more than MIN_SHARE of the ground ellipse: the regression is a secant across the
    // reference's spread, and with the state much tighter along a direction the impact depends
    // on nonlinearly (late in flight, the drag parameter) it held the ellipse's minor axis
    // 10–19 % wide.
    let least_ratio = (0..N7)
        .map(|k| b[(k, k)] * SIGMA_SPREAD)
        .zip(lin.share)
        .filter(|&(_, share)| share > MIN_SHARE)
        .map(|(rho, _)| rho)
        .reduce(f64::min);
    let c = lin.j * p7 * lin.j.transpose() + lin.omega;
    let point = vec3::add(
        lin.centre,
        vec3::add(vec3::scale(lin.east, y[0]), vec3::scale(lin.north, y[1])),
    );
    let g = Geodetic::from_ecef_m(point).map_err(|_| Stale::Numerical)?;
    let cov = [c[(0, 0)], 0.5 * (c[(0, 1)] + c[(1, 0)]), c[(1, 1)]];
    Ok(Mapped {
        d2,
        spread,
        least_ratio,
        impact: GroundEstimate {
            t_s: lin.t_impact_s + y[2],
            sigma_t_s: c[(2, 2)].max(0.0).sqrt(),
            lat_deg: g.lat_deg(),
            lon_deg: g.lon_deg(),
            cov_en_m2: cov,
            ellipse95: Ellipse::from_cov(cov, CHI2_2_95),
        },
    })
}

/// How a product was computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum Basis {
    /// Every flight to the ground flown for this state.
    Full,
    /// Updated from a full computation `age_s` seconds older ([`linearised_impact`]; the
    /// apogee and ground track are that computation's).
    Linearised { age_s: f64 },
    /// Linearised like `Linearised`, from a reference that is due for renewal (older than
    /// [`LiveProducts::refresh_s`], or the state shrank, moved or spread past the linearised
    /// region but within [`MAX_PROVISIONAL_D2`] and [`MAX_PROVISIONAL_SPREAD`]): published at
    /// once, with a full computation to follow
    /// ([`LiveProducts::provisional`]; on the IRBM tracks its ellipse axes are within 5 % of
    /// the full computation's at p1 and p99, test
    /// `linearised_products_agree_with_full_products_on_the_irbm_tracks`).
    Provisional { age_s: f64 },
}

/// One track's last full products and their linearisation.
#[derive(Clone, Debug)]
struct Reference {
    t_s: f64,
    products: Products,
    linearisation: Option<ImpactLinearisation>,
    had_early: bool,
    /// The limits of its provisional products: [`AHEAD`] for a reference made ahead of a
    /// batch from a prediction ([`LiveProducts::refresh_ahead`]), else [`LENIENT`].
    provisional: Limits,
    /// Whether the boost model was in the IMM's active set (μ_boost > 0).
    boost_active: bool,
    /// The classification shown, with its hold.
    hold: ClassHold,
}

/// Products for every track update, at a few microseconds each: a full computation
/// ([`products_with_linearisation`]) becomes the track's reference, and later updates get
/// their impact from it by [`linearised_impact`] (classification and evidence are recomputed,
/// they are closed-form) until the reference is `refresh_s` old, the classification changes,
/// a launch-point state appears, or the state leaves the linearisation's region. Then
/// [`LiveProducts::quick`] says no and the caller runs [`LiveProducts::refresh`], which a
/// real-time node does after publishing what was quick (off the detection-to-product path).
#[derive(Clone, Debug)]
pub struct LiveProducts {
    pub refresh_s: f64,
    refs: std::collections::HashMap<u64, Reference>,
    /// Full computations and linearised updates made.
    pub full: usize,
    pub linearised: usize,
    /// Linearised updates refused because the state moved or spread out of the reference.
    pub stale: usize,
    /// Provisional products published ahead of a full computation.
    pub provisional: usize,
    /// References made ahead of a batch from the tracks' predictions
    /// ([`LiveProducts::refresh_ahead`]).
    pub ahead: usize,
}

/// A track due a full recomputation: id, state, boost probability, early state.
pub type RefreshItem<'a> = (
    u64,
    &'a GaussianState,
    f64,
    Option<(&'a GaussianState, f64)>,
);

/// What a reference says of a later state ([`LiveProducts::linearise`]).
#[derive(Debug)]
struct Said {
    products: Products,
    /// The track, the state's time and the raw classification the shown one came from (for
    /// its hold).
    id: u64,
    t_s: f64,
    raw: Classification,
    age_s: f64,
    /// `Ok` when good as linearised products, else whether the refusal was for the state's
    /// region (stale).
    strict: Result<(), bool>,
}

/// Quick products made by [`LiveProducts::prepare`] (or nothing), to be
/// [`LiveProducts::publish`]ed.
#[derive(Debug)]
pub struct Prepared(Result<Said, bool>);

/// A track update for [`LiveProducts::quick_many`]: id, state, boost probability, whether the
/// track has an early (launch-point) state.
pub type QuickItem<'a> = (u64, &'a GaussianState, f64, bool);

/// References are made ahead of a batch ([`LiveProducts::refresh_ahead`]) from predictions
/// whose velocity sigma is within this (m/s): products need the posterior's within
/// [`MAX_PRODUCT_SIGMA_V_M_S`], and a young track's update can shrink it severalfold.
pub const AHEAD_MAX_SIGMA_V_M_S: f64 = 3.0 * MAX_PRODUCT_SIGMA_V_M_S;

/// A reference made ahead was sampled over the prediction's spread, which the batch's update
/// then shrinks. Its provisional products are refused where the update shrank a direction that
/// matters for the ground ellipse below a third of the prediction's variance: on `breakup`,
/// against the full computation, the provisional products left were within 0.18 sigma of the
/// full impact at p99 and their ellipse axes 0.93–1.09 of the full ones at p1–p99; without
/// this floor 0.58 sigma and up to 1.50 (a half gave 0.11 sigma, 0.93–1.07, with a third more
/// updates refused; bench section `references ahead`).
pub const AHEAD_MIN_RATIO: f64 = 1.0 / 3.0;

/// Whether a state is in the region where products may be linearised: not on the way up
/// below [`LINEAR_MIN_HEIGHT_M`].
pub fn linear_region(s: &GaussianState) -> bool {
    let up = vec3::dot(s.position(), s.velocity()) > 0.0;
    !(up && height_above_ellipsoid_m(s.position()) < LINEAR_MIN_HEIGHT_M)
}

/// Default age after which a track's reference is recomputed in full (s).
pub const REFRESH_S: f64 = 10.0;

impl Default for LiveProducts {
    fn default() -> Self {
        Self::new(REFRESH_S)
    }
}

impl LiveProducts {
    pub fn new(refresh_s: f64) -> Self {
        Self {
            refresh_s,
            refs: Default::default(),
            full: 0,
            linearised: 0,
            stale: 0,
            provisional: 0,
            ahead: 0,
        }
    }

    /// The products of track `id` at state `s` from its reference, or `None` when a full
    /// computation is needed.
    pub fn quick(
        &mut self,
        id: u64,
        s: &GaussianState,
        boost_probability: f64,
        has_early: bool,
    ) -> Option<(Products, Basis)> {
        match self.linearise(id, s, boost_probability, has_early) {
            Ok(Said {
                products,
                id,
                raw,
                age_s,
                strict: Ok(()),
                ..
            }) => {
                self.hold(id, s.t_s, raw);
                self.linearised += 1;
                Some((products, Basis::Linearised { age_s }))
            }
            Ok(Said {
                strict: Err(stale), ..
            })
            | Err(stale) => {
                self.stale += usize::from(stale);
                None
            }
        }
    }

    /// When [`LiveProducts::quick`] refused: products to publish while the full computation
    /// runs, if the reference still describes the state: due for renewal by age, or with the
    /// uncertainty shrunk along a direction the ellipse depends on, or the state moved or
    /// spread out of the linearised region but within [`MAX_PROVISIONAL_D2`] and
    /// [`MAX_PROVISIONAL_SPREAD`], or with the IMM's model set changed but the state inside the
    /// strict limits. `None` when nothing valid can be said before the full computation: no
    /// reference, a changed classification or early state, or a state beyond those limits
    /// (on `breakup`, provisional products across a model-set change were within 0.05 sigma
    /// of the full ones at p99, axes 0.997–1.006 of theirs: `cargo bench -p tripoint-track
    /// --bench tracker -- provisional`).
    pub fn provisional(
        &mut self,
        id: u64,
        s: &GaussianState,
        boost_probability: f64,
        has_early: bool,
    ) -> Option<(Products, Basis)> {
        let said = self.linearise(id, s, boost_probability, has_early).ok()?;
        self.provisional += 1;
        Some((said.products, Basis::Provisional { age_s: said.age_s }))
    }

    /// [`LiveProducts::quick`], else [`LiveProducts::provisional`], for the updates of one
    /// batch at once (over the thread pool when there are many): what can be published now.
    /// `None`, or a provisional basis, means a full computation is due
    /// ([`LiveProducts::refresh_many`]); after `None` it is on the detection-to-product path.
    pub fn quick_many(&mut self, items: &[QuickItem<'_>]) -> Vec<Option<(Products, Basis)>> {
        let one = |&item: &QuickItem<'_>| self.prepare(item);
        let said: Vec<_> = if items.len() >= crate::tracker::PARALLEL_MIN_TRACKS {
            items.par_iter().map(one).collect()
        } else {
            items.iter().map(one).collect()
        };
        said.into_iter().map(|p| self.publish(p)).collect()
    }

    /// The work of [`LiveProducts::quick_many`] for one update, without the bookkeeping: it
    /// only reads the references, so it can run anywhere (in the tracker's update job, the
    /// moment the track is updated: [`crate::MultiTargetTracker::update_batch_with`]). The
    /// products are in the result; [`LiveProducts::publish`] then counts it and says what is
    /// due, as `quick_many` does.
    pub fn prepare(&self, (id, s, boost, has_early): QuickItem<'_>) -> Prepared {
        Prepared(self.linearise(id, s, boost, has_early))
    }

    /// The bookkeeping of a [`LiveProducts::prepare`]d update: what `quick_many` returns for it.
    pub fn publish(&mut self, prepared: Prepared) -> Option<(Products, Basis)> {
        match prepared.0 {
            Ok(Said {
                products,
                id,
                t_s,
                raw,
                age_s,
                strict,
            }) => {
                self.hold(id, t_s, raw);
                if let Err(stale) = strict {
                    self.stale += usize::from(stale);
                    self.provisional += 1;
                    Some((products, Basis::Provisional { age_s }))
                } else {
                    self.linearised += 1;
                    Some((products, Basis::Linearised { age_s }))
                }
            }
            Err(stale) => {
                self.stale += usize::from(stale);
                None
            }
        }
    }

    /// What the reference of track `id` says of state `s`: products good as provisional ones
    /// (within [`LENIENT`]), and as linearised ones too when `strict` is `Ok` (within
    /// [`STRICT`] and [`LiveProducts::refresh_s`]). The state is mapped back once for both.
    /// A refusal (`Err`, or `strict`'s) carries whether the strict test refused for the
    /// state's region (counted in [`LiveProducts::stale`]) rather than for no reference, age,
    /// or a changed model set, classification or early state. Across a changed model set the
    /// provisional products need the strict limits.
    fn linearise(
        &self,
        id: u64,
        s: &GaussianState,
        boost_probability: f64,
        has_early: bool,
    ) -> Result<Said, bool> {
        let r = self.refs.get(&id).ok_or(false)?;
        let age_s = s.t_s - r.t_s;
        // A reference from the state's future, or hours old (or a time that is not a number),
        // says nothing of it.
        if !(0.0..=crate::motion::MAX_PROPAGATION_S).contains(&age_s) || (has_early && !r.had_early)
        {
            return Err(false);
        }
        // A change of the IMM's model set (the boost model retired after burnout, or back)
        // is no linearised update: it may come with the drag restarted from the payload prior
        // (`ImmState::restart_drag_above_the_air`). The boost model retires only after its
        // probability has stayed under 10⁻³ for seconds, so the combined state hardly moves
        // otherwise: provisional products, if the strict limits admit the new state (the
        // lenient ones let the IRBM test's restarted tracks through, 0.79 sigma off at p99).
        let model_set_changed = (boost_probability > 0.0) != r.boost_active;
        // On the way up through the sensible atmosphere the impact depends on the drag
        // parameter far from linearly, and a young track is still learning it (the re-entry
        // model's weight swinging between 0.1 and 0.3): a spent first stage tracked from its
        // separation had linearised ellipse axes 6 % off at p99, and provisional ones up to
        // 2.7× the full ones. Coming down (warheads, stages, fragments) they stay within the
        // limits of test `linearised_products_agree_with_full_products_on_the_irbm_tracks`.
        if !linear_region(s) {
            return Err(false);
        }
        let (raw, evidence) = classify(s, boost_probability);
        let classification = r.hold.peek(s.t_s, raw);
        if classification != r.products.classification {
            return Err(false);
        }
        // Past its age, or across a change of model set, the reference is not strict whatever
        // the state; the region then decides, and is what a strict refusal counts as stale.
        let young = age_s <= self.refresh_s && !model_set_changed;
        let (impact, strict) = match &r.linearisation {
            Some(lin) => {
                let m = map_back(lin, s).map_err(|_| young)?;
                let lenient = if model_set_changed {
                    STRICT
                } else {
                    r.provisional
                };
                lenient.admit(&m).map_err(|_| young)?;
                let strict = if young {
                    STRICT.admit(&m).map_err(|_| true)
                } else {
                    Err(false)
                };
                (Some(m.impact), strict)
            }
            // No impact at the reference (orbital, or a flight that did not come down): the
            // same until the reference is renewed.
            None if r.products.impact.is_none() => (None, if young { Ok(()) } else { Err(false) }),
            None => return Err(false),
        };
        Ok(Said {
            products: Products {
                classification,
                evidence,
                impact,
                ..r.products.clone()
            },
            id,
            t_s: s.t_s,
            raw,
            age_s,
            strict,
        })
    }

    /// References made ahead of a batch: for each track's prediction to the batch's time
    /// ([`crate::MultiTargetTracker::predictions_ahead`]: id, predicted state, boost
    /// probability, early state) of which its reference would say nothing (no reference yet, or
    /// the state out of even the provisional limits: an update of the track would wait for a
    /// full computation), and whose velocity sigma is within [`AHEAD_MAX_SIGMA_V_M_S`], full
    /// products of the prediction become the track's reference (together over the pool). A
    /// node runs this between batches, when idle: then the batch's update of such a track has
    /// quick products at once (linearised, or provisional with the full computation after)
    /// instead of waiting on the detection-to-product path for fifteen flights to the ground.
    /// (A reference that gives provisional products is left: those are out at once already.)
    /// The prediction is a state of the same object at the same time, a reference like any
    /// other; the limits of [`LiveProducts::linearise`] judge the posterior against it as
    /// against one made from a posterior, except that its provisional products keep to the
    /// linearised region's distance and spread and refuse an update that shrank a direction
    /// that matters below [`AHEAD_MIN_RATIO`] (a young track's update shrinks its uncertainty
    /// past the strict limits: its products are then provisional). The classification's hold
    /// is left as it is: only published products move it. Returns the tracks (ids) given a
    /// reference.
    pub fn refresh_ahead(&mut self, items: &[RefreshItem<'_>]) -> Vec<u64> {
        let due: Vec<&RefreshItem<'_>> = items
            .iter()
            .filter(|(id, s, boost, early)| {
                let sigma_v = (s.p[(3, 3)] + s.p[(4, 4)] + s.p[(5, 5)]).max(0.0).sqrt();
                sigma_v <= AHEAD_MAX_SIGMA_V_M_S
                    && linear_region(s)
                    && self.linearise(*id, s, *boost, early.is_some()).is_err()
            })
            .collect();
        let computed: Vec<_> = due
            .par_iter()
            .map(|&&(_, s, boost, early)| products_with_linearisation(s, boost, early))
            .collect();
        for (&&(id, s, boost, early), (mut products, linearisation)) in due.iter().zip(computed) {
            let hold = self.refs.get(&id).map(|r| r.hold).unwrap_or_default();
            products.classification = hold.peek(s.t_s, products.classification);
            self.refs.insert(
                id,
                Reference {
                    t_s: s.t_s,
                    products,
                    linearisation,
                    had_early: early.is_some(),
                    provisional: AHEAD,
                    boost_active: boost > 0.0,
                    hold,
                },
            );
        }
        self.ahead += due.len();
        due.iter().map(|&&(id, ..)| id).collect()
    }

    /// Full products of track `id` at `s`, kept as its new reference.
    pub fn refresh(
        &mut self,
        id: u64,
        s: &GaussianState,
        boost_probability: f64,
        early: Option<(&GaussianState, f64)>,
    ) -> Products {
        let computed = products_with_linearisation(s, boost_probability, early);
        self.keep((id, s, boost_probability, early), computed)
    }

    /// Keeps a full computation as track `id`'s reference and returns its products.
    fn keep(
        &mut self,
        (id, s, boost_probability, early): RefreshItem<'_>,
        (products, linearisation): (Products, Option<ImpactLinearisation>),
    ) -> Products {
        self.full += 1;
        let mut products = products;
        let mut hold = self.refs.get(&id).map(|r| r.hold).unwrap_or_default();
        products.classification = hold.commit(s.t_s, products.classification);
        self.refs.insert(
            id,
            Reference {
                t_s: s.t_s,
                products: products.clone(),
                linearisation,
                had_early: early.is_some(),
                provisional: LENIENT,
                boost_active: boost_probability > 0.0,
                hold,
            },
        );
        products
    }

    /// Remembers track `id`'s raw classification at `t_s` in its hold.
    fn hold(&mut self, id: u64, t_s: f64, raw: Classification) {
        if let Some(r) = self.refs.get_mut(&id) {
            r.hold.commit(t_s, raw);
        }
    }

    /// [`LiveProducts::refresh`] of many tracks at once: the full computations are independent,
    /// so they run over the thread pool; the products come back in the order of `items`
    /// (track id, state, boost probability, early state).
    pub fn refresh_many(&mut self, items: &[RefreshItem<'_>]) -> Vec<Products> {
        let computed: Vec<_> = items
            .par_iter()
            .map(|&(_, s, boost, early)| products_with_linearisation(s, boost, early))
            .collect();
        items
            .iter()
            .zip(computed)
            .map(|(&item, c)| self.keep(item, c))
            .collect()
    }

    /// [`LiveProducts::quick`] if it can, else [`LiveProducts::refresh`].
    pub fn products(
        &mut self,
        id: u64,
        s: &GaussianState,
        boost_probability: f64,
        early: Option<(&GaussianState, f64)>,
    ) -> (Products, Basis) {
        match self.quick(id, s, boost_probability, early.is_some()) {
            Some(q) => q,
            None => (self.refresh(id, s, boost_probability, early), Basis::Full),
        }
    }

    /// Forgets the references of tracks for which `live` is false.
    pub fn retain(&mut self, live: impl Fn(u64) -> bool) {
        self.refs.retain(|id, _| live(*id));
    }

    /// Tracks with a reference.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }
}

/// Launch point and time from an early track state taken while boosting.
///
/// The vehicle is taken to have flown from rest along a straight line with constant
/// acceleration, so it started t_b = |v|/a ago, ½|v|t_b back along its velocity (a is the
/// estimated thrust plus gravity along the velocity); the point is dropped to the ellipsoid.
/// Sigma points of the early state give the spread. A track first seen after burnout gets no
/// launch point: ballistic back-propagation through an unseen boost is biased by tens of
/// kilometres and minutes, and a covariance cannot say so.
pub fn launch_point(s: &GaussianState, boost_probability: f64) -> Option<GroundEstimate> {
    if boost_probability <= 0.5 {
        return None;
    }
    let back = |x: &StateVector| -> Option<(f64, [f64; 3])> {
        let r = [x[0], x[1], x[2]];
        let v = [x[3], x[4], x[5]];
        let g =
            tripoint_physics::gravity::acceleration(tripoint_physics::gravity::GravityModel::J2, r);
        let a = [x[6] + g[0], x[7] + g[1], x[8] + g[2]];
        let speed = vec3::norm(v);
        let along = vec3::dot(a, vec3::unit(v));
        if along <= 1.0 || speed <= 0.0 {
            return None;
        }
        let tb = speed / along;
        let p = vec3::sub(r, vec3::scale(v, 0.5 * tb));
        let g0 = Geodetic::from_ecef_m(p).ok()?;
        Some((s.t_s - tb, Geodetic { h_m: 0.0, ..g0 }.to_ecef_m()))
    };
    let chol = (s.p * crate::state::N as f64).cholesky()?;
    let l = chol.l();
    let mut pts = Vec::with_capacity(2 * crate::state::N);
    for k in 0..2 * crate::state::N {
        let sign = if k < crate::state::N { 1.0 } else { -1.0 };
        let xi = s.x + l.column(k % crate::state::N) * sign;
        if let Some(p) = back(&xi) {
            pts.push(p);
        }
    }
    // Sigma points that cannot be traced back (deceleration draws) are dropped; too few left
    // means no estimate.
    if pts.len() < crate::state::N {
        return None;
    }
    ground_estimate(&pts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A debris track's few seconds of apparent thrust (a hop to a neighbouring fragment) are
    /// not shown as powered flight, nor an IRBM's 2-s coast between stages as ballistic; a
    /// change that lasts CLASS_HOLD_S is, and orbit is shown the moment it is seen.
    #[test]
    fn brief_changes_between_ballistic_and_powered_are_held() {
        use Classification::{Ballistic, Orbital, Unknown};
        let mut h = ClassHold::default();
        assert_eq!(
            h.commit(0.0, Ballistic),
            Ballistic,
            "a new track shows what it sees"
        );
        // Three seconds of apparent thrust, then ballistic again: never shown.
        for t in [1.0, 2.0, 3.5] {
            assert_eq!(h.peek(t, Unknown), Ballistic);
            assert_eq!(h.commit(t, Unknown), Ballistic, "at {t} s");
        }
        assert_eq!(h.commit(4.0, Ballistic), Ballistic);
        // A burn that goes on: shown 4 s after it began, and held from then on.
        for t in [5.0, 6.0, 8.0] {
            assert_eq!(h.commit(t, Unknown), Ballistic, "at {t} s");
        }
        assert_eq!(h.commit(9.0, Unknown), Unknown);
        assert_eq!(h.commit(10.0, Ballistic), Unknown, "a 2-s coast");
        assert_eq!(h.commit(11.9, Unknown), Unknown);
        // The pending change restarts after the raw class came back.
        assert_eq!(h.commit(12.0, Ballistic), Unknown);
        assert_eq!(h.commit(15.0, Ballistic), Unknown);
        assert_eq!(h.commit(16.0, Ballistic), Ballistic);
        // Orbit is not held, either way.
        assert_eq!(h.commit(16.5, Orbital), Orbital);
        assert_eq!(h.commit(17.0, Unknown), Unknown);
        // The same commit twice changes nothing.
        let mut a = h;
        a.commit(18.0, Ballistic);
        let once = a;
        a.commit(18.0, Ballistic);
        assert_eq!(a, once);
    }

    /// The products' integration accuracy: the impact point of an IRBM-class flight (about 20
    /// minutes, re-entry with drag) and of a short-range one within a few metres of a
    /// millimetre-class integration.
    #[test]
    fn product_flights_land_within_metres_of_a_precise_integration() {
        for (lat, lon, h, v_up, v_east, c) in [
            (40.0, 128.0, 150e3, 3000.0, 4200.0, 0.5),
            (39.0, 126.0, 60e3, 1200.0, 1500.0, 2.0),
        ] {
            let g = Geodetic::from_deg(lat, lon, h).expect("point");
            let r = g.to_ecef_m();
            let v = vec3::add(
                vec3::scale(g.up_ecef(), v_up),
                vec3::scale(g.east_ecef(), v_east),
            );
            let y = [r[0], r[1], r[2], v[0], v[1], v[2]];
            let fast = fly(0.0, y, c, false, 4000.0).impact.expect("lands");
            let precise = fly_with(Tolerances::PRECISE, 0.0, y, c, false, 4000.0)
                .impact
                .expect("lands");
            let miss = vec3::norm(vec3::sub(fast.1, precise.1));
            assert!(miss < 10.0, "{miss} m after {} s of flight", precise.0);
            assert!((fast.0 - precise.0).abs() < 0.05);
        }
    }

    /// The mean flight's apogee and ground track are those of sampling every 2 s of every
    /// step, though the steps that fall all the way after a falling one are not sampled for
    /// the apogee: an IRBM from the pad's neighbourhood up, a lofted flight, one already
    /// coming down, one through its apogee in the first step, a short-range one, and an
    /// orbit that does not come down in the time flown.
    #[test]
    fn a_flight_records_the_apogee_of_its_samples() {
        for (lat, lon, h, v_up, v_east, c, max_s) in [
            (40.0, 128.0, 150e3, 3000.0, 4200.0, 0.5, 4000.0),
            (40.0, 128.0, 300e3, 6000.0, 1500.0, 0.5, 4000.0),
            (40.0, 132.0, 500e3, -1500.0, 3000.0, 1.0, 4000.0),
            (39.5, 130.0, 400e3, 20.0, 3500.0, 1.0, 4000.0),
            (39.0, 126.0, 60e3, 1200.0, 1500.0, 2.0, 4000.0),
            (0.0, 0.0, 400e3, 0.0, 7200.0, 50.0, 6000.0),
        ] {
            let g = Geodetic::from_deg(lat, lon, h).expect("point");
            let r = g.to_ecef_m();
            let v = vec3::add(
                vec3::scale(g.up_ecef(), v_up),
                vec3::scale(g.east_ecef(), v_east),
            );
            let y = [r[0], r[1], r[2], v[0], v[1], v[2]];
            let tol = PRODUCT_TOLERANCES;
            let quick = fly_sampled(tol, 0.0, y, c, true, max_s, false);
            let every = fly_sampled(tol, 0.0, y, c, true, max_s, true);
            assert_eq!(quick.apogee, every.apogee, "from {h} m, {v_up} m/s up");
            assert_eq!(quick.ground, every.ground);
            assert_eq!(quick.impact, every.impact);
            assert!(quick.ground.len() > 3);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 48,
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// The same, over random flights (the steps are the integrator's, its samples
        /// interpolated, not the true trajectory the skipping argues from): from 20 to 800 km,
        /// climbing or falling up to 6 km/s, along any heading at up to 7.5 km/s, light or
        /// heavy.
        #[test]
        fn any_flight_records_the_apogee_of_its_samples(
            lat in -60.0f64..60.0,
            lon in -180.0f64..180.0,
            h in 20e3f64..800e3,
            v_up in -3000.0f64..6000.0,
            heading in 0.0f64..std::f64::consts::TAU,
            v_h in 0.0f64..7500.0,
            c in 0.1f64..50.0,
        ) {
            let g = Geodetic::from_deg(lat, lon, h).expect("point");
            let r = g.to_ecef_m();
            let horizontal = vec3::add(
                vec3::scale(g.east_ecef(), heading.sin()),
                vec3::scale(g.north_ecef(), heading.cos()),
            );
            let v = vec3::add(vec3::scale(g.up_ecef(), v_up), vec3::scale(horizontal, v_h));
            let y = [r[0], r[1], r[2], v[0], v[1], v[2]];
            let tol = PRODUCT_TOLERANCES;
            let quick = fly_sampled(tol, 0.0, y, c, true, 4000.0, false);
            let every = fly_sampled(tol, 0.0, y, c, true, 4000.0, true);
            proptest::prop_assert_eq!(quick.apogee, every.apogee);
            proptest::prop_assert_eq!(quick.impact, every.impact);
        }
    }

    /// Powered flight needs the boost model probable and pushing forward by at least
    /// [`MIN_BOOST_M_S2`]: the same probability with the "thrust" pointing backwards (drag, in
    /// dense air) or too weak to be a rocket's is ballistic.
    #[test]
    fn only_forward_thrust_is_powered_flight() {
        // Coming down through 15 km at 2 km/s, 30° below the horizon; then going up through
        // 30 km at 2 km/s, 40° above it.
        let state = |h_m: f64, gamma_deg: f64, thrust_m_s2: f64, boost: f64| {
            let g = Geodetic::from_deg(40.0, 135.0, h_m).expect("point");
            let (c, s) = (gamma_deg.to_radians().cos(), gamma_deg.to_radians().sin());
            let u = vec3::add(vec3::scale(g.east_ecef(), c), vec3::scale(g.up_ecef(), s));
            let (r, v) = (g.to_ecef_m(), vec3::scale(u, 2000.0));
            let a = vec3::scale(u, thrust_m_s2 * boost);
            let mut x = StateVector::zeros();
            x.fixed_rows_mut::<3>(0).copy_from_slice(&r);
            x.fixed_rows_mut::<3>(3).copy_from_slice(&v);
            x.fixed_rows_mut::<3>(ACC).copy_from_slice(&a);
            x[DRAG] = 0.3;
            GaussianState {
                x,
                p: crate::state::Covariance::identity(),
                t_s: 0.0,
            }
        };
        for (h, gamma, thrust, boost, want) in [
            (15e3, -30.0, -40.0, 0.6, Classification::Ballistic),
            (15e3, -30.0, -40.0, 0.99, Classification::Ballistic),
            (30e3, 40.0, 20.0, 0.6, Classification::Unknown),
            (30e3, 40.0, 20.0, 0.99, Classification::Unknown),
            (30e3, 40.0, 3.0, 0.99, Classification::Ballistic),
            (30e3, 40.0, 20.0, 0.4, Classification::Ballistic),
        ] {
            let (class, ev) = classify(&state(h, gamma, thrust, boost), boost);
            assert_eq!(
                class, want,
                "thrust {thrust} m/s², boost probability {boost}"
            );
            assert!(
                (ev.thrust_along_m_s2 - thrust).abs() < 1e-9,
                "{} vs {thrust}",
                ev.thrust_along_m_s2
            );
        }
    }

    #[test]
    fn ellipse_axes_and_orientation() {
        // 2 km east, 1 km north, uncorrelated.
        let e = Ellipse::from_cov([4e6, 0.0, 1e6], CHI2_2_95);
        assert!((e.semi_major_m - 2000.0 * CHI2_2_95.sqrt()).abs() < 1e-6);
        assert!((e.semi_minor_m - 1000.0 * CHI2_2_95.sqrt()).abs() < 1e-6);
        assert!((e.orientation_deg - 90.0).abs() < 1e-9);
        assert!(Ellipse::contains([4e6, 0.0, 1e6], CHI2_2_95, 4000.0, 0.0));
        assert!(!Ellipse::contains([4e6, 0.0, 1e6], CHI2_2_95, 0.0, 3000.0));
    }

    #[test]
    fn mahalanobis_distance_of_a_ground_offset() {
        // 2 km east, 1 km north: one sigma on each axis gives 2.
        let d2 = Ellipse::mahalanobis2([4e6, 0.0, 1e6], 2000.0, 1000.0).expect("PD");
        assert!((d2 - 2.0).abs() < 1e-12);
        // Correlated: along the long diagonal a 45° ellipse of variances 9 and 1 (km²).
        let (a, b) = (9e6, 1e6);
        let cov = [(a + b) / 2.0, (a - b) / 2.0, (a + b) / 2.0];
        let r = 3000.0 / 2f64.sqrt();
        let d2 = Ellipse::mahalanobis2(cov, r, r).expect("PD");
        assert!((d2 - 1.0).abs() < 1e-9, "{d2}");
        // Not positive definite: no distance, and nothing is inside.
        assert_eq!(Ellipse::mahalanobis2([1e6, 1e6, 1e6], 1.0, 0.0), None);
        assert!(!Ellipse::contains([-1.0, 0.0, -1.0], CHI2_2_95, 0.0, 0.0));
    }
}
