//! The portal's own database: SQLite by default, PostgreSQL when
//! `DATABASE_URL=postgres://…`. One code path for both through sqlx's `Any`
//! driver; migrations are embedded per dialect and applied on start.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::error::ServerError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A transaction on the portal's database (either dialect).
pub type Transaction = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub dialect: Dialect,
    /// Ids of rollouts whose rows or events changed: sent by this process's writes on SQLite,
    /// by PostgreSQL's `NOTIFY` (every process's writes) on PostgreSQL. Live views read them (`rollout::feed`).
    pub changes: RolloutChanges,
    /// Kept for the `LISTEN` connection; never logged (it may hold a password).
    url: std::sync::Arc<str>,
}

/// Milliseconds since the Unix epoch: portable across both databases.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

impl Database {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Database, ServerError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(ServerError::Startup(format!(
                "DATABASE_URL must start with sqlite: or postgres://, got `{url}`"
            )));
        };
        if dialect == Dialect::Sqlite {
            create_sqlite_parent(url)?;
        }
        let mut options = AnyPoolOptions::new().max_connections(if dialect == Dialect::Sqlite { 4 } else { 10 });
        if dialect == Dialect::Sqlite {
            // Writers wait for each other instead of failing with "database is locked".
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(url)
            .await
            .map_err(|e| ServerError::Startup(format!("cannot open the database at {}: {e}", redact(url))))?;
        let db = Database { pool, dialect, changes: Default::default(), url: url.into() };
        db.migrate().await?;
        Ok(db)
    }

    fn migrator(&self) -> sqlx::migrate::Migrator {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        }
    }

    pub async fn migrate(&self) -> Result<(), ServerError> {
        Ok(self.migrator().run(&self.pool).await?)
    }

    /// Why this process should not take traffic, if it should not: the database does not answer
    /// (within `timeout`), or it lacks migrations this build knows (another process's upgrade
    /// not done, or a database restored from before it).
    pub async fn not_ready(&self, timeout: std::time::Duration) -> Option<String> {
        let applied = async {
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE").fetch_all(&self.pool).await
        };
        let rows = match tokio::time::timeout(timeout, applied).await {
            Err(_) => return Some(format!("the database did not answer within {} ms", timeout.as_millis())),
            Ok(Err(e)) => return Some(format!("the database cannot be read: {}", redact_error(&e))),
            Ok(Ok(rows)) => rows,
        };
        let applied: std::collections::HashSet<i64> =
            rows.iter().filter_map(|r| get::<i64>(r, "version").ok()).collect();
        let missing: Vec<String> = self
            .migrator()
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{} ({})", m.version, m.description))
            .collect();
        (!missing.is_empty()).then(|| format!("migrations not applied: {}", missing.join(", ")))
    }

    /// This portal's identity (made on first use, the same for every process on this database):
    /// the `portal:instance` tag of the stacks it creates.
    pub async fn instance_id(&self) -> Result<String, ServerError> {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        sqlx::query(
            "INSERT INTO portal_instance (singleton, id, created_at) VALUES (1, $1, $2) ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(hex::encode(bytes))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT id FROM portal_instance WHERE singleton = 1").fetch_one(&self.pool).await?;
        get(&row, "id")
    }

    /// Says that rollout `id` changed, after a write committed. On PostgreSQL the tables' trigger
    /// already notified every process (migration 0014), so this is only SQLite's in-process wake.
    pub fn rollout_changed(&self, id: i64) {
        if self.dialect == Dialect::Sqlite {
            self.changes.send(id);
        }
    }

    /// On PostgreSQL, forwards `NOTIFY portal_rollouts` into [`Database::changes`] until the
    /// process ends (reconnecting, and waking every reader after a gap, when the connection
    /// drops). Nothing to do on SQLite.
    pub fn listen_for_changes(&self) {
        if self.dialect == Dialect::Postgres {
            tokio::spawn(forward_notifications(self.url.clone(), self.changes.clone()));
        }
    }

    /// Starts a write transaction; on SQLite it takes the write lock at once
    /// (BEGIN IMMEDIATE) so two writers never both read then both write.
    pub async fn begin_write(&self) -> Result<Transaction, ServerError> {
        let tx = match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        };
        Ok(tx?)
    }
}

