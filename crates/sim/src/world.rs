//! Runs a scenario: solves and flies every launch, lets every sensor look, and summarises the
//! ground truth.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;
use tripoint_core::{Detection, Duration, Epoch, ObjectId, ObjectKind};
use tripoint_physics::geodesy::height_above_ellipsoid_m;
use tripoint_physics::integrator::Tolerances;
use tripoint_physics::orbit::summarize;
use tripoint_physics::Geodetic;

use crate::flight::{fly, FlyOptions, LaunchSpec};
use crate::scenario::{LaunchPlan, Scenario, ScenarioError};
use crate::sensor::{Observable, SenseContext};
use crate::solver::{solve, Performance};
use crate::trajectory::{EndReason, Trajectory};
use crate::vehicle::Vehicle;

/// One object of the synthetic world.
#[derive(Clone, Debug)]
pub struct SimObject {
    pub id: ObjectId,
    pub launch: ObjectId,
    pub kind: ObjectKind,
    pub trajectory: Trajectory,
    pub burns: Vec<(f64, f64)>,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct SimResult {
    pub objects: Vec<SimObject>,
    /// All detections of all sensors, in time order (ties by sensor id).
    pub detections: Vec<Detection>,
    /// The solved nominal performance of each launch.
    pub solutions: Vec<(ObjectId, Performance)>,
}

/// Progress events for a caller's progress bar.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    Launch { done: usize, total: usize },
    Sensor { done: usize, total: usize },
}

/// A stream of random numbers for one purpose, independent of the others: adding a sensor does
/// not change what the others see.
pub fn stream(seed: u64, label: &str) -> ChaCha8Rng {
    // FNV-1a of the label, mixed with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(seed ^ h)
}

/// The vehicle as flown: aimed with the nominal payload β, flying with one drawn from the
/// scenario's dispersion ([`Scenario::payload_beta_sigma_ln`]) on the launch's own stream.
pub fn flown_vehicle(s: &Scenario, l: &LaunchPlan) -> Vehicle {
    let mut v = l.vehicle.clone();
    if s.payload_beta_sigma_ln > 0.0 {
        let z: f64 = StandardNormal.sample(&mut stream(s.seed, &format!("launch/{}/beta", l.id)));
        v.payload_beta_kg_m2 *= (s.payload_beta_sigma_ln * z).exp();
    }
    v
}

/// Runs the scenario.
pub fn run(s: &Scenario, progress: &mut dyn FnMut(Progress)) -> Result<SimResult, ScenarioError> {
    let mut objects = Vec::new();
    let mut solutions = Vec::new();
    let total = s.launches.len();
    for (i, l) in s.launches.iter().enumerate() {
        let perf = solve(&l.vehicle, l.site, l.azimuth_rad, l.target).map_err(|source| {
            ScenarioError::Unreachable {
                field: format!("launch[{i}].target"),
                source,
            }
        })?;
        let spec = LaunchSpec {
            site: l.site,
            azimuth_rad: l.azimuth_rad,
            t_launch_s: l.t_launch_s,
            vehicle: flown_vehicle(s, l),
            program: perf.program,
            failure: l.failure,
            breakup: l.breakup,
            separation_dv_m_s: l.separation_dv_m_s,
        };
        let opts = FlyOptions {
            secondary_objects: true,
            t_end_s: s.duration_s,
            tol: Tolerances::SIMULATION,
        };
        let mut rng = stream(s.seed, &format!("launch/{}", l.id));
        let flight = fly(&spec, &opts, &mut rng).map_err(|e| ScenarioError::Invalid {
            field: format!("launch[{i}]"),
            reason: e.to_string(),
        })?;
        for o in flight.objects {
            let id = ObjectId::new(format!("{}{}", l.id, o.suffix)).map_err(|e| {
                ScenarioError::Invalid {
                    field: format!("launch[{i}].id"),
                    reason: e.to_string(),
                }
            })?;
            objects.push(SimObject {
                id,
                launch: l.id.clone(),
                kind: o.kind,
                trajectory: o.trajectory,
                burns: o.burns,
            });
        }
        solutions.push((l.id.clone(), perf));
        progress(Progress::Launch { done: i + 1, total });
    }

    let ctx = SenseContext {
        start: s.start,
        duration_s: s.duration_s,
        mode: s.mode,
    };
    let observables: Vec<Observable<'_>> = objects
        .iter()
        .map(|o| Observable {
            id: &o.id,
            trajectory: &o.trajectory,
            burns: &o.burns,
        })
        .collect();
    let mut detections = Vec::new();
    let n = s.sensors.len();
    for (j, sensor) in s.sensors.iter().enumerate() {
        let mut rng = stream(s.seed, &format!("sensor/{}", sensor.id));
        detections.extend(sensor.observe(&ctx, &observables, &mut rng));
        progress(Progress::Sensor {
            done: j + 1,
            total: n,
        });
    }
    detections.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.sensor.cmp(&b.sensor)));
    Ok(SimResult {
        objects,
        detections,
        solutions,
    })
}

