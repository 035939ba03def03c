//! Trajectory solvers: find the pitch program (and thrust cut-off) that makes a vehicle reach
//!   (a) a requested apogee and ground range (lofted, depressed or anything between),
//!   (b) a requested ground range on the minimum-energy trajectory,
//!   (c) a circular low Earth orbit at a requested altitude.
//!
//! Method: a coarse grid over the controls for a robust start, then damped Newton iterations
//! with finite-difference Jacobians ((a), (c)); for (b), nested golden-section (maximum range
//! over pitch for a given energy) and bisection (least energy whose maximum range reaches the
//! target). Each evaluation flies the payload alone through the full physics (J2, rotation,
//! drag).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tripoint_physics::geodesy::{ground_line, height_above_ellipsoid_m};
use tripoint_physics::integrator::Tolerances;
use tripoint_physics::orbit::{summarize, OrbitSummary};
use tripoint_physics::Geodetic;

use crate::flight::{fly, inertial_flight_path_angle, Cutoff, FlyOptions, LaunchSpec, Program};
use crate::trajectory::EndReason;
use crate::vehicle::Vehicle;

/// What a launch must achieve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    ApogeeAndRange { apogee_m: f64, range_m: f64 },
    MinimumEnergy { range_m: f64 },
    Orbit { altitude_m: f64 },
}

/// Why a target cannot be reached.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SolveError {
    #[error("vehicle {vehicle:?} cannot reach {target}: the closest it gets is {best}")]
    Unreachable {
        vehicle: String,
        target: String,
        best: String,
    },
    #[error("physics failed while solving the trajectory: {0}")]
    Physics(#[from] tripoint_physics::PhysicsError),
}

/// The performance of one flown program.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Performance {
    pub program: Program,
    pub apogee_m: f64,
    /// Time from launch to apogee (s).
    pub apogee_time_s: f64,
    /// Ground range from the launch site to the impact point (m); NaN without impact.
    pub range_m: f64,
    /// Time from launch to impact (s); NaN without impact.
    pub flight_time_s: f64,
    /// Time from launch to the end of thrust (s).
    pub burnout_time_s: f64,
    pub impact: Option<Geodetic>,
    /// Osculating orbit at burnout.
    pub burnout_orbit: OrbitSummary,
    /// Height (m) and inertial flight-path angle (rad) at burnout.
    pub burnout_height_m: f64,
    pub burnout_gamma_rad: f64,
}

