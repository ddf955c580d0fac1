//! The `portal` server: the only code that talks to AWS and to the database.
//!
//! Layers, dependencies one way: [`web`] (HTTP: router, API, pages' backend, live events, single
//! sign-on) → the domains [`requests`], [`rollout`], [`environments`], [`people`] → [`audit`], [`notify`], [`db`].
//! [`application`] puts them together from [`settings`]; [`cli`] is the command line.
//! See ARCHITECTURE.md for the map.

pub mod application;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod db;
pub mod environments;
pub mod error;
pub mod lifecycle;
pub mod notify;
pub mod people;
pub mod requests;
pub mod rollout;
pub mod settings;
pub mod telemetry;
pub mod web;

pub use error::ServerError;
