//! Tracker scenario benchmark (prints figures; `cargo bench -p tripoint-track --bench tracker`).
//!
//! - throughput: measurements per second through the whole tracker (prediction, gating, GNN,
//!   IMM update, management) on `irbm-overflight` and `breakup`, without products;
//! - speed against real time on `breakup` (≥ 200 objects plus clutter), with products: live
//!   products (linearised at every update, full recomputations deferred past the batch's
//!   quick products) and, for comparison, full products in line every 2 s per track;
//! - latency, counted only while ≥ 100 tracks are live, by live-track count: per detection,
//!   from its batch entering the tracker to the batch's confirmed tracks updated (the first
//!   pass, [`MultiTargetTracker::update_batch`]), and to its track's products (a track the
//!   tentative pass confirms gets its first products after that pass);
//!   "service" is the tracker's own time, "queued" adds the wait behind earlier work when the
//!   batches arrive at their scenario times (the node as one server at real-time pace); the
//!   100–199 bucket also without the cloud's first minute (from the first batch with ≥ 100
//!   live tracks), when fresh tentative tracks gate much of the cloud;
//! - the tracker's phase times per batch at 100–199 live tracks (`PhaseTimes`); with
//!   `TP_BENCH_SLOW_MS=1.5` (any figure), each such batch whose last product took longer
//!   prints its breakdown;
//! - replays: the cloud's first minute and a later minute at 100–199 live tracks, each
//!   replayed from one snapshot, each batch's times the minimum over the replays: the code's
//!   latency without this machine's interruptions.
//!
//! With live products (and in the replays), between batches the node predicts its confirmed
//! tracks to the next batch's time (`MultiTargetTracker::predict_ahead`: it knows the
//! schedules of the radars it tasks, which scan at a fixed revisit), when the next batch is
//! not already waiting; that time counts as busy in the queued latency and in the speed
//! against real time. `TP_BENCH_AHEAD=0` turns it off.
//!
//! - provisional: on `breakup`, the provisional products published while a full computation is
//!   due against that full computation, split by why it was due (the reference's age or the
//!   state's region, or a change of the IMM's model set);
//! - references ahead: on `breakup`, products from references made ahead of a batch from the
//!   tracks' predictions (`LiveProducts::refresh_ahead`) against full products of the same
//!   posterior, split by basis (linearised, provisional). The latency runs and the replays make
//!   them between batches as well (`TP_BENCH_REFS_AHEAD=0`: not).
//!
//! Sections: `cargo bench -p tripoint-track --bench tracker -- throughput` (or `products`,
//! `latency`, `hybrid`, `"hybrid live"`, `gnn`, `jpda`, `replays`, `provisional`, `ahead`). Under `cargo test` (no
//! `--bench` argument) it runs a short smoke version.

use std::collections::HashMap;
use std::time::Instant;

use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::run;
use tripoint_track::feed::batches;
use tripoint_track::node::{Node, NodeConfig, Stage};
use tripoint_track::products::{converged, Basis, LiveProducts, ProductSchedule};
use tripoint_track::tracker::Association;
use tripoint_track::tracker::TrackEvent;
use tripoint_track::{MultiTargetTracker, Observation, TrackerConfig};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_toml(&std::fs::read_to_string(path).expect("readable")).expect("valid")
}

fn observations(s: &Scenario, limit_s: f64) -> Vec<Vec<Observation>> {
    let r = run(s, &mut |_| {}).expect("runs");
    let owners: HashMap<_, _> = s.sensors.iter().map(|x| (x.id.clone(), x.owner)).collect();
    let (b, _) = batches(&r.detections, &owners, s.start);
    b.into_iter().filter(|b| b[0].t_s <= limit_s).collect()
}

/// What a node makes between batches ([`Node::ahead`]), for a tracker and products kept apart:
/// the confirmed tracks' predictions to the next batch at `t_s`, and the products' references
/// of those whose reference would say nothing of it (`LiveProducts::refresh_ahead`; not with
/// `TP_BENCH_REFS_AHEAD=0`). Returns the tracks (ids) given a reference.
fn make_ahead(tracker: &mut MultiTargetTracker, live: &mut LiveProducts, t_s: f64) -> Vec<u64> {
    tracker.predict_ahead(t_s);
    if std::env::var("TP_BENCH_REFS_AHEAD").is_ok_and(|v| v == "0") {
        return Vec::new();
    }
    let items: Vec<_> = tracker
        .predictions_ahead(t_s)
        .map(|(tr, s, boost)| (tr.id, s, boost, tr.early_state()))
        .collect();
    live.refresh_ahead(&items)
}

