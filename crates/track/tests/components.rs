//! The tracker's components, each against an independent expectation.

use nalgebra::Matrix3;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use tripoint_core::{Nation, SensorId};
use tripoint_physics::dynamics::{ecef_velocity, BallisticDynamics, ForceModel};
use tripoint_physics::integrator::{Dopri5, Tolerances};
use tripoint_physics::Geodetic;
use tripoint_track::associate::{gnn_associate, Hypothesis};
use tripoint_track::filter::{self, FilterKind, Innovation};
use tripoint_track::fusion::{covariance_intersection, fuse, SharedTrack};
use tripoint_track::imm::{ImmConfig, ImmState};
use tripoint_track::measurement::{LocalFrame, Observation, ObservationKind};
use tripoint_track::motion::{numerical_transition, MotionModel};
use tripoint_track::state::{Covariance, GaussianState, StateVector};
use tripoint_track::tracker::TrackEvent;
use tripoint_track::{MultiTargetTracker, TrackerConfig};

fn ballistic_state() -> StateVector {
    let g = Geodetic::from_deg(40.0, 132.0, 300e3).expect("valid");
    let r = g.to_ecef_m();
    let v = ecef_velocity(
        r,
        [
            3000.0 * g.east_ecef()[0] + 1000.0 * g.up_ecef()[0],
            3000.0 * g.east_ecef()[1] + 1000.0 * g.up_ecef()[1],
            3000.0 * g.east_ecef()[2] + 1000.0 * g.up_ecef()[2],
        ],
    );
    let mut x = StateVector::zeros();
    for i in 0..3 {
        x[i] = r[i];
        x[3 + i] = v[i];
    }
    x[9] = 0.2;
    x
}

#[test]
fn transition_matrix_matches_numerical_differentiation() {
    let mut x = ballistic_state();
    for model in [MotionModel::FREE_FLIGHT, MotionModel::BOOST] {
        if model == MotionModel::BOOST {
            x[6] = 20.0;
            x[8] = 5.0;
        }
        let (_, phi) = model.propagate_with_transition(&x, 4.0);
        let num = numerical_transition(&model, &x, 4.0);
        for i in 0..6 {
            for j in 0..9 {
                let scale = num[(i, j)].abs().max(1e-2);
                assert!(
                    (phi[(i, j)] - num[(i, j)]).abs() / scale < 2e-3,
                    "{} Φ[{i},{j}] = {} vs {}",
                    model.name(),
                    phi[(i, j)],
                    num[(i, j)]
                );
            }
        }
    }
}

/// The unpowered models' transition and covariance on [r, v, c] only are the whole-state ones:
/// in the atmosphere (drag couples c) and above it, for free flight and re-entry; and the boost
/// model's Φ P Φᵀ on Φ's structure (identity rows for a and c) is the dense product.
#[test]
fn unpowered_transition_on_seven_states_equals_the_whole_state_one() {
    for h in [40e3, 300e3] {
        let g = Geodetic::from_deg(39.0, 131.0, h).expect("point");
        let mut x = ballistic_state();
        let r = g.to_ecef_m();
        x[0] = r[0];
        x[1] = r[1];
        x[2] = r[2];
        // A random-looking SPD covariance with every block coupled.
        let m = Covariance::from_fn(|i, j| {
            ((i * 7 + j * 3) % 11) as f64 - 5.0 + if i == j { 30.0 } else { 0.0 }
        });
        let p = m * m.transpose();
        for model in [MotionModel::FREE_FLIGHT, MotionModel::REENTRY] {
            let (y, phi) = model.propagate_with_transition(&x, 3.0);
            let (yd, phid) = model.propagate_with_transition_dense(&x, 3.0);
            assert!((y - yd).abs().max() < 1e-6, "{} mean", model.name());
            let scale = phid.abs().max();
            assert!(
                (phi - phid).abs().max() < 1e-12 * scale,
                "{} at {h} m: Φ differs by {}",
                model.name(),
                (phi - phid).abs().max()
            );
            let dense = phid * p * phid.transpose();
            let fast = model.transform_covariance(&phi, &p);
            assert!(
                (fast - dense).abs().max() < 1e-10 * dense.abs().max(),
                "{} at {h} m: Φ P Φᵀ differs by {}",
                model.name(),
                (fast - dense).abs().max()
            );
        }
        // The boost model's structured product against the dense one.
        let mut xb = x;
        xb[6] = 20.0;
        xb[7] = -5.0;
        xb[8] = 12.0;
        let (_, phi) = MotionModel::BOOST.propagate_with_transition(&xb, 3.0);
        let dense = phi * p * phi.transpose();
        let fast = MotionModel::BOOST.transform_covariance(&phi, &p);
        assert!(
            (fast - dense).abs().max() < 1e-10 * dense.abs().max(),
            "boost at {h} m: Φ P Φᵀ differs by {}",
            (fast - dense).abs().max()
        );
    }
}

