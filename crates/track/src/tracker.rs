//! The multi-target tracker, wired from its components in Stone Soup's manner:
//!
//! ```text
//! predictions  = predictor.predict(tracks near the batch, t)      (IMM mixing + model filters)
//! hypotheses   = hypothesiser.hypothesise(predictions, batch)     (Mahalanobis gating)
//! associations = associator.associate(hypotheses)                 (GNN, optimal 2-D assignment)
//! track.append(updater.update(prediction, detection))             (IMM update)
//! tracks      -= deleter.delete(tracks)                           (misses, covariance growth)
//! tracks      |= initiator.initiate(unassociated detections)      (M-of-N, cued by infrared)
//! ```
//!
//! A batch is the detections of one sensor at one time (one scan or frame). Batches may arrive
//! up to `oosm_window_s` late: each track keeps a short re-filter buffer of its recent
//! observations and posteriors, rolls back to the last posterior before the late batch, applies
//! it, and re-applies what came after (out-of-sequence measurements are used, not dropped).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use rayon::prelude::*;

use tripoint_core::{Nation, SensorId};
use tripoint_physics::vec3;

use crate::associate::{
    gnn_associate, jpda_weights, jpda_weights_of_clusters, split_by_cluster_size, Hypothesis,
    JpdaParams, TrackWeights, MAX_EXACT_TRACKS,
};

use crate::imm::{ImmConfig, ImmState};
use crate::measurement::{Observation, ObservationKind};
use crate::state::{Covariance, GaussianState, StateVector, ACC, DRAG, N};

/// A JPDA track's most probable detection (it stands for the track in the bookkeeping).
fn best_detection(tw: &TrackWeights) -> Option<usize> {
    tw.detections
        .iter()
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .map(|&(d, _)| d)
}

/// Tracker settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerConfig {
    pub imm: ImmConfig,
    /// Gate on the squared Mahalanobis distance, per measurement dimension (χ² 99.9 %).
    pub gate_d2: [f64; 5],
    /// Hits needed to confirm a track, and the same when an infrared cue is nearby.
    pub confirm_hits: u32,
    pub confirm_hits_cued: u32,
    /// A track is confirmed only once its position sigma is below this (m).
    pub confirm_max_sigma_m: f64,
    /// Two confirmed tracks whose position-velocity difference is within this squared
    /// Mahalanobis distance of their summed covariances are one object (χ², 6 degrees of
    /// freedom): the older id survives with the more precise estimate.
    pub merge_gate_d2: f64,
    /// A tentative track without a hit for this long is deleted (s).
    pub tentative_timeout_s: f64,
    /// A confirmed track without a hit for this long is deleted (s).
    pub confirmed_timeout_s: f64,
    /// A track whose position sigma exceeds this is deleted (m).
    pub max_position_sigma_m: f64,
    /// Batches up to this late are re-filtered in; older ones are rejected (s).
    pub oosm_window_s: f64,
    /// A batch further ahead of the latest one than this while tracks are live is held back as
    /// a possible bad clock (one wrong timestamp would otherwise move the tracker's clock, time
    /// out every track and refuse the real data that follows as too late): it is refused, and
    /// the jump is taken only when the next batch also lands within this of it (a real gap in
    /// the data with tracks live costs one batch; with none live, a jump is taken at once, so
    /// a new event's first detection is never lost). A batch at the old clock in between
    /// drops the held jump. It stops a stray timestamp, not a sensor whose clock is wrong
    /// batch after batch (s).
    pub max_time_jump_s: f64,
    /// Prior one-sigma velocity of a new track (m/s) and of its thrust acceleration (m/s²).
    pub init_velocity_sigma_m_s: f64,
    pub init_accel_sigma_m_s2: f64,
    /// Infrared cues are remembered this long (s) and match radar detections within this
    /// distance of their line of sight (m).
    pub cue_memory_s: f64,
    pub cue_radius_m: f64,
    /// How confirmed tracks take detections.
    pub association: Association,
    /// Detection and clutter model for JPDA.
    pub jpda: JpdaParams,
}

/// Default of [`TrackerConfig::max_time_jump_s`] (s): longer than any sensor's revisit, shorter
/// than a confirmed track's timeout.
pub const MAX_TIME_JUMP_S: f64 = 30.0;

/// Data association of confirmed tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Association {
    /// Global nearest neighbour: one detection per track, optimal 2-D assignment.
    Gnn,
    /// Joint probabilistic data association: every gated detection, weighted (dense clutter).
    Jpda,
    /// GNN in clusters of at most [`crate::associate::MAX_EXACT_TRACKS`] confirmed tracks (a
    /// few missiles and their stages), JPDA in larger ones (debris clouds, where one-to-one
    /// assignments between unresolved fragments make ghost tracks). Its GNN tracks also tell
    /// separating objects apart by which is ahead along the flight path
    /// ([`MultiTargetTracker::follow_the_object_ahead`]), which plain GNN does not. The
    /// default.
    #[default]
    Hybrid,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            imm: ImmConfig::default(),
            gate_d2: [0.0, 10.83, 13.82, 16.27, 18.47],
            confirm_hits: 3,
            confirm_hits_cued: 2,
            confirm_max_sigma_m: 5_000.0,
            merge_gate_d2: MERGE_GATE_D2,
            tentative_timeout_s: 6.0,
            confirmed_timeout_s: 40.0,
            max_position_sigma_m: 50_000.0,
            oosm_window_s: 5.0,
            max_time_jump_s: MAX_TIME_JUMP_S,
            init_velocity_sigma_m_s: 4_000.0,
            init_accel_sigma_m_s2: 30.0,
            cue_memory_s: 30.0,
            cue_radius_m: 30_000.0,
            association: Association::Hybrid,
            jpda: JpdaParams::default(),
        }
    }
}

/// An observation reduced to what the pre-gate needs.
#[derive(Debug)]
enum PreGate {
    Point {
        q: [f64; 3],
        sigma: f64,
    },
    Ray {
        origin: [f64; 3],
        los: [f64; 3],
        sigma_rad: f64,
    },
}

impl PreGate {
    fn new(obs: &Observation) -> Self {
        match obs.position_ecef() {
            Some((q, cov)) => PreGate::Point {
                q,
                sigma: cov.trace().max(0.0).sqrt(),
            },
            None => {
                let f = &obs.frame;
                let los = obs.line_of_sight().unwrap_or(f.up);
                PreGate::Ray {
                    origin: f.origin,
                    los,
                    sigma_rad: obs.sigma[0].max(obs.sigma[1]),
                }
            }
        }
    }

    /// Could a track at `p` with one-sigma radius `sigma` have made this observation?
    #[inline]
    fn admits(&self, p: [f64; 3], sigma: f64) -> bool {
        match self {
            PreGate::Point { q, sigma: s } => {
                let d2 = (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2);
                let lim = 6.0 * (sigma + s) + 2_000.0;
                d2 < lim * lim
            }
            PreGate::Ray {
                origin,
                los,
                sigma_rad,
            } => {
                let d = [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]];
                let along = d[0] * los[0] + d[1] * los[1] + d[2] * los[2];
                let perp2 = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - along * along).max(0.0);
                let lim = 6.0 * (sigma + sigma_rad * along.abs()) + 2_000.0;
                along > 0.0 && perp2 < lim * lim
            }
        }
    }
}

/// Where the pre-gate looks for a track: its rough position `p`, one-sigma radius `sigma`, and
/// the x window of point gates that could admit it (`None`: every gate is tested).
#[derive(Clone, Copy, Debug)]
struct Rough {
    p: [f64; 3],
    sigma: f64,
    window: Option<(f64, f64)>,
}

/// The batch's pre-gates, indexed for the question "which detections could a track at `p` with
/// one-sigma radius `sigma` have made?": point gates sorted by their x coordinate (a track's
/// candidates lie in an x window; debris clouds stretch along track over hundreds of
/// kilometres, so the window holds few of them), rays (infrared) tested one by one. Answers
/// come in detection order, exactly the detections [`PreGate::admits`] admits. A radar batch
/// (one sensor, one time, one kind) is also sorted by range: a track's gate admits only
/// detections in a range window (`first_component_window`), so in a debris cloud, where every
/// track's pre-gate takes in the whole batch, each tests a few.
#[derive(Debug)]
struct PreGateIndex {
    gates: Vec<PreGate>,
    /// (x, detection) of the point gates, by x.
    by_x: Vec<(f64, usize)>,
    /// Per detection: whether it is in `by_x` (else in `rays`).
    indexed: Vec<bool>,
    /// The largest point-gate sigma: bounds every point gate's admission radius.
    max_sigma: f64,
    rays: Vec<usize>,
    /// (range, detection) by range, for a radar batch.
    by_range: Option<Vec<(f64, usize)>>,
    /// A radar batch's measurements by component (`z[i][j]`: component i of detection j), for
    /// the gate tests: a track in a debris cloud tests most of the batch, and these stay in
    /// cache where the observations (hundreds of bytes each) did not.
    columns: Option<[Vec<f64>; 4]>,
    /// Per detection: whether it passed [`Observation::validate`]. An invalid one (a
    /// non-finite or impossible value put in by a caller) is nobody's candidate and starts
    /// nothing.
    valid: Vec<bool>,
    /// The batch's time (that of most of its valid observations).
    t_s: f64,
}

impl PreGateIndex {
    /// Detection `d`'s measured position in ECEF, for a radar detection.
    fn point(&self, d: usize) -> Option<[f64; 3]> {
        match self.gates.get(d)? {
            PreGate::Point { q, .. } => Some(*q),
            PreGate::Ray { .. } => None,
        }
    }

    /// The index of `batch`, whose observations `valid` marks usable.
    fn new(batch: &[Observation], valid: Vec<bool>, t_s: f64) -> Self {
        let gates: Vec<PreGate> = batch.iter().map(PreGate::new).collect();
        let mut by_x = Vec::new();
        let mut indexed = vec![false; batch.len()];
        let mut rays = Vec::new();
        let mut max_sigma: f64 = 0.0;
        for (di, g) in gates.iter().enumerate() {
            if !valid[di] {
                continue;
            }
            match g {
                PreGate::Point { q, sigma } if q[0].is_finite() && sigma.is_finite() => {
                    by_x.push((q[0], di));
                    indexed[di] = true;
                    max_sigma = max_sigma.max(*sigma);
                }
                // Anything else non-finite is tested directly (and fails there).
                _ => rays.push(di),
            }
        }
        by_x.sort_by(|a, b| a.0.total_cmp(&b.0));
        // One radar, one kind of detection, one accuracy: a track's predicted measurement
        // then serves every detection, and its range window holds (ranges from one site).
        let dim = batch.first().map(Observation::dim);
        let frame = batch.first().map(|o| o.frame);
        let sigma = batch.first().map(|o| o.sigma);
        let radar = batch.iter().all(|o| {
            matches!(o.kind, ObservationKind::Radar { .. })
                && Some(o.dim()) == dim
                && Some(o.frame) == frame
                && Some(o.sigma) == sigma
        });
        let by_range = radar.then(|| {
            // An invalid detection is left out: a non-finite range would also break the order
            // the window search relies on (a negative NaN sorts first).
            let mut v: Vec<(f64, usize)> = batch
                .iter()
                .enumerate()
                .filter(|&(di, o)| valid[di] && o.z[0].is_finite())
                .map(|(di, o)| (o.z[0], di))
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v
        });
        let columns =
            radar.then(|| std::array::from_fn(|i| batch.iter().map(|o| o.z[i]).collect()));
        Self {
            gates,
            by_x,
            indexed,
            max_sigma,
            rays,
            by_range,
            columns,
            valid,
            t_s,
        }
    }

    /// Where to look for a track at `p` with radius `sigma`.
    fn rough(&self, p: [f64; 3], sigma: f64) -> Rough {
        // PreGate::Point admits only within 6 (σ + s) + 2 km, so |Δx| below that.
        let lim = 6.0 * (sigma + self.max_sigma) + 2_000.0;
        let window = (lim.is_finite() && p[0].is_finite()).then(|| (p[0] - lim, p[0] + lim));
        Rough { p, sigma, window }
    }

    /// The detections whose gate admits the track: the point gates in its x window (by x),
    /// then the rays.
    fn admitted(&self, r: Rough) -> impl Iterator<Item = usize> + '_ {
        let points = match r.window {
            Some((lo, hi)) => {
                let start = self.by_x.partition_point(|&(x, _)| x < lo);
                let len = self.by_x[start..].partition_point(|&(x, _)| x <= hi);
                &self.by_x[start..start + len]
            }
            None => &self.by_x[..],
        };
        points
            .iter()
            .map(|&(_, di)| di)
            .chain(self.rays.iter().copied())
            .filter(move |&di| self.gates[di].admits(r.p, r.sigma))
    }

    /// Whether detection `di` is among [`PreGateIndex::candidates`] (the same test, for one
    /// detection).
    fn is_candidate(&self, di: usize, r: Rough) -> bool {
        if !self.valid[di] {
            return false;
        }
        let outside = match (self.indexed[di], r.window, &self.gates[di]) {
            (true, Some((lo, hi)), PreGate::Point { q, .. }) => q[0] < lo || q[0] > hi,
            _ => false,
        };
        !outside && self.gates[di].admits(r.p, r.sigma)
    }

    /// Fills `out` with the detections whose gate admits the track, in detection order; `mask`
    /// is scratch (a bit set over the detections).
    fn candidates(&self, r: Rough, out: &mut Vec<usize>, mask: &mut Vec<u64>) {
        out.clear();
        out.extend(self.admitted(r));
        // Into detection order: a sort for a few, a bit set for many (a fresh track's wide
        // gate takes in much of a debris cloud; sorting those was 9 % of the tracker's time).
        if out.len() <= 32 {
            out.sort_unstable();
            return;
        }
        mask.clear();
        mask.resize(self.gates.len().div_ceil(64), 0);
        for &di in out.iter() {
            mask[di / 64] |= 1 << (di % 64);
        }
        out.clear();
        for (w, &bits) in mask.iter().enumerate() {
            let mut b = bits;
            while b != 0 {
                out.push(w * 64 + b.trailing_zeros() as usize);
                b &= b - 1;
            }
        }
    }
}

/// Whether a track has been confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackStatus {
    Tentative,
    Confirmed,
}

