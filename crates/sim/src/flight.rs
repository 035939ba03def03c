//! Powered ascent and free flight of one launch: the stack flies a pitch program stage by stage,
//! spent stages separate and fly on as their own objects, the payload coasts to impact or orbit,
//! and failures or breakups replace an object by fragments.
//!
//! The pitch program is flown in a fixed plane: the plane through the Earth's centre containing
//! the launch site and the launch azimuth (in ECEF). The thrust points at angle θ(t) from the
//! local geocentric vertical, towards downrange inside that plane. θ(t) is 0 during the vertical
//! rise, ramps linearly to θ₁ half-way through the first stage, then linearly to θ₂ at the end of
//! the last stage.

use rand::Rng;
use rand_distr::StandardNormal;
use tripoint_core::ObjectKind;
use tripoint_physics::dynamics::{drag_acceleration, inertial_velocity, ForceModel};
use tripoint_physics::earth::GM_M3_S2;
use tripoint_physics::geodesy::height_above_ellipsoid_m;
use tripoint_physics::integrator::{DenseStep, Dopri5, Dynamics, Tolerances};
use tripoint_physics::vec3::{self, cross, dot, norm, unit};
use tripoint_physics::{Geodetic, PhysicsError};

use crate::trajectory::{EndReason, Trajectory};
use crate::vehicle::Vehicle;

/// When the last stage stops burning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cutoff {
    /// Thrust termination after this fraction (0, 1] of the last stage's burn.
    Fraction(f64),
    /// Cut-off as soon as the inertial speed reaches the circular speed at the current radius
    /// (orbit insertion guidance).
    CircularSpeed,
}

/// A pitch program (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Program {
    pub vertical_s: f64,
    pub pitch1_rad: f64,
    pub pitch2_rad: f64,
    pub cutoff: Cutoff,
}

/// A stage that stops thrusting early.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Failure {
    /// 1-based stage number.
    pub stage: usize,
    /// Time after launch (s).
    pub time_s: f64,
}

/// A breakup of the payload (or the whole stack, if still attached) into fragments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Breakup {
    /// Time after launch (s).
    pub time_s: f64,
    pub fragments: usize,
    /// One-sigma velocity spread per axis (m/s).
    pub velocity_spread_m_s: f64,
    pub beta_min_kg_m2: f64,
    pub beta_max_kg_m2: f64,
}

/// Everything that defines one launch.
#[derive(Clone, Debug)]
pub struct LaunchSpec {
    pub site: Geodetic,
    pub azimuth_rad: f64,
    /// Launch time, seconds after the scenario's start epoch.
    pub t_launch_s: f64,
    pub vehicle: Vehicle,
    pub program: Program,
    pub failure: Option<Failure>,
    pub breakup: Option<Breakup>,
    /// Velocity given to a spent stage away from what it separates from (m/s, backwards).
    pub separation_dv_m_s: f64,
}

/// One simulated object.
#[derive(Clone, Debug)]
pub struct FlownObject {
    /// Suffix after the launch id: "" for the payload, "/s1" for stage 1, "/f007" for fragments.
    pub suffix: String,
    pub kind: ObjectKind,
    pub trajectory: Trajectory,
    /// Time intervals (s since scenario start) when the object was thrusting (seen by infrared).
    pub burns: Vec<(f64, f64)>,
}

/// Result of flying a launch.
#[derive(Clone, Debug)]
pub struct Flight {
    pub objects: Vec<FlownObject>,
    /// Time of the last thrust (s since scenario start).
    pub burnout_t_s: f64,
    /// Payload state at burnout.
    pub burnout_state: [f64; 6],
}

/// How much to compute.
#[derive(Clone, Copy, Debug)]
pub struct FlyOptions {
    /// Fly spent stages and fragments too (off for the trajectory solvers).
    pub secondary_objects: bool,
    /// Stop at this time (s since scenario start) if nothing has landed.
    pub t_end_s: f64,
    pub tol: Tolerances,
}

struct Powered<'a> {
    force: ForceModel,
    /// Stack mass at `t0_s` (kg) and mass flow (kg/s).
    m0_kg: f64,
    t0_s: f64,
    mdot: f64,
    thrust_n: f64,
    drag_area_cd: f64,
    plane_normal: [f64; 3],
    pitch: &'a PitchSchedule,
}

/// θ(t) as knots (absolute time, angle).
struct PitchSchedule {
    knots: [(f64, f64); 3],
}

impl PitchSchedule {
    fn at(&self, t: f64) -> f64 {
        let k = &self.knots;
        if t <= k[0].0 {
            0.0
        } else if t <= k[1].0 {
            k[0].1 + (k[1].1 - k[0].1) * (t - k[0].0) / (k[1].0 - k[0].0).max(1e-9)
        } else if t <= k[2].0 {
            k[1].1 + (k[2].1 - k[1].1) * (t - k[1].0) / (k[2].0 - k[1].0).max(1e-9)
        } else {
            k[2].1
        }
    }
}

