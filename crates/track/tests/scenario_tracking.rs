//! End-to-end: simulate a scenario, track every sensor's detections, compare with the truth.

use std::collections::HashMap;

use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::run;
use tripoint_track::feed::batches;
use tripoint_track::{MultiTargetTracker, TrackerConfig};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).expect("readable")).expect("valid")
}

#[test]
fn irbm_warhead_is_tracked_to_within_a_few_hundred_metres() {
    let s = load("irbm-overflight");
    let r = run(&s, &mut |_| {}).expect("runs");
    let owners: HashMap<_, _> = s.sensors.iter().map(|x| (x.id.clone(), x.owner)).collect();
    let (batches, rejected) = batches(&r.detections, &owners, s.start);
    assert!(rejected.is_empty());
    let mut tracker = MultiTargetTracker::new(TrackerConfig::default());
    let t0 = std::time::Instant::now();
    let mut n = 0;
    for b in &batches {
        n += b.len();
        tracker.process_batch(b);
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{n} observations in {secs:.2} s ({:.0}/s), {} live tracks, {} confirmed deleted",
        n as f64 / secs,
        tracker.tracks().len(),
        tracker.deleted.len()
    );
    let warhead = r
        .objects
        .iter()
        .find(|o| o.id.as_str() == "irbm-1")
        .expect("warhead");
    for t in tracker
        .tracks()
        .iter()
        .chain(tracker.deleted.iter())
        .filter(|t| t.is_confirmed())
    {
        let e = t.estimate();
        if let Some(y) = warhead.trajectory.state_at(e.t_s) {
            let d = ((y[0] - e.x[0]).powi(2) + (y[1] - e.x[1]).powi(2) + (y[2] - e.x[2]).powi(2))
                .sqrt();
            let dv = ((y[3] - e.x[3]).powi(2) + (y[4] - e.x[4]).powi(2) + (y[5] - e.x[5]).powi(2))
                .sqrt();
            eprintln!("track {} hits {} last {:.0} s: {:.0} m, {:.1} m/s from the warhead; mu {:?}; sigma {:.0} m", t.id, t.hits, e.t_s, d, dv, t.imm.mu, e.position_sigma_m());
        }
    }
}
