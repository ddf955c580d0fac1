//! The server's one error type, and how each kind answers over HTTP.
//!
//! Sources are kept (`#[source]`/`#[from]`) so a log line shows the whole chain; the HTTP body says
//! what the caller can act on and never leaks a database or SDK message for a 5xx.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use infra::InfraError;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Invalid { code: &'static str, message: String, field: Option<String> },
    #[error("the catalog does not load: {0}")]
    Catalog(#[source] InfraError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The request body is not the JSON the endpoint takes.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("the audit trail is broken: {0}")]
    AuditBroken(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value the code does not know (a status no enum has): the database was edited by hand,
    /// or written by a newer portal.
    #[error("the database's `{column}` holds a value the portal cannot read: {source}")]
    Stored {
        column: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A service the portal depends on (the OIDC provider) did not answer as it should.
    #[error("{0}")]
    Upstream(String),
    /// Something the portal needs is not set up (no AWS configuration, single sign-on off).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an impossible state: the caller can do nothing about it.
    #[error("internal error: {0}")]
    Internal(String),
    /// The portal cannot start: configuration, address, database.
    #[error("{0}")]
    Startup(String),
}

impl ServerError {
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::NotFound { .. } => StatusCode::NOT_FOUND,
            ServerError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Aws(_) | ServerError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ServerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Catalog(_)
            | ServerError::AuditBroken(_)
            | ServerError::Database(_)
            | ServerError::Migration(_)
            | ServerError::Stored { .. }
            | ServerError::Io { .. }
            | ServerError::Internal(_)
            | ServerError::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ServerError::NotFound { code, .. } | ServerError::Invalid { code, .. } => code,
            ServerError::Catalog(_) => "catalog_error",
            ServerError::Unauthorized(_) => "unauthorized",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::Conflict(_) => "conflict",
            ServerError::BadRequest(_) => "bad_request",
            ServerError::TooLarge(_) => "too_large",
            ServerError::TooManyRequests(_) => "too_many_requests",
            ServerError::Database(_) | ServerError::Migration(_) | ServerError::Stored { .. } => "database_error",
            ServerError::AuditBroken(_) => "audit_broken",
            ServerError::Io { .. } => "io_error",
            ServerError::Aws(_) => "aws_error",
            ServerError::Upstream(_) => "upstream_error",
            ServerError::Unavailable(_) => "unavailable",
            ServerError::Internal(_) => "internal_error",
            ServerError::Startup(_) => "startup_error",
        }
    }

    /// A 422 about one field of the input.
    pub fn invalid(field: impl AsRef<str>, message: impl Into<String>) -> ServerError {
        ServerError::Invalid { code: "invalid_field", message: message.into(), field: Some(field.as_ref().to_owned()) }
    }

    /// A stored text that does not parse as its type (an enum, a domain type).
    pub fn stored<E>(column: &'static str) -> impl FnOnce(E) -> ServerError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| ServerError::Stored { column, source: Box::new(source) }
    }
}

/// Serialising our own values cannot fail unless a type is broken: an internal error.
impl From<serde_json::Error> for ServerError {
    fn from(e: serde_json::Error) -> Self {
        ServerError::Internal(format!("JSON: {e}"))
    }
}

/// Domain errors become client errors where the client's input was wrong.
impl From<InfraError> for ServerError {
    fn from(e: InfraError) -> Self {
        match &e {
            InfraError::UnknownTier(_) => ServerError::NotFound { code: "unknown_tier", message: e.to_string() },
            InfraError::UnknownOption(_) => {
                ServerError::Invalid { code: "unknown_option", message: e.to_string(), field: Some("options".into()) }
            }
            InfraError::InvalidDomainName { .. } => ServerError::Invalid {
                code: "invalid_domain_name",
                message: e.to_string(),
                field: Some("domain_name".into()),
            },
            InfraError::InvalidEnvironmentName { .. } => ServerError::Invalid {
                code: "invalid_environment",
                message: e.to_string(),
                field: Some("environment".into()),
            },
            InfraError::Data { file, key, .. } if file == "usage" || file == "region" => ServerError::Invalid {
                code: "invalid_input",
                message: e.to_string(),
                field: Some(if file == "usage" { format!("usage.{key}") } else { "region".into() }),
            },
            _ => ServerError::Catalog(e),
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, source = ?std::error::Error::source(&self), "request failed");
        }
        let message = match &self {
            ServerError::Database(_) | ServerError::Migration(_) | ServerError::Stored { .. } => {
                "the portal's database failed; the action was not recorded".to_owned()
            }
            ServerError::Internal(_) => "the portal failed; the action was not recorded".to_owned(),
            other => other.to_string(),
        };
        let mut body = serde_json::json!({ "code": self.code(), "message": message });
        if let ServerError::Invalid { field: Some(field), .. } = &self {
            body["field"] = serde_json::Value::String(field.clone());
        }
        (status, Json(serde_json::json!({ "error": body }))).into_response()
    }
}

/// An AWS call that did not succeed, classified once from the SDK's error metadata (code and
/// message), so callers match on a variant instead of searching message texts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AwsError {
    /// The stack or change set does not exist (CloudFormation says so with a ValidationError).
    #[error("AWS {operation} failed: {message}")]
    NotFound { operation: &'static str, message: String },
    /// An update that would change nothing: a success for the portal.
    #[error("AWS {operation}: no changes to make")]
    NothingToChange { operation: &'static str },
    /// Throttling, timeouts, dropped connections, 5xx, still failing after the patience ran out.
    #[error("AWS {operation} failed: {message} (still failing after retries)")]
    Transient { operation: &'static str, message: String },
    /// Refused for good: the code and message are the service's own.
    #[error("AWS {operation} failed: {}", failed_text(code, message))]
    Failed { operation: &'static str, code: String, message: String },
}

pub(crate) fn failed_text(code: &str, message: &str) -> String {
    if code.is_empty() {
        message.to_owned()
    } else {
        format!("{code}: {message}")
    }
}
