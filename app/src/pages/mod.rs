//! The portal's pages, one module per page or page family; the routes in [`crate::App`] name
//! them. A page uses the widgets in [`crate::components`], never another page.
//!
//! - [`catalog`]: the tier catalog (`/`) and the page for an unknown address.
//! - [`tier`]: a tier's review page (`/tiers/:id`): options, usage, estimate, rollout plan.
//! - [`signin`]: signing in (`/signin`).
//! - [`environments`]: every environment and where it stands (`/environments`), and one
//!   environment's page (`/environments/:name`): what runs, drift, schedule, expiry, actions.
//! - [`history`]: the request history (`/requests`) and the approvals queue (`/approvals`).
//! - [`request`]: a request's page (`/requests/:id`), where approvers decide.
//! - [`rollout`]: a rollout's own page (`/rollouts/:id`).
//! - [`settings`]: where deployments go, sign-in and notifications (`/settings`).
//! - [`admin`]: users and their roles (`/admin`).

pub mod admin;
pub mod catalog;
pub mod environments;
pub mod history;
pub mod request;
pub mod rollout;
pub mod settings;
pub mod signin;
pub mod tier;
