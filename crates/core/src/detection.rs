//! Sensor detections: what a sensor reports, with its noise, at a time.

use hifitime::Epoch;
use serde::{Deserialize, Serialize};

use crate::{Mode, ObjectId, SensorId};

/// A measurement in the sensor's own frame.
///
/// Radar angles are in the site's local East-North-Up frame: azimuth clockwise from north,
/// elevation up from the local horizontal plane (geodetic normal). Space infrared bearings are in
/// the platform's local ENU frame at the time of the detection.
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
        az_rad: f64,
        el_rad: f64,
    },
}

/// One-sigma measurement noise (the measurement covariance is diagonal in these components).
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
