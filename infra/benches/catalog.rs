//! Evaluate, cost, diagram and security posture of one tier (Full Production, the largest).

use criterion::{criterion_group, criterion_main, Criterion};
use infra::{Catalog, DeploymentSpec, EstimateOptions, PricingModel, TierId};

fn benches(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("catalog");
    let spec = DeploymentSpec::preview(TierId::FullProduction, Default::default());
    let evaluation = catalog.evaluate(&spec).expect("evaluates");
    let report = catalog.report(&spec, &catalog.default_usage, true, PricingModel::OnDemand).expect("reports");
    let options = EstimateOptions { pricing: PricingModel::OnDemand, free_tier: true, compare_with_seed: true };

    c.bench_function("load catalog (parse 6 templates, 3 tiers, prices)", |b| {
        b.iter(|| Catalog::embedded().expect("catalog"))
    });
    c.bench_function("evaluate full-production", |b| b.iter(|| catalog.evaluate(&spec).expect("evaluates")));
    // Low, typical and high usage: three pricings of the same evaluation.
    c.bench_function("cost full-production (with its range)", |b| {
        b.iter(|| infra::estimate(&evaluation, &catalog.prices, &catalog.usage_range, options))
    });
    c.bench_function("diagram full-production", |b| b.iter(|| catalog.diagram(&report)));
    c.bench_function("posture full-production", |b| b.iter(|| infra::Posture::of(&evaluation)));
}

criterion_group!(catalog_benches, benches);
criterion_main!(catalog_benches);
