//! The catalog, parsed once at start-up, and its reports turned into the page models of the
//! `app` crate (tier summaries, tier views with cost lines, phases, usage, options, diagram).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};

use indexmap::IndexMap;

use app::model::{
    ControlView, CostLineView, DecisionView, HopView, OptionView, PhaseResourceView, PhaseView, PostureView, Pricing,
    ServiceView, TierQuery, TierSummary, TierView, UsageFieldView, WaiverView,
};
use infra::diagram::cost_anchor;
use infra::posture::{Posture, Protocol};
use infra::value::Value;
use infra::{Catalog, DeploymentSpec, DomainName, ServiceOption, TierId, TierReport, Usage, UsdRange};

use crate::error::ServerError;

mod pricing;
use pricing::pricing_view;
pub use pricing::{after_teardown, alternatives, offered_commitments, pricing_model, range_view};

/// Tier views kept per process: the most recently used, at most this many (a few MB).
const VIEW_CACHE: usize = 256;

/// The catalog, parsed once at start-up, and what the pages need from it. The catalog never
/// changes in a process, so a tier view depends only on its query: views are kept (bounded, least
/// recently used out first) and the catalog page's summaries computed once.
pub struct CatalogService {
    pub catalog: Arc<Catalog>,
    pub sandbox: bool,
    views: Mutex<IndexMap<String, Arc<Kept>>>,
    /// Per pricing model, in the order of [`Pricing::ALL`].
    summaries: OnceLock<Vec<Vec<TierSummary>>>,
}

/// A kept tier view and, once a page asked for it, the view as JSON for a page's island props
/// (a tier page's default views are rendered again and again; serializing 68 KB of view was a
/// tenth of each render).
struct Kept {
    view: TierView,
    script_json: OnceLock<Arc<str>>,
}

impl CatalogService {
    pub fn new(catalog: Arc<Catalog>, sandbox: bool) -> Self {
        Self { catalog, sandbox, views: Mutex::default(), summaries: OnceLock::new() }
    }

    /// Computes the three tiers' default views and the summaries before the first request.
    pub fn warm(&self) -> Result<(), ServerError> {
        self.summaries(Pricing::OnDemand)?;
        for id in TierId::ALL {
            self.tier_view(&TierQuery { tier: id.to_string(), free_tier: true, ..Default::default() })?;
        }
        Ok(())
    }

    /// The view of a query, from the cache when it was asked before.
    pub fn tier_view(&self, query: &TierQuery) -> Result<TierView, ServerError> {
        Ok(self.kept(query)?.view.clone())
    }

    /// The view of a query as JSON that is safe inside a `<script>` element
    /// ([`app::island::script_safe`]), serialized once per kept view.
    pub fn tier_script_json(&self, query: &TierQuery) -> Result<Arc<str>, ServerError> {
        let kept = self.kept(query)?;
        if let Some(json) = kept.script_json.get() {
            return Ok(json.clone());
        }
        let json: Arc<str> = Arc::from(app::island::script_safe(serde_json::to_string(&kept.view)?));
        // Two renders racing both serialize; the view is the same, so either copy is right.
        Ok(kept.script_json.get_or_init(|| json).clone())
    }

    fn kept(&self, query: &TierQuery) -> Result<Arc<Kept>, ServerError> {
        // Later usage entries win, as `report` applies them; the key says the same in one order.
        let usage: BTreeMap<&str, u64> = query.usage.iter().map(|(k, v)| (k.as_str(), v.to_bits())).collect();
        let key = serde_json::to_string(&(
            &query.tier,
            &query.options,
            usage,
            query.free_tier,
            &query.domain,
            query.pricing,
        ))?;
        if let Some(hit) = self.views.lock().ok().and_then(|mut views| {
            let hit = views.shift_remove(&key)?;
            views.insert(key.clone(), hit.clone());
            Some(hit)
        }) {
            return Ok(hit);
        }
        let kept = Arc::new(Kept { view: self.view(&self.report(query)?), script_json: OnceLock::new() });
        if let Ok(mut views) = self.views.lock() {
            views.insert(key, kept.clone());
            while views.len() > VIEW_CACHE {
                views.shift_remove_index(0);
            }
        }
        Ok(kept)
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        self.views.lock().map(|v| v.len()).unwrap_or(0)
    }

