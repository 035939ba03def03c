//! `tripoint track` and `tripoint score`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tripoint_core::{Detection, Epoch, Nation, SensorId};
use tripoint_track::feed::batches;
use tripoint_track::score::{
    score_gospa, score_impacts, GospaSummary, ImpactRecord, ImpactScore, StateRow, TrueImpact,
};
use tripoint_track::{FilterKind, MultiTargetTracker, TrackerConfig};

use crate::csvio::{read_detections, read_states, tracks_header};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FilterArg {
    Ekf,
    Ukf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AssociationArg {
    Gnn,
    Jpda,
    Hybrid,
}

#[derive(Args)]
pub struct TrackArgs {
    /// A `tripoint sim run` output folder (detections.csv, sensors.json).
    #[arg(long = "in")]
    input: PathBuf,
    /// Output folder for tracks.csv and products.jsonl.
    #[arg(long)]
    out: PathBuf,
    /// Kalman filter inside the IMM.
    #[arg(long, value_enum, default_value = "ekf")]
    filter: FilterArg,
    /// Association of confirmed tracks: global nearest neighbour, joint probabilistic (JPDA,
    /// for dense clutter and debris), or hybrid (GNN in clusters of up to 8 confirmed tracks,
    /// JPDA in larger ones).
    #[arg(long, value_enum, default_value = "hybrid")]
    association: AssociationArg,
    /// Compute products (impact, launch point, class) at most this often per track (s).
    #[arg(long, default_value_t = 2.0)]
    products_every_s: f64,
    /// Track only (no impact/launch products): for throughput comparisons.
    #[arg(long, conflicts_with = "live")]
    no_products: bool,
    /// Run as a real-time node: predictions and the products' references made ahead of each
    /// batch, products at every update of a confirmed track (quick ones as each track is
    /// updated, `stage` in products.jsonl), and the latency from a detection entering the
    /// tracker to its track's products printed by live-track count. The tracks are the same;
    /// `--products-every-s` does not apply.
    #[arg(long)]
    live: bool,
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub struct ScoreArgs {
    /// truth.csv of a simulation.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// tracks.csv of a tracker.
    #[arg(long)]
    tracks: Option<PathBuf>,
    /// GOSPA cut-off (m).
    #[arg(long, default_value_t = 10_000.0)]
    c_m: f64,
    /// products.jsonl of `tripoint track`: adds impact miss distance and ellipse coverage
    /// (needs summary.json beside truth.csv).
    #[arg(long)]
    products: Option<PathBuf>,
    /// Run N seeded simulations of this scenario through the tracker and report statistics.
    #[arg(long, requires = "scenario")]
    monte_carlo: Option<usize>,
    /// Scenario for --monte-carlo.
    scenario: Option<PathBuf>,
    /// With --monte-carlo: the first run's seed (default: the scenario's), for an independent
    /// set of noise draws.
    #[arg(long, requires = "monte_carlo")]
    seed: Option<u64>,
    /// With --monte-carlo: each run flies each payload with a ballistic coefficient drawn
    /// log-normally around its vehicle's nominal one with this spread of ln β (default 0.7,
    /// the tracker's drag prior: the ellipses are tested against objects whose β the tracker
    /// does not know; 0 flies the nominal β).
    #[arg(long, requires = "monte_carlo")]
    beta_sigma_ln: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Distance within which a track is attributed to a truth object when scoring its products (m).
pub const ASSOC_M: f64 = 20_000.0;

/// Each sensor's owning nation, from a sim folder's sensors.json.
fn read_sensor_owners(dir: &Path) -> Result<HashMap<SensorId, Nation>> {
    let path = dir.join("sensors.json");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let mut out = HashMap::new();
    for (i, s) in v
        .as_array()
        .with_context(|| format!("{}: expected an array", path.display()))?
        .iter()
        .enumerate()
    {
        let id = s["id"]
            .as_str()
            .with_context(|| format!("{}: [{i}].id missing", path.display()))?;
        let owner = s["owner"]
            .as_str()
            .with_context(|| format!("{}: [{i}].owner missing", path.display()))?;
        out.insert(
            SensorId::new(id).map_err(|e| anyhow::anyhow!("{}: [{i}].id: {e}", path.display()))?,
            owner
                .parse()
                .map_err(|e| anyhow::anyhow!("{}: [{i}].owner: {e}", path.display()))?,
        );
    }
    Ok(out)
}

/// Where a run's confirmed-track updates (a tracks.csv row and its full covariance) go as they
/// are made: a long run is not held in memory (`breakup`: 445 000 rows).
pub type RowSink<'a> = dyn FnMut(StateRow, &tripoint_track::state::Covariance) -> Result<()> + 'a;

/// Output of one tracking run kept in memory (the rows went to its [`RowSink`]).
#[derive(Default)]
pub struct TrackRun {
    /// Confirmed-track updates given to the run's [`RowSink`].
    pub rows: usize,
    pub impacts: Vec<ImpactRecord>,
    pub observations: usize,
    pub rejected: usize,
    pub seconds: f64,
    pub confirmed: usize,
    /// With a live node: each update's first products, ms from its batch entering the
    /// tracker, with the batch's live-track count.
    pub latencies_ms: Vec<(usize, f64)>,
}

/// What tracking a set of detections starts from: their world (real or exercise), the epoch
/// of the scenario clock (UNIX s), the batches and how many detections were refused.
struct Prelude {
    mode: tripoint_core::Mode,
    epoch_unix: f64,
    batches: Vec<Vec<tripoint_track::Observation>>,
    rejected: usize,
}

/// Checks the detections are of one world and makes the tracker's batches (one per sensor and
/// time), warning of the detections refused. `None` for no detections.
fn prelude(
    detections: &[Detection],
    owners: &HashMap<SensorId, Nation>,
) -> Result<Option<Prelude>> {
    let Some(first) = detections.first() else {
        return Ok(None);
    };
    let mode = first.mode;
    if let Some(d) = detections.iter().find(|d| d.mode != mode) {
        bail!(
            "detections mix {} and {} data (first {} one at {}): real and exercise data are never tracked together",
            mode,
            d.mode,
            d.mode,
            tripoint_sim::world::utc_string(d.time)
        );
    }
    let epoch = first.time;
    let (batches, rejected) = batches(detections, owners, epoch);
    for r in rejected.iter().take(10) {
        eprintln!(
            "warning: detection {} (data row {}) not tracked: {}",
            r.index + 1,
            r.index + 2,
            r.reason
        );
    }
    if rejected.len() > 10 {
        eprintln!(
            "warning: {} more detections not tracked",
            rejected.len() - 10
        );
    }
    Ok(Some(Prelude {
        mode,
        epoch_unix: epoch.to_unix_seconds(),
        batches,
        rejected: rejected.len(),
    }))
}

/// A confirmed track's state as a tracks.csv row, with its covariance.
fn state_row(
    epoch_unix: f64,
    tr: &tripoint_track::Track,
    e: &tripoint_track::GaussianState,
) -> (StateRow, tripoint_track::state::Covariance) {
    (
        StateRow {
            t: epoch_unix + e.t_s,
            id: tr.id.to_string(),
            state: e.rv(),
        },
        e.p,
    )
}

/// The rows of a batch's confirmed tracks: each updated one's estimate, and a newly confirmed
/// one's states from its first detection on, as Stone Soup's initiator hands them over.
/// Returns how many rows went to `rows`.
fn batch_rows(
    tracker: &MultiTargetTracker,
    index: &HashMap<u64, usize>,
    events: &[tripoint_track::tracker::TrackEvent],
    epoch_unix: f64,
    rows: &mut RowSink<'_>,
    confirmed: &mut std::collections::HashSet<u64>,
) -> Result<usize> {
    let mut n = 0;
    let mut row = |e: &tripoint_track::GaussianState, tr: &tripoint_track::Track| {
        let (r, p) = state_row(epoch_unix, tr, e);
        n += 1;
        rows(r, &p)
    };
    for ev in events.iter().filter(|e| e.confirmed) {
        let Some(tr) = index.get(&ev.track_id).map(|&i| &tracker.tracks()[i]) else {
            continue;
        };
        confirmed.insert(tr.id);
        if ev.new {
            for e in tr.earlier_estimates() {
                row(&e, tr)?;
            }
        }
        row(&tr.estimate(), tr)?;
    }
    Ok(n)
}

/// One products.jsonl line (and the impact record `score --products` reads) of track `tr` at
/// its estimate `e`; `stage` says where a live node made them.
#[allow(clippy::too_many_arguments)]
fn product_line(
    tr: &tripoint_track::Track,
    e: &tripoint_track::GaussianState,
    p: &tripoint_track::products::Products,
    basis: tripoint_track::products::Basis,
    stage: Option<&str>,
    p_mode: tripoint_core::Mode,
    epoch_unix: f64,
    impacts: &mut Vec<ImpactRecord>,
) -> serde_json::Value {
    if let Some(imp) = &p.impact {
        impacts.push(ImpactRecord {
            t: epoch_unix + e.t_s,
            track_id: tr.id.to_string(),
            position: e.position(),
            lat_deg: imp.lat_deg,
            lon_deg: imp.lon_deg,
            cov_en_m2: imp.cov_en_m2,
        });
    }
    let when = |t: f64| tripoint_sim::world::utc_string(Epoch::from_unix_seconds(epoch_unix + t));
    let ground = |g: &Option<tripoint_track::products::GroundEstimate>| {
        g.as_ref().map(|g| {
            json!({
                "time": when(g.t_s), "sigma_t_s": g.sigma_t_s,
                "lat_deg": g.lat_deg, "lon_deg": g.lon_deg,
                "cov_en_m2": g.cov_en_m2, "ellipse95": g.ellipse95,
            })
        })
    };
    let mut line = json!({
        "time": when(e.t_s),
        "track_id": tr.id,
        "mode": p_mode,
        "classification": p.classification,
        "evidence": p.evidence,
        "impact": ground(&p.impact),
        "launch": ground(&p.launch),
        "apogee_alt_km": p.apogee_alt_km,
        "products": basis,
        "mode_probabilities": {"boost": tr.imm.mu[0], "free_flight": tr.imm.mu[1], "reentry": tr.imm.mu[2]},
        "position_sigma_m": e.position_sigma_m(),
        "contributors": tr.contributors.iter().map(|(n, s)| json!({"nation": n, "sensor": s})).collect::<Vec<_>>(),
    });
    if let (Some(stage), Some(obj)) = (stage, line.as_object_mut()) {
        obj.insert("stage".into(), json!(stage));
    }
    line
}

/// One tracks.csv line (into `line`, cleared first): the state in Stone Soup's order
/// (x, vx, y, vy, z, vz) and the upper triangle of its covariance in the same order.
fn tracks_line(r: &StateRow, p: &tripoint_track::state::Covariance, line: &mut String) {
    const ORDER: [usize; 6] = [0, 3, 1, 4, 2, 5];
    line.clear();
    let s = r.state;
    let _ = write!(
        line,
        "{:.6},{},{:.3},{:.4},{:.3},{:.4},{:.3},{:.4}",
        r.t, r.id, s[0], s[3], s[1], s[4], s[2], s[5]
    );
    for i in 0..6 {
        for j in i..6 {
            let _ = write!(line, ",{:.6e}", p[(ORDER[i], ORDER[j])]);
        }
    }
    line.push('\n');
}

/// Writes one JSON line.
fn write_line(out: &mut dyn Write, line: &serde_json::Value) -> Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Tracks detections (shared by `track` and `score --monte-carlo`); the confirmed tracks'
/// updates go to `rows` and the products, at most every `products_every_s` per track, to
/// `products_out` as JSON lines, as they are made.
pub fn track_detections(
    detections: &[Detection],
    owners: &HashMap<SensorId, Nation>,
    cfg: TrackerConfig,
    products_every_s: f64,
    products_out: &mut dyn Write,
    rows: &mut RowSink<'_>,
    bar: Option<&ProgressBar>,
) -> Result<TrackRun> {
    track_with(
        detections,
        owners,
        cfg,
        Some(products_every_s),
        products_out,
        rows,
        bar,
    )
}

/// Tracks detections as a real-time node does ([`tripoint_track::node::Node`]): between
/// batches the confirmed tracks predicted, and the products' references made, ahead of the
/// next batch; each batch taken in passes, with products at every update of a confirmed,
/// converged track (quick ones in the update jobs, full ones where nothing quick could be
/// said, and the full computation behind each provisional product after). The tracks are
/// those of [`track_detections`] to the bit; the latency of each update's first products is
/// kept with the batch's live-track count.
pub fn track_detections_live(
    detections: &[Detection],
    owners: &HashMap<SensorId, Nation>,
    cfg: TrackerConfig,
    products_out: &mut dyn Write,
    rows: &mut RowSink<'_>,
    bar: Option<&ProgressBar>,
) -> Result<TrackRun> {
    track_with(detections, owners, cfg, None, products_out, rows, bar)
}

/// [`track_detections`] with products at most every `products_every_s` per track, or, with
/// `None`, [`track_detections_live`]. The node's tracker takes the batches either way; offline,
/// whole (`process_batch`), the node's own products left unused.
fn track_with(
    detections: &[Detection],
    owners: &HashMap<SensorId, Nation>,
    cfg: TrackerConfig,
    products_every_s: Option<f64>,
    products_out: &mut dyn Write,
    rows_out: &mut RowSink<'_>,
    bar: Option<&ProgressBar>,
) -> Result<TrackRun> {
    use tripoint_track::node::{Node, NodeConfig, Stage};
    use tripoint_track::products::{LiveProducts, ProductSchedule};
    let Some(Prelude {
        mode,
        epoch_unix,
        batches,
        rejected,
    }) = prelude(detections, owners)?
    else {
        return Ok(TrackRun::default());
    };
    let mut node = Node::new(cfg, NodeConfig::default());
    // Offline: at most every `products_every_s` per track, linearised from each track's last
    // full products while they hold (`basis` in the output).
    let mut offline =
        products_every_s.map(|every| (ProductSchedule::new(every), LiveProducts::default()));
    let mut rows = 0;
    let mut impacts = Vec::new();
    let mut latencies_ms = Vec::new();
    let mut confirmed = std::collections::HashSet::new();
    let t0 = Instant::now();
    let mut n = 0usize;
    for (k, b) in batches.iter().enumerate() {
        n += b.len();
        // The batch's events, and a live node's products (offline, made below).
        let (events, live_made): (_, Option<Vec<Made>>) = match offline {
            Some(_) => (node.tracker_mut().process_batch(b), None),
            None => {
                let out = node.take(b);
                let n_live = node.tracker().tracks().len();
                latencies_ms.extend(out.latencies_s().map(|s| (n_live, s * 1e3)));
                let made = out
                    .published
                    .into_iter()
                    .map(|p| {
                        let stage = match p.stage {
                            Stage::Quick => "quick",
                            Stage::Waited => "waited",
                            Stage::NewlyConfirmed => "newly_confirmed",
                            Stage::FollowUp => "follow_up",
                        };
                        (p.track_id, p.products, p.basis, Some(stage))
                    })
                    .collect();
                (out.events, Some(made))
            }
        };
        let tracker = node.tracker();
        let index = tracker.index_by_id();
        let products = match (live_made, offline.as_mut()) {
            (Some(made), _) => made,
            (None, Some((schedule, live))) => {
                let made = offline_products(tracker, &index, &events, schedule, live);
                // References of tracks gone are dropped now and then.
                if k % 256 == 0 {
                    live.retain(|id| index.contains_key(&id));
                }
                made
            }
            (None, None) => Vec::new(),
        };
        rows += batch_rows(
            tracker,
            &index,
            &events,
            epoch_unix,
            rows_out,
            &mut confirmed,
        )?;
        for (id, p, basis, stage) in products {
            // (A track the batch's management merged away had its products before it; they are
            // left out, as its rows are.)
            let Some(tr) = index.get(&id).map(|&i| &tracker.tracks()[i]) else {
                continue;
            };
            let line = product_line(
                tr,
                &tr.estimate(),
                &p,
                basis,
                stage,
                mode,
                epoch_unix,
                &mut impacts,
            );
            write_line(products_out, &line)?;
        }
        // A live node works ahead of the next batch (not when it is at the same instant:
        // already in).
        let next = batches.get(k + 1).filter(|n| n[0].t_s > b[0].t_s);
        if let Some(next) = next.filter(|_| offline.is_none()) {
            node.ahead(next[0].t_s);
        }
        if let Some(bar) = bar {
            if k % 256 == 0 {
                bar.set_position(n as u64);
            }
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    Ok(TrackRun {
        rows,
        impacts,
        observations: n,
        rejected: rejected + node.tracker().rejected.observations(),
        seconds,
        confirmed: confirmed.len(),
        latencies_ms,
    })
}

/// A track's products made in a batch: its id, the products, their basis, and with a live node
/// the stage that made them.
type Made = (
    u64,
    tripoint_track::products::Products,
    tripoint_track::products::Basis,
    Option<&'static str>,
);

/// Offline products of a batch's updated confirmed tracks that `schedule` says are due:
/// linearised where the track's reference holds, the full recomputations all together over the
/// thread pool; in event order.
fn offline_products(
    tracker: &MultiTargetTracker,
    index: &HashMap<u64, usize>,
    events: &[tripoint_track::tracker::TrackEvent],
    schedule: &mut tripoint_track::products::ProductSchedule,
    live: &mut tripoint_track::products::LiveProducts,
) -> Vec<Made> {
    let mut due = Vec::new();
    for ev in events.iter().filter(|e| e.confirmed) {
        let Some(tr) = index.get(&ev.track_id).map(|&i| &tracker.tracks()[i]) else {
            continue;
        };
        let e = tr.estimate();
        if schedule.due(tr.id, &e) {
            let quick = live.quick(tr.id, &e, tr.imm.mu[0], tr.early.is_some());
            due.push((tr, e, quick));
        }
    }
    let items: Vec<_> = due
        .iter()
        .filter(|(_, _, q)| q.is_none())
        .map(|(tr, e, _)| (tr.id, e, tr.imm.mu[0], tr.early_state()))
        .collect();
    let mut full = live.refresh_many(&items).into_iter();
    due.into_iter()
        .filter_map(|(tr, _, quick)| {
            let (p, basis) = quick.or_else(|| {
                full.next()
                    .map(|p| (p, tripoint_track::products::Basis::Full))
            })?;
            Some((tr.id, p, basis, None))
        })
        .collect()
}

pub fn run_track(a: &TrackArgs) -> Result<()> {
    let owners = read_sensor_owners(&a.input)?;
    let (detections, bad) = read_detections(&a.input.join("detections.csv"))?;
    for b in bad.iter().take(10) {
        eprintln!(
            "warning: {}: line {}: {} (row skipped)",
            a.input.join("detections.csv").display(),
            b.line,
            b.reason
        );
    }
    if bad.len() > 10 {
        eprintln!("warning: {} more rows skipped", bad.len() - 10);
    }
    if !(a.products_every_s.is_finite() && a.products_every_s >= 0.0) {
        bail!("--products-every-s must be a non-negative number");
    }
    let mut cfg = TrackerConfig {
        association: match a.association {
            AssociationArg::Gnn => tripoint_track::tracker::Association::Gnn,
            AssociationArg::Jpda => tripoint_track::tracker::Association::Jpda,
            AssociationArg::Hybrid => tripoint_track::tracker::Association::Hybrid,
        },
        ..TrackerConfig::default()
    };
    cfg.imm.filter = match a.filter {
        FilterArg::Ekf => FilterKind::Ekf,
        FilterArg::Ukf => FilterKind::Ukf,
    };
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(detections.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("tracking [{bar:30}] {pos}/{len} detections {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let every = if a.no_products {
        f64::INFINITY
    } else {
        a.products_every_s
    };
    fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let products_path = a.out.join("products.jsonl");
    let mut products_out = BufWriter::new(
        fs::File::create(&products_path)
            .with_context(|| format!("cannot create {}", products_path.display()))?,
    );
    let tracks_path = a.out.join("tracks.csv");
    let mut tracks_out = BufWriter::new(
        fs::File::create(&tracks_path)
            .with_context(|| format!("cannot create {}", tracks_path.display()))?,
    );
    writeln!(tracks_out, "{}", tracks_header())
        .with_context(|| format!("cannot write {}", tracks_path.display()))?;
    let mut line = String::new();
    let mut rows = |r: StateRow, p: &tripoint_track::state::Covariance| -> Result<()> {
        tracks_line(&r, p, &mut line);
        tracks_out
            .write_all(line.as_bytes())
            .with_context(|| format!("cannot write {}", tracks_path.display()))
    };
    let run = if a.live {
        track_detections_live(
            &detections,
            &owners,
            cfg,
            &mut products_out,
            &mut rows,
            Some(&bar),
        )?
    } else {
        track_detections(
            &detections,
            &owners,
            cfg,
            every,
            &mut products_out,
            &mut rows,
            Some(&bar),
        )?
    };
    products_out
        .flush()
        .with_context(|| format!("cannot write {}", products_path.display()))?;
    tracks_out
        .flush()
        .with_context(|| format!("cannot write {}", tracks_path.display()))?;
    bar.finish_and_clear();
    if !a.quiet {
        println!(
            "tracked {} detections in {:.2} s ({:.0}/s): {} confirmed tracks, {} rows rejected",
            run.observations,
            run.seconds,
            run.observations as f64 / run.seconds.max(1e-9),
            run.confirmed,
            run.rejected + bad.len()
        );
        println!(
            "wrote {}/{{tracks.csv,products.jsonl}} ({} track rows)",
            a.out.display(),
            run.rows
        );
        if a.live {
            print!("{}", latency_report(&run.latencies_ms));
        }
    }
    Ok(())
}

/// The latency from a detection entering the tracker to its track's products, by live-track
/// count: p50, p99 and the worst, over every update's first products.
fn latency_report(latencies_ms: &[(usize, f64)]) -> String {
    let mut out = String::from(
        "latency, detection → its track's products (this run's wall clock; a benchmark takes the minimum over replays):\n",
    );
    for (lo, hi) in [(0, usize::MAX), (0, 100), (100, 200), (200, usize::MAX)] {
        let mut v: Vec<f64> = latencies_ms
            .iter()
            .filter(|(n, _)| (lo..hi).contains(n))
            .map(|&(_, ms)| ms)
            .collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
        let band = match (lo, hi) {
            (0, usize::MAX) => "all".to_string(),
            (lo, usize::MAX) => format!("≥ {lo} live tracks"),
            (lo, hi) => format!("{lo}–{} live tracks", hi - 1),
        };
        let _ = writeln!(
            out,
            "  {band:<18} p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} products)",
            q(0.5),
            q(0.99),
            v[v.len() - 1],
            v.len()
        );
    }
    out
}

/// True impacts and the checkpoint (burnout + 60 s) per object from a sim summary.json.
fn read_summary(path: &Path) -> Result<(HashMap<String, TrueImpact>, HashMap<String, f64>)> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    Ok(summary_truth(&v))
}

/// True impacts and checkpoints from a summary.json value.
pub fn summary_truth(v: &serde_json::Value) -> (HashMap<String, TrueImpact>, HashMap<String, f64>) {
    let mut impacts = HashMap::new();
    let mut checkpoints = HashMap::new();
    let mut burnout: HashMap<String, f64> = HashMap::new();
    for l in v["launches"].as_array().into_iter().flatten() {
        if let (Some(id), Some(t), Some(b)) = (
            l["id"].as_str(),
            l["time"].as_str(),
            l["nominal"]["burnout_time_s"].as_f64(),
        ) {
            if let Some(e) = tripoint_sim::scenario::parse_epoch(t) {
                burnout.insert(id.to_owned(), e.to_unix_seconds() + b);
            }
        }
    }
    for o in v["objects"].as_array().into_iter().flatten() {
        let Some(id) = o["id"].as_str() else { continue };
        if o["outcome"] == "impact" {
            if let (Some(lat), Some(lon)) = (
                o["impact"]["lat_deg"].as_f64(),
                o["impact"]["lon_deg"].as_f64(),
            ) {
                impacts.insert(
                    id.to_owned(),
                    TrueImpact {
                        lat_deg: lat,
                        lon_deg: lon,
                    },
                );
            }
        }
        if let Some(b) = o["launch_id"].as_str().and_then(|l| burnout.get(l)) {
            checkpoints.insert(id.to_owned(), b + 60.0);
        }
    }
    (impacts, checkpoints)
}

pub fn run_score(a: &ScoreArgs) -> Result<()> {
    if !(a.c_m.is_finite() && a.c_m > 0.0) {
        bail!("--c-m must be a positive number of metres");
    }
    if let Some(n) = a.monte_carlo {
        let scenario = a
            .scenario
            .as_ref()
            .context("--monte-carlo needs a SCENARIO.toml")?;
        return crate::montecarlo::run(
            scenario,
            crate::montecarlo::Options {
                runs: n,
                c_m: a.c_m,
                seed: a.seed,
                beta_sigma_ln: a.beta_sigma_ln,
                json: a.json,
            },
        );
    }
    let (Some(truth_path), Some(tracks_path)) = (&a.truth, &a.tracks) else {
        bail!("give --truth and --tracks, or --monte-carlo N SCENARIO.toml");
    };
    let truth = read_states(truth_path, false)?;
    let tracks = read_states(tracks_path, true)?;
    let g = score_gospa(&truth, &tracks, a.c_m);
    let mut impacts_out: Vec<ImpactScore> = Vec::new();
    if let Some(pp) = &a.products {
        let summary = truth_path.with_file_name("summary.json");
        let (true_impacts, checkpoints) = read_summary(&summary)?;
        let records = read_impact_records(pp, &tracks)?;
        impacts_out = score_impacts(&truth, &records, &true_impacts, &checkpoints, ASSOC_M);
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"gospa": g, "impacts": impacts_out}))?
        );
    } else {
        print_gospa(&g);
        print_impacts(&impacts_out);
    }
    Ok(())
}

pub fn print_gospa(g: &GospaSummary) {
    println!(
        "GOSPA (p=1, α=2, c={:.0} m) over {} steps: total {:.1} m = localisation {:.1} + missed {:.1} + false {:.1}; position RMSE {:.1} m",
        g.cutoff_m, g.steps, g.mean_total_m, g.mean_localisation_m, g.mean_missed_m, g.mean_false_m, g.position_rmse_m
    );
}

pub fn print_impacts(v: &[ImpactScore]) {
    for s in v {
        println!(
            "  {:<12} {:>4} impact predictions: miss at burnout+60 s {} km, final {} km, 95% ellipse coverage {:.0}%",
            s.object,
            s.predictions,
            s.miss_at_checkpoint_km.map_or("-".into(), |m| format!("{m:.2}")),
            s.final_miss_km.map_or("-".into(), |m| format!("{m:.2}")),
            100.0 * s.coverage95
        );
    }
}

fn read_impact_records(path: &Path, tracks: &[StateRow]) -> Result<Vec<ImpactRecord>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut by_track: BTreeMap<&str, Vec<&StateRow>> = BTreeMap::new();
    for r in tracks {
        by_track.entry(&r.id).or_default().push(r);
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), i + 1))?;
        let imp = &v["impact"];
        if imp.is_null() {
            continue;
        }
        let id = v["track_id"].to_string();
        let t = v["time"]
            .as_str()
            .and_then(tripoint_sim::scenario::parse_epoch)
            .with_context(|| format!("{} line {}: bad time", path.display(), i + 1))?
            .to_unix_seconds();
        let Some(rows) = by_track.get(id.as_str()) else {
            continue;
        };
        let Some(r) = rows
            .iter()
            .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()))
        else {
            continue;
        };
        let cov: Vec<f64> = imp["cov_en_m2"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_f64())
            .collect();
        if cov.len() != 3 {
            continue;
        }
        out.push(ImpactRecord {
            t,
            track_id: id,
            position: [r.state[0], r.state[1], r.state[2]],
            lat_deg: imp["lat_deg"].as_f64().unwrap_or(f64::NAN),
            lon_deg: imp["lon_deg"].as_f64().unwrap_or(f64::NAN),
            cov_en_m2: [cov[0], cov[1], cov[2]],
        });
    }
    Ok(out)
}