#[test]
fn free_flight_model_agrees_with_the_simulator_physics() {
    let x = ballistic_state();
    let y = MotionModel::FREE_FLIGHT.propagate(&x, 300.0);
    let mut ig = Dopri5::new(Tolerances::PRECISE);
    let out = ig
        .integrate(
            &BallisticDynamics(ForceModel::VACUUM),
            0.0,
            [x[0], x[1], x[2], x[3], x[4], x[5]],
            300.0,
            |_, _| 1.0,
            |_| {},
        )
        .expect("integrates")
        .y();
    let d = ((y[0] - out[0]).powi(2) + (y[1] - out[1]).powi(2) + (y[2] - out[2]).powi(2)).sqrt();
    assert!(
        d < 1.0,
        "RK4 tracker model drifts {d} m from DOPRI5 over 5 min"
    );
}

/// Simulates a radar watching one ballistic object and runs a filter on it; returns mean NEES
/// of position after convergence.
fn nees_run(kind: FilterKind, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let site = Geodetic::from_deg(38.0, 138.4, 100.0)
        .expect("valid")
        .to_ecef_m();
    let frame = LocalFrame::at(site).expect("frame");
    let truth0 = ballistic_state();
    let sig = [40.0, 0.15f64.to_radians(), 0.15f64.to_radians(), 1.0];
    let noise: Vec<Normal<f64>> = sig
        .iter()
        .map(|s| Normal::new(0.0, *s).expect("sigma"))
        .collect();
    let obs_at = |t: f64, rng: &mut ChaCha8Rng| {
        let x = MotionModel::FREE_FLIGHT.propagate(&truth0, t);
        let o = Observation {
            t_s: t,
            sensor: SensorId::new("r").expect("id"),
            owner: Nation::JPN,
            kind: ObservationKind::Radar { range_rate: false },
            z: [0.0; 4],
            sigma: sig,
            frame,
        };
        let h = o.predict(&x);
        let z = [
            h[0] + noise[0].sample(rng),
            h[1] + noise[1].sample(rng),
            h[2] + noise[2].sample(rng),
            0.0,
        ];
        (Observation { z, ..o }, x)
    };
    let model = MotionModel::FreeFlight {
        q_vel: 1e-6,
        q_drag: 1e-9,
    };
    let mut p = Covariance::zeros();
    for i in 0..3 {
        p[(i, i)] = 1e6;
        p[(3 + i, 3 + i)] = 1e4;
        p[(6 + i, 6 + i)] = 1e-6;
    }
    p[(9, 9)] = 1e-6;
    let mut x0 = truth0;
    for i in 0..3 {
        x0[i] += 1000.0 * Normal::new(0.0, 1.0).expect("unit").sample(&mut rng);
        x0[3 + i] += 100.0 * Normal::new(0.0, 1.0).expect("unit").sample(&mut rng);
    }
    let mut s = GaussianState { x: x0, p, t_s: 0.0 };
    let mut nees = Vec::new();
    for k in 1..=200 {
        let t = k as f64 * 2.0;
        let (o, truth) = obs_at(t, &mut rng);
        let pred = filter::predict(kind, &model, &s, t);
        s = filter::update(kind, &pred, &o).expect("update").0;
        assert!(
            s.is_valid(),
            "covariance lost positive definiteness at step {k}"
        );
        if k > 50 {
            let e = nalgebra::Vector3::new(s.x[0] - truth[0], s.x[1] - truth[1], s.x[2] - truth[2]);
            let pp: Matrix3<f64> = s.p.fixed_view::<3, 3>(0, 0).into();
            nees.push(e.dot(&pp.cholesky().expect("pd").solve(&e)));
        }
    }
    nees.iter().sum::<f64>() / nees.len() as f64
}

#[test]
fn ekf_and_ukf_are_consistent_on_a_ballistic_target() {
    for kind in [FilterKind::Ekf, FilterKind::Ukf] {
        let runs: Vec<f64> = (0..6).map(|s| nees_run(kind, s)).collect();
        let mean = runs.iter().sum::<f64>() / runs.len() as f64;
        // Average position NEES should be near 3 (χ²₃); allow the usual Monte Carlo band.
        assert!(
            (1.5..5.0).contains(&mean),
            "{kind:?}: mean NEES {mean} ({runs:?})"
        );
    }
}

#[test]
fn gnn_finds_the_globally_cheapest_assignment() {
    let h = |track, detection, d2| Hypothesis {
        track,
        detection,
        innovation: Innovation {
            d2,
            log_det_s: 0.0,
            dim: 3,
        },
    };
    // Greedy would give track 0 detection 0 (cost 1) and leave track 1 with detection 1 (9):
    // total 10; the optimum is 0→1 (2) and 1→0 (3): total 5.
    let hyps = [h(0, 0, 1.0), h(0, 1, 2.0), h(1, 0, 3.0), h(1, 1, 9.0)];
    let a = gnn_associate(&hyps, 2, 2, &[0.0, 10.8, 13.8, 16.3, 18.5]);
    assert_eq!(a, vec![Some(1), Some(0)]);
    // A track with nothing in its gate stays unassigned; separate clusters are independent.
    let a = gnn_associate(
        &[h(0, 0, 1.0), h(2, 1, 4.0)],
        3,
        2,
        &[0.0, 10.8, 13.8, 16.3, 18.5],
    );
    assert_eq!(a, vec![Some(0), None, Some(1)]);
}

