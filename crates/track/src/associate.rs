//! Data association: gated hypotheses; Global Nearest Neighbour by optimal 2-D assignment
//! (Kuhn–Munkres, from the `pathfinding` crate), solved per independent cluster; and the Joint
//! Probabilistic Data Association weights for dense clutter ([`jpda_weights`]).
//!
//! Cost of pairing track i with detection j: the negative log-likelihood
//! ½(d²_ij + ln det S_ij); a track may also go unassigned at the cost of a detection on its gate
//! boundary, ½(γ + ln det S_i·), so any gated detection beats a miss when it is the only choice
//! (Blackman & Popoli, *Design and Analysis of Modern Tracking Systems*, §6.5).

use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;
use rayon::prelude::*;

use crate::filter::Innovation;

/// A gated pairing of a track and a detection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hypothesis {
    pub track: usize,
    pub detection: usize,
    pub innovation: Innovation,
}

/// One independent cluster: runs of one track's hypotheses (slices of the input, in its order),
/// joined to each other by shared detections. With hypotheses grouped by track (as the tracker
/// makes them) a cluster has one run per track.
pub type Cluster<'a> = Vec<&'a [Hypothesis]>;

/// Union–find by size over tracks (`0..n_tracks`) and detections (after them).
struct Forest {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Forest {
    /// The forest of `hyps`' pairings: one `find` per hypothesis, each run of one track's
    /// hypotheses joined from its track's root.
    fn of(hyps: &[Hypothesis], n_tracks: usize, n_dets: usize) -> Self {
        let mut f = Self {
            parent: (0..n_tracks + n_dets).collect(),
            size: vec![1; n_tracks + n_dets],
        };
        for run in hyps.chunk_by(|a, b| a.track == b.track) {
            let mut r = f.find(run[0].track);
            for h in run {
                r = f.link(r, n_tracks + h.detection);
            }
        }
        f
    }

    fn find(&mut self, mut i: usize) -> usize {
        let p = &mut self.parent;
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }

