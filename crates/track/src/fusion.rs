//! Track-to-track fusion of partner tracks by covariance intersection (Julier & Uhlmann 1997):
//! P⁻¹ = ω Pa⁻¹ + (1 − ω) Pb⁻¹, x = P (ω Pa⁻¹ xa + (1 − ω) Pb⁻¹ xb), with ω ∈ [0, 1] minimising
//! tr P. Consistent whatever the (unknown) correlation between the nations' estimates — both may
//! have used the same radar, and no nation knows what the other's filter did.

use std::collections::BTreeSet;

use tripoint_core::{Nation, SensorId};

use crate::motion::MotionModel;
use crate::state::{regularize, Covariance, GaussianState};

/// A track as shared between nations, with its provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedTrack {
    pub origin: Nation,
    pub track_id: u64,
    pub state: GaussianState,
    pub contributors: BTreeSet<(Nation, SensorId)>,
}

/// A fused track: its estimate and everything that contributed.
#[derive(Clone, Debug, PartialEq)]
pub struct FusedTrack {
    pub state: GaussianState,
    pub sources: Vec<(Nation, u64)>,
    pub contributors: BTreeSet<(Nation, SensorId)>,
}

impl FusedTrack {
    pub fn nations(&self) -> BTreeSet<Nation> {
        self.contributors.iter().map(|(n, _)| *n).collect()
    }
}

/// Covariance intersection of two estimates at the same time.
pub fn covariance_intersection(a: &GaussianState, b: &GaussianState) -> Option<GaussianState> {
    let ia = a.p.cholesky()?.inverse();
    let ib = b.p.cholesky()?.inverse();
    let fuse = |w: f64| -> Option<(Covariance, f64)> {
        let info = ia * w + ib * (1.0 - w);
        let p = info.cholesky()?.inverse();
        Some((p, p.trace()))
    };
    // Golden-section search on ω.
    let gr = 0.618_033_988_749_895;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..40 {
        let c = hi - gr * (hi - lo);
        let d = lo + gr * (hi - lo);
        let fc = fuse(c).map_or(f64::INFINITY, |f| f.1);
        let fd = fuse(d).map_or(f64::INFINITY, |f| f.1);
        if fc < fd {
            hi = d;
        } else {
            lo = c;
        }
    }
    let w = 0.5 * (lo + hi);
    let (mut p, _) = fuse(w)?;
    let x = p * (ia * a.x * w + ib * b.x * (1.0 - w));
    regularize(&mut p);
    Some(GaussianState { x, p, t_s: a.t_s })
}

/// Why a shared track was refused before fusion: a partner's data is hostile until checked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is not finite")]
    NotFinite(&'static str),
    #[error("covariance is not symmetric positive definite")]
    NotPositiveDefinite,
    #[error("{what} {value} is implausible ({range})")]
    Implausible {
        what: &'static str,
        value: f64,
        range: &'static str,
    },
}

/// A shared track older or newer than this against the fusion time is refused (s): predicting
/// it further would fuse a guess.
pub const MAX_SHARED_AGE_S: f64 = 60.0;

/// Checks a shared track before it is fused: finite time, state and covariance; a symmetric
/// positive definite covariance; a position between 6 000 km and 10⁸ m from the Earth's centre
/// (not deep underground, not beyond any sensor), a speed under 20 km/s, and a time within
/// [`MAX_SHARED_AGE_S`] of `t_s`.
pub fn check(s: &SharedTrack, t_s: f64) -> Result<(), Refusal> {
    let st = &s.state;
    if !st.t_s.is_finite() {
        return Err(Refusal::NotFinite("time"));
    }
    if !st.x.iter().all(|v| v.is_finite()) {
        return Err(Refusal::NotFinite("state"));
    }
    if !st.p.iter().all(|v| v.is_finite()) {
        return Err(Refusal::NotFinite("covariance"));
    }
    let n = st.p.nrows();
    for i in 0..n {
        for j in 0..i {
            let tol = 1e-9 * (st.p[(i, i)].abs() * st.p[(j, j)].abs()).sqrt() + 1e-300;
            if (st.p[(i, j)] - st.p[(j, i)]).abs() > tol {
                return Err(Refusal::NotPositiveDefinite);
            }
        }
    }
    if st.p.cholesky().is_none() {
        return Err(Refusal::NotPositiveDefinite);
    }
    let r = st.x.fixed_rows::<3>(0).norm();
    if !crate::measurement::PLAUSIBLE_RADIUS_M.contains(&r) {
        return Err(Refusal::Implausible {
            what: "distance from the Earth's centre (m)",
            value: r,
            range: "6e6 to 1e8",
        });
    }
    let v = st.x.fixed_rows::<3>(3).norm();
    if v > 2e4 {
        return Err(Refusal::Implausible {
            what: "speed (m/s)",
            value: v,
            range: "≤ 2e4",
        });
    }
    let age = t_s - st.t_s;
    if age.is_nan() || age.abs() > MAX_SHARED_AGE_S {
        return Err(Refusal::Implausible {
            what: "age against the fusion time (s)",
            value: age,
            range: "within ±60",
        });
    }
    Ok(())
}

