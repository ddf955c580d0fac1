//! Every status, kind and action the portal stores, as enums: a misspelt one does not compile.
//! Each is stored and sent as its `as_str` text (serde uses the same text), and read back with
//! `FromStr`, whose error names the type and the value it could not read.

use serde::{Deserialize, Serialize};

/// A stored or sent text that is none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`: expected {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// `a, b or c`.
fn one_of(texts: &[&str]) -> String {
    match texts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => texts.join(""),
    }
}

/// An enum stored as text: `as_str`, `Display`, `FromStr`, serde, and `ALL` from one list of
/// (variant, text) pairs.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownValue {
                        kind: $what,
                        value: other.to_owned(),
                        expected: one_of(&[$($text),+]),
                    }),
                }
            }
        }
    };
}

text_enum! {
    /// What a person may do in the portal.
    Role ("role") {
        Requester = "requester",
        Approver = "approver",
        Admin = "admin",
        Viewer = "viewer",
    }
}

text_enum! {
    /// What a request asks for, and so what its rollout does (an extension has none).
    RequestKind ("request kind") {
        Deploy = "deploy",
        Teardown = "teardown",
        /// A deployment that carries the environment's tier, options and usage to a newer catalog.
        Upgrade = "upgrade",
        /// A deployment of the reviewed templates whose change sets revert drift.
        Repair = "repair",
        /// A later expiry for a running environment: approved like a deployment, no rollout.
        Extend = "extend",
        /// A schedule's: instances scaled to zero (and the database stopped where AWS allows).
        Sleep = "sleep",
        /// A schedule's: back to the tier's size.
        Wake = "wake",
    }
}

impl RequestKind {
    /// Deploys the templates (every phase): a deployment, an upgrade, a repair.
    pub fn deploys(self) -> bool {
        matches!(self, RequestKind::Deploy | RequestKind::Upgrade | RequestKind::Repair)
    }

    /// Has a rollout once approved.
    pub fn rolls_out(self) -> bool {
        self != RequestKind::Extend
    }

    /// Made by the portal itself, on the environment's schedule.
    pub fn scheduled(self) -> bool {
        matches!(self, RequestKind::Sleep | RequestKind::Wake)
    }

    /// How the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Deploy => "Deployment",
            RequestKind::Teardown => "Teardown",
            RequestKind::Upgrade => "Upgrade",
            RequestKind::Repair => "Drift repair",
            RequestKind::Extend => "Extension",
            RequestKind::Sleep => "Sleep",
            RequestKind::Wake => "Wake",
        }
    }
}

text_enum! {
    /// Where a request stands. Only `Pending` can change; the others are final.
    RequestStatus ("request status") {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Expired = "expired",
    }
}

text_enum! {
    /// One approver's decision on a request.
    Decision ("decision") {
        Approve = "approve",
        Reject = "reject",
    }
}

text_enum! {
    /// A rollout's life: queued until a process claims it, running under its lease, then ended.
    RolloutStatus ("rollout status") {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
        /// Approved outside the environment's change windows: starts when one opens (or an admin
        /// overrides the window).
        WaitingForWindow = "waiting_for_window",
    }
}

impl RolloutStatus {
    /// Succeeded, failed or cancelled: nothing more happens unless someone retries.
    pub fn ended(self) -> bool {
        matches!(self, RolloutStatus::Succeeded | RolloutStatus::Failed | RolloutStatus::Cancelled)
    }

    /// How the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            RolloutStatus::WaitingForWindow => "waiting for window",
            other => other.as_str(),
        }
    }
}

