//! Scoring notices against ground truth: which regions the true objects passed over or fell
//! in, which were warned and when, false warnings and misses. Used by tests and Monte Carlo
//! runs, never by a node.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::{Notice, NoticeKind, Outcome};
use crate::region::RegionSet;

/// A true object's path in track time (seconds since the node's epoch).
#[derive(Clone, Debug)]
pub struct TruthPath {
    pub object: String,
    /// (t_s, lat_deg, lon_deg, alt_m), time-ordered.
    pub points: Vec<(f64, f64, f64, f64)>,
    /// Where it came down, if it did.
    pub impact: Option<(f64, f64, f64)>,
}

/// When the truth first reached each region (passing over above `min_alt_m`, or falling in).
pub fn truth_regions(
    paths: &[TruthPath],
    regions: &RegionSet,
    min_alt_m: f64,
) -> BTreeMap<usize, (f64, String)> {
    let mut first: BTreeMap<usize, (f64, String)> = BTreeMap::new();
    let mut mark = |r: usize, t: f64, obj: &str| {
        let e = first.entry(r).or_insert((t, obj.to_owned()));
        if t < e.0 {
            *e = (t, obj.to_owned());
        }
    };
    for p in paths {
        for &(t, lat, lon, alt) in &p.points {
            if alt >= min_alt_m {
                for r in regions.regions_at(lat, lon) {
                    mark(r, t, &p.object);
                }
            }
        }
        if let Some((t, lat, lon)) = p.impact {
            for r in regions.regions_at(lat, lon) {
                mark(r, t, &p.object);
            }
        }
    }
    first
}

/// One authority's score for one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WarnScore {
    /// Regions in scope the truth reached, with the first time.
    pub reached: Vec<(String, f64)>,
    /// Regions warned (take shelter), with the first warning time.
    pub warned: Vec<(String, f64)>,
    /// Warned regions the truth never reached.
    pub false_warnings: Vec<String>,
    /// Reached regions not warned before the truth got there (late or never).
    pub misses: Vec<String>,
    /// Per reached-and-warned region: warning time and truth time.
    pub lead: Vec<(String, f64, f64)>,
    /// Regions reported "passed over" that the truth never passed over.
    pub false_overflights: Vec<String>,
    /// Outcome kinds reported in results.
    pub outcomes: Vec<String>,
}

/// Scores the notices of authority `authority` (scope `scope`) against the truth.
pub fn score(
    notices: &[&Notice],
    authority: usize,
    scope: &[usize],
    truth: &BTreeMap<usize, (f64, String)>,
    regions: &RegionSet,
) -> WarnScore {
    let id = |r: usize| regions.get(r).id.to_string();
    let mut warned: BTreeMap<usize, f64> = BTreeMap::new();
    let mut s = WarnScore::default();
    for n in notices.iter().filter(|n| n.authority == authority) {
        match n.kind {
            NoticeKind::TakeShelter => {
                for &r in &n.regions {
                    warned.entry(r).or_insert(n.t_s);
                }
            }
            NoticeKind::PassedOver => {
                for &r in &n.regions {
                    if !truth.contains_key(&r) {
                        s.false_overflights.push(id(r));
                    }
                }
            }
            NoticeKind::Result => {
                for o in &n.outcomes {
                    s.outcomes.push(o.outcome.event_name().to_owned());
                    if let Outcome::FellInRegion { region, .. } = o.outcome {
                        if !truth.contains_key(&region) {
                            s.false_warnings.push(format!("{} (impact)", id(region)));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (&r, &t) in &warned {
        s.warned.push((id(r), t));
        if !truth.contains_key(&r) {
            s.false_warnings.push(id(r));
        }
    }
    for (&r, (t, _)) in truth {
        if !scope.contains(&r) {
            continue;
        }
        s.reached.push((id(r), *t));
        match warned.get(&r) {
            Some(&tw) if tw <= *t => s.lead.push((id(r), tw, *t)),
            Some(&tw) => {
                s.lead.push((id(r), tw, *t));
                s.misses.push(id(r));
            }
            None => s.misses.push(id(r)),
        }
    }
    s
}
