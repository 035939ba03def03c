//! Sensor detections: what a sensor reports, with its noise, at a time.

use hifitime::Epoch;
use serde::{Deserialize, Serialize};

use crate::{Mode, ObjectId, SensorId};

/// A measurement in the sensor's own frame.
///
/// Radar angles are in the site's local East-North-Up frame: azimuth clockwise from north,
/// elevation up from the local horizontal plane (geodetic normal).
///
/// Space infrared bearings are angles of the line of sight off the platform's nadir (the
/// geodetic "down" at the platform), so they stay well conditioned for a sensor staring at the
/// Earth: with `d`, `e`, `n` the platform's local down, east and north unit vectors and `l` the
/// unit line of sight, `east_rad = atan2(l·e, l·d)` and `north_rad = asin(l·n)`
/// (`tripoint_physics::geodesy::nadir_bearings`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measurement {
    Radar {
        range_m: f64,
        az_rad: f64,
        el_rad: f64,
        range_rate_m_s: Option<f64>,
    },
    Bearings {
        east_rad: f64,
        north_rad: f64,
    },
}

/// One-sigma measurement noise (the measurement covariance is diagonal in these components).
/// For bearings, `sigma_az_rad` applies to `east_rad` and `sigma_el_rad` to `north_rad`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasurementNoise {
    pub sigma_range_m: f64,
    pub sigma_az_rad: f64,
    pub sigma_el_rad: f64,
    pub sigma_range_rate_m_s: f64,
}

/// One detection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub time: Epoch,
    pub sensor: SensorId,
    pub mode: Mode,
    pub measurement: Measurement,
    pub noise: MeasurementNoise,
    /// Where the sensor was at `time`, ECEF metres (fixed for ground radars, moving for space
    /// platforms).
    pub sensor_ecef_m: [f64; 3],
    /// Ground truth for scoring: the object that caused it, `None` for clutter. Simulation only:
    /// trackers never read it.
    pub truth: Option<ObjectId>,
}
