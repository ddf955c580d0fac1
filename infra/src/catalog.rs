//! The catalog: the six templates, the three tiers, prices and usage defaults,
//! parsed once and evaluated on demand.

use indexmap::IndexMap;
use serde::Serialize;

use crate::domain::{DeploymentSpec, OptionSet, ServiceOption, TierId};
use crate::error::{InfraError, Result};
use crate::eval::{evaluate_template, specialize_template, EvalContext, EvaluatedPhase, EvaluatedResource};
use crate::phase::Phase;
use crate::pricing::{upgrade_stored_usage, PriceCatalog, Usage, UsageRange};
use crate::template::Template;
use crate::tier::Tier;
use crate::value::{ResourceKey, Value};
use crate::version::{self, CatalogVersion};

/// Texts of the data files, as compiled into the binary.
pub mod embedded {
    pub const TEMPLATES: [(&str, &str); 6] = [
        ("1-network.yaml", include_str!("../templates/1-network.yaml")),
        ("2-data.yaml", include_str!("../templates/2-data.yaml")),
        ("3-compute.yaml", include_str!("../templates/3-compute.yaml")),
        ("4-auth.yaml", include_str!("../templates/4-auth.yaml")),
        ("5-cdn.yaml", include_str!("../templates/5-cdn.yaml")),
        ("6-serverless.yaml", include_str!("../templates/6-serverless.yaml")),
    ];
    pub const TIERS: [(&str, &str); 3] = [
        ("development.toml", include_str!("../tiers/development.toml")),
        ("production-lite.toml", include_str!("../tiers/production-lite.toml")),
        ("full-production.toml", include_str!("../tiers/full-production.toml")),
    ];
    pub const PRICES: (&str, &str) = ("us-east-1.toml", include_str!("../pricing/us-east-1.toml"));
    pub const USAGE: (&str, &str) = ("usage.toml", include_str!("../pricing/usage.toml"));
    pub const CHANGELOG: (&str, &str) = ("catalog.toml", include_str!("../catalog.toml"));
}

/// The texts a catalog is built from; tests hand over edited copies.
#[derive(Debug, Clone)]
pub struct Sources {
    pub templates: Vec<(String, String)>,
    pub tiers: Vec<(String, String)>,
    pub prices: (String, String),
    pub usage: (String, String),
    /// The versions released so far (`catalog.toml`): not part of the digest.
    pub changelog: (String, String),
}

impl Sources {
    pub fn embedded() -> Sources {
        let own = |(f, t): (&str, &str)| (f.to_owned(), t.to_owned());
        Sources {
            templates: embedded::TEMPLATES.into_iter().map(own).collect(),
            tiers: embedded::TIERS.into_iter().map(own).collect(),
            prices: own(embedded::PRICES),
            usage: own(embedded::USAGE),
            changelog: own(embedded::CHANGELOG),
        }
    }

    /// Replaces one template's text, keeping its file name.
    pub fn with_template(mut self, phase: Phase, text: impl Into<String>) -> Sources {
        if let Some(slot) = self.templates.get_mut(phase as usize) {
            slot.1 = text.into();
        }
        self
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub templates: Vec<Template>,
    pub tiers: Vec<Tier>,
    pub prices: PriceCatalog,
    /// The typical usage of [`Catalog::usage_range`]: what a request starts from.
    pub default_usage: Usage,
    pub usage_range: UsageRange,
    /// What went in, so rendering and digests use exactly what was reviewed.
    pub sources: Sources,
    /// [`version::digest`] of the sources: what approvals are bound to.
    pub digest: String,
    /// Released versions, newest first.
    pub versions: Vec<CatalogVersion>,
}

/// Every phase of one deployment, evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub spec: DeploymentSpec,
    pub phases: Vec<EvaluatedPhase>,
}

impl Evaluation {
    pub fn resources(&self) -> impl Iterator<Item = &EvaluatedResource> {
        self.phases.iter().flat_map(|p| p.resources.iter())
    }

    pub fn resource(&self, key: &ResourceKey) -> Option<&EvaluatedResource> {
        self.phases.get(key.phase as usize)?.resources.iter().find(|r| r.key.logical_id == key.logical_id)
    }

    /// The resource a value points at (`Ref`/`GetAtt`), if it is one of ours.
    pub fn target(&self, value: Option<&Value>) -> Option<&EvaluatedResource> {
        self.resource(value?.resource()?)
    }

    pub fn of_type<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = &'a EvaluatedResource> + 'a {
        self.resources().filter(move |r| r.resource_type == resource_type)
    }
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn embedded() -> Result<Catalog> {
        Catalog::from_sources(Sources::embedded())
    }

    pub fn from_sources(sources: Sources) -> Result<Catalog> {
        if sources.templates.len() != Phase::ALL.len() {
            return Err(InfraError::data(
                "templates",
                "(count)",
                format!("expected {} templates, one per phase", Phase::ALL.len()),
            ));
        }
        let templates = Phase::ALL
            .iter()
            .zip(&sources.templates)
            .map(|(phase, (file, text))| Template::parse(file, *phase, text))
            .collect::<Result<Vec<_>>>()?;
        let declared = |name: &str| templates.iter().any(|t| t.parameters.contains_key(name));
        let mut tiers = Vec::new();
        for (file, text) in &sources.tiers {
            let tier = Tier::parse(file, text, &declared)?;
            if tiers.iter().any(|t: &Tier| t.id == tier.id) {
                return Err(InfraError::data(file, "id", format!("tier `{}` is defined twice", tier.id)));
            }
            tiers.push(tier);
        }
        for id in TierId::ALL {
            if !tiers.iter().any(|t| t.id == id) {
                return Err(InfraError::data("tiers", id.as_str(), "no tier file defines this tier"));
            }
        }
        tiers.sort_by_key(|t| t.id);
        let prices = PriceCatalog::parse(&sources.prices.0, &sources.prices.1)?;
        let usage_range = UsageRange::parse(&sources.usage.0, &sources.usage.1)?;
        let default_usage = usage_range.typical.clone();
        let versions = version::parse_changelog(&sources.changelog.0, &sources.changelog.1)?;
        let digest = version::digest(&sources);
        Ok(Catalog { templates, tiers, prices, default_usage, usage_range, sources, digest, versions })
    }

