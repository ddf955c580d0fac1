//! The `portal` server: HTTP (pages, server functions, JSON API), command
//! line, and the only code that talks to AWS.

pub mod api;
pub mod aws;
pub mod cli;
pub mod error;
pub mod http;
pub mod views;

pub use error::ServerError;
