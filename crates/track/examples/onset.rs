//! One batch of `breakup` replayed many times from a snapshot taken just before it: the
//! confirmed pass alone (`update_batch`, no products), the minimum over the replays of its
//! time and of each of the tracker's phases. For the debris cloud's onset (t 260.45 s, 130
//! young confirmed tracks each gating ~210 detections), where the latency tail comes from.
//!
//! `cargo run --release -p tripoint-track --example onset -- 260.45 [REPLAYS]`
//!
//! - `AHEAD=1`: the tracks predicted to the batch's time before each replay
//!   (`MultiTargetTracker::predict_ahead`, off the clock).
//! - `NODE=1`: the batch taken by a node instead ([`Node::take`], its predictions and
//!   references made ahead, off the clock): the time to its last first product, the products'
//!   median and the time to its confirmed tracks updated, with the tracker's phase times (of
//!   both passes here, the tentative pass's too, where the bare pass has only the confirmed
//!   one). The node is cloned before each replay.
//!
//!   `NODE=1 cargo run --release -p tripoint-track --example onset -- 288.33 200`
//! - `PERF_CTL=FIFO PERF_ACK=FIFO`: `perf record -D -1 --control fifo:FIFO,FIFO …` samples only
//!   the timed passes (perf's control fifos, made with `mkfifo`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::Instant;

