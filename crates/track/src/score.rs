//! Scoring a tracker's output against the simulator's truth: GOSPA per time step, position
//! RMSE, impact-point miss distance and 95 %-ellipse coverage.
//!
//! Track states between updates are the last update extrapolated with its velocity (what a
//! display would show); a track exists from its first to its last written update.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tripoint_physics::geodesy::ground_line;
use tripoint_physics::Geodetic;

use crate::metric::{gospa, Gospa};
use crate::products::{Ellipse, CHI2_2_95};

/// One row of truth or track output: time (Unix seconds), id, ECEF state [x, y, z, vx, vy, vz].
#[derive(Clone, Debug, PartialEq)]
pub struct StateRow {
    pub t: f64,
    pub id: String,
    pub state: [f64; 6],
}

/// Mean GOSPA over time steps, and RMSE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct GospaSummary {
    pub cutoff_m: f64,
    pub steps: usize,
    pub mean_total_m: f64,
    pub mean_localisation_m: f64,
    pub mean_missed_m: f64,
    pub mean_false_m: f64,
    pub position_rmse_m: f64,
}

/// GOSPA of tracks against truth on the truth's time grid: every distinct time of a truth row.
/// At each time every truth object alive then counts (first row ≤ t ≤ last row), at its row or,
/// between rows (another object's first or last instant), at the cubic-Hermite interpolation
/// of its bracketing rows; tracks as in the module doc. `bench/stonesoup/gospa.py` implements
/// the same rules independently (CI compares the two).
pub fn score_gospa(truth: &[StateRow], tracks: &[StateRow], cutoff_m: f64) -> GospaSummary {
    let key = |t: f64| (t * 1000.0).round() as i64;
    let mut objects: HashMap<&str, Vec<&StateRow>> = HashMap::new();
    for r in truth {
        objects.entry(r.id.as_str()).or_default().push(r);
    }
    let mut objects: Vec<Vec<&StateRow>> = objects.into_values().collect();
    for o in &mut objects {
        o.sort_by(|a, b| a.t.total_cmp(&b.t));
    }
    // Steps keyed by millisecond, at the exact time of their rows (an object's first instant is
    // not on a millisecond: rounded, it would fall just before the object exists).
    let mut steps: BTreeMap<i64, (f64, Vec<[f64; 3]>)> = BTreeMap::new();
    for r in truth {
        steps.entry(key(r.t)).or_insert((r.t, Vec::new()));
    }
    for (t, pos) in steps.values_mut() {
        let t = *t;
        for o in &objects {
            if let Some(p) = truth_position(o, t) {
                pos.push(p);
            }
        }
    }
    let mut by_track: HashMap<&str, Vec<&StateRow>> = HashMap::new();
    for r in tracks {
        by_track.entry(r.id.as_str()).or_default().push(r);
    }
    let mut series: Vec<Vec<&StateRow>> = by_track.into_values().collect();
    for s in &mut series {
        s.sort_by(|a, b| a.t.total_cmp(&b.t));
    }
    let mut sum = Gospa::default();
    let mut n = 0usize;
    let mut positions = Vec::new();
    for (t, truth_pos) in steps.values() {
        let t = *t;
        positions.clear();
        for s in &series {
            let (first, last) = (s[0].t, s[s.len() - 1].t);
            if t < first - 1e-6 || t > last + 1e-6 {
                continue;
            }
            let i = s.partition_point(|r| r.t <= t + 1e-6).saturating_sub(1);
            let r = s[i];
            let dt = t - r.t;
            positions.push([
                r.state[0] + r.state[3] * dt,
                r.state[1] + r.state[4] * dt,
                r.state[2] + r.state[5] * dt,
            ]);
        }
        let g = gospa(truth_pos, &positions, cutoff_m);
        sum.total += g.total;
        sum.localisation += g.localisation;
        sum.missed += g.missed;
        sum.false_ += g.false_;
        sum.sq_error_sum += g.sq_error_sum;
        sum.assigned += g.assigned;
        n += 1;
    }
    let nf = n.max(1) as f64;
    GospaSummary {
        cutoff_m,
        steps: n,
        mean_total_m: sum.total / nf,
        mean_localisation_m: sum.localisation / nf,
        mean_missed_m: sum.missed / nf,
        mean_false_m: sum.false_ / nf,
        position_rmse_m: if sum.assigned > 0 {
            (sum.sq_error_sum / sum.assigned as f64).sqrt()
        } else {
            f64::NAN
        },
    }
}

