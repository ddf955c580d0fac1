//! Users: accounts, roles, password hashes (argon2id), and what admins do to them (roles,
//! disabling, password resets). A change of roles or a disabled account ends the user's sessions
//! at once; an approver who loses the role loses their approvals of pending requests.

use std::collections::BTreeSet;

use app::model::{AuditAction, Decision, RequestStatus, Role};

use crate::audit;
use crate::db::{get, get_parsed, now_ms, Database, Transaction};
use crate::error::ServerError;
use crate::people::passwords::hash_password;
use crate::people::records::{load_user, MAX_NAME_LENGTH};
use crate::people::User;
use crate::people::PORTAL_REQUESTER;

fn valid_user_name(name: &str) -> Result<(), ServerError> {
    let ok = (2..=MAX_NAME_LENGTH).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
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
            field: Some("roles".into()),
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
    let token = match with_token {
        true => Some(crate::people::tokens::insert(&mut tx, id, "initial", None).await?.0),
        false => None,
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
    Ok((User { id, name: name.to_owned(), roles: roles.clone(), disabled: false }, token))
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
        "SELECT u.id, u.name, u.disabled_at, r.role FROM users u LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE u.name <> $1 ORDER BY u.name, r.role",
    )
    .bind(PORTAL_REQUESTER)
    .fetch_all(&db.pool)
    .await?;
    let mut users: Vec<User> = Vec::new();
    for row in &rows {
        let id: i64 = get(row, "id")?;
        let role: Option<Role> = crate::db::get_parsed_opt(row, "role")?;
        if users.last().map(|u| u.id) != Some(id) {
            let disabled = get::<Option<i64>>(row, "disabled_at")?.is_some();
            users.push(User { id, name: get(row, "name")?, roles: BTreeSet::new(), disabled });
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
    let (id, disabled) = user_id(&mut tx, name).await?;
    if id == actor.id && !roles.contains(&Role::Admin) {
        return Err(ServerError::Conflict("an admin cannot remove their own admin role".into()));
    }
    let before: BTreeSet<Role> = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| get_parsed::<Role>(r, "role"))
        .collect::<Result<_, _>>()?;
    if before == *roles {
        tx.commit().await?;
        return Ok(User { id, name: name.to_owned(), roles: roles.clone(), disabled });
    }
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    insert_roles(&mut tx, id, roles).await?;
    // Whatever the user's sessions were allowed, they are not any more: they sign in again.
    crate::people::records::end_sessions(&mut tx, id).await?;
    if before.contains(&Role::Approver) && !roles.contains(&Role::Approver) {
        void_pending_approvals(db, &mut tx, actor, id, name).await?;
    }
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
    Ok(User { id, name: name.to_owned(), roles: roles.clone(), disabled })
}

/// The id of a user by name, and whether they are disabled; 404 when there is none (the portal's
/// own requester is nobody's to change: it never gets a role or a password).
async fn user_id(tx: &mut Transaction, name: &str) -> Result<(i64, bool), ServerError> {
    let row = sqlx::query("SELECT id, disabled_at FROM users WHERE name = $1 AND name <> $2")
        .bind(name)
        .bind(PORTAL_REQUESTER)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| ServerError::NotFound { code: "unknown_user", message: format!("no user `{name}`") })?;
    Ok((get(&row, "id")?, get::<Option<i64>>(&row, "disabled_at")?.is_some()))
}

/// An approval counts only while its approver holds the role: a demoted approver's approvals of
/// pending requests are void, each audited on its request.
async fn void_pending_approvals(
    db: &Database,
    tx: &mut Transaction,
    actor: &User,
    approver_id: i64,
    approver: &str,
) -> Result<(), ServerError> {
    let pending = sqlx::query(
        "SELECT a.id, a.request_id FROM approvals a JOIN deployment_requests r ON r.id = a.request_id \
         WHERE a.approver_id = $1 AND a.voided_at IS NULL AND a.decision = $2 AND r.status = $3",
    )
    .bind(approver_id)
    .bind(Decision::Approve.as_str())
    .bind(RequestStatus::Pending.as_str())
    .fetch_all(&mut **tx)
    .await?;
    for row in pending {
        let (id, request): (i64, i64) = (get(&row, "id")?, get(&row, "request_id")?);
        let reason = "the approver no longer holds the approver role";
        void_approval(db, tx, actor, VoidedApproval { id, request, approver, reason }).await?;
    }
    Ok(())
}

/// An approval that stops counting, and why.
pub(crate) struct VoidedApproval<'a> {
    pub id: i64,
    pub request: i64,
    pub approver: &'a str,
    pub reason: &'a str,
}

/// Voids one approval inside the caller's transaction, audited on its request with the reason.
pub(crate) async fn void_approval(
    db: &Database,
    tx: &mut Transaction,
    actor: &User,
    voided: VoidedApproval<'_>,
) -> Result<(), ServerError> {
    sqlx::query("UPDATE approvals SET voided_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(voided.id)
        .execute(&mut **tx)
        .await?;
    let details = serde_json::json!({ "approver": voided.approver, "reason": voided.reason });
    let subject = format!("request:{}", voided.request);
    audit::append(db, tx, &actor.name, AuditAction::ApprovalVoided, &subject, details).await
}

/// Disables (`disabled`) or enables a user: an admin action, audited. A disabled user's sessions
/// end at once, their tokens stop working, and they cannot sign in.
pub async fn set_disabled(db: &Database, actor: &User, name: &str, disabled: bool) -> Result<User, ServerError> {
    actor.require(&[Role::Admin], if disabled { "disable users" } else { "enable users" })?;
    let mut tx = db.begin_write().await?;
    let (id, was) = user_id(&mut tx, name).await?;
    if id == actor.id && disabled {
        return Err(ServerError::Conflict("an admin cannot disable their own account".into()));
    }
    if was != disabled {
        let at = disabled.then(now_ms);
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
        if disabled {
            crate::people::records::end_sessions(&mut tx, id).await?;
        }
        let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
        audit::append(db, &mut tx, &actor.name, action, &format!("user:{name}"), serde_json::json!({})).await?;
    }
    tx.commit().await?;
    load_user(db, id)
        .await?
        .ok_or_else(|| ServerError::NotFound { code: "unknown_user", message: format!("no user `{name}`") })
}

/// Sets a new password for a user (an admin's reset), ending their sessions; audited.
pub async fn reset_password(db: &Database, actor: &User, name: &str, password: &str) -> Result<(), ServerError> {
    actor.require(&[Role::Admin], "reset passwords")?;
    let hash = hash_password(password)?;
    let mut tx = db.begin_write().await?;
    let (id, _) = user_id(&mut tx, name).await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(id).execute(&mut *tx).await?;
    crate::people::records::end_sessions(&mut tx, id).await?;
    audit::append(db, &mut tx, &actor.name, AuditAction::UserPassword, &format!("user:{name}"), serde_json::json!({}))
        .await?;
    Ok(tx.commit().await?)
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
        field: Some("roles".into()),
    })
}
