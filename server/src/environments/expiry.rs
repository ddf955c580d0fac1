//! When a running environment expires: set by the approval of a deployment with a lifetime (or of
//! an extension), with the reminders already sent and the teardown its expiry queued, so that
//! several portal processes send each reminder once and queue one teardown.

use app::model::RequestKind;
use infra::EnvironmentName;

use crate::db::{get, get_json, Database, Transaction};
use crate::error::ServerError;

/// One environment's expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Expiry {
    pub environment: EnvironmentName,
    pub expires_at: i64,
    /// The request whose approval set it.
    pub set_by_request: i64,
    /// Minutes-before-expiry of the reminders sent since it was set.
    pub reminders_sent: Vec<i64>,
    /// The teardown its expiry queued.
    pub teardown_request: Option<i64>,
}

fn read(row: &sqlx::any::AnyRow) -> Result<Expiry, ServerError> {
    Ok(Expiry {
        environment: crate::db::get_parsed(row, "environment")?,
        expires_at: get(row, "expires_at")?,
        set_by_request: get(row, "set_by_request")?,
        reminders_sent: get_json(row, "reminders_sent")?,
        teardown_request: get(row, "teardown_request")?,
    })
}

/// Sets (or moves) the expiry; the reminders start again.
pub async fn set(tx: &mut Transaction, environment: &str, expires_at: i64, request: i64) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO environment_expiry (environment, expires_at, set_by_request, reminders_sent, teardown_request) \
         VALUES ($1, $2, $3, '[]', NULL) ON CONFLICT (environment) DO UPDATE SET expires_at = excluded.expires_at, \
         set_by_request = excluded.set_by_request, reminders_sent = '[]', teardown_request = NULL",
    )
    .bind(environment)
    .bind(expires_at)
    .bind(request)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The environment no longer expires (deployed without a lifetime, or torn down).
pub async fn clear(tx: &mut Transaction, environment: &str) -> Result<(), ServerError> {
    sqlx::query("DELETE FROM environment_expiry WHERE environment = $1").bind(environment).execute(&mut **tx).await?;
    Ok(())
}

pub async fn of(db: &Database, environment: &str) -> Result<Option<Expiry>, ServerError> {
    let row = sqlx::query("SELECT * FROM environment_expiry WHERE environment = $1")
        .bind(environment)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(read).transpose()
}

/// Every expiry set, soonest first.
pub async fn all(db: &Database) -> Result<Vec<Expiry>, ServerError> {
    let rows = sqlx::query("SELECT * FROM environment_expiry ORDER BY expires_at").fetch_all(&db.pool).await?;
    rows.iter().map(read).collect()
}

/// Records reminders as sent, unless another process recorded them first: `false` then.
pub async fn mark_reminded(tx: &mut Transaction, expiry: &Expiry, sent: &[i64]) -> Result<bool, ServerError> {
    let done = sqlx::query(
        "UPDATE environment_expiry SET reminders_sent = $1 WHERE environment = $2 AND reminders_sent = $3 \
         AND set_by_request = $4",
    )
    .bind(serde_json::to_string(sent)?)
    .bind(expiry.environment.as_str())
    .bind(serde_json::to_string(&expiry.reminders_sent)?)
    .bind(expiry.set_by_request)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the teardown the expiry queued, unless another process queued one first: `false` then.
pub async fn mark_torn_down(tx: &mut Transaction, expiry: &Expiry, request: i64) -> Result<bool, ServerError> {
    let done = sqlx::query(
        "UPDATE environment_expiry SET teardown_request = $1 WHERE environment = $2 AND teardown_request IS NULL \
         AND set_by_request = $3",
    )
    .bind(request)
    .bind(expiry.environment.as_str())
    .bind(expiry.set_by_request)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a request of this kind, once approved, changes the environment's expiry: a deployment
/// sets it from its own lifetime (or clears it), an extension moves it, a teardown ends it.
pub fn governs_expiry(kind: RequestKind) -> bool {
    matches!(kind, RequestKind::Deploy | RequestKind::Extend | RequestKind::Teardown)
}
