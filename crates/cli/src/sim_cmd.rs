//! `tripoint sim ...`: run a scenario into CSV/JSON files, or solve one trajectory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tripoint_core::Measurement;
use tripoint_physics::geodesy::ground_line;
use tripoint_physics::Geodetic;
use tripoint_sim::scenario::Scenario;
use tripoint_sim::sensor::{Platform, SensorModel};
use tripoint_sim::solver::{solve, Target};
use tripoint_sim::vehicle::Vehicle;
use tripoint_sim::world::{run as run_world, summarize_objects, utc_string, Ending, Progress};

#[derive(Subcommand)]
pub enum SimCommand {
    /// Run a scenario: writes truth.csv, detections.csv, sensors.json and summary.json.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Check { scenario: PathBuf },
    /// Solve one trajectory and print its figures.
    Trajectory(TrajectoryArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML), e.g. scenarios/irbm-overflight.toml.
    scenario: PathBuf,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Override the scenario's random seed (for Monte Carlo runs).
    #[arg(long)]
    seed: Option<u64>,
    /// Override the scenario's payload_beta_sigma_ln: fly each payload with a ballistic
    /// coefficient drawn log-normally around its nominal one with this spread of ln β (a
    /// `score --monte-carlo` run's truth, with its seed, is reproduced with 0.7).
    #[arg(long)]
    beta_sigma_ln: Option<f64>,
    /// No progress bar or report.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub struct TrajectoryArgs {
    /// Requested apogee (km). With --range-km: lofted/depressed. Alone with --range-km omitted: error.
    #[arg(long)]
    apogee_km: Option<f64>,
    /// Requested ground range (km). Alone: the minimum-energy trajectory.
    #[arg(long)]
    range_km: Option<f64>,
    /// Requested circular orbit altitude (km), instead of apogee/range.
    #[arg(long)]
    orbit_km: Option<f64>,
    #[arg(long, default_value_t = 39.22, allow_negative_numbers = true)]
    launch_lat_deg: f64,
    #[arg(long, default_value_t = 125.67, allow_negative_numbers = true)]
    launch_lon_deg: f64,
    #[arg(long, default_value_t = 90.0, allow_negative_numbers = true)]
    azimuth_deg: f64,
    /// Vehicle: srbm, mrbm, irbm, icbm, slv, or auto (the smallest that can do it).
    #[arg(long, default_value = "auto")]
    vehicle: String,
    /// Print JSON (otherwise a short table).
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: SimCommand) -> Result<()> {
    match cmd {
        SimCommand::Run(a) => run_scenario(&a),
        SimCommand::Check { scenario } => {
            let s = load(&scenario)?;
            println!(
                "{}: ok — {} launch(es), {} sensor(s), mode {}",
                scenario.display(),
                s.launches.len(),
                s.sensors.len(),
                s.mode
            );
            Ok(())
        }
        SimCommand::Trajectory(a) => trajectory(&a),
    }
}

