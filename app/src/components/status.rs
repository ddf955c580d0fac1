//! How statuses look: a request's or rollout's status badge, the class of a CloudFormation
//! resource status (for the diagram and the event list), and a rollout phase's label.

use leptos::prelude::*;

use crate::model::PhaseStatus;

/// A request's or rollout's status as a badge (`status status-{status}`): pass the status's
/// `as_str()`.
pub fn status_badge(status: &'static str) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.replace('_', " ")}</span> }
}

/// An environment's status badge (its own colours: "running" is up, not in progress).
pub fn environment_badge(status: crate::model::EnvironmentStatus) -> impl IntoView {
    view! { <span class=format!("status env-status env-{}", status.as_str())>{status.label()}</span> }
}

/// How a resource looks on the diagram and in the event list, from CloudFormation's resource
/// status (or its phase's, before the resource has events of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceLook {
    Complete,
    Progress,
    Failed,
    Deleted,
    Untouched,
}

impl ResourceLook {
    pub fn of(cloudformation_status: &str) -> ResourceLook {
        let status = cloudformation_status;
        if status.starts_with("DELETE_COMPLETE") {
            ResourceLook::Deleted
        } else if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
            ResourceLook::Failed
        } else if status.ends_with("_IN_PROGRESS") {
            ResourceLook::Progress
        } else if status.ends_with("_COMPLETE") {
            ResourceLook::Complete
        } else {
            ResourceLook::Untouched
        }
    }

    /// The CSS class suffix (`event-{class}`).
    pub fn class(self) -> &'static str {
        match self {
            ResourceLook::Complete => "complete",
            ResourceLook::Progress => "progress",
            ResourceLook::Failed => "failed",
            ResourceLook::Deleted => "deleted",
            ResourceLook::Untouched => "pending",
        }
    }

    /// The fill and stroke on the diagram; none for a resource not yet touched.
    pub fn colours(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            ResourceLook::Complete => ("#dcfce7", "#15803d"),
            ResourceLook::Progress => ("#fef9c3", "#a16207"),
            ResourceLook::Failed => ("#fee2e2", "#b91c1c"),
            ResourceLook::Deleted => ("#e5e7eb", "#6b7280"),
            ResourceLook::Untouched => return None,
        })
    }
}

/// A rollout phase's status with its symbol, as its card shows it.
pub fn phase_label(status: PhaseStatus) -> &'static str {
    match status {
        PhaseStatus::Done => "✓ done",
        PhaseStatus::Running => "● running",
        PhaseStatus::Failed => "✗ failed",
        PhaseStatus::Cancelled => "⊘ cancelled",
        PhaseStatus::Pending => "○ pending",
    }
}
