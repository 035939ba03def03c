//! The warning decision and lifecycle of one authority.
//!
//! Confirmed tracks that move like a launch (hits, speed, height) are grouped into launch
//! events. Per event the authority goes through J-Alert's three steps:
//!
//! 1. **launch detected** (CAP `Alert`), if the authority announces launches;
//! 2. **take shelter** for each region whose threat probability reaches `warn_probability`
//!    (CAP `Update`, or `Alert` if it opens the chain). A track's threat to a region is its
//!    forecast's warn share (impact or overflight; only overflight while the track is powered,
//!    since the impact point of a thrusting object keeps sweeping), taken as the *lower* of its
//!    last two forecasts, so one wild forecast from a settling track is not enough; regions the
//!    samples reach only beyond `warn_horizon_s` wait for a sharper forecast. A warned region
//!    whose threat (now the *higher* of the last two forecasts) stays under
//!    `cancel_probability` for `dwell_s` is lifted (`Update`, or `Cancel` when no warning
//!    remains) — hysteresis, so a probability wandering around one threshold does not flap. A
//!    message after a `Cancel` opens a new chain with `Alert`;
//! 3. **result**: "passed over" as soon as a measured track position (not a coasted one) is over
//!    a region above the overflight height, and when every track of the event has ended, one
//!    outcome per object: fell in a region or at sea (seen descending low, or predicted from a
//!    well-determined ballistic track), reached orbit, or track lost. The result also ends the
//!    warnings still standing (`released`).
//!
//! In a debris cloud (a breakup: many tracks in one event) only established, unpowered tracks
//! with no more energy than the event had before it broke up may raise a warning; every live
//! track may keep one. A track that joins an event already followed by an established track
//! (a separating stage, a fragment, or a blend of two pieces near one) may raise a warning
//! only once it is established itself (`ESTABLISHED_HITS`): a dozen hits near staging have
//! put a fresh track's forecast on land while the object fell at sea.
//!
//! The engine never claims more than the tracks support: overflight only from measured
//! positions, an impact only from an observed descent or a converged ballistic forecast,
//! otherwise "track lost".

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tripoint_physics::geodesy::fast_geodetic;
use tripoint_physics::orbit::summarize;
use tripoint_physics::vec3;
use tripoint_track::products::Classification;

use crate::config::{Authority, EventConfig, ForecastConfig};
use crate::forecast::Forecast;
use crate::region::{RegionKind, RegionSet};

/// What the tracker says about one confirmed track at one update.
#[derive(Clone, Copy, Debug)]
pub struct TrackUpdate<'a> {
    pub track_id: u64,
    pub t_s: f64,
    pub position_ecef_m: [f64; 3],
    pub velocity_ecef_m_s: [f64; 3],
    /// True when this update used a measurement at `t_s` (false: coasted).
    pub measured: bool,
    pub hits: u32,
    pub boost_probability: f64,
    pub classification: Classification,
    pub forecast: Option<&'a Forecast>,
}

/// CAP `msgType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MsgType {
    Alert,
    Update,
    Cancel,
}

/// CAP `certainty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Certainty {
    Observed,
    Likely,
    Possible,
    Unlikely,
    Unknown,
}

impl Certainty {
    /// From a probability: Likely above one half, Possible above 5 %, else Unlikely.
    pub fn from_probability(p: f64) -> Self {
        if p > 0.5 {
            Certainty::Likely
        } else if p > 0.05 {
            Certainty::Possible
        } else {
            Certainty::Unlikely
        }
    }
}

/// How one object's flight ended, as far as the tracks support.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    FellInRegion {
        region: usize,
        lat_deg: f64,
        lon_deg: f64,
        /// True when taken from a converged ballistic forecast rather than seen low.
        predicted: bool,
    },
    FellAtSea {
        lat_deg: f64,
        lon_deg: f64,
        /// Configured areas containing the point (EEZ, sea).
        areas: Vec<usize>,
        predicted: bool,
    },
    /// Came down outside every alert region and every configured sea area (e.g. on land
    /// outside Japan and Korea).
    FellOutside {
        lat_deg: f64,
        lon_deg: f64,
        predicted: bool,
    },
    ReachedOrbit,
    TrackLost {
        lat_deg: f64,
        lon_deg: f64,
        alt_km: f64,
    },
}

