//! People: users and their roles, API tokens, browser sessions and the sign-in limit, and single
//! sign-on through OpenID Connect. Nothing here knows HTTP: the web layer reads cookies and
//! headers and hands over their values.

pub mod oidc;
pub mod passwords;
pub mod records;
pub mod sessions;
pub mod tokens;
pub mod users;

use std::collections::BTreeSet;

pub use app::model::Role;
use serde::Serialize;
pub use tokens::authenticate;
pub use users::{add_user, list_users, parse_role, parse_roles, reset_password, set_disabled, set_roles};

use crate::error::ServerError;

/// Who asks for what the portal does by itself (an expiry's teardown, a schedule's sleep and
/// wake; migration 0015): its name is no valid user name, so nobody signs up or in as it; it has
/// no password and no role, and no admin action reaches it.
pub const PORTAL_REQUESTER: &str = "(portal)";

/// Someone the portal knows, with the roles they hold now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub roles: BTreeSet<Role>,
    /// A disabled user cannot sign in; their sessions and tokens are refused.
    pub disabled: bool,
}

impl User {
    /// Whoever runs the `portal` command line on the server: an admin, recorded as `portal-cli`.
    pub fn operator() -> User {
        User { id: 0, name: "portal-cli".into(), roles: BTreeSet::from([Role::Admin]), disabled: false }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Holds at least one of `roles`.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
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
