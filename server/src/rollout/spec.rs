//! The deployment a stored request describes, rebuilt from its typed columns with the catalog this
//! process serves. It fails (with the catalog's reason) when that catalog no longer has the
//! request's options: the rollout then fails with that reason instead of deploying something else.

use infra::render::RenderedPhase;
use infra::{Catalog, DeploymentSpec, DomainName, EnvironmentName, InfraError, Region, TierId};

/// Where and what a stored request deploys.
#[derive(Debug, Clone, Copy)]
pub struct StoredTarget<'a> {
    pub tier: TierId,
    pub options: &'a [String],
    pub environment: &'a EnvironmentName,
    pub region: Region,
    pub domain_name: Option<&'a DomainName>,
}

pub fn stored_spec(catalog: &Catalog, target: StoredTarget<'_>) -> Result<DeploymentSpec, InfraError> {
    Ok(DeploymentSpec {
        tier: target.tier,
        environment: target.environment.clone(),
        region: target.region,
        options: catalog.options(target.tier, Some(target.options))?,
        domain_name: target.domain_name.cloned(),
    })
}

/// The six phases of a stored request, rendered as they will be deployed.
pub fn render_stored(catalog: &Catalog, target: StoredTarget<'_>) -> Result<Vec<RenderedPhase>, InfraError> {
    infra::render::render(catalog, &stored_spec(catalog, target)?)
}
