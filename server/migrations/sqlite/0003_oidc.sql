-- OpenID Connect sign-in: users created from a provider identity (`issuer|sub`),
-- and the sign-ins started but not yet finished (state → nonce and PKCE verifier).
ALTER TABLE users ADD COLUMN external_subject TEXT;
CREATE UNIQUE INDEX users_by_external_subject ON users (external_subject);

CREATE TABLE oidc_pending (
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
