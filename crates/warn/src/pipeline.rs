//! One node's path from detections to public notices, in one world: tracker → forecasts →
//! each authority's engine → CAP.
//!
//! The node is generic over its [`World`]: it only takes detections admitted to that world, and
//! every notice and CAP message it produces carries the same world, so a real node cannot emit
//! anything from exercise input, and an exercise node's alerts are `Exercise` by type.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use tripoint_core::world::{InWorld, World};
use tripoint_core::{Detection, Epoch, Nation, SensorId};
use tripoint_track::feed::batches;
use tripoint_track::products::{classify, ClassHold};
use tripoint_track::tracker::{MultiTargetTracker, TrackerConfig};

use crate::cap::{CapMessage, CapWriter};
use crate::config::WarnConfig;
use crate::engine::{Engine, Notice, TrackUpdate};
use crate::forecast::Forecaster;
use crate::region::{RegionKind, RegionSet};

pub use tripoint_track::products::MIN_BOOST_M_S2;

/// Horizontal speed over its uncertainty below which a powered track's heading is too
/// uncertain to forecast (about 6° one sigma).
pub const MIN_HEADING_RATIO: f64 = 10.0;

/// Response time of the tracker's velocity to thrust (s): see where it is used.
pub const BOOST_LAG_S: f64 = 2.0;

/// Everything one run produced.
pub struct NodeRun<M: World> {
    /// Track time zero (the first detection).
    pub epoch: Epoch,
    pub notices: Vec<InWorld<M, Notice>>,
    pub messages: Vec<InWorld<M, CapMessage>>,
    pub stats: RunStats,
}

/// Counts and timings of one run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub detections: usize,
    pub rejected: usize,
    pub forecasts: usize,
    pub forecast_seconds: Vec<f64>,
    /// Engine time per track update that carried a forecast (s).
    pub decision_seconds: Vec<f64>,
    pub wall_seconds: f64,
    /// One line per forecast (track quality, IMM state, regions at ≥ 10 %), when asked for.
    pub forecast_log: Vec<String>,
}