/// Rollout ids whose rows changed, as one process-wide signal.
#[derive(Clone)]
pub struct RolloutChanges(tokio::sync::broadcast::Sender<i64>);

/// The id a wake-up of every reader carries (after the `LISTEN` connection was lost).
pub(crate) const EVERY_ROLLOUT: i64 = 0;

impl Default for RolloutChanges {
    fn default() -> Self {
        RolloutChanges(tokio::sync::broadcast::channel(1024).0)
    }
}

impl RolloutChanges {
    pub fn send(&self, id: i64) {
        // No receiver: nobody watches; nothing to wake.
        let _ = self.0.send(id);
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.0.subscribe()
    }
}

/// `LISTEN portal_rollouts` on a connection of its own, forwarded into `changes`.
async fn forward_notifications(url: std::sync::Arc<str>, changes: RolloutChanges) {
    use sqlx::postgres::PgListener;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!("cannot LISTEN for rollout changes ({e}); retrying in 2 s");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen("portal_rollouts").await {
            tracing::warn!("LISTEN portal_rollouts failed ({e}); retrying in 2 s");
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            continue;
        }
        // Anything may have changed while not listening.
        changes.send(EVERY_ROLLOUT);
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) => {
                    if let Ok(id) = note.payload().parse::<i64>() {
                        changes.send(id);
                    }
                }
                // The connection was lost and is re-established: notifications may be missing.
                Ok(None) => changes.send(EVERY_ROLLOUT),
                Err(e) => {
                    tracing::warn!("LISTEN portal_rollouts lost ({e}); reconnecting");
                    break;
                }
            }
        }
    }
}

fn create_sqlite_parent(url: &str) -> Result<(), ServerError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:").split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|source| ServerError::Io { path: parent.display().to_string(), source })?;
        }
    }
    Ok(())
}

/// The URL without its password, for messages.
/// A database failure said without names, hosts or messages from the server (readiness answers
/// anyone who asks).
fn redact_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => format!("cannot reach it ({:?})", io.kind()),
        sqlx::Error::PoolTimedOut => "no connection came free in time".to_owned(),
        sqlx::Error::PoolClosed => "the connection pool is closed".to_owned(),
        sqlx::Error::Database(db) => {
            format!("it refused the query (code {})", db.code().as_deref().unwrap_or("unknown"))
        }
        _ => "it failed".to_owned(),
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, ServerError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok(row.try_get(column)?)
}

/// A text column read back as its type: an enum (a status, a kind) or a domain type
/// (`TierId`); a value that does not parse is a [`ServerError::Stored`] naming the column.
pub(crate) fn get_parsed<T>(row: &AnyRow, column: &'static str) -> Result<T, ServerError>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    get::<String>(row, column)?.parse().map_err(ServerError::stored(column))
}

/// Like [`get_parsed`] for a nullable column.
pub(crate) fn get_parsed_opt<T>(row: &AnyRow, column: &'static str) -> Result<Option<T>, ServerError>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    get::<Option<String>>(row, column)?.map(|s| s.parse().map_err(ServerError::stored(column))).transpose()
}

/// A column holding JSON written by the portal itself, read back as its type.
pub(crate) fn get_json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &'static str) -> Result<T, ServerError> {
    serde_json::from_str(&get::<String>(row, column)?).map_err(ServerError::stored(column))
}

/// Runs one statement on a server-level connection (tests create and drop databases with it).
pub async fn admin_execute(url: &str, statement: &str) -> Result<(), ServerError> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut conn).await?;
    Ok(())
}