/// One track.
#[derive(Clone, Debug)]
pub struct Track {
    pub id: u64,
    pub imm: ImmState,
    pub status: TrackStatus,
    pub hits: u32,
    pub first_t_s: f64,
    pub last_update_t_s: f64,
    /// Which nations and sensors contributed (provenance).
    pub contributors: BTreeSet<(Nation, SensorId)>,
    pub cued: bool,
    /// An early estimate (after `EARLY_HITS` updates) and its boost probability, for the
    /// launch-point product.
    pub early: Option<(GaussianState, f64)>,
    history: History,
    /// Bumped wherever the tracker changes `imm`, `history` or `coast` (what a prediction is made
    /// from): a prediction made ahead serves only the revision it was made at.
    rev: u64,
    /// The last prediction made since the last update, when no detection of that batch
    /// updated the track: the next prediction continues from it instead of flying the whole
    /// gap from the posterior again (a coasting track was predicted over its whole, growing
    /// gap every batch; those 9 % of predictions with gaps over 16 s were half of all RK4 steps
    /// in `breakup`). Used once the track is unseen for more than [`COAST_AFTER_S`]; short gaps
    /// still predict from the posterior. What a tracker does with a missed detection (Stone
    /// Soup appends the prediction); the estimate published stays the last posterior.
    coast: Option<ImmState>,
    /// A prediction made ahead of a batch ([`MultiTargetTracker::predict_ahead`]): used by the
    /// batch at exactly that time if the track still predicts from the same state.
    ahead: Option<Box<Ahead>>,
}

/// A track's recent updates (observation and posterior), oldest first: a deque whose clone
/// keeps the room reserved for the updates to come (a derived clone holds only what is in
/// it, so a tracker cloned for a replay reallocated where the original did not).
#[derive(Debug, Default)]
struct History(VecDeque<(Observation, ImmState)>);

impl Clone for History {
    fn clone(&self) -> Self {
        let mut h = VecDeque::with_capacity(self.0.capacity());
        h.extend(self.0.iter().cloned());
        Self(h)
    }
}

impl std::ops::Deref for History {
    type Target = VecDeque<(Observation, ImmState)>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for History {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// A track's prediction to a batch's time made before the batch came, with what it was made
/// from (a prediction is a function of these alone, so it serves only while they hold).
#[derive(Clone, Debug)]
struct Ahead {
    t_s: f64,
    /// The track's [`Track::rev`] it was made at.
    rev: u64,
    /// The state it was made from, kept where debug assertions are on to check that the
    /// revision stands for it (see [`Ahead::serves`]).
    #[cfg(debug_assertions)]
    base: ImmState,
    after: usize,
    /// Shared with the batch's [`Predicted`] it serves (a prediction is kilobytes).
    pred: Arc<ImmState>,
    combined: GaussianState,
}

impl Ahead {
    /// Whether this prediction is the one a track at revision `rev`, predicting from `base`
    /// (its history resuming after `after` entries), would make to `t_s`: the same time, and a
    /// track unchanged since it was made, so the same state. The tracker changes a track's
    /// state, history or coast only where it bumps its revision; with debug assertions on (the
    /// tests) the state is compared to the bit as well, so a change that did not bump it fails
    /// there. (The comparison itself, ~3 kB per track, was 4 % of a confirmed pass.)
    fn serves(&self, t_s: f64, after: usize, base: &ImmState, rev: u64) -> bool {
        let serves = self.t_s.to_bits() == t_s.to_bits() && self.after == after && self.rev == rev;
        #[cfg(debug_assertions)]
        assert!(
            !serves || self.base.same_bits(base),
            "a track's state changed without a new revision"
        );
        #[cfg(not(debug_assertions))]
        let _ = base;
        serves
    }
}

/// A track unseen for longer than this (s) is predicted on from its last coasting prediction
/// ([`Track`]'s `coast`) rather than from its posterior. Chosen among 0, 4, 8 and 12 s on
/// `breakup` and the radar-only `srbm-salvo` draws 11–15 (GOSPA, c = 10 km; from the posterior
/// always: 204.2 km and a GNN mean of 3779 m): 0 s 214 km (draw 11 alone: 3861 m), 4 s 206 km
/// and 3825 m, 8 s 189.8 km and 3788 m, 12 s 204.6 km and 3785 m. The chained IMM mixes its
/// models at every coasting step, which over short gaps kept false tracks alive.
const COAST_AFTER_S: f64 = 8.0;

/// Radars whose line of sight makes a cosine below this with a track's velocity order
/// separating objects along it ([`MultiTargetTracker::follow_the_object_ahead`]) only when
/// their ranges differ by [`AHEAD_RESOLVED_SIGMAS`] range sigmas or more, and below
/// [`AHEAD_MIN_COS_RESOLVED`] not at all.
const AHEAD_MIN_COS: f64 = 0.3;

/// Down to this cosine a radar still orders a pair resolved in range: differential drag
/// separates a stage from its payload along the velocity, so the one ahead is the one further
/// in range times the cosine's sign, once the range difference is out of the noise. With no
/// ordering below 0.3, a radar looking nearly across srbm-salvo's shortest flight (cos
/// 0.10–0.23 for the Korean early-warning radar at Chungcheong, ranges 135–260 m apart with a
/// 40 m sigma) was left to nearest-neighbour choices, and the warhead's and the stage's tracks
/// took each other's detections from it at every scan for 20 s while the ship's radar gave
/// them their own: ghosts 25 m/s off under 3 m/s sigmas, impact predictions 1–3 km off under
/// 0.3 km ellipses. Ordering pairs not resolved in range as well (any cosine down to 0.05)
/// fixed that but made the IRBM's median miss 20 % worse: ranges within the noise order them
/// at random.
const AHEAD_MIN_COS_RESOLVED: f64 = 0.05;

/// Height (m) below which [`AHEAD_MIN_COS_RESOLVED`] applies: drag separates the pair along
/// the velocity there. Above it (stages parting in vacuum, the IRBM's) ordering resolved pairs
/// at small cosines made 37 of 100 Monte Carlo runs' impact predictions worse and 18 better.
const AHEAD_IN_AIR_BELOW_M: f64 = 80e3;

/// Range difference, in range sigmas, above which a radar with a small cosine
/// ([`AHEAD_MIN_COS_RESOLVED`] to [`AHEAD_MIN_COS`]) orders a pair.
const AHEAD_RESOLVED_SIGMAS: f64 = 3.0;

/// χ² with 6 degrees of freedom at 99 %: the default track-to-track merge gate.
pub const MERGE_GATE_D2: f64 = 16.81;

/// Two confirmed tracks that share one detection in this many batches in a row (one is
/// updated with it, the other gated it and got nothing else), with no batch in between where
/// each took a detection of its own, are one object followed twice: merged. Two objects give
/// two detections per scan, so a pair of real objects survives this unless one of them goes
/// undetected this many scans in a row. It catches what the χ² test misses: duplicates that
/// split one object's noisy detections between them (each takes the ones on its side) stay a
/// few sigmas apart for minutes, each precise and each biased.
pub const SHARED_BATCHES_TO_MERGE: u32 = 10;

/// Prediction, gating and updates run over the thread pool when at least this many tracks take
/// part (below it, handing work to threads costs more than it saves).
pub const PARALLEL_MIN_TRACKS: usize = 16;

/// A track's pre-gate result for a batch: its candidate detections, or for a radar batch only
/// its rough position and radius (candidates exist; each is tested when in the range window).
enum PreGated<'a> {
    Listed(Vec<usize>),
    /// In a radar batch: where the track is, and the batch by range.
    InRange(Rough, &'a [(f64, usize)]),
}

/// An assigned track's update: its detection, prediction, where its history resumes, and its
/// JPDA weights (`None` under GNN).
type UpdateJob<'a> = (usize, &'a ImmState, usize, Option<TrackWeights>);

/// Room for updates in a new track's history, and in a newly confirmed track's.
const HISTORY_AT_START: usize = 4;
const HISTORY_AT_CONFIRMATION: usize = 8;

/// Longest history a tentative track keeps (updates).
const MAX_TENTATIVE_HISTORY: usize = 32;

/// Updates after which a track's estimate is kept as its early state.
pub const EARLY_HITS: u32 = 8;

impl Track {
    pub fn estimate(&self) -> GaussianState {
        self.imm.combined()
    }
    pub fn is_confirmed(&self) -> bool {
        self.status == TrackStatus::Confirmed
    }
    /// The track's products (impact, launch point, classification, ...).
    pub fn products(&self) -> crate::products::Products {
        crate::products::products(&self.estimate(), self.imm.mu[0], self.early_state())
    }
    /// The early state and its boost probability, for the launch-point product.
    pub fn early_state(&self) -> Option<(&GaussianState, f64)> {
        self.early.as_ref().map(|(s, pb)| (s, *pb))
    }
    /// The track's products through `live`: linearised from the track's last full products
    /// while they hold, else computed in full and kept as the new reference.
    pub fn live_products(
        &self,
        live: &mut crate::products::LiveProducts,
    ) -> (crate::products::Products, crate::products::Basis) {
        live.products(
            self.id,
            &self.estimate(),
            self.imm.mu[0],
            self.early_state(),
        )
    }
    /// The combined estimates after each earlier update still held in the track's history
    /// (oldest first, the current estimate excluded). A track keeps its whole history until it
    /// is confirmed, so at confirmation this is its track from the first detection on: what
    /// Stone Soup's `MultiMeasurementInitiator` hands over with a confirmed track.
    pub fn earlier_estimates(&self) -> impl Iterator<Item = GaussianState> + '_ {
        let n = self.history.len().saturating_sub(1);
        self.history
            .iter()
            .take(n)
            .skip(1)
            .map(|(_, s)| s.combined())
    }

    /// The position of the most probable mode's mean (cheap; for coarse tests).
    fn rough_position(&self) -> [f64; 3] {
        let s = &self.imm.states[self.imm.mode()];
        [s.x[0], s.x[1], s.x[2]]
    }
    /// What a prediction to `t_s` starts from: the posterior, or once the track has been unseen
    /// for more than [`COAST_AFTER_S`] by then, its coasting prediction.
    fn predicts_from(&self, t_s: f64) -> &ImmState {
        match &self.coast {
            Some(c) if c.t_s() <= t_s && t_s - self.imm.t_s() > COAST_AFTER_S => c,
            _ => &self.imm,
        }
    }
    /// The last posterior at or before `t_s` and the index after it in the history, for
    /// re-filtering a late observation.
    fn base_before(&self, t_s: f64) -> Option<(&ImmState, usize)> {
        if self.imm.t_s() <= t_s {
            return Some((self.predicts_from(t_s), self.history.len()));
        }
        let k = self.history.iter().rposition(|(_, s)| s.t_s() <= t_s)?;
        Some((&self.history[k].1, k + 1))
    }
}

/// Why observations were not used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejections {
    /// Older than the out-of-sequence window.
    pub too_late: usize,
    /// More than `max_time_jump_s` ahead of the latest batch while tracks were live, and not
    /// (yet) confirmed by the next batch: a bad clock, not a measurement (taking it would
    /// delete every track and refuse what follows).
    pub time_jump: usize,
    /// Numerical failure in an update (logged, not fatal).
    pub numerical: usize,
    /// Duplicate tracks merged into an older one.
    pub merged: usize,
    /// Observations refused by [`Observation::validate`] (non-finite or impossible values,
    /// non-positive noise), and whole batches with a non-finite time.
    pub invalid: usize,
}

impl Rejections {
    /// Observations the tracker did not use: too late, from a clock jump, or numerically failed.
    pub fn observations(&self) -> usize {
        self.too_late + self.time_jump + self.numerical + self.invalid
    }
}

/// Where the tracker's time went, summed over batches (nanoseconds, wall clock): the rough
/// pre-gate, the IMM predictions with gating, association, the updates (with re-filtering),
/// and track management (cues, merging, deletion, initiation). For profiling; a few clock
/// reads per batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    pub pregate_ns: u64,
    pub predict_ns: u64,
    pub associate_ns: u64,
    pub update_ns: u64,
    pub manage_ns: u64,
    /// IMM predictions made, and updates.
    pub predictions: u64,
    pub updates: u64,
    /// Detections tested against a track's predicted measurement (the pre-gate's candidates,
    /// within the track's range window in a radar batch), and those inside the gate.
    pub gate_tests: u64,
    pub gated: u64,
    /// [`MultiTargetTracker::predict_ahead`]: its time and the predictions it made, and the
    /// batches' predictions taken from them.
    pub ahead_ns: u64,
    pub predicted_ahead: u64,
    pub ahead_used: u64,
}

impl PhaseTimes {
    /// Adds what was spent between `earlier` and `later` (two readings of one tracker's times).
    pub fn add_between(&mut self, earlier: &PhaseTimes, later: &PhaseTimes) {
        self.pregate_ns += later.pregate_ns.saturating_sub(earlier.pregate_ns);
        self.predict_ns += later.predict_ns.saturating_sub(earlier.predict_ns);
        self.associate_ns += later.associate_ns.saturating_sub(earlier.associate_ns);
        self.update_ns += later.update_ns.saturating_sub(earlier.update_ns);
        self.manage_ns += later.manage_ns.saturating_sub(earlier.manage_ns);
        self.predictions += later.predictions.saturating_sub(earlier.predictions);
        self.updates += later.updates.saturating_sub(earlier.updates);
        self.gate_tests += later.gate_tests.saturating_sub(earlier.gate_tests);
        self.gated += later.gated.saturating_sub(earlier.gated);
        self.ahead_ns += later.ahead_ns.saturating_sub(earlier.ahead_ns);
        self.predicted_ahead += later
            .predicted_ahead
            .saturating_sub(earlier.predicted_ahead);
        self.ahead_used += later.ahead_used.saturating_sub(earlier.ahead_used);
    }
}

/// What happened to a track in a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackEvent {
    pub track_id: u64,
    pub t_s: f64,
    pub confirmed: bool,
    pub new: bool,
}

/// What the confirmed tracks' pass over a batch leaves to the rest of it: the batch's time,
/// which of its detections were used or taken by a confirmed track, the batch's pre-gates, and
/// whether the tentative tracks' pass has run.
#[derive(Debug)]
struct Pending {
    t_s: f64,
    used: Vec<bool>,
    taken: Vec<bool>,
    /// The confirmed tracks' pass's gated hypotheses and assignment, for management: which
    /// detections they explain and which tracks shared detections (counted there, off the
    /// path to the products: in a debris cloud's first seconds that is tens of thousands of
    /// pairs).
    confirmed_pass: (Vec<Hypothesis>, Vec<Option<usize>>),
    gates: PreGateIndex,
    tentative_done: bool,
}

