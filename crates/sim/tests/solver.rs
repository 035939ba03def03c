//! The trajectory solvers reach what they are asked to, within 1%, with the full physics.

use std::time::Instant;
use tripoint_physics::Geodetic;
use tripoint_sim::solver::{solve, SolveError, Target};
use tripoint_sim::vehicle::Vehicle;

fn jagang() -> Geodetic {
    Geodetic::from_deg(40.61, 126.43, 100.0).expect("valid")
}

fn check(vehicle: &str, az_deg: f64, target: Target) -> tripoint_sim::solver::Performance {
    let v = Vehicle::builtin(vehicle).expect("builtin");
    let t0 = Instant::now();
    let p = solve(&v, jagang(), az_deg.to_radians(), target).expect("solvable");
    eprintln!(
        "{vehicle} {target:?}: apogee {:.1} km range {:.1} km flight {:.0} s burnout {:.0} s pitch {:.2}°/{:.2}° {:?} ({:.0} ms)",
        p.apogee_m / 1e3,
        p.range_m / 1e3,
        p.flight_time_s,
        p.burnout_time_s,
        p.program.pitch1_rad.to_degrees(),
        p.program.pitch2_rad.to_degrees(),
        p.program.cutoff,
        t0.elapsed().as_secs_f64() * 1e3
    );
    p
}

#[test]
fn irbm_reaches_requested_apogee_and_range() {
    let p = check(
        "irbm",
        80.0,
        Target::ApogeeAndRange {
            apogee_m: 970e3,
            range_m: 4600e3,
        },
    );
    assert!((p.apogee_m / 970e3 - 1.0).abs() < 0.01);
    assert!((p.range_m / 4600e3 - 1.0).abs() < 0.01);
}

#[test]
fn lofted_icbm_reaches_requested_apogee_and_range() {
    let p = check(
        "icbm",
        95.0,
        Target::ApogeeAndRange {
            apogee_m: 6000e3,
            range_m: 1000e3,
        },
    );
    assert!((p.apogee_m / 6000e3 - 1.0).abs() < 0.01);
    assert!((p.range_m / 1000e3 - 1.0).abs() < 0.01);
}

#[test]
fn depressed_srbm_reaches_requested_apogee_and_range() {
    for (a, r) in [(25e3, 110e3), (50e3, 400e3), (90e3, 670e3)] {
        let p = check(
            "srbm",
            90.0,
            Target::ApogeeAndRange {
                apogee_m: a,
                range_m: r,
            },
        );
        assert!((p.apogee_m / a - 1.0).abs() < 0.01);
        assert!((p.range_m / r - 1.0).abs() < 0.01);
    }
}

#[test]
fn minimum_energy_trajectory_is_flatter_than_lofted_and_reaches_range() {
    let p = check("irbm", 80.0, Target::MinimumEnergy { range_m: 3000e3 });
    assert!((p.range_m / 3000e3 - 1.0).abs() < 0.01);
    // Minimum-energy apogee for 3000 km is roughly a quarter of the range.
    assert!(p.apogee_m > 500e3 && p.apogee_m < 1000e3, "{}", p.apogee_m);
}

#[test]
fn slv_reaches_low_earth_orbit() {
    let p = check("slv", 180.0, Target::Orbit { altitude_m: 500e3 });
    assert!(
        p.burnout_orbit.perigee_alt_m > 300e3,
        "{:?}",
        p.burnout_orbit
    );
    assert!((p.burnout_height_m / 500e3 - 1.0).abs() < 0.02);
}

#[test]
fn impossible_targets_are_refused_with_the_best_reached() {
    let v = Vehicle::builtin("srbm").expect("builtin");
    let e = solve(
        &v,
        jagang(),
        1.0,
        Target::ApogeeAndRange {
            apogee_m: 2000e3,
            range_m: 300e3,
        },
    )
    .expect_err("an SRBM cannot loft to 2000 km");
    assert!(matches!(e, SolveError::Unreachable { .. }));
    assert!(e.to_string().contains("srbm"), "{e}");
    let e =
        solve(&v, jagang(), 1.0, Target::MinimumEnergy { range_m: 5000e3 }).expect_err("too far");
    assert!(e.to_string().contains("maximum range"), "{e}");
}