impl Outcome {
    pub fn event_name(&self) -> &'static str {
        match self {
            Outcome::FellInRegion { .. } => "fell_in_region",
            Outcome::FellAtSea { .. } => "fell_at_sea",
            Outcome::FellOutside { .. } => "fell_outside",
            Outcome::ReachedOrbit => "reached_orbit",
            Outcome::TrackLost { .. } => "track_lost",
        }
    }
}

/// One object's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectOutcome {
    pub track_id: u64,
    pub t_s: f64,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Regions the object was seen passing over.
    pub passed_over: Vec<usize>,
}

/// A result notice lists its objects one by one up to this many; beyond it (a failed launch's
/// debris, a breakup) it says how many came down where, as [`group_outcomes`] gathers them: a
/// public message naming 120 fragments one after another is read by nobody.
pub const MAX_LISTED_OBJECTS: usize = 5;

/// Where a group of objects ended (see [`group_outcomes`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupPlace {
    /// In this alert region.
    InRegion(usize),
    /// Outside every alert region and sea area.
    Outside,
    /// At sea, in these configured areas (the same set for the whole group).
    AtSea(Vec<usize>),
    ReachedOrbit,
    TrackLost,
}

/// Objects that ended in the same place: how many, how many of those points are forecasts
/// rather than seen, where their points lie and when they ended.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeGroup {
    pub place: GroupPlace,
    pub count: usize,
    /// How many of the points are forecasts (`predicted`).
    pub predicted: usize,
    /// South-west and north-east corners (degrees) of the points' box, for the places that
    /// have points (not orbit; the last-seen points of lost tracks).
    pub south_west: Option<(f64, f64)>,
    pub north_east: Option<(f64, f64)>,
    /// First and last end time (s after the epoch).
    pub t_s: (f64, f64),
}

/// Gathers outcomes by place: land first (alert regions, in region order, then outside them),
/// then the sea (largest groups first), orbit and lost tracks. Longitudes in (−180°, 180°]; a
/// box across the 180° meridian has its west corner east of its east one.
pub fn group_outcomes(outcomes: &[ObjectOutcome]) -> Vec<OutcomeGroup> {
    let mut groups: BTreeMap<GroupPlace, OutcomeGroup> = BTreeMap::new();
    for o in outcomes {
        let (place, point, predicted) = match &o.outcome {
            Outcome::FellInRegion {
                region,
                lat_deg,
                lon_deg,
                predicted,
            } => (
                GroupPlace::InRegion(*region),
                Some((*lat_deg, *lon_deg)),
                *predicted,
            ),
            Outcome::FellAtSea {
                lat_deg,
                lon_deg,
                areas,
                predicted,
            } => (
                GroupPlace::AtSea(areas.clone()),
                Some((*lat_deg, *lon_deg)),
                *predicted,
            ),
            Outcome::FellOutside {
                lat_deg,
                lon_deg,
                predicted,
            } => (GroupPlace::Outside, Some((*lat_deg, *lon_deg)), *predicted),
            Outcome::ReachedOrbit => (GroupPlace::ReachedOrbit, None, false),
            Outcome::TrackLost {
                lat_deg, lon_deg, ..
            } => (GroupPlace::TrackLost, Some((*lat_deg, *lon_deg)), false),
        };
        let g = groups.entry(place.clone()).or_insert(OutcomeGroup {
            place,
            count: 0,
            predicted: 0,
            south_west: None,
            north_east: None,
            t_s: (o.t_s, o.t_s),
        });
        g.count += 1;
        g.predicted += usize::from(predicted);
        g.t_s = (g.t_s.0.min(o.t_s), g.t_s.1.max(o.t_s));
        if let Some((la, lo)) = point.filter(|(la, lo)| la.is_finite() && lo.is_finite()) {
            // Longitude unwrapped next to the group's first point, so a group across the 180°
            // meridian (an IRBM's fall near 178°E) boxes the few degrees it spans.
            let lo = match g.south_west {
                Some((_, w)) => w + (lo - w + 180.0).rem_euclid(360.0) - 180.0,
                None => lo,
            };
            let sw = g.south_west.get_or_insert((la, lo));
            *sw = (sw.0.min(la), sw.1.min(lo));
            let ne = g.north_east.get_or_insert((la, lo));
            *ne = (ne.0.max(la), ne.1.max(lo));
        }
    }
    let mut out: Vec<OutcomeGroup> = groups.into_values().collect();
    let wrap = |lo: f64| 180.0 - (180.0 - lo).rem_euclid(360.0);
    for g in &mut out {
        for corner in [&mut g.south_west, &mut g.north_east].into_iter().flatten() {
            corner.1 = wrap(corner.1);
        }
    }
    // The BTreeMap's order is the place's; within the sea, largest first (stable).
    out.sort_by_key(|g| match g.place {
        GroupPlace::AtSea(_) => (1, usize::MAX - g.count),
        GroupPlace::InRegion(_) | GroupPlace::Outside => (0, 0),
        GroupPlace::ReachedOrbit => (2, 0),
        GroupPlace::TrackLost => (3, 0),
    });
    out
}

