#![allow(dead_code)]
use infra::{Catalog, DeploymentSpec, Evaluation, OptionSet, PricingModel, TierId, TierReport};

pub fn catalog() -> Catalog {
    Catalog::embedded().expect("the embedded catalog loads")
}

pub fn evaluate(catalog: &Catalog, tier: TierId) -> Evaluation {
    let options = catalog.tier(tier).default_options.clone();
    catalog.evaluate(&DeploymentSpec::preview(tier, options)).expect("tier evaluates")
}

pub fn report(catalog: &Catalog, tier: TierId, options: OptionSet) -> TierReport {
    catalog
        .report(&DeploymentSpec::preview(tier, options), &catalog.default_usage, true, PricingModel::OnDemand)
        .expect("tier reports")
}
