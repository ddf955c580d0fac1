//! Who may request and approve for an environment: the global role, and, when the environment
//! lists principals for it, being one of them by name or by a single sign-on group held at the
//! last sign-in (production approvers need not be development approvers).

use std::collections::BTreeSet;

use app::model::Role;

use crate::db::{get_json, Database};
use crate::environments::{Environment, Principal};
use crate::error::ServerError;
use crate::people::User;

/// What someone wants to do in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    Request,
    Approve,
}

impl Duty {
    fn role(self) -> Role {
        match self {
            Duty::Request => Role::Requester,
            Duty::Approve => Role::Approver,
        }
    }

    /// Whom the environment lists for this duty (empty: everyone with the role).
    fn listed(self, environment: &Environment) -> &[Principal] {
        match self {
            Duty::Request => &environment.requesters,
            Duty::Approve => &environment.approvers,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Duty::Request => "request deployments",
            Duty::Approve => "approve requests",
        }
    }
}

/// Whether `user` may do `duty` in `environment`: holds the role, and is listed (by name or group)
/// when the environment lists anyone.
pub async fn allowed(db: &Database, user: &User, environment: &Environment, duty: Duty) -> Result<bool, ServerError> {
    if user.disabled || !user.has(duty.role()) {
        return Ok(false);
    }
    let listed = duty.listed(environment);
    if admits(listed, &user.name, &BTreeSet::new()) {
        return Ok(true);
    }
    if !listed.iter().any(|p| matches!(p, Principal::Group(_))) {
        return Ok(false);
    }
    Ok(admits(listed, &user.name, &sso_groups(db, user.id).await?))
}

/// Whether a list of principals admits someone by name or group; an empty list admits everyone.
pub fn admits(listed: &[Principal], name: &str, groups: &BTreeSet<String>) -> bool {
    listed.is_empty()
        || listed.iter().any(|p| match p {
            Principal::User(n) => n == name,
            Principal::Group(g) => groups.contains(g),
        })
}

/// Fails with 403 naming the environment unless `user` may do `duty` there.
pub async fn require(db: &Database, user: &User, environment: &Environment, duty: Duty) -> Result<(), ServerError> {
    if allowed(db, user, environment, duty).await? {
        return Ok(());
    }
    let listed = duty.listed(environment);
    let who = if listed.is_empty() {
        format!("the {} role", duty.role())
    } else {
        format!(
            "the {} role and to be one of {}",
            duty.role(),
            listed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        )
    };
    Err(ServerError::Forbidden(format!(
        "{} may not {} for environment `{}`: that needs {who}",
        user.name,
        duty.verb(),
        environment.name
    )))
}

/// The single sign-on groups a user held at their last sign-in (none for local accounts).
pub(crate) async fn sso_groups(db: &Database, user_id: i64) -> Result<BTreeSet<String>, ServerError> {
    let row = sqlx::query("SELECT sso_groups FROM users WHERE id = $1").bind(user_id).fetch_optional(&db.pool).await?;
    match row {
        Some(row) => get_json(&row, "sso_groups"),
        None => Ok(BTreeSet::new()),
    }
}
