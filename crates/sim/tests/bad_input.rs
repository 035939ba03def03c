//! Malformed or impossible scenarios are refused with an error that names the field and the
//! reason, and never panic.

use proptest::prelude::*;
use tripoint_sim::scenario::{Scenario, ScenarioError};
use tripoint_sim::world::run;

const GOOD: &str = r#"
[scenario]
name = "t"
mode = "real"
start = "2022-10-03T22:21:00Z"
duration_s = 600.0
seed = 1

[[vehicle]]
name = "custom"
payload_mass_kg = 500.0
payload_beta_kg_m2 = 3000.0
[[vehicle.stage]]
burn_time_s = 45.0
propellant_mass_kg = 5000.0
dry_mass_kg = 650.0
isp_s = 255.0
diameter_m = 0.95

[[launch]]
id = "a"
vehicle = "custom"
lat_deg = 39.9
lon_deg = 127.5
azimuth_deg = 90.0
time_s = 10.0
target = { apogee_km = 50.0, range_km = 300.0 }

[[sensor]]
id = "r1"
owner = "KOR"
kind = "radar"
lat_deg = 37.5
lon_deg = 130.5
max_range_km = 800.0
revisit_s = 2.0
pd = 0.9
sigma_range_m = 20.0
sigma_az_deg = 0.1
sigma_el_deg = 0.1
"#;

fn error_for(text: &str) -> String {
    match Scenario::from_toml(text) {
        Ok(s) => match run(&s, &mut |_| {}) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_baseline_is_good() {
    let s = Scenario::from_toml(GOOD).expect("valid");
    run(&s, &mut |_| {}).expect("runs");
}

#[test]
fn unknown_field_is_named() {
    let e = error_for(&GOOD.replace("seed = 1", "seed = 1\ncolour = \"red\""));
    assert!(e.contains("unknown field `colour`"), "{e}");
}

#[test]
fn negative_mass_is_named() {
    let e = error_for(&GOOD.replace("dry_mass_kg = 650.0", "dry_mass_kg = -650.0"));
    assert!(
        e.contains("vehicle[0].stage[0].dry_mass_kg") && e.contains("positive"),
        "{e}"
    );
}

#[test]
fn unreachable_apogee_is_named_with_what_is_reachable() {
    let e = error_for(&GOOD.replace("apogee_km = 50.0", "apogee_km = 3000.0"));
    assert!(
        e.contains("launch[0].target") && e.contains("cannot reach") && e.contains("closest"),
        "{e}"
    );
}

#[test]
fn sensor_below_the_ellipsoid_is_named() {
    let e = error_for(&GOOD.replace("lon_deg = 130.5", "lon_deg = 130.5\nalt_m = -5000.0"));
    assert!(
        e.contains("sensor[0].alt_m") && e.contains("below the ellipsoid"),
        "{e}"
    );
}

#[test]
fn other_mistakes_are_named() {
    for (from, to, want) in [
        ("mode = \"real\"", "mode = \"drill\"", "scenario.mode"),
        (
            "start = \"2022-10-03T22:21:00Z\"",
            "start = \"yesterday\"",
            "scenario.start",
        ),
        (
            "vehicle = \"custom\"",
            "vehicle = \"rocket\"",
            "launch[0].vehicle",
        ),
        ("lat_deg = 39.9", "lat_deg = 95.0", "launch[0].lat_deg"),
        ("owner = \"KOR\"", "owner = \"Korea\"", "sensor[0].owner"),
        ("kind = \"radar\"", "kind = \"sonar\"", "sensor[0].kind"),
        ("pd = 0.9", "pd = 1.5", "sensor[0].pd"),
        ("max_range_km = 800.0", "", "sensor[0].max_range_km"),
        (
            "target = { apogee_km = 50.0, range_km = 300.0 }",
            "target = { apogee_km = 50.0 }",
            "launch[0].target",
        ),
        ("id = \"a\"", "id = \"a/b\"", "launch[0].id"),
        (
            "duration_s = 600.0",
            "duration_s = nan",
            "scenario.duration_s",
        ),
        ("isp_s = 255.0", "isp_s = 255.0\nthrust_n = 1000.0", "isp_s"),
    ] {
        assert!(GOOD.contains(from), "{from}");
        let e = error_for(&GOOD.replace(from, to));
        assert!(e.contains(want), "{from} -> {to}: {e}");
    }
    assert!(matches!(
        Scenario::from_toml("not toml ["),
        Err(ScenarioError::Parse(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    /// Arbitrary edits never panic: either a scenario or an error.
    #[test]
    fn mangled_scenarios_never_panic(cut in 0usize..GOOD.len(), junk in "[ -~\n]{0,20}") {
        let mut text = GOOD.to_owned();
        let cut = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(cut, &junk);
        let _ = Scenario::from_toml(&text);
    }

    /// Any number in any numeric field is accepted or refused, never a panic.
    #[test]
    fn any_numbers_never_panic(v in prop::num::f64::ANY, which in 0usize..6) {
        let field = ["duration_s = 600.0", "burn_time_s = 45.0", "lat_deg = 39.9", "azimuth_deg = 90.0", "sigma_az_deg = 0.1", "time_s = 10.0"][which];
        let name = field.split(" = ").next().unwrap_or_default();
        let text = GOOD.replacen(field, &format!("{name} = {v:?}").replace("NaN", "nan"), 1);
        let _ = Scenario::from_toml(&text);
    }
}