    /// The version a digest was released as, if the changelog names it.
    pub fn version_of(&self, digest: &str) -> Option<&CatalogVersion> {
        self.versions.iter().find(|v| v.digest == digest)
    }

    /// A digest's version name: the changelog's, or `unversioned-<digest>` for one it does not name.
    pub fn version_name(&self, digest: &str) -> String {
        self.version_of(digest).map_or_else(|| version::unversioned(digest), |v| v.version.clone())
    }

    /// This catalog's version name.
    pub fn version(&self) -> String {
        self.version_name(&self.digest)
    }

    pub fn tier(&self, id: TierId) -> &Tier {
        // from_sources guarantees one tier per id.
        self.tiers.iter().find(|t| t.id == id).unwrap_or(&self.tiers[0])
    }

    /// The options a request switches on: the tier's own when it names none.
    pub fn options(&self, tier: TierId, requested: Option<&[String]>) -> Result<OptionSet> {
        match requested {
            None => Ok(self.tier(tier).default_options.clone()),
            Some(names) => names.iter().map(|o| o.parse()).collect(),
        }
    }

    /// The default usage assumptions with some of them changed.
    pub fn usage<'a>(&self, changes: impl IntoIterator<Item = (&'a str, f64)>) -> Result<Usage> {
        let mut usage = self.default_usage.clone();
        for (key, value) in changes {
            usage.set(key, value)?;
        }
        Ok(usage)
    }

    /// The usage a request stored (under this or an earlier catalog version's keys), in today's keys.
    pub fn stored_usage<'a>(&self, stored: impl IntoIterator<Item = (&'a str, f64)>) -> Result<Usage> {
        let upgraded = upgrade_stored_usage(stored);
        self.usage(upgraded.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    /// All template parameter values of a deployment, as CloudFormation will receive them.
    pub fn parameters(&self, spec: &DeploymentSpec) -> IndexMap<String, String> {
        let tier = self.tier(spec.tier);
        let mut params = tier.parameters.clone();
        params.insert("EnvironmentName".into(), spec.environment.as_str().to_owned());
        for option in ServiceOption::ALL {
            params.insert(option.parameter().into(), spec.options.contains(&option).to_string());
        }
        params
            .insert("DomainName".into(), spec.domain_name.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default());
        params
    }

    /// Each phase's template narrowed to one deployment (conditions decided, see
    /// [`specialize_template`]), in phase order: what policy checks read.
    pub fn specialize(&self, spec: &DeploymentSpec) -> Result<Vec<(Phase, serde_json::Value)>> {
        let params = self.parameters(spec);
        let zones = spec.region.availability_zones();
        let exports = IndexMap::new();
        self.templates
            .iter()
            .map(|template| {
                let ctx = context(spec, template, &zones, &exports);
                Ok((template.phase, specialize_template(template, &params, &ctx)?))
            })
            .collect()
    }

    /// Evaluates the six templates in order, each seeing the exports of those before it.
    pub fn evaluate(&self, spec: &DeploymentSpec) -> Result<Evaluation> {
        self.evaluate_with(spec, &[])
    }

    /// Evaluates with some parameters set otherwise than the tier sets them (an environment
    /// asleep: its auto scaling group at zero).
    pub fn evaluate_with(&self, spec: &DeploymentSpec, overrides: &[(&str, &str)]) -> Result<Evaluation> {
        let mut params = self.parameters(spec);
        for (name, value) in overrides {
            params.insert((*name).to_owned(), (*value).to_owned());
        }
        let zones = spec.region.availability_zones();
        let mut exports: IndexMap<String, Value> = IndexMap::new();
        let mut phases = Vec::with_capacity(self.templates.len());
        for template in &self.templates {
            let ctx = context(spec, template, &zones, &exports);
            let phase = evaluate_template(template, &params, &ctx)?;
            for output in &phase.outputs {
                if let Some(name) = &output.export_name {
                    if exports.insert(name.clone(), output.value.clone()).is_some() {
                        return Err(InfraError::Template {
                            file: template.file.clone(),
                            at: format!("Outputs.{}", output.name),
                            problem: crate::error::TemplateProblem::Malformed(format!(
                                "export `{name}` is already exported by an earlier phase"
                            )),
                        });
                    }
                }
            }
            phases.push(phase);
        }
        Ok(Evaluation { spec: spec.clone(), phases })
    }
}

/// What CloudFormation would know when creating one phase's stack of a deployment.
fn context<'a>(
    spec: &'a DeploymentSpec,
    template: &Template,
    zones: &'a [String],
    exports: &'a IndexMap<String, Value>,
) -> EvalContext<'a> {
    EvalContext {
        region: spec.region.as_str(),
        account_id: "123456789012",
        stack_name: format!("{}-{}", spec.environment, template.phase.slug()),
        availability_zones: zones,
        exports,
    }
}
