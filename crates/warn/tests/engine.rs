//! The decision rules on hand-made forecasts: hysteresis, overflight only from measured
//! positions, outcomes only as far as the track supports them, and the world of the data
//! deciding the CAP status.

use tripoint_core::world::{ExerciseWorld, InWorld, RealWorld};
use tripoint_core::{Detection, Epoch, Measurement, MeasurementNoise, Mode, SensorId};
use tripoint_physics::Geodetic;
use tripoint_track::products::Classification;
use tripoint_warn::cap::CapWriter;
use tripoint_warn::config::WarnConfig;
use tripoint_warn::engine::{
    group_outcomes, Certainty, Engine, MsgType, Notice, NoticeKind, ObjectOutcome, Outcome,
    TrackUpdate,
};
use tripoint_warn::forecast::{Forecast, RegionOdds};
use tripoint_warn::region::RegionSet;

fn setup() -> (RegionSet, WarnConfig) {
    let regions = RegionSet::builtin().expect("regions");
    let cfg = WarnConfig::default_for(&regions).expect("config");
    (regions, cfg)
}

/// The engine of Japan's authority (the first in the default config; it announces launches).
fn japan(cfg: &WarnConfig, regions: &RegionSet) -> Engine {
    Engine::new(
        0,
        cfg.authorities[0].clone(),
        cfg.event.clone(),
        &cfg.forecast,
        regions,
    )
}

fn forecast(t_s: f64, region: usize, p: f64) -> Forecast {
    let n = 100u32;
    let k = (p * n as f64).round() as u32;
    Forecast {
        track_id: 1,
        t_s,
        samples: n,
        regions: if k > 0 {
            vec![(
                region,
                RegionOdds {
                    over: k,
                    impact: 0,
                    threat: k,
                    transit: k,
                    first_t_s: t_s + 200.0,
                },
            )]
        } else {
            vec![]
        },
        impacts: n,
        orbits: 0,
        impact: None,
        powered: false,
    }
}

fn at(lat: f64, lon: f64, h: f64) -> [f64; 3] {
    Geodetic::from_deg(lat, lon, h)
        .expect("geodetic")
        .to_ecef_m()
}

fn update<'a>(t_s: f64, pos: [f64; 3], measured: bool, f: Option<&'a Forecast>) -> TrackUpdate<'a> {
    TrackUpdate {
        track_id: 1,
        t_s,
        position_ecef_m: pos,
        velocity_ecef_m_s: [0.0, 3000.0, 0.0],
        measured,
        hits: 50,
        boost_probability: 0.0,
        classification: Classification::Ballistic,
        forecast: f,
    }
}