    /// Joins root `r`'s set with `j`'s; returns the joined set's root.
    fn link(&mut self, r: usize, j: usize) -> usize {
        let d = self.find(j);
        if d == r {
            return r;
        }
        let (big, small) = if self.size[r] >= self.size[d] {
            (r, d)
        } else {
            (d, r)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
        big
    }

    fn union(&mut self, i: usize, j: usize) {
        let r = self.find(i);
        self.link(r, j);
    }
}

/// Independent clusters of hypotheses: tracks and detections joined by a gated pairing, as runs
/// of consecutive hypotheses of one track; the clusters in the order of their first run.
/// Union–find by size over tracks and detections, one `find` per hypothesis (a debris cloud's
/// scan holds tens of thousands of pairs, each cluster's runs are listed, not its pairs).
fn clusters(hyps: &[Hypothesis], n_tracks: usize, n_dets: usize) -> Vec<Cluster<'_>> {
    let runs = || hyps.chunk_by(|a, b| a.track == b.track);
    let mut forest = if hyps.len() >= PARALLEL_MIN_PAIRS {
        // A cloud's tens of thousands of pairs: the two halves' runs joined on two threads,
        // then the second forest's links made in the first. The partition is the union of
        // the halves' relations whichever links were made, and the clusters below depend on
        // the partition alone.
        let mid = hyps.len() / 2;
        let cut = hyps[..mid]
            .iter()
            .rposition(|h| h.track != hyps[mid].track)
            .map_or(0, |i| i + 1);
        let (a, b) = hyps.split_at(cut);
        let (mut fa, mut fb) = rayon::join(
            || Forest::of(a, n_tracks, n_dets),
            || Forest::of(b, n_tracks, n_dets),
        );
        for i in 0..n_tracks + n_dets {
            let r = fb.find(i);
            if r != i {
                fa.union(i, r);
            }
        }
        fa
    } else {
        Forest::of(hyps, n_tracks, n_dets)
    };
    // Each root's cluster, by index (no map lookup).
    let mut slot = vec![usize::MAX; n_tracks + n_dets];
    let mut out: Vec<Cluster> = Vec::new();
    for run in runs() {
        let root = forest.find(run[0].track);
        if slot[root] == usize::MAX {
            slot[root] = out.len();
            out.push(Vec::new());
        }
        out[slot[root]].push(run);
    }
    out
}

/// Splits hypotheses by the size of their independent cluster: those of clusters with at most
/// `max_tracks` tracks, and the larger (dense) clusters themselves, as runs of the input, for
/// [`jpda_weights_of_clusters`] (a debris cloud's cluster holds tens of thousands of pairs:
/// clustered once, not copied).
pub fn split_by_cluster_size(
    hyps: &[Hypothesis],
    n_tracks: usize,
    n_dets: usize,
    max_tracks: usize,
) -> (Vec<Hypothesis>, Vec<Cluster<'_>>) {
    let mut sparse = Vec::new();
    let mut dense = Vec::new();
    let mut seen = vec![false; n_tracks];
    for runs in clusters(hyps, n_tracks, n_dets) {
        let mut n = 0;
        for run in &runs {
            if !std::mem::replace(&mut seen[run[0].track], true) {
                n += 1;
            }
        }
        if n <= max_tracks {
            sparse.extend(runs.iter().flat_map(|r| r.iter().copied()));
        } else {
            dense.push(runs);
        }
    }
    (sparse, dense)
}

const SCALE: f64 = 1e4;

/// Clusters with more gated pairs than this are assigned greedily (cheapest pair first):
/// Kuhn–Munkres is O(n³) and a dense debris cloud can make one cluster of hundreds.
pub const MAX_OPTIMAL_PAIRS: usize = 4_000;

/// Greedy assignment by increasing cost.
fn greedy(hs: &[&Hypothesis], out: &mut [Option<usize>]) {
    let mut sorted: Vec<&&Hypothesis> = hs.iter().collect();
    sorted.sort_by(|a, b| {
        let ca = a.innovation.d2 + a.innovation.log_det_s;
        let cb = b.innovation.d2 + b.innovation.log_det_s;
        ca.total_cmp(&cb)
    });
    let mut det_used = std::collections::HashSet::new();
    for h in sorted {
        if out[h.track].is_none() && det_used.insert(h.detection) {
            out[h.track] = Some(h.detection);
        }
    }
}

/// For each track (0..n_tracks), the detection it is assigned to, if any.
pub fn gnn_associate(
    hyps: &[Hypothesis],
    n_tracks: usize,
    n_dets: usize,
    gate_d2: &[f64; 5],
) -> Vec<Option<usize>> {
    let mut out = vec![None; n_tracks];
    if hyps.is_empty() {
        return out;
    }
    for runs in &clusters(hyps, n_tracks, n_dets) {
        let hs: Vec<&Hypothesis> = runs.iter().flat_map(|r| r.iter()).collect();
        let hs = &hs;
        if hs.len() == 1 {
            out[hs[0].track] = Some(hs[0].detection);
            continue;
        }
        if hs.len() > MAX_OPTIMAL_PAIRS {
            greedy(hs, &mut out);
            continue;
        }
        let mut tracks: Vec<usize> = hs.iter().map(|h| h.track).collect();
        tracks.sort_unstable();
        tracks.dedup();
        let mut dets: Vec<usize> = hs.iter().map(|h| h.detection).collect();
        dets.sort_unstable();
        dets.dedup();
        let nt = tracks.len();
        let nd = dets.len();
        let big = i64::MAX / (4 * (nt + nd + 1) as i64);
        let mut m = Matrix::new(nt, nd + nt, big);
        for h in hs.iter() {
            let r = tracks.binary_search(&h.track).unwrap_or(0);
            let c = dets.binary_search(&h.detection).unwrap_or(0);
            let cost = 0.5 * (h.innovation.d2 + h.innovation.log_det_s);
            m[(r, c)] = (cost * SCALE).round() as i64;
            // Miss cost from this track's own S (the smallest seen keeps it conservative).
            let miss = 0.5 * (gate_d2[h.innovation.dim.min(4)] + h.innovation.log_det_s);
            let v = (miss * SCALE).round() as i64;
            if m[(r, nd + r)] == big || v < m[(r, nd + r)] {
                m[(r, nd + r)] = v;
            }
        }
        // Costs may be negative (ln det S < 0): shift so all are ≥ 0.
        let min = m.values().copied().min().unwrap_or(0).min(0);
        let shifted = Matrix::from_vec(
            nt,
            nd + nt,
            m.values()
                .map(|v| if *v == big { big } else { v - min })
                .collect(),
        );
        let Ok(shifted) = shifted else { continue };
        let (_, assign) = kuhn_munkres_min(&shifted);
        for (r, &c) in assign.iter().enumerate() {
            if c < nd && shifted[(r, c)] != big {
                out[tracks[r]] = Some(dets[c]);
            }
        }
    }
    out
}

/// The detection and clutter model behind the JPDA weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JpdaParams {
    /// Probability that the sensor detects the object (P_D).
    pub pd: f64,
    /// Probability that the object's detection falls inside its gate (P_G).
    pub pg: f64,
    /// False detections per unit of measurement space, by measurement dimension (2: bearings,
    /// rad²; 3: radar, m·rad²; 4: radar with range rate, m·rad²·m/s).
    pub clutter_density: [f64; 5],
}

