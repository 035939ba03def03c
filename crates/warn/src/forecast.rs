//! Where a tracked object may go: Monte Carlo futures of one track, and what they mean per
//! region.
//!
//! The track's position, velocity and drag marginal (log-normal in the drag parameter, as in
//! `tripoint_track::products`) is sampled `samples` times from a seeded stream (seed = track id
//! and time, so replays give the same numbers); each sample is flown with the full physics (J2,
//! rotating Earth, drag; thrust taken to stop now, the definition of an instantaneous impact
//! point) to the ground, or for `orbit_horizon_s` when its osculating perigee is above 100 km.
//! Sub-points every `ground_step_s` while the sample is above `overflight_min_alt_m` mark the
//! regions it passes over; the impact point marks the region it falls in. A region's threat
//! probability is the share of samples that pass over it or fall in it.
//!
//! During boost this is the conservative reading: more thrust carries the object further along
//! the same heading, so regions already under its ballistic future stay under it, and the
//! impact point only moves on. Monte Carlo rather than sigma points because region membership
//! is a discontinuous function of the state: an unscented transform gives a mean and a
//! covariance, not the probability of crossing a polygon.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use tripoint_physics::dynamics::{BallisticDynamics, ForceModel};
use tripoint_physics::geodesy::{fast_geodetic, height_above_ellipsoid_m};
use tripoint_physics::integrator::{Dopri5, Outcome, Tolerances};
use tripoint_physics::orbit::summarize;
use tripoint_physics::vec3;
use tripoint_track::products::{marginal7, N7};
use tripoint_track::state::GaussianState;

use crate::config::ForecastConfig;
use crate::region::RegionSet;

/// What the samples say about one region.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RegionOdds {
    /// Samples passing over the region above the overflight height.
    pub over: u32,
    /// Samples falling in the region.
    pub impact: u32,
    /// Samples doing either.
    pub threat: u32,
    /// Samples passing over the region and coming down elsewhere.
    pub transit: u32,
    /// Earliest time (track seconds) any sample reaches the region.
    pub first_t_s: f64,
}

/// The mean impact of the samples that come down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImpactSummary {
    pub t_s: f64,
    pub lat_deg: f64,
    pub lon_deg: f64,
    /// Largest distance (m) of the 95 % of impacts nearest the mean: the radius that holds them.
    pub radius95_m: f64,
}

/// One forecast of one track.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub track_id: u64,
    pub t_s: f64,
    pub samples: u32,
    /// Sparse: (region index, odds), sorted by region index.
    pub regions: Vec<(usize, RegionOdds)>,
    /// Samples that come down within the horizon.
    pub impacts: u32,
    /// Samples in orbit.
    pub orbits: u32,
    pub impact: Option<ImpactSummary>,
    /// Made while the object was under thrust: set by the caller, who knows the IMM state.
    pub powered: bool,
}

impl Forecast {
    /// The share of samples that counts for a warning of region `r`. Under thrust the impact
    /// point of a thrust-cut-now future sweeps on downrange, so a region it merely falls in is
    /// not threatened by a vehicle that keeps burning; a region its futures pass over (and
    /// fall beyond) stays under the path. So a powered forecast counts transits only.
    pub fn warn_share(&self, r: usize) -> f64 {
        self.odds(r).map_or(0.0, |o| {
            let k = if self.powered { o.transit } else { o.threat };
            k as f64 / self.samples as f64
        })
    }
    /// Share of samples threatening region `r` (passing over or falling in).
    pub fn threat(&self, r: usize) -> f64 {
        self.odds(r)
            .map_or(0.0, |o| o.threat as f64 / self.samples as f64)
    }
    pub fn odds(&self, r: usize) -> Option<&RegionOdds> {
        self.regions
            .binary_search_by_key(&r, |(k, _)| *k)
            .ok()
            .map(|i| &self.regions[i].1)
    }
    pub fn impact_fraction(&self) -> f64 {
        self.impacts as f64 / self.samples as f64
    }
    pub fn orbit_fraction(&self) -> f64 {
        self.orbits as f64 / self.samples as f64
    }
}

/// Flies sampled futures against a region set.
pub struct Forecaster<'a> {
    pub cfg: ForecastConfig,
    pub regions: &'a RegionSet,
    /// Configured areas worth testing sub-points against (those some authority warns for).
    pub watched_areas: Vec<usize>,
}

/// Time, ECEF point, admin region and areas of one sample's impact.
type SampleImpact = (f64, [f64; 3], Option<usize>, Vec<usize>);

struct Sample {
    /// (region, first time) passed over.
    over: Vec<(usize, f64)>,
    impact: Option<SampleImpact>,
    orbit: bool,
}

