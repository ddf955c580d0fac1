//! The server side of the server functions, implemented by the `server` crate
//! and handed to the app through Leptos context. Keeps AWS, database and
//! catalog code out of the UI crate.

use std::sync::Arc;

use crate::model::{TierQuery, TierSummary, TierView};

/// A failure the UI can show as it is: the message names what was wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

pub trait Backend: Send + Sync + 'static {
    fn tiers(&self) -> Result<Vec<TierSummary>, BackendError>;
    fn tier(&self, query: &TierQuery) -> Result<TierView, BackendError>;
    fn sandbox(&self) -> bool;
}

pub type SharedBackend = Arc<dyn Backend>;
