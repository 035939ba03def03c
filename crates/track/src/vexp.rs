//! e^x over a slice, four lanes at a time with the same operations in each lane (a loop the
//! compiler vectorises; glibc's `exp` is a call per number). For the association weights and
//! the PDA likelihoods of a debris cloud, ~100 000 exponentials a batch.
//!
//! Cody–Waite reduction x = k ln 2 + r, |r| ≤ ½ ln 2 (ln 2 split in two so k ln2_hi is exact),
//! e^r by its Taylor series to r¹³ (truncation below 5·10⁻¹⁸ relative) in fused multiply-adds
//! (Horner's scheme), then 2^k built in the
//! exponent bits in two factors so results near under- and overflow come out right (Muller,
//! *Elementary Functions*, 3rd ed., §11.1). Within 2 ulp of a correctly rounded e^x over the
//! whole range (tested against the standard library's); ±∞ and NaN as `f64::exp`.
//!
//! A fused multiply-add is one correctly rounded operation wherever it runs (`f64::mul_add`:
//! the instruction where the CPU has it, else the C library's `fma`), so every machine gets
//! the same bits: a recorded run replays exactly on another. About 2.6× glibc's `exp` on this
//! machine's AVX2 (criterion, `kernels`, "exp: 256").

/// 1.5·2⁵²: added to a double of magnitude below 2⁵¹, rounds it to an integer (ties to even),
/// left in the low bits of the sum.
const ROUND: f64 = 6_755_399_441_055_744.0;
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

/// 1/n! for n = 0..=13, for Horner's scheme from the top.
const INV_FACT: [f64; 14] = {
    let mut c = [1.0; 14];
    let mut n = 1;
    while n < 14 {
        c[n] = c[n - 1] / n as f64;
        n += 1;
    }
    c
};

/// 2^k for an integral double k with −1022 ≤ k ≤ 1023, from its exponent bits.
#[inline(always)]
fn pow2(k: f64) -> f64 {
    let i = (k + ROUND).to_bits().wrapping_sub(ROUND.to_bits());
    f64::from_bits(i.wrapping_add(1023) << 52)
}

/// e^x of four lanes, each step a loop over the lanes (what the vectoriser takes whole).
#[inline(always)]
fn exp_lanes(x: [f64; 4]) -> [f64; 4] {
    let mut x = x;
    for v in &mut x {
        // Past these e^x is 0 or ∞ in doubles; a NaN stays NaN.
        *v = v.clamp(-746.0, 710.0);
    }
    let mut k = [0.0; 4];
    let mut r = [0.0; 4];
    for l in 0..4 {
        k[l] = (x[l] * std::f64::consts::LOG2_E + ROUND) - ROUND;
        r[l] = (-k[l]).mul_add(LN2_LO, (-k[l]).mul_add(LN2_HI, x[l]));
    }
    let mut p = [INV_FACT[13]; 4];
    for c in INV_FACT[..13].iter().rev() {
        for l in 0..4 {
            p[l] = p[l].mul_add(r[l], *c);
        }
    }
    // k in [−1077, 1025]: 2^k as 2^a · 2^b with a clamped to the normal range.
    let mut out = [0.0; 4];
    for l in 0..4 {
        let a = k[l].clamp(-1000.0, 1000.0);
        out[l] = (p[l] * pow2(a)) * pow2(k[l] - a);
    }
    out
}

/// Replaces each element of `v` by its exponential.
pub fn exp_in_place(v: &mut [f64]) {
    exp_shifted_in_place_f64(v, 0.0);
}

/// Replaces each element `x` of `v` by e^(x − `shift`).
pub fn exp_shifted_in_place_f64(v: &mut [f64], shift: f64) {
    with_avx2(v, shift, |x| *x, |x, y| *x = y);
}

/// Replaces each pair's number `l` by e^(l − `shift`) (the association's likelihood ratios, kept
/// beside their detection's index).
pub fn exp_shifted_in_place(v: &mut [(usize, f64)], shift: f64) {
    with_avx2(v, shift, |p| p.1, |p, y| p.1 = y);
}

/// Runs [`map_exp`] in 256-bit registers with fused multiply-add instructions when the CPU has
/// AVX2 and FMA: the same operations, so the same bits as the baseline build's (whose
/// `mul_add`s are calls), four at a time.
#[inline(always)]
fn with_avx2<T>(
    v: &mut [T],
    shift: f64,
    get: impl Fn(&T) -> f64 + Copy,
    set: impl Fn(&mut T, f64) + Copy,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn avx2<T>(
            v: &mut [T],
            shift: f64,
            get: impl Fn(&T) -> f64 + Copy,
            set: impl Fn(&mut T, f64) + Copy,
        ) {
            map_exp(v, shift, get, set);
        }
        // SAFETY: the CPU has AVX2 and FMA (checked just above), all the function asks of it.
        unsafe { avx2(v, shift, get, set) };
        return;
    }
    map_exp(v, shift, get, set);
}