impl Default for JpdaParams {
    /// Generic: P_D 0.9, a 99.9 % gate, and half a false alarm per scan over a 1,500-km,
    /// 120°-wide, 85°-high radar volume (±8 km/s of range rate) or per steradian of staring
    /// infrared field.
    fn default() -> Self {
        let radar = 0.5 / (1.5e6 * 120f64.to_radians() * 85f64.to_radians());
        Self {
            pd: 0.9,
            pg: 0.999,
            clutter_density: [0.0, 0.0, 0.5, radar, radar / 16_000.0],
        }
    }
}

impl JpdaParams {
    /// ln(1 − P_D P_G): the weight of "not detected" (or outside the gate).
    pub fn ln_miss(&self) -> f64 {
        (1.0 - self.pd * self.pg).max(1e-12).ln()
    }

    /// ln(P_D/λ) for measurements of dimension `dim`: with a detection's log-likelihood, the
    /// log of its likelihood ratio against clutter.
    pub fn ln_detection_scale(&self, dim: usize) -> f64 {
        self.pd.ln() - self.clutter_density[dim.min(4)].max(1e-300).ln()
    }
}

/// One track's association weights: β for each gated detection and β₀ for "none of them is
/// this track's".
#[derive(Clone, Debug, PartialEq)]
pub struct TrackWeights {
    pub track: usize,
    pub missed: f64,
    pub detections: Vec<(usize, f64)>,
}

/// A cluster with at least this many gated pairs has its likelihood ratios and Fitzgerald's
/// weights computed over the thread pool (a debris cloud's scan: ~27 000 pairs), in
/// [`CLOUD_PARTS`] parts of its rows.
pub const PARALLEL_MIN_PAIRS: usize = 2048;

/// Clusters with at most this many tracks and gated pairs are enumerated exactly.
pub const MAX_EXACT_TRACKS: usize = 8;
pub const MAX_EXACT_PAIRS: usize = 24;

/// Joint Probabilistic Data Association weights (Fortmann, Bar-Shalom & Scheffe, IEEE J. Oceanic
/// Eng. 8(3), 1983; Bar-Shalom, Daum & Huang, IEEE Control Systems 29(6), 2009).
///
/// A joint event gives each track of a cluster at most one of its gated detections, and each
/// detection at most one track; the rest are clutter. Its weight is Π over paired (t, j) of the
/// likelihood ratio P_D N(ν_tj; 0, S_t) / λ times Π over unpaired tracks of (1 − P_D P_G);
/// β_tj is the normalised sum over the events pairing t with j, β_t0 over those leaving t
/// unpaired. Clusters up to [`MAX_EXACT_TRACKS`] tracks and [`MAX_EXACT_PAIRS`] pairs are
/// enumerated exactly; larger ones (a debris cloud) use Fitzgerald's closed-form approximation
/// ("cheap JPDA", IEE Proc. F 132(4), 1985): β_tj ∝ G_tj / (S_t + S_j − G_tj + B) with
/// S_t, S_j the row and column sums of the ratios G and B = 1 − P_D P_G, then normalised per
/// track with the miss.
///
/// Tracks index `0..n_tracks` and detections `0..n_dets`: a hypothesis outside them is a
/// caller's bug and panics (the tracker makes them from its own tracks and the batch).
pub fn jpda_weights(
    hyps: &[Hypothesis],
    n_tracks: usize,
    n_dets: usize,
    p: &JpdaParams,
) -> Vec<TrackWeights> {
    jpda_weights_of_clusters(clusters(hyps, n_tracks, n_dets), n_dets, p)
}

