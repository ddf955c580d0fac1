//! What the pages show, as plain data shared by the server and the browser.

use serde::{Deserialize, Serialize};

mod environments;
mod policy;
mod status;
pub use environments::*;
pub use policy::*;
pub use status::*;

/// How compute is paid for. Every tier on a page is priced with the same one, so they compare
/// like for like; on-demand unless the reader picks a commitment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pricing {
    #[default]
    OnDemand,
    Reserved,
    SavingsPlan,
}

impl Pricing {
    pub const ALL: [Pricing; 3] = [Pricing::OnDemand, Pricing::Reserved, Pricing::SavingsPlan];

    pub fn as_str(self) -> &'static str {
        match self {
            Pricing::OnDemand => "on-demand",
            Pricing::Reserved => "reserved",
            Pricing::SavingsPlan => "savings-plan",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Pricing::OnDemand => "On-demand",
            Pricing::Reserved => "1-year reserved instances",
            Pricing::SavingsPlan => "1-year Compute Savings Plan",
        }
    }

    /// The model a query string names; on-demand for none or one it does not know.
    pub fn from_query(raw: Option<&str>) -> Pricing {
        Pricing::ALL.into_iter().find(|p| Some(p.as_str()) == raw).unwrap_or_default()
    }

    pub fn is_commitment(self) -> bool {
        self != Pricing::OnDemand
    }
}

/// A monthly figure at low, typical and high usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct UsdRangeView {
    pub low: f64,
    pub typical: f64,
    pub high: f64,
}

impl UsdRangeView {
    pub fn is_spread(&self) -> bool {
        self.high - self.low > 0.005
    }
}

/// One pricing model's monthly total, what it saves on on-demand, and what it commits to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingTotal {
    pub pricing: Pricing,
    pub monthly_usd: f64,
    pub saving_monthly_usd: f64,
    /// Billed for the whole term even after the environment is torn down (0 for on-demand).
    pub committed_total_usd: f64,
    pub term_months: u32,
    /// What the commitment covers ("EC2 and RDS instances"); empty for on-demand.
    pub covers: String,
}

/// What keeps being billed after a teardown (a final snapshot), per month until deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterTeardownView {
    pub resource: String,
    pub description: String,
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub availability: String,
    /// The model `monthly_usd` and `range` are priced with: the same for every tier of a page.
    pub pricing: Pricing,
    pub monthly_usd: f64,
    pub range: UsdRangeView,
    /// The part no usage assumption moves.
    pub fixed_monthly_usd: f64,
    /// Every pricing model's total, on-demand first.
    pub alternatives: Vec<PricingTotal>,
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
    /// At low, typical and high usage (the one figure for a fixed line).
    pub range: UsdRangeView,
    /// The usage assumption the line follows; none for a fixed line.
    pub usage_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    pub service: String,
    pub monthly_usd: f64,
    pub range: UsdRangeView,
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
    /// The phases it imports from: it starts once they are done, beside any other that is ready.
    pub needs: Vec<u8>,
    pub resources: Vec<PhaseResourceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageFieldView {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub value: f64,
    /// The range the estimate's low and high figures use around `value`.
    pub low: f64,
    pub high: f64,
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
    /// The model every figure of the view is priced with.
    pub pricing: Pricing,
    pub monthly_usd: f64,
    pub range: UsdRangeView,
    pub fixed_monthly_usd: f64,
    /// The hours a monthly figure counts (730): a lifetime's cost is its share of them.
    pub hours_per_month: f64,
    pub yearly_usd: f64,
    pub alternatives: Vec<PricingTotal>,
    pub after_teardown: Vec<AfterTeardownView>,
    pub free_tier: bool,
    pub prices_as_of: String,
    pub unpriced: Vec<String>,
    pub phases: Vec<PhaseView>,
    pub usage: Vec<UsageFieldView>,
    pub options: Vec<OptionView>,
    pub diagram_svg: String,
    pub posture: PostureView,
}

