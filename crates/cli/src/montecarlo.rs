//! `tripoint score --monte-carlo N SCENARIO`: N seeded simulations, each tracked and scored;
//! statistics with their spread.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tripoint_core::{Duration, Nation, ObjectKind, SensorId};
use tripoint_sim::world::{run as run_world, summarize_objects, Ending};
use tripoint_track::score::{score_gospa, score_impacts, ImpactScore, StateRow, TrueImpact};
use tripoint_track::TrackerConfig;

use crate::track_cmd::{track_detections, ASSOC_M};

/// One Monte Carlo run's scores: GOSPA, the tracker's rate, and per warhead the impact miss
/// at burnout + 60 s and whether the 95 % ellipse held the truth then.
struct RunOutcome {
    gospa: tripoint_track::score::GospaSummary,
    rate: f64,
    warheads: Vec<ImpactScore>,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// Monte Carlo options beyond the scenario.
pub struct Options {
    pub runs: usize,
    pub c_m: f64,
    /// The first run's seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Spread of ln β of each payload around its nominal (default: the tracker's prior's).
    pub beta_sigma_ln: Option<f64>,
    pub json: bool,
}

pub fn run(path: &Path, o: Options) -> Result<()> {
    let Options {
        runs: n,
        c_m,
        seed,
        beta_sigma_ln,
        json: as_json,
    } = o;
    anyhow::ensure!(n > 0, "--monte-carlo needs at least 1 run");
    let mut base = crate::sim_cmd::load(path)?;
    base.set_payload_beta_sigma_ln(
        beta_sigma_ln.unwrap_or(tripoint_track::state::DRAG_PRIOR_SIGMA_LN),
    )
    .context("--beta-sigma-ln")?;
    if let Some(seed) = seed {
        base.seed = seed;
    }
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("monte carlo [{bar:30}] {pos}/{len} runs {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let owners: HashMap<SensorId, Nation> = base
        .sensors
        .iter()
        .map(|s| (s.id.clone(), s.owner))
        .collect();
    let start_unix = base.start.to_unix_seconds();
    // The runs are independent: over the thread pool, aggregated in run order (the same
    // statistics as one after the other). Each run's tracker rate is measured while the other
    // runs share the machine.
    // `TRIPOINT_MC_DEBUG`: each run's scores and flown payload β on stderr.
    let debug = std::env::var_os("TRIPOINT_MC_DEBUG").is_some();
    let one = |i: usize| -> Result<RunOutcome> {
        let mut s = base.clone();
        s.seed = base.seed.wrapping_add(i as u64 * 7919);
        let r =
            run_world(&s, &mut |_| {}).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let truth: Vec<StateRow> = r
            .truth_rows(s.truth_interval_s)
            .into_iter()
            .map(|row| StateRow {
                t: start_unix + row.t_s,
                id: row.id.to_string(),
                state: [
                    row.state[0],
                    row.state[1],
                    row.state[2],
                    row.state[3],
                    row.state[4],
                    row.state[5],
                ],
            })
            .collect();
        let mut impacts = HashMap::new();
        let mut checkpoints = HashMap::new();
        for o in summarize_objects(&s, &r) {
            if let Ending::Impact { impact } = &o.ending {
                impacts.insert(
                    o.id.clone(),
                    TrueImpact {
                        lat_deg: impact.lat_deg,
                        lon_deg: impact.lon_deg,
                    },
                );
            }
            if o.kind == ObjectKind::Warhead {
                if let Some((l, p)) = s
                    .launches
                    .iter()
                    .zip(&r.solutions)
                    .find(|(l, _)| l.id.as_str() == o.launch_id)
                    .map(|(l, (_, p))| (l, p))
                {
                    let t =
                        s.start + Duration::from_seconds(l.t_launch_s + p.burnout_time_s + 60.0);
                    checkpoints.insert(o.id.clone(), t.to_unix_seconds());
                }
            }
        }
        let mut rows: Vec<StateRow> = Vec::new();
        let run = track_detections(
            &r.detections,
            &owners,
            TrackerConfig::default(),
            5.0,
            &mut std::io::sink(),
            &mut |row, _| {
                rows.push(row);
                Ok(())
            },
            None,
        )?;
        let rate = run.observations as f64 / run.seconds.max(1e-9);
        let gospa = score_gospa(&truth, &rows, c_m);
        if debug {
            eprintln!(
                "run {i} seed {}: GOSPA {:.1} m (localisation {:.1}, missed {:.1}, false {:.1})",
                s.seed,
                gospa.mean_total_m,
                gospa.mean_localisation_m,
                gospa.mean_missed_m,
                gospa.mean_false_m
            );
        }
        let mut warheads = Vec::new();
        for sc in score_impacts(&truth, &run.impacts, &impacts, &checkpoints, ASSOC_M) {
            if !checkpoints.contains_key(&sc.object) {
                continue;
            }
            if debug {
                eprintln!("run {i} seed {}: {sc:?}", s.seed);
            }
            warheads.push(sc);
        }
        if debug {
            for l in &s.launches {
                let flown = tripoint_sim::world::flown_vehicle(&s, l).payload_beta_kg_m2;
                eprintln!(
                    "run {i} seed {}: {} flies payload beta {flown:.0} kg/m2 (nominal {:.0}, ln ratio {:+.2})",
                    s.seed,
                    l.id,
                    l.vehicle.payload_beta_kg_m2,
                    (flown / l.vehicle.payload_beta_kg_m2).ln()
                );
            }
        }
        bar.inc(1);
        Ok(RunOutcome {
            gospa,
            rate,
            warheads,
        })
    };
    let outcomes: Vec<RunOutcome> = {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(one).collect::<Result<_>>()?
    };
    let mut gospa_total = Vec::new();
    let mut gospa_loc = Vec::new();
    let mut gospa_missed = Vec::new();
    let mut gospa_false = Vec::new();
    let mut rmse = Vec::new();
    let mut miss_cp: HashMap<String, Vec<f64>> = HashMap::new();
    let mut covered_cp: HashMap<String, (usize, usize)> = HashMap::new();
    let mut d2_cp: HashMap<String, Vec<f64>> = HashMap::new();
    let mut rates = Vec::new();
    for o in outcomes {
        let g = o.gospa;
        rates.push(o.rate);
        gospa_total.push(g.mean_total_m);
        gospa_loc.push(g.mean_localisation_m);
        gospa_missed.push(g.mean_missed_m);
        gospa_false.push(g.mean_false_m);
        if g.position_rmse_m.is_finite() {
            rmse.push(g.position_rmse_m);
        }
        for sc in o.warheads {
            let object = sc.object;
            if let Some(d2) = sc.d2_at_checkpoint {
                d2_cp.entry(object.clone()).or_default().push(d2);
            }
            if let Some(m) = sc.miss_at_checkpoint_km {
                miss_cp.entry(object.clone()).or_default().push(m);
            }
            if let Some(c) = sc.covered_at_checkpoint {
                let e = covered_cp.entry(object).or_default();
                e.0 += usize::from(c);
                e.1 += 1;
            }
        }
    }
    bar.finish_and_clear();
    let (gt, gts) = mean_sd(&gospa_total);
    let (gl, gls) = mean_sd(&gospa_loc);
    let (gm, gms) = mean_sd(&gospa_missed);
    let (gf, gfs) = mean_sd(&gospa_false);
    let (rm, rms) = mean_sd(&rmse);
    let (rate, rate_sd) = mean_sd(&rates);
    let mut objects: Vec<_> = miss_cp.keys().chain(covered_cp.keys()).cloned().collect();
    objects.sort();
    objects.dedup();
    let per_object: Vec<_> = objects
        .iter()
        .map(|o| {
            let m = miss_cp.get(o).cloned().unwrap_or_default();
            let (mm, ms) = mean_sd(&m);
            let (inside, total) = covered_cp.get(o).copied().unwrap_or((0, 0));
            let mut sorted = m.clone();
            sorted.sort_by(f64::total_cmp);
            let q = |p: f64| sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied();
            let (p50, p90, p95) = (q(0.5), q(0.9), q(0.95));
            let over_10_km = sorted.iter().filter(|&&m| m > 10.0).count();
            // The truth's squared Mahalanobis distance under the 95 % ellipse's covariance:
            // χ²(2) when calibrated, median 2·ln 2 = 1.39; below, the ellipses are too wide.
            let mut d2 = d2_cp.get(o).cloned().unwrap_or_default();
            d2.sort_by(f64::total_cmp);
            let d2_median = d2.get(d2.len() / 2).copied();
            json!({
                "object": o, "runs_with_prediction": m.len(),
                "miss_at_burnout_plus_60s_km": {"mean": mm, "sd": ms, "median": p50, "p90": p90, "p95": p95, "max": sorted.last(), "runs_over_10_km": over_10_km},
                "ellipse95_coverage": if total > 0 { inside as f64 / total as f64 } else { f64::NAN },
                "coverage_runs": total,
                "d2_at_checkpoint_median": d2_median,
            })
        })
        .collect();
    let out = json!({
        "scenario": base.name, "runs": n, "cutoff_m": c_m,
        "gospa_m": {"total": [gt, gts], "localisation": [gl, gls], "missed": [gm, gms], "false": [gf, gfs]},
        "position_rmse_m": [rm, rms],
        "measurements_per_second": [rate, rate_sd],
        "warheads": per_object,
    });
    if as_json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} — {} Monte Carlo runs (mean ± sd)", base.name, n);
        println!("  GOSPA (c={c_m:.0} m): total {gt:.1} ± {gts:.1} m = localisation {gl:.1} ± {gls:.1} + missed {gm:.1} ± {gms:.1} + false {gf:.1} ± {gfs:.1}");
        println!(
            "  position RMSE {rm:.1} ± {rms:.1} m; tracker {rate:.0} ± {rate_sd:.0} measurements/s"
        );
        for p in &per_object {
            println!(
                "  {}: impact miss at burnout+60 s median {:.2} km, mean {:.2} ± {:.2} km, p90 {:.2}, p95 {:.2}, over 10 km in {} runs; 95% ellipse contains the truth in {:.1}% of {} runs (median d² {:.2}; 1.39 if calibrated)",
                p["object"].as_str().unwrap_or("?"),
                p["miss_at_burnout_plus_60s_km"]["median"].as_f64().unwrap_or(f64::NAN),
                p["miss_at_burnout_plus_60s_km"]["mean"].as_f64().unwrap_or(f64::NAN),
                p["miss_at_burnout_plus_60s_km"]["sd"].as_f64().unwrap_or(f64::NAN),
                p["miss_at_burnout_plus_60s_km"]["p90"].as_f64().unwrap_or(f64::NAN),
                p["miss_at_burnout_plus_60s_km"]["p95"].as_f64().unwrap_or(f64::NAN),
                p["miss_at_burnout_plus_60s_km"]["runs_over_10_km"],
                100.0 * p["ellipse95_coverage"].as_f64().unwrap_or(f64::NAN),
                p["coverage_runs"],
                p["d2_at_checkpoint_median"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
