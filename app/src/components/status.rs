//! How statuses look: a request's or rollout's status badge, the class of a CloudFormation
//! resource status (for the diagram and the event list), and a rollout phase's label.

use leptos::prelude::*;

use crate::model::PhaseStatus;

/// A request's or rollout's status as a badge (`status status-{status}`): pass the status's
/// `as_str()`.
pub fn status_badge(status: &'static str) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status}</span> }
}

/// The status class of a stack event's resource status, for the diagram and the event list.
pub fn status_class(status: &str) -> &'static str {
    if status.starts_with("DELETE_COMPLETE") {
        "deleted"
    } else if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
        "failed"
    } else if status.ends_with("_IN_PROGRESS") {
        "progress"
    } else if status.ends_with("_COMPLETE") {
        "complete"
    } else {
        "pending"
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