impl Dynamics for Powered<'_> {
    #[inline]
    fn derivative(&self, t: f64, y: &[f64; 6]) -> [f64; 6] {
        let (r, v) = vec3::split(y);
        let mut a = self.force.acceleration(r, v);
        let m = (self.m0_kg - self.mdot * (t - self.t0_s)).max(1.0);
        a = vec3::add(a, drag_acceleration(m / self.drag_area_cd, r, v));
        let up = unit(r);
        let downrange = unit(cross(self.plane_normal, up));
        let (s, c) = self.pitch.at(t).sin_cos();
        let dir = vec3::add(vec3::scale(up, c), vec3::scale(downrange, s));
        a = vec3::add(a, vec3::scale(dir, self.thrust_n / m));
        [v[0], v[1], v[2], a[0], a[1], a[2]]
    }
}

fn record(traj: &mut Trajectory) -> impl FnMut(&DenseStep) + '_ {
    move |s| traj.push(*s)
}

/// Flies one launch.
pub fn fly<R: Rng>(
    spec: &LaunchSpec,
    opts: &FlyOptions,
    rng: &mut R,
) -> Result<Flight, PhysicsError> {
    let veh = &spec.vehicle;
    let r0 = spec.site.to_ecef_m();
    let north = spec.site.north_ecef();
    let east = spec.site.east_ecef();
    let (sa, ca) = spec.azimuth_rad.sin_cos();
    let d0 = vec3::add(vec3::scale(north, ca), vec3::scale(east, sa));
    let plane_normal = unit(cross(r0, d0));

    let t_launch = spec.t_launch_s;
    let n_stages = veh.stages.len();
    // Powered flight ends early with thrust termination: the program is compressed to fit.
    let last_fraction = match spec.program.cutoff {
        Cutoff::Fraction(f) => f.clamp(1e-3, 1.0),
        Cutoff::CircularSpeed => 1.0,
    };
    let burn_total: f64 =
        veh.total_burn_s() - (1.0 - last_fraction) * veh.stages[n_stages - 1].burn_time_s;
    let t_s1_end = t_launch
        + if n_stages == 1 {
            burn_total
        } else {
            veh.stages[0].burn_time_s
        };
    let t_all_end = t_launch + burn_total;
    let pitch = PitchSchedule {
        knots: [
            (t_launch + spec.program.vertical_s, 0.0),
            (
                (0.5 * (t_launch + spec.program.vertical_s + t_s1_end))
                    .max(t_launch + spec.program.vertical_s + 1.0),
                spec.program.pitch1_rad,
            ),
            (t_all_end.max(t_s1_end + 1.0), spec.program.pitch2_rad),
        ],
    };

    let mut ig = Dopri5::new(opts.tol);
    let mut objects = Vec::new();
    let mut payload = Trajectory::new(t_launch);
    let mut y = vec3::join(r0, [0.0; 3]);
    let mut t = t_launch;
    let mut mass_above: f64 = veh.payload_mass_kg
        + veh
            .stages
            .iter()
            .map(|s| s.dry_mass_kg + s.propellant_mass_kg)
            .sum::<f64>();
    let area_cd = veh.stages.iter().map(|s| s.area_m2()).fold(0.0, f64::max) * veh.boost_cd;
    let fail_t = spec
        .failure
        .map(|f| t_launch + f.time_s)
        .or(spec.breakup.map(|b| t_launch + b.time_s))
        .unwrap_or(f64::INFINITY);
    let mut failed = false;

    for (k, stage) in veh.stages.iter().enumerate() {
        let last = k + 1 == n_stages;
        let mut t_end = t + stage.burn_time_s;
        if let (true, Cutoff::Fraction(f)) = (last, spec.program.cutoff) {
            t_end = t + stage.burn_time_s * f.clamp(1e-3, 1.0);
        }
        if fail_t < t_end {
            t_end = fail_t.max(t);
            failed = true;
        }
        let dynamics = Powered {
            force: ForceModel::VACUUM,
            m0_kg: mass_above,
            t0_s: t,
            mdot: stage.mass_flow_kg_s(),
            thrust_n: stage.thrust_n(),
            drag_area_cd: area_cd,
            plane_normal,
            pitch: &pitch,
        };
        let circular = last && spec.program.cutoff == Cutoff::CircularSpeed && !failed;
        let out = ig.integrate(
            &dynamics,
            t,
            y,
            t_end,
            |_, y| {
                if circular {
                    let (r, v) = vec3::split(y);
                    let vi = inertial_velocity(r, v);
                    (GM_M3_S2 / norm(r)).sqrt() - norm(vi)
                } else {
                    1.0
                }
            },
            record(&mut payload),
        )?;
        let burned = (out.t_s() - t) * stage.mass_flow_kg_s();
        t = out.t_s();
        y = out.y();
        mass_above -= burned;
        if failed {
            break;
        }
        // Separate the spent stage: it keeps its dry mass and unburnt propellant.
        let spent_mass = mass_above
            - veh.payload_mass_kg
            - veh.stages[k + 1..]
                .iter()
                .map(|s| s.dry_mass_kg + s.propellant_mass_kg)
                .sum::<f64>();
        mass_above -= spent_mass;
        if opts.secondary_objects {
            let (r, v) = vec3::split(&y);
            let back = vec3::scale(unit(v), -spec.separation_dv_m_s);
            let ys = vec3::join(r, vec3::add(v, back));
            let beta = stage.spent_beta_kg_m2 * (spent_mass / stage.dry_mass_kg).max(1.0);
            let traj = coast(&mut ig, t, ys, beta, opts.t_end_s)?;
            objects.push(FlownObject {
                suffix: format!("/s{}", k + 1),
                kind: ObjectKind::Stage,
                trajectory: traj,
                burns: vec![],
            });
        }
    }
    let burnout_t = t;
    let burnout_state = y;
    let burns = vec![(t_launch, burnout_t)];

    // Free flight of the payload (or the failed stack) until breakup, impact or the end.
    let beta = if failed {
        (mass_above / area_cd).max(50.0)
    } else {
        veh.payload_beta_kg_m2
    };
    let breakup_t = spec.breakup.map(|b| t_launch + b.time_s);
    let coast_end = breakup_t.map_or(opts.t_end_s, |bt| bt.max(t).min(opts.t_end_s));
    let out = coast_into(&mut ig, &mut payload, t, y, beta, coast_end)?;
    let mut payload_obj = FlownObject {
        suffix: String::new(),
        kind: veh.payload_kind,
        trajectory: payload,
        burns,
    };
    if let (Some(b), EndReason::EndOfTime) = (spec.breakup, out) {
        if coast_end < opts.t_end_s {
            payload_obj.trajectory.end = EndReason::BrokeUp;
            if opts.secondary_objects {
                let (r, v) = vec3::split(&payload_obj.trajectory.final_state());
                let tb = payload_obj.trajectory.t_end_s();
                let ln_min = b.beta_min_kg_m2.ln();
                let ln_max = b.beta_max_kg_m2.ln();
                for i in 0..b.fragments {
                    let dv: [f64; 3] = [
                        rng.sample::<f64, _>(StandardNormal),
                        rng.sample::<f64, _>(StandardNormal),
                        rng.sample::<f64, _>(StandardNormal),
                    ];
                    let vf = vec3::add(v, vec3::scale(dv, b.velocity_spread_m_s));
                    let beta = (ln_min + (ln_max - ln_min) * rng.random::<f64>()).exp();
                    let traj = coast(&mut ig, tb, vec3::join(r, vf), beta, opts.t_end_s)?;
                    objects.push(FlownObject {
                        suffix: format!("/f{:03}", i + 1),
                        kind: ObjectKind::Debris,
                        trajectory: traj,
                        burns: vec![],
                    });
                }
            }
        }
    }
    objects.insert(0, payload_obj);
    Ok(Flight {
        objects,
        burnout_t_s: burnout_t,
        burnout_state,
    })
}

