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
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("the catalog does not load: {0}")]
    Catalog(#[source] InfraError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("AWS {operation} failed: {message}")]
    Aws { operation: &'static str, message: String },
    #[error("{0}")]
    Startup(String),
}

impl ServerError {
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::NotFound { .. } => StatusCode::NOT_FOUND,
            ServerError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Aws { .. } => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ServerError::NotFound { code, .. } | ServerError::Invalid { code, .. } => code,
            ServerError::Catalog(_) => "catalog_error",
            ServerError::Io { .. } => "io_error",
            ServerError::Aws { .. } => "aws_error",
            ServerError::Startup(_) => "startup_error",
        }
    }
}

/// Domain errors become client errors where the client's input was wrong.
impl From<InfraError> for ServerError {
    fn from(e: InfraError) -> Self {
        match &e {
            InfraError::UnknownTier(_) => ServerError::NotFound {
                code: "unknown_tier",
                message: e.to_string(),
            },
            InfraError::UnknownOption(_) => ServerError::Invalid {
                code: "unknown_option",
                message: e.to_string(),
                field: Some("options".into()),
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
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        if let ServerError::Invalid { field: Some(field), .. } = &self {
            body["field"] = serde_json::Value::String(field.clone());
        }
        (status, Json(serde_json::json!({ "error": body }))).into_response()
    }
}
