//! Tracker scenario benchmark (prints figures; `cargo bench -p tripoint-track --bench tracker`).
//!
//! - throughput: measurements per second through the whole tracker (prediction, gating, GNN,
//!   IMM update, management) on `irbm-overflight` and `breakup`, without products;
//! - speed against real time on `breakup` (≥ 200 objects plus clutter), with products;
//! - latency, counted only while ≥ 100 tracks are live: per detection, from its batch entering
//!   the tracker to its track updated, and to its track's products where they were due.
//!
//! Under `cargo test` (no `--bench` argument) it runs a short smoke version.

use std::collections::HashMap;
use std::time::Instant;

use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::run;
use tripoint_track::feed::batches;
use tripoint_track::products::ProductSchedule;
use tripoint_track::tracker::Association;
use tripoint_track::{MultiTargetTracker, Observation, TrackerConfig};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).expect("readable")).expect("valid")
}

fn observations(s: &Scenario, limit_s: f64) -> Vec<Vec<Observation>> {
    let r = run(s, &mut |_| {}).expect("runs");
    let owners: HashMap<_, _> = s.sensors.iter().map(|x| (x.id.clone(), x.owner)).collect();
    let (b, _) = batches(&r.detections, &owners, s.start);
    b.into_iter().filter(|b| b[0].t_s <= limit_s).collect()
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let limit = if full { f64::INFINITY } else { 200.0 };

    for name in ["irbm-overflight", "breakup"] {
        let s = load(name);
        let obs = observations(&s, limit);
        let n: usize = obs.iter().map(Vec::len).sum();
        for association in [Association::Gnn, Association::Jpda] {
            let mut tracker = MultiTargetTracker::new(TrackerConfig {
                association,
                ..TrackerConfig::default()
            });
            let t0 = Instant::now();
            for b in &obs {
                tracker.process_batch(b);
            }
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "{name} ({association:?}): {n} measurements in {secs:.3} s = {:.0} measurements/s (no products)",
                n as f64 / secs
            );
        }
    }

    // Breakup with products (as `tripoint track` computes them: every 2 s per track, from a
    // converged velocity), latency while ≥ 100 tracks are live; both associations.
    let s = load("breakup");
    let obs = observations(&s, limit);
    let span = obs.last().map_or(0.0, |b| b[0].t_s) - obs.first().map_or(0.0, |b| b[0].t_s);
    for association in [Association::Gnn, Association::Jpda] {
        breakup_with_products(&obs, span, association);
    }
}

fn breakup_with_products(obs: &[Vec<Observation>], span: f64, association: Association) {
    let mut tracker = MultiTargetTracker::new(TrackerConfig {
        association,
        ..TrackerConfig::default()
    });
    let mut schedule = ProductSchedule::new(2.0);
    // Per detection: batch arrival → its track updated (the whole batch is associated at once).
    let mut update_ms = Vec::new();
    // Per detection whose track's products were due: batch arrival → those products computed.
    let mut products_ms = Vec::new();
    let mut product_secs = 0.0;
    let mut n_products = 0usize;
    let mut max_live = 0;
    let t0 = Instant::now();
    for b in obs {
        let start = Instant::now();
        let events = tracker.process_batch(b);
        let updated = start.elapsed().as_secs_f64();
        let live = tracker.tracks().len();
        max_live = max_live.max(live);
        let mut done = Vec::new();
        for ev in events.iter().filter(|e| e.confirmed) {
            let Some(tr) = tracker.tracks().iter().find(|t| t.id == ev.track_id) else {
                continue;
            };
            if !schedule.due(tr.id, &tr.estimate()) {
                continue;
            }
            let p0 = Instant::now();
            std::hint::black_box(tr.products());
            product_secs += p0.elapsed().as_secs_f64();
            n_products += 1;
            done.push(start.elapsed().as_secs_f64());
        }
        if live >= 100 {
            update_ms.extend(std::iter::repeat_n(updated * 1e3, b.len()));
            products_ms.extend(done.iter().map(|s| s * 1e3));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let n: usize = obs.iter().map(Vec::len).sum();
    println!(
        "breakup with products ({:?} association): {n} measurements over {span:.0} s of scenario in {secs:.2} s = {:.1}x real time (max {max_live} live tracks; {n_products} products, {:.3} ms each, {:.1} s in all)",
        tracker.cfg.association,
        span / secs,
        product_secs * 1e3 / n_products.max(1) as f64,
        product_secs
    );
    for (what, v) in [
        ("detection → track updated", &mut update_ms),
        ("detection → products (when due)", &mut products_ms),
    ] {
        if v.is_empty() {
            println!("latency ({association:?}) {what}: never ≥ 100 live tracks in this run");
        } else {
            let k = v.len();
            let p50 = percentile(v, 0.50);
            let p99 = percentile(v, 0.99);
            println!(
                "latency ({association:?}) {what} with ≥ 100 live tracks: p50 {p50:.3} ms, p99 {p99:.3} ms over {k}"
            );
        }
    }
}
