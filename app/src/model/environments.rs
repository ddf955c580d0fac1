//! The environments pages' data: where each registered environment stands, what runs there, and
//! what the portal will do next on its own (expire it, put it to sleep, wake it, check it for drift).

use serde::{Deserialize, Serialize};

use crate::model::{
    BillReadStatus, DriftCheckStatus, EnvironmentStatus, PolicyText, PricingTotal, PropertyRevert, RequestKind,
    RequestRow, ResourceDrift, RolloutStatus, UsdRangeView,
};

/// One environment, as a row of `/environments` and the head of its own page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentRow {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub status: EnvironmentStatus,
    /// The tier it runs (none when nothing runs).
    pub tier: Option<String>,
    pub tier_name: Option<String>,
    /// The catalog version of what runs.
    pub catalog_version: Option<String>,
    /// It runs an older catalog than the portal serves: an upgrade is offered.
    pub older_version: bool,
    pub running_since: Option<i64>,
    pub last_rollout: Option<RolloutSummary>,
    /// What runs costs per month, as estimated when it was requested.
    pub monthly_usd: Option<f64>,
    pub expires_at: Option<i64>,
    /// The next thing the portal does here on its own.
    pub next_action: Option<NextAction>,
    pub drift: Option<DriftSummary>,
    /// Its awake hours, when it has a schedule (`mon-fri 08:00-19:00 Europe/Berlin`).
    pub schedule: Option<String>,
    /// Its change windows and freezes, when it has some.
    pub windows: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSummary {
    pub id: i64,
    pub request_id: i64,
    pub kind: RequestKind,
    pub status: RolloutStatus,
    /// When it ended, or was created while it has not.
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextAction {
    pub at: i64,
    /// "sleeps", "wakes", "expires (torn down)", "reminder: expires in 2h", "drift check",
    /// "rollout 12 starts (change window opens)".
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    pub check_id: i64,
    pub status: DriftCheckStatus,
    /// When it started, and when it ended.
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Resources modified or deleted outside the portal.
    pub drifted: i64,
    /// Resources CloudFormation does not check.
    pub not_checked: i64,
    pub requested_by: String,
    pub error: Option<String>,
}

/// `/environments`: every registered environment, and the catalog version the portal serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentsPage {
    pub rows: Vec<EnvironmentRow>,
    pub catalog_version: String,
}

/// One resource of a drift check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftResourceView {
    pub phase: i64,
    pub stack_name: String,
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    pub status: ResourceDrift,
    /// Property by property: where, what the template says, what AWS holds.
    pub differences: Vec<PropertyRevert>,
}

/// A drift check with its resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub summary: DriftSummary,
    pub resources: Vec<DriftResourceView>,
}

/// A stack the environment runs, from its last rollout that touched it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackView {
    pub phase: i64,
    pub name: String,
    pub stack_name: String,
    /// The phase's status in that rollout (done, failed…).
    pub status: String,
    pub outputs: Vec<(String, String)>,
    pub resource_count: i64,
}

/// A cost line under a sleep schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SleepLineView {
    pub service: String,
    pub resource: String,
    pub description: String,
    pub awake_usd: f64,
    pub saving_usd: f64,
}

/// What the environment's schedule saves, by the cost model, and what keeps running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SleepView {
    pub schedule: String,
    /// Share of the week awake.
    pub awake_share: f64,
    pub awake_monthly_usd: f64,
    pub monthly_usd: f64,
    pub saving_usd: f64,
    pub database_stops: bool,
    pub stopping: Vec<SleepLineView>,
    pub running: Vec<SleepLineView>,
}

/// How a service's bill compares with its estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillVerdict {
    WithinRange,
    AboveRange,
    BelowRange,
    NotEstimated,
    NotBilled,
}

impl BillVerdict {
    pub fn label(self) -> &'static str {
        match self {
            BillVerdict::WithinRange => "within range",
            BillVerdict::AboveRange => "above range",
            BillVerdict::BelowRange => "below range",
            BillVerdict::NotEstimated => "not estimated",
            BillVerdict::NotBilled => "not billed",
        }
    }
}

/// One service: its estimate for the period beside what the bill says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillServiceView {
    pub service: String,
    pub estimate: UsdRangeView,
    pub actual_usd: f64,
    pub difference_usd: f64,
    pub verdict: BillVerdict,
    pub reason: String,
}