text_enum! {
    /// One phase (one stack) of a rollout.
    PhaseStatus ("phase status") {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl PhaseStatus {
    pub fn ended(self) -> bool {
        matches!(self, PhaseStatus::Done | PhaseStatus::Failed | PhaseStatus::Cancelled)
    }
}

text_enum! {
    /// What a phase did to its stack.
    PhaseAction ("phase action") {
        Create = "create",
        Update = "update",
        Delete = "delete",
        Unchanged = "unchanged",
    }
}

text_enum! {
    /// The change preview stored with an update request.
    PreviewStatus ("preview status") {
        Computing = "computing",
        Ready = "ready",
        Failed = "failed",
    }
}

text_enum! {
    /// A queued webhook notification.
    DeliveryStatus ("delivery status") {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

text_enum! {
    /// What a webhook notification announces.
    NotificationEvent ("notification event") {
        NeedsApproval = "request.needs_approval",
        RolloutSucceeded = "rollout.succeeded",
        RolloutFailed = "rollout.failed",
        /// An environment expires soon (one per reminder the environment's policy names).
        ExpiryReminder = "environment.expiry_reminder",
        /// An environment expired: its teardown is queued.
        EnvironmentExpired = "environment.expired",
        /// A drift check found resources changed or deleted outside the portal.
        DriftDetected = "environment.drifted",
    }
}

text_enum! {
    /// Where an environment stands, as the environments page shows it.
    EnvironmentStatus ("environment status") {
        NotDeployed = "not_deployed",
        /// A rollout is queued, waiting for its window, or running.
        Deploying = "deploying",
        Running = "running",
        /// Its last rollout failed.
        Failed = "failed",
        /// Running, and its last drift check found changes made outside the portal.
        Drifted = "drifted",
        /// Running, scaled to zero by its schedule.
        Sleeping = "sleeping",
        /// Running, and its expiry is within the reminder period (or its teardown is queued).
        Expiring = "expiring",
        TearingDown = "tearing_down",
        TornDown = "torn_down",
    }
}

impl EnvironmentStatus {
    pub fn label(self) -> &'static str {
        match self {
            EnvironmentStatus::NotDeployed => "not deployed",
            EnvironmentStatus::TearingDown => "tearing down",
            EnvironmentStatus::TornDown => "torn down",
            other => other.as_str(),
        }
    }
}

text_enum! {
    /// A drift check of an environment's stacks.
    DriftCheckStatus ("drift check status") {
        Running = "running",
        InSync = "in_sync",
        /// At least one resource modified or deleted outside the portal.
        Drifted = "drifted",
        /// Nothing CloudFormation could compare (every resource of a type it does not check).
        NotChecked = "not_checked",
        Failed = "failed",
    }
}

text_enum! {
    /// What came of reading an environment's bill from Cost Explorer.
    BillReadStatus ("bill read status") {
        /// Periods with the groups of the environment's tagged resources.
        Read = "read",
        /// Cost Explorer answered with nothing for the tag.
        Empty = "empty",
        /// Cost Explorer has no data for the account (not enabled, or enabled less than a day ago).
        Unavailable = "unavailable",
        /// The deploy role may not read costs (`ce:GetCostAndUsage`), or the role was refused.
        Denied = "denied",
        Failed = "failed",
    }
}

text_enum! {
    /// One resource in a drift check, as CloudFormation reports it.
    ResourceDrift ("resource drift") {
        InSync = "in_sync",
        Modified = "modified",
        Deleted = "deleted",
        /// CloudFormation does not check resources of this type: never shown as in sync.
        NotChecked = "not_checked",
    }
}

text_enum! {
    /// Every kind of entry in the audit trail.
    AuditAction ("audit action") {
        RequestCreated = "request.created",
        /// One approver's approval (the request may need more).
        RequestApproval = "request.approval",
        RequestRejected = "request.rejected",
        /// The last approval needed arrived: a rollout is queued.
        RequestApproved = "request.approved",
        RequestExpired = "request.expired",
        RolloutStarted = "rollout.started",
        RolloutPhase = "rollout.phase",
        RolloutSucceeded = "rollout.succeeded",
        RolloutFailed = "rollout.failed",
        RolloutCancelled = "rollout.cancelled",
        /// Someone asked a rollout to stop.
        RolloutCancel = "rollout.cancel",
        RolloutRetry = "rollout.retry",
        /// An approval that no longer counts: its approver lost the approver role.
        ApprovalVoided = "request.approval_voided",
        UserAdded = "user.added",
        UserRoles = "user.roles",
        UserDisabled = "user.disabled",
        UserEnabled = "user.enabled",
        /// An admin set a new password.
        UserPassword = "user.password",
        TokenCreated = "token.created",
        EnvironmentRegistered = "environment.registered",
        EnvironmentChanged = "environment.changed",
        /// An approval set or moved an environment's expiry.
        EnvironmentExpiry = "environment.expiry_set",
        /// An environment reached its expiry: the portal queued its teardown (the approval is the expiry).
        EnvironmentExpired = "environment.expired",
        /// Its schedule put an environment to sleep, or woke it.
        EnvironmentSleep = "environment.sleep",
        EnvironmentWake = "environment.wake",
        /// A drift check ended (who asked, what it found).
        DriftChecked = "environment.drift_checked",
        /// Cost Explorer was read for an environment (who asked, what came of it: each read costs $0.01).
        BillRead = "environment.bill_read",
        /// A running environment's usage assumptions were set from its bill.
        UsageFromBill = "environment.usage_from_bill",
        /// A change window opened: a waiting rollout was queued.
        WindowOpened = "rollout.window_opened",
        /// An admin started a waiting rollout outside its window, with a reason.
        WindowOverride = "rollout.window_override",
        TokenRevoked = "token.revoked",
        SignIn = "signin",
        SignInFailed = "signin.failed",
        SignOut = "signout",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_from_its_text_and_serde_agrees() {
        fn check<T>(all: &[T])
        where
            T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr + Serialize,
        {
            for value in all {
                let text = value.to_string();
                assert_eq!(text.parse::<T>().ok(), Some(*value), "{text}");
                assert_eq!(serde_json::to_value(value).ok(), Some(serde_json::Value::String(text)));
            }
        }
        check(Role::ALL);
        check(RequestKind::ALL);
        check(RequestStatus::ALL);
        check(Decision::ALL);
        check(RolloutStatus::ALL);
        check(PhaseStatus::ALL);
        check(PhaseAction::ALL);
        check(PreviewStatus::ALL);
        check(DeliveryStatus::ALL);
        check(NotificationEvent::ALL);
        check(AuditAction::ALL);
        check(EnvironmentStatus::ALL);
        check(DriftCheckStatus::ALL);
        check(BillReadStatus::ALL);
        check(ResourceDrift::ALL);
    }

    #[test]
    fn an_unknown_text_is_named_with_what_was_expected() {
        let Err(e) = "aproved".parse::<RequestStatus>() else { panic!("a misspelt status was read") };
        assert_eq!(e.to_string(), "unknown request status `aproved`: expected pending, approved, rejected or expired");
    }
}
