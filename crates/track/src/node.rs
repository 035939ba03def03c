//! A node's real-time loop: its tracker and its products, batch by batch, the way the latency
//! target is measured (`cargo bench -p tripoint-track --bench tracker -- replays`) and the way
//! `tripoint track --live` runs.
//!
//! Between batches ([`Node::ahead`]) the node predicts its confirmed tracks to the next batch's
//! time ([`MultiTargetTracker::predict_ahead`]: a node knows the scan schedules of the radars
//! it tasks) and makes full products of the predictions of the tracks whose products'
//! reference would say nothing of the batch's update ([`LiveProducts::refresh_ahead`]). A batch
//! ([`Node::take`]) is taken in the tracker's passes:
//!
//! 1. the confirmed tracks' association and updates; each converged track's quick products
//!    (linearised, or provisional) are made in its own update job the moment it is updated
//!    ([`MultiTargetTracker::update_batch_with`], [`LiveProducts::prepare`]), so they are out
//!    track by track during the update phase ([`Stage::Quick`]). The tracks with nothing quick
//!    to say get full products next, together over the thread pool ([`Stage::Waited`]: the one
//!    case where a full computation, fifteen flights to the ground, is on the path from a
//!    detection to its track's products);
//! 2. the tentative tracks' pass; the tracks it confirms get their first products
//!    ([`Stage::NewlyConfirmed`]);
//! 3. the full computations behind provisional products ([`Stage::FollowUp`]: they replace
//!    what was said provisionally, off the detection-to-product path), then track management.
//!
//! The tracks are those of [`MultiTargetTracker::process_batch`] to the bit (the passes give
//! the same tracks, and the predictions made ahead serve only the very state they were made
//! from). The products differ from an offline run's only in being made at every update, from
//! references kept as a real-time node keeps them.

use std::time::Instant;

use crate::products::{converged, Basis, LiveProducts, Products, RefreshItem};
use crate::tracker::{MultiTargetTracker, TrackEvent, TrackerConfig};
use crate::Observation;

/// What a node makes between batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// Predict the confirmed tracks to the next batch's time between batches.
    pub predict_ahead: bool,
    /// And make the products' references of the tracks whose reference would say nothing of
    /// the update (only with `predict_ahead`).
    pub references_ahead: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            predict_ahead: true,
            references_ahead: true,
        }
    }
}

/// Where in a batch a track's products were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Linearised or provisional, in the track's update job, out as soon as it was updated.
    Quick,
    /// In full after the confirmed tracks' updates: the track's reference could say nothing.
    Waited,
    /// The first products of a track the batch's tentative pass confirmed.
    NewlyConfirmed,
    /// The full computation behind provisional products, after the batch's products are out.
    FollowUp,
}

impl Stage {
    /// Whether these are the first products of the batch's update of their track: what the
    /// latency from a detection to its track's products counts (a follow-up replaces products
    /// already out).
    pub fn is_first(self) -> bool {
        self != Stage::FollowUp
    }
}

/// A track's products, out.
#[derive(Clone, Debug)]
pub struct Published {
    pub track_id: u64,
    /// When they were out, seconds from the batch's start.
    pub at_s: f64,
    pub stage: Stage,
    pub products: Products,
    pub basis: Basis,
}

/// What one batch gave.
#[derive(Clone, Debug, Default)]
pub struct BatchOut {
    /// Seconds from the batch's start to its confirmed tracks updated.
    pub updated_s: f64,
    /// Every product of the batch, in the order they were out.
    pub published: Vec<Published>,
    /// The batch's track events, as [`MultiTargetTracker::process_batch`] returns them.
    pub events: Vec<TrackEvent>,
    /// Seconds spent making products after the confirmed tracks' updates (those made in the
    /// update jobs are in the updates' time).
    pub product_s: f64,
    /// Seconds from the batch's start to all of it done, track management included.
    pub service_s: f64,
}

impl BatchOut {
    /// Seconds from the batch's start to each updated track's products
    /// ([`Stage::is_first`]), in the order they were out.
    pub fn latencies_s(&self) -> impl Iterator<Item = f64> + '_ {
        self.published
            .iter()
            .filter(|p| p.stage.is_first())
            .map(|p| p.at_s)
    }

    /// How many tracks waited for a full computation before their first products.
    pub fn waited(&self) -> usize {
        self.published
            .iter()
            .filter(|p| p.stage.is_first() && p.basis == Basis::Full)
            .count()
    }
}

/// A tracker and its live products, taking batches as a real-time node does.
#[derive(Clone, Debug)]
pub struct Node {
    tracker: MultiTargetTracker,
    live: LiveProducts,
    cfg: NodeConfig,
}

impl Node {
    pub fn new(tracker: TrackerConfig, cfg: NodeConfig) -> Self {
        Self {
            tracker: MultiTargetTracker::new(tracker),
            live: LiveProducts::default(),
            cfg,
        }
    }

    pub fn config(&self) -> NodeConfig {
        self.cfg
    }

    pub fn tracker(&self) -> &MultiTargetTracker {
        &self.tracker
    }

    /// The tracker, for a caller that takes a batch itself (a baseline without live products).
    pub fn tracker_mut(&mut self) -> &mut MultiTargetTracker {
        &mut self.tracker
    }

    /// The products' references and their counters.
    pub fn products(&self) -> &LiveProducts {
        &self.live
    }