/// Flies the payload alone with a given program.
pub fn evaluate(
    vehicle: &Vehicle,
    site: Geodetic,
    azimuth_rad: f64,
    program: Program,
    coast: bool,
) -> Result<Performance, SolveError> {
    let spec = LaunchSpec {
        site,
        azimuth_rad,
        t_launch_s: 0.0,
        vehicle: vehicle.clone(),
        program,
        failure: None,
        breakup: None,
        separation_dv_m_s: 0.0,
    };
    let t_end = if coast {
        vehicle.total_burn_s() + 4.0 * 3600.0
    } else {
        vehicle.total_burn_s()
    };
    let opts = FlyOptions {
        secondary_objects: false,
        t_end_s: t_end,
        tol: Tolerances {
            rel: 1e-8,
            abs_pos_m: 1e-2,
            abs_vel_m_s: 1e-5,
            max_step_s: 120.0,
        },
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let flight = fly(&spec, &opts, &mut rng)?;
    let payload = &flight.objects[0].trajectory;
    let (apogee_time_s, apogee_m) = payload.apogee();
    let (range_m, flight_time_s, impact) = if payload.end == EndReason::Impact {
        let y = payload.final_state();
        let p = Geodetic::from_ecef_m([y[0], y[1], y[2]])?;
        (
            ground_line(&site, &p).distance_m,
            payload.t_end_s(),
            Some(p),
        )
    } else {
        (f64::NAN, f64::NAN, None)
    };
    let yb = flight.burnout_state;
    Ok(Performance {
        program,
        apogee_m,
        apogee_time_s,
        range_m,
        flight_time_s,
        burnout_time_s: flight.burnout_t_s,
        impact,
        burnout_orbit: summarize([yb[0], yb[1], yb[2]], [yb[3], yb[4], yb[5]]),
        burnout_height_m: height_above_ellipsoid_m([yb[0], yb[1], yb[2]]),
        burnout_gamma_rad: inertial_flight_path_angle(&yb),
    })
}

fn vertical_rise_s(vehicle: &Vehicle) -> f64 {
    (0.08 * vehicle.stages[0].burn_time_s).clamp(2.0, 10.0)
}

fn ballistic_program(vehicle: &Vehicle, pitch_rad: f64, fraction: f64) -> Program {
    Program {
        vertical_s: vertical_rise_s(vehicle),
        pitch1_rad: pitch_rad,
        pitch2_rad: pitch_rad,
        cutoff: Cutoff::Fraction(fraction),
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::ApogeeAndRange { apogee_m, range_m } => {
            format!(
                "apogee {:.0} km and range {:.0} km",
                apogee_m / 1e3,
                range_m / 1e3
            )
        }
        Target::MinimumEnergy { range_m } => {
            format!(
                "range {:.0} km on a minimum-energy trajectory",
                range_m / 1e3
            )
        }
        Target::Orbit { altitude_m } => format!("a {:.0} km circular orbit", altitude_m / 1e3),
    }
}

/// Finds the program that reaches `target`.
pub fn solve(
    vehicle: &Vehicle,
    site: Geodetic,
    azimuth_rad: f64,
    target: Target,
) -> Result<Performance, SolveError> {
    let unreachable = |best: String| SolveError::Unreachable {
        vehicle: vehicle.name.clone(),
        target: describe(&target),
        best,
    };
    match target {
        Target::ApogeeAndRange { apogee_m, range_m } => {
            let resid = |x: [f64; 2]| -> Result<([f64; 2], Performance), SolveError> {
                let p = evaluate(
                    vehicle,
                    site,
                    azimuth_rad,
                    ballistic_program(vehicle, x[0], x[1]),
                    true,
                )?;
                let r = if p.range_m.is_finite() {
                    p.range_m / range_m - 1.0
                } else {
                    10.0
                };
                Ok(([p.apogee_m / apogee_m - 1.0, r], p))
            };
            let lo = [0.2f64.to_radians(), 0.02];
            let hi = [88f64.to_radians(), 1.0];
            let (_, perf) = newton2(resid, lo, hi, [28, 14])?;
            let range_err = (perf.range_m / range_m - 1.0).abs();
            if (perf.apogee_m / apogee_m - 1.0).abs() > 2e-3
                || range_err.is_nan()
                || range_err > 2e-3
            {
                return Err(unreachable(format!(
                    "apogee {:.0} km with range {:.0} km",
                    perf.apogee_m / 1e3,
                    perf.range_m / 1e3
                )));
            }
            Ok(perf)
        }
        Target::MinimumEnergy { range_m } => {
            let max_range = |f: f64| -> Result<Performance, SolveError> {
                let gr = 0.618_033_988_749_895;
                let (mut a, mut b) = (3f64.to_radians(), 88f64.to_radians());
                let range = |th: f64| -> Result<(f64, Performance), SolveError> {
                    let p = evaluate(
                        vehicle,
                        site,
                        azimuth_rad,
                        ballistic_program(vehicle, th, f),
                        true,
                    )?;
                    Ok((
                        if p.range_m.is_finite() {
                            p.range_m
                        } else {
                            -1.0
                        },
                        p,
                    ))
                };
                let mut c = b - gr * (b - a);
                let mut d = a + gr * (b - a);
                let (mut rc, mut pc) = range(c)?;
                let (mut rd, mut pd) = range(d)?;
                for _ in 0..32 {
                    if rc > rd {
                        b = d;
                        d = c;
                        rd = rc;
                        pd = pc;
                        c = b - gr * (b - a);
                        (rc, pc) = range(c)?;
                    } else {
                        a = c;
                        c = d;
                        rc = rd;
                        pc = pd;
                        d = a + gr * (b - a);
                        (rd, pd) = range(d)?;
                    }
                }
                Ok(if rc > rd { pc } else { pd })
            };
            let full = max_range(1.0)?;
            if full.range_m.is_nan() || full.range_m < range_m {
                return Err(unreachable(format!(
                    "a maximum range of {:.0} km",
                    full.range_m.max(0.0) / 1e3
                )));
            }
            let (mut lo, mut hi) = (0.0f64, 1.0f64);
            let mut best = full;
            for _ in 0..40 {
                let mid = 0.5 * (lo + hi);
                let p = max_range(mid.max(1e-3))?;
                if p.range_m >= range_m {
                    hi = mid;
                    best = p;
                } else {
                    lo = mid;
                }
                if (best.range_m / range_m - 1.0).abs() < 2e-4 {
                    break;
                }
            }
            if (best.range_m / range_m - 1.0).abs() > 5e-3 {
                return Err(unreachable(format!(
                    "a range of {:.0} km",
                    best.range_m / 1e3
                )));
            }
            Ok(best)
        }
        Target::Orbit { altitude_m } => {
            let resid = |x: [f64; 2]| -> Result<([f64; 2], Performance), SolveError> {
                let program = Program {
                    vertical_s: vertical_rise_s(vehicle),
                    pitch1_rad: x[0],
                    pitch2_rad: x[1],
                    cutoff: Cutoff::CircularSpeed,
                };
                let p = evaluate(vehicle, site, azimuth_rad, program, false)?;
                // Reached circular speed before the propellant ran out?
                let reached = p.burnout_time_s < vehicle.total_burn_s() - 1e-6;
                let mut r = [
                    p.burnout_height_m / altitude_m - 1.0,
                    p.burnout_gamma_rad * 10.0,
                ];
                if !reached {
                    let deficit = 1.0
                        - p.burnout_orbit.specific_energy_j_kg.min(0.0)
                            / -(tripoint_physics::earth::GM_M3_S2
                                / (2.0 * (tripoint_physics::earth::WGS84_A_M + altitude_m)));
                    r[0] += 5.0 + deficit.abs();
                }
                Ok((r, p))
            };
            let lo = [2f64.to_radians(), 20f64.to_radians()];
            let hi = [75f64.to_radians(), 178f64.to_radians()];
            let (_x, perf) = newton2(resid, lo, hi, [16, 16])?;
            let ok = perf.burnout_time_s < vehicle.total_burn_s()
                && (perf.burnout_height_m / altitude_m - 1.0).abs() < 0.02
                && perf.burnout_orbit.perigee_alt_m > 0.6 * altitude_m;
            if !ok {
                return Err(unreachable(format!(
                    "burnout at {:.0} km with perigee {:.0} km",
                    perf.burnout_height_m / 1e3,
                    perf.burnout_orbit.perigee_alt_m / 1e3
                )));
            }
            Ok(perf)
        }
    }
}

/// Grid search then damped Newton on a 2-variable residual inside a box.
fn newton2<F>(
    mut resid: F,
    lo: [f64; 2],
    hi: [f64; 2],
    grid: [usize; 2],
) -> Result<([f64; 2], Performance), SolveError>
where
    F: FnMut([f64; 2]) -> Result<([f64; 2], Performance), SolveError>,
{
    let norm = |r: [f64; 2]| r[0] * r[0] + r[1] * r[1];
    let mut best: Option<([f64; 2], [f64; 2], Performance)> = None;
    for i in 0..grid[0] {
        for j in 0..grid[1] {
            let x = [
                lo[0] + (hi[0] - lo[0]) * (i as f64 + 0.5) / grid[0] as f64,
                lo[1] + (hi[1] - lo[1]) * (j as f64 + 0.5) / grid[1] as f64,
            ];
            let (r, p) = resid(x)?;
            if best.as_ref().is_none_or(|b| norm(r) < norm(b.1)) {
                best = Some((x, r, p));
            }
        }
    }
    let Some((mut x, mut r, mut perf)) = best else {
        return Err(SolveError::Unreachable {
            vehicle: String::new(),
            target: "anything".into(),
            best: "an empty search grid".into(),
        });
    };
    for _ in 0..40 {
        if norm(r) < 1e-10 {
            break;
        }
        // Finite-difference Jacobian.
        let mut jac = [[0.0; 2]; 2];
        for k in 0..2 {
            let h = 1e-5 * (hi[k] - lo[k]);
            let mut xp = x;
            xp[k] = if x[k] + h <= hi[k] {
                x[k] + h
            } else {
                x[k] - h
            };
            let dh = xp[k] - x[k];
            let (rp, _) = resid(xp)?;
            jac[0][k] = (rp[0] - r[0]) / dh;
            jac[1][k] = (rp[1] - r[1]) / dh;
        }
        let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
        if det.abs() < 1e-300 || !det.is_finite() {
            break;
        }
        let dx = [
            -(jac[1][1] * r[0] - jac[0][1] * r[1]) / det,
            -(-jac[1][0] * r[0] + jac[0][0] * r[1]) / det,
        ];
        let mut lambda = 1.0;
        let mut improved = false;
        for _ in 0..12 {
            let xn = [
                (x[0] + lambda * dx[0]).clamp(lo[0], hi[0]),
                (x[1] + lambda * dx[1]).clamp(lo[1], hi[1]),
            ];
            let (rn, pn) = resid(xn)?;
            if norm(rn) < norm(r) {
                x = xn;
                r = rn;
                perf = pn;
                improved = true;
                break;
            }
            lambda *= 0.5;
        }
        if !improved {
            break;
        }
    }
    Ok((x, perf))
}