    /// Builds the spec and usage of a query, rejecting unknown tiers, options and usage keys.
    pub fn resolve(&self, query: &TierQuery) -> Result<(DeploymentSpec, Usage), ServerError> {
        let tier: TierId = query.tier.parse()?;
        let options = self.catalog.options(tier, query.options.as_deref())?;
        let usage = self.catalog.usage(query.usage.iter().map(|(k, v)| (k.as_str(), *v)))?;
        let domain_name = match query.domain.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(DomainName::parse(d)?),
        };
        Ok((DeploymentSpec { domain_name, ..DeploymentSpec::preview(tier, options) }, usage))
    }

    pub fn report(&self, query: &TierQuery) -> Result<TierReport, ServerError> {
        let (spec, usage) = self.resolve(query)?;
        Ok(self.catalog.report(&spec, &usage, query.free_tier, pricing_model(query.pricing))?)
    }

    pub fn summary(&self, report: &TierReport) -> TierSummary {
        let ev = &report.evaluation;
        let zones: BTreeSet<String> = ev
            .of_type("AWS::EC2::Subnet")
            .filter(|s| s.tag("Tier") == Some("private"))
            .filter_map(|s| s.property("AvailabilityZone").map(Value::display))
            .collect();
        let dbs: Vec<_> = ev.of_type("AWS::RDS::DBInstance").collect();
        TierSummary {
            id: report.tier.id.to_string(),
            name: report.tier.name.clone(),
            summary: report.tier.summary.clone(),
            availability: report.tier.availability.clone(),
            pricing: pricing_view(report.estimate.pricing),
            monthly_usd: report.estimate.monthly_usd,
            range: range_view(report.estimate.range_or_exact()),
            fixed_monthly_usd: report.estimate.fixed_monthly_usd,
            alternatives: alternatives(&report.estimate),
            included: report.tier.included.clone(),
            availability_zones: zones.len(),
            nat_gateways: ev.of_type("AWS::EC2::NatGateway").count(),
            instances: ev
                .of_type("AWS::AutoScaling::AutoScalingGroup")
                .filter_map(|a| a.property("DesiredCapacity").and_then(Value::as_f64))
                .sum(),
            multi_az_database: dbs.iter().any(|d| d.property("MultiAZ").and_then(Value::as_bool) == Some(true)),
            read_replica: dbs.iter().any(|d| d.property("SourceDBInstanceIdentifier").is_some()),
            cloudfront: ev.of_type("AWS::CloudFront::Distribution").next().is_some(),
            resource_count: ev.resources().count(),
        }
    }

    pub fn view(&self, report: &TierReport) -> TierView {
        let estimate = &report.estimate;
        let services = estimate
            .services
            .iter()
            .map(|s| ServiceView {
                service: s.service.clone(),
                monthly_usd: s.monthly_usd,
                range: range_view(s.range.unwrap_or(UsdRange::exact(s.monthly_usd))),
                seed_usd: s.seed_usd,
                note: s.note.clone(),
                lines: estimate
                    .lines
                    .iter()
                    .filter(|l| l.service == s.service)
                    .map(|l| CostLineView {
                        anchor: cost_anchor(&infra::value::ResourceKey::new(l.phase, l.resource.clone())),
                        service: l.service.clone(),
                        resource: l.resource.clone(),
                        resource_type: l.resource_type.clone(),
                        phase: l.phase.number(),
                        description: l.description.clone(),
                        quantity: l.quantity,
                        free_quantity: l.free_quantity,
                        unit: l.unit.clone(),
                        unit_price_usd: l.unit_price_usd,
                        monthly_usd: l.monthly_usd,
                        range: range_view(l.range_or_exact()),
                        usage_key: l.usage_key.clone(),
                    })
                    .collect(),
            })
            .collect();
        let graph = infra::PhaseGraph::of(&report.evaluation);
        let phases = report
            .evaluation
            .phases
            .iter()
            .map(|p| PhaseView {
                number: p.phase.number(),
                title: p.phase.title().to_owned(),
                stack_name: p.stack_name.clone(),
                needs: graph.needs(p.phase).into_iter().map(|n| n.number()).collect(),
                resources: p
                    .resources
                    .iter()
                    .map(|r| PhaseResourceView {
                        logical_id: r.key.logical_id.clone(),
                        resource_type: r.resource_type.clone(),
                    })
                    .collect(),
            })
            .collect();
        let enabled = &report.evaluation.spec.options;
        TierView {
            summary: self.summary(report),
            decisions: report
                .tier
                .decisions
                .iter()
                .map(|d| DecisionView { topic: d.topic.clone(), choice: d.choice.clone(), reason: d.reason.clone() })
                .collect(),
            services,
            pricing: pricing_view(estimate.pricing),
            monthly_usd: estimate.monthly_usd,
            range: range_view(estimate.range_or_exact()),
            fixed_monthly_usd: estimate.fixed_monthly_usd,
            hours_per_month: self.catalog.prices.hours_per_month,
            yearly_usd: estimate.yearly_usd,
            alternatives: alternatives(estimate),
            after_teardown: after_teardown(estimate),
            free_tier: estimate.free_tier,
            prices_as_of: estimate.prices_as_of.clone(),
            unpriced: estimate.unpriced.iter().map(|u| format!("{} ({})", u.resource, u.resource_type)).collect(),
            phases,
            usage: report
                .usage
                .fields()
                .into_iter()
                .map(|f| UsageFieldView {
                    key: f.key.to_owned(),
                    label: f.label.to_owned(),
                    unit: f.unit.to_owned(),
                    value: f.value,
                    low: f.low,
                    high: f.high,
                })
                .collect(),
            options: ServiceOption::ALL
                .iter()
                .map(|o| OptionView {
                    key: o.as_str().to_owned(),
                    label: o.label().to_owned(),
                    enabled: enabled.contains(o),
                })
                .collect(),
            diagram_svg: self.catalog.diagram(report),
            posture: posture_view(report),
        }
    }

    /// The catalog page's tiers priced with one model, computed once per process.
    pub fn summaries(&self, pricing: Pricing) -> Result<Vec<TierSummary>, ServerError> {
        let index = Pricing::ALL.iter().position(|p| *p == pricing).unwrap_or(0);
        if let Some(done) = self.summaries.get() {
            return Ok(done.get(index).cloned().unwrap_or_default());
        }
        let mut all = Vec::with_capacity(Pricing::ALL.len());
        for pricing in Pricing::ALL {
            let summaries: Vec<TierSummary> = TierId::ALL
                .iter()
                .map(|id| {
                    let query = TierQuery { tier: id.to_string(), free_tier: true, pricing, ..Default::default() };
                    Ok(self.summary(&self.report(&query)?))
                })
                .collect::<Result<_, ServerError>>()?;
            all.push(summaries);
        }
        Ok(self.summaries.get_or_init(|| all).get(index).cloned().unwrap_or_default())
    }
}