fn radar_obs(t: f64, x: &StateVector, frame: LocalFrame) -> Observation {
    let o = Observation {
        t_s: t,
        sensor: SensorId::new("r").expect("id"),
        owner: Nation::KOR,
        kind: ObservationKind::Radar { range_rate: false },
        z: [0.0; 4],
        sigma: [30.0, 0.001, 0.001, 1.0],
        frame,
    };
    let z = o.predict(x);
    Observation { z, ..o }
}

/// A radar near Sado and its detection of the ballistic target `k` seconds in.
fn sado() -> LocalFrame {
    LocalFrame::at(
        Geodetic::from_deg(37.5, 130.5, 20.0)
            .expect("valid")
            .to_ecef_m(),
    )
    .expect("frame")
}

fn target_obs(k: f64, frame: LocalFrame) -> Observation {
    radar_obs(
        k,
        &MotionModel::FREE_FLIGHT.propagate(&ballistic_state(), k),
        frame,
    )
}

#[test]
fn late_measurements_within_five_seconds_are_used_and_older_ones_counted() {
    let frame = sado();
    let obs: Vec<Observation> = (0..60).map(|k| target_obs(k as f64, frame)).collect();
    let run = |order: &[usize]| {
        let mut t = MultiTargetTracker::new(TrackerConfig::default());
        for &i in order {
            t.process_batch(std::slice::from_ref(&obs[i]));
        }
        t
    };
    let in_order: Vec<usize> = (0..60).collect();
    // Every fifth measurement arrives 4 s late.
    let mut shuffled: Vec<usize> = Vec::new();
    let mut pending: Vec<(usize, usize)> = Vec::new();
    for i in 0..60 {
        if i % 5 == 4 {
            pending.push((i + 4, i));
        } else {
            shuffled.push(i);
        }
        while let Some(k) = pending.iter().position(|(due, _)| *due <= i) {
            shuffled.push(pending.remove(k).1);
        }
    }
    shuffled.extend(pending.into_iter().map(|(_, i)| i));
    let a = run(&in_order);
    let b = run(&shuffled);
    assert_eq!(a.tracks().len(), 1);
    assert_eq!(
        b.tracks().len(),
        1,
        "a late measurement must not start a new track"
    );
    assert_eq!(b.tracks()[0].hits, 60, "all late measurements were used");
    let (ea, eb) = (a.tracks()[0].estimate(), b.tracks()[0].estimate());
    let d =
        ((ea.x[0] - eb.x[0]).powi(2) + (ea.x[1] - eb.x[1]).powi(2) + (ea.x[2] - eb.x[2]).powi(2))
            .sqrt();
    assert!(
        d < 5.0,
        "re-filtered estimate differs by {d} m from the in-order one"
    );
    assert_eq!(b.rejected.too_late, 0);
    // Now one 10 s late: refused and counted.
    let mut c = run(&in_order);
    c.process_batch(std::slice::from_ref(&obs[45]));
    assert_eq!(c.rejected.too_late, 1);
}

#[test]
fn bad_observations_are_refused_with_a_reason() {
    let frame = LocalFrame::at(
        Geodetic::from_deg(37.5, 130.5, 20.0)
            .expect("valid")
            .to_ecef_m(),
    )
    .expect("frame");
    let good = radar_obs(0.0, &ballistic_state(), frame);
    assert!(good.validate().is_ok());
    let mut bad = good.clone();
    bad.z[1] = f64::NAN;
    assert!(bad.validate().is_err());
    let mut bad = good.clone();
    bad.sigma[0] = 0.0;
    assert!(bad.validate().is_err());
    let mut bad = good;
    bad.z[0] = -5.0;
    assert!(bad.validate().is_err());
    assert!(LocalFrame::at([f64::INFINITY, 0.0, 0.0]).is_err());
}

#[test]
fn covariance_intersection_is_conservative_and_keeps_provenance() {
    let x = ballistic_state();
    let mut pa = Covariance::identity() * 100.0;
    pa[(0, 0)] = 1e4;
    let mut pb = Covariance::identity() * 100.0;
    pb[(1, 1)] = 1e4;
    let a = GaussianState { x, p: pa, t_s: 0.0 };
    let b = GaussianState { x, p: pb, t_s: 0.0 };
    let f = covariance_intersection(&a, &b).expect("fuses");
    assert!(f.p.trace() < pa.trace() && f.p.trace() < pb.trace());
    // CI never claims more than the naive (independent) fusion would.
    let naive = (pa.try_inverse().expect("inv") + pb.try_inverse().expect("inv"))
        .try_inverse()
        .expect("inv");
    let diff = f.p - naive;
    assert!(
        diff.cholesky().is_some() || diff.symmetric_eigenvalues().min() > -1e-6,
        "CI tighter than independent fusion"
    );
    let track = |origin, id, s: GaussianState, sensor: &str| SharedTrack {
        origin,
        track_id: id,
        state: s,
        contributors: [(origin, SensorId::new(sensor).expect("id"))].into(),
    };
    let fused = fuse(
        &[track(Nation::JPN, 1, a, "jpn-ewr-sado")],
        &[track(Nation::USA, 7, b, "usa-xband-shariki")],
        0.0,
    );
    assert!(fused.refused.is_empty());
    let fused = fused.tracks;
    assert_eq!(fused.len(), 1);
    assert_eq!(fused[0].nations(), [Nation::JPN, Nation::USA].into());
    assert_eq!(fused[0].sources, vec![(Nation::JPN, 1), (Nation::USA, 7)]);
}