/// [`jpda_weights`] of clusters made already (by [`split_by_cluster_size`]): each an independent
/// cluster's runs of hypotheses, in any order.
pub fn jpda_weights_of_clusters<'a>(
    clusters: impl IntoIterator<Item = Cluster<'a>>,
    n_dets: usize,
    p: &JpdaParams,
) -> Vec<TrackWeights> {
    let ln_miss = p.ln_miss();
    // ln(P_D/λ) by measurement dimension, once (two logarithms a pair otherwise).
    let ln_scale: [f64; 5] = std::array::from_fn(|dim| p.ln_detection_scale(dim));
    let mut out = Vec::new();
    // Detection-indexed scratch for Fitzgerald's column sums, shared by the clusters.
    let mut col = vec![0.0; n_dets];
    // Per cluster, reused: each track's gated (detection, ratio), one flat list, track by track.
    let mut flat: Vec<(usize, f64)> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut tracks: Vec<usize> = Vec::new();
    for mut runs in clusters {
        // (An empty run pairs nothing.)
        runs.retain(|r| !r.is_empty());
        if runs.is_empty() {
            continue;
        }
        // One run per track, in track order: the tracker's clusters come so. Runs sorted by
        // track (stably) and joined give any others so, each track's detections in the order
        // given.
        if !runs.is_sorted_by_key(|r| r[0].track) {
            runs.sort_by_key(|r| r[0].track);
        }
        let joined: Vec<Hypothesis>;
        let runs: Vec<&[Hypothesis]> = if runs.windows(2).any(|w| w[0][0].track == w[1][0].track) {
            joined = runs.iter().flat_map(|r| r.iter().copied()).collect();
            joined.chunk_by(|a, b| a.track == b.track).collect()
        } else {
            runs
        };
        flat.clear();
        starts.clear();
        tracks.clear();
        // Likelihood ratios in the log domain (N can underflow), scaled by the largest to keep
        // the products finite.
        let larger = |m: f64, l: f64| if l > m { l } else { m };
        let ln_ratio = |h: &Hypothesis| {
            let l = h.innovation.log_likelihood() + ln_scale[h.innovation.dim.min(4)];
            (h.detection, l)
        };
        let mut at = 0;
        for run in &runs {
            tracks.push(run[0].track);
            starts.push(at);
            at += run.len();
        }
        starts.push(at);
        if at >= PARALLEL_MIN_PAIRS {
            // (Past the exact enumeration's size.)
            out.extend(cloud_weights(&runs, &ln_ratio, ln_miss, n_dets));
            continue;
        }
        for run in &runs {
            flat.extend(run.iter().map(ln_ratio));
        }
        // (A fold of its own: one running maximum through the loop above was a chain of
        // dependent loads and stores.)
        let top = flat.iter().fold(ln_miss, |m, &(_, l)| larger(m, l));
        // (Four at a time: [`crate::vexp`].)
        crate::vexp::exp_shifted_in_place(&mut flat, top);
        let g: Vec<&[(usize, f64)]> = starts.windows(2).map(|w| &flat[w[0]..w[1]]).collect();
        let b = (ln_miss - top).exp();
        if tracks.len() <= MAX_EXACT_TRACKS && flat.len() <= MAX_EXACT_PAIRS {
            for ((&t, row), (w0, ws)) in tracks.iter().zip(&g).zip(exact(&g, b)) {
                let total = w0 + ws.iter().sum::<f64>();
                let total = if total > 0.0 { total } else { 1.0 };
                out.push(TrackWeights {
                    track: t,
                    missed: w0 / total,
                    detections: row
                        .iter()
                        .zip(&ws)
                        .map(|(&(d, _), w)| (d, w / total))
                        .collect(),
                });
            }
        } else {
            fitzgerald(&tracks, &g, b, &mut col, &mut out);
        }
    }
    out.sort_by_key(|w| w.track);
    out
}

