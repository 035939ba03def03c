//! Turning sensor detections into time-ordered observation batches (one sensor, one time).

use std::collections::HashMap;

use tripoint_core::{Detection, Epoch, Nation, SensorId};

use crate::measurement::{LocalFrame, Observation};

/// Why a detection was not turned into an observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// Converts detections (in arrival order) into batches. Detections of an unknown sensor, with
/// non-finite values or bad noise are rejected with their reason, never fatal.
pub fn batches(
    detections: &[Detection],
    owners: &HashMap<SensorId, Nation>,
    epoch: Epoch,
) -> (Vec<Vec<Observation>>, Vec<Rejected>) {
    let mut frames: HashMap<(SensorId, [u64; 3]), LocalFrame> = HashMap::new();
    let mut out: Vec<Vec<Observation>> = Vec::new();
    let mut rejected = Vec::new();
    for (i, d) in detections.iter().enumerate() {
        let Some(owner) = owners.get(&d.sensor) else {
            rejected.push(Rejected {
                index: i,
                reason: format!("unknown sensor id {:?}", d.sensor.as_str()),
            });
            continue;
        };
        let key = (d.sensor.clone(), d.sensor_ecef_m.map(f64::to_bits));
        let frame = match frames.get(&key) {
            Some(f) => *f,
            None => match LocalFrame::at(d.sensor_ecef_m) {
                Ok(f) => {
                    if frames.len() > 10_000 {
                        frames.clear();
                    }
                    frames.insert(key, f);
                    f
                }
                Err(e) => {
                    rejected.push(Rejected {
                        index: i,
                        reason: e.to_string(),
                    });
                    continue;
                }
            },
        };
        let t_s = (d.time - epoch).to_seconds();
        match Observation::from_detection(d, t_s, *owner, frame) {
            Ok(o) => match out.last_mut() {
                Some(b) if b[0].t_s == o.t_s && b[0].sensor == o.sensor => b.push(o),
                _ => out.push(vec![o]),
            },
            Err(e) => rejected.push(Rejected {
                index: i,
                reason: e.to_string(),
            }),
        }
    }
    (out, rejected)
}
