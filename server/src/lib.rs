//! The `portal` server: HTTP (pages, server functions, JSON API), command
//! line, and the only code that talks to AWS.

pub mod api;
pub mod audit;
pub mod aws;
pub mod cli;
pub mod db;
pub mod error;
pub mod http;
pub mod live;
pub mod notify;
pub mod oidc;
pub mod people;
pub mod preview;
pub mod requests;
pub mod rollout;
pub mod sessions;
pub mod state;
pub mod ui;
pub mod views;

pub use error::ServerError;
