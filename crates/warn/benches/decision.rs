//! Warning decision latency with all regions (47 prefectures, 17 provinces, the configured
//! areas; three authorities), per track update carrying a fresh forecast, and the cost of the
//! forecast itself (Monte Carlo futures through the full physics).
//!
//! `cargo bench -p tripoint-warn --bench decision` prints p50/p99/max; without `--bench` (as
//! `cargo test --benches` runs it) it does a short smoke pass.

use std::time::Instant;

use nalgebra::SMatrix;
use tripoint_physics::Geodetic;
use tripoint_track::products::Classification;
use tripoint_track::state::{GaussianState, StateVector};
use tripoint_warn::config::WarnConfig;
use tripoint_warn::engine::{Engine, TrackUpdate};
use tripoint_warn::forecast::Forecaster;
use tripoint_warn::region::{RegionKind, RegionSet};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p / 100.0) * (v.len() - 1) as f64).round() as usize]
}

/// An IRBM-like track over the Sea of Japan after burnout, heading for northern Japan.
fn state(t_s: f64) -> GaussianState {
    let g = Geodetic::from_deg(40.9, 131.0, 300e3).expect("geodetic");
    let r = g.to_ecef_m();
    let (e, n, u) = (g.east_ecef(), g.north_ecef(), g.up_ecef());
    let v: Vec<f64> = (0..3)
        .map(|i| 4200.0 * e[i] + 400.0 * n[i] + 1500.0 * u[i])
        .collect();
    let mut x = StateVector::zeros();
    for i in 0..3 {
        x[i] = r[i];
        x[3 + i] = v[i];
    }
    x[9] = 0.2;
    let mut p = SMatrix::<f64, 10, 10>::zeros();
    for i in 0..3 {
        p[(i, i)] = 300.0f64.powi(2);
        p[(3 + i, 3 + i)] = 15.0f64.powi(2);
        p[(6 + i, 6 + i)] = 1.0;
    }
    p[(9, 9)] = 0.01;
    GaussianState { x, p, t_s }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let regions = RegionSet::builtin().expect("regions");
    let cfg = WarnConfig::default_for(&regions).expect("config");
    let watched: Vec<usize> = (0..regions.len())
        .filter(|&r| regions.get(r).kind == RegionKind::Area)
        .collect();
    let fc = Forecaster {
        cfg: cfg.forecast.clone(),
        regions: &regions,
        watched_areas: watched,
    };
    let n = if full { 400 } else { 5 };
    let mut forecast_s = Vec::new();
    let mut decision_s = Vec::new();
    let mut engines: Vec<Engine> = cfg
        .authorities
        .iter()
        .enumerate()
        .map(|(i, a)| Engine::new(i, a.clone(), cfg.event.clone(), &cfg.forecast, &regions))
        .collect();
    let mut notices = 0usize;
    for k in 0..n {
        let s = state(4.0 * k as f64);
        let t = Instant::now();
        let f = fc.forecast(1, &s).expect("forecast");
        forecast_s.push(t.elapsed().as_secs_f64());
        let u = TrackUpdate {
            track_id: 1,
            t_s: s.t_s,
            position_ecef_m: s.position(),
            velocity_ecef_m_s: s.velocity(),
            measured: true,
            hits: 100,
            boost_probability: 0.0,
            classification: Classification::Ballistic,
            forecast: Some(&f),
        };
        let t = Instant::now();
        for e in engines.iter_mut() {
            notices += e.update(&u, &regions).len();
        }
        decision_s.push(t.elapsed().as_secs_f64());
        if k == 0 {
            let top: Vec<String> = f
                .regions
                .iter()
                .map(|(r, o)| format!("{}:{}/{}", regions.get(*r).id, o.threat, f.samples))
                .collect();
            println!("forecast regions: {}", top.join(" "));
        }
    }
    println!(
        "decision (3 authorities, {} regions) per update with a forecast: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} updates, {} notices)",
        regions.len(),
        pct(&mut decision_s.clone(), 50.0) * 1e6,
        pct(&mut decision_s.clone(), 99.0) * 1e6,
        decision_s.iter().copied().fold(0.0, f64::max) * 1e6,
        n,
        notices
    );
    println!(
        "forecast ({} samples, full physics to impact): p50 {:.2} ms, p99 {:.2} ms",
        cfg.forecast.samples,
        pct(&mut forecast_s.clone(), 50.0) * 1e3,
        pct(&mut forecast_s.clone(), 99.0) * 1e3
    );
    let mut total: Vec<f64> = forecast_s
        .iter()
        .zip(&decision_s)
        .map(|(a, b)| a + b)
        .collect();
    println!(
        "forecast + decision per forecast update: p99 {:.2} ms (target for the decision: 2 ms)",
        pct(&mut total, 99.0) * 1e3
    );
}
