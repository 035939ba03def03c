//! The shipped scenarios produce the flights the public record describes, and the sensors
//! behave as configured.

use std::collections::{BTreeSet, HashMap};

use tripoint_core::{Measurement, Mode, ObjectKind};
use tripoint_physics::geodesy::{ecef, ground_line, height_above_ellipsoid_m, nadir_bearings};
use tripoint_physics::Geodetic;
use tripoint_sim::scenario::Scenario;
use tripoint_sim::sensor::SensorModel;
use tripoint_sim::world::{run, summarize_objects, Ending, SimResult};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("scenario file exists");
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn simulate(s: &Scenario) -> SimResult {
    run(s, &mut |_| {}).expect("runs")
}

#[test]
fn every_shipped_scenario_validates_and_has_three_nations_sensors() {
    let dir = format!("{}/../../scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("scenarios dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = Scenario::from_toml(&std::fs::read_to_string(&path).expect("readable"))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let owners: BTreeSet<String> = s.sensors.iter().map(|x| x.owner.to_string()).collect();
            assert_eq!(
                owners,
                ["JPN", "KOR", "USA"].map(String::from).into(),
                "{}",
                path.display()
            );
            n += 1;
        }
    }
    assert!(n >= 6, "only {n} scenarios");
}

#[test]
fn irbm_overflight_flies_like_4_october_2022() {
    let s = load("irbm-overflight");
    let r = simulate(&s);
    let sum = summarize_objects(&s, &r);
    let w = sum.iter().find(|o| o.id == "irbm-1").expect("warhead");
    assert_eq!(w.kind, ObjectKind::Warhead);
    assert!(
        (w.apogee_km / 970.0 - 1.0).abs() < 0.01,
        "apogee {}",
        w.apogee_km
    );
    let Ending::Impact { impact } = &w.ending else {
        panic!("no impact: {:?}", w.ending)
    };
    let launch = Geodetic::from_deg(40.61, 126.43, 0.0).expect("valid");
    let hit = Geodetic::from_deg(impact.lat_deg, impact.lon_deg, 0.0).expect("valid");
    let range_km = ground_line(&launch, &hit).distance_m / 1e3;
    assert!((range_km / 4600.0 - 1.0).abs() < 0.01, "range {range_km}");
    // ~22 minutes of flight, as reported.
    assert!(
        (1200.0..1450.0).contains(&impact.t_since_launch_s),
        "{}",
        impact.t_since_launch_s
    );
    // Both spent stages separate and fly on as their own objects, then fall.
    for stage in ["irbm-1/s1", "irbm-1/s2"] {
        let o = sum.iter().find(|o| o.id == stage).expect("stage object");
        assert_eq!(o.kind, ObjectKind::Stage);
        assert!(
            matches!(o.ending, Ending::Impact { .. }),
            "{stage}: {:?}",
            o.ending
        );
    }
    // The ground track crosses northern Japan (over 140-141.5°E between 40.2 and 41.8°N) about
    // six minutes after launch, as on 4 Oct 2022 (launch 07:22, over Aomori 07:28-07:29).
    let payload = r
        .objects
        .iter()
        .find(|o| o.id.as_str() == "irbm-1")
        .expect("payload");
    let t_launch = s.launches[0].t_launch_s;
    let mut crossed = None;
    let mut t = payload.trajectory.t_start_s();
    while t < payload.trajectory.t_end_s() {
        let y = payload.trajectory.state_at(t).expect("alive");
        let g = Geodetic::from_ecef_m([y[0], y[1], y[2]]).expect("converts");
        if (140.0..141.5).contains(&g.lon_deg()) && crossed.is_none() {
            crossed = Some((t - t_launch, g.lat_deg()));
        }
        t += 1.0;
    }
    let (dt, lat) = crossed.expect("crosses 140°E");
    assert!(
        (300.0..450.0).contains(&dt) && (40.2..41.8).contains(&lat),
        "T+{dt} s at {lat}°N"
    );
}

