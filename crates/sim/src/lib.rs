//! The synthetic world of tripoint: launches (multi-stage boost, staging, failures, breakups),
//! trajectory solvers, sensors (radar, space-based infrared) and scenarios that put them
//! together into ground truth and detections.
//!
//! No I/O here: scenarios are parsed from strings and results returned as values; the CLI reads
//! and writes files. Deterministic for a given scenario and seed.

pub mod flight;
pub mod scenario;
pub mod sensor;
pub mod solver;
pub mod trajectory;
pub mod vehicle;
pub mod world;
