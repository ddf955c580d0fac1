//! Browser sign-in: sessions kept in the database (only a hash of the cookie's id is stored),
//! ended by sign-out, a role change, a disabled account, 12 hours, or an hour without use; and a
//! limit on failed sign-ins per account and per address.
//!
//! The limit is enforced before any password is checked: each attempt first takes a slot (one
//! write transaction counts and records it), so forty parallel guesses at one account check at
//! most five passwords. A right password gives its slot back. Password checks run on blocking
//! threads, a few at a time, and an unknown user costs the same check as a known one.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Duration;

use app::model::AuditAction;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::audit;
use crate::db::{get, now_ms, Database, Dialect, Transaction};
use crate::error::ServerError;
use crate::people::passwords::{hash_password, verify_password};
use crate::people::records::{load_user, MAX_NAME_LENGTH};
use crate::people::User;

const SESSION_HOURS: i64 = 12;
/// A session not used for this long has ended.
const IDLE: Duration = Duration::from_secs(60 * 60);
/// `last_seen_at` is written back at most this often per session.
const SEEN_GRANULARITY_MS: i64 = 60_000;

/// Failed sign-ins allowed in the window before further attempts are refused.
const PER_ACCOUNT: i64 = 5;
const PER_ADDRESS: i64 = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Password checks at once (argon2 takes ~19 MiB and tens of milliseconds each).
static PASSWORD_CHECKS: Semaphore = Semaphore::const_new(2);

/// The hash an unknown user's password is checked against, so that "no such user" takes as long
/// as "wrong password".
static DECOY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_password("decoy password that matches nothing").ok());

fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Verifies a password off the async workers, at most [`PASSWORD_CHECKS`] at a time.
async fn check_password(hash: Option<String>, password: &str) -> Result<bool, ServerError> {
    let _permit = PASSWORD_CHECKS.acquire().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    let password = password.to_owned();
    let (hash, known) = match hash {
        Some(hash) => (Some(hash), true),
        None => (DECOY_HASH.clone(), false),
    };
    let matched = tokio::task::spawn_blocking(move || hash.is_some_and(|h| verify_password(&h, &password)))
        .await
        .map_err(|e| ServerError::Internal(format!("password check: {e}")))?;
    Ok(known && matched)
}