/// A partner's data is hostile until checked: shared tracks with non-finite values, a
/// covariance that is not symmetric positive definite, a position underground or beyond any
/// sensor, an impossible speed, or a time far from the fusion's are refused with the reason and
/// never reach the fused picture; the good ones are fused as without them.
#[test]
fn hostile_partner_tracks_are_refused_and_named() {
    let x = ballistic_state();
    let good = GaussianState {
        x,
        p: Covariance::identity() * 100.0,
        t_s: 0.0,
    };
    let track = |id, s: GaussianState| SharedTrack {
        origin: Nation::KOR,
        track_id: id,
        state: s,
        contributors: [(Nation::KOR, SensorId::new("kor-ship-1").expect("id"))].into(),
    };
    let local = [SharedTrack {
        origin: Nation::JPN,
        ..track(1, good.clone())
    }];
    let clean = fuse(&local, &[track(2, good.clone())], 0.0);
    assert!(clean.refused.is_empty());
    let with = |f: &dyn Fn(&mut GaussianState)| {
        let mut s = good.clone();
        f(&mut s);
        s
    };
    let hostile = [
        (10, with(&|s| s.x[0] = f64::NAN), "state is not finite"),
        (
            11,
            with(&|s| s.p[(2, 2)] = f64::INFINITY),
            "covariance is not finite",
        ),
        (12, with(&|s| s.t_s = f64::NAN), "time is not finite"),
        (13, with(&|s| s.p[(0, 1)] = 50.0), "not symmetric"),
        (
            14,
            with(&|s| s.p[(3, 3)] = -1.0),
            "not symmetric positive definite",
        ),
        (
            15,
            with(&|s| s.x.fixed_rows_mut::<3>(0).scale_mut(0.5)),
            "distance from the Earth",
        ),
        (16, with(&|s| s.x[3] = 3e4), "speed"),
        (17, with(&|s| s.t_s = -3600.0), "age"),
    ];
    let partners: Vec<SharedTrack> = std::iter::once(track(2, good.clone()))
        .chain(hostile.iter().map(|(id, s, _)| track(*id, s.clone())))
        .collect();
    // A fusion time that is not a number fuses nothing.
    let nan = fuse(&local, &[track(2, good.clone())], f64::NAN);
    assert!(nan.tracks.is_empty() && nan.refused.len() == 2, "{nan:?}");
    let f = fuse(&local, &partners, 0.0);
    assert_eq!(
        f.tracks, clean.tracks,
        "the hostile tracks changed the fused picture"
    );
    assert_eq!(f.refused.len(), hostile.len());
    for ((id, _, why), (nation, rid, refusal)) in hostile.iter().zip(&f.refused) {
        assert_eq!((*nation, *rid), (Nation::KOR, *id));
        let text = refusal.to_string();
        assert!(
            text.contains(why),
            "track {id}: {text:?} does not say {why:?}"
        );
    }
}

