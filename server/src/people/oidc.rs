//! OpenID Connect sign-in (Cognito or any OIDC provider), as an alternative to
//! local passwords: authorization code flow with PKCE, state and nonce; the ID
//! token is verified (signature against the provider's JWKS, issuer, audience,
//! expiry, nonce) and the user's portal roles come from a group claim.
//!
//! The pending sign-ins (state → nonce, PKCE verifier) live in the database, so
//! any portal process sharing it can finish a sign-in another one started.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use sha2::Digest as _;
use tokio::sync::OnceCell;

use app::model::AuditAction;

use crate::audit;
use crate::db::{get, now_ms, Database};
use crate::error::ServerError;
use crate::people::records::load_user;
use crate::people::sessions::open_session;
use crate::people::{Role, User};

/// A started sign-in must come back from the provider within this time.
const PENDING_MINUTES: i64 = 10;

/// Where the provider sends the browser back to, under the portal's public URL.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
pub const START_PATH: &str = "/auth/oidc/start";

/// The provider and how its groups map to portal roles.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// `https://portal.example.com/auth/oidc/callback`
    pub redirect_url: String,
    /// The ID-token claim that lists the user's groups (`groups`; Cognito: `cognito:groups`).
    pub groups_claim: String,
    /// Group name → the roles it grants.
    pub role_map: BTreeMap<String, BTreeSet<Role>>,
    /// Shown on the sign-in button ("Sign in with <label>").
    pub label: String,
}

impl OidcConfig {
    /// From `PORTAL_OIDC_*` and `PORTAL_PUBLIC_URL` as `var` reads them; `None` when
    /// `PORTAL_OIDC_ISSUER` is unset (local sign-in only).
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<OidcConfig>, ServerError> {
        let Some(issuer) = var("PORTAL_OIDC_ISSUER") else {
            return Ok(None);
        };
        let missing = |name: &str| ServerError::Startup(format!("PORTAL_OIDC_ISSUER is set but {name} is not"));
        let client_id = var("PORTAL_OIDC_CLIENT_ID").ok_or_else(|| missing("PORTAL_OIDC_CLIENT_ID"))?;
        let public_url = var("PORTAL_PUBLIC_URL").ok_or_else(|| missing("PORTAL_PUBLIC_URL"))?;
        let role_map = parse_role_map(&var("PORTAL_OIDC_ROLE_MAP").ok_or_else(|| missing("PORTAL_OIDC_ROLE_MAP"))?)?;
        Ok(Some(OidcConfig {
            issuer,
            client_id,
            client_secret: var("PORTAL_OIDC_CLIENT_SECRET"),
            redirect_url: format!("{}{CALLBACK_PATH}", public_url.trim_end_matches('/')),
            groups_claim: var("PORTAL_OIDC_GROUPS_CLAIM").unwrap_or_else(|| "groups".into()),
            role_map,
            label: var("PORTAL_OIDC_LABEL").unwrap_or_else(|| "single sign-on".into()),
        }))
    }
}

/// `portal-admins=admin,portal-approvers=approver+viewer` → group → roles.
pub fn parse_role_map(text: &str) -> Result<BTreeMap<String, BTreeSet<Role>>, ServerError> {
    let bad = |message: String| ServerError::Startup(format!("PORTAL_OIDC_ROLE_MAP: {message}"));
    let mut map: BTreeMap<String, BTreeSet<Role>> = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (group, roles) = pair.split_once('=').ok_or_else(|| bad(format!("`{pair}` is not `group=role`")))?;
        let group = group.trim();
        if group.is_empty() {
            return Err(bad(format!("`{pair}` names no group")));
        }
        for role in roles.split('+').map(str::trim) {
            let role: Role = role
                .parse()
                .map_err(|_| bad(format!("`{role}` in `{pair}` is not a role (requester, approver, admin, viewer)")))?;
            map.entry(group.to_owned()).or_default().insert(role);
        }
    }
    if map.is_empty() {
        return Err(bad("maps no group to a role".into()));
    }
    Ok(map)
}

/// The roles a set of groups grants.
pub fn roles_for(groups: &[String], map: &BTreeMap<String, BTreeSet<Role>>) -> BTreeSet<Role> {
    groups.iter().filter_map(|g| map.get(g)).flatten().copied().collect()
}

