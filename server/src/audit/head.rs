//! The chain's head (the newest entry's id and hash) kept outside the database, in a file the
//! operator chooses (`PORTAL_AUDIT_HEAD`): the chain alone cannot show that its newest entries were
//! removed, or that the whole trail was emptied and begun again; a head it no longer reaches can.
//!
//! A background task writes the head within half a second of each append (polling, so it sees
//! only committed entries), and never moves it back: a database that no longer holds the exported
//! head is reported, not followed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::audit::ChainBreak;
use crate::db::{get, Database};
use crate::error::ServerError;

/// Where the chain ends: its newest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub id: i64,
    pub hash: String,
}

/// The newest entry of the trail, if it has any.
pub async fn current(db: &Database) -> Result<Option<ChainHead>, ServerError> {
    let row = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&db.pool).await?;
    row.map(|row| Ok(ChainHead { id: get(&row, "id")?, hash: get(&row, "hash")? })).transpose()
}

/// The head exported to `path`; `None` before the first export.
pub fn read(path: &Path) -> Result<Option<ChainHead>, ServerError> {
    let io = |source| ServerError::Io { path: path.display().to_string(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ServerError::AuditBroken(format!("{}: not an exported audit head: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// Writes the head to `path` atomically (a reader sees the old head or the new one, whole).
pub fn write(path: &Path, head: &ChainHead) -> Result<(), ServerError> {
    let io = |source| ServerError::Io { path: path.display().to_string(), source };
    let partial = path.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec(head)?).map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

/// Whether the trail still holds the exported head: the entry of that id, with that hash.
pub async fn reaches(db: &Database, head: &ChainHead) -> Result<Result<(), ChainBreak>, ServerError> {
    let row = sqlx::query("SELECT hash FROM audit_log WHERE id = $1").bind(head.id).fetch_optional(&db.pool).await?;
    match row {
        None => {
            let last = current(db).await?.map(|h| h.id).unwrap_or(0);
            let reason = if last < head.id {
                format!("is the exported head, but the trail ends at entry {last}: entries after {last} were removed")
            } else {
                format!(
                    "is the exported head but is gone, though the trail goes on to entry {last}: it was begun again"
                )
            };
            Ok(Err(ChainBreak { id: head.id, reason }))
        }
        Some(row) if get::<String>(&row, "hash")? != head.hash => Ok(Err(ChainBreak {
            id: head.id,
            reason: "does not match the exported head: the trail was rewritten or begun again".into(),
        })),
        Some(_) => Ok(Ok(())),
    }
}

/// Keeps `path` at the trail's head while the process runs.
pub fn spawn_exporter(db: Database, path: PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reported = false;
        loop {
            match export_once(&db, &path).await {
                Ok(Ok(())) => reported = false,
                Ok(Err(broken)) if !reported => {
                    tracing::error!(path = %path.display(), entry = broken.id, reason = %broken.reason,
                        "the audit trail no longer reaches its exported head; the head is left as it was");
                    reported = true;
                }
                Ok(Err(_)) => {}
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "exporting the audit head failed"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

/// Moves the exported head forward to the trail's head, if the trail still holds the old one.
pub async fn export_once(db: &Database, path: &Path) -> Result<Result<(), ChainBreak>, ServerError> {
    let Some(now) = current(db).await? else { return Ok(Ok(())) };
    match read(path)? {
        Some(old) if old == now => Ok(Ok(())),
        Some(old) => match reaches(db, &old).await? {
            Ok(()) if now.id > old.id => write(path, &now).map(Ok),
            Ok(()) => Ok(Ok(())),
            Err(broken) => Ok(Err(broken)),
        },
        None => write(path, &now).map(Ok),
    }
}