use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::run;
use tripoint_track::feed::batches;
use tripoint_track::node::{Node, NodeConfig};
use tripoint_track::tracker::PhaseTimes;
use tripoint_track::{MultiTargetTracker, TrackerConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let t_batch: f64 = args
        .next()
        .and_then(|v| v.parse().ok())
        .expect("usage: onset BATCH_TIME_S [REPLAYS]");
    let replays: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(200);
    let path = format!(
        "{}/../../scenarios/breakup.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = Scenario::from_toml(&std::fs::read_to_string(path).expect("readable scenario"))
        .expect("valid scenario");
    let r = run(&s, &mut |_| {}).expect("simulates");
    let owners: HashMap<_, _> = s.sensors.iter().map(|x| (x.id.clone(), x.owner)).collect();
    let (obs, _) = batches(&r.detections, &owners, s.start);
    let ahead = std::env::var("AHEAD").is_ok_and(|v| v == "1");
    let fifo = |var: &str, write: bool| {
        std::env::var(var).ok().map(|p| {
            std::fs::OpenOptions::new()
                .read(!write)
                .write(write)
                .open(p)
                .expect("a perf control fifo")
        })
    };
    let (mut ctl, mut ack) = (fifo("PERF_CTL", true), fifo("PERF_ACK", false));
    let mut perf = |m: &str| {
        if let (Some(c), Some(a)) = (ctl.as_mut(), ack.as_mut()) {
            c.write_all(m.as_bytes()).expect("perf control");
            let mut buf = [0u8; 5];
            let _ = a.read(&mut buf);
        }
    };
    if std::env::var("NODE").is_ok_and(|v| v == "1") {
        let mut node = Node::new(TrackerConfig::default(), NodeConfig::default());
        rayon::scope(|_| onset_node(&obs, &mut node, t_batch, replays, &mut perf));
        return;
    }
    let mut tracker = MultiTargetTracker::new(TrackerConfig::default());
    // On a worker of the thread pool, as a node and the benches run the tracker: a parallel
    // step's first half runs on this thread (from a thread outside the pool every step would
    // wait for two workers to wake).
    rayon::scope(|_| onset(&obs, &mut tracker, t_batch, replays, ahead, &mut perf));
}

/// Tracks up to the batch at `t_batch`, then replays it and prints the minimum times.
fn onset(
    obs: &[Vec<tripoint_track::measurement::Observation>],
    tracker: &mut MultiTargetTracker,
    t_batch: f64,
    replays: usize,
    ahead: bool,
    perf: &mut impl FnMut(&str),
) {
    for b in obs {
        if (b[0].t_s - t_batch).abs() >= 0.005 {
            tracker.process_batch(b);
            continue;
        }
        let confirmed = tracker.tracks().iter().filter(|t| t.is_confirmed()).count();
        // Minimum over the replays: the pass, then pre-gate, predict and gate, associate,
        // update (µs).
        let mut best = [u64::MAX; 5];
        let mut gated = 0;
        for _ in 0..replays {
            let mut c = tracker.clone();
            if ahead {
                c.predict_ahead(b[0].t_s);
            }
            let before = c.times.clone();
            perf("enable\n");
            let t0 = Instant::now();
            let step = c.update_batch(b);
            let pass = t0.elapsed().as_nanos() as u64;
            perf("disable\n");
            let after = step.tracker().times.clone();
            drop(step);
            gated = after.gated - before.gated;
            let [g, p, a, u] = phases_us(&before, &after);
            let v = [pass / 1000, g, p, a, u];
            for (a, x) in best.iter_mut().zip(v) {
                *a = (*a).min(x);
            }
        }
        println!(
            "t {:.2} s, {} ({confirmed} confirmed tracks, {} detections, {gated} gated pairs, predictions ahead: {ahead}): confirmed pass {} µs; {} (minimum of {replays})",
            b[0].t_s,
            b[0].sensor,
            b.len(),
            best[0],
            phases_line(&best[1..]),
        );
        return;
    }
    eprintln!("no batch at {t_batch} s");
}

/// [`onset`] through a node: the minimum over the replays of the time to the batch's last first
/// product, of their median, and of the confirmed pass's phases.
fn onset_node(
    obs: &[Vec<tripoint_track::measurement::Observation>],
    node: &mut Node,
    t_batch: f64,
    replays: usize,
    perf: &mut impl FnMut(&str),
) {
    for (i, b) in obs.iter().enumerate() {
        if (b[0].t_s - t_batch).abs() >= 0.005 {
            node.take(b);
            if let Some(next) = obs.get(i + 1).filter(|n| n[0].t_s > b[0].t_s) {
                node.ahead(next[0].t_s);
            }
            continue;
        }
        let confirmed = node
            .tracker()
            .tracks()
            .iter()
            .filter(|t| t.is_confirmed())
            .count();
        // Minimum over the replays: last first product, median, updated (µs), then pre-gate,
        // predict and gate, associate, update (µs).
        let mut best = [u64::MAX; 7];
        let mut n_products = 0;
        for _ in 0..replays {
            let mut c = node.clone();
            // (Made already, as a node makes them between batches: this finds them kept.)
            c.ahead(b[0].t_s);
            let before = c.tracker().times.clone();
            perf("enable\n");
            let out = c.take(b);
            perf("disable\n");
            let after = c.tracker().times.clone();
            let mut lat: Vec<f64> = out.latencies_s().collect();
            lat.sort_by(f64::total_cmp);
            n_products = lat.len();
            let us = |s: f64| (s * 1e6) as u64;
            let [g, p, a, u] = phases_us(&before, &after);
            let v = [
                lat.last().map_or(0, |&s| us(s)),
                lat.get(lat.len() / 2).map_or(0, |&s| us(s)),
                us(out.updated_s),
                g,
                p,
                a,
                u,
            ];
            for (a, x) in best.iter_mut().zip(v) {
                *a = (*a).min(x);
            }
        }
        println!(
            "t {:.2} s, {} ({confirmed} confirmed tracks, {} detections), node: {n_products} products, last {} µs, median {} µs, updated {} µs; {} (minimum of {replays})",
            b[0].t_s,
            b[0].sensor,
            b.len(),
            best[0],
            best[1],
            best[2],
            phases_line(&best[3..]),
        );
        return;
    }
    eprintln!("no batch at {t_batch} s");
}

/// The tracker's phase times between two readings (µs): pre-gate, predict and gate, associate,
/// update.
fn phases_us(before: &PhaseTimes, after: &PhaseTimes) -> [u64; 4] {
    let mut d = PhaseTimes::default();
    d.add_between(before, after);
    [d.pregate_ns, d.predict_ns, d.associate_ns, d.update_ns].map(|ns| ns / 1000)
}

/// [`phases_us`]' four figures as printed.
fn phases_line(p: &[u64]) -> String {
    format!(
        "pre-gate {}, predict and gate {}, associate {}, update {} µs",
        p[0], p[1], p[2], p[3]
    )
}
