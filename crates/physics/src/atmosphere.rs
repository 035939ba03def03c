//! US Standard Atmosphere 1976 density.
//!
//! Below 86 km: the seven-layer hydrostatic model on geopotential altitude (NOAA-S/T 76-1562,
//! Table 4). From 86 km to 1000 km: log-linear interpolation of the standard's tabulated densities
//! (Table 1), which is within a few per cent of the full model and ample for drag on ballistic
//! objects; above 1000 km the last scale height is extended.

/// Effective Earth radius for geopotential altitude (m), USSA-76.
const R0_M: f64 = 6_356_766.0;
/// Air molar mass over the universal gas constant, M0/R* (kg·K/J).
const M_OVER_R: f64 = 0.028_964_4 / 8.314_32;
const G0: f64 = 9.806_65;

/// Layer bases: geopotential altitude (m), temperature (K), pressure (Pa), lapse rate (K/m).
const LAYERS: [(f64, f64, f64, f64); 7] = [
    (0.0, 288.15, 101_325.0, -0.0065),
    (11_000.0, 216.65, 22_632.06, 0.0),
    (20_000.0, 216.65, 5_474.889, 0.001),
    (32_000.0, 228.65, 868.018_7, 0.0028),
    (47_000.0, 270.65, 110.906_3, 0.0),
    (51_000.0, 270.65, 66.938_87, -0.0028),
    (71_000.0, 214.65, 3.956_42, -0.002),
];

/// Geometric altitude (m) and density (kg/m³) from USSA-76 Table 1, 86–1000 km.
const UPPER: [(f64, f64); 12] = [
    (86_000.0, 6.958e-6),
    (90_000.0, 3.416e-6),
    (100_000.0, 5.604e-7),
    (110_000.0, 9.708e-8),
    (120_000.0, 2.222e-8),
    (150_000.0, 2.076e-9),
    (200_000.0, 2.541e-10),
    (300_000.0, 1.916e-11),
    (400_000.0, 2.803e-12),
    (500_000.0, 5.215e-13),
    (700_000.0, 3.070e-14),
    (1_000_000.0, 3.561e-15),
];

/// Spacing of the density table below 86 km, in geopotential metres. Every layer base is a
/// multiple of it, so no interval straddles a change of lapse rate, and linear interpolation
/// of ρ itself (no `exp`) is within (Δh/H)²/8 ≈ 1.3·10⁻⁶ of the formula (scale height H ≥ 6.1 km).
const STEP_M: f64 = 20.0;
/// Geopotential altitude of the table's first node (m), below that of −1 km geometric.
const TABLE_BASE_M: f64 = -1_040.0;

/// The density table below 86 km, and for each interval above it (USSA-76 Table 1) its base,
/// density and inverse scale height.
struct Tables {
    lower: Vec<f64>,
    upper: [(f64, f64, f64); 11],
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let top_hp = R0_M * UPPER[0].0 / (R0_M + UPPER[0].0);
        let n = ((top_hp - TABLE_BASE_M) / STEP_M).ceil() as usize + 2;
        let lower = (0..n)
            .map(|i| hydrostatic_kg_m3(TABLE_BASE_M + i as f64 * STEP_M))
            .collect();
        let upper = std::array::from_fn(|i| {
            let (h0, d0) = UPPER[i];
            let (h1, d1) = UPPER[i + 1];
            (h0, d0, (d0 / d1).ln() / (h1 - h0))
        });
        Tables { lower, upper }
    })
}

/// The seven-layer hydrostatic model at geopotential altitude `hp` (m).
fn hydrostatic_kg_m3(hp: f64) -> f64 {
    let mut layer = LAYERS[0];
    for l in LAYERS.iter().rev() {
        if hp >= l.0 {
            layer = *l;
            break;
        }
    }
    let (hb, tb, pb, lapse) = layer;
    let dh = hp - hb;
    let (t, p) = if lapse == 0.0 {
        (tb, pb * (-G0 * M_OVER_R * dh / tb).exp())
    } else {
        let t = tb + lapse * dh;
        (t, pb * (tb / t).powf(G0 * M_OVER_R / lapse))
    };
    p * M_OVER_R / t
}

