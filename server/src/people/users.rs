//! Users, their roles, password hashes (argon2id) and API tokens (only a hash is stored).

use std::collections::BTreeSet;

use app::model::{AuditAction, Role};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::db::{get, get_parsed, now_ms, Database, Transaction};
use crate::error::ServerError;
use crate::people::User;

fn valid_user_name(name: &str) -> Result<(), ServerError> {
    let ok = (2..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ServerError::Invalid {
            code: "invalid_user_name",
            message: format!("user name `{name}` must be 2 to 64 letters, digits, or . _ @ -"),
            field: Some("name".into()),
        })
    }
}

pub fn hash_password(password: &str) -> Result<String, ServerError> {
    if password.chars().count() < 12 {
        return Err(ServerError::Invalid {
            code: "weak_password",
            message: "a password needs at least 12 characters".into(),
            field: Some("password".into()),
        });
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a user with roles, and optionally a password and an API token
/// (returned once, never stored in the clear). Audited.
pub async fn add_user(
    db: &Database,
    name: &str,
    roles: &BTreeSet<Role>,
    password: Option<&str>,
    with_token: bool,
) -> Result<(User, Option<String>), ServerError> {
    valid_user_name(name)?;
    if roles.is_empty() {
        return Err(ServerError::Invalid {
            code: "no_role",
            message: "a user needs at least one role".into(),
            field: Some("role".into()),
        });
    }
    let password_hash = password.map(hash_password).transpose()?;
    let mut tx = db.begin_write().await?;
    let exists = sqlx::query("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
    if exists.is_some() {
        return Err(ServerError::Conflict(format!("a user named `{name}` already exists")));
    }
    let row = sqlx::query("INSERT INTO users (name, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(password_hash)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
    let id: i64 = get(&row, "id")?;
    insert_roles(&mut tx, id, roles).await?;
    let token = if with_token {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = format!("cpp_{}", hex::encode(bytes));
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(token_hash(&token))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        Some(token)
    } else {
        None
    };
    let role_names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    audit::append(
        db,
        &mut tx,
        "portal",
        AuditAction::UserAdded,
        &format!("user:{name}"),
        serde_json::json!({ "roles": role_names, "token": with_token }),
    )
    .await?;
    tx.commit().await?;
    Ok((User { id, name: name.to_owned(), roles: roles.clone() }, token))
}

pub(crate) async fn load_user(db: &Database, id: i64) -> Result<Option<User>, ServerError> {
    let Some(row) = sqlx::query("SELECT id, name FROM users WHERE id = $1").bind(id).fetch_optional(&db.pool).await?
    else {
        return Ok(None);
    };
    let roles = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1")
        .bind(id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| get_parsed::<Role>(r, "role"))
        .collect::<Result<_, _>>()?;
    Ok(Some(User { id: get(&row, "id")?, name: get(&row, "name")?, roles }))
}

/// The user behind `Authorization: Bearer <token>`; 401 when missing or unknown.
pub async fn authenticate(db: &Database, authorization: Option<&str>) -> Result<User, ServerError> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ServerError::Unauthorized("send `Authorization: Bearer <token>`".into()))?;
    let row = sqlx::query("SELECT user_id FROM api_tokens WHERE token_hash = $1")
        .bind(token_hash(token))
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| ServerError::Unauthorized("unknown or revoked token".into()))?;
    load_user(db, get(&row, "user_id")?)
        .await?
        .ok_or_else(|| ServerError::Unauthorized("the token's user no longer exists".into()))
}

async fn insert_roles(tx: &mut Transaction, user_id: i64, roles: &BTreeSet<Role>) -> Result<(), ServerError> {
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Every user with their roles, by name.
pub async fn list_users(db: &Database) -> Result<Vec<User>, ServerError> {
    let rows = sqlx::query(
        "SELECT u.id, u.name, r.role FROM users u LEFT JOIN user_roles r ON r.user_id = u.id ORDER BY u.name, r.role",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut users: Vec<User> = Vec::new();
    for row in &rows {
        let id: i64 = get(row, "id")?;
        let role: Option<Role> = crate::db::get_parsed_opt(row, "role")?;
        if users.last().map(|u| u.id) != Some(id) {
            users.push(User { id, name: get(row, "name")?, roles: BTreeSet::new() });
        }
        if let (Some(user), Some(role)) = (users.last_mut(), role) {
            user.roles.insert(role);
        }
    }
    Ok(users)
}

/// Replaces a user's roles (an admin action, audited with before and after).
pub async fn set_roles(db: &Database, actor: &User, name: &str, roles: &BTreeSet<Role>) -> Result<User, ServerError> {
    actor.require(&[Role::Admin], "change roles")?;
    if roles.is_empty() {
        return Err(ServerError::Invalid {
            code: "no_role",
            message: "a user needs at least one role".into(),
            field: Some("roles".into()),
        });
    }
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("SELECT id FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ServerError::NotFound { code: "unknown_user", message: format!("no user `{name}`") })?;
    let id: i64 = get(&row, "id")?;
    if id == actor.id && !roles.contains(&Role::Admin) {
        return Err(ServerError::Conflict("an admin cannot remove their own admin role".into()));
    }
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    insert_roles(&mut tx, id, roles).await?;
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    audit::append(
        db,
        &mut tx,
        &actor.name,
        AuditAction::UserRoles,
        &format!("user:{name}"),
        serde_json::json!({ "roles": names }),
    )
    .await?;
    tx.commit().await?;
    Ok(User { id, name: name.to_owned(), roles: roles.clone() })
}

/// Role names to roles; the first unknown one is an error naming it.
pub fn parse_roles(roles: &[String]) -> Result<BTreeSet<Role>, ServerError> {
    roles.iter().map(|r| parse_role(r)).collect()
}

/// A role name, or a 422 naming it and the roles there are.
pub fn parse_role(name: &str) -> Result<Role, ServerError> {
    name.parse().map_err(|e: app::model::UnknownValue| ServerError::Invalid {
        code: "invalid_role",
        message: e.to_string(),
        field: Some("role".into()),
    })
}