/// A batch taken in passes: made by [`MultiTargetTracker::update_batch`] with its confirmed
/// tracks updated. Publish their products from [`BatchStep::tracker`]; then
/// [`BatchStep::update_tentative`] runs the tentative tracks' pass (some may be confirmed by
/// it: publish theirs), and [`BatchStep::finish`] the batch's track management (infrared cues,
/// merges of duplicates, deletions, new tentative tracks). Dropping the step runs whatever is
/// left, so a batch can never be left half-processed. While the step lives the tracker cannot
/// take another batch (the step holds it mutably).
#[derive(Debug)]
pub struct BatchStep<'a> {
    tracker: &'a mut MultiTargetTracker,
    batch: &'a [Observation],
    /// The updated tracks' events so far, in track order, and their tracks' indices.
    events: Vec<TrackEvent>,
    order: Vec<usize>,
    pending: Option<Pending>,
}

impl BatchStep<'_> {
    /// The tracks updated by this batch so far, in track order: the confirmed tracks', and
    /// after [`BatchStep::update_tentative`] the tentative tracks' too. Their estimates are final
    /// for the batch unless a merge in [`BatchStep::finish`] folds one into an older duplicate.
    pub fn updated(&self) -> &[TrackEvent] {
        &self.events
    }

    /// The tracker with this batch's updates so far applied.
    pub fn tracker(&self) -> &MultiTargetTracker {
        self.tracker
    }

    /// Runs the tentative tracks' pass (once; later calls do nothing). Returns its events, in
    /// track order: tracks it confirmed have `confirmed` and `new` set.
    pub fn update_tentative(&mut self) -> Vec<TrackEvent> {
        let Some(p) = self.pending.as_mut().filter(|p| !p.tentative_done) else {
            return Vec::new();
        };
        p.tentative_done = true;
        let more = self.tracker.update_tentative(self.batch, p);
        let out: Vec<TrackEvent> = more.iter().map(|(_, e)| e.clone()).collect();
        // Both passes' events into track order (a track is in one pass only).
        let mut all: Vec<(usize, TrackEvent)> = self
            .order
            .drain(..)
            .zip(self.events.drain(..))
            .chain(more)
            .collect();
        all.sort_by_key(|&(i, _)| i);
        (self.order, self.events) = all.into_iter().unzip();
        out
    }

    /// Runs what is left of the batch: the tentative tracks' pass if
    /// [`BatchStep::update_tentative`] has not run it, then track management. Returns the
    /// events of that tentative pass (if it ran here), then those of the tracks management
    /// started.
    pub fn finish(mut self) -> Vec<TrackEvent> {
        let mut events = self.update_tentative();
        events.extend(self.manage());
        events
    }

    fn manage(&mut self) -> Vec<TrackEvent> {
        match self.pending.take() {
            Some(p) => self.tracker.manage_batch(self.batch, &self.events, p),
            None => Vec::new(),
        }
    }
}

impl Drop for BatchStep<'_> {
    fn drop(&mut self) {
        self.update_tentative();
        self.manage();
    }
}

/// Which of a batch's two passes: the confirmed tracks, which choose first (their products
/// wait on them), then the tentative tracks, on what is left.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pass {
    Confirmed,
    Tentative,
}

/// The lists joined in order into one, each drained. The predictions' gated hypotheses go to
/// the association so: a debris cloud's young tracks gate ~27 000 pairs (a megabyte), and
/// from [`PARALLEL_MIN_TRACKS`] lists and [`PARALLEL_MIN_HYPOTHESES`] items every list's part
/// is written to its place by a job of the pool, not on the thread the pass waits on.
fn join_over_pool<T: Send>(lists: Vec<&mut Vec<T>>) -> Vec<T> {
    let total: usize = lists.iter().map(|l| l.len()).sum();
    let mut joined: Vec<T> = Vec::with_capacity(total);
    if lists.len() < PARALLEL_MIN_TRACKS || total < PARALLEL_MIN_HYPOTHESES {
        for l in lists {
            joined.append(l);
        }
        return joined;
    }
    let mut parts = Vec::with_capacity(lists.len());
    let mut rest = &mut joined.spare_capacity_mut()[..total];
    for l in &lists {
        let (part, tail) = rest.split_at_mut(l.len());
        parts.push(part);
        rest = tail;
    }
    parts
        .into_par_iter()
        .zip(lists.into_par_iter())
        .for_each(|(part, l)| {
            for (slot, x) in part.iter_mut().zip(l.drain(..)) {
                slot.write(x);
            }
        });
    // SAFETY: the parts tile the first `total` slots of the spare capacity, and each was
    // written in full above (a part is exactly as long as its list, drained whole).
    unsafe { joined.set_len(total) };
    joined
}

/// Below this many gated pairs the list is joined on one thread ([`join_over_pool`]).
const PARALLEL_MIN_HYPOTHESES: usize = 4096;

/// A track predicted to a batch's time: its index, the prediction, where its history resumes
/// after the batch, and its gated hypotheses (taken out for association) and gate tests.
struct Predicted {
    track: usize,
    /// (Shared with the prediction made ahead that it is, if any.)
    pred: Arc<ImmState>,
    after: usize,
    gated: Vec<Hypothesis>,
    tests: u64,
    /// The prediction was made ahead of the batch.
    ahead: bool,
}

/// A track near a batch: its index, the state it predicts from and where its history resumes,
/// its pre-gate result, and the prediction made ahead that serves it (if any: [`Ahead::serves`]).
type Near<'a> = (usize, &'a ImmState, usize, PreGated<'a>, Option<&'a Ahead>);

/// The multi-target tracker.
#[derive(Clone, Debug)]
pub struct MultiTargetTracker {
    pub cfg: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u64,
    latest_t_s: f64,
    /// The time of a batch held back as a jump ahead of the clock
    /// ([`TrackerConfig::max_time_jump_s`]).
    held_jump_t_s: Option<f64>,
    cues: VecDeque<(f64, [f64; 3], [f64; 3])>,
    pub rejected: Rejections,
    pub deleted: Vec<Track>,
    pub times: PhaseTimes,
    /// The IMM configuration the kept predictions ([`MultiTargetTracker::predict_ahead`]) were
    /// made under: a prediction is a function of it too, and `cfg` is public.
    ahead_imm: Option<crate::imm::ImmConfig>,
    /// Pairs of confirmed tracks (ids, lower first) and the batches in a row in which they
    /// shared one detection ([`SHARED_BATCHES_TO_MERGE`]).
    shared: HashMap<(u64, u64), u32>,
}

/// A batch's time: the most common time among its `valid` observations; of equally common
/// ones, the nearest the clock `latest_t_s` (if it has started), else the earliest. `None`
/// when nothing is valid.
fn batch_time(batch: &[Observation], valid: &[bool], latest_t_s: f64) -> Option<f64> {
    let mut times: Vec<f64> = batch
        .iter()
        .zip(valid)
        .filter(|(_, v)| **v)
        .map(|(o, _)| o.t_s)
        .collect();
    times.sort_by(f64::total_cmp);
    let off = |t: f64| {
        if latest_t_s.is_finite() {
            (t - latest_t_s).abs()
        } else {
            0.0
        }
    };
    // `min_by` keeps the first of equals: in ascending order, the earliest.
    times
        .chunk_by(|a, b| a == b)
        .min_by(|a, b| b.len().cmp(&a.len()).then(off(a[0]).total_cmp(&off(b[0]))))
        .map(|run| run[0])
}

impl MultiTargetTracker {
    pub fn new(cfg: TrackerConfig) -> Self {
        Self {
            cfg,
            tracks: Vec::new(),
            next_id: 1,
            latest_t_s: f64::NEG_INFINITY,
            held_jump_t_s: None,
            cues: VecDeque::new(),
            rejected: Rejections::default(),
            deleted: Vec::new(),
            times: PhaseTimes::default(),
            ahead_imm: None,
            shared: HashMap::new(),
        }
    }