/// What a notice says.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    LaunchDetected,
    TakeShelter,
    ShelterLifted,
    PassedOver,
    Result,
}

impl NoticeKind {
    pub fn event_name(&self) -> &'static str {
        match self {
            NoticeKind::LaunchDetected => "launch_detected",
            NoticeKind::TakeShelter => "take_shelter",
            NoticeKind::ShelterLifted => "shelter_lifted",
            NoticeKind::PassedOver => "passed_over",
            NoticeKind::Result => "result",
        }
    }
}

/// One public message of one authority (rendered as CAP by [`crate::cap`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub authority: usize,
    pub event: u32,
    /// Position in the event's chain (0 = first message).
    pub seq: u32,
    pub t_s: f64,
    pub kind: NoticeKind,
    pub msg_type: MsgType,
    /// Regions this notice is about: newly warned, lifted or passed over.
    pub regions: Vec<usize>,
    /// Regions still under a shelter warning after this notice.
    pub warned: Vec<usize>,
    /// Largest threat probability among `regions` (warnings and lifts).
    pub probability: Option<f64>,
    pub certainty: Certainty,
    /// Earliest time a sampled future reaches one of `regions` (warnings).
    pub expected_t_s: Option<f64>,
    pub outcomes: Vec<ObjectOutcome>,
    pub track_ids: Vec<u64>,
    /// Result only: regions whose shelter warning this result ends without the object having
    /// been seen over them (they need the all-clear too).
    pub released: Vec<usize>,
}

#[derive(Clone, Debug)]
struct TrackState {
    event: usize,
    last_t_s: f64,
    last_measured: Option<(f64, [f64; 3])>,
    /// Vertical speed (m/s, up positive) at the last measured update.
    last_vertical_m_s: f64,
    last_alt_m: f64,
    energy_j_kg: f64,
    /// Joined its event before the event became a debris cloud.
    parent: bool,
    hits: u32,
    classification: Classification,
    boost_probability: f64,
    forecast: Option<Forecast>,
    /// The forecast before `forecast`: a warning needs two forecasts in a row that agree.
    previous: Option<Forecast>,
    /// Whether the track qualified for warning in a debris cloud at its last two forecasts.
    debris_ok: [bool; 2],
    /// Joined its event while another live track of it was already established.
    late: bool,
    /// Whether the track was established (or not `late`) at its last two forecasts.
    established_ok: [bool; 2],
    passed: BTreeSet<usize>,
    ended: Option<f64>,
}

#[derive(Clone, Debug, Default)]
struct RegionState {
    warned: bool,
    below_since: Option<f64>,
    passed: bool,
}

#[derive(Clone, Debug)]
struct Event {
    last_activity_t_s: f64,
    /// Every track has ended but one was last seen on a ballistic course that comes down at
    /// this time: the event stays open for re-acquisition (a lofted missile leaves radar
    /// coverage near apogee and comes back) and reports its result then.
    pending_until_t_s: Option<f64>,
    tracks: BTreeSet<u64>,
    regions: BTreeMap<usize, RegionState>,
    seq: u32,
    closed: bool,
    /// The last message was a `Cancel`: the next one opens a new chain (`Alert`).
    cancelled: bool,
    /// Many objects at once (a breakup, a debris cloud): fragments swap in association and a
    /// fragment's track can look powered, so only established, unpowered tracks may warn, and
    /// only with no more energy than the event had before it broke up.
    debris: bool,
    /// Largest specific orbital energy (J/kg) of an established track that joined the event
    /// before it became a debris cloud (a parent: it may still be under thrust).
    reference_energy_j_kg: f64,
}

/// Energy a fragment may gain over its parent in a breakup before its track is taken as
/// mis-associated: a 100 m/s kick at 5 km/s (J/kg).
const BREAKUP_ENERGY_MARGIN_J_KG: f64 = 0.5e6;

