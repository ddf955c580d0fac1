//! Integration tests; each module covers one area.

mod api;
mod bad_input;
mod bill;
mod cfn_lint;
mod checkov;
mod day_two;
mod deploy;
mod drift;
mod environments;
mod live;
mod operations;
mod processes;
mod requests;
mod rollouts;
mod sandbox;
mod security;
mod sso;
