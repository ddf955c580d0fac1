//! The server's one error type, and how each kind answers over HTTP.

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
    Database(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("AWS {operation} failed: {message}")]
    Aws { operation: &'static str, message: String },
    /// A service the portal depends on (the OIDC provider) did not answer as it should.
    #[error("{0}")]
    Upstream(String),
    #[error("{0}")]
    Startup(String),
}

impl ServerError {
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::NotFound { .. } => StatusCode::NOT_FOUND,
            ServerError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Aws { .. } | ServerError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
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
            ServerError::Database(_) => "database_error",
            ServerError::AuditBroken(_) => "audit_broken",
            ServerError::Io { .. } => "io_error",
            ServerError::Aws { .. } => "aws_error",
            ServerError::Upstream(_) => "upstream_error",
            ServerError::Startup(_) => "startup_error",
        }
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
            tracing::error!(error = %self, "request failed");
        }
        let message = match &self {
            ServerError::Database(_) => "the portal's database failed; the action was not recorded".to_owned(),
            other => other.to_string(),
        };
        let mut body = serde_json::json!({ "code": self.code(), "message": message });
        if let ServerError::Invalid { field: Some(field), .. } = &self {
            body["field"] = serde_json::Value::String(field.clone());
        }
        (status, Json(serde_json::json!({ "error": body }))).into_response()
    }
}
