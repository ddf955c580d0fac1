//! Integration tests; each module covers one area.

mod api;
mod processes;
mod cfn_lint;
mod deploy;
mod requests;
mod rollouts;
mod sandbox;
mod sso;