/// A month of the bill, or the month so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillPeriodView {
    /// "November 2026", "December 2026 so far (6 days)".
    pub label: String,
    pub start: String,
    pub month_to_date: bool,
    /// Cost Explorer's figures for it may still change.
    pub provisional: bool,
    /// Why the estimate is prorated, when it is (part of a month, or the month so far).
    pub prorated: Option<String>,
    pub estimate: UsdRangeView,
    pub actual_usd: f64,
    /// The month so far's pace over the whole month.
    pub projected_usd: Option<f64>,
    pub services: Vec<BillServiceView>,
}

/// A usage assumption beside what a month's bill measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageFromBillView {
    pub key: String,
    pub label: String,
    pub unit: String,
    pub assumed: f64,
    pub billed: f64,
    pub source: String,
}

/// An environment's estimate against its bill (Cost Explorer), and what it could commit to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillView {
    /// The running deployment's estimate, on-demand at typical usage, and its range.
    pub estimate: UsdRangeView,
    /// `None` until the bill is first read.
    pub status: Option<BillReadStatus>,
    pub read_at: Option<i64>,
    pub read_by: Option<String>,
    /// Why nothing is shown (never $0), and how to fix it.
    pub message: Option<String>,
    pub periods: Vec<BillPeriodView>,
    /// The usage a whole month's bill implies, where a usage type measures it.
    pub suggestion: Vec<UsageFromBillView>,
    /// The month the suggestion reads (`YYYY-MM-DD`, its first day) and its label.
    pub suggestion_period: Option<(String, String)>,
    /// Who set the running deployment's usage from a bill, when, from which month.
    pub usage_set_from_bill: Option<String>,
    pub may_read: bool,
    pub may_use_usage: bool,
    /// A 1-year commitment, shown only when the environment lives at least that long.
    pub commitments: Vec<PricingTotal>,
    pub commitment_note: Option<String>,
    /// The estimate is lowered by the environment's sleep schedule: by how much, and the caveat.
    pub schedule_note: Option<String>,
}

/// What the caller may ask for on an environment's page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentActions {
    pub check_drift: bool,
    pub repair: bool,
    pub extend: bool,
    pub upgrade: bool,
    pub teardown: bool,
}

/// `/environments/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentDetail {
    pub row: EnvironmentRow,
    /// What runs there, drawn, coloured by the last drift check (empty when nothing runs).
    pub diagram_svg: String,
    /// Drifted resources the diagram does not draw (security groups, parameters…).
    pub drift_off_diagram: Vec<String>,
    pub stacks: Vec<StackView>,
    pub drift: Option<DriftReport>,
    /// Its requests and their rollouts' outcomes, newest first.
    pub history: Vec<RequestRow>,
    pub sleep: Option<SleepView>,
    /// The estimate against the bill (none when nothing runs).
    #[serde(default)]
    pub bill: Option<BillView>,
    /// The newest catalog version with what changed since the one it runs (an older one).
    pub upgrade_to: Option<(String, Vec<String>)>,
    pub may: EnvironmentActions,
    /// The waiting rollout an admin may start outside its window, with when the window opens.
    pub waiting: Option<(i64, Option<i64>)>,
    pub may_override: bool,
    /// Its day-two policy, every field written out; admins change it on the page.
    pub policy: PolicyText,
    /// The tiers it allows (a lifetime rule per tier).
    pub tiers: Vec<String>,
    pub may_change_policy: bool,
}

/// What a person asks for on an environment's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EnvironmentAction {
    CheckDrift,
    Repair {
        justification: String,
    },
    Extend {
        extend_by: String,
        justification: String,
    },
    Upgrade {
        justification: String,
    },
    /// Read the bill from Cost Explorer now.
    ReadBill,
    /// Set the running deployment's usage assumptions from the month's bill (`period`: its first day).
    UseUsageFromBill {
        period: String,
    },
    /// An admin starts a rollout waiting for its change window now.
    Override {
        rollout: i64,
        reason: String,
    },
}

/// What came of it: a request to follow, a drift check running, or a rollout started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActionOutcome {
    Request(i64),
    DriftCheck(i64),
    Rollout(i64),
    /// The bill was read (or the usage set from it): the page shows it.
    Bill,
}

/// Per tier id, the environments that run it (for the catalog and tier pages).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunningTiers {
    pub tiers: Vec<(String, Vec<String>)>,
}

impl RunningTiers {
    pub fn of(&self, tier: &str) -> Vec<String> {
        self.tiers.iter().find(|(t, _)| t == tier).map(|(_, e)| e.clone()).unwrap_or_default()
    }
}