/// Exact enumeration of the joint events: per track, the summed weight of the events leaving it
/// unpaired and of those pairing it with each of its gated detections.
fn exact(g: &[&[(usize, f64)]], b: f64) -> Vec<(f64, Vec<f64>)> {
    let mut acc: Vec<(f64, Vec<f64>)> = g.iter().map(|r| (0.0, vec![0.0; r.len()])).collect();
    let mut choice = vec![usize::MAX; g.len()];
    let mut used: Vec<usize> = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn go(
        k: usize,
        w: f64,
        g: &[&[(usize, f64)]],
        b: f64,
        choice: &mut [usize],
        used: &mut Vec<usize>,
        acc: &mut [(f64, Vec<f64>)],
    ) {
        if k == g.len() {
            for (t, &c) in choice.iter().enumerate() {
                if c == usize::MAX {
                    acc[t].0 += w;
                } else {
                    acc[t].1[c] += w;
                }
            }
            return;
        }
        choice[k] = usize::MAX;
        go(k + 1, w * b, g, b, choice, used, acc);
        for (c, &(d, gd)) in g[k].iter().enumerate() {
            if used.contains(&d) {
                continue;
            }
            used.push(d);
            choice[k] = c;
            go(k + 1, w * gd, g, b, choice, used, acc);
            used.pop();
        }
        choice[k] = usize::MAX;
    }
    go(0, 1.0, g, b, &mut choice, &mut used, &mut acc);
    acc
}

/// Fitzgerald's weights of one track's row: β_tj ∝ G_tj / (S_t + S_j − G_tj + B) for the row's
/// ratios `row` (replaced by the weights) with their sum `st` and the column sums `col`, then
/// normalised with the miss; returns β₀.
fn fitzgerald_row(row: &mut [(usize, f64)], st: f64, col: &[f64], b: f64) -> f64 {
    for (d, v) in row.iter_mut() {
        *v /= st + col[*d] - *v + b;
    }
    let assigned: f64 = row.iter().map(|(_, w)| w).sum();
    // The miss takes what the detections leave (at least its own share).
    let w0 = (1.0 - assigned).max(b / (st + b));
    let total = w0 + assigned;
    let total = if total > 0.0 { total } else { 1.0 };
    for (_, w) in row.iter_mut() {
        *w /= total;
    }
    w0 / total
}

/// Fitzgerald's closed-form approximation for a cluster too large to enumerate, one thread:
/// each track's weights appended to `out` in the order of `tracks`; `col` is zeroed scratch
/// indexed by detection (left zeroed).
fn fitzgerald(
    tracks: &[usize],
    g: &[&[(usize, f64)]],
    b: f64,
    col: &mut [f64],
    out: &mut Vec<TrackWeights>,
) {
    for row in g {
        for &(d, v) in row.iter() {
            col[d] += v;
        }
    }
    for (&track, row) in tracks.iter().zip(g) {
        let st: f64 = row.iter().map(|(_, v)| v).sum();
        let mut detections = row.to_vec();
        let missed = fitzgerald_row(&mut detections, st, col, b);
        out.push(TrackWeights {
            track,
            missed,
            detections,
        });
    }
    for row in g {
        for &(d, _) in row.iter() {
            col[d] = 0.0;
        }
    }
}

/// The rows of a cloud's cluster are taken in this many parts over the thread pool: fixed, so
/// the column sums (each part's, then the parts' in order) and every weight are the same bits
/// whatever the number of threads.
const CLOUD_PARTS: usize = 4;

