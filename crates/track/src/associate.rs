//! Data association: gated hypotheses and Global Nearest Neighbour by optimal 2-D assignment
//! (Kuhn–Munkres, from the `pathfinding` crate), solved per independent cluster.
//!
//! Cost of pairing track i with detection j: the negative log-likelihood
//! ½(d²_ij + ln det S_ij); a track may also go unassigned at the cost of a detection on its gate
//! boundary, ½(γ + ln det S_i·), so any gated detection beats a miss when it is the only choice
//! (Blackman & Popoli, *Design and Analysis of Modern Tracking Systems*, §6.5).

use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;

use crate::filter::Innovation;

/// A gated pairing of a track and a detection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hypothesis {
    pub track: usize,
    pub detection: usize,
    pub innovation: Innovation,
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
    // Union-find over tracks and detections joined by a hypothesis.
    let mut parent: Vec<usize> = (0..n_tracks + n_dets).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for h in hyps {
        let a = find(&mut parent, h.track);
        let b = find(&mut parent, n_tracks + h.detection);
        if a != b {
            parent[a] = b;
        }
    }
    let mut clusters: std::collections::BTreeMap<usize, Vec<&Hypothesis>> =
        std::collections::BTreeMap::new();
    for h in hyps {
        let root = find(&mut parent, h.track);
        clusters.entry(root).or_default().push(h);
    }
    for hs in clusters.values() {
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
