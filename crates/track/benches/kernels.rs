//! The tracker's per-track kernels (criterion): an IMM prediction over 1 s and over 5 s of a
//! mid-course state, an IMM update with one radar detection (both also with the boost model
//! retired, as after burnout), the gating step (predicted measurement and one innovation), and
//! a debris cloud's per-pair work: a PDA update over 200 detections and 200 gate tests, and the
//! association of a scan at a breakup's first instant (130 tracks each gating the same 210
//! detections: the hybrid split and the JPDA weights of its one dense cluster). These set the
//! cost of every detection in a dense scan. And a track's full products, which a track with
//! nothing to linearise them from waits for.
//!
//! `cargo bench -p tripoint-track --bench kernels`

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tripoint_core::{Nation, SensorId};
use tripoint_physics::Geodetic;
use tripoint_track::filter::predicted_measurement;
use tripoint_track::imm::{ImmConfig, ImmState};
use tripoint_track::state::{Covariance, StateVector};
use tripoint_track::{GaussianState, LocalFrame, Observation, ObservationKind};

/// A converged mid-course track 400 km up over the Sea of Japan (tens of metres, m/s).
fn midcourse() -> ImmState {
    let p = Geodetic::from_deg(39.5, 134.0, 400e3)
        .expect("valid position")
        .to_ecef_m();
    let mut x = StateVector::zeros();
    x[0] = p[0];
    x[1] = p[1];
    x[2] = p[2];
    x[3] = 1800.0;
    x[4] = -2600.0;
    x[5] = 700.0;
    x[9] = 1.0;
    let mut cov = Covariance::zeros();
    for i in 0..3 {
        cov[(i, i)] = 40.0 * 40.0;
        cov[(i + 3, i + 3)] = 3.0 * 3.0;
        cov[(i, i + 3)] = 40.0 * 3.0 * 0.5;
        cov[(i + 3, i)] = 40.0 * 3.0 * 0.5;
        cov[(i + 6, i + 6)] = 0.5;
    }
    cov[(9, 9)] = 0.01;
    ImmState::new(
        GaussianState {
            x,
            p: cov,
            t_s: 0.0,
        },
        [1e-4, 0.9, 0.0999],
    )
}

fn radar(t_s: f64, target: &StateVector) -> Observation {
    let site = Geodetic::from_deg(40.85, 140.3, 50.0)
        .expect("valid site")
        .to_ecef_m();
    let mut o = Observation {
        t_s,
        sensor: SensorId::new("jpn-bench").expect("valid id"),
        owner: Nation::JPN,
        kind: ObservationKind::Radar { range_rate: true },
        z: [0.0; 4],
        sigma: [30.0, 5e-4, 5e-4, 2.0],
        frame: LocalFrame::at(site).expect("valid frame"),
    };
    o.z = o.predict(target);
    o
}

