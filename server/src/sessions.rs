//! Browser sign-in: sessions kept in the database (only a hash of the cookie's
//! id is stored), and a limit on failed sign-ins per account and per address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::db::{db_error, get, now_ms, Database};
use crate::error::ServerError;
use crate::people::{load_user, verify_password, User};

const SESSION_HOURS: i64 = 12;

/// Failed sign-ins allowed in the window before further attempts are refused.
const PER_ACCOUNT: usize = 5;
const PER_ADDRESS: usize = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed attempts by account and by address, in this process.
#[derive(Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SignInLimiter {
    fn recent(&self, key: &str) -> usize {
        let Ok(mut map) = self.failures.lock() else { return 0 };
        let now = Instant::now();
        let Some(q) = map.get_mut(key) else { return 0 };
        while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
            q.pop_front();
        }
        q.len()
    }

    fn record(&self, key: String) {
        if let Ok(mut map) = self.failures.lock() {
            map.entry(key).or_default().push_back(Instant::now());
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Checks the password and opens a session; returns the user and the cookie value.
pub async fn sign_in(
    db: &Database,
    limiter: &SignInLimiter,
    name: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(User, String), ServerError> {
    let account_key = format!("account:{name}");
    let address_key = format!("address:{}", address.map(|a| a.to_string()).unwrap_or_default());
    if limiter.recent(&account_key) >= PER_ACCOUNT || limiter.recent(&address_key) >= PER_ADDRESS {
        return Err(ServerError::TooManyRequests(
            "too many failed sign-ins; wait 15 minutes and try again".into(),
        ));
    }
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    let user_id = match &row {
        Some(row) => {
            let hash: Option<String> = get(row, "password_hash")?;
            hash.filter(|h| verify_password(h, password))
                .map(|_| get::<i64>(row, "id"))
                .transpose()?
        }
        None => None,
    };
    let mut tx = db.begin_write().await?;
    let Some(user_id) = user_id else {
        limiter.record(account_key);
        limiter.record(address_key);
        audit::append(db, &mut tx, name, "signin.failed", &format!("user:{name}"), serde_json::json!({ "address": address })).await?;
        tx.commit().await.map_err(db_error)?;
        return Err(ServerError::Unauthorized("wrong user name or password".into()));
    };
    limiter.clear(&account_key);
    let id = open_session(&mut tx, user_id).await?;
    audit::append(db, &mut tx, name, "signin", &format!("user:{name}"), serde_json::json!({ "address": address })).await?;
    tx.commit().await.map_err(db_error)?;
    let user = load_user(db, user_id)
        .await?
        .ok_or_else(|| ServerError::Unauthorized("the user no longer exists".into()))?;
    Ok((user, id))
}

/// Opens a session for `user_id` inside the caller's transaction; returns the cookie value.
pub(crate) async fn open_session(tx: &mut sqlx::Transaction<'static, sqlx::Any>, user_id: i64) -> Result<String, ServerError> {
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
        .await
        .map_err(db_error)?;
    Ok(id)
}

pub async fn user_for_session(db: &Database, id: &str) -> Result<Option<User>, ServerError> {
    let row = sqlx::query("SELECT user_id FROM sessions WHERE id_hash = $1 AND expires_at > $2")
        .bind(hash_id(id))
        .bind(now_ms())
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
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
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(hash_id(id))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    audit::append(db, &mut tx, &user.name, "signout", &format!("user:{}", user.name), serde_json::json!({})).await?;
    tx.commit().await.map_err(db_error)
}
