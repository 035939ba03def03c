//! Shared domain types of tripoint: who owns data (`Nation`), whether it is real or an exercise
//! (`Mode`), identifiers, object kinds and sensor detections.
//!
//! Only these types cross crate boundaries. Time is [`hifitime::Epoch`] everywhere; raw numbers
//! carry their frame and unit in their names (`ecef_m`, `range_m`, `az_rad`).

mod detection;
mod ids;
mod nation;
pub mod world;

pub use detection::{Detection, Measurement, MeasurementNoise};
pub use hifitime::{Duration, Epoch};
pub use ids::{ObjectId, ObjectKind, SensorId, SensorKind};
pub use nation::{Mode, Nation};

/// Errors raised while building core values from outside input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CoreError {
    /// A nation code that is not three ASCII letters.
    #[error("invalid nation code {code:?}: expected an ISO 3166-1 alpha-3 code such as \"USA\"")]
    InvalidNation { code: String },
    /// A mode that is neither `real` nor `exercise`.
    #[error("invalid mode {value:?}: expected \"real\" or \"exercise\"")]
    InvalidMode { value: String },
    /// An identifier that is empty or contains characters outside `[A-Za-z0-9._/-]`.
    #[error("invalid identifier {value:?}: use 1-64 characters from A-Z a-z 0-9 . _ / -")]
    InvalidId { value: String },
    /// Data of one mode offered to the other world (exercise data to a real node or the reverse).
    #[error("{found} data refused by a {expected} world: real and exercise data never mix")]
    WrongWorld { expected: Mode, found: Mode },
}
