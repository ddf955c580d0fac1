//! People: users and their roles, API tokens, browser sessions and the sign-in limit, and single
//! sign-on through OpenID Connect. Nothing here knows HTTP: the web layer reads cookies and
//! headers and hands over their values.

pub mod oidc;
pub mod sessions;
pub mod users;

use std::collections::BTreeSet;

pub use app::model::Role;
use serde::Serialize;
pub use users::{add_user, authenticate, list_users, parse_role, parse_roles, set_roles};

use crate::error::ServerError;

/// Someone the portal knows, with the roles they hold now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub roles: BTreeSet<Role>,
}

impl User {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Fails with 403 unless the user holds one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), ServerError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            Err(ServerError::Forbidden(format!(
                "{} may not {action}: it needs the role {}",
                self.name,
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
            )))
        }
    }
}