/// A new trajectory coasting from `(t, y)` with drag until impact or `t_end`.
fn coast(
    ig: &mut Dopri5,
    t: f64,
    y: [f64; 6],
    beta: f64,
    t_end: f64,
) -> Result<Trajectory, PhysicsError> {
    let mut traj = Trajectory::new(t);
    coast_into(ig, &mut traj, t, y, beta, t_end)?;
    Ok(traj)
}

/// Extends `traj` by coasting; returns how it ended (and records it in the trajectory).
fn coast_into(
    ig: &mut Dopri5,
    traj: &mut Trajectory,
    t: f64,
    y: [f64; 6],
    beta: f64,
    t_end: f64,
) -> Result<EndReason, PhysicsError> {
    if t_end <= t {
        traj.finish(t, y, EndReason::EndOfTime);
        return Ok(EndReason::EndOfTime);
    }
    let dynamics = tripoint_physics::BallisticDynamics(ForceModel::with_drag(beta));
    // Ignore the ground for the first second so a launch pad at zero height is not an impact.
    let t_guard = t + 1.0;
    let out = ig.integrate(
        &dynamics,
        t,
        y,
        t_end,
        |tt, y| {
            if tt < t_guard {
                1.0
            } else {
                height_above_ellipsoid_m([y[0], y[1], y[2]])
            }
        },
        |s| traj.push(*s),
    )?;
    let reason = match out {
        tripoint_physics::Outcome::Event { .. } => EndReason::Impact,
        tripoint_physics::Outcome::Reached { .. } => EndReason::EndOfTime,
    };
    traj.finish(out.t_s(), out.y(), reason);
    Ok(reason)
}

/// Flight-path angle (rad) of the inertial velocity above the local horizontal.
pub fn inertial_flight_path_angle(y: &[f64; 6]) -> f64 {
    let (r, v) = vec3::split(y);
    let vi = inertial_velocity(r, v);
    (dot(unit(r), unit(vi))).clamp(-1.0, 1.0).asin()
}