/// The groups listed in an ID token's payload under `claim` (an array of strings, or one string).
pub fn groups_in(payload: &serde_json::Value, claim: &str) -> Vec<String> {
    match payload.get(claim) {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(one)) => {
            one.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

fn oidc_error(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Unauthorized(format!("single sign-on failed: {what}: {e}"))
}

pub struct OidcProvider {
    pub config: OidcConfig,
    http: reqwest::Client,
    metadata: OnceCell<CoreProviderMetadata>,
}

impl OidcProvider {
    pub fn new(config: OidcConfig) -> Result<Self, ServerError> {
        let http = reqwest::Client::builder()
            // The token endpoint must answer itself; following redirects there invites SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ServerError::Startup(format!("OIDC HTTP client: {e}")))?;
        Ok(Self { config, http, metadata: OnceCell::new() })
    }

    /// Discovery happens on first use, so the portal starts while the provider is down.
    async fn metadata(&self) -> Result<&CoreProviderMetadata, ServerError> {
        self.metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| oidc_error("issuer URL", e))?;
                CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| ServerError::Upstream(format!("OIDC discovery at {} failed: {e}", self.config.issuer)))
            })
            .await
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        ServerError,
    > {
        let metadata = self.metadata().await?.clone();
        let redirect = RedirectUrl::new(self.config.redirect_url.clone()).map_err(|e| oidc_error("redirect URL", e))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: stores state, nonce and PKCE verifier; returns the provider URL to send the browser to.
    /// `browser` is a secret the starting browser keeps (a short-lived cookie): only a callback
    /// that brings it back finishes this sign-in.
    pub async fn start(&self, db: &Database, browser: &str) -> Result<String, ServerError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let now = now_ms();
        let mut tx = db.begin_write().await?;
        sqlx::query("DELETE FROM oidc_pending WHERE created_at < $1")
            .bind(now - PENDING_MINUTES * 60_000)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_pending (state, nonce, pkce_verifier, created_at, browser_hash) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(state.secret())
        .bind(nonce.secret())
        .bind(verifier.secret())
        .bind(now)
        .bind(browser_hash(browser))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in: exchanges the code, verifies the ID token, maps groups to roles,
    /// creates or updates the user and opens a session. Returns the user and the cookie value.
    pub async fn finish(
        &self,
        db: &Database,
        state: &str,
        code: &str,
        browser: Option<&str>,
    ) -> Result<(User, String), ServerError> {
        // The state is single use: taken out before anything else can fail.
        let mut tx = db.begin_write().await?;
        let pending =
            sqlx::query("SELECT nonce, pkce_verifier, created_at, browser_hash FROM oidc_pending WHERE state = $1")
                .bind(state)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM oidc_pending WHERE state = $1").bind(state).execute(&mut *tx).await?;
        tx.commit().await?;
        let pending = pending.ok_or_else(|| {
            ServerError::Unauthorized(
                "single sign-on failed: unknown or already used sign-in state; start again".into(),
            )
        })?;
        // A callback URL sent to someone else (login CSRF) arrives without the starting browser's secret.
        let expected: Option<String> = get(&pending, "browser_hash")?;
        if expected.is_none() || expected != browser.map(browser_hash) {
            return Err(ServerError::Unauthorized(
                "single sign-on failed: this sign-in was started in another browser; start again here".into(),
            ));
        }
        if get::<i64>(&pending, "created_at")? < now_ms() - PENDING_MINUTES * 60_000 {
            return Err(ServerError::Unauthorized(format!(
                "single sign-on failed: the sign-in took longer than {PENDING_MINUTES} minutes; start again"
            )));
        }
        let nonce = Nonce::new(get(&pending, "nonce")?);
        let verifier = PkceCodeVerifier::new(get(&pending, "pkce_verifier")?);

        let client = self.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| oidc_error("token endpoint", e))?
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| oidc_error("code exchange", e))?;
        let id_token = tokens.id_token().ok_or_else(|| oidc_error("token response", "no ID token"))?;
        let claims = id_token.claims(&client.id_token_verifier(), &nonce).map_err(|e| oidc_error("ID token", e))?;
        // The token's signature is verified above, so its payload can be read for the group claim,
        // which the typed claims do not carry.
        let payload = id_token_payload(&id_token.to_string())?;
        let groups = groups_in(&payload, &self.config.groups_claim);
        let subject = format!("{}|{}", claims.issuer().as_str(), claims.subject().as_str());
        let name = claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| claims.email().map(|e| e.as_str().to_owned()))
            .unwrap_or_else(|| claims.subject().as_str().to_owned());
        let roles = roles_for(&groups, &self.config.role_map);
        sign_in_external(db, &subject, &name, &groups, &roles).await
    }
}

