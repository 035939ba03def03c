//! Public warnings: which regions are at risk from which tracked object, the alert lifecycle
//! (launch detected → take shelter → result) and its CAP 1.2 messages in English, Japanese and
//! Korean, exercise-safe by construction.
//!
//! - [`region`]: Natural Earth prefectures and provinces (ISO 3166-2 ids) and configured areas,
//!   with an exact, grid-indexed point query.
//! - [`forecast`]: Monte Carlo futures of a track → per-region overflight and impact odds.
//! - [`engine`]: per-authority decision with hysteresis, and outcomes the tracks support.
//! - [`cap`]: CAP 1.2 XML, status taken from the data's world.
//! - [`pipeline`]: one node from detections to CAP, generic over the world.
//! - [`score`]: comparison with ground truth for tests and Monte Carlo (never used by the node).

pub mod cap;
pub mod config;
pub mod engine;
pub mod forecast;
pub mod pipeline;
pub mod region;
pub mod score;

/// Errors of the warning crate; each names the file and field at fault.
#[derive(Debug, thiserror::Error)]
pub enum WarnError {
    #[error("regions {source_name}: {field}: {message}")]
    Regions {
        source_name: String,
        field: String,
        message: String,
    },
    #[error("warning config {source_name}: {field}: {message}")]
    Config {
        source_name: String,
        field: String,
        message: String,
    },
}
