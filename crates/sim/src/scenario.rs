//! Scenario files (TOML): the header (name, mode, start epoch, duration, seed), vehicles,
//! launches and sensors. Parsed into plain DTOs with unknown fields refused, then validated
//! into domain values; every error names the field and the reason.

use std::collections::HashSet;
use std::str::FromStr;

use serde::Deserialize;
use tripoint_core::{Epoch, MeasurementNoise, Mode, Nation, ObjectId, SensorId};
use tripoint_physics::orbit::KeplerOrbit;
use tripoint_physics::{Geodetic, Site};

use crate::flight::{Breakup, Failure};
use crate::sensor::{Platform, Radar, Sensor, SensorModel, SpaceIr};
use crate::solver::{SolveError, Target};
use crate::vehicle::{Vehicle, VehicleConfig};

/// Why a scenario was refused. The CLI prefixes the file name.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML, a missing or unknown field, or a value of the wrong type.
    #[error("{0}")]
    Parse(String),
    /// A value that parses but makes no sense.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A launch whose target its vehicle cannot reach.
    #[error("{field}: {source}")]
    Unreachable {
        field: String,
        #[source]
        source: SolveError,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenario: HeaderConfig,
    #[serde(default)]
    vehicle: Vec<VehicleConfig>,
    #[serde(default)]
    launch: Vec<LaunchConfig>,
    #[serde(default)]
    sensor: Vec<SensorConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderConfig {
    name: String,
    #[serde(default)]
    description: String,
    mode: String,
    /// RFC 3339 UTC, e.g. "2022-10-03T22:22:00Z".
    start: String,
    duration_s: f64,
    seed: u64,
    #[serde(default = "one")]
    truth_interval_s: f64,
    #[serde(default)]
    payload_beta_sigma_ln: f64,
}

fn one() -> f64 {
    1.0
}
fn two() -> f64 {
    2.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaunchConfig {
    id: String,
    vehicle: String,
    #[serde(default)]
    site: String,
    lat_deg: f64,
    lon_deg: f64,
    #[serde(default)]
    alt_m: f64,
    azimuth_deg: f64,
    /// Launch time after the scenario start (s).
    time_s: f64,
    target: TargetConfig,
    failure: Option<FailureConfig>,
    breakup: Option<BreakupConfig>,
    #[serde(default = "two")]
    separation_dv_m_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetConfig {
    apogee_km: Option<f64>,
    range_km: Option<f64>,
    min_energy_range_km: Option<f64>,
    orbit_altitude_km: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailureConfig {
    stage: usize,
    time_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakupConfig {
    time_s: f64,
    fragments: usize,
    velocity_spread_m_s: f64,
    #[serde(default = "beta_min")]
    beta_min_kg_m2: f64,
    #[serde(default = "beta_max")]
    beta_max_kg_m2: f64,
}
fn beta_min() -> f64 {
    30.0
}
fn beta_max() -> f64 {
    3000.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensorConfig {
    id: String,
    owner: String,
    kind: String,
    #[serde(default)]
    name: String,
    /// Free text for the scenario's reader; accepted and ignored.
    #[serde(default, rename = "note")]
    _note: String,
    // Radar.
    lat_deg: Option<f64>,
    lon_deg: Option<f64>,
    alt_m: Option<f64>,
    boresight_az_deg: Option<f64>,
    sector_deg: Option<f64>,
    min_el_deg: Option<f64>,
    max_el_deg: Option<f64>,
    max_range_km: Option<f64>,
    revisit_s: Option<f64>,
    pd: Option<f64>,
    sigma_range_m: Option<f64>,
    sigma_az_deg: Option<f64>,
    sigma_el_deg: Option<f64>,
    sigma_range_rate_m_s: Option<f64>,
    clutter_per_scan: Option<f64>,
    // Space infrared.
    geo_lon_deg: Option<f64>,
    orbit: Option<OrbitConfig>,
    frame_s: Option<f64>,
    sigma_urad: Option<f64>,
    min_target_alt_km: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrbitConfig {
    semi_major_axis_km: f64,
    eccentricity: f64,
    inclination_deg: f64,
    raan_deg: f64,
    arg_perigee_deg: f64,
    mean_anomaly_deg: f64,
}

/// One launch, validated and with its vehicle resolved.
#[derive(Clone, Debug)]
pub struct LaunchPlan {
    pub id: ObjectId,
    pub site_name: String,
    pub vehicle: Vehicle,
    pub site: Geodetic,
    pub azimuth_rad: f64,
    pub t_launch_s: f64,
    pub target: Target,
    pub failure: Option<Failure>,
    pub breakup: Option<Breakup>,
    pub separation_dv_m_s: f64,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub mode: Mode,
    pub start: Epoch,
    pub duration_s: f64,
    pub seed: u64,
    pub truth_interval_s: f64,
    /// Spread (standard deviation of ln β) of each payload's real ballistic coefficient around
    /// its vehicle's nominal one, drawn per seed: the launch is aimed with the nominal β and
    /// flies with the drawn one, so a tracker cannot know it before re-entry. 0: the nominal.
    pub payload_beta_sigma_ln: f64,
    pub launches: Vec<LaunchPlan>,
    pub sensors: Vec<Sensor>,
}

struct Check<'a> {
    prefix: &'a str,
}

impl Check<'_> {
    fn field(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }
    fn finite(&self, name: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(invalid(
                self.field(name),
                format!("must be a finite number, got {v}"),
            ))
        }
    }
    fn positive(&self, name: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(invalid(
                self.field(name),
                format!("must be a positive number, got {v}"),
            ))
        }
    }
    fn range(&self, name: &str, v: f64, lo: f64, hi: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= lo && v <= hi {
            Ok(v)
        } else {
            Err(invalid(
                self.field(name),
                format!("must be within [{lo}, {hi}], got {v}"),
            ))
        }
    }
    fn required(&self, name: &str, v: Option<f64>, kind: &str) -> Result<f64, ScenarioError> {
        v.ok_or_else(|| invalid(self.field(name), format!("is required for a {kind} sensor")))
    }
}

/// Parses an RFC 3339 UTC time such as `2022-10-03T22:22:00Z`.
pub fn parse_epoch(s: &str) -> Option<Epoch> {
    let t = s.trim();
    let t = t
        .strip_suffix('Z')
        .or_else(|| t.strip_suffix("+00:00"))
        .unwrap_or(t);
    Epoch::from_str(&format!("{t} UTC")).ok()
}

/// Largest accepted `payload_beta_sigma_ln` (a factor of 20 in β at one sigma).
const MAX_BETA_SIGMA_LN: f64 = 3.0;

impl Scenario {
    /// Sets [`Scenario::payload_beta_sigma_ln`] (the command line's `--beta-sigma-ln`), checked
    /// as the scenario file's `payload_beta_sigma_ln` is.
    pub fn set_payload_beta_sigma_ln(&mut self, v: f64) -> Result<(), ScenarioError> {
        self.payload_beta_sigma_ln = Check { prefix: "scenario" }.range(
            "payload_beta_sigma_ln",
            v,
            0.0,
            MAX_BETA_SIGMA_LN,
        )?;
        Ok(())
    }

    /// Parses and validates a scenario from TOML text.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile =
            toml::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        let h = Check { prefix: "scenario" };
        let mode = Mode::from_str(&file.scenario.mode)
            .map_err(|e| invalid(h.field("mode"), e.to_string()))?;
        let start = parse_epoch(&file.scenario.start).ok_or_else(|| {
            invalid(
                h.field("start"),
                format!(
                    "{:?} is not an RFC 3339 UTC time like \"2022-10-03T22:22:00Z\"",
                    file.scenario.start
                ),
            )
        })?;
        let duration_s = h.range("duration_s", file.scenario.duration_s, 1.0, 6.0 * 3600.0)?;
        let truth_interval_s = h.range(
            "truth_interval_s",
            file.scenario.truth_interval_s,
            0.01,
            600.0,
        )?;
        let payload_beta_sigma_ln = h.range(
            "payload_beta_sigma_ln",
            file.scenario.payload_beta_sigma_ln,
            0.0,
            MAX_BETA_SIGMA_LN,
        )?;
        if file.scenario.name.trim().is_empty() {
            return Err(invalid("scenario.name", "must not be empty"));
        }

        let mut custom = Vec::new();
        for (i, v) in file.vehicle.iter().enumerate() {
            let built = v
                .build()
                .map_err(|(f, reason)| invalid(format!("vehicle[{i}].{f}"), reason))?;
            if Vehicle::builtin(&v.name).is_some()
                || custom.iter().any(|c: &Vehicle| c.name == v.name)
            {
                return Err(invalid(
                    format!("vehicle[{i}].name"),
                    format!("{:?} is already defined", v.name),
                ));
            }
            custom.push(built);
        }

        let mut ids = HashSet::new();
        let mut launches = Vec::new();
        for (i, l) in file.launch.iter().enumerate() {
            let prefix = format!("launch[{i}]");
            let c = Check { prefix: &prefix };
            let id =
                ObjectId::new(l.id.clone()).map_err(|e| invalid(c.field("id"), e.to_string()))?;
            if l.id.contains('/') {
                return Err(invalid(
                    c.field("id"),
                    "must not contain '/' (reserved for stages and fragments)",
                ));
            }
            if !ids.insert(l.id.clone()) {
                return Err(invalid(c.field("id"), format!("{:?} is used twice", l.id)));
            }
            let vehicle = custom
                .iter()
                .find(|v| v.name == l.vehicle)
                .cloned()
                .or_else(|| Vehicle::builtin(&l.vehicle))
                .ok_or_else(|| {
                    invalid(
                        c.field("vehicle"),
                        format!(
                            "unknown vehicle {:?}: define it in a [[vehicle]] table or use one of {}",
                            l.vehicle,
                            Vehicle::BUILTIN_NAMES.join(", ")
                        ),
                    )
                })?;
            let site = Geodetic::from_deg(
                c.range("lat_deg", l.lat_deg, -90.0, 90.0)?,
                c.range("lon_deg", l.lon_deg, -180.0, 360.0)?,
                c.range("alt_m", l.alt_m, -100.0, 9000.0)?,
            )
            .map_err(|e| invalid(c.field("lat_deg"), e.to_string()))?;
            let azimuth_rad = c
                .range("azimuth_deg", l.azimuth_deg, -360.0, 360.0)?
                .to_radians();
            let t_launch_s = c.range("time_s", l.time_s, 0.0, duration_s)?;
            let t = &l.target;
            let tc = Check {
                prefix: &format!("{prefix}.target"),
            };
            let target = match (t.apogee_km, t.range_km, t.min_energy_range_km, t.orbit_altitude_km) {
                (Some(a), Some(r), None, None) => Target::ApogeeAndRange {
                    apogee_m: tc.range("apogee_km", a, 10.0, 20_000.0)? * 1e3,
                    range_m: tc.range("range_km", r, 10.0, 19_000.0)? * 1e3,
                },
                (None, None, Some(r), None) => Target::MinimumEnergy {
                    range_m: tc.range("min_energy_range_km", r, 10.0, 19_000.0)? * 1e3,
                },
                (None, None, None, Some(a)) => Target::Orbit {
                    altitude_m: tc.range("orbit_altitude_km", a, 150.0, 2_000.0)? * 1e3,
                },
                _ => {
                    return Err(invalid(
                        tc.prefix,
                        "give exactly one of: apogee_km with range_km, min_energy_range_km, or orbit_altitude_km",
                    ))
                }
            };
            let failure = match &l.failure {
                None => None,
                Some(f) => {
                    let fc = Check {
                        prefix: &format!("{prefix}.failure"),
                    };
                    if f.stage == 0 || f.stage > vehicle.stages.len() {
                        return Err(invalid(
                            fc.field("stage"),
                            format!(
                                "vehicle {:?} has stages 1 to {}, got {}",
                                vehicle.name,
                                vehicle.stages.len(),
                                f.stage
                            ),
                        ));
                    }
                    let start: f64 = vehicle.stages[..f.stage - 1]
                        .iter()
                        .map(|s| s.burn_time_s)
                        .sum();
                    let end = start + vehicle.stages[f.stage - 1].burn_time_s;
                    let time_s = fc.finite("time_s", f.time_s)?;
                    if !(time_s >= start && time_s < end) {
                        return Err(invalid(
                            fc.field("time_s"),
                            format!("stage {} burns from {start:.1} s to {end:.1} s after launch, got {time_s}", f.stage),
                        ));
                    }
                    Some(Failure {
                        stage: f.stage,
                        time_s,
                    })
                }
            };
            let breakup = match &l.breakup {
                None => None,
                Some(b) => {
                    let bc = Check {
                        prefix: &format!("{prefix}.breakup"),
                    };
                    let beta_min = bc.positive("beta_min_kg_m2", b.beta_min_kg_m2)?;
                    let beta_max = bc.positive("beta_max_kg_m2", b.beta_max_kg_m2)?;
                    if beta_max < beta_min {
                        return Err(invalid(
                            bc.field("beta_max_kg_m2"),
                            "must not be below beta_min_kg_m2",
                        ));
                    }
                    if b.fragments == 0 || b.fragments > 5000 {
                        return Err(invalid(
                            bc.field("fragments"),
                            format!("must be 1 to 5000, got {}", b.fragments),
                        ));
                    }
                    Some(Breakup {
                        time_s: bc.positive("time_s", b.time_s)?,
                        fragments: b.fragments,
                        velocity_spread_m_s: bc.range(
                            "velocity_spread_m_s",
                            b.velocity_spread_m_s,
                            0.0,
                            2000.0,
                        )?,
                        beta_min_kg_m2: beta_min,
                        beta_max_kg_m2: beta_max,
                    })
                }
            };
            launches.push(LaunchPlan {
                id,
                site_name: l.site.clone(),
                vehicle,
                site,
                azimuth_rad,
                t_launch_s,
                target,
                failure,
                breakup,
                separation_dv_m_s: c.range("separation_dv_m_s", l.separation_dv_m_s, 0.0, 100.0)?,
            });
        }

        let mut sensor_ids = HashSet::new();
        let mut sensors = Vec::new();
        for (i, s) in file.sensor.iter().enumerate() {
            let prefix = format!("sensor[{i}]");
            let c = Check { prefix: &prefix };
            let id =
                SensorId::new(s.id.clone()).map_err(|e| invalid(c.field("id"), e.to_string()))?;
            if !sensor_ids.insert(s.id.clone()) {
                return Err(invalid(c.field("id"), format!("{:?} is used twice", s.id)));
            }
            let owner =
                Nation::from_str(&s.owner).map_err(|e| invalid(c.field("owner"), e.to_string()))?;
            let model = match s.kind.as_str() {
                "radar" => {
                    let k = "radar";
                    let alt_m = s.alt_m.unwrap_or(0.0);
                    if alt_m < -100.0 {
                        return Err(invalid(
                            c.field("alt_m"),
                            format!("{alt_m} m puts the sensor below the ellipsoid (lowest allowed: -100 m)"),
                        ));
                    }
                    let geo = Geodetic::from_deg(
                        c.range("lat_deg", c.required("lat_deg", s.lat_deg, k)?, -90.0, 90.0)?,
                        c.range(
                            "lon_deg",
                            c.required("lon_deg", s.lon_deg, k)?,
                            -180.0,
                            360.0,
                        )?,
                        c.range("alt_m", alt_m, -100.0, 9000.0)?,
                    )
                    .map_err(|e| invalid(c.field("lat_deg"), e.to_string()))?;
                    let min_el = c.range("min_el_deg", s.min_el_deg.unwrap_or(0.0), -5.0, 89.0)?;
                    let max_el = c.range("max_el_deg", s.max_el_deg.unwrap_or(90.0), -5.0, 90.0)?;
                    if max_el <= min_el {
                        return Err(invalid(c.field("max_el_deg"), "must be above min_el_deg"));
                    }
                    let sigma_rr = match s.sigma_range_rate_m_s {
                        Some(v) => Some(c.positive("sigma_range_rate_m_s", v)?),
                        None => None,
                    };
                    SensorModel::Radar(Radar {
                        site: Site::new(geo),
                        boresight_az_rad: c
                            .range(
                                "boresight_az_deg",
                                s.boresight_az_deg.unwrap_or(0.0),
                                -360.0,
                                360.0,
                            )?
                            .to_radians(),
                        half_sector_rad: 0.5
                            * c.range("sector_deg", s.sector_deg.unwrap_or(360.0), 1.0, 360.0)?
                                .to_radians(),
                        min_el_rad: min_el.to_radians(),
                        max_el_rad: max_el.to_radians(),
                        max_range_m: c.positive(
                            "max_range_km",
                            c.required("max_range_km", s.max_range_km, k)?,
                        )? * 1e3,
                        revisit_s: c.range(
                            "revisit_s",
                            c.required("revisit_s", s.revisit_s, k)?,
                            0.05,
                            600.0,
                        )?,
                        pd: c.range("pd", c.required("pd", s.pd, k)?, 0.0, 1.0)?,
                        noise: MeasurementNoise {
                            sigma_range_m: c.positive(
                                "sigma_range_m",
                                c.required("sigma_range_m", s.sigma_range_m, k)?,
                            )?,
                            sigma_az_rad: c
                                .positive(
                                    "sigma_az_deg",
                                    c.required("sigma_az_deg", s.sigma_az_deg, k)?,
                                )?
                                .to_radians(),
                            sigma_el_rad: c
                                .positive(
                                    "sigma_el_deg",
                                    c.required("sigma_el_deg", s.sigma_el_deg, k)?,
                                )?
                                .to_radians(),
                            sigma_range_rate_m_s: sigma_rr.unwrap_or(0.0),
                        },
                        range_rate: sigma_rr.is_some(),
                        clutter_per_scan: c.range(
                            "clutter_per_scan",
                            s.clutter_per_scan.unwrap_or(0.0),
                            0.0,
                            10_000.0,
                        )?,
                    })
                }
                "space_ir" => {
                    let k = "space_ir";
                    let platform = match (&s.geo_lon_deg, &s.orbit) {
                        (Some(lon), None) => Platform::Geostationary {
                            lon_rad: c.range("geo_lon_deg", *lon, -180.0, 360.0)?.to_radians(),
                        },
                        (None, Some(o)) => {
                            let oc = Check {
                                prefix: &format!("{prefix}.orbit"),
                            };
                            let a = oc.positive("semi_major_axis_km", o.semi_major_axis_km)? * 1e3;
                            let e = oc.range("eccentricity", o.eccentricity, 0.0, 0.95)?;
                            if a * (1.0 - e) < 6_378_137.0 + 200e3 {
                                return Err(invalid(
                                    oc.field("semi_major_axis_km"),
                                    "perigee is below 200 km",
                                ));
                            }
                            Platform::Orbit(KeplerOrbit {
                                semi_major_axis_m: a,
                                eccentricity: e,
                                inclination_rad: oc
                                    .range("inclination_deg", o.inclination_deg, 0.0, 180.0)?
                                    .to_radians(),
                                raan_rad: oc.finite("raan_deg", o.raan_deg)?.to_radians(),
                                arg_perigee_rad: oc
                                    .finite("arg_perigee_deg", o.arg_perigee_deg)?
                                    .to_radians(),
                                mean_anomaly_rad: oc
                                    .finite("mean_anomaly_deg", o.mean_anomaly_deg)?
                                    .to_radians(),
                            })
                        }
                        _ => {
                            return Err(invalid(
                                c.field("geo_lon_deg"),
                                "give exactly one of geo_lon_deg and [orbit]",
                            ))
                        }
                    };
                    SensorModel::SpaceIr(SpaceIr {
                        platform,
                        frame_s: c.range(
                            "frame_s",
                            c.required("frame_s", s.frame_s, k)?,
                            0.05,
                            600.0,
                        )?,
                        pd: c.range("pd", c.required("pd", s.pd, k)?, 0.0, 1.0)?,
                        sigma_rad: c
                            .positive("sigma_urad", c.required("sigma_urad", s.sigma_urad, k)?)?
                            * 1e-6,
                        min_target_alt_m: c.range(
                            "min_target_alt_km",
                            s.min_target_alt_km.unwrap_or(10.0),
                            0.0,
                            200.0,
                        )? * 1e3,
                    })
                }
                other => {
                    return Err(invalid(
                        c.field("kind"),
                        format!("unknown sensor kind {other:?}: use \"radar\" or \"space_ir\""),
                    ));
                }
            };
            // Fields that belong to the other kind are a mistake worth reporting.
            let radar_only = [
                ("sector_deg", s.sector_deg),
                ("max_range_km", s.max_range_km),
                ("revisit_s", s.revisit_s),
                ("sigma_range_m", s.sigma_range_m),
                ("sigma_az_deg", s.sigma_az_deg),
                ("sigma_el_deg", s.sigma_el_deg),
                ("clutter_per_scan", s.clutter_per_scan),
                ("lat_deg", s.lat_deg),
                ("lon_deg", s.lon_deg),
            ];
            let ir_only = [
                ("geo_lon_deg", s.geo_lon_deg),
                ("frame_s", s.frame_s),
                ("sigma_urad", s.sigma_urad),
                ("min_target_alt_km", s.min_target_alt_km),
            ];
            let foreign = if matches!(model, SensorModel::Radar(_)) {
                &ir_only[..]
            } else {
                &radar_only[..]
            };
            if let Some((name, _)) = foreign.iter().find(|(_, v)| v.is_some()) {
                return Err(invalid(
                    c.field(name),
                    format!("does not apply to a {} sensor", s.kind),
                ));
            }
            sensors.push(Sensor {
                id,
                owner,
                name: s.name.clone(),
                model,
            });
        }
        if launches.is_empty() {
            return Err(invalid(
                "launch",
                "a scenario needs at least one [[launch]]",
            ));
        }
        Ok(Scenario {
            name: file.scenario.name,
            description: file.scenario.description,
            mode,
            start,
            duration_s,
            seed: file.scenario.seed,
            truth_interval_s,
            payload_beta_sigma_ln,
            launches,
            sensors,
        })
    }
}
