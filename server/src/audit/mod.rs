//! The audit trail: append-only, each entry carrying the hash of the one
//! before it, so an edited, removed or reordered entry breaks the chain; [`head`] keeps the
//! chain's newest entry outside the database, so removing the newest entries shows too.

pub mod head;

use app::model::AuditAction;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{get, get_parsed, now_ms, Database, Dialect, Transaction};
use crate::error::ServerError;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "genesis";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub subject: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

fn entry_hash(prev_hash: &str, at: i64, actor: &str, action: &str, subject: &str, details: &str) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different entries hash the same text.
    for field in [prev_hash, &at.to_string(), actor, action, subject, details] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends an entry inside the caller's transaction, so it commits or rolls back with the action.
pub async fn append(
    db: &Database,
    tx: &mut Transaction,
    actor: &str,
    action: AuditAction,
    subject: &str,
    details: serde_json::Value,
) -> Result<(), ServerError> {
    if db.dialect == Dialect::Postgres {
        // Serialises appends: two transactions must not both extend the same last entry.
        sqlx::query("SELECT pg_advisory_xact_lock(7305001)").execute(&mut **tx).await?;
    }
    let last = sqlx::query("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&mut **tx).await?;
    let prev_hash = match &last {
        Some(row) => get::<String>(row, "hash")?,
        None => GENESIS.to_owned(),
    };
    let at = now_ms();
    let details = details.to_string();
    let hash = entry_hash(&prev_hash, at, actor, action.as_str(), subject, &details);
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at)
    .bind(actor)
    .bind(action.as_str())
    .bind(subject)
    .bind(&details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Where the chain breaks, if it does.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("audit entry {id}: {reason}")]
pub struct ChainBreak {
    pub id: i64,
    pub reason: String,
}

/// Walks the whole log in order; returns how many entries hold, or the first break.
pub async fn verify(db: &Database) -> Result<Result<u64, ChainBreak>, ServerError> {
    let mut prev = GENESIS.to_owned();
    let mut count = 0u64;
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT 5000",
        )
        .bind(after)
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Ok(count));
        }
        for row in &rows {
            let id: i64 = get(row, "id")?;
            let stored_prev: String = get(row, "prev_hash")?;
            let stored_hash: String = get(row, "hash")?;
            if stored_prev != prev {
                return Ok(Err(ChainBreak {
                    id,
                    reason: "does not follow the entry before it (an entry was removed or reordered)".into(),
                }));
            }
            let computed = entry_hash(
                &stored_prev,
                get(row, "at")?,
                &get::<String>(row, "actor")?,
                &get::<String>(row, "action")?,
                &get::<String>(row, "subject")?,
                &get::<String>(row, "details")?,
            );
            if computed != stored_hash {
                return Ok(Err(ChainBreak {
                    id,
                    reason: "its content does not match its hash (the entry was edited)".into(),
                }));
            }
            prev = stored_hash;
            count += 1;
            after = id;
        }
    }
}

fn entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry, ServerError> {
    let details: String = get(row, "details")?;
    Ok(AuditEntry {
        id: get(row, "id")?,
        at: get(row, "at")?,
        actor: get(row, "actor")?,
        action: get_parsed(row, "action")?,
        subject: get(row, "subject")?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

/// Newest first, `limit` entries before `before_id` (keyset pagination).
pub async fn page(db: &Database, before_id: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 500))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(entry).collect()
}

/// Every entry about one subject (`request:42`), oldest first: a request's timeline.
pub async fn about(db: &Database, subject: &str) -> Result<Vec<AuditEntry>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE subject = $1 ORDER BY id",
    )
    .bind(subject)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(entry).collect()
}