/// A truth object's position at `t` (rows sorted by time): its row there, or the cubic-Hermite
/// interpolation of the rows around `t`; `None` outside its first and last rows.
fn truth_position(rows: &[&StateRow], t: f64) -> Option<[f64; 3]> {
    let (first, last) = (rows.first()?, rows.last()?);
    if t < first.t - 1e-6 || t > last.t + 1e-6 {
        return None;
    }
    let i = rows.partition_point(|r| r.t <= t + 1e-6).saturating_sub(1);
    let a = rows[i];
    let pos = |r: &StateRow| [r.state[0], r.state[1], r.state[2]];
    let Some(b) = rows.get(i + 1).filter(|_| (t - a.t).abs() > 1e-6) else {
        return Some(pos(a));
    };
    let h = b.t - a.t;
    let u = (t - a.t) / h;
    let (h00, h10) = (
        2.0 * u.powi(3) - 3.0 * u * u + 1.0,
        u.powi(3) - 2.0 * u * u + u,
    );
    let (h01, h11) = (-2.0 * u.powi(3) + 3.0 * u * u, u.powi(3) - u * u);
    Some(std::array::from_fn(|m| {
        h00 * a.state[m] + h10 * h * a.state[3 + m] + h01 * b.state[m] + h11 * h * b.state[3 + m]
    }))
}

/// A predicted impact for a track at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct ImpactRecord {
    pub t: f64,
    pub track_id: String,
    /// The track's position when the prediction was made (ECEF m), to find its object.
    pub position: [f64; 3],
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub cov_en_m2: [f64; 3],
}

/// Where an object really fell.
#[derive(Clone, Debug, PartialEq)]
pub struct TrueImpact {
    pub lat_deg: f64,
    pub lon_deg: f64,
}

/// Impact-prediction quality for one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImpactScore {
    pub object: String,
    pub predictions: usize,
    /// Miss distance at the checkpoint (km): of the most confident prediction (smallest 95 %
    /// ellipse) made within 10 s after it by a track then on the object.
    pub miss_at_checkpoint_km: Option<f64>,
    /// Miss distance of the last prediction (km).
    pub final_miss_km: Option<f64>,
    /// Fraction of predictions whose 95 % ellipse contains the true impact point.
    pub coverage95: f64,
    /// Whether the 95 % ellipse at the checkpoint contains the true impact point.
    pub covered_at_checkpoint: Option<bool>,
    /// Squared Mahalanobis distance of the true impact point from that prediction under its
    /// east-north covariance: 2 on average when the ellipses are calibrated.
    pub d2_at_checkpoint: Option<f64>,
}