/// Whether the node predicts its tracks to the next batch's time between batches
/// (`TP_BENCH_AHEAD=0`: no).
fn ahead_on() -> bool {
    std::env::var("TP_BENCH_AHEAD").map_or(true, |v| v != "0")
}

/// A node as the benches run it: the default tracker with `association`, predictions ahead
/// unless `TP_BENCH_AHEAD=0`, references ahead unless `TP_BENCH_REFS_AHEAD=0`.
fn node(association: Association) -> Node {
    Node::new(
        TrackerConfig {
            association,
            ..TrackerConfig::default()
        },
        NodeConfig {
            predict_ahead: ahead_on(),
            references_ahead: std::env::var("TP_BENCH_REFS_AHEAD").map_or(true, |v| v != "0"),
        },
    )
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    // Optional section filter: `cargo bench -p tripoint-track --bench tracker -- latency`.
    let only: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let run_section = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o));
    let limit = if full { f64::INFINITY } else { 200.0 };

    if run_section("throughput") {
        for name in ["irbm-overflight", "breakup"] {
            let s = load(name);
            let obs = observations(&s, limit);
            let n: usize = obs.iter().map(Vec::len).sum();
            for association in [Association::Hybrid, Association::Gnn, Association::Jpda] {
                let mut tracker = MultiTargetTracker::new(TrackerConfig {
                    association,
                    ..TrackerConfig::default()
                });
                let t0 = Instant::now();
                for b in &obs {
                    tracker.process_batch(b);
                }
                let secs = t0.elapsed().as_secs_f64();
                println!(
                    "throughput {name} ({association:?}): {n} measurements in {secs:.3} s = {:.0} measurements/s (no products)",
                    n as f64 / secs
                );
            }
        }
    }

    // Breakup with products, latency while ≥ 100 tracks are live; every association, and for
    // the default (hybrid) also the old way (full products in line, every 2 s per track).
    // Each run is named "products latency <association> <path>": `-- hybrid` runs the default's
    // two, `-- "hybrid live"` just one.
    let runs = [
        (Association::Hybrid, ProductsPath::Live),
        (Association::Hybrid, ProductsPath::FullEvery2s),
        (Association::Gnn, ProductsPath::Live),
        (Association::Jpda, ProductsPath::Live),
    ];
    let name =
        |a: Association, p: ProductsPath| format!("products latency {a:?} {p:?}").to_lowercase();
    if runs.iter().any(|&(a, p)| run_section(&name(a, p))) {
        let s = load("breakup");
        let obs = observations(&s, limit);
        for (association, products) in runs {
            if run_section(&name(association, products)) {
                // The node's tracker runs on a worker of its thread pool, so the parallel steps
                // of a batch start on the current thread and the other worker steals, instead
                // of the caller injecting each one and sleeping until it is done.
                rayon::scope(|_| breakup_with_products(&obs, association, products));
            }
        }
    }

    if run_section("provisional") {
        provisional_accuracy(&observations(&load("breakup"), limit));
    }

    if run_section("references ahead") {
        ahead_accuracy(&observations(&load("breakup"), limit));
    }

    if run_section("replays") {
        let s = load("breakup");
        let obs = observations(&s, limit);
        // TP_BENCH_REPS=n replays each window n times (for a profiler: many replays of one
        // window: TP_BENCH_WINDOW=cloud, or after).
        let reps = std::env::var("TP_BENCH_REPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { 15 } else { 2 });
        rayon::scope(|_| replays(&obs, reps));
    }
}