/// The hybrid association's split: a cluster of two tracks (a missile and its stage) goes to GNN,
/// a cluster of ten tracks chained by shared gates (a debris cloud) to JPDA, whole.
#[test]
fn hybrid_association_sends_only_clusters_larger_than_exact_jpda_to_jpda() {
    use tripoint_track::associate::{split_by_cluster_size, MAX_EXACT_TRACKS};
    let inn = Innovation {
        d2: 1.0,
        log_det_s: 10.0,
        dim: 3,
    };
    let h = |track, detection| Hypothesis {
        track,
        detection,
        innovation: inn,
    };
    // Tracks 0, 1 share detections 0, 1; tracks 2..12 form a chain over detections 2..12.
    let mut hyps = vec![h(0, 0), h(0, 1), h(1, 1)];
    for t in 2..12 {
        hyps.push(h(t, t));
        hyps.push(h(t, t + 1));
    }
    let (sparse, dense) = split_by_cluster_size(&hyps, 12, 13, MAX_EXACT_TRACKS);
    let tracks = |v: &[Hypothesis]| {
        let mut t: Vec<usize> = v.iter().map(|h| h.track).collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    assert_eq!(tracks(&sparse), vec![0, 1]);
    assert_eq!(dense.len(), 1, "one dense cluster");
    let dense: Vec<Hypothesis> = dense[0].iter().flat_map(|r| r.iter().copied()).collect();
    assert_eq!(tracks(&dense), (2..12).collect::<Vec<_>>());
    assert_eq!(sparse.len() + dense.len(), hyps.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    /// Whatever the time steps and measurements (finite), covariances stay symmetric positive
    /// definite through IMM predictions and updates.
    #[test]
    fn covariances_stay_symmetric_positive_definite(
        dts in prop::collection::vec(0.01f64..30.0, 1..12),
        noise in prop::collection::vec(-5.0f64..5.0, 36),
        ukf in any::<bool>(),
    ) {
        let frame = LocalFrame::at(Geodetic::from_deg(36.6, 127.4, 200.0).expect("valid").to_ecef_m()).expect("frame");
        let cfg = ImmConfig { filter: if ukf { FilterKind::Ukf } else { FilterKind::Ekf }, ..ImmConfig::default() };
        let x0 = ballistic_state();
        let mut p = Covariance::identity();
        for i in 0..3 { p[(i, i)] = 1e6; p[(3 + i, 3 + i)] = 1e6; p[(6 + i, 6 + i)] = 100.0; }
        let mut imm = ImmState::new(GaussianState { x: x0, p, t_s: 0.0 }, [0.3, 0.5, 0.2]);
        let mut t = 0.0;
        for (k, dt) in dts.iter().enumerate() {
            t += dt;
            let truth = MotionModel::FREE_FLIGHT.propagate(&x0, t);
            let mut o = radar_obs(t, &truth, frame);
            o.z[0] += noise[3 * k % 36] * 1000.0;
            o.z[1] += noise[(3 * k + 1) % 36] * 0.01;
            o.z[2] += noise[(3 * k + 2) % 36] * 0.01;
            let pred = imm.predict(&cfg, t);
            for s in &pred.states { prop_assert!(s.is_valid()); }
            if let Some(post) = pred.update(&cfg, &o) {
                for s in &post.states { prop_assert!(s.is_valid()); }
                prop_assert!((post.mu.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                imm = post;
            } else {
                imm = pred;
            }
        }
        prop_assert!(imm.combined().is_valid());
    }
}

#[test]
fn bearings_line_of_sight_inverts_the_measurement_model() {
    let platform = Geodetic::from_deg(0.0, 128.0, 35_786e3)
        .expect("valid")
        .to_ecef_m();
    let frame = LocalFrame::at(platform).expect("frame");
    let x = ballistic_state();
    let template = Observation {
        t_s: 0.0,
        sensor: SensorId::new("ir").expect("id"),
        owner: Nation::USA,
        kind: ObservationKind::Bearings,
        z: [0.0; 4],
        sigma: [2e-5, 2e-5, 1.0, 1.0],
        frame,
    };
    let o = Observation {
        z: template.predict(&x),
        ..template
    };
    let los = o.line_of_sight().expect("bearings");
    let d = [x[0] - platform[0], x[1] - platform[1], x[2] - platform[2]];
    let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    for i in 0..3 {
        assert!((los[i] - d[i] / n).abs() < 1e-12);
    }
    assert!(radar_obs(0.0, &x, frame).line_of_sight().is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    /// The whole tracker, fed scans of random radar detections (a target's plus clutter, times
    /// jittered back and forth, with GNN, JPDA or the hybrid): it never panics, every live track's
    /// covariance stays symmetric positive definite and its mode probabilities sum to one.
    #[test]
    fn whole_tracker_keeps_every_track_valid_on_random_scans(
        scans in prop::collection::vec(
            (
                -3.0f64..4.0,                                            // time step (s)
                prop::collection::vec((2e5f64..1.4e6, 0.0f64..std::f64::consts::TAU, 0.0f64..1.4), 0..6),
                any::<bool>(),                                           // range rate?
            ),
            1..40,
        ),
        association in 0u8..3,
    ) {
        let frame = LocalFrame::at(
            Geodetic::from_deg(38.0, 138.3, 50.0).expect("valid").to_ecef_m(),
        )
        .expect("frame");
        let cfg = TrackerConfig {
            association: match association {
                0 => tripoint_track::tracker::Association::Gnn,
                1 => tripoint_track::tracker::Association::Jpda,
                _ => tripoint_track::tracker::Association::Hybrid,
            },
            ..TrackerConfig::default()
        };
        let mut tracker = MultiTargetTracker::new(cfg);
        let mut t = 0.0;
        for (k, (dt, dets, rr)) in scans.into_iter().enumerate() {
            t += dt;
            // A steady target (range closing at 2 km/s) plus the random detections.
            let mut batch = vec![(9e5 - 2000.0 * k as f64, 4.0 + 0.001 * k as f64, 0.3)];
            batch.extend(dets);
            let obs: Vec<Observation> = batch
                .into_iter()
                .map(|(range, az, el)| Observation {
                    t_s: t,
                    sensor: SensorId::new("jpn-test").expect("id"),
                    owner: Nation::JPN,
                    kind: ObservationKind::Radar { range_rate: rr },
                    z: [range, az, el, -2000.0],
                    sigma: [50.0, 1e-3, 1e-3, 5.0],
                    frame,
                })
                .collect();
            tracker.process_batch(&obs);
            for tr in tracker.tracks() {
                for s in &tr.imm.states {
                    prop_assert!(s.is_valid(), "track {} at t {t}", tr.id);
                }
                prop_assert!(tr.estimate().is_valid(), "track {} combined at t {t}", tr.id);
                let mu: f64 = tr.imm.mu.iter().sum();
                prop_assert!((mu - 1.0).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn a_batch_from_a_broken_clock_is_refused_while_tracks_are_live() {
    let frame = sado();
    let mut t = MultiTargetTracker::new(TrackerConfig::default());
    for k in 0..5 {
        t.process_batch(&[target_obs(k as f64, frame)]);
    }
    assert_eq!(t.tracks().len(), 1);
    // Thirty years ahead: not a measurement. Refused and counted; the track lives on and the
    // next good batch is still taken (were the bad time taken, it would be "too late").
    let mut far = target_obs(5.0, frame);
    far.t_s = 1.0e9;
    t.process_batch(&[far]);
    assert_eq!(t.rejected.time_jump, 1);
    assert_eq!(t.tracks().len(), 1);
    t.process_batch(&[target_obs(5.0, frame)]);
    assert_eq!(t.tracks()[0].hits, 6);
    assert_eq!(t.rejected.too_late, 0);
}

/// Radar detections of a state from `frame` with 30 m and 0.001° of noise.
fn noisy_radar(frame: LocalFrame) -> impl Fn(f64, &StateVector, &mut ChaCha8Rng) -> Observation {
    move |t, x, rng| {
        let mut o = radar_obs(t, x, frame);
        for (i, s) in [30.0, 0.001, 0.001].iter().enumerate() {
            o.z[i] += s * Normal::new(0.0, 1.0).expect("unit").sample(rng);
        }
        o
    }
}

/// An IMM started at `x` with a new track's uncertainty and mode probabilities.
fn fresh_imm(x: StateVector) -> ImmState {
    let mut p = Covariance::zeros();
    for i in 0..3 {
        p[(i, i)] = 200.0f64.powi(2);
        p[(3 + i, 3 + i)] = 50.0f64.powi(2);
        p[(6 + i, 6 + i)] = 30.0f64.powi(2);
    }
    p[(9, 9)] = 0.01;
    ImmState::new(GaussianState { x, p, t_s: 0.0 }, [0.3, 0.5, 0.2])
}

/// The variable-structure IMM: on a coasting object the boost model leaves the active set once
/// its probability has stayed low for `retire_boost_s`, and the estimate stays consistent with
/// two models; when the object thrusts again (an upper stage lit after a coast) the boost model
/// comes back within a few updates and the IMM follows the thrust instead of losing the object.
#[test]
fn boost_model_retires_after_burnout_and_returns_when_the_object_thrusts() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let cfg = ImmConfig::default();
    let noisy = noisy_radar(sado());
    let mut truth = ballistic_state();
    let mut imm = fresh_imm(truth);
    let mut retired_at = None;
    let dt = 1.0;
    let mut t = 0.0;
    // 60 s of free flight.
    while t < 60.0 {
        t += dt;
        truth = MotionModel::FREE_FLIGHT.propagate(&truth, dt);
        let pred = imm.predict(&cfg, t);
        imm = pred
            .update(&cfg, &noisy(t, &truth, &mut rng))
            .expect("update");
        if imm.boost_retired && retired_at.is_none() {
            retired_at = Some(t);
        }
        assert!(imm.combined().is_valid(), "invalid estimate at {t} s");
    }
    let retired_at = retired_at.expect("the boost model retires on a coasting object");
    assert!(
        retired_at >= cfg.retire_boost_s,
        "retired at {retired_at} s"
    );
    assert_eq!(imm.mu[0], 0.0, "a retired model has no probability");
    // Squared Mahalanobis distance of the position error: within χ²(3) 99.9 % (16.27).
    let d2 = |imm: &ImmState, x: &StateVector| {
        let e = imm.combined();
        let d = nalgebra::Vector3::new(e.x[0] - x[0], e.x[1] - x[1], e.x[2] - x[2]);
        let pp: Matrix3<f64> = e.p.fixed_view::<3, 3>(0, 0).into();
        d.dot(&pp.cholesky().expect("pd").solve(&d))
    };
    assert!(d2(&imm, &truth) < 16.27, "coasting d² {}", d2(&imm, &truth));
    // Thrust of 20 m/s² along the velocity from now on.
    let v = nalgebra::Vector3::new(truth[3], truth[4], truth[5]).normalize() * 20.0;
    let mut restored_after = None;
    for k in 1..=30 {
        t += dt;
        truth[6] = v[0];
        truth[7] = v[1];
        truth[8] = v[2];
        truth = MotionModel::BOOST.propagate(&truth, dt);
        let pred = imm.predict(&cfg, t);
        imm = pred
            .update(&cfg, &noisy(t, &truth, &mut rng))
            .expect("update");
        if !imm.boost_retired && restored_after.is_none() {
            restored_after = Some(k);
        }
    }
    let k = restored_after.expect("the boost model comes back under thrust");
    // 6 updates with the re-entry model always awake; 7 since it sleeps in mid-course (the
    // object is above `reentry_above_m`): free flight alone absorbs the first metres of thrust
    // a little better before the surprises run two in a row.
    assert!(k <= 7, "restored after {k} updates");
    assert!(
        imm.mu[0] > 0.9,
        "boost probability {} under thrust",
        imm.mu[0]
    );
    assert!(
        d2(&imm, &truth) < 16.27,
        "d² under thrust {}",
        d2(&imm, &truth)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    /// The tracker tests only the detections of a radar batch inside a track's range window:
    /// every detection the full gate passes must lie inside it, whatever the covariance
    /// (correlated, from metres to tens of kilometres) and wherever the detection falls.
    #[test]
    fn the_range_window_holds_every_detection_the_gate_passes(
        scale in prop::collection::vec(1.0f64..30_000.0, 6),
        corr in prop::collection::vec(-1.0f64..1.0, 15),
        offsets in prop::collection::vec((-6.0f64..6.0, -6.0f64..6.0, -6.0f64..6.0), 64),
        range_rate in any::<bool>(),
    ) {
        let frame = sado();
        let x = ballistic_state();
        // P = L Lᵀ with a random lower-triangular L: correlated, positive definite.
        let mut l = Covariance::zeros();
        let mut k = 0;
        for i in 0..6 {
            l[(i, i)] = scale[i];
            for j in 0..i {
                l[(i, j)] = corr[k] * scale[i];
                k += 1;
            }
        }
        for i in 6..10 { l[(i, i)] = 1.0; }
        let pred = GaussianState { x, p: l * l.transpose(), t_s: 0.0 };
        let mut o = radar_obs(0.0, &x, frame);
        if range_rate { o.kind = ObservationKind::Radar { range_rate: true }; o.z = o.predict(&x); }
        let gate = TrackerConfig::default().gate_d2[o.dim()];
        let pm = filter::predicted_measurement(FilterKind::Ekf, &pred, &o).expect("predicted");
        let (lo, hi) = pm.first_component_window(gate);
        let mut passed = 0;
        // The detection at the predicted measurement itself passes (d² = 0).
        for (a, b, c) in std::iter::once((0.0, 0.0, 0.0)).chain(offsets) {
            let mut d = o.clone();
            d.z[0] += a * (hi - lo) / 2.0;
            d.z[1] += b * 1e-3;
            d.z[2] += c * 1e-3;
            if pm.innovation(&d).d2 <= gate {
                passed += 1;
                prop_assert!(d.z[0] >= lo && d.z[0] <= hi, "passed the gate outside the window");
            }
        }
        prop_assert!(passed >= 1, "not even the predicted measurement passed");
    }
}

/// The ids of `t`'s tracks that are not in `before`.
fn new_ids(t: &MultiTargetTracker, before: &[u64]) -> Vec<u64> {
    t.tracks()
        .iter()
        .map(|tr| tr.id)
        .filter(|id| !before.contains(id))
        .collect()
}

/// A node publishes a batch's products between its passes (`update_batch`: the confirmed
/// tracks; `BatchStep::update_tentative`: the tentative tracks; `BatchStep::finish`: track
/// management): the passes give the same tracks as `process_batch`, the confirmed tracks'
/// updates are visible before any tentative track is touched, a track the tentative pass
/// confirms says so, a new track appears only with management, and a step dropped early still
/// runs what is left.
#[test]
fn a_batch_taken_in_passes_gives_the_same_tracks_and_never_stays_half_done() {
    let frame = sado();
    let scans: Vec<Vec<Observation>> = (0..12)
        .map(|k| {
            // The target, and from scan 7 on a second object 40 km down range.
            let mut scan = vec![target_obs(k as f64, frame)];
            if k >= 7 {
                let mut far = target_obs(k as f64, frame);
                far.z[0] += 40_000.0;
                scan.push(far);
            }
            scan
        })
        .collect();
    let mut whole = MultiTargetTracker::new(TrackerConfig::default());
    let mut split = MultiTargetTracker::new(TrackerConfig::default());
    let mut confirmed_by_tentative_pass = 0;
    for (k, scan) in scans.iter().enumerate() {
        let events = whole.process_batch(scan);
        let hits_before: Vec<(u64, u32, bool)> = split
            .tracks()
            .iter()
            .map(|t| (t.id, t.hits, t.is_confirmed()))
            .collect();
        let mut step = split.update_batch(scan);
        // After the first pass: the confirmed tracks' updates, and no tentative track touched.
        let first: Vec<TrackEvent> = step.updated().to_vec();
        for (id, hits, confirmed) in &hits_before {
            let now = step.tracker().tracks().iter().find(|t| t.id == *id);
            let now = now.expect("no track goes before management");
            if !confirmed {
                assert_eq!(
                    now.hits, *hits,
                    "scan {k}: tentative track {id} updated early"
                );
            }
        }
        assert!(first.iter().all(|e| e.confirmed && !e.new), "scan {k}");
        let before: Vec<u64> = step.tracker().tracks().iter().map(|t| t.id).collect();
        let started: Vec<u64> = match k % 3 {
            0 => {
                // Both passes, then management: the updates are `process_batch`'s.
                let second = step.update_tentative();
                confirmed_by_tentative_pass += second.iter().filter(|e| e.confirmed).count();
                assert!(second.iter().all(|e| !e.confirmed || e.new), "scan {k}");
                let updated = step.updated().to_vec();
                assert_eq!(updated.len(), first.len() + second.len());
                assert_eq!(updated[..], events[..updated.len()], "scan {k}");
                let n = updated.len();
                let started: Vec<u64> = step.finish().iter().map(|e| e.track_id).collect();
                let expected: Vec<u64> = events[n..].iter().map(|e| e.track_id).collect();
                assert_eq!(started, expected, "scan {k}");
                started
            }
            1 => {
                // `finish` runs the tentative pass too, and returns its events first.
                let rest: Vec<TrackEvent> = step.finish();
                let mut all = first.clone();
                all.extend(rest);
                let mut expected = events.clone();
                all.sort_by_key(|e| e.track_id);
                expected.sort_by_key(|e| e.track_id);
                assert_eq!(all, expected, "scan {k}");
                new_ids(&split, &before)
            }
            _ => {
                // Dropped after the first pass: the tentative pass and management run anyway.
                drop(step);
                new_ids(&split, &before)
            }
        };
        assert_eq!(split.tracks().len(), whole.tracks().len(), "scan {k}");
        if k == 7 {
            // The second object's first detection starts a track, in management.
            assert_eq!(started.len(), 1);
            assert_eq!(before.len() + 1, split.tracks().len());
        }
    }
    // The target's track, and the second object's, were confirmed by a tentative pass taken
    // on its own at least once.
    assert!(confirmed_by_tentative_pass >= 1);
    let states = |t: &MultiTargetTracker| -> Vec<(u64, StateVector)> {
        t.tracks()
            .iter()
            .map(|tr| (tr.id, tr.estimate().x))
            .collect()
    };
    assert_eq!(states(&split), states(&whole));
    assert_eq!(whole.tracks().len(), 2);
}

/// The re-entry model sleeps above the atmosphere: in mid-course (boost model retired, far
/// above `reentry_above_m`) the IMM runs free flight alone, with the re-entry probability
/// exactly 0 and the estimate still consistent; as the object falls it wakes before the object
/// reaches that height (by `REENTRY_LEAD_S` of free fall), not after.
#[test]
fn reentry_model_sleeps_in_mid_course_and_wakes_before_the_atmosphere() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let cfg = ImmConfig::default();
    let noisy = noisy_radar(sado());
    // Falling from 1,200 km (a lofted missile past apogee).
    let g = Geodetic::from_deg(40.0, 134.0, 1_200e3).expect("valid");
    let r = g.to_ecef_m();
    let v = ecef_velocity(
        r,
        std::array::from_fn(|i| 400.0 * g.east_ecef()[i] - 1_500.0 * g.up_ecef()[i]),
    );
    let mut truth = StateVector::zeros();
    for i in 0..3 {
        truth[i] = r[i];
        truth[3 + i] = v[i];
    }
    truth[9] = 0.2;
    let mut imm = fresh_imm(truth);
    let height = |x: &StateVector| tripoint_physics::geodesy::radial_height_m([x[0], x[1], x[2]]);
    let (dt, mut t) = (2.0, 0.0);
    let mut slept = 0;
    let mut awake_at_threshold = None;
    while height(&truth) > 150e3 {
        t += dt;
        truth = MotionModel::FREE_FLIGHT.propagate(&truth, dt);
        imm = imm
            .predict(&cfg, t)
            .update(&cfg, &noisy(t, &truth, &mut rng))
            .expect("update");
        assert!(imm.combined().is_valid(), "invalid estimate at {t} s");
        if imm.reentry_dormant {
            slept += 1;
            assert!(
                imm.boost_retired,
                "asleep at {t} s with the boost model in play"
            );
            assert_eq!(imm.mu[2], 0.0, "a dormant model has no probability");
            assert_eq!(imm.active(), [false, true, false]);
        }
        if awake_at_threshold.is_none() && height(&truth) < cfg.reentry_above_m {
            awake_at_threshold = Some(!imm.reentry_dormant);
        }
    }
    assert!(slept >= 50, "asleep for only {slept} updates in mid-course");
    assert_eq!(
        awake_at_threshold,
        Some(true),
        "the re-entry model must be awake when the object reaches {} m",
        cfg.reentry_above_m
    );
    assert!(imm.mu[2] > 0.0);
    // Consistent at the end: position error within χ²(3) 99.9 % (16.27).
    let e = imm.combined();
    let d = nalgebra::Vector3::new(e.x[0] - truth[0], e.x[1] - truth[1], e.x[2] - truth[2]);
    let pp: Matrix3<f64> = e.p.fixed_view::<3, 3>(0, 0).into();
    let d2 = d.dot(&pp.cholesky().expect("pd").solve(&d));
    assert!(d2 < 16.27, "d² {d2} at {t} s");
}

/// A propagation over a span that is not finite or longer than a day (a corrupt timestamp)
/// comes back at once as not a number, instead of running 10³⁰⁰ sub-steps.
#[test]
fn propagation_over_a_corrupt_span_returns_at_once() {
    let x = ballistic_state();
    let start = std::time::Instant::now();
    for dt in [1e300, f64::INFINITY, f64::NAN, -1e12, 86_400.0 * 2.0] {
        let y = MotionModel::FREE_FLIGHT.propagate(&x, dt);
        assert!(y.iter().all(|v| v.is_nan()), "dt {dt}: {y:?}");
        let (y, phi) = MotionModel::FREE_FLIGHT.propagate_with_transition(&x, dt);
        assert!(y[0].is_nan() && phi[(0, 0)].is_nan(), "dt {dt}");
    }
    // Ten minutes are still propagated.
    let y = MotionModel::FREE_FLIGHT.propagate(&x, 600.0);
    assert!(y.iter().all(|v| v.is_finite()));
    assert!(
        start.elapsed().as_secs_f64() < 5.0,
        "took {:?}",
        start.elapsed()
    );
}
