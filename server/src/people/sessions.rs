//! Browser sign-in: sessions kept in the database (only a hash of the cookie's
//! id is stored), and a limit on failed sign-ins per account and per address.

use std::net::IpAddr;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use app::model::AuditAction;

use crate::audit;
use crate::db::{get, now_ms, Database, Transaction};
use crate::error::ServerError;
use crate::people::users::{load_user, verify_password};
use crate::people::User;

const SESSION_HOURS: i64 = 12;

/// Failed sign-ins allowed in the window before further attempts are refused.
const PER_ACCOUNT: i64 = 5;
const PER_ADDRESS: i64 = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed attempts within the window under `key` (`account:<name>` or `address:<ip>`), counted
/// in the database: every process sharing it applies the same limit.
async fn recent_failures(db: &Database, key: &str) -> Result<i64, ServerError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM signin_failures WHERE key = $1 AND at > $2")
        .bind(key)
        .bind(now_ms() - WINDOW.as_millis() as i64)
        .fetch_one(&db.pool)
        .await?;
    get(&row, "n")
}

async fn record_failure(tx: &mut Transaction, keys: [&str; 2]) -> Result<(), ServerError> {
    let now = now_ms();
    // Old failures no longer count: they go as new ones come.
    sqlx::query("DELETE FROM signin_failures WHERE at <= $1")
        .bind(now - WINDOW.as_millis() as i64)
        .execute(&mut **tx)
        .await?;
    for key in keys {
        sqlx::query("INSERT INTO signin_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Checks the password and opens a session; returns the user and the cookie value.
pub async fn sign_in(
    db: &Database,
    name: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(User, String), ServerError> {
    let account_key = format!("account:{name}");
    let address_key = format!("address:{}", address.map(|a| a.to_string()).unwrap_or_default());
    if recent_failures(db, &account_key).await? >= PER_ACCOUNT
        || recent_failures(db, &address_key).await? >= PER_ADDRESS
    {
        return Err(ServerError::TooManyRequests("too many failed sign-ins; wait 15 minutes and try again".into()));
    }
    let row =
        sqlx::query("SELECT id, password_hash FROM users WHERE name = $1").bind(name).fetch_optional(&db.pool).await?;
    let user_id = match &row {
        Some(row) => {
            let hash: Option<String> = get(row, "password_hash")?;
            hash.filter(|h| verify_password(h, password)).map(|_| get::<i64>(row, "id")).transpose()?
        }
        None => None,
    };
    let mut tx = db.begin_write().await?;
    let Some(user_id) = user_id else {
        record_failure(&mut tx, [&account_key, &address_key]).await?;
        audit::append(
            db,
            &mut tx,
            name,
            AuditAction::SignInFailed,
            &format!("user:{name}"),
            serde_json::json!({ "address": address }),
        )
        .await?;
        tx.commit().await?;
        return Err(ServerError::Unauthorized("wrong user name or password".into()));
    };
    sqlx::query("DELETE FROM signin_failures WHERE key = $1").bind(&account_key).execute(&mut *tx).await?;
    let id = open_session(&mut tx, user_id).await?;
    audit::append(
        db,
        &mut tx,
        name,
        AuditAction::SignIn,
        &format!("user:{name}"),
        serde_json::json!({ "address": address }),
    )
    .await?;
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
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash_id(&id))
        .bind(user_id)
        .bind(now)
        .bind(now + SESSION_HOURS * 3_600_000)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

pub async fn user_for_session(db: &Database, id: &str) -> Result<Option<User>, ServerError> {
    let row = sqlx::query("SELECT user_id FROM sessions WHERE id_hash = $1 AND expires_at > $2")
        .bind(hash_id(id))
        .bind(now_ms())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => load_user(db, get(&row, "user_id")?).await,
        None => Ok(None),
    }
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
