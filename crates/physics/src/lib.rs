//! Physics of the synthetic world: WGS-84 geodesy with frames in the types (via `sguaba`), J2
//! gravity, the US Standard Atmosphere 1976, equations of motion in the rotating ECEF frame, an
//! adaptive Dormand–Prince 5(4) integrator with dense output and event location, and two-body
//! orbit elements.
//!
//! Everything here is synchronous, allocation-light and deterministic. Inside the integrator a
//! state is a raw `[f64; 6]` = `[x, y, z, vx, vy, vz]` in ECEF metres and m/s, and time is seconds
//! since a caller-chosen reference epoch; frame-typed values (`Coordinate<Ecef>`) are used at the
//! edges.

pub mod atmosphere;
pub mod dynamics;
pub mod earth;
pub mod geodesy;
pub mod gravity;
pub mod integrator;
pub mod orbit;
pub mod vec3;

pub use dynamics::{BallisticDynamics, ForceModel};
pub use geodesy::{Geodetic, GroundLine, Site, SiteEnu};
pub use integrator::{DenseStep, Dopri5, Outcome, Tolerances};

/// Errors raised by physics routines on bad input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PhysicsError {
    #[error("latitude {lat_deg}° is outside [-90°, 90°]")]
    LatitudeOutOfRange { lat_deg: f64 },
    #[error("{what} is not a finite number ({value})")]
    NotFinite { what: &'static str, value: f64 },
    #[error("position is too close to or too far from the Earth's centre to convert to geodetic ({radius_m} m from the centre)")]
    OutOfGeodeticRange { radius_m: f64 },
    #[error("integration failed while {action}: step size fell to {step_s} s at t = {t_s} s")]
    StepSizeUnderflow {
        action: &'static str,
        t_s: f64,
        step_s: f64,
    },
    #[error("integration failed while {action}: more than {max_steps} steps")]
    TooManySteps {
        action: &'static str,
        max_steps: usize,
    },
}