/// Reads and validates a scenario, naming the file in every error.
pub fn load(path: &Path) -> Result<Scenario> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario {}", path.display()))?;
    Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn run_scenario(a: &RunArgs) -> Result<()> {
    let t0 = Instant::now();
    let mut scenario = load(&a.scenario)?;
    if let Some(seed) = a.seed {
        scenario.seed = seed;
    }
    if let Some(sd) = a.beta_sigma_ln {
        scenario
            .set_payload_beta_sigma_ln(sd)
            .context("--beta-sigma-ln")?;
    }
    fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;

    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new((scenario.launches.len() + scenario.sensors.len()) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:>10} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(scenario.name.clone());
    let nl = scenario.launches.len();
    let result = run_world(&scenario, &mut |p| match p {
        Progress::Launch { done, total } => {
            bar.set_position(done as u64);
            bar.set_message(format!("flew launch {done}/{total}"));
        }
        Progress::Sensor { done, total } => {
            bar.set_position((nl + done) as u64);
            bar.set_message(format!("sensor {done}/{total}"));
        }
    })
    .map_err(|e| anyhow::anyhow!("{}: {e}", a.scenario.display()))?;
    bar.finish_and_clear();

    let start_unix = scenario.start.to_unix_seconds();
    // truth.csv
    {
        let path = a.out.join("truth.csv");
        let mut w = BufWriter::new(
            fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
        );
        writeln!(w, "time,id,x,vx,y,vy,z,vz")?;
        let mut line = String::with_capacity(160);
        for r in result.truth_rows(scenario.truth_interval_s) {
            line.clear();
            let s = r.state;
            let _ = writeln!(
                line,
                "{:.6},{},{:.3},{:.4},{:.3},{:.4},{:.3},{:.4}",
                start_unix + r.t_s,
                r.id,
                s[0],
                s[3],
                s[1],
                s[4],
                s[2],
                s[5]
            );
            w.write_all(line.as_bytes())?;
        }
        w.flush()?;
    }
    // detections.csv
    {
        let path = a.out.join("detections.csv");
        let mut w = BufWriter::new(
            fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
        );
        writeln!(
            w,
            "time,sensor_id,truth_id,kind,range_m,az_rad,el_rad,range_rate_m_s,east_rad,north_rad,sensor_x_m,sensor_y_m,sensor_z_m,sigma_range_m,sigma_az_rad,sigma_el_rad,sigma_range_rate_m_s,mode"
        )?;
        let mut line = String::with_capacity(256);
        for d in &result.detections {
            line.clear();
            let truth = d.truth.as_ref().map_or("", |t| t.as_str());
            let t = d.time.to_unix_seconds();
            let _ = write!(line, "{t:.6},{},{truth},", d.sensor);
            match d.measurement {
                Measurement::Radar {
                    range_m,
                    az_rad,
                    el_rad,
                    range_rate_m_s,
                } => {
                    let _ = write!(line, "radar,{range_m:.3},{az_rad:.9},{el_rad:.9},");
                    if let Some(rr) = range_rate_m_s {
                        let _ = write!(line, "{rr:.4}");
                    }
                    line.push_str(",,,");
                }
                Measurement::Bearings {
                    east_rad,
                    north_rad,
                } => {
                    let _ = write!(line, "space_ir,,,,,{east_rad:.10},{north_rad:.10},");
                }
            }
            let p = d.sensor_ecef_m;
            let n = d.noise;
            let _ = writeln!(
                line,
                "{:.3},{:.3},{:.3},{},{:e},{:e},{},{}",
                p[0],
                p[1],
                p[2],
                n.sigma_range_m,
                n.sigma_az_rad,
                n.sigma_el_rad,
                n.sigma_range_rate_m_s,
                d.mode
            );
            w.write_all(line.as_bytes())?;
        }
        w.flush()?;
    }
    // sensors.json
    let sensors: Vec<_> = scenario
        .sensors
        .iter()
        .map(|s| match &s.model {
            SensorModel::Radar(r) => {
                let g = r.site.geodetic;
                json!({
                    "id": s.id, "owner": s.owner, "kind": s.kind(), "name": s.name,
                    "site": {"lat_deg": g.lat_deg(), "lon_deg": g.lon_deg(), "alt_m": g.h_m, "ecef_m": r.site.ecef_m()},
                    "boresight_az_deg": r.boresight_az_rad.to_degrees(),
                    "sector_deg": (2.0 * r.half_sector_rad).to_degrees(),
                    "min_el_deg": r.min_el_rad.to_degrees(), "max_el_deg": r.max_el_rad.to_degrees(),
                    "max_range_m": r.max_range_m, "revisit_s": r.revisit_s, "pd": r.pd,
                    "clutter_per_scan": r.clutter_per_scan,
                    "measures_range_rate": r.range_rate,
                    "noise": {
                        "sigma_range_m": r.noise.sigma_range_m, "sigma_az_rad": r.noise.sigma_az_rad,
                        "sigma_el_rad": r.noise.sigma_el_rad, "sigma_range_rate_m_s": r.noise.sigma_range_rate_m_s,
                    },
                })
            }
            SensorModel::SpaceIr(ir) => {
                let platform = match &ir.platform {
                    Platform::Geostationary { lon_rad } => json!({"geostationary_lon_deg": lon_rad.to_degrees()}),
                    Platform::Orbit(k) => json!({
                        "semi_major_axis_m": k.semi_major_axis_m, "eccentricity": k.eccentricity,
                        "inclination_deg": k.inclination_rad.to_degrees(), "raan_deg": k.raan_rad.to_degrees(),
                        "arg_perigee_deg": k.arg_perigee_rad.to_degrees(), "mean_anomaly_deg": k.mean_anomaly_rad.to_degrees(),
                        "elements_epoch": utc_string(scenario.start),
                    }),
                };
                json!({
                    "id": s.id, "owner": s.owner, "kind": s.kind(), "name": s.name,
                    "platform": platform, "frame_s": ir.frame_s, "pd": ir.pd,
                    "min_target_alt_m": ir.min_target_alt_m,
                    "noise": {"sigma_east_rad": ir.sigma_rad, "sigma_north_rad": ir.sigma_rad},
                })
            }
        })
        .collect();
    write_json(&a.out.join("sensors.json"), &json!(sensors))?;
    // summary.json
    let objects = summarize_objects(&scenario, &result);
    let launches: Vec<_> = scenario
        .launches
        .iter()
        .zip(&result.solutions)
        .map(|(l, (_, p))| {
            json!({
                "id": l.id, "vehicle": l.vehicle.name, "site": l.site_name,
                "lat_deg": l.site.lat_deg(), "lon_deg": l.site.lon_deg(),
                "azimuth_deg": l.azimuth_rad.to_degrees(),
                "time": utc_string(scenario.start + tripoint_core::Duration::from_seconds(l.t_launch_s)),
                "nominal": {
                    "apogee_km": p.apogee_m / 1e3, "range_km": finite(p.range_m / 1e3),
                    "flight_time_s": finite(p.flight_time_s), "burnout_time_s": p.burnout_time_s,
                    "pitch1_deg": p.program.pitch1_rad.to_degrees(), "pitch2_deg": p.program.pitch2_rad.to_degrees(),
                },
                "payload_beta_kg_m2": {
                    "nominal": l.vehicle.payload_beta_kg_m2,
                    "flown": tripoint_sim::world::flown_vehicle(&scenario, l).payload_beta_kg_m2,
                },
                "failure": l.failure.map(|f| json!({"stage": f.stage, "time_s": f.time_s})),
                "breakup": l.breakup.map(|b| json!({"time_s": b.time_s, "fragments": b.fragments, "velocity_spread_m_s": b.velocity_spread_m_s})),
            })
        })
        .collect();
    let mut by_sensor: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for d in &result.detections {
        let e = by_sensor.entry(d.sensor.as_str()).or_default();
        if d.truth.is_some() {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let summary = json!({
        "scenario": {
            "name": scenario.name, "description": scenario.description, "mode": scenario.mode,
            "start": utc_string(scenario.start), "duration_s": scenario.duration_s, "seed": scenario.seed,
        },
        "launches": launches,
        "objects": objects,
        "detections": by_sensor.iter().map(|(k, v)| json!({"sensor_id": k, "target": v.0, "clutter": v.1})).collect::<Vec<_>>(),
    });
    write_json(&a.out.join("summary.json"), &summary)?;

    if !a.quiet {
        print_report(
            &scenario,
            &objects,
            &by_sensor,
            t0.elapsed().as_secs_f64(),
            &a.out,
        );
    }
    Ok(())
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

fn print_report(
    s: &Scenario,
    objects: &[tripoint_sim::world::ObjectSummary],
    by_sensor: &BTreeMap<&str, (usize, usize)>,
    secs: f64,
    out: &Path,
) {
    println!(
        "{} ({}) — {} objects, simulated {:.0} s in {:.2} s",
        s.name,
        s.mode,
        objects.len(),
        s.duration_s,
        secs
    );
    let mut debris = 0;
    for o in objects {
        if o.kind == tripoint_core::ObjectKind::Debris {
            debris += 1;
            continue;
        }
        let end = match &o.ending {
            Ending::Impact { impact } => format!(
                "impact {} (T+{:.0} s) at {:.2}°N {:.2}°E",
                impact.time, impact.t_since_launch_s, impact.lat_deg, impact.lon_deg
            ),
            Ending::Orbit {
                perigee_alt_km,
                apogee_alt_km,
                inclination_deg,
            } => {
                format!("orbit {perigee_alt_km:.0} × {apogee_alt_km:.0} km, {inclination_deg:.1}°")
            }
            Ending::BrokeUp { at } => format!(
                "broke up at T+{:.0} s, {:.0} km up",
                at.t_since_launch_s, at.alt_km
            ),
            Ending::InFlight { at } => format!("still flying at T+{:.0} s", at.t_since_launch_s),
        };
        println!(
            "  {:<12} {:<9} apogee {:>7.1} km  {end}",
            o.id,
            o.kind.to_string(),
            o.apogee_km
        );
    }
    if debris > 0 {
        let impacts = objects
            .iter()
            .filter(|o| {
                o.kind == tripoint_core::ObjectKind::Debris
                    && matches!(o.ending, Ending::Impact { .. })
            })
            .count();
        println!("  + {debris} debris fragments ({impacts} fell before the end)");
    }
    println!("  detections:");
    for (k, (t, c)) in by_sensor {
        println!("    {k:<24} {t:>7} on objects, {c:>6} clutter");
    }
    println!(
        "  wrote {}/{{truth.csv,detections.csv,sensors.json,summary.json}}",
        out.display()
    );
}

fn trajectory(a: &TrajectoryArgs) -> Result<()> {
    let site = Geodetic::from_deg(a.launch_lat_deg, a.launch_lon_deg, 0.0)
        .context("--launch-lat-deg/--launch-lon-deg")?;
    let target = match (a.apogee_km, a.range_km, a.orbit_km) {
        (Some(ap), Some(r), None) => Target::ApogeeAndRange {
            apogee_m: ap * 1e3,
            range_m: r * 1e3,
        },
        (None, Some(r), None) => Target::MinimumEnergy { range_m: r * 1e3 },
        (None, None, Some(o)) => Target::Orbit {
            altitude_m: o * 1e3,
        },
        _ => bail!(
            "give --apogee-km with --range-km, --range-km alone (minimum energy), or --orbit-km"
        ),
    };
    for (name, v) in [
        ("--apogee-km", a.apogee_km),
        ("--range-km", a.range_km),
        ("--orbit-km", a.orbit_km),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                bail!("{name} must be a positive number, got {v}");
            }
        }
    }
    if !a.azimuth_deg.is_finite() {
        bail!("--azimuth-deg must be a finite number");
    }
    let names: Vec<&str> = if a.vehicle == "auto" {
        match target {
            Target::Orbit { .. } => vec!["slv"],
            _ => vec!["srbm", "mrbm", "irbm", "icbm"],
        }
    } else {
        vec![a.vehicle.as_str()]
    };
    let mut last_err = None;
    for name in names {
        let vehicle = Vehicle::builtin(name).with_context(|| {
            format!(
                "unknown vehicle {name:?}: use one of {} or auto",
                Vehicle::BUILTIN_NAMES.join(", ")
            )
        })?;
        match solve(&vehicle, site, a.azimuth_deg.to_radians(), target) {
            Ok(p) => {
                let impact = p.impact;
                let out = json!({
                    "vehicle": name,
                    "flight_time_s": finite(p.flight_time_s),
                    "apogee_km": p.apogee_m / 1e3,
                    "apogee_time_s": p.apogee_time_s,
                    "range_km": finite(p.range_m / 1e3),
                    "burnout_time_s": p.burnout_time_s,
                    "burnout_alt_km": p.burnout_height_m / 1e3,
                    "impact_lat_deg": impact.map(|g| g.lat_deg()),
                    "impact_lon_deg": impact.map(|g| g.lon_deg()),
                    "impact_azimuth_deg": impact.map(|g| ground_line(&site, &g).azimuth1_deg),
                    "orbit": matches!(target, Target::Orbit{..}).then(|| json!({
                        "perigee_alt_km": p.burnout_orbit.perigee_alt_m / 1e3,
                        "apogee_alt_km": p.burnout_orbit.apogee_alt_m / 1e3,
                        "inclination_deg": p.burnout_orbit.inclination_rad.to_degrees(),
                    })),
                    "pitch1_deg": p.program.pitch1_rad.to_degrees(),
                    "pitch2_deg": p.program.pitch2_rad.to_degrees(),
                });
                if a.json {
                    println!("{}", serde_json::to_string(&out)?);
                } else {
                    println!("{}", serde_json::to_string_pretty(&out)?);
                }
                return Ok(());
            }
            Err(e) => last_err = Some(e),
        }
    }
    match last_err {
        Some(e) => bail!("{e}"),
        None => bail!("no vehicle to try"),
    }
}
