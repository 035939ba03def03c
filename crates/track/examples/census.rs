//! Track census of a scenario: per batch, live and confirmed tracks and the time taken; at the
//! first batch after T+400 s (scenario time), each confirmed track's distance to the nearest
//! true object, tracks per object and contributors per track.
//!
//! `ASSOC=hybrid|gnn|jpda cargo run --release -p tripoint-track --example census [-- SCENARIO]`
//! (default `breakup`).

use std::collections::HashMap;
use std::time::Instant;
use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::run;
use tripoint_track::feed::batches;
use tripoint_track::{MultiTargetTracker, TrackerConfig};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "breakup".into());
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::from_toml(&std::fs::read_to_string(path).expect("readable scenario"))
        .expect("valid scenario");
    let r = run(&s, &mut |_| {}).expect("simulates");
    let owners: HashMap<_, _> = s.sensors.iter().map(|x| (x.id.clone(), x.owner)).collect();
    let (obs, _) = batches(&r.detections, &owners, s.start);
    let assoc = match std::env::var("ASSOC").as_deref() {
        Ok("jpda") => tripoint_track::tracker::Association::Jpda,
        Ok("hybrid") => tripoint_track::tracker::Association::Hybrid,
        _ => tripoint_track::tracker::Association::Gnn,
    };
    let mut tr = MultiTargetTracker::new(TrackerConfig {
        association: assoc,
        ..TrackerConfig::default()
    });
    let mut rows = Vec::new();
    let mut done = false;
    for b in &obs {
        let t0 = Instant::now();
        tr.process_batch(b);
        let dt = t0.elapsed().as_secs_f64() * 1e3;
        let conf = tr.tracks().iter().filter(|t| t.is_confirmed()).count();
        rows.push((b[0].t_s, b.len(), tr.tracks().len(), conf, dt));
        if !done && b[0].t_s > 400.0 {
            done = true;
            let mut per = vec![0usize; r.objects.len()];
            let mut dists = Vec::new();
            let mut sig = Vec::new();
            for t in tr.tracks().iter().filter(|t| t.is_confirmed()) {
                let e = t.estimate();
                let mut best = (f64::INFINITY, 0);
                for (k, o) in r.objects.iter().enumerate() {
                    if let Some(y) = o.trajectory.state_at(e.t_s) {
                        let d = ((y[0] - e.x[0]).powi(2)
                            + (y[1] - e.x[1]).powi(2)
                            + (y[2] - e.x[2]).powi(2))
                        .sqrt();
                        if d < best.0 {
                            best = (d, k);
                        }
                    }
                }
                per[best.1] += 1;
                dists.push(best.0);
                sig.push(e.position_sigma_m());
            }
            dists.sort_by(f64::total_cmp);
            sig.sort_by(f64::total_cmp);
            let n = dists.len();
            println!("confirmed {n}: nearest-truth dist p10 {:.0} p50 {:.0} p90 {:.0}; sigma p10 {:.0} p50 {:.0} p90 {:.0}", dists[n/10], dists[n/2], dists[9*n/10], sig[n/10], sig[n/2], sig[9*n/10]);
            let mut h = std::collections::BTreeMap::new();
            for c in &per {
                *h.entry(*c).or_insert(0) += 1;
            }
            println!("tracks per object histogram: {h:?}");
            let conts: Vec<usize> = tr
                .tracks()
                .iter()
                .filter(|t| t.is_confirmed())
                .map(|t| t.contributors.len())
                .collect();
            let mut hc = std::collections::BTreeMap::new();
            for c in &conts {
                *hc.entry(*c).or_insert(0) += 1;
            }
            println!("contributors per track: {hc:?}");
        }
    }
    let mut k = 0;
    for r in &rows {
        if r.0 >= k as f64 * 50.0 {
            println!(
                "t {:.0} batch {} live {} confirmed {} ms {:.2}",
                r.0, r.1, r.2, r.3, r.4
            );
            k += 1;
        }
    }
    let big: Vec<_> = rows.iter().filter(|r| r.1 >= 100).collect();
    println!("batches {} big {}; big mean size {:.0}, mean live {:.0}, mean confirmed {:.0}, mean ms {:.2}",
        rows.len(), big.len(),
        big.iter().map(|r| r.1 as f64).sum::<f64>() / big.len() as f64,
        big.iter().map(|r| r.2 as f64).sum::<f64>() / big.len() as f64,
        big.iter().map(|r| r.3 as f64).sum::<f64>() / big.len() as f64,
        big.iter().map(|r| r.4).sum::<f64>() / big.len() as f64);
    let tot: f64 = rows.iter().map(|r| r.4).sum();
    println!("total ms {tot:.0}");
}