/// Takes a sign-in slot for the account and the address: refused when either has used up its
/// failures in the window. The slot is recorded as a failure until the password proves right;
/// the ids of its rows are returned.
async fn take_slot(db: &Database, keys: [&str; 2]) -> Result<Vec<i64>, ServerError> {
    let now = now_ms();
    let since = now - WINDOW.as_millis() as i64;
    let mut tx = db.begin_write().await?;
    if db.dialect == Dialect::Postgres {
        // Count and insert as one step across processes (SQLite's BEGIN IMMEDIATE already is).
        sqlx::query("SELECT pg_advisory_xact_lock(7305002)").execute(&mut *tx).await?;
    }
    // Old failures no longer count: they go as new ones come.
    sqlx::query("DELETE FROM signin_failures WHERE at <= $1").bind(since).execute(&mut *tx).await?;
    for (key, limit) in keys.iter().zip([PER_ACCOUNT, PER_ADDRESS]) {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM signin_failures WHERE key = $1 AND at > $2")
            .bind(*key)
            .bind(since)
            .fetch_one(&mut *tx)
            .await?;
        if get::<i64>(&row, "n")? >= limit {
            return Err(ServerError::TooManyRequests("too many failed sign-ins; wait 15 minutes and try again".into()));
        }
    }
    let mut ids = Vec::new();
    for key in keys {
        let row = sqlx::query("INSERT INTO signin_failures (key, at) VALUES ($1, $2) RETURNING id")
            .bind(key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        ids.push(get::<i64>(&row, "id")?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Checks the password and opens a session; returns the user and the cookie value.
pub async fn sign_in(
    db: &Database,
    name: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(User, String), ServerError> {
    if name.is_empty() || name.len() > MAX_NAME_LENGTH || password.len() > 1024 {
        return Err(ServerError::Unauthorized("wrong user name or password".into()));
    }
    let account_key = format!("account:{name}");
    let address_key = format!("address:{}", address.map(|a| a.to_string()).unwrap_or_default());
    let slot = take_slot(db, [&account_key, &address_key]).await?;

    let row = sqlx::query("SELECT id, password_hash, disabled_at FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    let (user_id, hash, disabled) = match &row {
        Some(row) => (
            Some(get::<i64>(row, "id")?),
            get::<Option<String>>(row, "password_hash")?,
            get::<Option<i64>>(row, "disabled_at")?.is_some(),
        ),
        None => (None, None, false),
    };
    let matched = check_password(hash, password).await?;
    let mut tx = db.begin_write().await?;
    let (Some(user_id), true) = (user_id, matched) else {
        // A name that is no account is often a password typed in the wrong box: it is not kept.
        let who = if user_id.is_some() { name } else { "(unknown user)" };
        let details = serde_json::json!({ "address": address });
        audit::append(db, &mut tx, who, AuditAction::SignInFailed, &format!("user:{who}"), details).await?;
        tx.commit().await?;
        return Err(ServerError::Unauthorized("wrong user name or password".into()));
    };
    // The right password: the account's failures and this attempt's slot on the address are given back.
    sqlx::query("DELETE FROM signin_failures WHERE key = $1").bind(&account_key).execute(&mut *tx).await?;
    for id in slot {
        sqlx::query("DELETE FROM signin_failures WHERE id = $1").bind(id).execute(&mut *tx).await?;
    }
    if disabled {
        tx.commit().await?;
        return Err(ServerError::Forbidden(format!("the account `{name}` is disabled; ask an admin")));
    }
    let id = open_session(&mut tx, user_id).await?;
    let details = serde_json::json!({ "address": address });
    audit::append(db, &mut tx, name, AuditAction::SignIn, &format!("user:{name}"), details).await?;
    tx.commit().await?;
    let user =
        load_user(db, user_id).await?.ok_or_else(|| ServerError::Unauthorized("the user no longer exists".into()))?;
    Ok((user, id))
}

/// Opens a session for `user_id` inside the caller's transaction; returns the cookie value.
pub(crate) async fn open_session(tx: &mut Transaction, user_id: i64) -> Result<String, ServerError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let id = hex::encode(bytes);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)",
    )
    .bind(hash_id(&id))
    .bind(user_id)
    .bind(now)
    .bind(now + SESSION_HOURS * 3_600_000)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The user of a live session: not expired, used within the idle time, account not disabled.
pub async fn user_for_session(db: &Database, id: &str) -> Result<Option<User>, ServerError> {
    let now = now_ms();
    let row = sqlx::query(
        "SELECT s.user_id, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.disabled_at IS NULL",
    )
    .bind(hash_id(id))
    .bind(now)
    .bind(now - IDLE.as_millis() as i64)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if get::<i64>(&row, "last_seen_at")? + SEEN_GRANULARITY_MS < now {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(hash_id(id))
            .execute(&db.pool)
            .await?;
    }
    load_user(db, get(&row, "user_id")?).await
}

/// Removes sessions that have ended (expired or idle); returns how many.
pub async fn sweep(db: &Database) -> Result<u64, ServerError> {
    let now = now_ms();
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - IDLE.as_millis() as i64)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

pub async fn sign_out(db: &Database, id: &str) -> Result<(), ServerError> {
    let Some(user) = user_for_session(db, id).await? else {
        return Ok(());
    };
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(hash_id(id)).execute(&mut *tx).await?;
    audit::append(db, &mut tx, &user.name, AuditAction::SignOut, &format!("user:{}", user.name), serde_json::json!({}))
        .await?;
    Ok(tx.commit().await?)
}