/// Hits from which a track is established: it may warn in a debris cloud, set the event's
/// reference energy, report an orbit or a converged fall, and (joining late) raise a warning.
pub const ESTABLISHED_HITS: u32 = 30;

/// Live tracks in one event from which on it is treated as a debris cloud.
const DEBRIS_TRACKS: usize = 12;

/// One authority's warning engine.
pub struct Engine {
    pub index: usize,
    pub authority: Authority,
    event_cfg: EventConfig,
    min_alt_m: f64,
    in_scope: Vec<bool>,
    tracks: BTreeMap<u64, TrackState>,
    events: Vec<Event>,
}

impl Engine {
    pub fn new(
        index: usize,
        authority: Authority,
        event_cfg: EventConfig,
        forecast_cfg: &ForecastConfig,
        regions: &RegionSet,
    ) -> Self {
        let mut in_scope = vec![false; regions.len()];
        // A region index outside this set (configuration resolved against another region
        // set) is simply not in scope.
        for &r in &authority.regions {
            if let Some(s) = in_scope.get_mut(r) {
                *s = true;
            }
        }
        Engine {
            index,
            authority,
            event_cfg,
            min_alt_m: forecast_cfg.overflight_min_alt_m,
            in_scope,
            tracks: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    fn notice(&mut self, e: usize, t_s: f64, kind: NoticeKind, msg_type: MsgType) -> Notice {
        let ev = &mut self.events[e];
        let seq = ev.seq;
        ev.seq += 1;
        let msg_type = if seq == 0 || ev.cancelled {
            MsgType::Alert
        } else {
            msg_type
        };
        ev.cancelled = msg_type == MsgType::Cancel;
        Notice {
            authority: self.index,
            event: e as u32,
            seq,
            t_s,
            kind,
            msg_type,
            regions: vec![],
            warned: ev
                .regions
                .iter()
                .filter(|(_, s)| s.warned)
                .map(|(r, _)| *r)
                .collect(),
            probability: None,
            certainty: Certainty::Unknown,
            expected_t_s: None,
            outcomes: vec![],
            track_ids: ev.tracks.iter().copied().collect(),
            released: vec![],
        }
    }

    /// Takes one track update; returns the notices it causes.
    pub fn update(&mut self, u: &TrackUpdate<'_>, regions: &RegionSet) -> Vec<Notice> {
        let mut out = Vec::new();
        let (lat, lon, alt) = fast_geodetic(u.position_ecef_m);
        let energy = summarize(u.position_ecef_m, u.velocity_ecef_m_s).specific_energy_j_kg;
        let (lat, lon) = (lat.to_degrees(), lon.to_degrees());
        // Join or open an event.
        if !self.tracks.contains_key(&u.track_id) {
            let launch_like = u.hits >= self.event_cfg.min_hits
                && vec3::norm(u.velocity_ecef_m_s) >= self.event_cfg.min_speed_m_s
                && alt >= self.event_cfg.min_alt_m;
            if !launch_like {
                return out;
            }
            let gap = self.event_cfg.gap_s;
            let e = match self.events.iter().rposition(|ev| {
                !ev.closed
                    && (u.t_s - ev.last_activity_t_s <= gap
                        || ev.pending_until_t_s.is_some_and(|t| u.t_s <= t))
            }) {
                Some(e) => e,
                None => {
                    self.events.push(Event {
                        last_activity_t_s: u.t_s,
                        pending_until_t_s: None,
                        tracks: BTreeSet::new(),
                        regions: BTreeMap::new(),
                        seq: 0,
                        closed: false,
                        cancelled: false,
                        debris: false,
                        reference_energy_j_kg: f64::NEG_INFINITY,
                    });
                    self.events.len() - 1
                }
            };
            self.events[e].tracks.insert(u.track_id);
            self.events[e].pending_until_t_s = None;
            let live = self.events[e]
                .tracks
                .iter()
                .filter(|id| self.tracks.get(id).is_none_or(|t| t.ended.is_none()))
                .count();
            if live >= DEBRIS_TRACKS {
                self.events[e].debris = true;
            }
            let late = self.events[e].tracks.iter().any(|id| {
                self.tracks
                    .get(id)
                    .is_some_and(|t| t.ended.is_none() && t.hits >= ESTABLISHED_HITS)
            });
            self.tracks.insert(
                u.track_id,
                TrackState {
                    event: e,
                    last_t_s: u.t_s,
                    last_measured: None,
                    last_vertical_m_s: 0.0,
                    last_alt_m: alt,
                    energy_j_kg: energy,
                    parent: !self.events[e].debris,
                    hits: u.hits,
                    classification: u.classification,
                    boost_probability: u.boost_probability,
                    forecast: None,
                    previous: None,
                    debris_ok: [false; 2],
                    late,
                    established_ok: [false; 2],
                    passed: BTreeSet::new(),
                    ended: None,
                },
            );
            if self.events[e].seq == 0 && self.authority.announce_launches {
                let mut n = self.notice(e, u.t_s, NoticeKind::LaunchDetected, MsgType::Alert);
                n.certainty = Certainty::Observed;
                n.track_ids = vec![u.track_id];
                out.push(n);
            }
        }
        let Some(ts) = self.tracks.get_mut(&u.track_id) else {
            return out;
        };
        if ts.ended.is_some() {
            return out;
        }
        let e = ts.event;
        ts.last_t_s = u.t_s;
        ts.last_alt_m = alt;
        ts.energy_j_kg = energy;
        ts.hits = u.hits;
        if ts.parent && u.hits >= ESTABLISHED_HITS {
            let ev = &mut self.events[e];
            ev.reference_energy_j_kg = ev.reference_energy_j_kg.max(energy);
        }
        ts.classification = u.classification;
        ts.boost_probability = u.boost_probability;
        self.events[e].last_activity_t_s = u.t_s;

        // Overflight, from measured positions only: the sub-points along the segment from the
        // previous measured position (if recent) to this one.
        let mut newly_passed = Vec::new();
        if u.measured {
            let mut points = vec![(lat, lon, alt)];
            if let Some((t_prev, p_prev)) = ts.last_measured {
                if u.t_s - t_prev <= 20.0 {
                    let d = vec3::norm(vec3::sub(u.position_ecef_m, p_prev));
                    let n = (d / 5_000.0).ceil().min(50.0) as usize;
                    for k in 1..n {
                        let f = k as f64 / n as f64;
                        let p =
                            vec3::add(p_prev, vec3::scale(vec3::sub(u.position_ecef_m, p_prev), f));
                        let (a, b, h) = fast_geodetic(p);
                        points.push((a.to_degrees(), b.to_degrees(), h));
                    }
                }
            }
            ts.last_measured = Some((u.t_s, u.position_ecef_m));
            ts.last_vertical_m_s = vec3::dot(u.velocity_ecef_m_s, u.position_ecef_m)
                / vec3::norm(u.position_ecef_m).max(1.0);
            for (la, lo, h) in points {
                if h < self.min_alt_m {
                    continue;
                }
                for r in regions.regions_at(la, lo) {
                    if self.in_scope[r] && ts.passed.insert(r) {
                        let rs = self.events[e].regions.entry(r).or_default();
                        if !rs.passed {
                            rs.passed = true;
                            newly_passed.push(r);
                        }
                    }
                }
            }
        }
        if let Some(f) = u.forecast {
            ts.previous = ts.forecast.replace(f.clone());
            let ok = ts.boost_probability < 0.1
                && ts.hits >= ESTABLISHED_HITS
                && ts.energy_j_kg
                    <= self.events[e].reference_energy_j_kg + BREAKUP_ENERGY_MARGIN_J_KG;
            ts.debris_ok = [ts.debris_ok[1], ok];
            let established = !ts.late || ts.hits >= ESTABLISHED_HITS;
            ts.established_ok = [ts.established_ok[1], established];
        }
        if !newly_passed.is_empty() {
            newly_passed.sort_unstable();
            let mut n = self.notice(e, u.t_s, NoticeKind::PassedOver, MsgType::Update);
            n.regions = newly_passed;
            n.certainty = Certainty::Observed;
            n.track_ids = vec![u.track_id];
            out.push(n);
        }

        if u.forecast.is_some() {
            out.extend(self.decide(e, u.t_s));
        }
        out
    }

    /// Re-evaluates the warnings of event `e` from its tracks' latest forecasts.
    fn decide(&mut self, e: usize, t_s: f64) -> Vec<Notice> {
        let mut out = Vec::new();
        // Threat per region: the largest over the event's live tracks. A track's threat to
        // warn on is the lower of its last two forecasts (one wild forecast from a track that
        // is still settling is not enough); its threat to keep a warning is the higher.
        let mut warn_p: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        let mut keep_p: BTreeMap<usize, f64> = BTreeMap::new();
        for id in &self.events[e].tracks {
            let Some(ts) = self.tracks.get(id) else {
                continue;
            };
            if ts.ended.is_some() {
                continue;
            }
            let may_warn = (!self.events[e].debris || ts.debris_ok == [true, true])
                && ts.established_ok == [true, true];
            let Some(f) = &ts.forecast else { continue };
            for (r, o) in &f.regions {
                if !self.in_scope[*r] {
                    continue;
                }
                let p = f.warn_share(*r);
                let before = ts.previous.as_ref().map_or(0.0, |g| g.warn_share(*r));
                let k = keep_p.entry(*r).or_insert(0.0);
                *k = k.max(p.max(before));
                if !may_warn {
                    continue;
                }
                // Too far ahead to warn yet: the forecast will sharpen before it matters.
                if o.first_t_s - t_s > self.authority.warn_horizon_s {
                    continue;
                }
                let entry = warn_p.entry(*r).or_insert((0.0, f64::INFINITY));
                entry.0 = entry.0.max(p.min(before));
                entry.1 = entry.1.min(o.first_t_s);
            }
        }
        let threat = warn_p;
        let a = &self.authority;
        let mut added = Vec::new();
        let mut lifted = Vec::new();
        let (mut p_added, mut p_lifted, mut first) = (0.0f64, 0.0f64, f64::INFINITY);
        let ev = &mut self.events[e];
        for (&r, &(p, t_first)) in &threat {
            let rs = ev.regions.entry(r).or_default();
            if !rs.warned && !rs.passed && p >= a.warn_probability {
                rs.warned = true;
                rs.below_since = None;
                added.push(r);
                p_added = p_added.max(p);
                first = first.min(t_first);
            }
        }
        for (&r, rs) in ev.regions.iter_mut() {
            if !rs.warned || rs.passed {
                continue;
            }
            let p = keep_p.get(&r).copied().unwrap_or(0.0);
            if p < a.cancel_probability {
                let since = *rs.below_since.get_or_insert(t_s);
                if t_s - since >= a.dwell_s {
                    rs.warned = false;
                    rs.below_since = None;
                    lifted.push(r);
                    p_lifted = p_lifted.max(p);
                }
            } else {
                rs.below_since = None;
            }
        }
        if !added.is_empty() {
            let mut n = self.notice(e, t_s, NoticeKind::TakeShelter, MsgType::Update);
            n.regions = added;
            n.probability = Some(p_added);
            n.certainty = Certainty::from_probability(p_added);
            n.expected_t_s = first.is_finite().then_some(first);
            out.push(n);
        }
        if !lifted.is_empty() {
            let none_left = !self.events[e]
                .regions
                .values()
                .any(|s| s.warned || s.passed);
            let kind = if none_left && self.events[e].seq > 0 {
                MsgType::Cancel
            } else {
                MsgType::Update
            };
            let mut n = self.notice(e, t_s, NoticeKind::ShelterLifted, kind);
            n.regions = lifted;
            n.probability = Some(p_lifted);
            n.certainty = Certainty::Unlikely;
            out.push(n);
        }
        out
    }

    /// A track last seen at `last_seen_t_s` has ended (deleted or merged by the tracker), as
    /// learnt at `t_s`; closes its event when it was the last one.
    pub fn track_ended(
        &mut self,
        track_id: u64,
        last_seen_t_s: f64,
        t_s: f64,
        regions: &RegionSet,
    ) -> Vec<Notice> {
        let Some(ts) = self.tracks.get_mut(&track_id) else {
            return vec![];
        };
        if ts.ended.is_some() {
            return vec![];
        }
        ts.ended = Some(last_seen_t_s);
        let e = ts.event;
        let mut out = self.decide(e, t_s);
        let all_ended = self.events[e]
            .tracks
            .iter()
            .all(|id| self.tracks.get(id).is_none_or(|t| t.ended.is_some()));
        if all_ended && !self.events[e].closed {
            // Wait for a predicted fall still to come.
            let pending = self.events[e]
                .tracks
                .iter()
                .filter_map(|id| self.tracks.get(id))
                .filter(|t| t.classification == Classification::Ballistic)
                .filter_map(|t| t.forecast.as_ref().and_then(|f| f.impact))
                .map(|imp| imp.t_s + 60.0)
                .fold(f64::NEG_INFINITY, f64::max);
            if pending > t_s {
                self.events[e].pending_until_t_s = Some(pending);
            } else {
                out.extend(self.close(e, t_s, regions));
            }
        }
        out
    }

    /// Advances time: closes events whose awaited fall time has passed.
    pub fn tick(&mut self, t_s: f64, regions: &RegionSet) -> Vec<Notice> {
        let mut out = Vec::new();
        for e in 0..self.events.len() {
            let ev = &self.events[e];
            if !ev.closed && ev.pending_until_t_s.is_some_and(|t| t_s >= t) {
                let all_ended = ev
                    .tracks
                    .iter()
                    .all(|id| self.tracks.get(id).is_none_or(|t| t.ended.is_some()));
                if all_ended {
                    out.extend(self.close(e, t_s, regions));
                } else {
                    self.events[e].pending_until_t_s = None;
                }
            }
        }
        out
    }

    /// Ends every open event at `t_s` (end of the run).
    pub fn finish(&mut self, t_s: f64, regions: &RegionSet) -> Vec<Notice> {
        let mut out = Vec::new();
        for e in 0..self.events.len() {
            if !self.events[e].closed {
                for id in self.events[e].tracks.clone() {
                    if let Some(ts) = self.tracks.get_mut(&id) {
                        ts.ended.get_or_insert(t_s);
                    }
                }
                out.extend(self.close(e, t_s, regions));
            }
        }
        out
    }

    fn close(&mut self, e: usize, t_s: f64, regions: &RegionSet) -> Vec<Notice> {
        self.events[e].closed = true;
        let ids: Vec<u64> = self.events[e].tracks.iter().copied().collect();
        let mut outcomes = Vec::new();
        for id in &ids {
            let Some(ts) = self.tracks.get(id) else {
                continue;
            };
            let end = ts.ended.unwrap_or(t_s);
            let outcome = outcome_of(ts, regions, self.min_alt_m);
            // A lost track with another track of the event still updated after it ended was
            // most likely re-acquired or merged: its "lost" says nothing about the object.
            if matches!(outcome, Outcome::TrackLost { .. })
                && ids
                    .iter()
                    .any(|o| o != id && self.tracks.get(o).is_some_and(|x| x.last_t_s > end))
            {
                continue;
            }
            outcomes.push(ObjectOutcome {
                track_id: *id,
                t_s: end,
                outcome,
                passed_over: ts.passed.iter().copied().collect(),
            });
        }
        if outcomes.is_empty() {
            return vec![];
        }
        // The object that went furthest (passed over most, then latest end) first.
        outcomes.sort_by(|a, b| {
            b.passed_over
                .len()
                .cmp(&a.passed_over.len())
                .then(b.t_s.total_cmp(&a.t_s))
        });
        let chain_open = self.events[e].seq > 0;
        let touched = self.events[e]
            .regions
            .values()
            .any(|s| s.warned || s.passed);
        // An authority that does not announce launches and never warned stays silent.
        if !chain_open && !touched {
            return vec![];
        }
        let released: Vec<usize> = self.events[e]
            .regions
            .iter()
            .filter(|(_, s)| s.warned && !s.passed)
            .map(|(r, _)| *r)
            .collect();
        for s in self.events[e].regions.values_mut() {
            s.warned = false;
        }
        let mut n = self.notice(e, t_s, NoticeKind::Result, MsgType::Update);
        n.released = released;
        n.certainty = if outcomes
            .iter()
            .all(|o| matches!(o.outcome, Outcome::TrackLost { .. }))
        {
            Certainty::Unknown
        } else if outcomes.iter().any(|o| {
            matches!(
                o.outcome,
                Outcome::FellAtSea {
                    predicted: true,
                    ..
                } | Outcome::FellInRegion {
                    predicted: true,
                    ..
                } | Outcome::FellOutside {
                    predicted: true,
                    ..
                }
            )
        }) {
            Certainty::Likely
        } else {
            Certainty::Observed
        };
        n.regions = self.events[e]
            .regions
            .iter()
            .filter(|(_, s)| s.passed)
            .map(|(r, _)| *r)
            .collect();
        n.outcomes = outcomes;
        vec![n]
    }
}

/// What a track's end supports.
fn outcome_of(ts: &TrackState, regions: &RegionSet, min_alt_m: f64) -> Outcome {
    let last = ts.last_measured.map(|(_, p)| p);
    let lost = || {
        let (lat, lon, h) = last
            .map(fast_geodetic)
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        Outcome::TrackLost {
            lat_deg: lat.to_degrees(),
            lon_deg: lon.to_degrees(),
            alt_km: h / 1e3,
        }
    };
    // Orbit: an established, unpowered track whose last two forecasts both stay up.
    if ts.classification == Classification::Orbital && ts.boost_probability < 0.5 {
        let up = |f: &Option<Forecast>| f.as_ref().is_some_and(|f| f.orbit_fraction() >= 0.9);
        if ts.hits >= ESTABLISHED_HITS && up(&ts.forecast) && up(&ts.previous) {
            return Outcome::ReachedOrbit;
        }
        return lost();
    }
    // Seen coming down low: the last measured sub-point is where it fell (within a few km).
    if let Some(p) = last {
        let (lat, lon, h) = fast_geodetic(p);
        if h < min_alt_m.min(30_000.0) && ts.boost_probability < 0.5 && ts.last_vertical_m_s < 0.0 {
            let (lat, lon) = (lat.to_degrees(), lon.to_degrees());
            return fell_at(lat, lon, regions, false);
        }
    }
    // A converged ballistic future: an established track, unpowered, nearly all samples
    // coming down close together, and the forecast before agreeing. A region is named only
    // when nine samples in ten fall in it; "at sea" only when at most one in twenty falls on
    // land; anything in between is not known.
    if let (Some(f), Some(prev)) = (&ts.forecast, &ts.previous) {
        let recent = ts
            .last_measured
            .is_some_and(|(t, _)| (t - f.t_s).abs() <= 30.0);
        if let (Some(imp), Some(before)) = (f.impact, prev.impact) {
            let agree = great_circle_m(imp.lat_deg, imp.lon_deg, before.lat_deg, before.lon_deg)
                <= 50_000.0;
            if recent
                && agree
                && ts.hits >= ESTABLISHED_HITS
                && ts.boost_probability < 0.1
                && f.impact_fraction() >= 0.95
                && imp.radius95_m <= 50_000.0
            {
                let n = f.samples as f64;
                let on_land: u32 = f
                    .regions
                    .iter()
                    .filter(|(r, _)| is_land(regions, *r))
                    .map(|(_, o)| o.impact)
                    .sum();
                let best = f
                    .regions
                    .iter()
                    .filter(|(r, _)| is_land(regions, *r))
                    .max_by_key(|(_, o)| o.impact);
                if let Some((r, o)) = best {
                    if o.impact as f64 >= 0.9 * n {
                        return Outcome::FellInRegion {
                            region: *r,
                            lat_deg: imp.lat_deg,
                            lon_deg: imp.lon_deg,
                            predicted: true,
                        };
                    }
                }
                if on_land as f64 <= 0.05 * n {
                    return fell_at(imp.lat_deg, imp.lon_deg, regions, true);
                }
            }
        }
    }
    lost()
}

/// A region people live in: an admin-1 region or a configured land area (not a sea area).
fn is_land(regions: &RegionSet, r: usize) -> bool {
    let region = regions.get(r);
    region.kind == RegionKind::Admin1 || !region.sea
}

fn great_circle_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().clamp(0.0, 1.0).asin()
}

fn fell_at(lat: f64, lon: f64, regions: &RegionSet, predicted: bool) -> Outcome {
    if let Some(region) = regions.admin_at(lat, lon) {
        return Outcome::FellInRegion {
            region,
            lat_deg: lat,
            lon_deg: lon,
            predicted,
        };
    }
    let areas: Vec<usize> = regions.areas_at(lat, lon).collect();
    // A configured land area (a territory such as Guam) is a region even where a sea area
    // drawn around it overlaps.
    if let Some(&region) = areas.iter().find(|&&a| is_land(regions, a)) {
        return Outcome::FellInRegion {
            region,
            lat_deg: lat,
            lon_deg: lon,
            predicted,
        };
    }
    if areas.iter().any(|&a| regions.get(a).sea) {
        Outcome::FellAtSea {
            lat_deg: lat,
            lon_deg: lon,
            areas,
            predicted,
        }
    } else {
        Outcome::FellOutside {
            lat_deg: lat,
            lon_deg: lon,
            predicted,
        }
    }
}
