//! An estimate's pricing models and commitments as the pages show them: every model's total,
//! what a commitment commits to, and when an environment is offered one at all.

use app::model::{AfterTeardownView, Pricing, PricingTotal, UsdRangeView};
use infra::{Estimate, PricingModel, UsdRange};

/// The pages' pricing model as the cost model's.
pub fn pricing_model(pricing: Pricing) -> PricingModel {
    match pricing {
        Pricing::OnDemand => PricingModel::OnDemand,
        Pricing::Reserved => PricingModel::Reserved,
        Pricing::SavingsPlan => PricingModel::SavingsPlan,
    }
}

pub(super) fn pricing_view(model: PricingModel) -> Pricing {
    match model {
        PricingModel::OnDemand => Pricing::OnDemand,
        PricingModel::Reserved => Pricing::Reserved,
        PricingModel::SavingsPlan => Pricing::SavingsPlan,
    }
}

pub fn range_view(r: UsdRange) -> UsdRangeView {
    UsdRangeView { low: r.low, typical: r.typical, high: r.high }
}

/// Every pricing model's total of an estimate, on-demand first.
pub fn alternatives(estimate: &Estimate) -> Vec<PricingTotal> {
    let on_demand = PricingTotal {
        pricing: Pricing::OnDemand,
        monthly_usd: estimate.on_demand_monthly_usd,
        saving_monthly_usd: 0.0,
        committed_total_usd: 0.0,
        term_months: 0,
        covers: String::new(),
    };
    std::iter::once(on_demand)
        .chain(estimate.commitments.iter().map(|c| PricingTotal {
            pricing: pricing_view(c.model),
            monthly_usd: c.monthly_usd,
            saving_monthly_usd: c.saving_monthly_usd,
            committed_total_usd: c.committed_total_usd,
            term_months: c.term_months,
            covers: c.covers.clone(),
        }))
        .collect()
}

/// The commitments to offer an environment that lives `lives_minutes` (none: until torn down),
/// with the caveat to show: none when it expires before a commitment's term ends (a reservation
/// would be billed for the months after its teardown).
pub fn offered_commitments(estimate: &Estimate, lives_minutes: Option<i64>) -> (Vec<PricingTotal>, Option<String>) {
    let commitments: Vec<PricingTotal> =
        alternatives(estimate).into_iter().filter(|a| a.pricing.is_commitment()).collect();
    let term_minutes = commitments.iter().map(|c| i64::from(c.term_months) * 730 * 60).max().unwrap_or(0);
    match lives_minutes {
        Some(lives) if lives < term_minutes => (
            Vec::new(),
            Some(format!(
                "No commitment is shown: the environment expires after {}, before a 1-year term ends, and a \
                 reservation or Savings Plan would be billed for the months after its teardown.",
                crate::environments::policy::Minutes(lives)
            )),
        ),
        _ if commitments.is_empty() => (Vec::new(), None),
        _ => (
            commitments,
            Some(
                "A 1-year commitment is billed for all 12 months, even after the portal tears the environment down."
                    .to_owned(),
            ),
        ),
    }
}

pub fn after_teardown(estimate: &Estimate) -> Vec<AfterTeardownView> {
    estimate
        .after_teardown
        .iter()
        .map(|l| AfterTeardownView {
            resource: l.resource.clone(),
            description: l.description.clone(),
            monthly_usd: l.monthly_usd,
        })
        .collect()
}
