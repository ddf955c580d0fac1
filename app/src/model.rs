//! What the pages show, as plain data shared by the server and the browser.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub availability: String,
    pub pricing: String,
    pub monthly_usd: f64,
    pub on_demand_monthly_usd: f64,
    pub reserved_monthly_usd: f64,
    pub included: Vec<String>,
    pub availability_zones: usize,
    pub nat_gateways: usize,
    pub instances: f64,
    pub multi_az_database: bool,
    pub read_replica: bool,
    pub cloudfront: bool,
    pub resource_count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLineView {
    pub anchor: String,
    pub service: String,
    pub resource: String,
    pub resource_type: String,
    pub phase: u8,
    pub description: String,
    pub quantity: f64,
    pub free_quantity: f64,
    pub unit: String,
    pub unit_price_usd: f64,
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    pub service: String,
    pub monthly_usd: f64,
    pub seed_usd: Option<f64>,
    pub note: Option<String>,
    pub lines: Vec<CostLineView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseResourceView {
    pub logical_id: String,
    pub resource_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseView {
    pub number: u8,
    pub title: String,
    pub stack_name: String,
    pub resources: Vec<PhaseResourceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageFieldView {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionView {
    pub key: String,
    pub label: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionView {
    pub topic: String,
    pub choice: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierView {
    pub summary: TierSummary,
    pub decisions: Vec<DecisionView>,
    pub services: Vec<ServiceView>,
    pub monthly_usd: f64,
    pub yearly_usd: f64,
    pub on_demand_monthly_usd: f64,
    pub reserved_monthly_usd: f64,
    pub free_tier: bool,
    pub prices_as_of: String,
    pub unpriced: Vec<String>,
    pub phases: Vec<PhaseView>,
    pub usage: Vec<UsageFieldView>,
    pub options: Vec<OptionView>,
    pub diagram_svg: String,
}

/// What a tier page asks for: options switched on, usage overrides, free tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierQuery {
    pub tier: String,
    /// `None` means the tier's default options.
    pub options: Option<Vec<String>>,
    pub usage: Vec<(String, f64)>,
    pub free_tier: bool,
}

/// The signed-in person, as the pages see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub name: String,
    pub roles: Vec<String>,
}

impl SessionUser {
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The request form on a tier page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestForm {
    pub environment: String,
    pub region: String,
    pub role_arn: String,
    pub justification: String,
    pub query: TierQuery,
}

/// A refused action, with the field it is about when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub environment: Option<String>,
    pub tier: Option<String>,
    pub status: Option<String>,
    pub requester: Option<String>,
    /// Only requests an approver may decide: pending, and not their own.
    pub awaiting_me: bool,
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: i64,
    pub environment: String,
    pub tier: String,
    pub region: String,
    pub status: String,
    pub requester: String,
    pub monthly_usd: f64,
    pub approvals: i64,
    pub required_approvals: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<RequestRow>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestDetail {
    pub row: RequestRow,
    pub role_arn: String,
    pub justification: String,
    pub options: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// The cost lines and diagram exactly as the requester saw them.
    pub services: Vec<ServiceView>,
    pub diagram_svg: String,
    /// Set when the templates or prices changed since the request was made.
    pub catalog_changed: bool,
    /// What the environment costs now (its last approved request), for the difference.
    pub current_monthly_usd: Option<f64>,
    pub may_decide: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<String>,
}

pub const ROLES: [&str; 4] = ["requester", "approver", "admin", "viewer"];