/// Scores impact predictions. Each track is attributed to the truth object it was nearest to
/// in the majority of its records (within `assoc_m`), so a track that briefly passes close to
/// another object keeps its identity.
pub fn score_impacts(
    truth: &[StateRow],
    records: &[ImpactRecord],
    impacts: &HashMap<String, TrueImpact>,
    checkpoints: &HashMap<String, f64>,
    assoc_m: f64,
) -> Vec<ImpactScore> {
    let key = |t: f64| (t * 1000.0).round() as i64;
    let mut at: HashMap<i64, Vec<&StateRow>> = HashMap::new();
    for r in truth {
        at.entry(key(r.t)).or_default().push(r);
    }
    let mut times: Vec<i64> = at.keys().copied().collect();
    times.sort_unstable();
    let nearest = |rec: &ImpactRecord| -> Option<String> {
        let k = key(rec.t);
        let i = times.partition_point(|&x| x <= k);
        let tk = *times.get(i.checked_sub(1)?)?;
        let dt = rec.t - tk as f64 / 1000.0;
        let mut best: Option<(&str, f64)> = None;
        for r in &at[&tk] {
            let p = [
                r.state[0] + r.state[3] * dt,
                r.state[1] + r.state[4] * dt,
                r.state[2] + r.state[5] * dt,
            ];
            let d = ((p[0] - rec.position[0]).powi(2)
                + (p[1] - rec.position[1]).powi(2)
                + (p[2] - rec.position[2]).powi(2))
            .sqrt();
            if d < assoc_m && best.is_none_or(|b| d < b.1) {
                best = Some((r.id.as_str(), d));
            }
        }
        best.map(|b| b.0.to_owned())
    };
    let mut votes: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    let mut instant: Vec<Option<String>> = Vec::with_capacity(records.len());
    for rec in records {
        let o = nearest(rec);
        if let Some(o) = &o {
            *votes
                .entry(rec.track_id.as_str())
                .or_default()
                .entry(o.clone())
                .or_default() += 1;
        }
        instant.push(o);
    }
    let owner: HashMap<&str, String> = votes
        .into_iter()
        .filter_map(|(t, v)| {
            v.into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|(o, _)| (t, o))
        })
        .collect();
    // At each object's checkpoint, what the node would present: among predictions made within
    // 10 s after it by tracks then nearest the object or attributed to it, the most confident
    // one (smallest 95 % ellipse). A confident
    // wrong prediction is caught by both the miss and the coverage.
    let ellipse_area = |rec: &ImpactRecord| {
        let [e, en, n] = rec.cov_en_m2;
        (e * n - en * en).max(0.0).sqrt()
    };
    let mut at_checkpoint: HashMap<String, (f64, &ImpactRecord)> = HashMap::new();
    for (rec, inst) in records.iter().zip(&instant) {
        let mut objs: Vec<&String> = inst.iter().collect();
        if let Some(o) = owner.get(rec.track_id.as_str()) {
            if !objs.contains(&o) {
                objs.push(o);
            }
        }
        let area = ellipse_area(rec);
        for obj in objs {
            let Some(&cp) = checkpoints.get(obj) else {
                continue;
            };
            if rec.t < cp || rec.t > cp + 10.0 {
                continue;
            }
            let e = at_checkpoint.entry(obj.clone()).or_insert((area, rec));
            if area < e.0 || (area == e.0 && rec.t < e.1.t) {
                *e = (area, rec);
            }
        }
    }
    // Miss (km) and the truth's squared Mahalanobis distance under the prediction's ellipse.
    let miss = |rec: &ImpactRecord, truth_hit: &TrueImpact| -> Option<(f64, Option<f64>)> {
        let pred = Geodetic::from_deg(rec.lat_deg, rec.lon_deg, 0.0).ok()?;
        let hit = Geodetic::from_deg(truth_hit.lat_deg, truth_hit.lon_deg, 0.0).ok()?;
        let line = ground_line(&pred, &hit);
        let (s, c) = line.azimuth1_deg.to_radians().sin_cos();
        let d2 = Ellipse::mahalanobis2(rec.cov_en_m2, line.distance_m * s, line.distance_m * c);
        Some((line.distance_m / 1e3, d2))
    };
    let inside = |d2: Option<f64>| d2.is_some_and(|d2| d2 <= CHI2_2_95);
    // Per object: (time, miss km, inside, track) of every attributed prediction.
    let mut per: BTreeMap<String, Vec<(f64, f64, bool, &str)>> = BTreeMap::new();
    for rec in records {
        let Some(obj) = owner.get(rec.track_id.as_str()) else {
            continue;
        };
        let Some(truth_hit) = impacts.get(obj) else {
            continue;
        };
        let Some((km, d2)) = miss(rec, truth_hit) else {
            continue;
        };
        per.entry(obj.clone())
            .or_default()
            .push((rec.t, km, inside(d2), rec.track_id.as_str()));
    }
    per.into_iter()
        .map(|(object, mut v)| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let cp = at_checkpoint
                .get(&object)
                .and_then(|(_, rec)| impacts.get(&object).and_then(|h| miss(rec, h)));
            ImpactScore {
                predictions: v.len(),
                miss_at_checkpoint_km: cp.map(|x| x.0),
                final_miss_km: v.last().map(|x| x.1),
                coverage95: v.iter().filter(|x| x.2).count() as f64 / v.len().max(1) as f64,
                covered_at_checkpoint: cp.map(|x| inside(x.1)),
                d2_at_checkpoint: cp.and_then(|x| x.1),
                object,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One object at a fixed ECEF point from t = 0 to 100 s, falling at (38°N, 135°E); the
    /// checkpoint at t = 50 s.
    fn setup() -> (
        Vec<StateRow>,
        HashMap<String, TrueImpact>,
        HashMap<String, f64>,
    ) {
        let p = Geodetic::from_deg(38.0, 134.0, 500e3)
            .expect("valid")
            .to_ecef_m();
        let truth = (0..=100)
            .map(|t| StateRow {
                t: t as f64,
                id: "w".into(),
                state: [p[0], p[1], p[2], 0.0, 0.0, 0.0],
            })
            .collect();
        let impacts = HashMap::from([(
            "w".to_owned(),
            TrueImpact {
                lat_deg: 38.0,
                lon_deg: 135.0,
            },
        )]);
        (truth, impacts, HashMap::from([("w".to_owned(), 50.0)]))
    }

    /// A prediction by `track` at `t`, `dn_km` north of the true impact, with a round
    /// ellipse of `sigma_km`.
    fn record(track: &str, t: f64, dn_km: f64, sigma_km: f64) -> ImpactRecord {
        let p = Geodetic::from_deg(38.0, 134.0, 500e3)
            .expect("valid")
            .to_ecef_m();
        let s2 = (sigma_km * 1e3).powi(2);
        ImpactRecord {
            t,
            track_id: track.into(),
            position: p,
            lat_deg: 38.0 + dn_km / 111.0,
            lon_deg: 135.0,
            cov_en_m2: [s2, 0.0, s2],
        }
    }

    #[test]
    fn the_checkpoint_takes_the_most_confident_prediction_on_the_object() {
        let (truth, impacts, cps) = setup();
        // An old track re-acquired with a 200 km ellipse and a fresh precise one: the node
        // would present the precise one.
        let recs = vec![
            record("old", 10.0, 150.0, 100.0),
            record("old", 52.0, 150.0, 100.0),
            record("new", 53.0, 1.0, 1.0),
        ];
        let s = score_impacts(&truth, &recs, &impacts, &cps, 20_000.0);
        let m = s[0].miss_at_checkpoint_km.expect("scored");
        assert!((m - 1.0).abs() < 0.05, "miss {m}");
        assert_eq!(s[0].covered_at_checkpoint, Some(true));
        // Outside the 10 s window nothing counts.
        let late = vec![record("new", 61.0, 1.0, 1.0)];
        let s = score_impacts(&truth, &late, &impacts, &cps, 20_000.0);
        assert_eq!(s[0].miss_at_checkpoint_km, None);
    }

    #[test]
    fn a_confident_wrong_prediction_is_scored_as_a_miss_outside_its_ellipse() {
        let (truth, impacts, cps) = setup();
        let recs = vec![record("a", 51.0, 2.0, 5.0), record("b", 52.0, 50.0, 1.0)];
        let s = score_impacts(&truth, &recs, &impacts, &cps, 20_000.0);
        let m = s[0].miss_at_checkpoint_km.expect("scored");
        assert!((m - 50.0).abs() < 0.5, "miss {m}");
        assert_eq!(s[0].covered_at_checkpoint, Some(false));
    }
}

#[cfg(test)]
mod gospa_grid_tests {
    use super::*;

    fn row(t: f64, id: &str, x: f64) -> StateRow {
        StateRow {
            t,
            id: id.into(),
            state: [x, 0.0, 0.0, 100.0, 0.0, 0.0],
        }
    }

    /// At another object's first instant (between this one's rows), an object alive then still
    /// counts: here it is missed at that step.
    #[test]
    fn an_object_between_its_rows_counts_at_another_objects_first_instant() {
        let truth = vec![
            row(0.0, "a", 0.0),
            row(1.0, "a", 100.0),
            row(2.0, "a", 200.0),
            row(1.5, "b", 50_000.0),
            row(2.0, "b", 50_100.0),
        ];
        // One track on b from 1.5 s on: at 1.5 s, a is missed (and at every step before).
        let tracks = vec![row(1.5, "t", 50_000.0), row(2.0, "t", 50_100.0)];
        let g = score_gospa(&truth, &tracks, 10_000.0);
        assert_eq!(g.steps, 4);
        // Missed: a at 0, 1, 1.5, 2 → 4 × 5 km over 4 steps.
        assert!((g.mean_missed_m - 5_000.0).abs() < 1e-6, "{g:?}");
    }
}
