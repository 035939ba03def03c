//! Sensor models: ground or ship radar and space-based infrared. Every parameter comes from the
//! scenario; nothing here encodes the performance of a real sensor.
//!
//! Radar: scans at a fixed revisit interval with a random phase; an object is detectable when it
//! is in the field of regard (azimuth sector, elevation between mask and ceiling), within range,
//! and the straight line of sight clears the WGS-84 ellipsoid (no refraction). A detectable object
//! is detected with probability `pd`; range, azimuth, elevation (and optionally range rate) get
//! independent Gaussian noise. Each scan adds Poisson(λ) clutter detections uniform in range,
//! azimuth and elevation over the field of regard.
//!
//! Space infrared: a staring sensor on a geostationary or elliptical orbit reports, at a fixed
//! frame interval, the line of sight to every burning object above a minimum altitude that the
//! Earth does not hide, as two angles off nadir with Gaussian noise (bearings only).

use rand::Rng;
use rand_distr::{Distribution, Normal, Poisson, StandardNormal};
use tripoint_core::{
    Detection, Epoch, Measurement, MeasurementNoise, Mode, Nation, ObjectId, SensorId, SensorKind,
};
use tripoint_physics::geodesy::{ecef, height_above_ellipsoid_m, line_of_sight, nadir_bearings};
use tripoint_physics::orbit::KeplerOrbit;
use tripoint_physics::vec3;
use tripoint_physics::{Geodetic, Site};

use crate::trajectory::Trajectory;

/// A radar's parameters.
#[derive(Clone, Debug)]
pub struct Radar {
    pub site: Site,
    /// Centre of the azimuth sector, clockwise from north (rad).
    pub boresight_az_rad: f64,
    /// Half-width of the azimuth sector (rad); π for all-round coverage.
    pub half_sector_rad: f64,
    /// Elevation mask and ceiling (rad).
    pub min_el_rad: f64,
    pub max_el_rad: f64,
    pub max_range_m: f64,
    pub revisit_s: f64,
    pub pd: f64,
    pub noise: MeasurementNoise,
    /// Report range rate too.
    pub range_rate: bool,
    /// Mean clutter detections per scan.
    pub clutter_per_scan: f64,
}

/// Where a space infrared sensor is.
#[derive(Clone, Debug)]
pub enum Platform {
    /// Fixed over the equator at this longitude (rad), 35,786 km up.
    Geostationary { lon_rad: f64 },
    /// On a Kepler orbit (elements at the scenario start).
    Orbit(KeplerOrbit),
}

impl Platform {
    pub fn ecef_m(&self, t_s: f64) -> [f64; 3] {
        match self {
            Platform::Geostationary { lon_rad } => Geodetic {
                lat_rad: 0.0,
                lon_rad: *lon_rad,
                h_m: 35_786e3,
            }
            .to_ecef_m(),
            Platform::Orbit(k) => k.state_ecef(t_s).0,
        }
    }
}

/// A space infrared sensor's parameters.
#[derive(Clone, Debug)]
pub struct SpaceIr {
    pub platform: Platform,
    pub frame_s: f64,
    pub pd: f64,
    /// One-sigma noise on each line-of-sight angle (rad).
    pub sigma_rad: f64,
    /// Plumes below this height are hidden by cloud and haze (m).
    pub min_target_alt_m: f64,
}

/// A sensor with its identity.
#[derive(Clone, Debug)]
pub struct Sensor {
    pub id: SensorId,
    pub owner: Nation,
    pub name: String,
    pub model: SensorModel,
}

#[derive(Clone, Debug)]
pub enum SensorModel {
    Radar(Radar),
    SpaceIr(SpaceIr),
}

impl Sensor {
    pub fn kind(&self) -> SensorKind {
        match self.model {
            SensorModel::Radar(_) => SensorKind::Radar,
            SensorModel::SpaceIr(_) => SensorKind::SpaceIr,
        }
    }
}

/// A flying object as sensors see it (plus its truth id, for scoring only).
pub struct Observable<'a> {
    pub id: &'a ObjectId,
    pub trajectory: &'a Trajectory,
    pub burns: &'a [(f64, f64)],
}

/// The common context of one sensing run.
pub struct SenseContext {
    pub start: Epoch,
    pub duration_s: f64,
    pub mode: Mode,
}

