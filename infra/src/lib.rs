//! The deployment domain of the Concert Platform portal, with no I/O.
//!
//! Texts in (CloudFormation templates, tier files, prices, usage), concrete
//! resources, cost lines and an SVG diagram out. The same evaluated resources
//! feed both the cost and the diagram, so the two can never disagree.

pub mod catalog;
pub mod cost;
pub mod diagram;
pub mod domain;
pub mod error;
pub mod eval;
pub mod graph;
pub mod phase;
pub mod posture;
pub mod pricing;
pub mod render;
pub mod template;
pub mod tier;
pub mod value;
pub mod version;

pub use catalog::{Catalog, Evaluation, Sources};
pub use cost::{estimate, Commitment, CostLine, Estimate, EstimateOptions, UsdRange};
pub use domain::{
    AccountId, DeploymentSpec, DomainName, EnvironmentName, OptionSet, Region, RoleArn, ServiceOption, TierId,
};
pub use error::{InfraError, TemplateProblem};
pub use graph::PhaseGraph;
pub use phase::Phase;
pub use posture::Posture;
pub use pricing::{PricingModel, Usage, UsageRange};
pub use tier::Tier;
pub use version::CatalogVersion;

/// Everything a tier page shows, computed from one evaluation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TierReport {
    pub tier: Tier,
    pub evaluation: Evaluation,
    pub estimate: Estimate,
    /// The typical usage and the range around it the estimate was priced at.
    pub usage: UsageRange,
}

impl Catalog {
    /// Evaluates a spec and prices it with one pricing model, at `usage` and the range around it.
    pub fn report(
        &self,
        spec: &DeploymentSpec,
        usage: &Usage,
        free_tier: bool,
        pricing: PricingModel,
    ) -> Result<TierReport, InfraError> {
        let tier = self.tier(spec.tier).clone();
        let evaluation = self.evaluate(spec)?;
        let usage = self.usage_range.around(usage);
        let estimate = cost::estimate(
            &evaluation,
            &self.prices,
            &usage,
            EstimateOptions { pricing, free_tier, compare_with_seed: spec.tier == TierId::FullProduction },
        );
        Ok(TierReport { tier, evaluation, estimate, usage })
    }

    /// The deployment priced with a sleep schedule (awake `awake_share` of the week), by the same
    /// cost model: see [`cost::sleep`].
    pub fn sleep_estimate(
        &self,
        spec: &DeploymentSpec,
        usage: &Usage,
        free_tier: bool,
        awake_share: f64,
    ) -> Result<cost::sleep::SleepEstimate, InfraError> {
        // On-demand: a reservation bills its hours whether the instance runs or not, so only
        // on-demand hours are saved by sleeping.
        let options = EstimateOptions { pricing: PricingModel::OnDemand, free_tier, compare_with_seed: false };
        let awake_evaluation = self.evaluate(spec)?;
        let usage = UsageRange::exact(usage);
        let awake = cost::estimate(&awake_evaluation, &self.prices, &usage, options);
        let asleep_evaluation = self.evaluate_with(spec, &cost::sleep::ASLEEP_PARAMETERS)?;
        let mut asleep = cost::estimate(&asleep_evaluation, &self.prices, &usage, options);
        let database_stops = cost::sleep::database_can_stop(&awake_evaluation);
        if database_stops {
            cost::sleep::stop_database(&mut asleep);
        }
        Ok(cost::sleep::sleep_estimate(&awake, &asleep, awake_share, database_stops))
    }

    /// The diagram of a report's evaluation.
    pub fn diagram(&self, report: &TierReport) -> String {
        let priced =
            report.estimate.lines.iter().map(|l| value::ResourceKey::new(l.phase, l.resource.clone())).collect();
        diagram::render_svg(&report.evaluation, &format!("{} architecture", report.tier.name), &priced)
    }
}