/// The same update with the object coming straight down at 2 km/s.
fn descending(mut u: TrackUpdate<'_>) -> TrackUpdate<'_> {
    let p = u.position_ecef_m;
    let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
    u.velocity_ecef_m_s = [-2000.0 * p[0] / r, -2000.0 * p[1] / r, -2000.0 * p[2] / r];
    u
}

#[test]
fn warnings_need_two_agreeing_forecasts_and_are_lifted_only_after_the_dwell() {
    let (regions, cfg) = setup();
    let aomori = regions.index_of("JP-02").expect("JP-02");
    let a = cfg.authorities[0].clone();
    assert_eq!(a.nation.code(), "JPN");
    let mut eng = Engine::new(0, a.clone(), cfg.event.clone(), &cfg.forecast, &regions);
    let sea = at(40.0, 133.0, 200e3);
    let mut kinds = Vec::new();
    let step = |t: f64, p: f64, eng: &mut Engine| {
        let f = forecast(t, aomori, p);
        let n = eng.update(&update(t, sea, true, Some(&f)), &regions);
        n.into_iter()
            .map(|n| (t, n.kind, n.msg_type))
            .collect::<Vec<_>>()
    };
    // One forecast over the threshold is not enough; the second in a row is.
    kinds.extend(step(0.0, 0.9, &mut eng));
    assert!(kinds.iter().all(|k| k.1 != NoticeKind::TakeShelter));
    kinds.extend(step(4.0, 0.9, &mut eng));
    assert!(kinds
        .iter()
        .any(|k| k.1 == NoticeKind::TakeShelter && k.0 == 4.0));
    // Between the thresholds for a long time: the warning stays (hysteresis).
    for i in 0..30 {
        kinds.extend(step(8.0 + 4.0 * i as f64, 0.1, &mut eng));
    }
    assert!(kinds.iter().all(|k| k.1 != NoticeKind::ShelterLifted));
    // Under the cancel threshold for less than the dwell: still up.
    let t0 = 200.0;
    kinds.extend(step(t0, 0.0, &mut eng));
    kinds.extend(step(t0 + a.dwell_s - 4.0, 0.0, &mut eng));
    assert!(kinds.iter().all(|k| k.1 != NoticeKind::ShelterLifted));
    // After the dwell: lifted, and as nothing is left, a CAP Cancel.
    let lifted = step(t0 + a.dwell_s, 0.0, &mut eng);
    assert_eq!(lifted.len(), 1, "{lifted:?}");
    assert_eq!(lifted[0].1, NoticeKind::ShelterLifted);
    assert_eq!(lifted[0].2, MsgType::Cancel);
}

#[test]
fn overflight_is_reported_from_measured_positions_only() {
    let (regions, cfg) = setup();
    let mut eng = japan(&cfg, &regions);
    // Coasting over Aomori at 500 km: no claim.
    let mut all = Vec::new();
    all.extend(eng.update(&update(0.0, at(40.5, 138.0, 500e3), true, None), &regions));
    all.extend(eng.update(
        &update(30.0, at(40.82, 140.74, 500e3), false, None),
        &regions,
    ));
    assert!(
        all.iter().all(|n| n.kind != NoticeKind::PassedOver),
        "{all:?}"
    );
    // Measured over Aomori: reported, naming JP-02.
    let n = eng.update(
        &update(40.0, at(40.82, 140.74, 500e3), true, None),
        &regions,
    );
    let passed: Vec<_> = n
        .iter()
        .filter(|n| n.kind == NoticeKind::PassedOver)
        .collect();
    assert_eq!(passed.len(), 1);
    assert_eq!(regions.get(passed[0].regions[0]).id.as_str(), "JP-02");
    // Below the overflight height over land it is not "passing over".
    let mut eng2 = japan(&cfg, &regions);
    eng2.update(&update(0.0, at(40.5, 138.0, 15e3), true, None), &regions);
    let n = eng2.update(&update(5.0, at(40.82, 140.74, 10e3), true, None), &regions);
    assert!(n.iter().all(|n| n.kind != NoticeKind::PassedOver));
}

#[test]
fn a_track_lost_in_flight_is_reported_lost_not_fallen() {
    let (regions, cfg) = setup();
    let mut eng = japan(&cfg, &regions);
    eng.update(&update(0.0, at(39.5, 130.0, 300e3), true, None), &regions);
    let n = eng.track_ended(1, 0.0, 40.0, &regions);
    let result = n
        .iter()
        .find(|n| n.kind == NoticeKind::Result)
        .expect("result");
    assert!(
        matches!(result.outcomes[0].outcome, Outcome::TrackLost { .. }),
        "{result:?}"
    );
    // Seen low over the sea: fell at sea, observed.
    let mut eng = japan(&cfg, &regions);
    eng.update(&update(0.0, at(40.0, 134.0, 200e3), true, None), &regions);
    let low = at(40.0, 135.0, 5e3);
    eng.update(&descending(update(60.0, low, true, None)), &regions);
    let n = eng.track_ended(1, 60.0, 100.0, &regions);
    let result = n
        .iter()
        .find(|n| n.kind == NoticeKind::Result)
        .expect("result");
    assert!(
        matches!(
            result.outcomes[0].outcome,
            Outcome::FellAtSea {
                predicted: false,
                ..
            }
        ),
        "{result:?}"
    );
}

fn detection(mode: Mode) -> Detection {
    Detection {
        time: Epoch::from_unix_seconds(1.7e9),
        sensor: SensorId::new("jpn-ewr-sado").expect("id"),
        mode,
        measurement: Measurement::Radar {
            range_m: 1e6,
            az_rad: 4.0,
            el_rad: 0.2,
            range_rate_m_s: None,
        },
        noise: MeasurementNoise {
            sigma_range_m: 50.0,
            sigma_az_rad: 1e-3,
            sigma_el_rad: 1e-3,
            sigma_range_rate_m_s: 5.0,
        },
        sensor_ecef_m: at(38.0, 138.3, 0.0),
        truth: None,
    }
}

#[test]
fn the_world_of_the_input_decides_the_cap_status() {
    let (regions, cfg) = setup();
    // Exercise data cannot enter the real world, nor the reverse.
    assert!(InWorld::<RealWorld, _>::admit(detection(Mode::Exercise)).is_err());
    assert!(InWorld::<ExerciseWorld, _>::admit(detection(Mode::Real)).is_err());
    let drill = InWorld::<ExerciseWorld, _>::admit(detection(Mode::Exercise)).expect("admit");
    let real = InWorld::<RealWorld, _>::admit(detection(Mode::Real)).expect("admit");
    let mut eng = japan(&cfg, &regions);
    let notice = eng
        .update(&update(0.0, at(39.5, 130.0, 300e3), true, None), &regions)
        .into_iter()
        .next()
        .expect("launch detected");
    let mut w = CapWriter::new(&regions, &cfg.authorities, Epoch::from_unix_seconds(1.7e9));
    let from_drill = w.render(&drill.as_ref().map(|_| notice.clone()));
    let from_real = w.render(&real.as_ref().map(|_| notice.clone()));
    assert_eq!(from_drill.status, "Exercise");
    assert!(from_drill.xml.contains("<status>Exercise</status>"));
    assert_eq!(from_real.status, "Actual");
    assert!(from_real.xml.contains("<status>Actual</status>"));
}

#[test]
fn a_warning_after_a_cancel_opens_a_new_chain() {
    let (regions, cfg) = setup();
    let aomori = regions.index_of("JP-02").expect("JP-02");
    let dwell_s = cfg.authorities[0].dwell_s;
    let mut eng = japan(&cfg, &regions);
    let sea = at(40.0, 133.0, 200e3);
    let mut all = Vec::new();
    let mut t = 0.0;
    let mut step = |p: f64, eng: &mut Engine, all: &mut Vec<_>| {
        let f = forecast(t, aomori, p);
        for n in eng.update(&update(t, sea, true, Some(&f)), &regions) {
            all.push((n.kind, n.msg_type));
        }
        t += 4.0;
    };
    for _ in 0..3 {
        step(0.9, &mut eng, &mut all);
    }
    for _ in 0..((dwell_s / 4.0) as usize + 3) {
        step(0.0, &mut eng, &mut all);
    }
    assert_eq!(
        all.last(),
        Some(&(NoticeKind::ShelterLifted, MsgType::Cancel)),
        "{all:?}"
    );
    let before = all.len();
    for _ in 0..3 {
        step(0.9, &mut eng, &mut all);
    }
    // The chain was cancelled: the new warning is an Alert, not an Update of a dead chain.
    assert_eq!(
        all.get(before),
        Some(&(NoticeKind::TakeShelter, MsgType::Alert)),
        "{all:?}"
    );
}

#[test]
fn the_result_gives_the_all_clear_to_regions_warned_but_not_passed_over() {
    let (regions, cfg) = setup();
    let aomori = regions.index_of("JP-02").expect("JP-02");
    let hokkaido = regions.index_of("JP-01").expect("JP-01");
    let mut eng = japan(&cfg, &regions);
    // Warned for Aomori from forecasts while over the sea, then seen over Hokkaido.
    for i in 0..3 {
        let t = 4.0 * i as f64;
        let f = forecast(t, aomori, 0.9);
        eng.update(&update(t, at(40.0, 133.0, 200e3), true, Some(&f)), &regions);
    }
    let n = eng.update(
        &update(20.0, at(43.06, 141.35, 500e3), true, None),
        &regions,
    );
    assert!(n
        .iter()
        .any(|n| n.kind == NoticeKind::PassedOver && n.regions == vec![hokkaido]));
    let n = eng.track_ended(1, 20.0, 60.0, &regions);
    let result = n
        .iter()
        .find(|n| n.kind == NoticeKind::Result)
        .expect("result");
    assert_eq!(result.regions, vec![hokkaido]);
    assert_eq!(result.released, vec![aomori]);
    assert!(result.warned.is_empty());
    // The CAP result's areas name both prefectures.
    let mut w = CapWriter::new(&regions, &cfg.authorities, Epoch::from_unix_seconds(1.7e9));
    let real = InWorld::<RealWorld, _>::admit(detection(Mode::Real)).expect("admit");
    let cap = w.render(&real.as_ref().map(|_| result.clone()));
    assert!(cap.xml.contains("<value>JP-01</value>"), "{}", cap.xml);
    assert!(cap.xml.contains("<value>JP-02</value>"), "{}", cap.xml);
}

#[test]
fn a_fall_is_claimed_only_for_a_descending_object_and_guam_is_land() {
    let (regions, cfg) = setup();
    // Japan's authority (it announces launches, so it always reports a result).
    let new = || japan(&cfg, &regions);
    let guam = at(13.45, 144.78, 5e3);
    // Seen coming down low over Guam: fell in US-GU, not "at sea" (the Pacific area overlaps).
    let mut eng = new();
    eng.update(&update(0.0, at(14.5, 143.0, 200e3), true, None), &regions);
    eng.update(&descending(update(60.0, guam, true, None)), &regions);
    let n = eng.track_ended(1, 60.0, 100.0, &regions);
    let result = n
        .iter()
        .find(|n| n.kind == NoticeKind::Result)
        .expect("result");
    match &result.outcomes[0].outcome {
        Outcome::FellInRegion {
            region, predicted, ..
        } => {
            assert_eq!(regions.get(*region).id.as_str(), "US-GU");
            assert!(!predicted);
        }
        other => panic!("expected a fall in Guam, got {other:?}"),
    }
    // Low but climbing: no fall is claimed.
    let mut eng = new();
    eng.update(&update(0.0, at(14.5, 143.0, 200e3), true, None), &regions);
    let mut up = descending(update(60.0, guam, true, None));
    up.velocity_ecef_m_s = up.velocity_ecef_m_s.map(|v| -v);
    eng.update(&up, &regions);
    let n = eng.track_ended(1, 60.0, 100.0, &regions);
    let result = n
        .iter()
        .find(|n| n.kind == NoticeKind::Result)
        .expect("result");
    assert!(
        matches!(result.outcomes[0].outcome, Outcome::TrackLost { .. }),
        "{result:?}"
    );
}

#[test]
fn a_track_joining_an_established_event_warns_only_once_established_itself() {
    // Track 1 has followed the launch for a while and threatens nothing; track 2 appears next
    // to it (a separating stage, or a blend near staging) with a dozen hits and a forecast on
    // Aomori. Its forecasts count for a warning only once it has 30 hits of its own.
    let (regions, cfg) = setup();
    let aomori = regions.index_of("JP-02").expect("JP-02");
    let mut eng = japan(&cfg, &regions);
    let sea = at(40.0, 133.0, 200e3);
    let quiet = forecast(0.0, aomori, 0.0);
    eng.update(&update(0.0, sea, true, Some(&quiet)), &regions);
    let mut shelter_at = None;
    for (k, hits) in [12, 16, 20, 26, 31, 35].into_iter().enumerate() {
        let t = 4.0 * (k + 1) as f64;
        let mut f = forecast(t, aomori, 0.9);
        f.track_id = 2;
        let mut u = update(t, sea, true, Some(&f));
        u.track_id = 2;
        u.hits = hits;
        let n = eng.update(&u, &regions);
        if shelter_at.is_none() && n.iter().any(|n| n.kind == NoticeKind::TakeShelter) {
            shelter_at = Some(hits);
        }
        eng.update(&update(t, sea, true, Some(&quiet)), &regions);
    }
    assert_eq!(
        shelter_at,
        Some(35),
        "warned from a latecomer's forecasts before two of them were established"
    );
    // The first track of an event is not held back: two forecasts suffice.
    let mut eng = japan(&cfg, &regions);
    let f = forecast(0.0, aomori, 0.9);
    let mut u = update(0.0, sea, true, Some(&f));
    u.hits = 12;
    eng.update(&u, &regions);
    let f = forecast(4.0, aomori, 0.9);
    let mut u = update(4.0, sea, true, Some(&f));
    u.hits = 14;
    let n = eng.update(&u, &regions);
    assert!(n.iter().any(|n| n.kind == NoticeKind::TakeShelter), "{n:?}");
}

/// A result notice of Korea's authority about `outcomes`, rendered: the English, Japanese and
/// Korean descriptions.
fn result_descriptions(
    regions: &RegionSet,
    cfg: &WarnConfig,
    outcomes: Vec<ObjectOutcome>,
) -> Vec<String> {
    let korea = cfg
        .authorities
        .iter()
        .position(|a| a.nation.code() == "KOR")
        .expect("Korea's authority");
    let notice = Notice {
        authority: korea,
        event: 1,
        seq: 3,
        t_s: 900.0,
        kind: NoticeKind::Result,
        msg_type: MsgType::Update,
        regions: vec![],
        warned: vec![],
        probability: None,
        certainty: Certainty::Observed,
        expected_t_s: None,
        track_ids: outcomes.iter().map(|o| o.track_id).collect(),
        outcomes,
        released: vec![],
    };
    let mut w = CapWriter::new(regions, &cfg.authorities, Epoch::from_unix_seconds(1.7e9));
    let real = InWorld::<RealWorld, _>::admit(detection(Mode::Real)).expect("admit");
    let cap = w.render(&real.as_ref().map(|_| notice.clone()));
    cap.xml
        .split("<description>")
        .skip(1)
        .filter_map(|d| d.split("</description>").next())
        .map(|d| d.replace("&apos;", "'"))
        .collect()
}

/// A failed launch's debris (slv-failure: 115 tracks ending in the Yellow and East China Seas):
/// the public result says where objects came down, with the box of their points and whether
/// they are estimates, in each language, rather than 115 sentences. A launch with a few objects
/// still names each one.
#[test]
fn a_cloud_of_debris_is_reported_by_place_not_object_by_object() {
    let (regions, cfg) = setup();
    let jeolla = regions.index_of("KR-46").expect("KR-46");
    let sea = vec![
        regions.index_of("kr-eez-approx").expect("area"),
        regions.index_of("yellow-sea").expect("area"),
    ];
    let mut outcomes: Vec<ObjectOutcome> = (0..40)
        .map(|i| ObjectOutcome {
            track_id: 100 + i,
            t_s: 600.0 + i as f64,
            outcome: Outcome::FellAtSea {
                lat_deg: 33.1 + 0.9 * (i % 10) as f64 / 9.0,
                lon_deg: 124.9 + 0.5 * (i / 10) as f64 / 3.0,
                areas: sea.clone(),
                predicted: i < 25,
            },
            passed_over: vec![],
        })
        .collect();
    for (k, predicted) in [(0, true), (1, false)] {
        outcomes.insert(
            5 * k,
            ObjectOutcome {
                track_id: 10 + k as u64,
                t_s: 650.0,
                outcome: Outcome::FellInRegion {
                    region: jeolla,
                    lat_deg: 34.8,
                    lon_deg: 126.9,
                    predicted,
                },
                passed_over: vec![],
            },
        );
    }
    for i in 0..3 {
        outcomes.push(ObjectOutcome {
            track_id: 200 + i,
            t_s: 660.0 + 60.0 * i as f64,
            outcome: Outcome::TrackLost {
                lat_deg: 35.0,
                lon_deg: 127.0,
                alt_km: 40.0,
            },
            passed_over: vec![],
        });
    }
    let d = result_descriptions(&regions, &cfg, outcomes.clone());
    let all = d.join("\n");
    let en = d
        .iter()
        .find(|x| x.contains("Objects"))
        .unwrap_or_else(|| panic!("an English description: {all}"));
    let jeolla_en = &regions.get(jeolla).names.en;
    // Land first, then the sea, then the lost tracks; no counts (a group counts tracks, and
    // one object can end several).
    let land = en
        .find(&format!(
            "Objects fell in {jeolla_en}; some positions are estimated."
        ))
        .unwrap_or_else(|| panic!("the fall on land: {en}"));
    let at_sea = en
        .find("Objects fell at sea between 33.1°N 124.9°E and 34.0°N 125.4°E (")
        .unwrap_or_else(|| panic!("the fall at sea, with its box: {en}"));
    assert!(land < at_sea, "{en}");
    assert!(
        en.contains("Yellow Sea); some positions are estimated."),
        "{en}"
    );
    assert!(
        en.contains("Tracking of some objects ended between "),
        "{en}"
    );
    assert!(!en.contains("Object 1"), "listed one by one: {en}");
    assert!(
        all.contains("物体が北緯33.1度 東経124.9度から北緯34.0度 東経125.4度にかけての海上（"),
        "{all}"
    );
    assert!(all.contains("黄海）に落下しました（一部は推定）"), "{all}");
    assert!(
        all.contains("물체들이 북위 33.1도 동경 124.9도에서 북위 34.0도 동경 125.4도 사이 해상("),
        "{all}"
    );
    assert!(all.contains("서해)에 낙하했습니다(일부는 추정)"), "{all}");
    // A few objects: each named.
    let d = result_descriptions(&regions, &cfg, outcomes[..3].to_vec());
    let en = d
        .iter()
        .find(|x| x.contains("Object"))
        .unwrap_or_else(|| panic!("an English description: {d:?}"));
    assert!(en.contains("Object 1 fell in"), "{en}");
    assert!(en.contains("Object 3 fell at sea near"), "{en}");
}

/// Falls either side of the 180° meridian (the IRBM's impact lies near 178°E) box the few
/// degrees they span, not the whole Earth.
#[test]
fn a_group_across_the_date_line_spans_a_few_degrees() {
    let fall = |lon_deg: f64| ObjectOutcome {
        track_id: 1,
        t_s: 0.0,
        outcome: Outcome::FellAtSea {
            lat_deg: 33.0,
            lon_deg,
            areas: vec![],
            predicted: false,
        },
        passed_over: vec![],
    };
    let g = group_outcomes(&[fall(179.8), fall(-179.6), fall(178.9)]);
    assert_eq!(g.len(), 1);
    let (sw, ne) = (g[0].south_west.expect("box"), g[0].north_east.expect("box"));
    assert!(
        (sw.1 - 178.9).abs() < 1e-9 && (ne.1 + 179.6).abs() < 1e-9,
        "{sw:?} {ne:?}"
    );
    assert_eq!(g[0].count, 3);
}