/// Runs one node over a time-ordered detection stream of world `M`.
pub fn run_node<M: World>(
    detections: &[InWorld<M, Detection>],
    owners: &HashMap<SensorId, Nation>,
    tracker_cfg: TrackerConfig,
    cfg: &WarnConfig,
    regions: &RegionSet,
    log_forecasts: bool,
    mut progress: impl FnMut(usize),
) -> NodeRun<M> {
    let t0 = Instant::now();
    let raw: Vec<Detection> = detections.iter().map(|d| d.get().clone()).collect();
    let epoch = raw
        .first()
        .map_or(Epoch::from_unix_seconds(0.0), |d| d.time);
    let (batches, rejected) = batches(&raw, owners, epoch);
    let mut stats = RunStats {
        detections: raw.len(),
        rejected: rejected.len(),
        ..RunStats::default()
    };
    let watched: BTreeSet<usize> = cfg
        .authorities
        .iter()
        .flat_map(|a| a.regions.iter().copied())
        .filter(|&r| regions.get(r).kind == RegionKind::Area)
        .collect();
    let forecaster = Forecaster {
        cfg: cfg.forecast.clone(),
        regions,
        watched_areas: watched.into_iter().collect(),
    };
    let mut engines: Vec<Engine> = cfg
        .authorities
        .iter()
        .enumerate()
        .map(|(i, a)| Engine::new(i, a.clone(), cfg.event.clone(), &cfg.forecast, regions))
        .collect();
    let mut tracker = MultiTargetTracker::new(tracker_cfg);
    let mut notices: Vec<Notice> = Vec::new();
    let mut last_forecast: HashMap<u64, f64> = HashMap::new();
    let mut known: BTreeMap<u64, f64> = BTreeMap::new();
    // Each track's classification as its products show it (`CLASS_HOLD_S`).
    let mut holds: HashMap<u64, ClassHold> = HashMap::new();
    let mut last_sweep = f64::NEG_INFINITY;
    let mut last_tick = f64::NEG_INFINITY;
    let debug = log_forecasts;
    let mut n = 0usize;
    let mut t_last = 0.0;
    for (k, b) in batches.iter().enumerate() {
        n += b.len();
        let events = tracker.process_batch(b);
        // The node's clock is the tracker's: a batch it refused (a wrong clock held back, too
        // late, nothing valid) moves nothing.
        if tracker.latest_t_s().is_finite() {
            t_last = f64::max(t_last, tracker.latest_t_s());
        }
        let t = t_last;
        for ev in events.iter().filter(|e| e.confirmed) {
            let Some(tr) = tracker.tracks().iter().find(|t| t.id == ev.track_id) else {
                continue;
            };
            let e = tr.estimate();
            let (raw, evidence) = classify(&e, tr.imm.mu[0]);
            let class = holds.entry(tr.id).or_default().commit(e.t_s, raw);
            let sigma_v = (e.p[(3, 3)] + e.p[(4, 4)] + e.p[(5, 5)]).max(0.0).sqrt();
            let fc = &cfg.forecast;
            // A track the IMM calls powered but whose "thrust" along its velocity is under
            // MIN_BOOST_M_S2 (or points backwards) is no rocket: a failed vehicle the IMM has
            // not yet let go of, a fragment in drag, a mis-association. Its velocity carries
            // the filter's lag, so its future says nothing reliable: it is not forecast.
            let thrust_along = evidence.thrust_along_m_s2;
            let v = e.velocity();
            let speed = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1.0);
            let decelerating = tr.imm.mu[0] > 0.5 && thrust_along < MIN_BOOST_M_S2;
            let due = tr.hits >= fc.min_hits
                && !decelerating
                && e.position_sigma_m() <= fc.max_position_sigma_m
                && sigma_v <= fc.max_velocity_sigma_m_s
                && last_forecast
                    .get(&tr.id)
                    .is_none_or(|&t| e.t_s - t >= fc.every_s);
            let forecast = if due {
                let ft = Instant::now();
                // Under thrust the filter's velocity lags the vehicle by about the thrust
                // acceleration times the filter's response time, an error its covariance does
                // not carry; it matters most on a steep (lofted) climb, where a small
                // horizontal error turns the predicted heading. The forecast adds it.
                let mut e = e.clone();
                let boost = tr.imm.mu[0];
                if boost > 0.1 {
                    let lag = boost * thrust_along.abs() * BOOST_LAG_S;
                    for i in 3..6 {
                        e.p[(i, i)] += lag * lag;
                    }
                }
                // Heading quality under thrust: horizontal speed over its (lag-inflated)
                // uncertainty. A steep, lofted climb has little horizontal speed, so its
                // heading, and every region its futures cross, is a guess until it turns.
                let up = tripoint_physics::vec3::unit(e.position());
                let vv = tripoint_physics::vec3::dot(v, up);
                let v_h = (speed * speed - vv * vv).max(0.0).sqrt();
                let sv_f = (e.p[(3, 3)] + e.p[(4, 4)] + e.p[(5, 5)]).max(0.0).sqrt();
                let powered = boost > 0.5 && thrust_along >= MIN_BOOST_M_S2;
                let heading_known = v_h >= MIN_HEADING_RATIO * sv_f;
                let f = if powered && !heading_known {
                    None
                } else {
                    forecaster.forecast(tr.id, &e).map(|mut f| {
                        f.powered = powered;
                        f
                    })
                };
                stats.forecast_seconds.push(ft.elapsed().as_secs_f64());
                if let Some(f) = &f {
                    last_forecast.insert(tr.id, e.t_s);
                    stats.forecasts += 1;
                    if debug {
                        let top: Vec<String> = f
                            .regions
                            .iter()
                            .filter(|(_, o)| o.threat * 10 >= f.samples)
                            .map(|(r, o)| {
                                format!(
                                    "{}:{:.2}",
                                    regions.get(*r).id,
                                    o.threat as f64 / f.samples as f64
                                )
                            })
                            .collect();
                        stats.forecast_log.push(format!(
                            "forecast t={:.1} track={} hits={} acc={:.1} sp={:.0} sv={:.1} boost={:.2} class={:?} impacts={} orbits={} {}",
                            e.t_s, tr.id, tr.hits, thrust_along, e.position_sigma_m(), sigma_v, tr.imm.mu[0], class, f.impacts, f.orbits, top.join(" ")
                        ));
                    }
                }
                f
            } else {
                None
            };
            let u = TrackUpdate {
                track_id: tr.id,
                t_s: e.t_s,
                position_ecef_m: e.position(),
                velocity_ecef_m_s: e.velocity(),
                measured: true,
                hits: tr.hits,
                boost_probability: tr.imm.mu[0],
                classification: class,
                forecast: forecast.as_ref(),
            };
            known.insert(tr.id, e.t_s);
            let dt = Instant::now();
            for eng in engines.iter_mut() {
                // A notice is issued when the node learns of it: never before the latest
                // detection time (a late, out-of-sequence update carries an older time).
                let mut ns = eng.update(&u, regions);
                ns.iter_mut().for_each(|n| n.t_s = n.t_s.max(t_last));
                notices.extend(ns);
            }
            if forecast.is_some() {
                stats.decision_seconds.push(dt.elapsed().as_secs_f64());
            }
        }
        // Tracks that have gone (deleted or merged), swept once per second of track time.
        if t - last_sweep >= 1.0 {
            last_sweep = t;
            let live: BTreeSet<u64> = tracker.tracks().iter().map(|t| t.id).collect();
            let gone: Vec<(u64, f64)> = known
                .iter()
                .filter(|(id, _)| !live.contains(id))
                .map(|(id, t)| (*id, *t))
                .collect();
            for (id, t_end) in gone {
                known.remove(&id);
                holds.remove(&id);
                for eng in engines.iter_mut() {
                    let mut ns = eng.track_ended(id, t_end, t_last, regions);
                    ns.iter_mut().for_each(|n| n.t_s = n.t_s.max(t_last));
                    notices.extend(ns);
                }
            }
        }
        if t - last_tick >= 1.0 {
            last_tick = t;
            for eng in engines.iter_mut() {
                notices.extend(eng.tick(t_last, regions));
            }
        }
        if k % 512 == 0 {
            progress(n);
        }
    }
    progress(n);
    for eng in engines.iter_mut() {
        notices.extend(eng.finish(t_last, regions));
    }
    stats.rejected += tracker.rejected.observations();
    let authorities: Vec<_> = cfg.authorities.clone();
    let mut writer = CapWriter::new(regions, &authorities, epoch);
    let notices: Vec<InWorld<M, Notice>> = match detections.first() {
        Some(d) => notices.into_iter().map(|n| d.as_ref().map(|_| n)).collect(),
        None => vec![],
    };
    let messages = notices.iter().map(|n| writer.render(n)).collect();
    stats.wall_seconds = t0.elapsed().as_secs_f64();
    NodeRun {
        epoch,
        notices,
        messages,
        stats,
    }
}