fn bench(c: &mut Criterion) {
    let cfg = ImmConfig::default();
    let s = midcourse();
    c.bench_function("imm predict 1 s", |b| {
        b.iter(|| black_box(&s).predict(&cfg, black_box(1.0)))
    });
    // 256 different tracks one after the other, as in a batch (their states out of cache).
    let many: Vec<ImmState> = (0..256)
        .map(|k| {
            let mut m = s.clone();
            for st in m.states.iter_mut() {
                st.x[0] += 1_000.0 * k as f64;
            }
            m
        })
        .collect();
    c.bench_function("imm predict 1 s, 256 tracks (per track)", |b| {
        b.iter_custom(|iters| {
            let t0 = std::time::Instant::now();
            for _ in 0..iters {
                for m in &many {
                    black_box(black_box(m).predict(&cfg, black_box(1.0)));
                }
            }
            t0.elapsed() / 256
        })
    });
    // A track's full products (the mean's flight to the ground with its apogee and ground
    // track, and the 14 sigma points' flights, together over the thread pool): what a track
    // with no reference to linearise from waits for.
    let e = s.combined();
    c.bench_function("products, full (15 flights to the ground)", |b| {
        b.iter(|| tripoint_track::products::products_with_linearisation(black_box(&e), 0.0, None))
    });
    c.bench_function("imm predict 5 s", |b| {
        b.iter(|| black_box(&s).predict(&cfg, black_box(5.0)))
    });
    let pred = s.predict(&cfg, 1.0);
    let obs = radar(1.0, &pred.combined().x);
    c.bench_function("imm update radar", |b| {
        b.iter(|| black_box(&pred).update(&cfg, black_box(&obs)))
    });
    // After burnout the variable-structure IMM runs without the boost model.
    let mut r = s.clone();
    r.boost_retired = true;
    r.mu = [0.0, 0.9, 0.1];
    c.bench_function("imm predict 5 s, boost retired", |b| {
        b.iter(|| black_box(&r).predict(&cfg, black_box(5.0)))
    });
    let pred_r = r.predict(&cfg, 1.0);
    c.bench_function("imm update radar, boost retired", |b| {
        b.iter(|| black_box(&pred_r).update(&cfg, black_box(&obs)))
    });
    // A fragment re-entering at 70 km: the unpowered models evaluate the atmosphere.
    let mut low = r.clone();
    let p = Geodetic::from_deg(39.5, 134.0, 70e3)
        .expect("valid position")
        .to_ecef_m();
    for st in low.states.iter_mut() {
        st.x[0] = p[0];
        st.x[1] = p[1];
        st.x[2] = p[2];
    }
    c.bench_function("imm predict 1 s, boost retired, re-entry at 70 km", |b| {
        b.iter(|| black_box(&low).predict(&cfg, black_box(1.0)))
    });
    // A debris cloud: one track weighing 200 detections of one radar scan (JPDA), spread over
    // 200 m around it, every one inside its gate (checked), with equal weights: the flat
    // weights of the breakup instant.
    let centre = pred.combined().x;
    let cloud: Vec<Observation> = (0..200)
        .map(|k| {
            let mut x = centre;
            let a = k as f64 * 2.399_963;
            x[0] += 200.0 * (k as f64 / 200.0).sqrt() * a.cos();
            x[1] += 200.0 * (k as f64 / 200.0).sqrt() * a.sin();
            x[2] += 20.0 * ((k % 7) as f64 - 3.0);
            radar(1.0, &x)
        })
        .collect();
    let gate = tripoint_track::TrackerConfig::default().gate_d2[4];
    let pm = predicted_measurement(cfg.filter, &pred.combined(), &obs).expect("a valid geometry");
    assert!(
        cloud.iter().all(|o| pm.innovation(o).d2 <= gate),
        "the cloud lies inside the track's gate"
    );
    let weighted: Vec<(&Observation, f64)> = cloud.iter().map(|o| (o, 0.9 / 200.0)).collect();
    let params = tripoint_track::associate::JpdaParams::default();
    c.bench_function("imm update PDA, 200 detections", |b| {
        b.iter(|| black_box(&pred).update_pda(&cfg, black_box(&weighted), 0.1, &params))
    });
    c.bench_function(
        "gate: 200 innovations against one predicted measurement",
        |b| {
            b.iter(|| {
                cloud
                    .iter()
                    .map(|o| black_box(&pm).innovation(o).d2)
                    .sum::<f64>()
            })
        },
    );
    // The breakup instant's association: 130 young tracks, each gating all of 210 detections
    // (27 300 pairs, as at t 260.45 s on `breakup`), in the tracker's order (by track, then
    // detection), d² spread over the gate.
    let (n_tracks, n_dets) = (130usize, 210usize);
    let hyps: Vec<tripoint_track::associate::Hypothesis> = (0..n_tracks)
        .flat_map(|t| {
            (0..n_dets).map(move |d| tripoint_track::associate::Hypothesis {
                track: t,
                detection: d,
                innovation: tripoint_track::filter::Innovation {
                    d2: ((t * 31 + d * 17) % 97) as f64 / 97.0 * gate,
                    log_det_s: 12.0 + (t % 7) as f64 * 0.1,
                    dim: 4,
                },
            })
        })
        .collect();
    c.bench_function(
        "associate: breakup instant, 130 tracks x 210 detections (split + JPDA)",
        |b| {
            b.iter(|| {
                let (sparse, dense) = tripoint_track::associate::split_by_cluster_size(
                    black_box(&hyps),
                    n_tracks,
                    n_dets,
                    tripoint_track::associate::MAX_EXACT_TRACKS,
                );
                assert!(sparse.is_empty() && dense.len() == 1, "one dense cluster");
                tripoint_track::associate::jpda_weights_of_clusters(dense, n_dets, &params)
            })
        },
    );
    // 256 exponentials of a PDA's log-likelihood terms (below their largest, over a gate).
    let xs: Vec<f64> = (0..256).map(|i| -(i as f64) * 0.07).collect();
    c.bench_function("exp: 256, f64::exp (glibc)", |b| {
        b.iter(|| {
            let mut v = black_box(&xs).clone();
            for x in &mut v {
                *x = x.exp();
            }
            v
        })
    });
    c.bench_function("exp: 256, vexp::exp_in_place", |b| {
        b.iter(|| {
            let mut v = black_box(&xs).clone();
            tripoint_track::vexp::exp_in_place(&mut v);
            v
        })
    });
    c.bench_function("gate: combined, predicted measurement, innovation", |b| {
        b.iter(|| {
            let comb = black_box(&pred).combined();
            predicted_measurement(cfg.filter, &comb, &obs).map(|pm| pm.innovation(&obs))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
