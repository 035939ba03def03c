//! Launch vehicles: stages with their propellant, dry mass, specific impulse or thrust, and the
//! payload. The built-in vehicles are generic (round numbers chosen to reach the ranges and
//! apogees of the public record), not models of any real missile.

use serde::Deserialize;
use tripoint_core::ObjectKind;
use tripoint_physics::earth::G0_M_S2;

/// One stage of a vehicle.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub burn_time_s: f64,
    pub propellant_mass_kg: f64,
    pub dry_mass_kg: f64,
    /// Vacuum specific impulse (s).
    pub isp_s: f64,
    pub diameter_m: f64,
    /// Ballistic coefficient of the spent, tumbling stage after separation (kg/m²).
    pub spent_beta_kg_m2: f64,
}

impl Stage {
    pub fn mass_flow_kg_s(&self) -> f64 {
        self.propellant_mass_kg / self.burn_time_s
    }
    pub fn thrust_n(&self) -> f64 {
        self.mass_flow_kg_s() * self.isp_s * G0_M_S2
    }
    pub fn area_m2(&self) -> f64 {
        std::f64::consts::PI * 0.25 * self.diameter_m * self.diameter_m
    }
}

/// A multi-stage vehicle and its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Vehicle {
    pub name: String,
    pub stages: Vec<Stage>,
    pub payload_mass_kg: f64,
    /// Ballistic coefficient of the payload in free flight and re-entry (kg/m²).
    pub payload_beta_kg_m2: f64,
    /// What the payload is: a warhead (ballistic launch) or a satellite.
    pub payload_kind: ObjectKind,
    /// Drag coefficient of the stack during boost, on the largest stage's cross-section.
    pub boost_cd: f64,
}

impl Vehicle {
    /// Lift-off mass (kg).
    pub fn liftoff_mass_kg(&self) -> f64 {
        self.payload_mass_kg
            + self
                .stages
                .iter()
                .map(|s| s.propellant_mass_kg + s.dry_mass_kg)
                .sum::<f64>()
    }

    /// Ideal (vacuum, no gravity loss) velocity change of all stages (m/s).
    pub fn ideal_delta_v_m_s(&self) -> f64 {
        let mut above = self.payload_mass_kg;
        let mut dv = 0.0;
        for s in self.stages.iter().rev() {
            let full = above + s.dry_mass_kg + s.propellant_mass_kg;
            let empty = above + s.dry_mass_kg;
            dv += s.isp_s * G0_M_S2 * (full / empty).ln();
            above = full;
        }
        dv
    }

    /// Total burn time of all stages (s).
    pub fn total_burn_s(&self) -> f64 {
        self.stages.iter().map(|s| s.burn_time_s).sum()
    }

    /// The generic built-in vehicles: `srbm`, `mrbm`, `irbm`, `icbm`, `slv`.
    pub fn builtin(name: &str) -> Option<Vehicle> {
        let st = |burn, prop, dry, isp, dia, beta| Stage {
            burn_time_s: burn,
            propellant_mass_kg: prop,
            dry_mass_kg: dry,
            isp_s: isp,
            diameter_m: dia,
            spent_beta_kg_m2: beta,
        };
        let v = |stages, payload, beta, kind| Vehicle {
            name: name.to_owned(),
            stages,
            payload_mass_kg: payload,
            payload_beta_kg_m2: beta,
            payload_kind: kind,
            boost_cd: 0.3,
        };
        use ObjectKind::{Satellite, Warhead};
        Some(match name {
            "srbm" => v(
                vec![st(45.0, 5_000.0, 650.0, 255.0, 0.95, 650.0)],
                500.0,
                3_000.0,
                Warhead,
            ),
            "mrbm" => v(
                vec![st(70.0, 12_000.0, 1_500.0, 265.0, 1.3, 700.0)],
                800.0,
                4_000.0,
                Warhead,
            ),
            "irbm" => v(
                vec![
                    st(90.0, 17_000.0, 2_000.0, 270.0, 1.5, 800.0),
                    st(60.0, 3_500.0, 500.0, 300.0, 1.5, 350.0),
                ],
                650.0,
                5_000.0,
                Warhead,
            ),
            "icbm" => v(
                vec![
                    st(120.0, 50_000.0, 4_500.0, 285.0, 2.0, 1_000.0),
                    st(110.0, 12_000.0, 1_000.0, 315.0, 1.6, 400.0),
                ],
                800.0,
                6_000.0,
                Warhead,
            ),
            "slv" => v(
                vec![
                    st(130.0, 60_000.0, 5_000.0, 280.0, 2.4, 1_000.0),
                    st(140.0, 14_000.0, 1_500.0, 310.0, 1.8, 500.0),
                    st(220.0, 2_500.0, 300.0, 320.0, 1.2, 200.0),
                ],
                300.0,
                150.0,
                Satellite,
            ),
            _ => return None,
        })
    }

