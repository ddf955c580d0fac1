//! The catalog's version: the digest of everything an estimate and a deployment depend on
//! (templates, tiers, prices, usage), and the human version and changelog entry that name it
//! (`infra/catalog.toml`). An environment records the digest it was deployed with; the changelog
//! tells which version that was, and what changed since.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::Sources;
use crate::error::{InfraError, Result};

/// One released catalog, as the changelog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogVersion {
    pub version: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// [`digest`] of the catalog released under this version.
    pub digest: String,
    pub changes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changelog {
    versions: Vec<CatalogVersion>,
}

/// The changelog's versions, newest first; each names a digest once.
pub fn parse_changelog(file: &str, text: &str) -> Result<Vec<CatalogVersion>> {
    let log: Changelog = toml::from_str(text).map_err(|e| InfraError::data(file, "(toml)", e.message()))?;
    for (i, v) in log.versions.iter().enumerate() {
        let at = format!("versions[{i}]");
        if v.version.trim().is_empty() || v.changes.is_empty() {
            return Err(InfraError::data(file, &at, "a version needs a name and at least one change"));
        }
        if v.digest.len() != 64 || !v.digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(InfraError::data(file, &at, "digest must be 64 hex digits (the catalog's SHA-256)"));
        }
        if log.versions[..i].iter().any(|w| w.version == v.version || w.digest == v.digest) {
            return Err(InfraError::data(file, &at, format!("version `{}` or its digest is listed twice", v.version)));
        }
    }
    Ok(log.versions)
}

/// The SHA-256 of the templates, tiers, prices and usage (file names and texts): what an approval
/// is bound to. The changelog is not part of it: naming a version changes nothing deployed.
pub fn digest(sources: &Sources) -> String {
    let mut h = Sha256::new();
    let s = sources;
    for (name, text) in s.templates.iter().chain(&s.tiers).chain([&s.prices, &s.usage]) {
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_be_bytes());
        h.update(text.as_bytes());
    }
    hex::encode(h.finalize())
}

/// How a digest is shown when no changelog entry names it (a catalog being edited, or one
/// deployed before versions were kept).
pub fn unversioned(digest: &str) -> String {
    format!("unversioned-{}", digest.get(..8).unwrap_or(digest))
}
