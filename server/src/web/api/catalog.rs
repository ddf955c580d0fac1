//! `GET /api/tiers`, `/api/tiers/{id}` (cost, phases, usage, options, security posture) and its
//! diagram as SVG.
//! Public: the catalog is the same for everyone.

use std::sync::Arc;

use app::model::{Pricing, TierQuery};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::error::ServerError;
use crate::web::api::Params;
use crate::web::state::Portal;

/// `?options=sqs,sns&free_tier=false&usage.viewer_transfer_gb=2048&domain=concerts.example.com&pricing=reserved`
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(super) struct TierParams(std::collections::BTreeMap<String, String>);

impl TierParams {
    fn query(self, tier: String) -> Result<TierQuery, ServerError> {
        let invalid = |key: &str, message: String| ServerError::Invalid {
            code: "invalid_input",
            message,
            field: Some(key.to_owned()),
        };
        let mut query = TierQuery { tier, free_tier: true, ..Default::default() };
        for (key, raw) in self.0 {
            match key.as_str() {
                "options" => {
                    query.options = Some(raw.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
                }
                "domain" => query.domain = Some(raw),
                "pricing" => query.pricing = pricing(&raw)?,
                "free_tier" => {
                    query.free_tier = raw
                        .parse()
                        .map_err(|_| invalid(&key, format!("`free_tier` must be true or false, got `{raw}`")))?
                }
                _ => {
                    let Some(name) = key.strip_prefix("usage.") else {
                        return Err(invalid(&key, format!("unknown query parameter `{key}`")));
                    };
                    let value = raw
                        .parse::<f64>()
                        .map_err(|_| invalid(&key, format!("usage `{name}` must be a number, got `{raw}`")))?;
                    query.usage.push((name.to_owned(), value));
                }
            }
        }
        Ok(query)
    }
}

/// A `pricing` parameter: one of the models, by name; an unknown one is refused, not defaulted.
fn pricing(raw: &str) -> Result<Pricing, ServerError> {
    Pricing::ALL.into_iter().find(|p| p.as_str() == raw).ok_or_else(|| ServerError::Invalid {
        code: "invalid_input",
        message: format!("`pricing` must be on-demand, reserved or savings-plan, got `{raw}`"),
        field: Some("pricing".into()),
    })
}

/// `GET /api/tiers?pricing=reserved`: every tier priced with one model (on-demand by default).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListParams {
    pricing: Option<String>,
}

pub(super) async fn list_tiers(
    State(portal): State<Arc<Portal>>,
    Params(params): Params<ListParams>,
) -> Result<impl IntoResponse, ServerError> {
    let pricing = params.pricing.as_deref().map(pricing).transpose()?.unwrap_or_default();
    Ok(Json(serde_json::json!({ "pricing": pricing, "tiers": portal.catalog.summaries(pricing)? })))
}

pub(super) async fn tier(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<String>,
    Params(params): Params<TierParams>,
) -> Result<impl IntoResponse, ServerError> {
    let service = &portal.catalog;
    let report = service.report(&params.query(id)?)?;
    let summary = service.summary(&report);
    let graph = infra::PhaseGraph::of(&report.evaluation);
    let phases: Vec<serde_json::Value> = report
        .evaluation
        .phases
        .iter()
        .map(|p| {
            serde_json::json!({
                "number": p.phase.number(),
                "slug": p.phase.slug(),
                "title": p.phase.title(),
                "stack_name": p.stack_name,
                "needs": graph.needs(p.phase).iter().map(|n| n.number()).collect::<Vec<_>>(),
                "parameters": p.parameters,
                "resources": p.resources.iter().map(|r| serde_json::json!({
                    "logical_id": r.key.logical_id,
                    "type": r.resource_type,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "tier": summary,
        "decisions": report.tier.decisions,
        "estimate": report.estimate,
        "usage": report.usage,
        "options": report.evaluation.spec.options,
        "phases": phases,
        "posture": infra::Posture::of(&report.evaluation),
    })))
}

pub(super) async fn diagram(
    State(portal): State<Arc<Portal>>,
    Path(id): Path<String>,
    Params(params): Params<TierParams>,
) -> Result<impl IntoResponse, ServerError> {
    let report = portal.catalog.report(&params.query(id)?)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], portal.catalog.catalog.diagram(&report)))
}