    /// Between batches, ahead of the next one at `t_s`: the confirmed tracks' predictions to
    /// it, and the references of those whose reference would say nothing of it (as the
    /// [`NodeConfig`] says). Returns the references made.
    pub fn ahead(&mut self, t_s: f64) -> usize {
        if !self.cfg.predict_ahead {
            return 0;
        }
        self.tracker.predict_ahead(t_s);
        if !self.cfg.references_ahead {
            return 0;
        }
        let items: Vec<RefreshItem<'_>> = self
            .tracker
            .predictions_ahead(t_s)
            .map(|(tr, s, boost)| (tr.id, s, boost, tr.early_state()))
            .collect();
        self.live.refresh_ahead(&items).len()
    }

    /// Takes one batch (the detections of one sensor at one time; see the module notes).
    pub fn take(&mut self, batch: &[Observation]) -> BatchOut {
        let start = Instant::now();
        let since = |t: Instant| t.elapsed().as_secs_f64();
        let Self { tracker, live, .. } = self;
        let reading: &LiveProducts = live;
        let (mut step, quick) = tracker.update_batch_with(batch, |tr| {
            let e = tr.estimate();
            converged(&e).then(|| {
                let item = (tr.id, &e, tr.imm.mu[0], tr.early.is_some());
                (reading.prepare(item), since(start))
            })
        });
        let mut out = BatchOut {
            updated_s: since(start),
            ..BatchOut::default()
        };
        let p0 = Instant::now();
        let index = step.tracker().index_by_id();
        let (mut waiting, mut later) = (Vec::new(), Vec::new());
        for (id, (prepared, t)) in quick {
            let Some(&i) = index.get(&id) else { continue };
            match live.publish(prepared) {
                Some((products, basis)) => {
                    if !matches!(basis, Basis::Linearised { .. }) {
                        later.push(i);
                    }
                    out.published.push(Published {
                        track_id: id,
                        at_s: t,
                        stage: Stage::Quick,
                        products,
                        basis,
                    });
                }
                None => waiting.push(i),
            }
        }
        full(
            step.tracker(),
            &waiting,
            live,
            start,
            Stage::Waited,
            &mut out,
        );
        out.product_s = since(p0);
        // The tentative tracks' pass; those it confirms get their first products.
        let confirmed_now: Vec<u64> = step
            .update_tentative()
            .into_iter()
            .filter(|e| e.confirmed)
            .map(|e| e.track_id)
            .collect();
        let p0 = Instant::now();
        let index = step.tracker().index_by_id();
        let tracks = step.tracker().tracks();
        let updates: Vec<_> = confirmed_now
            .iter()
            .filter_map(|id| index.get(id).copied())
            .map(|i| (i, tracks[i].estimate()))
            .filter(|(_, e)| converged(e))
            .collect();
        let items: Vec<_> = updates
            .iter()
            .map(|(i, e)| {
                (
                    tracks[*i].id,
                    e,
                    tracks[*i].imm.mu[0],
                    tracks[*i].early.is_some(),
                )
            })
            .collect();
        let quick = live.quick_many(&items);
        let t_quick = since(start);
        waiting.clear();
        for ((i, _), q) in updates.iter().zip(quick) {
            match q {
                Some((products, basis)) => {
                    if !matches!(basis, Basis::Linearised { .. }) {
                        later.push(*i);
                    }
                    out.published.push(Published {
                        track_id: tracks[*i].id,
                        at_s: t_quick,
                        stage: Stage::NewlyConfirmed,
                        products,
                        basis,
                    });
                }
                None => waiting.push(*i),
            }
        }
        let tracker_now = step.tracker();
        full(
            tracker_now,
            &waiting,
            live,
            start,
            Stage::NewlyConfirmed,
            &mut out,
        );
        // The full computations behind provisional products, together over the pool.
        full(tracker_now, &later, live, start, Stage::FollowUp, &mut out);
        out.product_s += since(p0);
        out.events = step.updated().to_vec();
        out.events.extend(step.finish());
        // References of tracks gone (deleted, merged) are dropped now and then.
        if tracker.tracks().len() < live.len() / 2 {
            let ids: std::collections::HashSet<u64> =
                tracker.tracks().iter().map(|t| t.id).collect();
            live.retain(|id| ids.contains(&id));
        }
        out.service_s = since(start);
        out
    }
}

/// Full products of the tracks (indices), together over the thread pool, kept as their
/// references and published at `stage` when all of them are done.
fn full(
    tracker: &MultiTargetTracker,
    tracks: &[usize],
    live: &mut LiveProducts,
    start: Instant,
    stage: Stage,
    out: &mut BatchOut,
) {
    if tracks.is_empty() {
        return;
    }
    let all = tracker.tracks();
    let estimates: Vec<_> = tracks
        .iter()
        .map(|&i| (&all[i], all[i].estimate()))
        .collect();
    let items: Vec<_> = estimates
        .iter()
        .map(|(tr, e)| (tr.id, e, tr.imm.mu[0], tr.early_state()))
        .collect();
    let made = live.refresh_many(&items);
    let at_s = start.elapsed().as_secs_f64();
    out.published.extend(
        items
            .iter()
            .zip(made)
            .map(|(&(id, ..), products)| Published {
                track_id: id,
                at_s,
                stage,
                products,
                basis: Basis::Full,
            }),
    );
}