/// The security posture of a deployment: the principles it keeps or lacks, the request path
/// hop by hop, and the policy checks its templates waive with their reasons.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostureView {
    /// The domain the deployment serves, if any (without one there is no certificate).
    pub domain: Option<String>,
    pub controls: Vec<ControlView>,
    pub request_path: Vec<HopView>,
    pub accepted_risks: Vec<WaiverView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlView {
    pub id: String,
    pub title: String,
    pub met: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HopView {
    pub from: String,
    pub to: String,
    /// "HTTPS" or "HTTP".
    pub protocol: String,
    pub encrypted: bool,
    /// Crosses the internet (not only the VPC).
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaiverView {
    pub phase: u8,
    pub resource: String,
    pub check: String,
    pub reason: String,
}

/// What a tier page asks for: options switched on, usage overrides, free tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierQuery {
    pub tier: String,
    /// `None` means the tier's default options.
    pub options: Option<Vec<String>>,
    pub usage: Vec<(String, f64)>,
    pub free_tier: bool,
    /// Preview with this domain (HTTPS); a request takes its environment's instead.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub pricing: Pricing,
}

/// The signed-in person, as the pages see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub name: String,
    pub roles: Vec<Role>,
}

impl SessionUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The request form on a tier page: a registered environment, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestForm {
    pub environment: String,
    pub justification: String,
    /// Take over the environment's existing stacks that no portal created.
    pub adopt: bool,
    pub query: TierQuery,
    /// How long the environment lives (`14d`); empty: the tier's default in that environment.
    #[serde(default)]
    pub lifetime: String,
}

/// The teardown request on a rollout page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeardownForm {
    pub environment: String,
    pub region: String,
    pub role_arn: String,
    pub justification: String,
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
    pub kind: RequestKind,
    pub environment: String,
    pub tier: String,
    pub region: String,
    pub status: RequestStatus,
    pub requester: String,
    pub monthly_usd: f64,
    pub approvals: i64,
    pub required_approvals: i64,
    pub created_at: i64,
    /// What its rollout came to (queued, waiting for window, running, succeeded, failed,
    /// cancelled); none before approval, or for a request that has no rollout (an extension).
    pub rollout_status: Option<RolloutStatus>,
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
    pub action: AuditAction,
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
    pub posture: PostureView,
    /// Set when the templates or prices changed since the request was made.
    pub catalog_changed: bool,
    /// What the environment costs now (its last approved request), for the difference.
    pub current_monthly_usd: Option<f64>,
    pub may_decide: bool,
    pub kind: RequestKind,
    /// The rollout this request started, once approved: its id and status.
    pub rollout: Option<(i64, RolloutStatus)>,
    /// For an environment that already runs: what CloudFormation will change, per phase.
    pub preview: Option<PreviewView>,
    /// An adoption: the deployment takes over the environment's stacks no portal created.
    pub adopt: bool,
    /// A deployment's lifetime (`14d`), an extension's added time; with the deployment's cost
    /// over its lifetime.
    #[serde(default)]
    pub lifetime: Option<String>,
    #[serde(default)]
    pub lifetime_usd: Option<f64>,
    /// The estimate at low, typical and high usage (none for a request made before ranges).
    #[serde(default)]
    pub range: Option<UsdRangeView>,
    /// The commitments the environment could take instead of on-demand, each with what it
    /// commits to: empty when the environment expires before their term ends (`commitment_note`
    /// says so) or for a request that deploys nothing.
    #[serde(default)]
    pub commitments: Vec<PricingTotal>,
    #[serde(default)]
    pub commitment_note: Option<String>,
    #[serde(default)]
    pub after_teardown: Vec<AfterTeardownView>,
}

/// One resource a change set adds, modifies or removes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// Add, Modify, Remove (CloudFormation's words).
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// "True", "False" or "Conditional" for a modification; empty otherwise.
    pub replacement: String,
    /// A drift-reverting change set's: each property changed outside CloudFormation that the
    /// change puts back to the template's value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reverts: Vec<PropertyRevert>,
}

/// One property a repair puts back: where, what it is now, what the template says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PropertyRevert {
    pub path: String,
    pub actual: String,
    pub expected: String,
}

