//! The people rows every part of `people` reads: a user with their roles, and the end of a
//! user's sessions. Kept apart so that users, sessions, tokens and single sign-on depend on it
//! and not on each other.

use app::model::Role;

use crate::db::{get, get_parsed, Database, Transaction};
use crate::error::ServerError;
use crate::people::User;

/// The longest user name; longer ones are refused before anything is looked up or stored.
pub const MAX_NAME_LENGTH: usize = 64;

pub(crate) async fn load_user(db: &Database, id: i64) -> Result<Option<User>, ServerError> {
    let Some(row) =
        sqlx::query("SELECT id, name, disabled_at FROM users WHERE id = $1").bind(id).fetch_optional(&db.pool).await?
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
    let disabled = get::<Option<i64>>(&row, "disabled_at")?.is_some();
    Ok(Some(User { id: get(&row, "id")?, name: get(&row, "name")?, roles, disabled }))
}

/// Ends every session of a user, inside the caller's transaction.
pub(crate) async fn end_sessions(tx: &mut Transaction, user_id: i64) -> Result<(), ServerError> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    Ok(())
}
