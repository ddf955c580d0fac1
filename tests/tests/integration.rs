//! Integration tests; each module covers one area.

mod api;
mod bad_input;
mod cfn_lint;
mod checkov;
mod deploy;
mod environments;
mod live;
mod operations;
mod processes;
mod requests;
mod rollouts;
mod sandbox;
mod security;
mod sso;