/// The changes an update will make, computed with change sets before anyone approves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewView {
    pub status: PreviewStatus,
    pub error: Option<String>,
    pub phases: Vec<PreviewPhase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewPhase {
    pub number: i64,
    pub stack_name: String,
    /// The stack does not exist yet: everything in it is added.
    pub new_stack: bool,
    pub changes: Vec<ResourceChange>,
}

/// A rollout, as the API and the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutView {
    pub id: i64,
    pub request_id: i64,
    pub kind: RequestKind,
    pub environment: String,
    pub region: String,
    pub account_id: String,
    pub tier: String,
    pub status: RolloutStatus,
    pub attempt: i64,
    pub failure: Option<String>,
    pub cancel_requested: bool,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub phases: Vec<RolloutPhaseView>,
    /// While it waits for its window: when the environment's next change window opens.
    #[serde(default)]
    pub window_opens_at: Option<i64>,
    /// Started outside its window by an admin: who, and why.
    #[serde(default)]
    pub window_override: Option<(String, String)>,
}

impl RolloutView {
    pub fn ended(&self) -> bool {
        self.status.ended()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutPhaseView {
    pub number: i64,
    pub name: String,
    pub stack_name: String,
    pub status: PhaseStatus,
    pub action: Option<PhaseAction>,
    pub resource_count: i64,
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<(String, String)>,
    pub reason: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// One CloudFormation stack event, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutEventView {
    pub id: i64,
    pub phase: i64,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
    pub at: String,
}

/// The rollout page: the rollout, its events so far, the diagram to colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutDetail {
    pub rollout: RolloutView,
    pub events: Vec<RolloutEventView>,
    pub diagram_svg: String,
    /// Per phase number, the phases it imports from (it starts once they are done).
    pub phase_needs: Vec<(i64, Vec<u8>)>,
    /// Whether this user may retry or cancel it.
    pub may_steer: bool,
    /// The deploy role of the environment (for a teardown request).
    pub role_arn: String,
    /// A requester looking at a deployment that succeeded may ask to tear the environment down.
    pub may_request_teardown: bool,
}

/// The settings page: where deployments go, and (for admins) how notifications fare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    /// The AWS identity the portal deploys from, or why it could not be read.
    pub identity: Result<IdentityView, String>,
    pub sandbox: bool,
    pub single_sign_on: Option<String>,
    pub webhook: bool,
    /// Only for admins.
    pub deliveries: Option<Vec<DeliveryView>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityView {
    pub account: String,
    pub arn: String,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub event: String,
    pub subject: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<Role>,
    /// A disabled user cannot sign in; their sessions and tokens are refused.
    pub disabled: bool,
}

/// A registered environment as the pages show it (never its ExternalId).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentView {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    pub domain_name: Option<String>,
    pub tiers: Vec<String>,
    /// User names and `group:NAME`s; empty: anyone with the role.
    pub requesters: Vec<String>,
    pub approvers: Vec<String>,
    /// Whether the signed-in user may request deployments here.
    pub may_request: bool,
    /// Per tier: the lifetime a request gets when it names none, and the longest it may ask.
    #[serde(default)]
    pub lifetimes: Vec<LifetimeView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifetimeView {
    pub tier: String,
    pub default: Option<String>,
    pub max: Option<String>,
}

/// An environment the portal deployed to that no admin registered (history from before the
/// registry): admins see it until they register it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnregisteredView {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub last_rollout_id: i64,
    pub last_status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentsView {
    pub environments: Vec<EnvironmentView>,
    /// Admins only; empty for everyone else.
    pub unregistered: Vec<UnregisteredView>,
}

/// The admin page's registration form; principals comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentForm {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub role_arn: String,
    /// Empty: none.
    #[serde(default)]
    pub domain_name: String,
    pub tiers: Vec<String>,
    pub requesters: String,
    pub approvers: String,
}

/// A registration's answer: the ExternalId and the deploy role's trust policy, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredView {
    pub environment: EnvironmentView,
    pub external_id: String,
    /// Pretty-printed JSON, to paste as the role's trust policy.
    pub trust_policy: String,
}

/// An API token as its owner sees it: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A new token: shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTokenView {
    pub token: TokenView,
    pub secret: String,
}