/// One row of ground truth (Stone Soup's CSV: time, id, x, vx, y, vy, z, vz).
#[derive(Clone, Copy, Debug)]
pub struct TruthRow<'a> {
    pub t_s: f64,
    pub id: &'a ObjectId,
    pub state: [f64; 6],
}

impl SimResult {
    /// Ground truth sampled every `interval_s` on a common grid, plus each object's first and
    /// last state, sorted by time then id.
    pub fn truth_rows(&self, interval_s: f64) -> Vec<TruthRow<'_>> {
        let mut rows = Vec::new();
        for o in &self.objects {
            let t0 = o.trajectory.t_start_s();
            let t1 = o.trajectory.t_end_s();
            let mut push = |t: f64| {
                if let Some(state) = o.trajectory.state_at(t) {
                    rows.push(TruthRow {
                        t_s: t,
                        id: &o.id,
                        state,
                    });
                }
            };
            push(t0);
            let mut k = (t0 / interval_s).floor() as i64 + 1;
            loop {
                let t = k as f64 * interval_s;
                if t >= t1 {
                    break;
                }
                if t > t0 {
                    push(t);
                }
                k += 1;
            }
            if t1 > t0 {
                push(t1);
            }
        }
        rows.sort_by(|a, b| a.t_s.total_cmp(&b.t_s).then_with(|| a.id.cmp(b.id)));
        rows
    }
}

/// Where and when, in the summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PointAt {
    pub time: String,
    pub t_since_launch_s: f64,
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub alt_km: f64,
}

/// How an object's flight ended.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Ending {
    Impact {
        impact: PointAt,
    },
    Orbit {
        perigee_alt_km: f64,
        apogee_alt_km: f64,
        inclination_deg: f64,
    },
    BrokeUp {
        at: PointAt,
    },
    InFlight {
        at: PointAt,
    },
}

/// Summary of one object.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ObjectSummary {
    pub id: String,
    pub kind: ObjectKind,
    pub launch_id: String,
    pub launch: PointAt,
    pub apogee: PointAt,
    pub apogee_km: f64,
    #[serde(flatten)]
    pub ending: Ending,
}

fn point_at(start: Epoch, t_launch: f64, t: f64, y: [f64; 6]) -> PointAt {
    let r = [y[0], y[1], y[2]];
    let g = Geodetic::from_ecef_m(r).unwrap_or(Geodetic {
        lat_rad: f64::NAN,
        lon_rad: f64::NAN,
        h_m: f64::NAN,
    });
    PointAt {
        time: utc_string(start + Duration::from_seconds(t)),
        t_since_launch_s: round3(t - t_launch),
        lat_deg: round6(g.lat_deg()),
        lon_deg: round6(g.lon_deg()),
        alt_km: round3(height_above_ellipsoid_m(r) / 1e3),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// RFC 3339 UTC with milliseconds.
pub fn utc_string(e: Epoch) -> String {
    let (y, mo, d, h, mi, s, ns) = e.to_gregorian_utc();
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        ns / 1_000_000
    )
}

/// Summaries of all objects.
pub fn summarize_objects(s: &Scenario, result: &SimResult) -> Vec<ObjectSummary> {
    result
        .objects
        .iter()
        .map(|o| {
            let plan = s.launches.iter().find(|l| l.id == o.launch);
            let t_launch = plan.map_or(0.0, |l| l.t_launch_s);
            let launch_y = plan
                .map(|l| {
                    let r = l.site.to_ecef_m();
                    [r[0], r[1], r[2], 0.0, 0.0, 0.0]
                })
                .unwrap_or([0.0; 6]);
            let (ta, ha) = o.trajectory.apogee();
            let ya = o
                .trajectory
                .state_at(ta)
                .unwrap_or(o.trajectory.final_state());
            let t1 = o.trajectory.t_end_s();
            let y1 = o.trajectory.final_state();
            let ending = match o.trajectory.end {
                EndReason::Impact => Ending::Impact {
                    impact: point_at(s.start, t_launch, t1, y1),
                },
                EndReason::BrokeUp => Ending::BrokeUp {
                    at: point_at(s.start, t_launch, t1, y1),
                },
                EndReason::EndOfTime => {
                    let orb = summarize([y1[0], y1[1], y1[2]], [y1[3], y1[4], y1[5]]);
                    if orb.perigee_alt_m > 100e3 {
                        Ending::Orbit {
                            perigee_alt_km: round3(orb.perigee_alt_m / 1e3),
                            apogee_alt_km: round3(orb.apogee_alt_m / 1e3),
                            inclination_deg: round3(orb.inclination_rad.to_degrees()),
                        }
                    } else {
                        Ending::InFlight {
                            at: point_at(s.start, t_launch, t1, y1),
                        }
                    }
                }
            };
            ObjectSummary {
                id: o.id.to_string(),
                kind: o.kind,
                launch_id: o.launch.to_string(),
                launch: point_at(s.start, t_launch, t_launch, launch_y),
                apogee: point_at(s.start, t_launch, ta, ya),
                apogee_km: round3(ha / 1e3),
                ending,
            }
        })
        .collect()
}
