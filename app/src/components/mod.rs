//! Widgets shared by the pages. A component never imports a page; pages import these.
//!
//! - [`nav`]: the header's site navigation, and [`nav::go`] (a full-load navigation).
//! - [`feedback`]: [`feedback::error_view`], a failure shown in place of what could not load.
//! - [`status`]: a request's or rollout's status badge, and the classes and labels of stack and
//!   phase statuses.
//! - [`bill`]: an environment's estimate against its bill (Cost Explorer), the usage the bill
//!   implies, the commitments it could take.
//! - [`cost_table`]: the line-by-line monthly cost table (each line's range at low and high
//!   usage), and the caveat shown beside any committed figure.
//! - [`environment_registry`]: the admin page's environments and their registration form.
//! - [`request_form`]: the "Request this tier" section and its form.
//! - [`requests_table`]: the requests table (history, approvals, an environment's page).
//! - [`preview`]: the change preview of an update request.
//! - [`policy_form`]: an environment's day-two policy, as an admin edits it.
//! - [`posture`]: a deployment's security posture (request path, principles, accepted risks).
//! - [`tokens`]: the caller's API tokens (settings page).
//! - [`rollout`]: a rollout, loaded and then followed live; its phases, events, controls, diagram
//!   and the teardown form.

pub mod bill;
pub mod cost_table;
pub mod environment_registry;
pub mod feedback;
pub mod nav;
pub mod policy_form;
pub mod posture;
pub mod preview;
pub mod request_form;
pub mod requests_table;
pub mod rollout;
pub mod status;
pub mod tokens;