fn wrap_pi(a: f64) -> f64 {
    (a + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
}

impl Radar {
    /// Range, azimuth, elevation and range rate to `y` if the radar can see it.
    fn sees(&self, y: &[f64; 6]) -> Option<(f64, f64, f64, f64)> {
        let r = [y[0], y[1], y[2]];
        let site = self.site.ecef_m();
        if vec3::norm(vec3::sub(r, site)) > self.max_range_m {
            return None;
        }
        let look = self.site.look(&ecef(r));
        if look.el_rad < self.min_el_rad || look.el_rad > self.max_el_rad {
            return None;
        }
        if wrap_pi(look.az_rad - self.boresight_az_rad).abs() > self.half_sector_rad {
            return None;
        }
        if !line_of_sight(site, r, 50.0) {
            return None;
        }
        let d = vec3::sub(r, site);
        let rr = vec3::dot(d, [y[3], y[4], y[5]]) / look.range_m;
        Some((look.range_m, look.az_rad, look.el_rad, rr))
    }
}

impl Sensor {
    /// All detections this sensor makes of `objects` over the scenario, in time order.
    pub fn observe<R: Rng>(
        &self,
        ctx: &SenseContext,
        objects: &[Observable<'_>],
        rng: &mut R,
    ) -> Vec<Detection> {
        let mut out = Vec::new();
        let at = |t: f64| ctx.start + tripoint_core::Duration::from_seconds(t);
        match &self.model {
            SensorModel::Radar(radar) => {
                let site_ecef = radar.site.ecef_m();
                let n = radar.noise;
                let clutter = Poisson::new(radar.clutter_per_scan.max(1e-12)).ok();
                let mut t = rng.random::<f64>() * radar.revisit_s;
                while t <= ctx.duration_s {
                    for o in objects {
                        let Some(y) = o.trajectory.state_at(t) else {
                            continue;
                        };
                        let Some((range, az, el, rr)) = radar.sees(&y) else {
                            continue;
                        };
                        if rng.random::<f64>() >= radar.pd {
                            continue;
                        }
                        let g = |rng: &mut R, s: f64| s * rng.sample::<f64, _>(StandardNormal);
                        out.push(Detection {
                            time: at(t),
                            sensor: self.id.clone(),
                            mode: ctx.mode,
                            measurement: Measurement::Radar {
                                range_m: range + g(rng, n.sigma_range_m),
                                az_rad: (az + g(rng, n.sigma_az_rad))
                                    .rem_euclid(std::f64::consts::TAU),
                                el_rad: el + g(rng, n.sigma_el_rad),
                                range_rate_m_s: radar
                                    .range_rate
                                    .then(|| rr + g(rng, n.sigma_range_rate_m_s)),
                            },
                            noise: n,
                            sensor_ecef_m: site_ecef,
                            truth: Some(o.id.clone()),
                        });
                    }
                    if let Some(p) = &clutter {
                        if radar.clutter_per_scan > 0.0 {
                            let k = p.sample(rng) as usize;
                            for _ in 0..k {
                                let range = radar.max_range_m * (0.05 + 0.95 * rng.random::<f64>());
                                let az = (radar.boresight_az_rad
                                    + radar.half_sector_rad * (2.0 * rng.random::<f64>() - 1.0))
                                    .rem_euclid(std::f64::consts::TAU);
                                let el = radar.min_el_rad
                                    + (radar.max_el_rad - radar.min_el_rad) * rng.random::<f64>();
                                let rr = Normal::new(0.0, 300.0).map_or(0.0, |d| d.sample(rng));
                                out.push(Detection {
                                    time: at(t),
                                    sensor: self.id.clone(),
                                    mode: ctx.mode,
                                    measurement: Measurement::Radar {
                                        range_m: range,
                                        az_rad: az,
                                        el_rad: el,
                                        range_rate_m_s: radar.range_rate.then_some(rr),
                                    },
                                    noise: n,
                                    sensor_ecef_m: site_ecef,
                                    truth: None,
                                });
                            }
                        }
                    }
                    t += radar.revisit_s;
                }
            }
            SensorModel::SpaceIr(ir) => {
                let noise = MeasurementNoise {
                    sigma_range_m: 0.0,
                    sigma_az_rad: ir.sigma_rad,
                    sigma_el_rad: ir.sigma_rad,
                    sigma_range_rate_m_s: 0.0,
                };
                let mut t = rng.random::<f64>() * ir.frame_s;
                while t <= ctx.duration_s {
                    let burning: Vec<&Observable<'_>> = objects
                        .iter()
                        .filter(|o| o.burns.iter().any(|&(a, b)| t >= a && t <= b))
                        .collect();
                    if !burning.is_empty() {
                        let p = ir.platform.ecef_m(t);
                        for o in burning {
                            let Some(y) = o.trajectory.state_at(t) else {
                                continue;
                            };
                            let r = [y[0], y[1], y[2]];
                            if height_above_ellipsoid_m(r) < ir.min_target_alt_m
                                || !line_of_sight(p, r, 0.0)
                            {
                                continue;
                            }
                            if rng.random::<f64>() >= ir.pd {
                                continue;
                            }
                            let Some((e, n)) = nadir_bearings(p, r) else {
                                continue;
                            };
                            out.push(Detection {
                                time: at(t),
                                sensor: self.id.clone(),
                                mode: ctx.mode,
                                measurement: Measurement::Bearings {
                                    east_rad: e + ir.sigma_rad
                                        * rng.sample::<f64, _>(StandardNormal),
                                    north_rad: n + ir.sigma_rad
                                        * rng.sample::<f64, _>(StandardNormal),
                                },
                                noise,
                                sensor_ecef_m: p,
                                truth: Some(o.id.clone()),
                            });
                        }
                    }
                    t += ir.frame_s;
                }
            }
        }
        out
    }
}