#[test]
fn lofted_icbm_falls_west_of_hokkaido_after_about_70_minutes() {
    let s = load("icbm-lofted");
    let sum = summarize_objects(&s, &simulate(&s));
    let w = sum.iter().find(|o| o.id == "icbm-1").expect("warhead");
    assert!(
        (w.apogee_km / 6000.0 - 1.0).abs() < 0.01,
        "apogee {}",
        w.apogee_km
    );
    let Ending::Impact { impact } = &w.ending else {
        panic!("{:?}", w.ending)
    };
    assert!((3900.0..4300.0).contains(&impact.t_since_launch_s));
    // Sea of Japan west of Hokkaido: 40-43°N, 135-139.5°E.
    assert!(
        (40.0..43.0).contains(&impact.lat_deg) && (135.0..139.5).contains(&impact.lon_deg),
        "{impact:?}"
    );
}

#[test]
fn srbm_salvo_is_eight_missiles_from_four_sites_within_35_minutes() {
    let s = load("srbm-salvo");
    assert_eq!(s.launches.len(), 8);
    let sites: BTreeSet<String> = s
        .launches
        .iter()
        .map(|l| format!("{:.2},{:.2}", l.site.lat_deg(), l.site.lon_deg()))
        .collect();
    assert_eq!(sites.len(), 4);
    let t: Vec<f64> = s.launches.iter().map(|l| l.t_launch_s).collect();
    let span =
        t.iter().cloned().fold(f64::MIN, f64::max) - t.iter().cloned().fold(f64::MAX, f64::min);
    assert!(span <= 35.0 * 60.0);
    let sum = summarize_objects(&s, &simulate(&s));
    for l in &s.launches {
        let w = sum.iter().find(|o| o.id == l.id.as_str()).expect("warhead");
        assert!(
            (24.0..91.0).contains(&w.apogee_km),
            "{}: {}",
            w.id,
            w.apogee_km
        );
        let Ending::Impact { impact } = &w.ending else {
            panic!()
        };
        let range = ground_line(
            &l.site,
            &Geodetic::from_deg(impact.lat_deg, impact.lon_deg, 0.0).expect("valid"),
        )
        .distance_m
            / 1e3;
        assert!((109.0..677.0).contains(&range), "{}: {range} km", w.id);
        // East of the Korean peninsula's east coast (the East Sea / Sea of Japan).
        assert!(impact.lon_deg > 128.5, "{}: {impact:?}", w.id);
    }
}

#[test]
fn slv_reaches_orbit_and_its_stages_fall() {
    let s = load("slv-orbit");
    let sum = summarize_objects(&s, &simulate(&s));
    let sat = sum.iter().find(|o| o.id == "slv-1").expect("satellite");
    assert_eq!(sat.kind, ObjectKind::Satellite);
    let Ending::Orbit { perigee_alt_km, .. } = sat.ending else {
        panic!("{:?}", sat.ending)
    };
    assert!(perigee_alt_km > 300.0);
    for st in ["slv-1/s1", "slv-1/s2"] {
        let o = sum.iter().find(|o| o.id == st).expect("stage");
        assert!(
            matches!(o.ending, Ending::Impact { .. }),
            "{st} {:?}",
            o.ending
        );
    }
}

#[test]
fn slv_failure_scatters_debris_into_the_yellow_sea() {
    let s = load("slv-failure");
    let sum = summarize_objects(&s, &simulate(&s));
    let debris: Vec<_> = sum
        .iter()
        .filter(|o| o.kind == ObjectKind::Debris)
        .collect();
    assert_eq!(debris.len(), 40);
    for d in debris {
        let Ending::Impact { impact } = &d.ending else {
            panic!("{}: {:?}", d.id, d.ending)
        };
        // The Yellow Sea and its southern approaches: west of the Korean coast (≤ 126.2°E)
        // between 32.5° and 39°N.
        assert!(
            (32.5..39.0).contains(&impact.lat_deg) && (119.0..126.2).contains(&impact.lon_deg),
            "{}: {impact:?}",
            d.id
        );
    }
    assert!(sum
        .iter()
        .all(|o| !matches!(o.ending, Ending::Orbit { .. })));
}

