//! Integration tests; each module covers one area.

mod api;
mod cfn_lint;
mod deploy;
mod requests;
