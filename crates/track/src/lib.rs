//! The ballistic tracker of tripoint, in Stone Soup's vocabulary: motion models by flight phase,
//! EKF/UKF filters inside an IMM, radar and infrared measurement models, gating and GNN
//! association, M-of-N track management with infrared cueing, out-of-sequence measurements,
//! per-track products (impact point and 95 % ellipse, launch point, apogee, orbit/ballistic
//! classification), covariance-intersection fusion of partner tracks, and GOSPA.
//!
//! Deterministic and synchronous; no I/O.

pub mod associate;
pub mod feed;
pub mod filter;
pub mod fusion;
pub mod imm;
pub mod measurement;
pub mod metric;
pub mod motion;
pub mod node;
pub mod products;
pub mod score;
pub mod state;
pub mod tracker;
pub mod vexp;

pub use filter::FilterKind;
pub use measurement::{LocalFrame, Observation, ObservationKind};
pub use state::GaussianState;
pub use tracker::{MultiTargetTracker, Track, TrackerConfig};

/// Errors on input to the tracker.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrackError {
    #[error("{0} is not a finite number")]
    NotFinite(&'static str),
    #[error("measurement noise must be positive and finite")]
    BadNoise,
    #[error("{what} {value} is outside its possible range ({range})")]
    OutOfRange {
        what: &'static str,
        value: f64,
        range: &'static str,
    },
    #[error("sensor position cannot be converted: {0}")]
    BadSensorPosition(String),
}
