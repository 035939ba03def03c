//! The propagator checked against invariants and closed forms: the Jacobi integral, circular
//! orbits, Kepler's time of flight, and millimetre accuracy over a 30-minute arc.

use tripoint_physics::dynamics::{ecef_velocity, BallisticDynamics, ForceModel};
use tripoint_physics::earth::{GM_M3_S2, WGS84_A_M};
use tripoint_physics::gravity::GravityModel;
use tripoint_physics::integrator::{Dopri5, Tolerances};
use tripoint_physics::orbit::summarize;
use tripoint_physics::vec3::{norm, sub};
use tripoint_physics::Geodetic;

/// A state at 400 km over the Sea of Japan moving north-east at near-orbital speed: stays
/// above the atmosphere for two hours without drag.
fn high_arc() -> [f64; 6] {
    let g = Geodetic::from_deg(40.0, 135.0, 400e3).expect("valid");
    let r = g.to_ecef_m();
    let vi = 7_720.0;
    let dir = [
        (g.north_ecef()[0] + g.east_ecef()[0]) / 2f64.sqrt(),
        (g.north_ecef()[1] + g.east_ecef()[1]) / 2f64.sqrt(),
        (g.north_ecef()[2] + g.east_ecef()[2]) / 2f64.sqrt(),
    ];
    let v = ecef_velocity(r, [vi * dir[0], vi * dir[1], vi * dir[2]]);
    [r[0], r[1], r[2], v[0], v[1], v[2]]
}

#[test]
fn jacobi_integral_is_conserved_over_two_hours() {
    let model = ForceModel::VACUUM;
    let y0 = high_arc();
    let c0 = model.jacobi_integral(&y0);
    let mut worst: f64 = 0.0;
    let mut ig = Dopri5::new(Tolerances::PRECISE);
    let out = ig
        .integrate(
            &BallisticDynamics(model),
            0.0,
            y0,
            7200.0,
            |_, _| 1.0,
            |s| {
                let c = model.jacobi_integral(&s.y0());
                worst = worst.max(((c - c0) / c0).abs());
            },
        )
        .expect("integrates");
    let c1 = model.jacobi_integral(&out.y());
    worst = worst.max(((c1 - c0) / c0).abs());
    eprintln!(
        "Jacobi drift over 2 h: {worst:e} ({} steps)",
        ig.stats.accepted
    );
    assert!(worst < 1e-9, "relative drift {worst:e}");
    assert!(summarize([y0[0], y0[1], y0[2]], [y0[3], y0[4], y0[5]]).perigee_alt_m > 100e3);
}

#[test]
fn circular_orbit_stays_circular_in_the_rotating_frame() {
    let model = ForceModel {
        gravity: GravityModel::Central,
        earth_rotation: true,
        beta_kg_m2: None,
        air: tripoint_physics::dynamics::Air::Standard,
    };
    let r0 = WGS84_A_M + 700e3;
    let vc = (GM_M3_S2 / r0).sqrt();
    // Inclined 50°: the rotating frame makes this a non-trivial path in ECEF.
    let (s, c) = 50f64.to_radians().sin_cos();
    let r = [r0, 0.0, 0.0];
    let v = ecef_velocity(r, [0.0, vc * c, vc * s]);
    let mut ig = Dopri5::new(Tolerances::PRECISE);
    let mut worst: f64 = 0.0;
    ig.integrate(
        &BallisticDynamics(model),
        0.0,
        [r[0], r[1], r[2], v[0], v[1], v[2]],
        7200.0,
        |_, _| 1.0,
        |st| {
            for k in 0..8 {
                let y = st.eval(st.t0_s + st.h_s * k as f64 / 8.0);
                worst = worst.max((norm([y[0], y[1], y[2]]) - r0).abs());
            }
        },
    )
    .expect("integrates");
    eprintln!("circular orbit radius excursion over 2 h: {worst:e} m");
    assert!(worst < 1e-2, "radius changed by {worst} m");
}

/// Closed-form time of flight between two radii on a Kepler ellipse (Bate, Mueller & White,
/// *Fundamentals of Astrodynamics*, §4.2), compared with the integrator's impact event.
#[test]
fn kepler_time_of_flight_matches_closed_form() {
    let model = ForceModel {
        gravity: GravityModel::Central,
        earth_rotation: false,
        beta_kg_m2: None,
        air: tripoint_physics::dynamics::Air::Standard,
    };
    let re = WGS84_A_M;
    let r0 = [re, 0.0, 0.0];
    let (speed, gamma) = (6_000.0f64, 35f64.to_radians());
    let v0 = [speed * gamma.sin(), speed * gamma.cos(), 0.0];
    // Elements.
    let energy = 0.5 * speed * speed - GM_M3_S2 / re;
    let a = -GM_M3_S2 / (2.0 * energy);
    let h = re * speed * gamma.cos();
    let p = h * h / GM_M3_S2;
    let e = (1.0 - p / a).sqrt();
    // Launch is at true anomaly −ν0, impact at +ν0 (symmetric about apogee... of perigee axis).
    let cos_nu = (p / re - 1.0) / e;
    let ecc_anom = ((e + cos_nu) / (1.0 + e * cos_nu)).acos();
    let n = (GM_M3_S2 / a.powi(3)).sqrt();
    // Time from the ascending crossing (E = 2π − E0) round through apogee to the descending one.
    let m0 = ecc_anom - e * ecc_anom.sin();
    let tof = (2.0 * std::f64::consts::PI - 2.0 * m0) / n;

    let mut ig = Dopri5::new(Tolerances::PRECISE);
    let out = ig
        .integrate(
            &BallisticDynamics(model),
            0.0,
            [r0[0], r0[1], r0[2], v0[0], v0[1], v0[2]],
            10_000.0,
            // Start slightly above zero so the launch point itself is not an event.
            |t, y| {
                if t < 1.0 {
                    1.0
                } else {
                    norm([y[0], y[1], y[2]]) - re
                }
            },
            |_| {},
        )
        .expect("integrates");
    eprintln!("time of flight: integrator {} s, Kepler {tof} s", out.t_s());
    assert!((out.t_s() - tof).abs() < 1e-5, "{} vs {tof}", out.t_s());
}

/// The `PRECISE` tolerances give ≤ 1 mm over a 30-minute drag-free ballistic arc, checked
/// against a run 100× tighter.
#[test]
fn thirty_minute_arc_is_accurate_to_a_millimetre() {
    let y0 = high_arc();
    let dynamics = BallisticDynamics(ForceModel::VACUUM);
    let run = |tol: Tolerances| {
        let mut ig = Dopri5::new(tol);
        ig.integrate(&dynamics, 0.0, y0, 1800.0, |_, _| 1.0, |_| {})
            .expect("integrates")
            .y()
    };
    let fast = run(Tolerances::PRECISE);
    let reference = run(Tolerances {
        rel: 1e-14,
        abs_pos_m: 1e-8,
        abs_vel_m_s: 1e-11,
        max_step_s: 10.0,
    });
    let err = norm(sub(
        [fast[0], fast[1], fast[2]],
        [reference[0], reference[1], reference[2]],
    ));
    eprintln!("30-min arc position error: {err:e} m");
    assert!(err < 1e-3, "{err} m");
}
