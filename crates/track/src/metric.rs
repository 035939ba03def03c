//! Metrics: GOSPA (Rahmathullah, García-Fernández & Svensson, "Generalized optimal
//! sub-pattern assignment metric", FUSION 2017) with p = 1 and α = 2, split into localisation,
//! missed and false parts; position RMSE over assigned pairs.
//!
//! For p = 1, α = 2 and cut-off c: d = min_γ Σ_{(i,j)∈γ} d(x_i, y_j) + c/2 · (|X| + |Y| − 2|γ|),
//! where only pairs closer than c may be assigned. Solved with the optimal assignment on
//! min(d, c) (a pair at ≥ c costs the same as one miss plus one false track).

use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;
use serde::Serialize;

/// GOSPA at one time step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Gospa {
    pub total: f64,
    pub localisation: f64,
    pub missed: f64,
    pub false_: f64,
    /// Sum of squared distances of assigned pairs and their count (for RMSE).
    pub sq_error_sum: f64,
    pub assigned: usize,
}

/// GOSPA (p = 1, α = 2) between truth and track positions.
pub fn gospa(truth: &[[f64; 3]], tracks: &[[f64; 3]], c: f64) -> Gospa {
    let (m, n) = (truth.len(), tracks.len());
    let mut g = Gospa::default();
    if m == 0 || n == 0 {
        g.missed = c / 2.0 * m as f64;
        g.false_ = c / 2.0 * n as f64;
        g.total = g.missed + g.false_;
        return g;
    }
    let dist = |a: &[f64; 3], b: &[f64; 3]| {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    };
    // Rows must not outnumber columns.
    let (rows, cols) = if m <= n {
        (truth, tracks)
    } else {
        (tracks, truth)
    };
    let scale = 1e6 / c;
    let data: Vec<i64> = rows
        .iter()
        .flat_map(|r| {
            cols.iter()
                .map(move |k| (dist(r, k).min(c) * scale).round() as i64)
        })
        .collect();
    let Ok(mat) = Matrix::from_vec(rows.len(), cols.len(), data) else {
        return g;
    };
    let (_, assign) = kuhn_munkres_min(&mat);
    let mut pairs = 0usize;
    for (i, &j) in assign.iter().enumerate() {
        let d = dist(&rows[i], &cols[j]);
        if d < c {
            g.localisation += d;
            g.sq_error_sum += d * d;
            pairs += 1;
        }
    }
    g.assigned = pairs;
    g.missed = c / 2.0 * (m - pairs) as f64;
    g.false_ = c / 2.0 * (n - pairs) as f64;
    g.total = g.localisation + g.missed + g.false_;
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gospa_parts_add_up_and_respect_the_cut_off() {
        let truth = [[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [1e6, 0.0, 0.0]];
        let tracks = [
            [3.0, 4.0, 0.0],
            [100.0, 0.0, 12.0],
            [5e5, 0.0, 0.0],
            [7e5, 0.0, 0.0],
        ];
        let g = gospa(&truth, &tracks, 1000.0);
        assert!((g.localisation - 17.0).abs() < 1e-3);
        assert!((g.missed - 500.0).abs() < 1e-9);
        assert!((g.false_ - 1000.0).abs() < 1e-9);
        assert!((g.total - 1517.0).abs() < 1e-3);
        assert_eq!(gospa(&[], &tracks, 10.0).false_, 20.0);
        assert_eq!(gospa(&truth, &[], 10.0).missed, 15.0);
    }

    #[test]
    fn gospa_is_a_metric_on_small_sets() {
        let a = [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]];
        let b = [[1.0, 0.0, 0.0]];
        let c = [[0.0, 2.0, 0.0], [10.0, 1.0, 0.0], [50.0, 0.0, 0.0]];
        let d = |x: &[[f64; 3]], y: &[[f64; 3]]| gospa(x, y, 20.0).total;
        assert_eq!(d(&a, &a), 0.0);
        assert!((d(&a, &b) - d(&b, &a)).abs() < 1e-6);
        assert!(d(&a, &c) <= d(&a, &b) + d(&b, &c) + 1e-6);
    }
}