fn browser_hash(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

fn id_token_payload(jwt: &str) -> Result<serde_json::Value, ServerError> {
    let part = jwt.split('.').nth(1).ok_or_else(|| oidc_error("ID token", "not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| oidc_error("ID token payload", e))?;
    serde_json::from_slice(&bytes).map_err(|e| oidc_error("ID token payload", e))
}

/// Creates or updates the user behind an external subject and opens a session, in one transaction
/// with its audit entry. The provider's groups are the source of truth: roles are replaced each time.
pub async fn sign_in_external(
    db: &Database,
    subject: &str,
    name: &str,
    groups: &[String],
    roles: &BTreeSet<Role>,
) -> Result<(User, String), ServerError> {
    let mut tx = db.begin_write().await?;
    if roles.is_empty() {
        // Whoever this identity was before, it holds nothing now: its sessions end too.
        let known = sqlx::query("SELECT id FROM users WHERE external_subject = $1")
            .bind(subject)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = known {
            crate::people::records::end_sessions(&mut tx, get(&row, "id")?).await?;
        }
        audit::append(
            db,
            &mut tx,
            name,
            AuditAction::SignInFailed,
            &format!("user:{name}"),
            serde_json::json!({ "method": "oidc", "groups": groups, "reason": "no group grants a role" }),
        )
        .await?;
        tx.commit().await?;
        return Err(ServerError::Forbidden(format!(
            "signed in at the provider as `{name}`, but none of your groups ({}) grants a role in the portal; ask an admin",
            if groups.is_empty() { "none".to_owned() } else { groups.join(", ") }
        )));
    }
    let by_subject = sqlx::query("SELECT id, disabled_at FROM users WHERE external_subject = $1")
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await?;
    let user_id: i64 = match by_subject {
        Some(row) if get::<Option<i64>>(&row, "disabled_at")?.is_some() => {
            return Err(ServerError::Forbidden(format!("the account `{name}` is disabled; ask an admin")));
        }
        Some(row) => get(&row, "id")?,
        None => {
            let taken = sqlx::query("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                // Never attach a provider identity to an existing local account by name alone.
                return Err(ServerError::Conflict(format!(
                    "a portal account named `{name}` already exists and is not linked to this sign-on identity"
                )));
            }
            let row = sqlx::query(
                "INSERT INTO users (name, password_hash, created_at, external_subject) VALUES ($1, NULL, $2, $3) RETURNING id",
            )
            .bind(name)
            .bind(now_ms())
            .bind(subject)
            .fetch_one(&mut *tx)
            .await?;
            get(&row, "id")?
        }
    };
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    // Environments may list single sign-on groups as their requesters or approvers.
    let group_set: BTreeSet<&String> = groups.iter().collect();
    sqlx::query("UPDATE users SET sso_groups = $1 WHERE id = $2")
        .bind(serde_json::to_string(&group_set)?)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let cookie = open_session(&mut tx, user_id).await?;
    let role_names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    audit::append(
        db,
        &mut tx,
        name,
        AuditAction::SignIn,
        &format!("user:{name}"),
        serde_json::json!({ "method": "oidc", "groups": groups, "roles": role_names }),
    )
    .await?;
    tx.commit().await?;
    let user =
        load_user(db, user_id).await?.ok_or_else(|| ServerError::Unauthorized("the user no longer exists".into()))?;
    Ok((user, cookie))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_map_parses_groups_and_several_roles() -> Result<(), ServerError> {
        let map = parse_role_map("portal-admins=admin, leads=requester+viewer,leads=approver")?;
        assert_eq!(map["portal-admins"], BTreeSet::from([Role::Admin]));
        assert_eq!(map["leads"], BTreeSet::from([Role::Requester, Role::Viewer, Role::Approver]));
        Ok(())
    }

    #[test]
    fn role_map_errors_name_the_bad_pair() {
        for (text, expected) in [
            ("admins", "`admins` is not `group=role`"),
            ("admins=root", "`root` in `admins=root` is not a role"),
            ("=admin", "names no group"),
            ("", "maps no group"),
        ] {
            let message = parse_role_map(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn groups_come_from_the_configured_claim() -> Result<(), ServerError> {
        let payload = serde_json::json!({ "cognito:groups": ["approvers", "leads"], "groups": "a b" });
        assert_eq!(groups_in(&payload, "cognito:groups"), ["approvers", "leads"]);
        assert_eq!(groups_in(&payload, "groups"), ["a", "b"]);
        assert!(groups_in(&payload, "missing").is_empty());
        let map = parse_role_map("approvers=approver,others=admin")?;
        assert_eq!(roles_for(&groups_in(&payload, "cognito:groups"), &map), BTreeSet::from([Role::Approver]));
        Ok(())
    }
}