/// The security posture of a report's deployment, as the pages show it.
fn posture_view(report: &TierReport) -> PostureView {
    let posture = Posture::of(&report.evaluation);
    PostureView {
        domain: report.evaluation.spec.domain_name.as_ref().map(ToString::to_string),
        controls: posture
            .controls
            .into_iter()
            .map(|c| ControlView { id: c.id.to_owned(), title: c.title.to_owned(), met: c.met, detail: c.detail })
            .collect(),
        request_path: posture
            .request_path
            .into_iter()
            .map(|h| HopView {
                from: h.from.to_owned(),
                to: h.to.to_owned(),
                protocol: h.protocol.label().to_owned(),
                encrypted: h.protocol == Protocol::Https,
                public: h.public,
            })
            .collect(),
        accepted_risks: posture
            .accepted_risks
            .into_iter()
            .map(|w| WaiverView { phase: w.phase.number(), resource: w.resource, check: w.check, reason: w.reason })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Result<CatalogService, ServerError> {
        Ok(CatalogService::new(Arc::new(Catalog::embedded()?), true))
    }

    fn query(tier: &str, usage: &[(&str, f64)]) -> TierQuery {
        TierQuery {
            tier: tier.to_owned(),
            usage: usage.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            free_tier: true,
            ..Default::default()
        }
    }

    #[test]
    fn the_kept_json_reads_back_as_the_view_and_cannot_end_its_script() -> Result<(), ServerError> {
        let service = service()?;
        for q in [query("full-production", &[]), query("development", &[("cognito_mau", 50_000.0)])] {
            let json = service.tier_script_json(&q)?;
            assert!(!json.contains('<'), "{q:?}: no `</script>` can occur");
            // The diagram is SVG: its `<` are written `\u003c` and read back as `<`.
            let read: TierView = serde_json::from_str(&json)?;
            assert!(read.diagram_svg.starts_with("<svg"), "{q:?}");
            // The view serialized now, as the page did before it was kept (serde_json does not
            // read every float back to the last bit, so the text is compared, not the view read).
            let fresh = app::island::script_safe(serde_json::to_string(&service.tier_view(&q)?)?);
            assert_eq!(*json, *fresh, "{q:?}");
            assert!(Arc::ptr_eq(&json, &service.tier_script_json(&q)?), "{q:?}: serialized once");
        }
        Ok(())
    }

    #[test]
    fn a_cached_view_is_the_view_computed_afresh_and_the_cache_stays_bounded() -> Result<(), ServerError> {
        let cached = service()?;
        cached.warm()?;
        assert_eq!(cached.cached(), 3, "the three default tiers");
        let fresh = service()?;
        for q in [query("development", &[]), query("full-production", &[("cognito_mau", 50_000.0)])] {
            let from_cache = cached.tier_view(&q)?;
            let again = cached.tier_view(&q)?;
            let computed = fresh.view(&fresh.report(&q)?);
            assert_eq!(from_cache, computed, "{q:?}");
            assert_eq!(again, computed, "{q:?}");
        }
        // The same usage in another order is the same view (and one entry); the last value wins.
        let a = query("development", &[("cognito_mau", 1.0), ("lambda_requests", 2.0)]);
        let b = query("development", &[("lambda_requests", 2.0), ("cognito_mau", 9.0), ("cognito_mau", 1.0)]);
        let before = cached.cached();
        assert_eq!(cached.tier_view(&a)?, cached.tier_view(&b)?);
        assert_eq!(cached.cached(), before + 1);
        // A query that is refused is not kept.
        assert!(cached.tier_view(&query("gold", &[])).is_err());
        assert_eq!(cached.cached(), before + 1);
        for n in 0..300 {
            cached.tier_view(&query("development", &[("cognito_mau", f64::from(n))]))?;
        }
        assert_eq!(cached.cached(), VIEW_CACHE, "bounded");
        // The most recently used stay: the last query is still a hit.
        let last = query("development", &[("cognito_mau", 299.0)]);
        assert_eq!(cached.tier_view(&last)?, fresh.view(&fresh.report(&last)?));
        Ok(())
    }

    #[test]
    fn summaries_are_computed_once_and_match_the_reports() -> Result<(), ServerError> {
        let service = service()?;
        let first = service.summaries(Pricing::OnDemand)?;
        assert_eq!(first.len(), 3);
        assert_eq!(service.summaries(Pricing::OnDemand)?, first);
        let dev = service.report(&query("development", &[]))?;
        assert_eq!(first[0], service.summary(&dev));
        // One model for every tier of a list: the one asked for.
        for pricing in Pricing::ALL {
            let tiers = service.summaries(pricing)?;
            assert!(tiers.iter().all(|t| t.pricing == pricing), "{pricing:?}");
            for t in &tiers {
                let own = t.alternatives.iter().find(|a| a.pricing == pricing).map(|a| a.monthly_usd);
                assert_eq!(own, Some(t.monthly_usd), "{} {pricing:?}", t.id);
            }
        }
        Ok(())
    }
}
