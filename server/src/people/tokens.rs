//! API tokens: named, shown once, stored only as a SHA-256, expiring (90 days unless set at
//! creation), revocable by their owner and by admins; each use is remembered. A token of a
//! disabled user, an expired or a revoked one is refused with the reason.

use app::model::{AuditAction, Role, TokenView};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::db::{get, now_ms, Database, Transaction};
use crate::error::ServerError;
use crate::people::records::load_user;
use crate::people::User;

/// A token lives this long unless its creator says otherwise.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest a token may live.
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;
/// A use is written back at most this often per token, not on every call.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token as admins see it: whose, and what its owner sees (never the token itself).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub user: String,
    #[serde(flatten)]
    pub token: TokenView,
}

const SELECT_TOKENS: &str = "SELECT t.id, u.name AS user_name, t.name, t.prefix, t.created_at, t.expires_at, \
     t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn read(r: &sqlx::any::AnyRow) -> Result<TokenInfo, ServerError> {
    Ok(TokenInfo {
        user: get(r, "user_name")?,
        token: TokenView {
            id: get(r, "id")?,
            name: get(r, "name")?,
            prefix: get(r, "prefix")?,
            created_at: get(r, "created_at")?,
            expires_at: get(r, "expires_at")?,
            last_used_at: get(r, "last_used_at")?,
            revoked_at: get(r, "revoked_at")?,
        },
    })
}

/// One token by id.
async fn one(db: &Database, id: i64) -> Result<TokenInfo, ServerError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT_TOKENS} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| ServerError::NotFound { code: "unknown_token", message: format!("no token {id}") })?;
    read(&row)
}

/// A token's name, checked: 1 to 64 printable characters.
fn token_name(name: &str) -> Result<String, ServerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ServerError::invalid("name", "a token's name has 1 to 64 printable characters"));
    }
    Ok(name.to_owned())
}

/// Creates a token for `user_id` inside the caller's transaction; returns it (shown once) and its id.
pub(crate) async fn insert(
    tx: &mut Transaction,
    user_id: i64,
    name: &str,
    days: Option<i64>,
) -> Result<(String, i64), ServerError> {
    let name = token_name(name)?;
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ServerError::invalid("expires_in_days", format!("a token lives 1 to {MAX_DAYS} days")));
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("cpp_{}", hex::encode(bytes));
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO api_tokens (user_id, token_hash, created_at, name, prefix, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user_id)
    .bind(token_hash(&token))
    .bind(now)
    .bind(&name)
    .bind(token.chars().take(12).collect::<String>())
    .bind(now + days * DAY_MS)
    .fetch_one(&mut **tx)
    .await?;
    Ok((token, get(&row, "id")?))
}

/// A new token for the caller (`POST /api/tokens`), audited; the answer is the only time it is shown.
pub async fn create(
    db: &Database,
    user: &User,
    name: &str,
    days: Option<i64>,
) -> Result<(TokenInfo, String), ServerError> {
    let mut tx = db.begin_write().await?;
    let (token, id) = insert(&mut tx, user.id, name, days).await?;
    let details = serde_json::json!({ "token": id, "name": name.trim() });
    audit::append(db, &mut tx, &user.name, AuditAction::TokenCreated, &format!("user:{}", user.name), details).await?;
    tx.commit().await?;
    Ok((one(db, id).await?, token))
}

/// Tokens of one user (or of everyone), newest first.
pub async fn list(db: &Database, user_id: Option<i64>) -> Result<Vec<TokenInfo>, ServerError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_TOKENS} WHERE ($1 IS NULL OR t.user_id = $1) ORDER BY t.id DESC"
    )))
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(read).collect()
}

/// Revokes a token: by its owner or by an admin. Revoking a revoked token changes nothing.
pub async fn revoke(db: &Database, actor: &User, id: i64) -> Result<TokenInfo, ServerError> {
    let unknown = || ServerError::NotFound { code: "unknown_token", message: format!("no token {id}") };
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT t.user_id, t.revoked_at, u.name FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(unknown)?;
    let owner: i64 = get(&row, "user_id")?;
    if owner != actor.id && !actor.has(Role::Admin) {
        // Someone else's token is as good as absent: no telling which ids exist.
        return Err(unknown());
    }
    if get::<Option<i64>>(&row, "revoked_at")?.is_none() {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let owner_name: String = get(&row, "name")?;
        let details = serde_json::json!({ "token": id });
        audit::append(db, &mut tx, &actor.name, AuditAction::TokenRevoked, &format!("user:{owner_name}"), details)
            .await?;
    }
    tx.commit().await?;
    one(db, id).await
}

/// The user behind `Authorization: Bearer <token>`; 401 with the reason when there is none.
pub async fn authenticate(db: &Database, authorization: Option<&str>) -> Result<User, ServerError> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ServerError::Unauthorized("send `Authorization: Bearer <token>`".into()))?;
    let row = sqlx::query(
        "SELECT t.id, t.user_id, t.expires_at, t.revoked_at, t.last_used_at, u.disabled_at \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| ServerError::Unauthorized("unknown token".into()))?;
    let now = now_ms();
    if get::<Option<i64>>(&row, "revoked_at")?.is_some() {
        return Err(ServerError::Unauthorized("this token was revoked".into()));
    }
    if get::<Option<i64>>(&row, "expires_at")?.is_some_and(|at| at <= now) {
        return Err(ServerError::Unauthorized("this token has expired; create a new one".into()));
    }
    if get::<Option<i64>>(&row, "disabled_at")?.is_some() {
        return Err(ServerError::Unauthorized("the token's user is disabled".into()));
    }
    let id: i64 = get(&row, "id")?;
    if get::<Option<i64>>(&row, "last_used_at")?.is_none_or(|at| at + LAST_USED_GRANULARITY_MS < now) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&db.pool)
            .await?;
    }
    load_user(db, get(&row, "user_id")?)
        .await?
        .ok_or_else(|| ServerError::Unauthorized("the token's user no longer exists".into()))
}