impl Forecaster<'_> {
    /// Forecasts one track state. `None` if the covariance cannot be sampled.
    pub fn forecast(&self, track_id: u64, s: &GaussianState) -> Option<Forecast> {
        let (x7, p7) = marginal7(s)?;
        let chol = p7.cholesky()?;
        let l = chol.l();
        let seed = track_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ s.t_s.to_bits();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = self.cfg.samples;
        let mut odds: Vec<(usize, RegionOdds)> = Vec::new();
        let mut impacts: Vec<(f64, [f64; 3])> = Vec::new();
        let mut orbits = 0;
        let mut seen: Vec<usize> = Vec::new();
        for _ in 0..n {
            let z = nalgebra::SVector::<f64, N7>::from_fn(|_, _| StandardNormal.sample(&mut rng));
            let xi = x7 + l * z;
            let y = [xi[0], xi[1], xi[2], xi[3], xi[4], xi[5]];
            let sample = self.fly(s.t_s, y, xi[6].exp());
            seen.clear();
            let mut mark = |r: usize, t: f64, impact: bool, odds: &mut Vec<(usize, RegionOdds)>| {
                let i = match odds.binary_search_by_key(&r, |(k, _)| *k) {
                    Ok(i) => i,
                    Err(i) => {
                        odds.insert(
                            i,
                            (
                                r,
                                RegionOdds {
                                    first_t_s: f64::INFINITY,
                                    ..RegionOdds::default()
                                },
                            ),
                        );
                        i
                    }
                };
                let o = &mut odds[i].1;
                if impact {
                    o.impact += 1;
                } else {
                    o.over += 1;
                }
                o.first_t_s = o.first_t_s.min(t);
                if !seen.contains(&r) {
                    seen.push(r);
                    o.threat += 1;
                }
            };
            for &(r, t) in &sample.over {
                mark(r, t, false, &mut odds);
                let falls_here = sample
                    .impact
                    .as_ref()
                    .is_some_and(|(_, _, admin, areas)| *admin == Some(r) || areas.contains(&r));
                if !falls_here {
                    if let Ok(i) = odds.binary_search_by_key(&r, |(k, _)| *k) {
                        odds[i].1.transit += 1;
                    }
                }
            }
            if let Some((t, p, admin, areas)) = &sample.impact {
                for &r in admin.iter().chain(areas) {
                    mark(r, *t, true, &mut odds);
                }
                impacts.push((*t, *p));
            }
            if sample.orbit {
                orbits += 1;
            }
        }
        let impact = summarize_impacts(&impacts);
        Some(Forecast {
            track_id,
            t_s: s.t_s,
            samples: n as u32,
            regions: odds,
            impacts: impacts.len() as u32,
            orbits,
            impact,
            powered: false,
        })
    }

    fn fly(&self, t0: f64, y: [f64; 6], c: f64) -> Sample {
        let beta = 1000.0 / c.clamp(0.02, 100.0);
        let o = summarize([y[0], y[1], y[2]], [y[3], y[4], y[5]]);
        let orbit = o.perigee_alt_m > 100e3 || o.specific_energy_j_kg >= 0.0;
        let horizon = if orbit {
            self.cfg.orbit_horizon_s
        } else {
            self.cfg.horizon_s
        };
        let dynamics = BallisticDynamics(ForceModel::with_tabulated_drag(beta));
        let mut ig = Dopri5::new(Tolerances {
            rel: 1e-7,
            abs_pos_m: 1.0,
            abs_vel_m_s: 1e-3,
            max_step_s: 120.0,
        });
        let h0 = height_above_ellipsoid_m([y[0], y[1], y[2]]);
        let min_alt = self.cfg.overflight_min_alt_m;
        let dt = self.cfg.ground_step_s;
        let mut over: Vec<(usize, f64)> = Vec::new();
        let mut next = t0;
        let regions = self.regions;
        let out = ig.integrate(
            &dynamics,
            t0,
            y,
            t0 + horizon,
            |_, yy| {
                let h = height_above_ellipsoid_m([yy[0], yy[1], yy[2]]);
                if h0 < 0.0 {
                    h - h0 + 1.0
                } else {
                    h
                }
            },
            |step| {
                while next <= step.t1_s() {
                    let s = step.eval(next);
                    let (lat, lon, h) = fast_geodetic([s[0], s[1], s[2]]);
                    if h >= min_alt {
                        let (lat, lon) = (lat.to_degrees(), lon.to_degrees());
                        let hits = regions.admin_at(lat, lon).into_iter().chain(
                            self.watched_areas
                                .iter()
                                .copied()
                                .filter(|&a| regions.get(a).contains(lat, lon)),
                        );
                        for r in hits {
                            if !over.iter().any(|(k, _)| *k == r) {
                                over.push((r, next));
                            }
                        }
                    }
                    next += dt;
                }
            },
        );
        let impact = match out {
            Ok(Outcome::Event { t_s, y }) => {
                let p = [y[0], y[1], y[2]];
                let (lat, lon, _) = fast_geodetic(p);
                let (lat, lon) = (lat.to_degrees(), lon.to_degrees());
                Some((
                    t_s,
                    p,
                    regions.admin_at(lat, lon),
                    regions.areas_at(lat, lon).collect(),
                ))
            }
            _ => None,
        };
        Sample {
            over,
            orbit: orbit && impact.is_none(),
            impact,
        }
    }
}

fn summarize_impacts(points: &[(f64, [f64; 3])]) -> Option<ImpactSummary> {
    if points.is_empty() {
        return None;
    }
    let n = points.len() as f64;
    let mean = vec3::scale(
        points.iter().fold([0.0; 3], |a, (_, p)| vec3::add(a, *p)),
        1.0 / n,
    );
    let t = points.iter().map(|(t, _)| t).sum::<f64>() / n;
    let mut d: Vec<f64> = points
        .iter()
        .map(|(_, p)| vec3::norm(vec3::sub(*p, mean)))
        .collect();
    d.sort_by(f64::total_cmp);
    let k = ((0.95 * n).ceil() as usize).clamp(1, d.len()) - 1;
    let (lat, lon, _) = fast_geodetic(mean);
    Some(ImpactSummary {
        t_s: t,
        lat_deg: lat.to_degrees(),
        lon_deg: lon.to_degrees(),
        radius95_m: d[k],
    })
}