#[test]
fn breakup_makes_at_least_200_tracked_objects() {
    let s = load("breakup");
    let r = simulate(&s);
    let n = r
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Debris)
        .count();
    assert!(n >= 200, "{n}");
    let seen: BTreeSet<&str> = r
        .detections
        .iter()
        .filter_map(|d| d.truth.as_ref().map(|t| t.as_str()))
        .collect();
    assert!(seen.len() >= 200, "sensors saw only {} objects", seen.len());
}

#[test]
fn same_seed_same_detections_other_seed_other_noise() {
    let mut s = load("srbm-salvo");
    let a = simulate(&s);
    let b = simulate(&s);
    assert_eq!(a.detections, b.detections);
    s.seed += 1;
    let c = simulate(&s);
    assert_ne!(a.detections, c.detections);
}

/// Radar residuals against the truth are zero-mean with the configured standard deviation, and
/// nothing is seen below the elevation mask, beyond range or outside the sector.
#[test]
fn radar_noise_matches_configuration_and_coverage_is_respected() {
    let s = load("irbm-overflight");
    let r = simulate(&s);
    let objects: HashMap<&str, _> = r.objects.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut stats: HashMap<&str, [(f64, f64, usize); 3]> = HashMap::new();
    for d in &r.detections {
        let Measurement::Radar {
            range_m,
            az_rad,
            el_rad,
            ..
        } = d.measurement
        else {
            continue;
        };
        let sensor = s
            .sensors
            .iter()
            .find(|x| x.id == d.sensor)
            .expect("known sensor");
        let SensorModel::Radar(radar) = &sensor.model else {
            panic!()
        };
        let Some(truth) = &d.truth else { continue };
        let t = (d.time - s.start).to_seconds();
        let y = objects[truth.as_str()]
            .trajectory
            .state_at(t)
            .expect("alive when seen");
        let look = radar.site.look(&ecef([y[0], y[1], y[2]]));
        assert!(look.el_rad >= radar.min_el_rad && look.range_m <= radar.max_range_m);
        let mut daz = az_rad - look.az_rad;
        daz = (daz + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
        let e = stats.entry(d.sensor.as_str()).or_default();
        for (k, (res, sig)) in [
            (range_m - look.range_m, d.noise.sigma_range_m),
            (daz, d.noise.sigma_az_rad),
            (el_rad - look.el_rad, d.noise.sigma_el_rad),
        ]
        .into_iter()
        .enumerate()
        {
            e[k].0 += res / sig;
            e[k].1 += (res / sig).powi(2);
            e[k].2 += 1;
        }
    }
    assert!(stats.len() >= 6);
    for (sensor, st) in stats {
        for (k, (sum, sq, n)) in st.into_iter().enumerate() {
            let n = n as f64;
            let mean = sum / n;
            let var = sq / n - mean * mean;
            assert!(
                mean.abs() < 5.0 / n.sqrt(),
                "{sensor} component {k}: mean {mean}"
            );
            assert!(
                (var - 1.0).abs() < 0.25,
                "{sensor} component {k}: variance {var} over {n}"
            );
        }
    }
}

#[test]
fn space_infrared_sees_only_burning_objects_with_configured_noise() {
    let s = load("irbm-overflight");
    let r = simulate(&s);
    let mut n = 0;
    let mut sq = 0.0;
    for d in &r.detections {
        let Measurement::Bearings {
            east_rad,
            north_rad,
        } = d.measurement
        else {
            continue;
        };
        let truth = d.truth.as_ref().expect("no infrared clutter configured");
        let o = r.objects.iter().find(|o| &o.id == truth).expect("object");
        let t = (d.time - s.start).to_seconds();
        assert!(
            o.burns.iter().any(|&(a, b)| t >= a && t <= b),
            "{truth} not burning at {t}"
        );
        let y = o.trajectory.state_at(t).expect("alive");
        assert!(height_above_ellipsoid_m([y[0], y[1], y[2]]) >= 8e3);
        let (e, nn) = nadir_bearings(d.sensor_ecef_m, [y[0], y[1], y[2]]).expect("converts");
        sq += ((east_rad - e) / d.noise.sigma_az_rad).powi(2)
            + ((north_rad - nn) / d.noise.sigma_el_rad).powi(2);
        n += 2;
    }
    assert!(n > 100, "{n}");
    let var = sq / n as f64;
    assert!((var - 1.0).abs() < 0.25, "normalised variance {var}");
}

#[test]
fn exercise_mode_is_carried_on_every_detection() {
    let text = std::fs::read_to_string(format!(
        "{}/../../scenarios/srbm-salvo.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("readable")
    .replacen("mode = \"real\"", "mode = \"exercise\"", 1);
    let s = Scenario::from_toml(&text).expect("valid");
    assert_eq!(s.mode, Mode::Exercise);
    let r = simulate(&s);
    assert!(!r.detections.is_empty());
    assert!(r.detections.iter().all(|d| d.mode == Mode::Exercise));
}

/// With `payload_beta_sigma_ln` each seed flies the payload with its own ballistic coefficient,
/// aimed as if it had the nominal one (the SRBM solver cannot reach its target with a β drawn
/// far below nominal, which is how the draw first broke srbm-salvo), and a heavier-drag draw
/// falls short of the nominal impact, a lighter one beyond it.
#[test]
fn a_payloads_ballistic_coefficient_is_drawn_per_seed_and_flown_not_aimed() {
    use tripoint_sim::world::flown_vehicle;
    let mut s = load("srbm-salvo");
    s.sensors.clear();
    s.launches.truncate(1);
    let l = s.launches[0].clone();
    let nominal = l.vehicle.payload_beta_kg_m2;
    assert_eq!(flown_vehicle(&s, &l).payload_beta_kg_m2, nominal);
    let range_km = |s: &Scenario| {
        let sum = summarize_objects(s, &simulate(s));
        let w = sum.iter().find(|o| o.id == l.id.as_str()).expect("warhead");
        let Ending::Impact { impact } = &w.ending else {
            panic!("{}: no impact", w.id)
        };
        let hit = Geodetic::from_deg(impact.lat_deg, impact.lon_deg, 0.0).expect("valid");
        ground_line(&l.site, &hit).distance_m / 1e3
    };
    let nominal_km = range_km(&s);
    s.payload_beta_sigma_ln = 0.7;
    let draws: Vec<(u64, f64)> = (1..400)
        .map(|seed| {
            s.seed = seed;
            (seed, flown_vehicle(&s, &l).payload_beta_kg_m2)
        })
        .collect();
    // Same seed, same draw; the draws spread like ln β ~ N(ln β₀, 0.7²).
    s.seed = draws[0].0;
    assert_eq!(flown_vehicle(&s, &l).payload_beta_kg_m2, draws[0].1);
    let z: Vec<f64> = draws.iter().map(|d| (d.1 / nominal).ln() / 0.7).collect();
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let sd = (z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (z.len() - 1) as f64).sqrt();
    assert!(
        mean.abs() < 0.2 && (0.85..1.15).contains(&sd),
        "z mean {mean}, sd {sd}"
    );
    let low = draws
        .iter()
        .find(|d| d.1 < 0.5 * nominal)
        .expect("a heavy-drag draw");
    let high = draws
        .iter()
        .find(|d| d.1 > 2.0 * nominal)
        .expect("a light draw");
    s.seed = low.0;
    let low_km = range_km(&s);
    s.seed = high.0;
    let high_km = range_km(&s);
    assert!(
        low_km < nominal_km - 0.5 && high_km > nominal_km + 0.1,
        "β {:.0}: {low_km:.2} km, nominal {nominal:.0}: {nominal_km:.2} km, β {:.0}: {high_km:.2} km",
        low.1,
        high.1
    );
}

#[test]
fn a_payload_beta_spread_out_of_range_is_refused_by_name() {
    let path = format!(
        "{}/../../scenarios/srbm-salvo.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("scenario file exists");
    for bad in ["-0.1", "4.0", "nan"] {
        let t = text.replacen(
            "truth_interval_s = 1.0",
            &format!("truth_interval_s = 1.0\npayload_beta_sigma_ln = {bad}"),
            1,
        );
        let e = Scenario::from_toml(&t).expect_err(bad).to_string();
        assert!(e.contains("payload_beta_sigma_ln"), "{bad}: {e}");
    }
}
