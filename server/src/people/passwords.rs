//! Password hashes: argon2id with a random salt, and their check. Nothing else knows the format.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::ServerError;

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
