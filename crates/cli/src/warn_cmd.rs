//! `tripoint warn run SCENARIO --out DIR`: sim → track → warn with one node seeing every sensor;
//! CAP files, a JSON-lines timeline and a readable timeline with the truth beside it.
//! `tripoint warn monte-carlo N SCENARIO`: false warnings, misses and warning times over N
//! seeded runs.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tripoint_core::world::{ExerciseWorld, InWorld, RealWorld, World};
use tripoint_core::{Detection, Duration, Epoch, Mode, Nation, SensorId};
use tripoint_physics::geodesy::fast_geodetic;
use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::{run as run_world, summarize_objects, utc_string, Ending};
use tripoint_track::TrackerConfig;
use tripoint_warn::cap::{format_lat_lon, CapMessage};
use tripoint_warn::config::{Lang, WarnConfig};
use tripoint_warn::engine::{Notice, NoticeKind};
use tripoint_warn::pipeline::{run_node, RunStats};
use tripoint_warn::region::RegionSet;
use tripoint_warn::score::{score, truth_regions, TruthPath, WarnScore};

#[derive(Subcommand)]
pub enum WarnCommand {
    /// Run a scenario through sim → track → warn: DIR/cap/*.xml and DIR/timeline.jsonl.
    Run(RunArgs),
    /// N seeded runs of a scenario: false warnings, misses, time to first shelter warning.
    MonteCarlo(McArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Warning configuration (TOML); default: the shipped crates/warn/data/warn.toml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run the scenario as `real` or `exercise`, whatever its file says.
    #[arg(long)]
    pub mode: Option<String>,
    /// Admin-1 regions (GeoJSON FeatureCollection with iso_3166_2, name_en, name_ja, name_ko);
    /// default: the shipped Natural Earth prefectures and provinces.
    #[arg(long)]
    pub regions: Option<PathBuf>,
    /// Configured areas (TOML `[[area]]` list); default: the shipped crates/warn/data/areas.toml.
    #[arg(long)]
    pub areas: Option<PathBuf>,
    /// Seed override.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Args)]
pub struct McArgs {
    /// Number of runs.
    pub runs: usize,
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: WarnCommand) -> Result<()> {
    match cmd {
        WarnCommand::Run(a) => run_one(&a),
        WarnCommand::MonteCarlo(a) => monte_carlo(&a),
    }
}

fn load_regions(geojson: Option<&Path>, areas: Option<&Path>) -> Result<RegionSet> {
    let read = |p: &Path| {
        fs::read_to_string(p).with_context(|| format!("cannot read regions file {}", p.display()))
    };
    let (g, g_name) = match geojson {
        Some(p) => (read(p)?, p.display().to_string()),
        None => (
            tripoint_warn::region::BUILTIN_ADMIN1_GEOJSON.to_owned(),
            "data/jp_kr_admin1.geojson".to_owned(),
        ),
    };
    let (t, t_name) = match areas {
        Some(p) => (read(p)?, p.display().to_string()),
        None => (
            tripoint_warn::region::BUILTIN_AREAS_TOML.to_owned(),
            "data/areas.toml".to_owned(),
        ),
    };
    Ok(RegionSet::from_sources(&g, &g_name, &t, &t_name)?)
}

fn load_config(path: Option<&Path>, regions: &RegionSet) -> Result<WarnConfig> {
    Ok(match path {
        None => WarnConfig::default_for(regions)?,
        Some(p) => {
            let text = fs::read_to_string(p)
                .with_context(|| format!("cannot read warning config {}", p.display()))?;
            WarnConfig::from_toml(&text, &p.display().to_string(), regions)?
        }
    })
}

/// One run's results, in plain (world-erased) form for reporting; the world-typed values
/// stay inside [`simulate`].
pub struct WarnRun {
    pub mode: Mode,
    pub epoch: Epoch,
    pub notices: Vec<Notice>,
    pub messages: Vec<CapMessage>,
    pub stats: RunStats,
    /// Track time of the first launch.
    pub launch_t_s: f64,
    pub truth: Vec<TruthPath>,
    pub scores: Vec<WarnScore>,
}

fn node<M: World>(
    dets: &[Detection],
    owners: &HashMap<SensorId, Nation>,
    cfg: &WarnConfig,
    regions: &RegionSet,
    bar: Option<&ProgressBar>,
) -> Result<(Epoch, Vec<Notice>, Vec<CapMessage>, RunStats)> {
    let admitted = dets
        .iter()
        .cloned()
        .map(InWorld::<M, Detection>::admit)
        .collect::<Result<Vec<_>, _>>()?;
    let log = std::env::var_os("TRIPOINT_WARN_DEBUG").is_some();
    let r = run_node(
        &admitted,
        owners,
        TrackerConfig::default(),
        cfg,
        regions,
        log,
        |n| {
            if let Some(b) = bar {
                b.set_position(n as u64);
            }
        },
    );
    for line in &r.stats.forecast_log {
        eprintln!("{line}");
    }
    Ok((
        r.epoch,
        r.notices.into_iter().map(InWorld::into_inner).collect(),
        r.messages.into_iter().map(InWorld::into_inner).collect(),
        r.stats,
    ))
}

pub fn simulate(
    s: &Scenario,
    cfg: &WarnConfig,
    regions: &RegionSet,
    bar: Option<&ProgressBar>,
) -> Result<WarnRun> {
    let r = run_world(s, &mut |_| {}).map_err(|e| anyhow::anyhow!("{}: {e}", s.name))?;
    let owners: HashMap<SensorId, Nation> =
        s.sensors.iter().map(|x| (x.id.clone(), x.owner)).collect();
    if let Some(b) = bar {
        b.set_length(r.detections.len() as u64);
    }
    // Every detection of this scenario carries the scenario's mode; the node is typed by it.
    let (epoch, notices, messages, stats) = match s.mode {
        Mode::Real => node::<RealWorld>(&r.detections, &owners, cfg, regions, bar)?,
        Mode::Exercise => node::<ExerciseWorld>(&r.detections, &owners, cfg, regions, bar)?,
    };
    let offset = (s.start - epoch).to_seconds();
    let launch_t_s = s
        .launches
        .iter()
        .map(|l| l.t_launch_s)
        .fold(f64::INFINITY, f64::min)
        + offset;
    let summaries = summarize_objects(s, &r);
    let truth: Vec<TruthPath> = r
        .objects
        .iter()
        .map(|o| {
            let (t0, t1) = (o.trajectory.t_start_s(), o.trajectory.t_end_s());
            let mut points = Vec::new();
            let mut t = t0;
            while t <= t1 {
                if let Some(y) = o.trajectory.state_at(t) {
                    let (lat, lon, h) = fast_geodetic([y[0], y[1], y[2]]);
                    points.push((t + offset, lat.to_degrees(), lon.to_degrees(), h));
                }
                t += 1.0;
            }
            let impact = summaries
                .iter()
                .find(|x| x.id == o.id.as_str())
                .and_then(|x| match &x.ending {
                    Ending::Impact { impact } => {
                        Some((t1 + offset, impact.lat_deg, impact.lon_deg))
                    }
                    _ => None,
                });
            TruthPath {
                object: o.id.to_string(),
                points,
                impact,
            }
        })
        .collect();
    let reached = truth_regions(&truth, regions, cfg.forecast.overflight_min_alt_m);
    let refs: Vec<&Notice> = notices.iter().collect();
    let scores = cfg
        .authorities
        .iter()
        .enumerate()
        .map(|(i, a)| score(&refs, i, &a.regions, &reached, regions))
        .collect();
    Ok(WarnRun {
        mode: s.mode,
        epoch,
        notices,
        messages,
        stats,
        launch_t_s,
        truth,
        scores,
    })
}

fn bar_for(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!("{what} [{{bar:30}}] {{pos}}/{{len}} {{eta}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let k = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[k.min(v.len() - 1)]
}

fn run_one(a: &RunArgs) -> Result<()> {
    let mut s = crate::sim_cmd::load(&a.scenario)?;
    if let Some(m) = &a.mode {
        s.mode = m
            .parse()
            .map_err(|e: tripoint_core::CoreError| anyhow::anyhow!("--mode: {e}"))?;
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    let regions = load_regions(a.regions.as_deref(), a.areas.as_deref())?;
    let cfg = load_config(a.config.as_deref(), &regions)?;
    let bar = bar_for(0, "sim → track → warn: detections");
    let w = simulate(&s, &cfg, &regions, Some(&bar))?;
    bar.finish_and_clear();

    let cap_dir = a.out.join("cap");
    fs::create_dir_all(&cap_dir).with_context(|| format!("cannot create {}", cap_dir.display()))?;
    // A rerun into the same folder must not leave stale messages beside the new ones.
    for entry in fs::read_dir(&cap_dir)? {
        let p = entry?.path();
        if p.extension().is_some_and(|e| e == "xml") {
            fs::remove_file(&p)?;
        }
    }
    let mut lines = String::new();
    let when = |t: f64| utc_string(w.epoch + Duration::from_seconds(t));
    let ids = |rs: &[usize]| -> Vec<String> {
        rs.iter().map(|&r| regions.get(r).id.to_string()).collect()
    };
    println!(
        "{} ({}) — first launch {} — {} detections, {} forecasts, {:.1} s",
        s.name,
        w.mode,
        when(w.launch_t_s),
        w.stats.detections,
        w.stats.forecasts,
        w.stats.wall_seconds
    );
    println!();
    for (k, (n, m)) in w.notices.iter().zip(&w.messages).enumerate() {
        let file = cap_dir.join(format!("{:03}-{}.xml", k + 1, m.identifier));
        fs::write(&file, &m.xml).with_context(|| format!("cannot write {}", file.display()))?;
        let a = &cfg.authorities[n.authority];
        let t_rel = n.t_s - w.launch_t_s;
        let row = json!({
            "t_since_launch_s": (t_rel * 10.0).round() / 10.0,
            "time": when(n.t_s),
            "authority": a.nation,
            "event": n.kind.event_name(),
            "msg_type": m.msg_type,
            "status": m.status,
            "regions": ids(&n.regions),
            "warned": ids(&n.warned),
            "released": ids(&n.released),
            "probability": n.probability.map(|p| (p * 1000.0).round() / 1000.0),
            "certainty": n.certainty,
            // The earliest a sampled future reaches the region: ballistic from now, so during
            // boost it is later than the real arrival (more thrust arrives sooner).
            "earliest_sampled_arrival_t_since_launch_s": n.expected_t_s.map(|t| ((t - w.launch_t_s) * 10.0).round() / 10.0),
            "track_ids": n.track_ids,
            "cap": m.identifier,
        });
        lines.push_str(&row.to_string());
        lines.push('\n');
        for o in &n.outcomes {
            let mut v = serde_json::to_value(o)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "t_since_launch_s".into(),
                    json!(((o.t_s - w.launch_t_s) * 10.0).round() / 10.0),
                );
                obj.insert("event".into(), json!(o.outcome.event_name()));
                obj.insert("authority".into(), json!(a.nation));
                obj.insert("passed_over".into(), json!(ids(&o.passed_over)));
                let region = match &o.outcome {
                    tripoint_warn::engine::Outcome::FellInRegion { region, .. } => ids(&[*region]),
                    tripoint_warn::engine::Outcome::FellAtSea { areas, .. } => ids(areas),
                    _ => vec![],
                };
                obj.insert("regions".into(), json!(region));
                obj.insert("cap".into(), json!(m.identifier));
                obj.insert("status".into(), json!(m.status));
            }
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
        let names = |rs: &[usize]| {
            rs.iter()
                .map(|&r| format!("{} {}", regions.get(r).id, regions.get(r).names.en))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let what = match n.kind {
            NoticeKind::LaunchDetected => "launch detected".to_owned(),
            NoticeKind::TakeShelter => format!(
                "TAKE SHELTER  {}  (p = {:.2})",
                names(&n.regions),
                n.probability.unwrap_or(f64::NAN),
            ),
            NoticeKind::ShelterLifted => format!(
                "shelter lifted  {}  (p = {:.2})",
                names(&n.regions),
                n.probability.unwrap_or(f64::NAN)
            ),
            NoticeKind::PassedOver => format!("passed over  {}", names(&n.regions)),
            NoticeKind::Result => {
                // A few objects one by one; a cloud of debris by place, as the CAP text does
                // (`MAX_LISTED_OBJECTS`); timeline.jsonl keeps every object.
                let outs: Vec<String> =
                    if n.outcomes.len() > tripoint_warn::engine::MAX_LISTED_OBJECTS {
                        tripoint_warn::engine::group_outcomes(&n.outcomes)
                            .iter()
                            .map(|g| group_summary(g, &ids))
                            .collect()
                    } else {
                        n.outcomes
                            .iter()
                            .map(|o| match &o.outcome {
                                tripoint_warn::engine::Outcome::FellInRegion {
                                    region,
                                    predicted,
                                    ..
                                } => format!(
                                    "track {} fell in {}{}",
                                    o.track_id,
                                    regions.get(*region).id,
                                    if *predicted { " (predicted)" } else { "" }
                                ),
                                tripoint_warn::engine::Outcome::FellAtSea {
                                    lat_deg,
                                    lon_deg,
                                    predicted,
                                    areas,
                                } => format!(
                                    "track {} fell at sea {}{}{}",
                                    o.track_id,
                                    format_lat_lon(*lat_deg, *lon_deg, Lang::En),
                                    if areas.is_empty() {
                                        String::new()
                                    } else {
                                        format!(" [{}]", ids(areas).join(" "))
                                    },
                                    if *predicted { " (predicted)" } else { "" }
                                ),
                                tripoint_warn::engine::Outcome::FellOutside {
                                    lat_deg,
                                    lon_deg,
                                    predicted,
                                } => format!(
                                    "track {} came down outside the alert regions {}{}",
                                    o.track_id,
                                    format_lat_lon(*lat_deg, *lon_deg, Lang::En),
                                    if *predicted { " (predicted)" } else { "" }
                                ),
                                tripoint_warn::engine::Outcome::ReachedOrbit => {
                                    format!("track {} reached orbit", o.track_id)
                                }
                                tripoint_warn::engine::Outcome::TrackLost { alt_km, .. } => {
                                    format!("track {} lost at {alt_km:.0} km", o.track_id)
                                }
                            })
                            .collect()
                    };
                let ended = if n.released.is_empty() {
                    String::new()
                } else {
                    format!("; warnings ended for {}", names(&n.released))
                };
                format!("result: {}{ended}", outs.join("; "))
            }
        };
        println!(
            "T{:+7.1} s  {}  {}  {:<6}  {:<8}  {what}",
            t_rel,
            &when(n.t_s)[11..19],
            a.nation,
            format!("{:?}", m.msg_type),
            m.status,
        );
    }
    let tl = a.out.join("timeline.jsonl");
    fs::write(&tl, lines).with_context(|| format!("cannot write {}", tl.display()))?;
    println!();
    print_truth_and_scores(&w, &cfg, &regions);
    println!();
    println!(
        "wrote {} CAP messages to {} and {}",
        w.messages.len(),
        cap_dir.display(),
        tl.display()
    );
    Ok(())
}

fn print_truth_and_scores(w: &WarnRun, cfg: &WarnConfig, regions: &RegionSet) {
    let reached = truth_regions(&w.truth, regions, cfg.forecast.overflight_min_alt_m);
    let list: Vec<String> = reached
        .iter()
        .filter(|(r, _)| regions.get(**r).id.is_iso())
        .map(|(r, (t, obj))| {
            format!(
                "{} at T+{:.0} s ({obj})",
                regions.get(*r).id,
                t - w.launch_t_s
            )
        })
        .collect();
    println!(
        "truth: regions passed over or hit: {}",
        if list.is_empty() {
            "none".into()
        } else {
            list.join(", ")
        }
    );
    for (a, sc) in cfg.authorities.iter().zip(&w.scores) {
        if sc.reached.is_empty() && sc.warned.is_empty() {
            continue;
        }
        let lead: Vec<String> = sc
            .lead
            .iter()
            .map(|(r, tw, tt)| {
                format!(
                    "{r} warned T+{:.0} s, reached T+{:.0} s",
                    tw - w.launch_t_s,
                    tt - w.launch_t_s
                )
            })
            .collect();
        println!(
            "{}: {}; false warnings: {}; misses: {}",
            a.nation,
            if lead.is_empty() {
                "no region reached".into()
            } else {
                lead.join("; ")
            },
            if sc.false_warnings.is_empty() {
                "none".into()
            } else {
                sc.false_warnings.join(", ")
            },
            if sc.misses.is_empty() {
                "none".into()
            } else {
                sc.misses.join(", ")
            },
        );
    }
}

fn monte_carlo(a: &McArgs) -> Result<()> {
    anyhow::ensure!(a.runs > 0, "monte-carlo needs at least 1 run");
    let base = crate::sim_cmd::load(&a.scenario)?;
    let regions = RegionSet::builtin()?;
    let cfg = load_config(a.config.as_deref(), &regions)?;
    let bar = bar_for(a.runs as u64, "warn monte carlo: runs");
    let mut false_runs = 0usize;
    let mut false_total: BTreeMap<String, usize> = BTreeMap::new();
    let mut miss_total: BTreeMap<String, usize> = BTreeMap::new();
    let mut reached_total: BTreeMap<String, usize> = BTreeMap::new();
    let mut first_warn: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut lead: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut false_over = 0usize;
    let mut decision = Vec::new();
    let mut forecast = Vec::new();
    for i in 0..a.runs {
        let mut s = base.clone();
        s.seed = base.seed.wrapping_add(i as u64 * 7919);
        let w = simulate(&s, &cfg, &regions, None)?;
        let mut any_false = false;
        for sc in &w.scores {
            for f in &sc.false_warnings {
                *false_total.entry(f.clone()).or_default() += 1;
                any_false = true;
            }
            for m in &sc.misses {
                *miss_total.entry(m.clone()).or_default() += 1;
            }
            for (r, _) in &sc.reached {
                *reached_total.entry(r.clone()).or_default() += 1;
            }
            for (r, tw, tt) in &sc.lead {
                first_warn
                    .entry(r.clone())
                    .or_default()
                    .push(tw - w.launch_t_s);
                lead.entry(r.clone()).or_default().push(tt - tw);
            }
            for o in &sc.outcomes {
                *outcomes.entry(o.clone()).or_default() += 1;
            }
            false_over += sc.false_overflights.len();
        }
        if std::env::var_os("TRIPOINT_MC_DEBUG").is_some()
            && w.scores.iter().any(|x| !x.misses.is_empty())
        {
            eprintln!(
                "run {i} seed {}: misses {:?}",
                s.seed,
                w.scores.iter().map(|x| &x.misses).collect::<Vec<_>>()
            );
        }
        if any_false {
            false_runs += 1;
            if std::env::var_os("TRIPOINT_MC_DEBUG").is_some() {
                eprintln!(
                    "run {i} seed {}: false warnings {:?}",
                    s.seed,
                    w.scores
                        .iter()
                        .map(|x| &x.false_warnings)
                        .collect::<Vec<_>>()
                );
            }
        }
        decision.extend(w.stats.decision_seconds.iter().copied());
        forecast.extend(w.stats.forecast_seconds.iter().copied());
        bar.inc(1);
    }
    bar.finish_and_clear();
    let stat = |v: &Vec<f64>| {
        let mut v = v.clone();
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let p95 = percentile(&mut v, 95.0);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (mean, p95, max)
    };
    let d99 = percentile(&mut decision.clone(), 99.0) * 1e3;
    let f99 = percentile(&mut forecast.clone(), 99.0) * 1e3;
    if a.json {
        let v = json!({
            "scenario": base.name, "runs": a.runs,
            "runs_with_false_warnings": false_runs,
            "false_warnings": false_total, "misses": miss_total, "reached": reached_total,
            "false_overflight_reports": false_over,
            "first_shelter_t_since_launch_s": first_warn.iter().map(|(k, v)| (k.clone(), stat(v))).collect::<BTreeMap<_,_>>(),
            "lead_s": lead.iter().map(|(k, v)| (k.clone(), stat(v))).collect::<BTreeMap<_,_>>(),
            "outcomes": outcomes,
            "decision_p99_ms": d99, "forecast_p99_ms": f99,
        });
        println!("{v}");
        return Ok(());
    }
    println!("{}: {} runs", base.name, a.runs);
    println!(
        "  runs with a false public warning: {false_runs}  {:?}",
        false_total
    );
    println!("  false \"passed over\" reports: {false_over}");
    for (r, n) in &reached_total {
        let m = miss_total.get(r).copied().unwrap_or(0);
        let (fw_mean, fw_p95, fw_max) =
            first_warn
                .get(r)
                .map(stat)
                .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let (l_mean, _, _) = lead
            .get(r)
            .map(stat)
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        println!(
            "  {r}: reached in {n} runs, missed (late or never) in {m}; first take-shelter T+{fw_mean:.0} s mean, p95 {fw_p95:.0} s, max {fw_max:.0} s; lead {l_mean:.0} s"
        );
    }
    println!("  outcomes reported: {outcomes:?}");
    println!(
        "  decision per forecast update p99 {d99:.3} ms; forecast p99 {f99:.2} ms ({} forecasts)",
        forecast.len()
    );
    Ok(())
}

/// One timeline line for a group of objects that ended in the same place: the box of their
/// points and how many tracks ended there, of which forecasts (`ids` names the areas).
fn group_summary(
    g: &tripoint_warn::engine::OutcomeGroup,
    ids: &dyn Fn(&[usize]) -> Vec<String>,
) -> String {
    use tripoint_warn::engine::GroupPlace;
    let box_ = match (g.south_west, g.north_east) {
        (Some(sw), Some(ne)) => format!(
            " {} – {}",
            format_lat_lon(sw.0, sw.1, Lang::En),
            format_lat_lon(ne.0, ne.1, Lang::En)
        ),
        _ => String::new(),
    };
    let est = if g.predicted > 0 {
        format!(" ({} predicted)", g.predicted)
    } else {
        String::new()
    };
    let tracks = format!(
        "{} track{}{est}",
        g.count,
        if g.count == 1 { "" } else { "s" }
    );
    let place = match &g.place {
        GroupPlace::InRegion(r) => format!("fell in {}", ids(&[*r]).join(" ")),
        GroupPlace::AtSea(a) if a.is_empty() => "fell at sea".to_owned(),
        GroupPlace::AtSea(a) => format!("fell at sea [{}]", ids(a).join(" ")),
        GroupPlace::Outside => "came down outside the alert regions".to_owned(),
        GroupPlace::ReachedOrbit => "reached orbit".to_owned(),
        GroupPlace::TrackLost => "lost".to_owned(),
    };
    format!("{place}{box_}: {tracks}")
}
