//! Generating the `breakup` scenario end to end (trajectory solving, 242 objects flown with
//! drag, 12 sensors observing them): the cost of one Monte Carlo sample of the scale test.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tripoint_sim::scenario::Scenario;
use tripoint_sim::world::run;

fn bench(c: &mut Criterion) {
    let text = include_str!("../../../scenarios/breakup.toml");
    let s = Scenario::from_toml(text).expect("valid scenario");
    let r = run(&s, &mut |_| {}).expect("runs");
    eprintln!(
        "breakup: {} objects, {} detections over {} s simulated",
        r.objects.len(),
        r.detections.len(),
        s.duration_s
    );
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.bench_function("breakup_generate", |b| {
        b.iter(|| black_box(run(black_box(&s), &mut |_| {}).expect("runs")))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
