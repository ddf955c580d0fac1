//! Tiers: parameter sets for the same six templates, kept as data in `infra/tiers/`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::domain::{OptionSet, ServiceOption, TierId};
use crate::error::{InfraError, Result};

/// A choice the tier makes where the seed is silent or contradicts itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub topic: String,
    pub choice: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tier {
    pub id: TierId,
    pub name: String,
    pub summary: String,
    pub availability: String,
    pub included: Vec<String>,
    pub decisions: Vec<Decision>,
    /// Template parameter values, shared by all six phases.
    pub parameters: IndexMap<String, String>,
    /// Options switched on unless the requester switches them off.
    pub default_options: OptionSet,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    id: String,
    name: String,
    summary: String,
    availability: String,
    included: Vec<String>,
    #[serde(default)]
    decisions: Vec<Decision>,
    parameters: IndexMap<String, String>,
    #[serde(default)]
    options: IndexMap<String, bool>,
    /// An older tier file's pricing model: read, unused (see `Tier::parse`).
    #[serde(default, rename = "pricing")]
    _pricing: Option<String>,
}

const TOP_LEVEL_KEYS: [&str; 7] = ["id", "name", "summary", "availability", "included", "decisions", "parameters"];

impl Tier {
    /// Parses a tier file; `declared` holds every parameter some template declares,
    /// so a misspelt parameter is an error here rather than silently ignored.
    pub fn parse(file: &str, text: &str, declared: &dyn Fn(&str) -> bool) -> Result<Tier> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| InfraError::data(file, "(syntax)", e.message().to_owned()))?;
        for key in table.keys() {
            // Catalogs before 2026.12.7 named a pricing model per tier; every tier is now priced
            // with the one the reader picks, so an older tier file's is read and left unused.
            if key == "pricing" {
                match table.get(key).and_then(toml::Value::as_str) {
                    Some("on-demand" | "reserved") => continue,
                    _ => {
                        return Err(InfraError::data(
                            file,
                            key.clone(),
                            "no longer used; if given, on-demand or reserved",
                        ))
                    }
                }
            }
            if !TOP_LEVEL_KEYS.contains(&key.as_str()) && key != "options" {
                return Err(InfraError::data(file, key.clone(), "unknown key"));
            }
        }
        let raw: TierFile = toml::from_str(text).map_err(|e| crate::pricing::toml_error(file, text, e))?;
        let id: TierId = raw.id.parse().map_err(|e: InfraError| InfraError::data(file, "id", e.to_string()))?;
        for name in raw.parameters.keys() {
            if !declared(name) {
                return Err(InfraError::data(
                    file,
                    format!("parameters.{name}"),
                    "no template declares this parameter",
                ));
            }
        }
        let mut default_options = OptionSet::new();
        for (name, on) in &raw.options {
            let option: ServiceOption = name
                .parse()
                .map_err(|e: InfraError| InfraError::data(file, format!("options.{name}"), e.to_string()))?;
            if *on {
                default_options.insert(option);
            }
        }
        Ok(Tier {
            id,
            name: raw.name,
            summary: raw.summary,
            availability: raw.availability,
            included: raw.included,
            decisions: raw.decisions,
            parameters: raw.parameters,
            default_options,
        })
    }
}