/// What [`fuse`] made: the fused tracks, and the shared tracks it refused (origin nation, track
/// id, why), local or partner.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Fusion {
    pub tracks: Vec<FusedTrack>,
    pub refused: Vec<(Nation, u64, Refusal)>,
}

/// Fuses partner tracks into local tracks: each track is checked ([`check`]; refused ones are
/// listed, not fused), each partner track is predicted to the local time, matched to the
/// nearest local track within a χ²₆ 99.9 % gate on position and velocity, and fused by
/// covariance intersection; unmatched tracks of either side are kept as they are.
pub fn fuse(local: &[SharedTrack], partners: &[SharedTrack], t_s: f64) -> Fusion {
    const GATE: f64 = 22.46;
    let mut refused = Vec::new();
    let mut admit = |s: &&SharedTrack| match check(s, t_s) {
        Ok(()) => true,
        Err(why) => {
            refused.push((s.origin, s.track_id, why));
            false
        }
    };
    let local: Vec<&SharedTrack> = local.iter().filter(&mut admit).collect();
    let partners: Vec<&SharedTrack> = partners.iter().filter(&mut admit).collect();
    let predict = |s: &SharedTrack| -> SharedTrack {
        let mut s = s.clone();
        if s.state.t_s != t_s {
            s.state = crate::filter::predict(
                crate::FilterKind::Ekf,
                &MotionModel::FREE_FLIGHT,
                &s.state,
                t_s,
            );
        }
        s
    };
    let mut fused: Vec<FusedTrack> = local
        .iter()
        .map(|s| predict(s))
        .map(|l| FusedTrack {
            state: l.state,
            sources: vec![(l.origin, l.track_id)],
            contributors: l.contributors,
        })
        .collect();
    for p in partners.iter().map(|s| predict(s)) {
        let mut best: Option<(usize, f64)> = None;
        for (i, f) in fused.iter().enumerate() {
            let d = p.state.x.fixed_rows::<6>(0) - f.state.x.fixed_rows::<6>(0);
            let s = p.state.p.fixed_view::<6, 6>(0, 0) + f.state.p.fixed_view::<6, 6>(0, 0);
            let Some(ch) = s.cholesky() else { continue };
            let d2 = d.dot(&ch.solve(&d));
            if d2 < GATE && best.is_none_or(|b| d2 < b.1) {
                best = Some((i, d2));
            }
        }
        match best {
            Some((i, _)) => {
                if let Some(s) = covariance_intersection(&fused[i].state, &p.state) {
                    fused[i].state = s;
                }
                fused[i].sources.push((p.origin, p.track_id));
                fused[i].contributors.extend(p.contributors.iter().cloned());
            }
            None => fused.push(FusedTrack {
                state: p.state.clone(),
                sources: vec![(p.origin, p.track_id)],
                contributors: p.contributors.clone(),
            }),
        }
    }
    Fusion {
        tracks: fused,
        refused,
    }
}

/// [`fuse`] for tracks of one world: local and partner tracks must both be real or both be
/// exercise data (a type error otherwise), and the fused picture stays in that world.
pub fn fuse_in_world<W: tripoint_core::world::World>(
    local: tripoint_core::world::InWorld<W, &[SharedTrack]>,
    partners: tripoint_core::world::InWorld<W, &[SharedTrack]>,
    t_s: f64,
) -> tripoint_core::world::InWorld<W, Fusion> {
    local.zip(partners).map(|(l, p)| fuse(l, p, t_s))
}