/// [`density_kg_m3`] tabulated once: within 1.3·10⁻⁶ of the formulas (test), at a few
/// nanoseconds (the formula's `powf` was most of the cost of an estimator's ballistic flight).
/// For the tracker's models and the products' flights; the simulator's truth keeps the
/// formulas.
#[inline]
pub fn density_table_kg_m3(h_m: f64) -> f64 {
    let t = tables();
    let h_m = h_m.max(-1_000.0);
    if h_m < UPPER[0].0 {
        let hp = R0_M * h_m / (R0_M + h_m);
        let u = ((hp - TABLE_BASE_M) / STEP_M).max(0.0);
        let i = (u as usize).min(t.lower.len() - 2);
        let f = u - i as f64;
        t.lower[i] + (t.lower[i + 1] - t.lower[i]) * f
    } else {
        let i = t
            .upper
            .iter()
            .position(|s| h_m < s.0)
            .map_or(t.upper.len() - 1, |k| k.saturating_sub(1));
        let (h0, d0, inv_h) = t.upper[i];
        d0 * (-(h_m - h0) * inv_h).exp()
    }
}

/// Air density (kg/m³) at geometric altitude `h_m` above the ellipsoid, from the formulas (a
/// `powf` below 86 km; [`density_table_kg_m3`] is the fast tabulation). Below −1 km the value
/// at −1 km is returned (objects are stopped at the surface anyway).
pub fn density_kg_m3(h_m: f64) -> f64 {
    let h_m = h_m.max(-1_000.0);
    if h_m < UPPER[0].0 {
        hydrostatic_kg_m3(R0_M * h_m / (R0_M + h_m))
    } else {
        let i = UPPER
            .windows(2)
            .position(|w| h_m < w[1].0)
            .unwrap_or(UPPER.len() - 2);
        let (h0, d0) = UPPER[i];
        let (h1, d1) = UPPER[i + 1];
        let scale_height = (h1 - h0) / (d0 / d1).ln();
        d0 * (-(h_m - h0) / scale_height).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference densities at geometric altitudes from the USSA-76 tables (NOAA-S/T 76-1562,
    /// Table 1).
    #[test]
    fn matches_standard_tables() {
        for (h, rho) in [
            (0.0, 1.2250),
            (5_000.0, 0.73643),
            (11_000.0, 0.36480),
            (20_000.0, 0.088_910),
            (30_000.0, 0.018_410),
            (50_000.0, 0.001_027_0),
            (70_000.0, 8.282_9e-5),
            (80_000.0, 1.845_8e-5),
            (100_000.0, 5.604e-7),
            (250_000.0, 6.073e-11),
        ] {
            let got = density_kg_m3(h);
            let rel = (got - rho).abs() / rho;
            let tol = if h <= 86_000.0 { 2e-3 } else { 0.25 };
            assert!(rel < tol, "h={h} got {got} want {rho} rel {rel}");
        }
    }

    /// The table against the formulas, every 7 m (off the grid) from −1 km to 2,000 km.
    #[test]
    fn table_matches_the_formulas() {
        let mut worst: (f64, f64) = (0.0, 0.0);
        let mut h = -1_000.0;
        while h < 2.0e6 {
            let (a, b) = (density_table_kg_m3(h), density_kg_m3(h));
            let rel = (a - b).abs() / b;
            if rel > worst.0 {
                worst = (rel, h);
            }
            h += 7.0;
        }
        assert!(
            worst.0 < 1.5e-6,
            "table off by {:.2e} at {} m",
            worst.0,
            worst.1
        );
    }

    #[test]
    fn density_decreases_monotonically_and_stays_positive() {
        let mut last = f64::INFINITY;
        let mut h = -1000.0;
        while h < 2.0e6 {
            let d = density_kg_m3(h);
            assert!(d > 0.0 && d < last, "h={h}");
            last = d;
            h += 250.0;
        }
    }
}