    pub const BUILTIN_NAMES: [&'static str; 5] = ["srbm", "mrbm", "irbm", "icbm", "slv"];
}

/// Configuration form of a stage (exactly one of `isp_s` and `thrust_n`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    pub burn_time_s: f64,
    pub propellant_mass_kg: f64,
    pub dry_mass_kg: f64,
    pub isp_s: Option<f64>,
    pub thrust_n: Option<f64>,
    pub diameter_m: f64,
    pub spent_beta_kg_m2: Option<f64>,
}

/// Configuration form of a vehicle.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleConfig {
    pub name: String,
    pub payload_mass_kg: f64,
    pub payload_beta_kg_m2: f64,
    #[serde(default = "default_payload")]
    pub payload: PayloadKind,
    #[serde(default = "default_cd")]
    pub boost_cd: f64,
    #[serde(rename = "stage")]
    pub stages: Vec<StageConfig>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PayloadKind {
    Warhead,
    Satellite,
}

fn default_payload() -> PayloadKind {
    PayloadKind::Warhead
}
fn default_cd() -> f64 {
    0.3
}

/// A rejected vehicle: the field (relative to the vehicle) and why.
pub type FieldError = (String, String);

impl VehicleConfig {
    /// Validates and converts into a [`Vehicle`].
    pub fn build(&self) -> Result<Vehicle, FieldError> {
        let positive = |field: &str, v: f64| -> Result<(), FieldError> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err((
                    field.to_owned(),
                    format!("must be a positive number, got {v}"),
                ))
            }
        };
        positive("payload_mass_kg", self.payload_mass_kg)?;
        positive("payload_beta_kg_m2", self.payload_beta_kg_m2)?;
        positive("boost_cd", self.boost_cd)?;
        if self.stages.is_empty() {
            return Err(("stage".into(), "a vehicle needs at least one stage".into()));
        }
        let mut stages = Vec::new();
        for (i, s) in self.stages.iter().enumerate() {
            let f = |name: &str| format!("stage[{i}].{name}");
            positive(&f("burn_time_s"), s.burn_time_s)?;
            positive(&f("propellant_mass_kg"), s.propellant_mass_kg)?;
            positive(&f("dry_mass_kg"), s.dry_mass_kg)?;
            positive(&f("diameter_m"), s.diameter_m)?;
            let isp = match (s.isp_s, s.thrust_n) {
                (Some(isp), None) => {
                    positive(&f("isp_s"), isp)?;
                    isp
                }
                (None, Some(thrust)) => {
                    positive(&f("thrust_n"), thrust)?;
                    thrust / (s.propellant_mass_kg / s.burn_time_s) / G0_M_S2
                }
                _ => return Err((f("isp_s"), "give exactly one of isp_s and thrust_n".into())),
            };
            let area = std::f64::consts::PI * 0.25 * s.diameter_m * s.diameter_m;
            let beta = s.spent_beta_kg_m2.unwrap_or(s.dry_mass_kg / area);
            positive(&f("spent_beta_kg_m2"), beta)?;
            stages.push(Stage {
                burn_time_s: s.burn_time_s,
                propellant_mass_kg: s.propellant_mass_kg,
                dry_mass_kg: s.dry_mass_kg,
                isp_s: isp,
                diameter_m: s.diameter_m,
                spent_beta_kg_m2: beta,
            });
        }
        Ok(Vehicle {
            name: self.name.clone(),
            stages,
            payload_mass_kg: self.payload_mass_kg,
            payload_beta_kg_m2: self.payload_beta_kg_m2,
            payload_kind: match self.payload {
                PayloadKind::Warhead => ObjectKind::Warhead,
                PayloadKind::Satellite => ObjectKind::Satellite,
            },
            boost_cd: self.boost_cd,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_increasing_capability() {
        let dv: Vec<f64> = ["srbm", "mrbm", "irbm", "icbm"]
            .iter()
            .map(|n| Vehicle::builtin(n).expect("builtin").ideal_delta_v_m_s())
            .collect();
        assert!(dv.windows(2).all(|w| w[0] < w[1]), "{dv:?}");
        assert!(
            Vehicle::builtin("slv")
                .expect("builtin")
                .ideal_delta_v_m_s()
                > 9_500.0
        );
        assert!(Vehicle::builtin("nope").is_none());
    }
}