/// Sets each element's number to e^(its number − `shift`), four lanes at a time.
#[inline(always)]
fn map_exp<T>(
    v: &mut [T],
    shift: f64,
    get: impl Fn(&T) -> f64 + Copy,
    set: impl Fn(&mut T, f64) + Copy,
) {
    let mut chunks = v.chunks_exact_mut(4);
    for c in &mut chunks {
        let y = exp_lanes([
            get(&c[0]) - shift,
            get(&c[1]) - shift,
            get(&c[2]) - shift,
            get(&c[3]) - shift,
        ]);
        for (e, y) in c.iter_mut().zip(y) {
            set(e, y);
        }
    }
    let rest = chunks.into_remainder();
    let mut x = [0.0; 4];
    for (x, e) in x.iter_mut().zip(rest.iter()) {
        *x = get(e) - shift;
    }
    let y = exp_lanes(x);
    for (e, y) in rest.iter_mut().zip(y) {
        set(e, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite doubles of one sign (or both 0).
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    #[test]
    fn agrees_with_the_standard_library_to_two_ulp_over_the_whole_range() {
        // A dense sweep of the range, the reduction's boundaries (odd multiples of ½ ln 2) and
        // the edges of the subnormal and overflow ranges.
        let mut xs: Vec<f64> = (0..200_001)
            .map(|i| -745.0 + 1454.7 * i as f64 / 200_000.0)
            .collect();
        for k in -1080..1030 {
            let b = (k as f64 + 0.5) * std::f64::consts::LN_2;
            xs.extend([b.next_down(), b, b.next_up()]);
        }
        xs.extend([
            0.0, -0.0, 1e-300, -1e-300, 1e-10, -1e-10, 709.78, 709.7827, -708.39,
        ]);
        xs.extend([-744.44, -745.13, -745.1332191019412, -745.2, 709.79]);
        let mut v = xs.clone();
        exp_in_place(&mut v);
        let mut worst = (0, 0.0);
        for (&x, &y) in xs.iter().zip(&v) {
            let want = x.exp();
            // Subnormal results carry fewer significant bits: compared absolutely.
            let err = if want.is_finite() {
                ulps(y, want)
            } else {
                u64::from(y != want) * u64::MAX
            };
            if err > worst.0 {
                worst = (err, x);
            }
        }
        assert!(worst.0 <= 2, "{} ulp at x = {}", worst.0, worst.1);
    }

    #[test]
    fn every_cpu_gets_the_same_bits() {
        // The AVX2 and FMA path (where the CPU has them) against the baseline loop, on one
        // sweep.
        let xs: Vec<f64> = (0..10_007).map(|i| -745.0 + 0.1454 * i as f64).collect();
        let mut fast = xs.clone();
        exp_in_place(&mut fast);
        let mut base = xs.clone();
        map_exp(&mut base, 0.0, |x| *x, |x, y| *x = y);
        assert!(fast
            .iter()
            .zip(&base)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn infinities_and_nan_come_out_as_from_the_standard_library() {
        let mut v = [f64::NEG_INFINITY, f64::INFINITY, f64::NAN, -1e308, 1e308];
        exp_in_place(&mut v);
        assert_eq!(v[0], 0.0);
        assert_eq!(v[1], f64::INFINITY);
        assert!(v[2].is_nan());
        assert_eq!(v[3], 0.0);
        assert_eq!(v[4], f64::INFINITY);
        let mut four = [0.0, 1.0, -1.0, f64::NAN];
        exp_in_place(&mut four);
        let mut pairs = [(7, 1.5), (8, 0.5), (9, -1.0), (10, 2.5), (11, 0.5)];
        exp_shifted_in_place(&mut pairs, 0.5);
        for ((d, y), x) in pairs.iter().zip([1.0f64, 0.0, -1.5, 2.0, 0.0]) {
            assert!(ulps(*y, x.exp()) <= 2, "e^{x} of detection {d}: {y}");
        }
        assert_eq!(pairs.map(|p| p.0), [7, 8, 9, 10, 11]);
        assert_eq!(four[0], 1.0);
        assert!(ulps(four[1], std::f64::consts::E) <= 1);
        assert!(four[3].is_nan());
    }
}