/// Two minutes of `breakup` replayed `reps` times each from a snapshot of the tracker and its
/// products taken just before, with the default hybrid association and live products: the
/// debris cloud's first minute (from the first batch that leaves ≥ 100 live tracks), and the
/// first minute at 100–199 live tracks after it (from the first such batch at least 60 s
/// later, as the cloud thins out). The tracker is deterministic, so each replay does the same
/// work batch by batch, and the minimum over the replays of each batch's times is what the
/// code costs without this machine's interruptions (hypervisor steal, preemption), which move
/// single runs' tails by up to 2×. Latencies over detections as in the breakup run, for
/// batches at 100–199 live tracks.
fn replays(obs: &[Vec<Observation>], reps: usize) {
    let fresh = || (node(Association::Hybrid), ProductSchedule::new(2.0));
    // Where the windows start: a first pass, up to the second window, finds them; a second
    // stops just before each (a snapshot before every batch would copy the tracker thousands
    // of times).
    let (mut node, mut schedule) = fresh();
    let (mut onset, mut later) = (None, None);
    for (i, b) in obs.iter().enumerate() {
        one_batch(&mut node, &mut schedule, b, ProductsPath::Live);
        let n_live = node.tracker().tracks().len();
        match onset {
            None if n_live >= 100 => onset = Some(i),
            Some(o) if b[0].t_s - obs[o][0].t_s >= 60.0 && (100..200).contains(&n_live) => {
                later = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(onset) = onset else {
        println!("replays: never ≥ 100 live tracks in this run");
        return;
    };
    let (mut node, mut schedule) = fresh();
    let mut done = 0;
    for (what, start) in [
        ("the cloud's first minute", Some(onset)),
        ("the first minute at 100–199 live after it", later),
    ] {
        let Some(start) = start else {
            println!("replays of {what}: no such minute in this run");
            continue;
        };
        let wanted = std::env::var("TP_BENCH_WINDOW").ok();
        if wanted.is_some_and(|w| !what.contains(&w)) {
            continue;
        }
        for b in &obs[done..start] {
            one_batch(&mut node, &mut schedule, b, ProductsPath::Live);
        }
        done = start;
        let t0 = obs[start][0].t_s;
        let window: Vec<&Vec<Observation>> = obs[start..]
            .iter()
            .take_while(|b| b[0].t_s - t0 < 60.0)
            .collect();
        replay_window(what, &node, &schedule, &window, reps);
    }
}

/// A replayed batch: live tracks after it; the minimum over the replays of its time to its
/// confirmed tracks updated (s), of each product's time (s), and of each of the tracker's
/// phases (ns: pre-gate, prediction and gating, association, updates); and the full
/// computations its products waited for (the same in every replay).
/// (And what each product was, [`Published::kinds`].)
type BestTimes = (usize, f64, Vec<f64>, [u64; 4], usize, Vec<&'static str>);

/// Replays `window` `reps` times from the snapshot and prints the minimum times.
fn replay_window(
    what: &str,
    node: &Node,
    schedule: &ProductSchedule,
    window: &[&Vec<Observation>],
    reps: usize,
) {
    // Per batch: live tracks after it, and the minimum over the replays of its time to updated,
    // of each product's time, and of each of the tracker's phases (ns: pre-gate, prediction and
    // gating, association, updates).
    // (And the full computations the batch's products waited for: the same in every replay.)
    let mut best: Vec<BestTimes> = Vec::new();
    for _ in 0..reps {
        let (mut nd, mut sc) = (node.clone(), schedule.clone());
        for (j, b) in window.iter().enumerate() {
            let before = nd.tracker().times.clone();
            let bt = one_batch(&mut nd, &mut sc, b, ProductsPath::Live);
            let mut ph = tripoint_track::tracker::PhaseTimes::default();
            ph.add_between(&before, &nd.tracker().times);
            // Between batches: the next one's predictions (off its clock), unless it came at
            // the same instant (already waiting).
            let later = |n: &&&Vec<Observation>| n[0].t_s > b[0].t_s;
            if let Some(next) = window.get(j + 1).filter(later) {
                nd.ahead(next[0].t_s);
            }
            let phases = [ph.pregate_ns, ph.predict_ns, ph.associate_ns, ph.update_ns];
            let n_live = nd.tracker().tracks().len();
            match best.get_mut(j) {
                Some((_, up, done, ps, _, _)) if done.len() == bt.done.len() => {
                    *up = up.min(bt.t_updated);
                    for (d, x) in done.iter_mut().zip(&bt.done) {
                        *d = d.min(*x);
                    }
                    for (p, x) in ps.iter_mut().zip(phases) {
                        *p = (*p).min(x);
                    }
                }
                Some(_) => panic!("replays differ at batch {j}: the tracker is not deterministic"),
                None => best.push((n_live, bt.t_updated, bt.done, phases, bt.n_wait, bt.kinds)),
            }
        }
    }
    // With TP_BENCH_SLOW_MS set, each batch at 100–199 live tracks whose last product took
    // longer than that (minimum over the replays) prints its breakdown.
    let slow_ms: Option<f64> = std::env::var("TP_BENCH_SLOW_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    if let Some(slow_ms) = slow_ms {
        for (b, (n, up, done, ph, n_wait, _)) in window.iter().zip(&best) {
            let last = done.iter().copied().fold(0.0, f64::max) * 1e3;
            let first = done.iter().copied().fold(f64::INFINITY, f64::min) * 1e3;
            if (100..200).contains(n) && last > slow_ms {
                eprintln!(
                    "replays of {what}, slow batch at t {:.2} s: {n} live, {} detections; confirmed tracks updated {:.3} ms, first product {first:.3} ms, last product {last:.3} ms ({} products, {n_wait} waited for a full computation); pre-gate {} µs, predict and gate {} µs, associate {} µs, update {} µs",
                    b[0].t_s,
                    b.len(),
                    up * 1e3,
                    done.len(),
                    ph[0] / 1000,
                    ph[1] / 1000,
                    ph[2] / 1000,
                    ph[3] / 1000,
                );
            }
        }
    }
    let in_range: Vec<&BestTimes> = best
        .iter()
        .filter(|(n, ..)| (100..200).contains(n))
        .collect();
    let mut updated: Vec<f64> = window
        .iter()
        .zip(&best)
        .filter(|(_, (n, ..))| (100..200).contains(n))
        .flat_map(|(b, (_, up, ..))| std::iter::repeat_n(up * 1e3, b.len()))
        .collect();
    let mut products: Vec<f64> = in_range
        .iter()
        .flat_map(|(_, _, done, ..)| done.iter().map(|d| d * 1e3))
        .collect();
    let mean_us = |k: usize| {
        in_range.iter().map(|b| b.3[k] as f64).sum::<f64>() / in_range.len().max(1) as f64 / 1e3
    };
    println!(
        "replays of {what}, phases: mean of the per-batch minimums at 100–199 live: pre-gate {:.0} µs, predict and gate {:.0} µs, associate {:.0} µs, update {:.0} µs",
        mean_us(0),
        mean_us(1),
        mean_us(2),
        mean_us(3),
    );
    let (n_u, n_p) = (updated.len(), products.len());
    println!(
        "replays of {what} (Hybrid, Live; minimum of {reps} replays per batch; {} of {} batches at 100–199 live): detection → confirmed tracks updated p50 {:.3} / p99 {:.3} ms ({n_u}); detection → products p50 {:.3} / p99 {:.3} ms ({n_p})",
        in_range.len(),
        window.len(),
        percentile(&mut updated, 0.5),
        percentile(&mut updated, 0.99),
        percentile(&mut products, 0.5),
        percentile(&mut products, 0.99),
    );
    // What the products at or past the p99 were.
    let p99 = percentile(&mut products, 0.99);
    let mut tail: Vec<(&str, usize)> = Vec::new();
    for (_, _, done, _, _, kinds) in &in_range {
        for (&d, &k) in done.iter().zip(kinds) {
            if d * 1e3 >= p99 {
                match tail.iter_mut().find(|(x, _)| *x == k) {
                    Some((_, n)) => *n += 1,
                    None => tail.push((k, 1)),
                }
            }
        }
    }
    let tail: Vec<String> = tail.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "replays of {what}, the products at or past the p99: {}",
        tail.join(", ")
    );
}

/// What one batch cost: from its start to its confirmed tracks updated (s), to each product out (s), the
/// full computations it waited for, products made, time in products, and the whole service.
struct BatchTiming {
    t_updated: f64,
    done: Vec<f64>,
    /// What each product in `done` was ([`kind`]).
    kinds: Vec<&'static str>,
    n_wait: usize,
    products: usize,
    product_secs: f64,
    service: f64,
}

/// One batch as a node takes it: live products through the library's node
/// ([`Node::take`]: the confirmed tracks' updates with their quick products made in the update
/// jobs, the full computations due after, the tentative tracks' pass and the first products
/// of the tracks it confirms, the full recomputations behind provisional products, track
/// management); or, for comparison, full products in line at most every 2 s per track.
fn one_batch(
    node: &mut Node,
    schedule: &mut ProductSchedule,
    b: &[Observation],
    path: ProductsPath,
) -> BatchTiming {
    match path {
        ProductsPath::Live => {
            let out = node.take(b);
            let first: Vec<&tripoint_track::node::Published> = out
                .published
                .iter()
                .filter(|p| p.stage.is_first())
                .collect();
            BatchTiming {
                t_updated: out.updated_s,
                done: first.iter().map(|p| p.at_s).collect(),
                kinds: first.iter().map(|p| kind(p.stage)).collect(),
                n_wait: out.waited(),
                products: out.published.len(),
                product_secs: out.product_s,
                service: out.service_s,
            }
        }
        ProductsPath::FullEvery2s => full_every_2s(node.tracker_mut(), schedule, b),
    }
}

/// What a product at or past the p99 was: quick in the confirmed pass, a full computation the
/// confirmed pass waited for, or the first products of a track the tentative pass confirmed.
fn kind(stage: Stage) -> &'static str {
    match stage {
        Stage::Quick => "quick",
        Stage::Waited => "waited for a full computation",
        Stage::NewlyConfirmed => "first of a track the tentative pass confirmed",
        Stage::FollowUp => "follow-up",
    }
}

/// [`one_batch`] the old way: full products in line, at most every 2 s per track
/// (`ProductSchedule`), after the confirmed tracks' updates and after the tentative pass.
fn full_every_2s(
    tracker: &mut MultiTargetTracker,
    schedule: &mut ProductSchedule,
    b: &[Observation],
) -> BatchTiming {
    let start = Instant::now();
    let mut step = tracker.update_batch(b);
    let t_updated = start.elapsed().as_secs_f64();
    let (mut done, mut kinds) = (Vec::new(), Vec::new());
    let mut publish = |tracker: &MultiTargetTracker, events: &[TrackEvent], stage: Stage| {
        // Track index by id, once per call (not a search per event).
        let index = tracker.index_by_id();
        for ev in events.iter().filter(|e| e.confirmed) {
            let Some(tr) = index.get(&ev.track_id).map(|&i| &tracker.tracks()[i]) else {
                continue;
            };
            if schedule.due(tr.id, &tr.estimate()) {
                std::hint::black_box(tr.products());
                done.push(start.elapsed().as_secs_f64());
                kinds.push(kind(stage));
            }
        }
    };
    let p0 = Instant::now();
    let events = step.updated().to_vec();
    publish(step.tracker(), &events, Stage::Waited);
    let mut product_secs = p0.elapsed().as_secs_f64();
    let confirmed_now = step.update_tentative();
    let p0 = Instant::now();
    publish(step.tracker(), &confirmed_now, Stage::NewlyConfirmed);
    product_secs += p0.elapsed().as_secs_f64();
    step.finish();
    BatchTiming {
        t_updated,
        products: done.len(),
        done,
        kinds,
        n_wait: 0,
        product_secs,
        service: start.elapsed().as_secs_f64(),
    }
}

/// How products are made in the breakup run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ProductsPath {
    /// At every update of a confirmed, converged track: linearised from the track's last full
    /// products, published at once; where a full recomputation is due, provisional products
    /// first when the reference still describes the state (both over the pool,
    /// [`LiveProducts::quick_many`]); the full recomputations run after the batch's quick
    /// products are out, and are on the detection-to-product path only where nothing
    /// provisional could be said.
    Live,
    /// Full products in line, at most every 2 s per track (`ProductSchedule`), as before.
    FullEvery2s,
}

/// Latencies (ms) of detections, tagged with the live-track count of their batch.
#[derive(Default)]
struct Latencies {
    /// (live tracks, in the cloud's first minute, latency in ms).
    service: Vec<(usize, bool, f64)>,
    queued: Vec<(usize, bool, f64)>,
}

fn breakup_with_products(obs: &[Vec<Observation>], association: Association, path: ProductsPath) {
    let mut node = node(association);
    let mut schedule = ProductSchedule::new(2.0);
    let mut updated = Latencies::default();
    let mut produced = Latencies::default();
    let mut max_live = 0;
    let mut cloud_from: Option<f64> = None;
    // The tracker's phase times over batches with 100–199 live tracks, and their count and size.
    let mut phases = tripoint_track::tracker::PhaseTimes::default();
    let (mut phase_batches, mut phase_detections) = (0u64, 0u64);
    let mut n_products = 0usize;
    let mut product_secs = 0.0;
    // The node as one server fed at real-time pace: batch k arrives at its scenario time a_k and
    // waits while the server is busy with earlier work (Lindley's recursion).
    let mut busy_until = f64::NEG_INFINITY;
    let t_first = obs.first().map_or(0.0, |b| b[0].t_s);
    let slow_ms: Option<f64> = std::env::var("TP_BENCH_SLOW_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    let t_start = Instant::now();
    let ahead = ahead_on() && path == ProductsPath::Live;
    for (k, b) in obs.iter().enumerate() {
        let arrival = b[0].t_s - t_first;
        let wait = (busy_until - arrival).max(0.0);
        let before = node.tracker().times.clone();
        let BatchTiming {
            t_updated,
            done,
            n_wait,
            products,
            kinds: _,
            product_secs: p_secs,
            service,
        } = one_batch(&mut node, &mut schedule, b, path);
        n_products += products;
        product_secs += p_secs;
        let tracker = node.tracker();
        let n_live = tracker.tracks().len();
        if (100..200).contains(&n_live) {
            phases.add_between(&before, &tracker.times);
            phase_batches += 1;
            phase_detections += b.len() as u64;
        }
        max_live = max_live.max(n_live);
        busy_until = arrival + wait + service;
        // Between batches, if the next one is not already waiting (the node idle): its
        // predictions, busy time it may have to wait behind.
        let idle_before = |n: &&Vec<Observation>| n[0].t_s - t_first > busy_until;
        if let Some(next) = obs.get(k + 1).filter(idle_before).filter(|_| ahead) {
            let t0 = Instant::now();
            node.ahead(next[0].t_s);
            busy_until += t0.elapsed().as_secs_f64();
        }
        // With TP_BENCH_SLOW_MS set, each batch at 100–199 live tracks whose last product took
        // longer than that prints its breakdown (where the latency tail comes from).
        let last_product_ms = done.iter().copied().fold(0.0, f64::max) * 1e3;
        if slow_ms.is_some_and(|ms| last_product_ms > ms) && (100..200).contains(&n_live) {
            let mut ph = tripoint_track::tracker::PhaseTimes::default();
            let tracker = node.tracker();
            ph.add_between(&before, &tracker.times);
            let us = |ns: u64| ns / 1000;
            eprintln!(
                "slow batch at T+{:.1} s: {n_live} live ({} confirmed), {} detections; updated {:.3} ms, last product {last_product_ms:.3} ms ({} products, {n_wait} waited for a full computation); pre-gate {} µs, predict and gate {} µs ({} predictions, {} gate tests, {} gated), associate {} µs, update {} µs ({} updates)",
                b[0].t_s - t_first,
                tracker.tracks().iter().filter(|t| t.is_confirmed()).count(),
                b.len(),
                t_updated * 1e3,
                done.len(),
                us(ph.pregate_ns),
                us(ph.predict_ns),
                ph.predictions,
                ph.gate_tests,
                ph.gated,
                us(ph.associate_ns),
                us(ph.update_ns),
                ph.updates,
            );
        }
        if n_live >= 100 {
            // The cloud's first minute: from the first batch with ≥ 100 live tracks.
            let onset = *cloud_from.get_or_insert(b[0].t_s);
            let first = b[0].t_s - onset < 60.0;
            for _ in 0..b.len() {
                updated.service.push((n_live, first, t_updated * 1e3));
                updated
                    .queued
                    .push((n_live, first, (wait + t_updated) * 1e3));
            }
            for d in &done {
                produced.service.push((n_live, first, d * 1e3));
                produced.queued.push((n_live, first, (wait + d) * 1e3));
            }
        }
    }
    let live = node.products();
    let secs = t_start.elapsed().as_secs_f64();
    let n: usize = obs.iter().map(Vec::len).sum();
    let span = obs.last().map_or(0.0, |b| b[0].t_s) - t_first;
    let tag = format!("{association:?}, {path:?}");
    println!(
        "breakup with products ({tag}): {n} measurements over {span:.0} s of scenario in {secs:.2} s = {:.1}x real time (max {max_live} live tracks; {n_products} products, {:.1} s in all; full {}, linearised {}, refused {}, provisional {}, references made ahead {})",
        span / secs,
        product_secs,
        if path == ProductsPath::Live { live.full } else { n_products },
        live.linearised,
        live.stale,
        live.provisional,
        live.ahead,
    );
    if ahead {
        let t = &node.tracker().times;
        println!(
            "predictions ahead ({tag}): {} made between batches in {:.2} s, {} used by the batches ({:.0} % of their predictions)",
            t.predicted_ahead,
            t.ahead_ns as f64 / 1e9,
            t.ahead_used,
            100.0 * t.ahead_used as f64 / t.predictions.max(1) as f64,
        );
    }
    if phase_batches > 0 {
        let n = phase_batches as f64;
        let per = |ns: u64| ns as f64 / n / 1e3;
        println!(
            "phases ({tag}), mean per batch at 100–199 live tracks ({phase_batches} batches, {:.1} detections, {:.1} predictions, {:.1} gate tests, {:.1} gated, {:.1} updates): pre-gate {:.0} µs, predict and gate {:.0} µs, associate {:.0} µs, update {:.0} µs, manage {:.0} µs",
            phase_detections as f64 / n,
            phases.predictions as f64 / n,
            phases.gate_tests as f64 / n,
            phases.gated as f64 / n,
            phases.updates as f64 / n,
            per(phases.pregate_ns),
            per(phases.predict_ns),
            per(phases.associate_ns),
            per(phases.update_ns),
            per(phases.manage_ns),
        );
    }
    for (what, l) in [
        ("detection → confirmed tracks updated", &mut updated),
        ("detection → products", &mut produced),
    ] {
        for (kind, v) in [
            ("service", &mut l.service),
            ("queued at real-time arrival", &mut l.queued),
        ] {
            if v.is_empty() {
                if kind == "service" {
                    println!("latency ({tag}) {what}: never ≥ 100 live tracks in this run");
                }
                continue;
            }
            let mut parts = Vec::new();
            for (lo, hi, later) in [
                (100, usize::MAX, false),
                (100, 200, false),
                (100, 200, true),
                (200, 500, false),
                (500, usize::MAX, false),
            ] {
                let mut x: Vec<f64> = v
                    .iter()
                    .filter(|(k, first, _)| (lo..hi).contains(k) && !(later && *first))
                    .map(|&(_, _, ms)| ms)
                    .collect();
                if x.is_empty() {
                    continue;
                }
                let k = x.len();
                let p50 = percentile(&mut x, 0.50);
                let p99 = percentile(&mut x, 0.99);
                let range = if hi == usize::MAX {
                    format!("≥ {lo}")
                } else {
                    format!("{lo}–{}", hi - 1)
                };
                let range = if later {
                    format!("{range} (after the cloud's first minute)")
                } else {
                    range
                };
                parts.push(format!(
                    "{range} live: p50 {p50:.3} / p99 {p99:.3} ms ({k})"
                ));
            }
            println!("latency ({tag}) {what}, {kind}: {}", parts.join("; "));
        }
    }
}

/// Products from references made ahead of a batch (`LiveProducts::refresh_ahead`, from the
/// tracks' predictions to the batch's time) against full products of the same posterior, on
/// every confirmed, converged track update of `breakup` whose reference was made ahead: the
/// impact's squared Mahalanobis distance from the full one under the full covariance, and its
/// ellipse axes over the full ones, at p1 / p50 / p99, split by the products' basis
/// (linearised: within the strict limits; provisional: a full computation follows). The node
/// is run as the latency bench runs it: predictions and references ahead of every later batch,
/// quick products where the reference gives them, else a full computation kept as the
/// reference.
fn ahead_accuracy(obs: &[Vec<Observation>]) {
    let mut tracker = MultiTargetTracker::new(TrackerConfig::default());
    let mut live = LiveProducts::default();
    // Tracks whose reference was made ahead (and not replaced since).
    let mut made: std::collections::HashSet<u64> = Default::default();
    // (d², axis ratios) for [linearised, provisional]; and updates that still needed a full
    // computation first with a reference made ahead.
    let mut found: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    let mut refused = 0usize;
    for (k, b) in obs.iter().enumerate() {
        let events = tracker.process_batch(b);
        for (tr, e) in converged_updates(&tracker, &events) {
            let (pb, early) = (tr.imm.mu[0], tr.early_state());
            let quick = live
                .quick(tr.id, &e, pb, early.is_some())
                .or_else(|| live.provisional(tr.id, &e, pb, early.is_some()));
            if made.contains(&tr.id) {
                let full = tripoint_track::products::products(&e, pb, early);
                match &quick {
                    Some((q, basis)) => {
                        if let Some((a, b)) = q.impact.as_ref().zip(full.impact.as_ref()) {
                            let f =
                                &mut found[usize::from(matches!(basis, Basis::Provisional { .. }))];
                            f.0.push(ground_mahalanobis2(a, b));
                            f.1.push(a.ellipse95.semi_major_m / b.ellipse95.semi_major_m);
                            f.1.push(a.ellipse95.semi_minor_m / b.ellipse95.semi_minor_m);
                        }
                    }
                    None => refused += 1,
                }
            }
            if !matches!(quick, Some((_, Basis::Linearised { .. }))) {
                live.refresh(tr.id, &e, pb, early);
                made.remove(&tr.id);
            }
        }
        if let Some(next) = obs.get(k + 1).filter(|n| n[0].t_s > b[0].t_s) {
            made.extend(make_ahead(&mut tracker, &mut live, next[0].t_s));
        }
    }
    for (what, found) in ["linearised", "provisional"].iter().zip(&mut found) {
        print_against_full(
            &format!("products from references made ahead vs full on breakup, {what}"),
            found,
        );
    }
    println!(
        "products from references made ahead on breakup: {} references made, {refused} updates still refused by theirs",
        live.ahead
    );
}

/// The confirmed tracks among `events` (still live) whose estimate is converged, with it.
fn converged_updates<'a>(
    tracker: &'a MultiTargetTracker,
    events: &[TrackEvent],
) -> Vec<(&'a tripoint_track::Track, tripoint_track::GaussianState)> {
    events
        .iter()
        .filter(|e| e.confirmed)
        .filter_map(|ev| tracker.tracks().iter().find(|t| t.id == ev.track_id))
        .map(|tr| (tr, tr.estimate()))
        .filter(|(_, e)| converged(e))
        .collect()
}

/// The squared Mahalanobis distance of impact `a` from impact `b` under `b`'s covariance.
fn ground_mahalanobis2(
    a: &tripoint_track::products::GroundEstimate,
    b: &tripoint_track::products::GroundEstimate,
) -> f64 {
    use tripoint_physics::geodesy::Geodetic;
    use tripoint_track::products::Ellipse;
    let (Ok(ga), Ok(gb)) = (
        Geodetic::from_deg(a.lat_deg, a.lon_deg, 0.0),
        Geodetic::from_deg(b.lat_deg, b.lon_deg, 0.0),
    ) else {
        return f64::NAN;
    };
    let d = tripoint_physics::vec3::sub(ga.to_ecef_m(), gb.to_ecef_m());
    let (de, dn) = (
        tripoint_physics::vec3::dot(d, gb.east_ecef()),
        tripoint_physics::vec3::dot(d, gb.north_ecef()),
    );
    Ellipse::mahalanobis2(b.cov_en_m2, de, dn).unwrap_or(f64::NAN)
}

/// Provisional products against the full computation that follows them, on every confirmed,
/// converged track update of `breakup` (the hybrid association, products at every update):
/// the provisional impact's squared Mahalanobis distance from the full one under the full
/// covariance, and its ellipse axes over the full ones, at p1 / p50 / p99, split by whether the
/// IMM's model set changed since the reference (the boost model retired, or back).
fn provisional_accuracy(obs: &[Vec<Observation>]) {
    let mut tracker = MultiTargetTracker::new(TrackerConfig::default());
    let mut live = LiveProducts::default();
    // Whether the boost model was in play at each track's last full computation.
    let mut boost_at_reference: HashMap<u64, bool> = HashMap::new();
    // (d², axis ratios) for [same model set, changed model set].
    let mut found: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    for b in obs {
        let events = tracker.process_batch(b);
        for (tr, e) in converged_updates(&tracker, &events) {
            let boost = tr.imm.mu[0] > 0.0;
            let prov = live.provisional(tr.id, &e, tr.imm.mu[0], tr.early.is_some());
            let (p, basis) = tr.live_products(&mut live);
            if basis != Basis::Full {
                continue;
            }
            let changed = boost_at_reference
                .insert(tr.id, boost)
                .is_some_and(|was| was != boost);
            if let Some((a, b)) = prov.and_then(|(q, _)| q.impact).zip(p.impact) {
                let f = &mut found[usize::from(changed)];
                f.0.push(ground_mahalanobis2(&a, &b));
                f.1.push(a.ellipse95.semi_major_m / b.ellipse95.semi_major_m);
                f.1.push(a.ellipse95.semi_minor_m / b.ellipse95.semi_minor_m);
            }
        }
    }
    for (what, found) in ["the same model set", "a changed model set"]
        .iter()
        .zip(&mut found)
    {
        print_against_full(&format!("provisional vs full on breakup, {what}"), found);
    }
}

/// Prints quick products against full ones: the impacts' squared Mahalanobis distances and the
/// ellipse axes' ratios, at p1 / p50 / p99.
fn print_against_full(what: &str, (d2, axes): &mut (Vec<f64>, Vec<f64>)) {
    println!(
        "{what}: {} compared; impact Mahalanobis² p50 {:.4} / p99 {:.4}; axes / full axes p1 {:.3} / p50 {:.3} / p99 {:.3}",
        d2.len(),
        percentile(d2, 0.5),
        percentile(d2, 0.99),
        percentile(axes, 0.01),
        percentile(axes, 0.5),
        percentile(axes, 0.99),
    );
}
