//! Minimal 3-vector helpers on `[f64; 3]` for the integrator's hot loop, where raw numbers in
//! ECEF metres are unavoidable (see DESIGN §4).

#[inline]
pub fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
#[inline]
pub fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
#[inline]
pub fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}
#[inline]
pub fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
#[inline]
pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
#[inline]
pub fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}
#[inline]
pub fn unit(a: [f64; 3]) -> [f64; 3] {
    let n = norm(a);
    if n > 0.0 {
        scale(a, 1.0 / n)
    } else {
        a
    }
}
/// Splits a 6-state into position and velocity.
#[inline]
pub fn split(y: &[f64; 6]) -> ([f64; 3], [f64; 3]) {
    ([y[0], y[1], y[2]], [y[3], y[4], y[5]])
}
/// Joins position and velocity into a 6-state.
#[inline]
pub fn join(r: [f64; 3], v: [f64; 3]) -> [f64; 6] {
    [r[0], r[1], r[2], v[0], v[1], v[2]]
}
