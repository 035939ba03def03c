//! Propagating one drag-free 30-minute ballistic arc (J2, rotating ECEF) with the tolerances
//! that give ≤ 1 mm error (see `tests/dynamics.rs::thirty_minute_arc_is_accurate_to_a_millimetre`).
//! Target (foundation issue): < 200 µs on the 2-core reference machine.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tripoint_physics::dynamics::{ecef_velocity, BallisticDynamics, ForceModel};
use tripoint_physics::integrator::{Dopri5, Tolerances};
use tripoint_physics::Geodetic;

fn arc_start() -> [f64; 6] {
    let g = Geodetic::from_deg(40.0, 135.0, 400e3).expect("valid");
    let r = g.to_ecef_m();
    let n = g.north_ecef();
    let e = g.east_ecef();
    let s = 7_720.0 / 2f64.sqrt();
    let v = ecef_velocity(r, [s * (n[0] + e[0]), s * (n[1] + e[1]), s * (n[2] + e[2])]);
    [r[0], r[1], r[2], v[0], v[1], v[2]]
}

fn bench(c: &mut Criterion) {
    let y0 = arc_start();
    let f = BallisticDynamics(ForceModel::VACUUM);
    let mut ig = Dopri5::new(Tolerances::PRECISE);
    ig.integrate(&f, 0.0, y0, 1800.0, |_, _| 1.0, |_| {})
        .expect("integrates");
    eprintln!(
        "30-min arc: {} accepted steps, {} rejected, {} force evaluations",
        ig.stats.accepted, ig.stats.rejected, ig.stats.evaluations
    );
    c.bench_function("propagate_30min_arc_1mm", |b| {
        b.iter(|| {
            let mut ig = Dopri5::new(Tolerances::PRECISE);
            black_box(
                ig.integrate(&f, 0.0, black_box(y0), 1800.0, |_, _| 1.0, |_| {})
                    .expect("integrates"),
            )
        })
    });
    c.bench_function("ecef_to_geodetic", |b| {
        let p = tripoint_physics::geodesy::ecef([y0[0], y0[1], y0[2]]);
        b.iter(|| black_box(Geodetic::from_ecef(black_box(&p))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