/// [`fitzgerald`] over the thread pool for a cloud's cluster (runs of one track each, in track
/// order; `ln_ratio` gives a hypothesis's detection and log likelihood ratio) in three passes
/// over [`CLOUD_PARTS`] parts of its rows: the log ratios and their largest; their
/// exponentials, row sums and each part's column sums; the weights. Each track's row is built
/// where its weights are returned (no copy of the cluster's pairs).
fn cloud_weights(
    runs: &[&[Hypothesis]],
    ln_ratio: &(impl Fn(&Hypothesis) -> (usize, f64) + Sync),
    ln_miss: f64,
    n_dets: usize,
) -> Vec<TrackWeights> {
    let bounds: Vec<usize> = (0..=CLOUD_PARTS)
        .map(|i| i * runs.len() / CLOUD_PARTS)
        .collect();
    let larger = |m: f64, l: f64| if l > m { l } else { m };
    // Per part: its rows, their sums and its column sums.
    type Part = (Vec<Vec<(usize, f64)>>, Vec<f64>, Vec<f64>);
    let mut parts: Vec<(Part, f64)> = bounds
        .par_windows(2)
        .map(|w| {
            let rows: Vec<Vec<(usize, f64)>> = runs[w[0]..w[1]]
                .iter()
                .map(|run| run.iter().map(ln_ratio).collect())
                .collect();
            let top = rows
                .iter()
                .flatten()
                .fold(f64::NEG_INFINITY, |m, &(_, l)| larger(m, l));
            ((rows, Vec::new(), Vec::new()), top)
        })
        .collect();
    // Scaled by the largest to keep the products finite (the likelihoods can underflow).
    let top = parts.iter().fold(ln_miss, |m, p| larger(m, p.1));
    parts.par_iter_mut().for_each(|((rows, sums, col), _)| {
        *col = vec![0.0; n_dets];
        for row in rows.iter_mut() {
            crate::vexp::exp_shifted_in_place(row, top);
            sums.push(row.iter().map(|(_, v)| v).sum());
            for &(d, v) in row.iter() {
                col[d] += v;
            }
        }
    });
    let mut col = vec![0.0; n_dets];
    for ((_, _, part), _) in &parts {
        for (c, v) in col.iter_mut().zip(part) {
            *c += v;
        }
    }
    let b = (ln_miss - top).exp();
    let col = &col;
    let weights: Vec<Vec<TrackWeights>> = parts
        .into_par_iter()
        .zip(bounds.par_windows(2))
        .map(|(((rows, sums, _), _), w)| {
            rows.into_iter()
                .zip(sums)
                .zip(&runs[w[0]..w[1]])
                .map(|((mut detections, st), run)| {
                    let missed = fitzgerald_row(&mut detections, st, col, b);
                    TrackWeights {
                        track: run[0].track,
                        missed,
                        detections,
                    }
                })
                .collect()
        })
        .collect();
    weights.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyp(track: usize, detection: usize, d2: f64) -> Hypothesis {
        Hypothesis {
            track,
            detection,
            innovation: Innovation {
                d2,
                log_det_s: 2.0,
                dim: 3,
            },
        }
    }

    /// Clusters of a scan large enough for the two-thread union–find (2 400 tracks, 3 000
    /// detections, ~7 000 pairs; chains of tracks that cross the halves' cut, and tracks that
    /// gate nothing but their own detection), against the connected components found by
    /// relabelling to a fixed point: the same clusters, in the order of their first run, each
    /// with its runs in order.
    #[test]
    fn a_cloud_clustered_on_two_threads_gets_the_connected_components() {
        let (nt, nd) = (2_400usize, 3_000usize);
        let mut hyps = Vec::new();
        for t in 0..nt {
            // A track gates its own detection, and every 7th also one far along the scan
            // (joining clusters across the middle), every 5th the next track's detection.
            let mut dets = vec![t];
            if t % 5 == 0 {
                dets.push(t + 1);
            }
            if t % 7 == 0 {
                dets.push((t * 131 + 977) % nd);
            }
            dets.sort_unstable();
            dets.dedup();
            hyps.extend(dets.into_iter().map(|d| hyp(t, d, 1.0)));
        }
        assert!(hyps.len() >= PARALLEL_MIN_PAIRS);
        // Components by relabelling: each node takes the smallest label among its pairs'.
        let mut label: Vec<usize> = (0..nt + nd).collect();
        loop {
            let mut changed = false;
            for h in &hyps {
                let (a, b) = (h.track, nt + h.detection);
                let m = label[a].min(label[b]);
                for x in [a, b] {
                    if label[x] != m {
                        label[x] = m;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut want: Vec<Vec<usize>> = Vec::new();
        let mut seen: Vec<Option<usize>> = vec![None; nt + nd];
        for t in 0..nt {
            let l = label[t];
            let k = *seen[l].get_or_insert_with(|| {
                want.push(Vec::new());
                want.len() - 1
            });
            want[k].push(t);
        }
        let got: Vec<Vec<usize>> = clusters(&hyps, nt, nd)
            .iter()
            .map(|c| c.iter().map(|run| run[0].track).collect())
            .collect();
        assert!(
            want.len() > 10 && want.len() < nt,
            "{} clusters",
            want.len()
        );
        assert_eq!(got, want);
    }

    /// Two tracks competing for two detections, against a hand enumeration of the five joint
    /// events.
    #[test]
    fn exact_jpda_matches_a_hand_enumeration() {
        let p = JpdaParams::default();
        let hyps = [hyp(0, 0, 1.0), hyp(0, 1, 4.0), hyp(1, 1, 0.5)];
        let w = jpda_weights(&hyps, 2, 2, &p);
        let lr = |h: &Hypothesis| p.pd * h.innovation.log_likelihood().exp() / p.clutter_density[3];
        let (g00, g01, g11) = (lr(&hyps[0]), lr(&hyps[1]), lr(&hyps[2]));
        let b = 1.0 - p.pd * p.pg;
        // Events: (miss, miss), (0→0, miss), (0→1, miss), (miss, 1→1), (0→0, 1→1).
        let e = [b * b, g00 * b, g01 * b, b * g11, g00 * g11];
        let z: f64 = e.iter().sum();
        let t0 = &w[0];
        let t1 = &w[1];
        assert!((t0.missed - (e[0] + e[3]) / z).abs() < 1e-12);
        assert!((t0.detections[0].1 - (e[1] + e[4]) / z).abs() < 1e-12);
        assert!((t0.detections[1].1 - e[2] / z).abs() < 1e-12);
        assert!((t1.missed - (e[0] + e[1] + e[2]) / z).abs() < 1e-12);
        assert!((t1.detections[0].1 - (e[3] + e[4]) / z).abs() < 1e-12);
    }

    /// Weights are probabilities per track, in exact and approximate clusters alike, and a
    /// detection deep in one gate and far out in another goes to the first.
    #[test]
    fn weights_sum_to_one_and_follow_the_likelihood() {
        let p = JpdaParams::default();
        let mut hyps = Vec::new();
        // A big cluster (approximate): 10 tracks × 4 detections each, overlapping.
        for t in 0..10 {
            for k in 0..4 {
                hyps.push(hyp(t, t + k, (k as f64) * 2.0 + 0.1 * t as f64));
            }
        }
        // A small one (exact).
        hyps.push(hyp(20, 30, 0.2));
        hyps.push(hyp(21, 30, 9.0));
        let w = jpda_weights(&hyps, 22, 40, &p);
        assert_eq!(w.len(), 12);
        for tw in &w {
            let s = tw.missed + tw.detections.iter().map(|d| d.1).sum::<f64>();
            assert!((s - 1.0).abs() < 1e-9, "track {}: {s}", tw.track);
            assert!(tw.missed >= 0.0 && tw.detections.iter().all(|d| d.1 >= 0.0));
        }
        let a = w.iter().find(|t| t.track == 20).expect("20");
        let b = w.iter().find(|t| t.track == 21).expect("21");
        assert!(a.detections[0].1 > 0.9, "{a:?}");
        assert!(b.detections[0].1 < 0.1, "{b:?}");
    }

    /// A cloud large enough for the thread pool (60 tracks each gating 50 detections, 3 000
    /// pairs) gets Fitzgerald's weights, against the closed form written out pair by pair.
    #[test]
    fn a_cloud_over_the_thread_pool_gets_fitzgeralds_weights() {
        let p = JpdaParams::default();
        let (nt, nd) = (60, 50);
        let hyps: Vec<Hypothesis> = (0..nt)
            .flat_map(|t| (0..nd).map(move |d| hyp(t, d, ((t * 7 + d * 3) % 19) as f64)))
            .collect();
        assert!(hyps.len() >= PARALLEL_MIN_PAIRS);
        let w = jpda_weights(&hyps, nt, nd, &p);
        let g = |t: usize, d: usize| {
            let h = &hyps[t * nd + d];
            p.pd * h.innovation.log_likelihood().exp() / p.clutter_density[3]
        };
        let b = 1.0 - p.pd * p.pg;
        for t in 0..nt {
            let st: f64 = (0..nd).map(|d| g(t, d)).sum();
            let beta: Vec<f64> = (0..nd)
                .map(|d| {
                    let sj: f64 = (0..nt).map(|u| g(u, d)).sum();
                    g(t, d) / (st + sj - g(t, d) + b)
                })
                .collect();
            let assigned: f64 = beta.iter().sum();
            let w0 = (1.0 - assigned).max(b / (st + b));
            let total = w0 + assigned;
            assert_eq!(w[t].track, t);
            assert!((w[t].missed - w0 / total).abs() < 1e-9, "track {t}");
            for (d, &(det, x)) in w[t].detections.iter().enumerate() {
                assert_eq!(det, d);
                assert!(
                    (x - beta[d] / total).abs() < 1e-9,
                    "track {t}, detection {d}"
                );
            }
        }
    }

    /// The weights of a pairing do not depend on the order the hypotheses come in (the tracker
    /// gives them grouped by track; any caller may not).
    #[test]
    fn weights_do_not_depend_on_the_order_of_the_hypotheses() {
        let p = JpdaParams::default();
        let mut hyps = Vec::new();
        for t in 0..12 {
            for k in 0..5 {
                hyps.push(hyp(t, (t + 2 * k) % 17, (k as f64) * 1.5 + 0.07 * t as f64));
            }
        }
        let pairs = |w: Vec<TrackWeights>| {
            let mut v: Vec<(usize, usize, f64)> = w
                .iter()
                .flat_map(|tw| tw.detections.iter().map(|&(d, b)| (tw.track, d, b)))
                .chain(w.iter().map(|tw| (tw.track, usize::MAX, tw.missed)))
                .collect();
            v.sort_by_key(|a| (a.0, a.1));
            v
        };
        let grouped = pairs(jpda_weights(&hyps, 12, 17, &p));
        // Interleaved: every track's first hypothesis, then every second one, …
        let mut shuffled = hyps.clone();
        shuffled.sort_by_key(|h| (hyps.iter().position(|x| x == h).unwrap_or(0) % 5, h.track));
        let interleaved = pairs(jpda_weights(&shuffled, 12, 17, &p));
        assert_eq!(grouped.len(), 72);
        for (a, b) in grouped.iter().zip(&interleaved) {
            assert_eq!((a.0, a.1), (b.0, b.1));
            assert!((a.2 - b.2).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    /// Clusters given by a caller with empty runs, and an empty cluster: they pair nothing, and
    /// the others' weights are as without them.
    #[test]
    fn empty_runs_and_clusters_pair_nothing() {
        let p = JpdaParams::default();
        let hyps = [hyp(0, 0, 1.0), hyp(0, 1, 4.0), hyp(1, 1, 0.5)];
        let whole = jpda_weights_of_clusters([vec![&hyps[..2], &hyps[2..]]], 2, &p);
        let with_empty = jpda_weights_of_clusters(
            [vec![], vec![&hyps[..0], &hyps[..2], &hyps[3..], &hyps[2..]]],
            2,
            &p,
        );
        assert_eq!(whole.len(), 2);
        assert_eq!(whole, with_empty);
    }
}