    /// The tracker's clock: the latest batch time it has taken (−∞ before the first).
    pub fn latest_t_s(&self) -> f64 {
        self.latest_t_s
    }

    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Each track's index in [`MultiTargetTracker::tracks`], by id.
    pub fn index_by_id(&self) -> std::collections::HashMap<u64, usize> {
        self.tracks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id, i))
            .collect()
    }

    /// Where a track's mean will be at `t_s` (straight-line extrapolation with thrust and a
    /// central-gravity correction) and a generous one-sigma radius around it: a cheap pre-gate
    /// before the full IMM prediction.
    fn rough_prediction(track: &Track, t_s: f64) -> ([f64; 3], f64) {
        // From where the IMM prediction will start (a long-coasting track's coast).
        let imm = track.predicts_from(t_s);
        let s = &imm.states[imm.mode()];
        let dt = t_s - s.t_s;
        let r = [s.x[0], s.x[1], s.x[2]];
        let rn = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
        let g = -9.8 / rn * 0.5 * dt * dt;
        let p = [
            r[0] + s.x[3] * dt + 0.5 * s.x[ACC] * dt * dt + g * r[0],
            r[1] + s.x[4] * dt + 0.5 * s.x[ACC + 1] * dt * dt + g * r[1],
            r[2] + s.x[5] * dt + 0.5 * s.x[ACC + 2] * dt * dt + g * r[2],
        ];
        let sig_pos = s.position_sigma_m();
        let sig_vel = (s.p[(3, 3)] + s.p[(4, 4)] + s.p[(5, 5)]).max(0.0).sqrt();
        (p, sig_pos + sig_vel * dt.abs() + 50.0 * dt * dt)
    }

    /// Predicts every confirmed track to `t_s`, the time of the batch expected next (a radar's
    /// next scan: a node knows the schedules of the radars it tasks), and keeps each
    /// prediction for that batch. Made in the time between batches, the predictions are off
    /// the path from the batch's detections to their products. A kept prediction serves only a
    /// batch at exactly `t_s`, and only if the track still predicts from the very state it was
    /// made from (a track updated in between predicts afresh), so the tracks are the same with
    /// or without it. Returns the predictions made.
    pub fn predict_ahead(&mut self, t_s: f64) -> usize {
        if !t_s.is_finite() {
            return 0;
        }
        let lap = std::time::Instant::now();
        // Predictions kept from another configuration are void.
        if self.ahead_imm.as_ref() != Some(&self.cfg.imm) {
            for track in &mut self.tracks {
                track.ahead = None;
            }
            self.ahead_imm = Some(self.cfg.imm.clone());
        }
        let cfg = &self.cfg;
        let one = |track: &mut Track| -> usize {
            if !track.is_confirmed() {
                return 0;
            }
            let Some((base, after)) = track.base_before(t_s) else {
                return 0;
            };
            let kept = track.ahead.as_deref();
            if kept.is_some_and(|a| a.serves(t_s, after, base, track.rev)) {
                return 0;
            }
            let pred = Arc::new(base.predict(&cfg.imm, t_s));
            let combined = pred.combined();
            #[cfg(debug_assertions)]
            let base = base.clone();
            track.ahead = Some(Box::new(Ahead {
                t_s,
                rev: track.rev,
                #[cfg(debug_assertions)]
                base,
                after,
                pred,
                combined,
            }));
            1
        };
        let n: usize = if self.tracks.len() >= PARALLEL_MIN_TRACKS {
            self.tracks.par_iter_mut().map(one).sum()
        } else {
            self.tracks.iter_mut().map(one).sum()
        };
        self.times.ahead_ns += lap.elapsed().as_nanos() as u64;
        self.times.predicted_ahead += n as u64;
        n
    }

    /// The confirmed tracks' kept predictions to `t_s` ([`MultiTargetTracker::predict_ahead`])
    /// that a batch at `t_s` would use: each track with its predicted estimate (the IMM's
    /// combined state) and predicted boost probability. What a node can make ahead of the batch
    /// from the prediction, e.g. the products' references
    /// ([`crate::products::LiveProducts::refresh_ahead`]).
    pub fn predictions_ahead(
        &self,
        t_s: f64,
    ) -> impl Iterator<Item = (&Track, &GaussianState, f64)> + '_ {
        let valid = self.ahead_imm.as_ref() == Some(&self.cfg.imm);
        self.tracks
            .iter()
            .filter(move |track| valid && track.is_confirmed())
            .filter_map(move |track| {
                let a = track.ahead.as_deref()?;
                let (base, after) = track.base_before(t_s)?;
                a.serves(t_s, after, base, track.rev)
                    .then(|| (track, &a.combined, a.pred.mu[0]))
            })
    }

    /// Processes one batch: the detections of one sensor at one time. Returns what happened to
    /// tracks: the updated tracks' events, then the new tracks'.
    pub fn process_batch(&mut self, batch: &[Observation]) -> Vec<TrackEvent> {
        let mut step = self.update_batch(batch);
        step.update_tentative();
        let mut events = step.updated().to_vec();
        events.extend(step.finish());
        events
    }

    /// The first part of [`MultiTargetTracker::process_batch`]: association and updates of the
    /// confirmed tracks. The returned step gives them (publish their products now), then runs
    /// the tentative tracks' pass and track management when asked, or when dropped. Taking the
    /// batch in these parts keeps the tentative tracks (in a debris cloud, most of the tracks
    /// and of the gating) and management (merge tests over the whole population, new tracks)
    /// off the path from a detection to a confirmed track's products; the results are the same
    /// as `process_batch`'s.
    pub fn update_batch<'a>(&'a mut self, batch: &'a [Observation]) -> BatchStep<'a> {
        self.update_batch_with(batch, |_| None::<()>).0
    }

    /// [`MultiTargetTracker::update_batch`], calling `on_update` on each confirmed track the
    /// moment its update is done, in the update's own job (over the thread pool): what a node
    /// derives from a track (its quick products, [`crate::products::LiveProducts::prepare`]) is
    /// then out as soon as that track is, not when the whole batch is. Returns the step and,
    /// in track order, the updated confirmed tracks' ids with what `on_update` returned for
    /// them (`None`s left out).
    pub fn update_batch_with<'a, T: Send>(
        &'a mut self,
        batch: &'a [Observation],
        on_update: impl Fn(&Track) -> Option<T> + Sync,
    ) -> (BatchStep<'a>, Vec<(u64, T)>) {
        let (updated, derived, pending) = match self.update_tracks(batch, &on_update) {
            Some((updated, derived, pending)) => (updated, derived, Some(pending)),
            None => (Vec::new(), Vec::new(), None),
        };
        let (order, events) = updated.into_iter().unzip();
        let step = BatchStep {
            tracker: self,
            batch,
            events,
            order,
            pending,
        };
        (step, derived)
    }

    /// The confirmed tracks' pass over a batch: pre-gate, prediction, gating, association and
    /// updates of the confirmed tracks near it; `None` for a batch refused whole (empty, too
    /// late, a clock jump). Confirmed tracks choose first and tentative tracks take only what
    /// they leave, so nothing here waits on the tentative tracks: their pass
    /// ([`MultiTargetTracker::update_tentative`]) comes after, off the path from a detection to
    /// a confirmed track's products.
    #[allow(clippy::type_complexity)]
    fn update_tracks<T: Send>(
        &mut self,
        batch: &[Observation],
        on_update: &(impl Fn(&Track) -> Option<T> + Sync),
    ) -> Option<(Vec<(usize, TrackEvent)>, Vec<(u64, T)>, Pending)> {
        // A batch is one time (`feed::batches` makes one per sensor and time): its valid
        // observations' most common time; another time in it is invalid. A batch with nothing
        // valid moves nothing.
        let mut valid: Vec<bool> = batch.iter().map(|o| o.validate().is_ok()).collect();
        let Some(t) = batch_time(batch, &valid, self.latest_t_s) else {
            self.rejected.invalid += batch.len();
            return None;
        };
        for (v, o) in valid.iter_mut().zip(batch) {
            *v &= o.t_s == t;
        }
        let n_valid = valid.iter().filter(|v| **v).count();
        self.rejected.invalid += batch.len() - n_valid;
        let jump = t > self.latest_t_s + self.cfg.max_time_jump_s && self.latest_t_s.is_finite();
        if !jump {
            // A batch at the old clock (even a late one) says the held jump was a stray.
            self.held_jump_t_s = None;
        }
        if t < self.latest_t_s - self.cfg.oosm_window_s {
            self.rejected.too_late += n_valid;
            return None;
        }
        if jump && !self.tracks.is_empty() {
            let confirmed = self
                .held_jump_t_s
                .is_some_and(|h| (t - h).abs() <= self.cfg.max_time_jump_s);
            if !confirmed {
                self.held_jump_t_s = Some(t);
                self.rejected.time_jump += n_valid;
                return None;
            }
        }
        self.held_jump_t_s = None;
        self.latest_t_s = self.latest_t_s.max(t);
        let lap = std::time::Instant::now();
        // Tracks that timed out by now go before anything is predicted (after a gap in the
        // data, predicting them across it would be wasted work).
        self.delete_stale();
        // Each observation as a point (radar) or a ray (infrared) in ECEF, computed once per
        // batch, for both passes.
        let gates = PreGateIndex::new(batch, valid, t);
        self.times.pregate_ns += lap.elapsed().as_nanos() as u64;
        let none_taken = vec![false; batch.len()];
        let (predicted, hyps) = self.predict_and_gate(batch, &gates, Pass::Confirmed, &none_taken);

        let lap = std::time::Instant::now();
        // GNN takes one detection per track; JPDA weighs every gated detection (the track's
        // best one stands for it in the bookkeeping).
        let n_tracks = self.tracks.len();
        let mut pda: Vec<Option<TrackWeights>> = vec![None; n_tracks];
        let mut assignment = match self.cfg.association {
            Association::Gnn => gnn_associate(&hyps, n_tracks, batch.len(), &self.cfg.gate_d2),
            Association::Jpda => {
                let mut a = vec![None; n_tracks];
                for tw in jpda_weights(&hyps, n_tracks, batch.len(), &self.cfg.jpda) {
                    let t = tw.track;
                    a[t] = best_detection(&tw);
                    pda[t] = Some(tw);
                }
                a
            }
            Association::Hybrid => {
                let (sparse, dense) =
                    split_by_cluster_size(&hyps, n_tracks, batch.len(), MAX_EXACT_TRACKS);
                let mut a = gnn_associate(&sparse, n_tracks, batch.len(), &self.cfg.gate_d2);
                for tw in jpda_weights_of_clusters(dense, batch.len(), &self.cfg.jpda) {
                    let t = tw.track;
                    a[t] = best_detection(&tw);
                    pda[t] = Some(tw);
                }
                a
            }
        };
        if self.cfg.association == Association::Hybrid {
            self.follow_the_object_ahead(batch, &gates, &predicted, &hyps, &mut assignment, &pda);
        }
        let mut taken = vec![false; batch.len()];
        for d in assignment.iter().flatten() {
            taken[*d] = true;
        }
        self.times.associate_ns += lap.elapsed().as_nanos() as u64;
        let mut used = vec![false; batch.len()];
        let columns = gates.columns.as_ref();
        let (events, derived) = self.apply_updates(
            batch,
            t,
            predicted,
            &assignment,
            pda,
            columns,
            &mut used,
            on_update,
        );
        let pending = Pending {
            t_s: t,
            used,
            confirmed_pass: (hyps, assignment),
            gates,
            taken,
            tentative_done: false,
        };
        Some((events, derived, pending))
    }

    /// Separating objects, resolved in range but not across it, are told apart by which one is
    /// ahead along the track's velocity. Right after a separation (a spent stage pushed back, a
    /// payload going on) the two objects are tens to hundreds of metres apart along the flight
    /// path, a few range sigmas, while the radars' cross-range errors are kilometres. Left to
    /// nearest-neighbour choices, each radar picks whichever detection is nearer the track's
    /// prediction, and a track can settle on a ghost that takes one object's ranges from some
    /// radars and the other's from the rest: hundreds of metres and several m/s off both, an
    /// impact prediction tens of kilometres off, with a confident ellipse. Here a track with
    /// two such detections takes the one ahead along its velocity from every radar (the object
    /// that continues, as a track kept through the boost did), and of two tracks on such a pair
    /// the older takes the detection ahead and the younger the one behind. Radars whose line of
    /// sight is nearly across the velocity (|cos| < [`AHEAD_MIN_COS`]) cannot order them and
    /// are left as assigned. GNN-assigned tracks of [`Association::Hybrid`] only (JPDA weighs all
    /// of them; [`Association::Gnn`] stays the textbook algorithm, the one compared with Stone
    /// Soup).
    fn follow_the_object_ahead(
        &self,
        batch: &[Observation],
        gates: &PreGateIndex,
        predicted: &[Predicted],
        hyps: &[Hypothesis],
        assignment: &mut [Option<usize>],
        pda: &[Option<TrackWeights>],
    ) {
        let Some(first) = batch.first() else {
            return;
        };
        if !matches!(first.kind, ObservationKind::Radar { .. }) || batch.len() < 2 {
            return;
        }
        // GNN tracks with two or more gated detections, with where their hypotheses are (the
        // hypotheses come track by track, in track order), taken older first.
        let mut groups: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        let mut i = 0;
        while i < hyps.len() {
            let t = hyps[i].track;
            let mut j = i + 1;
            while j < hyps.len() && hyps[j].track == t {
                j += 1;
            }
            if j - i >= 2 && pda[t].is_none() && assignment[t].is_some() {
                groups.push((t, i..j));
            }
            i = j;
        }
        if groups.is_empty() {
            return;
        }
        let gated = |t: usize| {
            groups
                .binary_search_by_key(&t, |g| g.0)
                .ok()
                .map(|k| &hyps[groups[k].1.clone()])
        };
        let mut owner: Vec<Option<usize>> = vec![None; batch.len()];
        for (t, a) in assignment.iter().enumerate() {
            if let Some(d) = a {
                owner[*d] = Some(t);
            }
        }
        let mut order: Vec<usize> = groups.iter().map(|g| g.0).collect();
        order.sort_by_key(|&t| self.tracks[t].id);
        for ti in order {
            let Some(a) = assignment[ti] else {
                continue;
            };
            let Ok(k) = predicted.binary_search_by_key(&ti, |p| p.track) else {
                continue;
            };
            let c = predicted[k].pred.combined();
            let los = vec3::sub(c.position(), batch[a].frame.origin);
            let (ln, vn) = (vec3::norm(los), vec3::norm(c.velocity()));
            if ln <= 0.0 || vn <= 0.0 {
                continue;
            }
            let cos = vec3::dot(los, c.velocity()) / (ln * vn);
            // Below AHEAD_MIN_COS, only inside the air (where drag separates the pair along
            // the velocity).
            let in_air = || {
                tripoint_physics::geodesy::height_above_ellipsoid_m(c.position())
                    < AHEAD_IN_AIR_BELOW_M
            };
            if cos.abs() < AHEAD_MIN_COS_RESOLVED || (cos.abs() < AHEAD_MIN_COS && !in_air()) {
                continue;
            }
            // Below AHEAD_MIN_COS only a pair resolved in range is ordered.
            let min_dr = if cos.abs() < AHEAD_MIN_COS {
                AHEAD_RESOLVED_SIGMAS * batch[a].sigma[0]
            } else {
                0.0
            };
            let Some(pa) = gates.point(a) else {
                continue;
            };
            // Unresolved across the line of sight: within three sigmas of the angle noise.
            let cross_lim = 3.0 * batch[a].z[0] * batch[a].sigma[1].max(batch[a].sigma[2]);
            let ahead = |d: usize| (batch[d].z[0] - batch[a].z[0]) * cos.signum();
            let best = gated(ti)
                .into_iter()
                .flatten()
                .map(|h| h.detection)
                // Ranges compare only from one site.
                .filter(|&d| d != a && batch[d].frame == batch[a].frame && ahead(d) > min_dr)
                .filter(|&d| {
                    let Some(pd) = gates.point(d) else {
                        return false;
                    };
                    let dr = batch[d].z[0] - batch[a].z[0];
                    let sep = vec3::sub(pd, pa);
                    (vec3::dot(sep, sep) - dr * dr).max(0.0) <= cross_lim * cross_lim
                })
                .max_by(|&x, &y| ahead(x).total_cmp(&ahead(y)));
            let Some(b) = best else {
                continue;
            };
            match owner[b] {
                None => {
                    assignment[ti] = Some(b);
                    owner[a] = None;
                    owner[b] = Some(ti);
                }
                // A younger GNN track on the pair that also gates `a` takes it instead.
                Some(tj) => {
                    if self.tracks[tj].id > self.tracks[ti].id
                        && gated(tj).is_some_and(|g| g.iter().any(|h| h.detection == a))
                    {
                        assignment[ti] = Some(b);
                        assignment[tj] = Some(a);
                        owner[a] = Some(tj);
                        owner[b] = Some(ti);
                    }
                }
            }
        }
    }

    /// The tentative tracks' pass over a batch whose confirmed tracks are updated: the tentative
    /// tracks near it are predicted, gated on the detections the confirmed tracks did not take
    /// (the only ones they could get), and share them by GNN.
    fn update_tentative(
        &mut self,
        batch: &[Observation],
        pending: &mut Pending,
    ) -> Vec<(usize, TrackEvent)> {
        let (predicted, hyps) =
            self.predict_and_gate(batch, &pending.gates, Pass::Tentative, &pending.taken);
        let lap = std::time::Instant::now();
        let n_tracks = self.tracks.len();
        let assignment = gnn_associate(&hyps, n_tracks, batch.len(), &self.cfg.gate_d2);
        self.times.associate_ns += lap.elapsed().as_nanos() as u64;
        self.apply_updates(
            batch,
            pending.t_s,
            predicted,
            &assignment,
            vec![None; n_tracks],
            None,
            &mut pending.used,
            &|_| None::<()>,
        )
        .0
    }

    /// Pre-gate, IMM prediction and gating for one pass over a batch: the pass's tracks whose
    /// pre-gate admits any of the batch's detections are predicted to the batch time (the rest
    /// are not touched), and gated against the detections not `skip`ped. Returns the
    /// predictions, in track order, and the gated hypotheses.
    fn predict_and_gate(
        &mut self,
        batch: &[Observation],
        gates: &PreGateIndex,
        pass: Pass,
        skip: &[bool],
    ) -> (Vec<Predicted>, Vec<Hypothesis>) {
        let Some(first) = batch.first() else {
            return (Vec::new(), Vec::new());
        };
        let t = gates.t_s;
        let lap = std::time::Instant::now();
        let (mut candidates, mut mask): (Vec<usize>, Vec<u64>) = Default::default();
        // Pre-gate, in track order: the pass's tracks near the batch, the posterior each
        // predicts from (and where its history resumes), and their candidate detections: listed,
        // or in a radar batch only known to exist (each is tested in the track's range window).
        // Whether a track is near the batch counts every detection, taken or not: a track near
        // it is predicted (and coasts on the prediction if it gets nothing).
        let mut near: Vec<Near> = Vec::new();
        for (ti, track) in self.tracks.iter().enumerate() {
            if track.is_confirmed() != (pass == Pass::Confirmed) {
                continue;
            }
            let (p, sigma) = Self::rough_prediction(track, t);
            let rough = gates.rough(p, sigma);
            let pre = if let Some(sorted) = &gates.by_range {
                if gates.admitted(rough).next().is_none() {
                    continue;
                }
                PreGated::InRange(rough, sorted)
            } else {
                gates.candidates(rough, &mut candidates, &mut mask);
                if candidates.is_empty() {
                    continue;
                }
                PreGated::Listed(std::mem::take(&mut candidates))
            };
            if let Some((base, after)) = track.base_before(t) {
                let ahead = track.ahead.as_deref();
                let ahead = ahead.filter(|a| a.serves(t, after, base, track.rev));
                near.push((ti, base, after, pre, ahead));
            }
        }
        let pregate_ns = lap.elapsed().as_nanos() as u64;
        let lap = std::time::Instant::now();
        // IMM prediction and gating are independent per track: over the thread pool when there
        // are enough of them, collected in track order (the same hypotheses, in the same order,
        // as one thread makes).
        let cfg = &self.cfg;
        let aheads_valid = self.ahead_imm.as_ref() == Some(&cfg.imm);
        let predict_and_gate = |&(ti, base, after, ref pre, ahead): &Near| {
            // The prediction made ahead of this batch, if made from the very state the
            // track predicts from now (the pre-gate asked) and with this configuration (else
            // afresh: the same function of the same state).
            let ahead = ahead.filter(|_| aheads_valid);
            let (pred, combined) = match ahead {
                Some(a) => (Arc::clone(&a.pred), Cow::Borrowed(&a.combined)),
                None => {
                    let pred = base.predict(&cfg.imm, t);
                    let combined = pred.combined();
                    (Arc::new(pred), Cow::Owned(combined))
                }
            };
            let mut gated = Vec::new();
            let mut tests = 0u64;
            let mut column_tests = 0u64;
            let mut test = |gated: &mut Vec<Hypothesis>,
                            pm: &crate::filter::PredictedMeasurement,
                            di: usize| {
                if skip[di] {
                    return;
                }
                let obs = &batch[di];
                tests += 1;
                let inn = pm.innovation(obs);
                if inn.d2 <= cfg.gate_d2[obs.dim()] {
                    gated.push(Hypothesis {
                        track: ti,
                        detection: di,
                        innovation: inn,
                    });
                }
            };
            match pre {
                // A radar batch: the candidates inside the track's range window, in detection
                // order (the same hypotheses as testing every candidate). The predicted
                // measurement is made, as below, with the first candidate (skipped or not).
                &PreGated::InRange(rough, sorted) => {
                    let first_candidate =
                        (0..batch.len()).find(|&di| gates.is_candidate(di, rough));
                    let pm = first_candidate.and_then(|d0| {
                        crate::filter::predicted_measurement(cfg.imm.filter, &combined, &batch[d0])
                    });
                    if let Some(pm) = pm {
                        let (lo, hi) = pm.first_component_window(cfg.gate_d2[first.dim()]);
                        let start = sorted.partition_point(|&(r, _)| r < lo);
                        let len = sorted[start..].partition_point(|&(r, _)| r <= hi);
                        // (At most the window's detections pass: no regrowth of the list.)
                        gated.reserve(len);
                        // The tests from the batch's columns (built with the range
                        // order: one radar, one kind, one accuracy); the detections' angle
                        // is the azimuth, and one gate serves them all.
                        let columns = gates.columns.as_ref();
                        let gate = cfg.gate_d2[first.dim()];
                        let mut test_column = |gated: &mut Vec<Hypothesis>, di: usize| {
                            let Some(z) = columns else {
                                return test(gated, &pm, di);
                            };
                            if skip[di] {
                                return;
                            }
                            column_tests += 1;
                            let d2 = pm.d2_of_column(z, 1, di);
                            if d2 <= gate {
                                gated.push(Hypothesis {
                                    track: ti,
                                    detection: di,
                                    innovation: pm.innovation_of_d2(d2),
                                });
                            }
                        };
                        if let (true, Some(z)) = (len * 4 >= batch.len(), columns) {
                            // A window over much of the batch (a debris cloud's young
                            // tracks): every detection's d² at once (four at a time, the
                            // same numbers), then the window walked in detection order, no
                            // sort after.
                            let mut d2s = Vec::new();
                            pm.d2_of_columns(z, 1, &mut d2s);
                            // (The pre-gate asked only of those the gate passes: the same
                            // hypotheses; the tests counted are the window's.)
                            for (di, &d2) in d2s.iter().enumerate() {
                                let r = z[0][di];
                                if r >= lo && r <= hi && !skip[di] {
                                    column_tests += 1;
                                    if d2 <= gate && gates.is_candidate(di, rough) {
                                        gated.push(Hypothesis {
                                            track: ti,
                                            detection: di,
                                            innovation: pm.innovation_of_d2(d2),
                                        });
                                    }
                                }
                            }
                        } else {
                            // (A radar batch always has its columns, with its range order;
                            // without them, the window by range serves as well.)
                            for &(_, di) in &sorted[start..start + len] {
                                if gates.is_candidate(di, rough) {
                                    test_column(&mut gated, di);
                                }
                            }
                            gated.sort_unstable_by_key(|h| h.detection);
                        }
                    }
                }
                PreGated::Listed(cands) => {
                    // One predicted measurement per track, sensor site, measurement
                    // dimension (detections with and without range rate differ in it) and
                    // accuracy (its noise is in S): a batch is one sensor at one time, but
                    // a caller may mix them, and a sensor may report each detection's own.
                    type Key = (crate::measurement::LocalFrame, usize, [f64; 4]);
                    let mut made: Vec<(Key, Option<crate::filter::PredictedMeasurement>)> =
                        Vec::new();
                    gated.reserve(cands.len());
                    for &di in cands {
                        let obs = &batch[di];
                        let key = (obs.frame, obs.dim(), obs.sigma);
                        let k = match made.iter().position(|(k, _)| *k == key) {
                            Some(k) => k,
                            None => {
                                let pm = crate::filter::predicted_measurement(
                                    cfg.imm.filter,
                                    &combined,
                                    obs,
                                );
                                made.push((key, pm));
                                made.len() - 1
                            }
                        };
                        if let Some(pm) = made[k].1.as_ref() {
                            test(&mut gated, pm, di);
                        }
                    }
                }
            }
            Predicted {
                track: ti,
                pred,
                after,
                gated,
                tests: tests + column_tests,
                ahead: ahead.is_some(),
            }
        };
        // The predictions, packed where the pool wrote them: a prediction is kilobytes, and the
        // updates read them in place.
        let mut predicted: Vec<Predicted> = if near.len() >= PARALLEL_MIN_TRACKS {
            near.par_iter().map(predict_and_gate).collect()
        } else {
            near.iter().map(predict_and_gate).collect()
        };
        for p in &predicted {
            self.times.gate_tests += p.tests;
            self.times.ahead_used += u64::from(p.ahead);
        }
        let hyps = join_over_pool(predicted.iter_mut().map(|p| &mut p.gated).collect());
        self.times.pregate_ns += pregate_ns;
        self.times.predict_ns += lap.elapsed().as_nanos() as u64;
        self.times.predictions += predicted.len() as u64;
        self.times.gated += hyps.len() as u64;
        (predicted, hyps)
    }

    /// The updates of one pass's assigned tracks (with the re-filtering of what came after a
    /// late batch) and their bookkeeping; the pass's other predicted tracks coast on their
    /// predictions. Marks the detections used; returns the events with their tracks' indices,
    /// in track order, and what `on_update` made of each confirmed track updated with a hit
    /// (called in the track's update job, as soon as it is done).
    #[allow(clippy::type_complexity)]
    #[allow(clippy::too_many_arguments)]
    fn apply_updates<T: Send>(
        &mut self,
        batch: &[Observation],
        t: f64,
        predicted: Vec<Predicted>,
        assignment: &[Option<usize>],
        mut pda: Vec<Option<TrackWeights>>,
        columns: Option<&[Vec<f64>; 4]>,
        used: &mut [bool],
        on_update: &(impl Fn(&Track) -> Option<T> + Sync),
    ) -> (Vec<(usize, TrackEvent)>, Vec<(u64, T)>) {
        if batch.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let lap = std::time::Instant::now();
        // `slot[track]` indexes the track's prediction, if it has one (most have none).
        let mut slot: Vec<u32> = vec![u32::MAX; self.tracks.len()];
        for (k, p) in predicted.iter().enumerate() {
            slot[p.track] = k as u32;
        }
        // The updates are independent per track: one job per assigned track, in track order,
        // each with its track, over the pool when there are enough.
        // Which predictions an update consumes (the rest coast on).
        let mut consumed = vec![false; predicted.len()];
        let mut work: Vec<(usize, &mut Track, UpdateJob)> = self
            .tracks
            .iter_mut()
            .zip(assignment)
            .enumerate()
            .filter_map(|(ti, (tr, det))| {
                let di = (*det)?;
                let k = slot[ti] as usize;
                let p = predicted.get(k)?;
                consumed[k] = true;
                Some((ti, tr, (di, &*p.pred, p.after, pda[ti].take())))
            })
            .collect();
        let cfg = &self.cfg;
        let latest_t_s = self.latest_t_s;
        let update_one =
            |(ti, track, (di, pred, after, pda)): &mut (usize, &mut Track, UpdateJob)| {
                let (ti, di, after) = (*ti, *di, *after);
                let obs = &batch[di];
                // The posterior and the probability that the track was detected in this batch.
                let result = match pda {
                    // A batch of one radar, one kind and one accuracy (given by component):
                    // every weighted detection shares the site.
                    Some(tw) if columns.is_some() => {
                        let missed = tw.missed.min(1.0);
                        let first = tw.detections.first().map(|&(d, _)| &batch[d]);
                        first
                            .zip(columns)
                            .and_then(|(f, z)| {
                                crate::filter::PdaDetections::from_columns(f, z, &tw.detections)
                            })
                            .and_then(|set| pred.update_pda_set(&cfg.imm, &set, missed, &cfg.jpda))
                            .map(|s| (s, 1.0 - missed))
                    }
                    Some(tw) => {
                        // One sensor site and accuracy per PDA update (its residuals are taken
                        // from one detection): in a batch that mixes them, the best
                        // detection's, the others' weight counted as missed.
                        let mut list: Vec<(&Observation, f64)> = Vec::new();
                        let mut missed = tw.missed;
                        for &(d, b) in &tw.detections {
                            let o = &batch[d];
                            if o.frame == obs.frame && o.sigma == obs.sigma {
                                list.push((o, b));
                            } else {
                                missed += b;
                            }
                        }
                        let missed = missed.min(1.0);
                        pred.update_pda(&cfg.imm, &list, missed, &cfg.jpda)
                            .map(|s| (s, 1.0 - missed))
                    }
                    None => pred.update(&cfg.imm, obs).map(|s| (s, 1.0)),
                };
                let (post, p_detected) = result?;
                // Re-filter what came after a late observation (none, mostly).
                let mut later: Vec<(Observation, ImmState)> = Vec::new();
                if after < track.history.len() {
                    let mut state = post.clone();
                    for (o, _) in track.history.iter().skip(after) {
                        let p = state.predict(&cfg.imm, o.t_s);
                        state = p.update(&cfg.imm, o).unwrap_or(p);
                        later.push((o.clone(), state.clone()));
                    }
                }
                track.history.truncate(after);
                track.coast = None;
                track.rev += 1;
                track.imm = later
                    .last()
                    .map_or_else(|| post.clone(), |(_, s)| s.clone());
                track.history.push_back((obs.clone(), post));
                track.history.extend(later);
                if p_detected < 0.5 {
                    // Updated (JPDA), but more likely missed than seen: not a hit.
                    return Some(None);
                }
                track.hits += 1;
                if track.early.is_none() && track.hits >= EARLY_HITS {
                    track.early = Some((track.imm.combined(), track.imm.mu[0]));
                }
                track.last_update_t_s = track.last_update_t_s.max(t);
                // Sensor ids are shared (`Arc`): the clone is a reference count.
                track.contributors.insert((obs.owner, obs.sensor.clone()));
                let need = if track.cued {
                    cfg.confirm_hits_cued
                } else {
                    cfg.confirm_hits
                };
                let was = track.status;
                if track.status == TrackStatus::Tentative
                    && track.hits >= need
                    && track.imm.position_sigma_m() <= cfg.confirm_max_sigma_m
                {
                    track.status = TrackStatus::Confirmed;
                    // The room a confirmed track's next updates need, taken now (in the
                    // tentative pass) rather than by a reallocation in the confirmed pass of a
                    // later batch, where its products wait on it.
                    let room = HISTORY_AT_CONFIRMATION.saturating_sub(track.history.len());
                    track.history.reserve(room);
                }
                // Past the out-of-sequence window the history is only needed until
                // confirmation (a tentative track's whole history, up to a cap).
                let keep_all = track.status == TrackStatus::Tentative
                    && track.history.len() <= MAX_TENTATIVE_HISTORY;
                if !keep_all {
                    // Dropped in place (a pop would copy each ~3 kB entry out, from memory
                    // long out of the cache, only to drop it).
                    let old = track
                        .history
                        .iter()
                        .take(track.history.len().saturating_sub(1))
                        .take_while(|(o, _)| o.t_s < latest_t_s - cfg.oosm_window_s - 1.0)
                        .count();
                    track.history.drain(..old);
                }
                let derived = if track.is_confirmed() {
                    on_update(track)
                } else {
                    None
                };
                Some(Some((
                    ti,
                    di,
                    TrackEvent {
                        track_id: track.id,
                        t_s: track.imm.t_s(),
                        confirmed: track.is_confirmed(),
                        new: was != track.status,
                    },
                    derived,
                )))
            };
        // Per job: `None` a numerical failure, `Some(None)` updated but not detected (JPDA),
        // else the track, the detection used, the event and what `on_update` made of it.
        type Outcome<T> = Option<Option<(usize, usize, TrackEvent, Option<T>)>>;
        let outcomes: Vec<Outcome<T>> = if work.len() >= PARALLEL_MIN_TRACKS {
            work.par_iter_mut().map(update_one).collect()
        } else {
            work.iter_mut().map(update_one).collect()
        };
        drop(work);
        // Tracks predicted but not updated coast on from their prediction.
        for (p, _) in predicted
            .into_iter()
            .zip(consumed)
            .filter(|(_, consumed)| !consumed)
        {
            let track = &mut self.tracks[p.track];
            if p.pred.t_s() >= track.imm.t_s()
                && track.coast.as_ref().is_none_or(|c| p.pred.t_s() >= c.t_s())
            {
                track.coast = Some(Arc::unwrap_or_clone(p.pred));
                track.rev += 1;
            }
        }
        let (mut events, mut derived) = (Vec::new(), Vec::new());
        for outcome in outcomes {
            match outcome {
                Some(Some((ti, di, ev, made))) => {
                    used[di] = true;
                    if let Some(m) = made {
                        derived.push((ev.track_id, m));
                    }
                    events.push((ti, ev));
                }
                Some(None) => {}
                None => self.rejected.numerical += 1,
            }
        }
        self.times.updates += events.len() as u64;
        self.times.update_ns += lap.elapsed().as_nanos() as u64;
        (events, derived)
    }

    /// The second half of [`MultiTargetTracker::process_batch`], for the batch just updated:
    /// infrared cues, merges of duplicate tracks, deletions, and tentative tracks on the
    /// detections nothing explained. Returns the new tracks' events.
    fn manage_batch(
        &mut self,
        batch: &[Observation],
        updated: &[TrackEvent],
        pending: Pending,
    ) -> Vec<TrackEvent> {
        let Pending {
            t_s: t,
            used,
            confirmed_pass: (hyps, assignment),
            gates,
            ..
        } = pending;
        let start = std::time::Instant::now();
        // Detections inside a confirmed track's gate are explained even if another detection won
        // the track: they start no new track (unresolved pieces of one object).
        let mut explained = vec![false; batch.len()];
        for h in &hyps {
            explained[h.detection] = true;
        }
        let shared_merges = self.count_shared(&hyps, &assignment, batch.len());
        let mut events = Vec::new();
        // Infrared detections that no track explains become cues.
        for (di, obs) in batch.iter().enumerate() {
            if used[di] || !gates.valid[di] {
                continue;
            }
            if let Some(los) = obs.line_of_sight() {
                self.cues.push_back((t, obs.frame.origin, los));
            }
        }
        while self
            .cues
            .front()
            .is_some_and(|c| c.0 < t - self.cfg.cue_memory_s)
        {
            self.cues.pop_front();
        }

        // Merge duplicate tracks of one object.
        self.merge_duplicates(updated, &shared_merges);

        self.delete_stale();

        // Start tentative tracks on unused, unexplained radar detections.
        for (di, obs) in batch.iter().enumerate() {
            if used[di] || explained[di] || !gates.valid[di] {
                continue;
            }
            if let Some(track) = self.initiate(obs) {
                events.push(TrackEvent {
                    track_id: track.id,
                    t_s: t,
                    confirmed: false,
                    new: true,
                });
                self.tracks.push(track);
            }
        }
        self.times.manage_ns += start.elapsed().as_nanos() as u64;
        events
    }

    /// Counts, per pair of confirmed tracks, the batches in a row in which they shared one
    /// detection: `j` gated the detection assigned to `i` and took none (or the same one); a
    /// batch in which each took a detection of its own resets the pair. `hyps` and `assignment`
    /// are the confirmed tracks' pass's. Returns the pairs (ids) that reached
    /// [`SHARED_BATCHES_TO_MERGE`].
    fn count_shared(
        &mut self,
        hyps: &[Hypothesis],
        assignment: &[Option<usize>],
        n_detections: usize,
    ) -> Vec<(u64, u64)> {
        let mut owner: Vec<Option<usize>> = vec![None; n_detections];
        for (i, d) in assignment.iter().enumerate() {
            if let Some(d) = *d {
                owner[d].get_or_insert(i);
            }
        }
        let mut seen: Vec<((u64, u64), bool)> = Vec::new();
        for h in hyps {
            let (j, d) = (h.track, h.detection);
            let Some(i) = owner[d].filter(|&i| i != j) else {
                continue;
            };
            let (a, b) = (self.tracks[i].id, self.tracks[j].id);
            let key = (a.min(b), a.max(b));
            let shares = assignment[j].is_none_or(|dj| dj == d);
            seen.push((key, shares));
        }
        // A pair seen twice in one batch counts once; resolved wins over shared.
        seen.sort_unstable_by_key(|&(k, shares)| (k, shares));
        seen.dedup_by_key(|(k, _)| *k);
        let mut due = Vec::new();
        for (key, shares) in seen {
            if shares {
                let n = self.shared.entry(key).or_insert(0);
                *n += 1;
                if *n >= SHARED_BATCHES_TO_MERGE {
                    due.push(key);
                }
            } else {
                self.shared.remove(&key);
            }
        }
        // Forget pairs with a track that is gone (now and then: the map stays small).
        if self.shared.len() > 64 && self.shared.len() > 2 * self.tracks.len() {
            let ids: std::collections::HashSet<u64> = self.tracks.iter().map(|t| t.id).collect();
            self.shared
                .retain(|(a, b), _| ids.contains(a) && ids.contains(b));
        }
        due
    }

    /// Deletes tracks without a hit for longer than their timeout, and diverged ones.
    fn delete_stale(&mut self) {
        let cfg = &self.cfg;
        let latest = self.latest_t_s;
        // In place: tracks are large, and moving every one of them per batch dominated.
        let gone = self.tracks.extract_if(.., |tr| {
            let age = latest - tr.last_update_t_s;
            let timeout = if tr.is_confirmed() {
                cfg.confirmed_timeout_s
            } else {
                cfg.tentative_timeout_s
            };
            !(age <= timeout && tr.imm.position_sigma_m() <= cfg.max_position_sigma_m)
        });
        self.deleted.extend(gone.filter(|t| t.is_confirmed()));
    }

    /// Merges each confirmed track updated in this batch with any other confirmed track that is
    /// indistinguishable from it: the squared Mahalanobis distance of their position-velocity
    /// difference under the summed covariances (the track-to-track association test of
    /// Bar-Shalom & Li, *Multitarget-Multisensor Tracking*, 1995, §8.2, without the
    /// cross-covariance: conservative) within `merge_gate_d2`. The older id survives (the one
    /// operators and warnings already refer to), with the more precise of the two estimates
    /// and the union of contributors: a track that coasted through staging and was picked up
    /// again with kilometres of uncertainty must not outlive a fresh, precise track of the same
    /// object.
    fn merge_duplicates(&mut self, events: &[TrackEvent], shared: &[(u64, u64)]) {
        if shared.is_empty() && !events.iter().any(|e| e.confirmed) {
            return;
        }
        // Coarse pre-test scale: the gate's radius in combined sigmas.
        let k = self.cfg.merge_gate_d2.max(0.0).sqrt();
        // (kept, dropped, whether the dropped track's estimate is the more precise).
        let mut merges: Vec<(usize, usize, bool)> = Vec::new();
        // Combined estimates at most once per call, and only for tracks in a pair that passed
        // a cheap test on the most probable mode's position. (Packed, with a slot index per
        // track: an `Option<GaussianState>` per track was most of a megabyte to fill per batch
        // in a debris cloud.)
        let mut slot: Vec<u32> = vec![u32::MAX; self.tracks.len()];
        // Confirmed tracks' rough positions, velocities, times and sigmas, once per call.
        type Rough = ([f64; 3], [f64; 3], f64, f64);
        let rough: Vec<Option<Rough>> = self
            .tracks
            .iter()
            .map(|t| {
                t.is_confirmed().then(|| {
                    let m = &t.imm.states[t.imm.mode()];
                    (
                        t.rough_position(),
                        [m.x[3], m.x[4], m.x[5]],
                        t.imm.t_s(),
                        t.imm.position_sigma_m(),
                    )
                })
            })
            .collect();
        // The rough test below, |r_i − (r_j + v_j Δt)| ≤ 1 km + 6 Δt² + (k + 3)(σ_i + σ_j) with
        // |Δt| ≤ 5 s, needs |x_i − x_j| ≤ A_i + B_j, A_i = 1150 m + (k + 3) σ_i and
        // B_j = (k + 3) σ_j + 5 s |v_j,x|: confirmed tracks sorted by x answer that with a
        // window; the few with a wide B_j (coasting, tens of kilometres of sigma) are always
        // tried. Candidates are tried in track order, as a scan of every track would.
        const WIDE_M: f64 = 50_000.0;
        let mut by_x: Vec<(f64, usize)> = Vec::new();
        let mut wide: Vec<usize> = Vec::new();
        let mut b_max: f64 = 0.0;
        for (j, r) in rough.iter().enumerate() {
            let Some((rj, vj, _, sj)) = r else { continue };
            let b = (k + 3.0) * sj + 5.0 * vj[0].abs();
            if b.is_finite() && b <= WIDE_M && rj[0].is_finite() {
                by_x.push((rj[0], j));
                b_max = b_max.max(b);
            } else {
                wide.push(j);
            }
        }
        by_x.sort_by(|a, b| a.0.total_cmp(&b.0));
        let index = self.index_by_id();
        let mut removed = vec![false; self.tracks.len()];
        // Pairs that shared one detection batch after batch first (`count_shared`).
        for (a, b) in shared {
            let (Some(&i), Some(&j)) = (index.get(a), index.get(b)) else {
                continue;
            };
            if removed[i] || removed[j] {
                continue;
            }
            self.shared.remove(&(*a, *b));
            // `a` is the older id; it keeps the more precise estimate.
            let take =
                self.tracks[j].imm.position_sigma_m() < self.tracks[i].imm.position_sigma_m();
            merges.push((i, j, take));
            removed[j] = true;
        }
        // Each updated track's candidates pass a rough test first; the full test of every
        // candidate pair reads only track states, so those run independently (over the pool
        // when there are many); which merges happen is then decided in event order, as a single
        // pass would (a track merged away is skipped from then on).
        let mut cands: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut near: Vec<usize> = Vec::new();
        for ev in events.iter().filter(|e| e.confirmed) {
            let Some(&i) = index.get(&ev.track_id) else {
                continue;
            };
            if removed[i] {
                continue;
            }
            let Some((ri, _, ti, si)) = rough[i] else {
                continue;
            };
            near.clear();
            let window = 1_150.0 + (k + 3.0) * si + b_max;
            if window.is_finite() && ri[0].is_finite() {
                let lo = by_x.partition_point(|&(x, _)| x < ri[0] - window);
                near.extend(
                    by_x[lo..]
                        .iter()
                        .take_while(|&&(x, _)| x <= ri[0] + window)
                        .map(|&(_, j)| j),
                );
                near.extend(wide.iter().copied());
            } else {
                near.extend(by_x.iter().map(|&(_, j)| j).chain(wide.iter().copied()));
            }
            near.sort_unstable();
            let list: Vec<usize> = near
                .iter()
                .copied()
                .filter(|&j| {
                    let Some((rj, vj, tj, sj)) = rough[j] else {
                        return false;
                    };
                    // Updates at most 5 s apart (a track that coasts longer is compared when
                    // it is updated again, against the tracks updated around then).
                    let dt = ti - tj;
                    if j == i || removed[j] || dt.abs() > 5.0 {
                        return false;
                    }
                    // Rough positions (the likeliest mode's mean) shifted straight to a common
                    // time: the sigmas cover the modes' spread, 1 km plus 6 dt² the shift's
                    // errors.
                    let lim = 1_000.0 + 6.0 * dt * dt + (k + 3.0) * (si + sj);
                    let d = vec3::sub(ri, vec3::add(rj, vec3::scale(vj, dt)));
                    vec3::dot(d, d) <= lim * lim
                })
                .collect();
            if !list.is_empty() {
                cands.push((i, list));
            }
        }
        // Combined estimates of the tracks in a candidate pair, once each.
        let mut need: Vec<usize> = cands
            .iter()
            .flat_map(|(i, l)| std::iter::once(*i).chain(l.iter().copied()))
            .collect();
        need.sort_unstable();
        need.dedup();
        for (n, &t) in need.iter().enumerate() {
            slot[t] = n as u32;
        }
        let tracks = &self.tracks;
        let combined: Vec<GaussianState> = if need.len() >= PARALLEL_MIN_TRACKS {
            need.par_iter().map(|&t| tracks[t].imm.combined()).collect()
        } else {
            need.iter().map(|&t| tracks[t].imm.combined()).collect()
        };
        let gate = self.cfg.merge_gate_d2;
        let full_test = |&(i, ref list): &(usize, Vec<usize>)| -> Vec<(usize, bool)> {
            let a = &combined[slot[i] as usize];
            list.iter()
                .filter_map(|&j| {
                    let b = &combined[slot[j] as usize];
                    // Compare at `a`'s time, `b` shifted with central gravity (the Coriolis and
                    // centrifugal terms left out move it ≤ 1 m/s² at 7 km/s: a few metres in
                    // 5 s).
                    let dt = a.t_s - b.t_s;
                    let rb = (b.x[0] * b.x[0] + b.x[1] * b.x[1] + b.x[2] * b.x[2]).sqrt();
                    let g = -tripoint_physics::earth::GM_M3_S2 / (rb * rb * rb);
                    let mut d = nalgebra::Vector6::zeros();
                    for m in 0..3 {
                        let acc = g * b.x[m];
                        d[m] = a.x[m] - (b.x[m] + b.x[3 + m] * dt + 0.5 * acc * dt * dt);
                        d[3 + m] = a.x[3 + m] - (b.x[3 + m] + acc * dt);
                    }
                    // b's uncertainty grown over the gap (velocity only: ≤ 5 s). Cheap
                    // necessary condition before building and factorising S: dᵀS⁻¹d ≥ |d|²/tr S.
                    let diag =
                        |p: &Covariance, m0: usize| (m0..m0 + 3).map(|m| p[(m, m)]).sum::<f64>();
                    let trace = diag(&a.p, 0)
                        + diag(&a.p, 3)
                        + diag(&b.p, 0)
                        + diag(&b.p, 3) * (1.0 + dt * dt);
                    if d.norm_squared() > gate * trace {
                        return None;
                    }
                    let mut s6: nalgebra::Matrix6<f64> =
                        a.p.fixed_view::<6, 6>(0, 0) + b.p.fixed_view::<6, 6>(0, 0);
                    for m in 0..3 {
                        s6[(m, m)] += b.p[(3 + m, 3 + m)] * dt * dt;
                    }
                    let chol = s6.cholesky()?;
                    (d.dot(&chol.solve(&d)) <= gate)
                        .then(|| (j, b.position_sigma_m() < a.position_sigma_m()))
                })
                .collect()
        };
        let passing: Vec<Vec<(usize, bool)>> = if cands.len() >= PARALLEL_MIN_TRACKS {
            cands.par_iter().map(full_test).collect()
        } else {
            cands.iter().map(full_test).collect()
        };
        for ((i, _), pass) in cands.iter().zip(&passing) {
            let i = *i;
            if removed[i] {
                continue;
            }
            for &(j, b_precise) in pass {
                if removed[j] {
                    continue;
                }
                // Keep the older id (smaller id was started first).
                let merge = if self.tracks[i].id < self.tracks[j].id {
                    (i, j, b_precise)
                } else {
                    (j, i, !b_precise)
                };
                merges.push(merge);
                removed[merge.1] = true;
                if merge.1 == i {
                    break;
                }
            }
        }
        for (keep, drop, take) in merges {
            let (a, b) = if keep < drop {
                let (l, r) = self.tracks.split_at_mut(drop);
                (&mut l[keep], &mut r[0])
            } else {
                let (l, r) = self.tracks.split_at_mut(keep);
                (&mut r[0], &mut l[drop])
            };
            let extra: Vec<_> = b.contributors.iter().cloned().collect();
            a.contributors.extend(extra);
            if take {
                std::mem::swap(&mut a.imm, &mut b.imm);
                std::mem::swap(&mut a.history, &mut b.history);
                std::mem::swap(&mut a.coast, &mut b.coast);
                a.rev += 1;
                b.rev += 1;
            }
            a.hits = a.hits.max(b.hits);
            a.last_update_t_s = a.last_update_t_s.max(b.last_update_t_s);
            if a.early.is_none() {
                a.early = b.early.take();
            }
        }
        self.rejected.merged += removed.iter().filter(|&&r| r).count();
        let mut k = 0;
        self.tracks.retain(|_| {
            k += 1;
            !removed[k - 1]
        });
    }

    fn initiate(&mut self, obs: &Observation) -> Option<Track> {
        let (p, cov) = obs.position_ecef()?;
        let cued = self.cues.iter().any(|(_, origin, los)| {
            let d = [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]];
            let along = d[0] * los[0] + d[1] * los[1] + d[2] * los[2];
            let perp2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - along * along;
            along > 0.0 && perp2.max(0.0).sqrt() < self.cfg.cue_radius_m
        });
        let mut x = StateVector::zeros();
        x[0] = p[0];
        x[1] = p[1];
        x[2] = p[2];
        x[DRAG] = crate::state::DRAG_PRIOR_MEAN;
        let mut pm = Covariance::zeros();
        for i in 0..3 {
            for j in 0..3 {
                pm[(i, j)] = cov[(i, j)];
            }
        }
        let sv = self.cfg.init_velocity_sigma_m_s;
        let sa = self.cfg.init_accel_sigma_m_s2;
        for i in 0..3 {
            pm[(3 + i, 3 + i)] = sv * sv;
            pm[(ACC + i, ACC + i)] = sa * sa;
        }
        pm[(DRAG, DRAG)] = crate::state::DRAG_BIRTH_VARIANCE;
        // A measured range rate fixes the radial velocity.
        if let ObservationKind::Radar { range_rate: true } = obs.kind {
            let f = &obs.frame;
            let d = [p[0] - f.origin[0], p[1] - f.origin[1], p[2] - f.origin[2]];
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            let u = nalgebra::Vector3::new(d[0] / n, d[1] / n, d[2] / n);
            for i in 0..3 {
                x[3 + i] = obs.z[3] * u[i];
            }
            let pv = nalgebra::Matrix3::identity() * (sv * sv)
                - u * u.transpose() * (sv * sv - obs.sigma[3].powi(2) - 1.0);
            for i in 0..3 {
                for j in 0..3 {
                    pm[(3 + i, 3 + j)] = pv[(i, j)];
                }
            }
        }
        let mut s = GaussianState {
            x,
            p: pm,
            t_s: obs.t_s,
        };
        crate::state::regularize::<N>(&mut s.p);
        let mu = if cued {
            [0.8, 0.15, 0.05]
        } else {
            [0.3, 0.5, 0.2]
        };
        let imm = ImmState::new(s, mu);
        let id = self.next_id;
        self.next_id += 1;
        let mut contributors = BTreeSet::new();
        contributors.insert((obs.owner, obs.sensor.clone()));
        // Room for the updates up to confirmation (an entry is kilobytes: a vector growing
        // from one would reallocate at each of the first pushes).
        let mut history = History(VecDeque::with_capacity(HISTORY_AT_START));
        history.push_back((obs.clone(), imm.clone()));
        Some(Track {
            id,
            imm,
            status: TrackStatus::Tentative,
            hits: 1,
            first_t_s: obs.t_s,
            last_update_t_s: obs.t_s,
            contributors,
            cued,
            early: None,
            history,
            coast: None,
            rev: 0,
            ahead: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lists joined over the pool come out in order, whole, and leave the lists empty; empty
    /// lists among them included.
    #[test]
    fn lists_joined_over_the_pool_keep_their_order() {
        let mut lists: Vec<Vec<(usize, usize)>> = (0..300)
            .map(|i| (0..(i * 7919) % 97).map(|j| (i, j)).collect())
            .collect();
        let want: Vec<(usize, usize)> = lists.iter().flatten().copied().collect();
        assert!(lists.iter().any(|l| l.is_empty()) && want.len() > PARALLEL_MIN_HYPOTHESES);
        let got = join_over_pool(lists.iter_mut().collect());
        assert_eq!(got, want);
        assert!(lists.iter().all(|l| l.is_empty()));
    }

    /// A confirmed track at `x` (ECEF position and velocity) with isotropic position and
    /// velocity sigmas, last updated at t = 10 s by `sensor`.
    fn track(id: u64, x: [f64; 6], sigma_m: f64, sigma_m_s: f64, sensor: &str) -> Track {
        let mut s = GaussianState {
            x: StateVector::zeros(),
            p: Covariance::identity(),
            t_s: 10.0,
        };
        for i in 0..3 {
            s.x[i] = x[i];
            s.x[3 + i] = x[3 + i];
            s.p[(i, i)] = sigma_m * sigma_m;
            s.p[(3 + i, 3 + i)] = sigma_m_s * sigma_m_s;
        }
        s.x[DRAG] = 0.3;
        let mut contributors = BTreeSet::new();
        contributors.insert((Nation::JPN, SensorId::new(sensor).expect("id")));
        Track {
            id,
            imm: ImmState::new(s, [0.0, 0.9, 0.1]),
            status: TrackStatus::Confirmed,
            hits: 20,
            first_t_s: 0.0,
            last_update_t_s: 10.0,
            contributors,
            cued: false,
            early: None,
            history: History::default(),
            coast: None,
            rev: 0,
            ahead: None,
        }
    }

    fn updated(id: u64) -> TrackEvent {
        TrackEvent {
            track_id: id,
            t_s: 10.0,
            confirmed: true,
            new: false,
        }
    }

    const X: [f64; 6] = [-3.0e6, 3.6e6, 4.6e6, 2_000.0, 1_000.0, 1_500.0];

    #[test]
    fn a_stale_duplicate_keeps_its_id_but_takes_the_precise_estimate() {
        // Track 7 (older) coasted and is 1 km off with 3 km of uncertainty; track 9 is fresh
        // and precise on the object. Same object: one track must remain, id 7, with track 9's
        // estimate and both tracks' contributors.
        let mut off = X;
        off[0] += 1_000.0;
        let mut t = MultiTargetTracker::new(TrackerConfig::default());
        t.tracks = vec![
            track(7, off, 3_000.0, 50.0, "old"),
            track(9, X, 50.0, 5.0, "new"),
        ];
        t.merge_duplicates(&[updated(9)], &[]);
        assert_eq!(t.tracks.len(), 1);
        let tr = &t.tracks[0];
        assert_eq!(tr.id, 7);
        let e = tr.estimate();
        assert!((e.x[0] - X[0]).abs() < 1.0, "kept the stale estimate");
        assert!(e.position_sigma_m() < 100.0);
        let sensors: Vec<&str> = tr.contributors.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(sensors, vec!["new", "old"]);
        assert_eq!(t.rejected.merged, 1);
    }

    #[test]
    fn two_precise_tracks_a_kilometre_apart_stay_two_objects() {
        // A warhead and its stage just after separation: both well measured, 1 km apart.
        let mut off = X;
        off[0] += 1_000.0;
        let mut t = MultiTargetTracker::new(TrackerConfig::default());
        t.tracks = vec![track(7, off, 50.0, 5.0, "a"), track(9, X, 50.0, 5.0, "b")];
        t.merge_duplicates(&[updated(9)], &[]);
        assert_eq!(t.tracks.len(), 2);
    }

    #[test]
    fn a_track_picked_up_again_after_coasting_merges_when_it_is_updated() {
        // Track 7 coasted through staging and has just been updated again, with 3 km of
        // uncertainty; track 9 has followed the object precisely, last updated 1 s ago. The
        // update of track 7 triggers the test: id 7 survives with track 9's estimate.
        let mut t = MultiTargetTracker::new(TrackerConfig::default());
        let mut fresh = track(9, X, 50.0, 5.0, "new");
        fresh.imm = fresh.imm.predict(&t.cfg.imm, 9.0);
        let mut off = X;
        off[1] -= 2_000.0;
        t.tracks = vec![track(7, off, 3_000.0, 60.0, "old"), fresh];
        t.merge_duplicates(&[updated(7)], &[]);
        assert_eq!(t.tracks.len(), 1);
        assert_eq!(t.tracks[0].id, 7);
        assert!(t.tracks[0].estimate().position_sigma_m() < 100.0);
    }

    /// A radar 500 km south of [`X`]'s ground point and its detection (no noise) of the object
    /// at state `x`, `dt` seconds after t = 10 s; its 2.6 mrad angles are a 1.3 km cross-range
    /// sigma.
    fn detection(x: [f64; 6], dt: f64) -> Observation {
        detection_from((-4.5, 0.0), x, dt)
    }

    /// [`detection`] by a radar `site` (degrees of latitude and longitude) from below [`X`].
    /// The object at `x` at t = 10 s, flown `dt` seconds on.
    fn truth_at(x: [f64; 6], dt: f64) -> StateVector {
        let mut s = StateVector::zeros();
        for i in 0..6 {
            s[i] = x[i];
        }
        s[DRAG] = 0.3;
        crate::motion::MotionModel::FREE_FLIGHT.propagate(&s, dt)
    }

    /// A tracker with `cfg` holding track 7 on [`X`] (40 m, 3 m/s sigmas) at t = 10 s.
    fn tracking_7(cfg: TrackerConfig) -> MultiTargetTracker {
        let mut t = MultiTargetTracker::new(cfg);
        t.tracks = vec![track(7, X, 40.0, 3.0, "a")];
        t.latest_t_s = 10.0;
        t
    }

    /// Detections of [`X`] at t = 10.5 s by two radars: [`detection`]'s, and one 6° west.
    fn two_radars() -> [Observation; 2] {
        let a = detection(X, 0.5);
        let mut b = detection_from((0.0, -6.0), X, 0.5);
        b.sensor = SensorId::new("b").expect("id");
        assert!(a.frame != b.frame);
        [a, b]
    }

    fn detection_from(site: (f64, f64), x: [f64; 6], dt: f64) -> Observation {
        let g = tripoint_physics::Geodetic::from_ecef_m([X[0], X[1], X[2]]).expect("point");
        let site =
            tripoint_physics::Geodetic::from_deg(g.lat_deg() + site.0, g.lon_deg() + site.1, 0.0)
                .expect("site")
                .to_ecef_m();
        let frame = crate::measurement::LocalFrame::at(site).expect("frame");
        let s = truth_at(x, dt);
        let o = Observation {
            t_s: 10.0 + dt,
            sensor: SensorId::new("r").expect("id"),
            owner: Nation::KOR,
            kind: ObservationKind::Radar { range_rate: false },
            z: [0.0; 4],
            sigma: [40.0, 2.6e-3, 2.6e-3, 1.0],
            frame,
        };
        let z = o.predict(&s);
        Observation { z, ..o }
    }

    /// `m` metres below [`X`].
    fn lowered(m: f64) -> [f64; 6] {
        let up = vec3::scale([X[0], X[1], X[2]], m / vec3::norm([X[0], X[1], X[2]]));
        let mut x = X;
        for i in 0..3 {
            x[i] -= up[i];
        }
        x
    }

    /// 250 m below [`X`]: four sigmas of two 40-m tracks apart, outside the χ² merge gate.
    fn below() -> [f64; 6] {
        lowered(250.0)
    }

    /// A tracker cloned for a replay keeps each track's room for the updates to come, so its
    /// updates reallocate where the original's would (a derived clone held only the entries).
    #[test]
    fn a_cloned_track_keeps_the_room_reserved_for_its_history() {
        let mut tr = tracking_7(TrackerConfig::default());
        for k in 1..=3 {
            tr.process_batch(&[detection(X, 0.5 * k as f64)]);
        }
        let original = &tr.tracks[0].history;
        assert!(original.capacity() > original.len(), "room reserved");
        let c = tr.clone();
        let copy = &c.tracks[0].history;
        assert!(
            copy.capacity() >= original.capacity(),
            "{}",
            copy.capacity()
        );
        assert_eq!(copy.len(), original.len());
        assert!(copy.iter().zip(original.iter()).all(|(a, b)| a.1 == b.1));
    }

    /// A prediction made ahead for t = 20 s, and a batch at 19 s that updates the track before
    /// the one at 20 s comes: the kept prediction is from a state the track no longer predicts
    /// from (its history, past the out-of-sequence window, is as long as before), so the batch
    /// at 20 s predicts afresh; one made after it, for 21 s, is used. Either way the track is
    /// the one a tracker without predictions ahead makes, to the bit.
    #[test]
    fn a_prediction_made_ahead_serves_only_the_state_it_was_made_from() {
        let (mut plain, mut ahead) = (
            tracking_7(TrackerConfig::default()),
            tracking_7(TrackerConfig::default()),
        );
        for k in 1..=11 {
            let b = [detection(X, k as f64)];
            if k == 9 {
                ahead.predict_ahead(20.0);
            }
            let len = ahead.tracks[0].history.len();
            if k == 11 {
                ahead.predict_ahead(21.0);
            }
            plain.process_batch(&b);
            ahead.process_batch(&b);
            if k == 9 {
                assert_eq!(
                    ahead.tracks[0].history.len(),
                    len,
                    "a history of constant length"
                );
            }
            assert!(
                ahead.tracks[0].imm == plain.tracks[0].imm,
                "at {} s",
                10 + k
            );
        }
        assert_eq!(ahead.times.predicted_ahead, 2);
        assert_eq!(ahead.times.ahead_used, 1, "only the one made for 21 s");
    }

    /// A prediction kept for t = 11 s under one IMM configuration, and the configuration
    /// changed before the batch (`cfg` is public): the batch predicts afresh under the new
    /// one, as a tracker that kept nothing does, to the bit; one kept under the new
    /// configuration is used.
    #[test]
    fn a_prediction_made_ahead_serves_only_its_configuration() {
        let changed = |mut t: MultiTargetTracker| {
            t.cfg.imm.sojourn_s[1] *= 0.5;
            t
        };
        let mut plain = changed(tracking_7(TrackerConfig::default()));
        let mut stale = tracking_7(TrackerConfig::default());
        stale.predict_ahead(11.0);
        let mut stale = changed(stale);
        let mut ahead = changed(tracking_7(TrackerConfig::default()));
        for t in [11.0, 12.0] {
            let b = [detection(X, t - 10.0)];
            if t == 12.0 {
                ahead.predict_ahead(12.0);
            }
            plain.process_batch(&b);
            ahead.process_batch(&b);
            stale.process_batch(&b);
            assert!(
                stale.tracks[0].imm.same_bits(&plain.tracks[0].imm),
                "at {t} s"
            );
            assert!(
                ahead.tracks[0].imm.same_bits(&plain.tracks[0].imm),
                "at {t} s"
            );
        }
        assert_eq!(stale.times.predicted_ahead, 1);
        assert_eq!(
            stale.times.ahead_used, 0,
            "the one kept under the old configuration"
        );
        assert_eq!(
            ahead.times.ahead_used, 1,
            "the one kept under the new configuration"
        );
    }

    #[test]
    fn a_coasting_track_predicts_on_from_its_coast_and_is_picked_up_again() {
        // Track 7 on X sees nothing of its object for 30 s; another object 8 km below keeps it
        // predicted (inside its pre-gate, outside its gate) every second.
        let mut t = tracking_7(TrackerConfig::default());
        for k in 1..=30 {
            t.process_batch(&[detection(lowered(8_000.0), k as f64)]);
        }
        let tr = t
            .tracks
            .iter()
            .find(|x| x.id == 7)
            .expect("track 7 still there");
        assert_eq!(
            tr.last_update_t_s, 10.0,
            "track 7 took a detection of the other object"
        );
        let coast = tr.coast.as_ref().expect("a coast state");
        assert_eq!(coast.t_s(), 40.0);
        // From the coast and straight from the posterior: the same mean, to metres; the
        // chained spread is tighter (measured: 0.78 of the direct one), as the IMM mixes its
        // models every second instead of once across the gap, pulling the re-entry model's
        // wider state back towards free flight's.
        let cfg = &t.cfg.imm;
        let (base, _) = tr.base_before(40.5).expect("a base");
        let (chained, direct) = (
            base.predict(cfg, 40.5).combined(),
            tr.imm.predict(cfg, 40.5).combined(),
        );
        let d = vec3::norm(vec3::sub(chained.position(), direct.position()));
        assert!(d < 5.0, "chained and direct predictions {d} m apart");
        let ratio = chained.position_sigma_m() / direct.position_sigma_m();
        assert!((0.7..1.05).contains(&ratio), "position sigma ratio {ratio}");
        // The object shows up again: track 7 takes it.
        let ev = t.process_batch(&[detection(X, 30.5)]);
        assert!(
            ev.iter().any(|e| e.track_id == 7),
            "track 7 not picked up again: {ev:?}"
        );
        let tr = t.tracks.iter().find(|x| x.id == 7).expect("track 7");
        assert!(tr.coast.is_none());
        assert_eq!(tr.last_update_t_s, 40.5);
    }

    /// Radar detections with a NaN range (negative NaNs, which sort first by `total_cmp`) in a
    /// batch neither panic nor hide the batch's good detections from the range-window search:
    /// the track takes its detection as it does without them. (Before non-finite ranges were
    /// left out of the range order, three NaNs ahead of the good detection among six far ones
    /// made the window's binary search come back empty, and the track coasted.)
    #[test]
    fn a_nan_range_in_a_radar_batch_hides_no_other_detection() {
        let mut bad = detection(lowered(3_000.0), 0.5);
        bad.z[0] = -f64::NAN;
        assert!(bad.z[0].is_sign_negative() && bad.z[0].is_nan());
        let good = detection(X, 0.5);
        // Objects 5–14 km above: further in range, outside the track's range window.
        let far: Vec<Observation> = (0..10)
            .map(|k| detection(lowered(-5_000.0 - 1_000.0 * k as f64), 0.5))
            .collect();
        assert!(far.iter().all(|o| o.z[0] > good.z[0] + 1_000.0));
        let run = |batch: &[Observation]| {
            let mut t = tracking_7(TrackerConfig::default());
            t.process_batch(batch);
            let tr = t.tracks.iter().find(|x| x.id == 7).expect("track 7");
            (tr.last_update_t_s, tr.estimate().x)
        };
        // Every mix of 1–6 NaNs and 6–10 far detections: the window's binary search probes
        // different places in each.
        for n_far in 6..=far.len() {
            let clean: Vec<Observation> = std::iter::once(good.clone())
                .chain(far[..n_far].iter().cloned())
                .collect();
            let clean = run(&clean);
            assert_eq!(clean.0, 10.5, "track 7 takes its detection");
            for n_bad in 1..=6 {
                let batch: Vec<Observation> = std::iter::repeat_n(bad.clone(), n_bad)
                    .chain(std::iter::once(good.clone()))
                    .chain(far[..n_far].iter().cloned())
                    .collect();
                let with_bad = run(&batch);
                assert_eq!(
                    with_bad.0, 10.5,
                    "{n_bad} NaN ranges, {n_far} far: track 7 lost its detection"
                );
                let d = vec3::norm(vec3::sub(
                    [with_bad.1[0], with_bad.1[1], with_bad.1[2]],
                    [clean.1[0], clean.1[1], clean.1[2]],
                ));
                assert!(d < 1e-6, "{n_bad} NaN ranges, {n_far} far: {d} m apart");
            }
        }
    }

    /// Observations are checked where they are made ([`Observation::new`]), but the fields are
    /// public: whatever a caller puts in a batch (non-finite or negative ranges, angles, range
    /// rates, noise, times), the tracker neither panics nor lets it into any track's state, and
    /// the good detections beside it are used as without it.
    #[test]
    fn corrupt_observations_in_a_batch_never_reach_a_track() {
        let bads = [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300];
        let mut corrupt: Vec<Observation> = Vec::new();
        let dim = detection(X, 0.5).dim();
        for i in 0..dim {
            let nonpositive: &[f64] = if i == 0 { &[-1.0, 0.0] } else { &[] };
            for &v in bads.iter().chain(nonpositive) {
                let mut o = detection(lowered(3_000.0), 0.5);
                o.z[i] = v;
                corrupt.push(o);
            }
            for &v in bads.iter().chain(&[-1.0, 0.0]) {
                let mut o = detection(lowered(3_000.0), 0.5);
                o.sigma[i] = v;
                corrupt.push(o);
            }
        }
        // An elevation beyond any sky (past the zenith by noise is real; 4 rad is not).
        let mut o = detection(lowered(3_000.0), 0.5);
        o.z[2] = 4.0;
        corrupt.push(o);
        // A time other than the batch's (a batch is one sensor at one time): far ahead, which
        // replayed later would have propagated over 10³⁰⁰ s, and a second ahead.
        for dt in [1e300, 1.0, -100.0] {
            let mut o = detection(lowered(3_000.0), 0.5);
            o.t_s += dt;
            corrupt.push(o);
        }
        // A sensor frame that is not a frame: no origin, axes not unit or not orthogonal.
        let mut o = detection(lowered(3_000.0), 0.5);
        o.frame.origin = [f64::NAN; 3];
        corrupt.push(o);
        let mut o = detection(lowered(3_000.0), 0.5);
        o.frame.east = vec3::scale(o.frame.east, 2.0);
        corrupt.push(o);
        let mut o = detection(lowered(3_000.0), 0.5);
        o.frame.north = o.frame.east;
        corrupt.push(o);

        let run = |batch: &[Observation], extra: usize| {
            let mut t = tracking_7(TrackerConfig::default());
            t.process_batch(batch);
            // Later batches of the corrupt detections alone (tentative tracks would take them).
            for k in 0..extra {
                let later: Vec<Observation> = batch
                    .iter()
                    .map(|o| Observation {
                        t_s: o.t_s + 1.0 + k as f64,
                        ..o.clone()
                    })
                    .collect();
                t.process_batch(&later);
            }
            t
        };
        let good = detection(X, 0.5);
        let clean = run(std::slice::from_ref(&good), 0);
        // An observation whose time is not a number: refused, and the batch's time is its good
        // observation's; a batch of nothing else is refused whole, the clock unmoved.
        for v in [f64::NAN, f64::INFINITY] {
            let nan = Observation {
                t_s: v,
                ..good.clone()
            };
            let mut t = run(&[], 0);
            assert!(t.process_batch(std::slice::from_ref(&nan)).is_empty());
            assert_eq!(t.rejected.invalid, 1);
            assert_eq!(t.latest_t_s, 10.0, "the clock moved to t = {v}");
            let tr = t.tracks.iter().find(|x| x.id == 7).expect("7");
            assert_eq!(tr.imm.t_s(), 10.0, "track 7 predicted to t = {v}");
            t.process_batch(&[nan, good.clone()]);
            assert_eq!(t.rejected.invalid, 2);
            let tr = t.tracks.iter().find(|x| x.id == 7).expect("7");
            assert_eq!(
                tr.last_update_t_s, 10.5,
                "the good detection beside t = {v} unused"
            );
        }
        let want = clean
            .tracks
            .iter()
            .find(|x| x.id == 7)
            .expect("7")
            .estimate();
        for (k, bad) in corrupt.iter().enumerate() {
            for batch in [
                vec![good.clone(), bad.clone()],
                vec![bad.clone(), good.clone()],
            ] {
                let t = run(&batch, 0);
                assert_eq!(
                    t.rejected.invalid, 1,
                    "case {k}: the corrupt detection counted"
                );
                let got = t.tracks.iter().find(|x| x.id == 7).expect("7").estimate();
                assert_eq!(
                    got.t_s, 10.5,
                    "case {k}: track 7 did not take its detection"
                );
                let d = vec3::norm(vec3::sub(got.position(), want.position()));
                assert!(
                    d < 1e-6,
                    "case {k}: track 7 {d} m off with a corrupt detection beside"
                );
            }
            if bad.validate().is_ok() {
                // Wrong only beside the good detection (another time): alone it is a batch of
                // its own.
                continue;
            }
            let t = run(std::slice::from_ref(bad), 4);
            assert_eq!(
                t.rejected.invalid, 5,
                "case {k}: each corrupt detection counted"
            );
            for tr in &t.tracks {
                let e = tr.estimate();
                assert!(
                    e.x.iter().all(|v| v.is_finite()) && e.p.iter().all(|v| v.is_finite()),
                    "case {k}: track {} holds a non-finite state",
                    tr.id
                );
            }
        }
    }

    /// A batch is one sensor at one time, but a caller may mix two radars in one: each
    /// detection is gated against the track's prediction seen from its own radar, so both
    /// detections of track 7's object are explained (none starts a track) and the track takes
    /// one of them.
    #[test]
    fn a_batch_mixing_two_radars_gates_each_from_its_own_site() {
        let mut t = tracking_7(TrackerConfig::default());
        let ev = t.process_batch(&two_radars());
        assert!(ev.iter().any(|e| e.track_id == 7), "{ev:?}");
        assert_eq!(
            t.tracks.len(),
            1,
            "a detection of track 7's object started a track"
        );
    }

    /// Under JPDA a track weighs every gated detection in one PDA update, whose residuals are
    /// taken from one detection: in a batch mixing two radars, the update keeps to the best
    /// detection's radar (the other's weight counted as missed), and track 7 stays on its
    /// object instead of taking the other radar's angles as if seen from the first.
    #[test]
    fn a_pda_update_keeps_to_one_radar_in_a_mixed_batch() {
        let cfg = TrackerConfig {
            association: Association::Jpda,
            ..TrackerConfig::default()
        };
        let mut t = tracking_7(cfg);
        let truth = truth_at(X, 0.5);
        t.process_batch(&two_radars());
        let tr = t.tracks.iter().find(|x| x.id == 7).expect("7");
        assert_eq!(tr.last_update_t_s, 10.5);
        let e = tr.estimate();
        let d = vec3::norm(vec3::sub(e.position(), [truth[0], truth[1], truth[2]]));
        assert!(d < 150.0, "track 7 {d} m off its object");
    }

    /// A radar may report each detection's own accuracy: a detection of track 7's object with
    /// a range noise of 400 m, measured 600 m long (1.5 of its own sigmas, but 10 of the 57 m
    /// that track 7 and the batch's first detection's 40 m make), is gated with its own noise:
    /// inside the gate, it explains its object and starts no track.
    #[test]
    fn each_detection_is_gated_with_its_own_accuracy() {
        let mut t = tracking_7(TrackerConfig::default());
        let sharp = detection(X, 0.5);
        let mut coarse = detection(X, 0.5);
        coarse.z[0] += 600.0;
        coarse.sigma[0] = 400.0;
        let far = detection(lowered(-20_000.0), 0.5);
        t.process_batch(&[far, sharp, coarse]);
        assert_eq!(t.rejected.invalid, 0);
        assert_eq!(
            t.tracks.len(),
            2,
            "the coarse detection of track 7's object started a track (or the far one did not)"
        );
    }

    /// One batch with a wrong clock (minutes ahead) neither moves the tracker's clock nor times
    /// out its tracks, and the real data after it is used; a real gap in the data (two batches
    /// in a row past it) is taken, at the cost of the first.
    #[test]
    fn one_batch_from_a_wrong_clock_does_not_stop_tracking() {
        let mut t = tracking_7(TrackerConfig::default());
        // 10 minutes ahead: held back and refused.
        assert!(t.process_batch(&[detection(X, 600.5)]).is_empty());
        assert_eq!(t.rejected.time_jump, 1);
        assert_eq!(t.latest_t_s, 10.0, "the clock moved on one batch");
        // The real data goes on, to track 7.
        for k in 1..=3 {
            let ev = t.process_batch(&[detection(X, k as f64 * 0.5)]);
            assert!(ev.iter().any(|e| e.track_id == 7), "batch {k}: {ev:?}");
        }
        assert_eq!(t.rejected.too_late, 0);
        let last = t
            .tracks
            .iter()
            .find(|x| x.id == 7)
            .map(|x| x.last_update_t_s);
        assert_eq!(last, Some(11.5));
        // A real gap: two batches in a row 2 minutes on; the second is taken.
        assert!(t.process_batch(&[detection(X, 121.5)]).is_empty());
        assert_eq!(t.rejected.time_jump, 2);
        t.process_batch(&[detection(X, 122.5)]);
        assert_eq!(t.latest_t_s, 132.5, "a real gap was not taken");
    }

    /// A tracker holding tracks 7 (on [`X`]) and 9 ([`below`] it), each with 40 m and 3 m/s
    /// sigmas, at t = 10 s.
    fn precise_pair() -> MultiTargetTracker {
        let mut t = MultiTargetTracker::new(TrackerConfig::default());
        t.tracks = vec![
            track(7, X, 40.0, 3.0, "a"),
            track(9, below(), 40.0, 3.0, "a"),
        ];
        t.latest_t_s = 10.0;
        t
    }

    #[test]
    fn two_tracks_sharing_one_objects_detections_merge() {
        // Tracks 7 and 9 follow one object, 250 m apart, each precise: the χ² test keeps them
        // apart. The object gives one detection per scan, inside both gates: 9 coasts while 7
        // takes it, scan after scan, until the pair merges into track 7.
        let mut t = precise_pair();
        let mut merged_after = None;
        for k in 1..=20 {
            t.process_batch(&[detection(X, 0.5 * k as f64)]);
            if t.tracks.iter().filter(|x| x.is_confirmed()).count() == 1 {
                merged_after = Some(k);
                break;
            }
        }
        assert_eq!(merged_after, Some(SHARED_BATCHES_TO_MERGE as i32));
        assert_eq!(t.tracks[0].id, 7);
        assert_eq!(t.rejected.merged, 1);
    }

    #[test]
    fn two_objects_250_m_apart_each_with_its_detections_stay_two_tracks() {
        // The same two tracks, on two objects that each give a detection every scan.
        let mut t = precise_pair();
        for k in 1..=40 {
            let dt = 0.5 * k as f64;
            let ev = t.process_batch(&[detection(X, dt), detection(below(), dt)]);
            assert_eq!(ev.len(), 2, "both tracks updated in batch {k}: {ev:?}");
        }
        let mut ids: Vec<u64> = t.tracks.iter().map(|x| x.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![7, 9]);
        assert_eq!(t.rejected.merged, 0);
    }
}
