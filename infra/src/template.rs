//! Parsing CloudFormation templates (YAML with the short-form tags, or JSON)
//! into a plain tree in which `!Ref x` reads `{"Ref": x}`, `!Sub s` reads
//! `{"Fn::Sub": s}`, and so on, exactly as the long form would.

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

use crate::error::{InfraError, Result, TemplateProblem};
use crate::phase::Phase;

#[derive(Debug, Clone)]
pub struct Template {
    /// File name, used in every error about this template.
    pub file: String,
    pub phase: Phase,
    pub description: String,
    pub parameters: IndexMap<String, ParameterDecl>,
    pub mappings: Map<String, Json>,
    pub conditions: IndexMap<String, Json>,
    pub resources: IndexMap<String, ResourceDecl>,
    pub outputs: IndexMap<String, OutputDecl>,
    /// The parsed document, kept so rendering for deployment emits exactly what was reviewed.
    pub document: Json,
}

#[derive(Debug, Clone)]
pub struct ParameterDecl {
    pub name: String,
    pub kind: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    /// Anchored at both ends, as CloudFormation matches it.
    pub allowed_pattern: Option<regex::Regex>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub logical_id: String,
    pub resource_type: String,
    pub condition: Option<String>,
    pub depends_on: Vec<String>,
    pub properties: Json,
    /// Policy checks deliberately not met, from checkov's inline skips
    /// (`Metadata.checkov.skip: [{id, comment}]`); each must say why.
    pub accepted_risks: Vec<AcceptedRisk>,
    /// What CloudFormation does with the resource when its stack is deleted (`Snapshot`, `Retain`).
    pub deletion_policy: Option<String>,
}

/// One policy check a resource deliberately does not meet, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AcceptedRisk {
    pub check: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct OutputDecl {
    pub name: String,
    pub condition: Option<String>,
    pub value: Json,
    pub export_name: Option<Json>,
}

impl Template {
    /// Parses a template text. `file` only names the text in errors.
    pub fn parse(file: &str, phase: Phase, text: &str) -> Result<Template> {
        let document = parse_document(file, text)?;
        Self::from_document(file, phase, document)
    }

    pub fn from_document(file: &str, phase: Phase, document: Json) -> Result<Template> {
        let malformed = |at: &str, message: String| InfraError::Template {
            file: file.to_owned(),
            at: at.to_owned(),
            problem: TemplateProblem::Malformed(message),
        };
        let root = document.as_object().ok_or_else(|| malformed("(root)", "the template is not a mapping".into()))?;
        let section = |name: &str| -> Result<Map<String, Json>> {
            match root.get(name) {
                None => Ok(Map::new()),
                Some(Json::Object(m)) => Ok(m.clone()),
                Some(_) => Err(malformed(name, format!("`{name}` must be a mapping"))),
            }
        };

        let mut parameters = IndexMap::new();
        for (name, decl) in section("Parameters")? {
            let at = format!("Parameters.{name}");
            let obj = decl.as_object().ok_or_else(|| malformed(&at, "a parameter must be a mapping".into()))?;
            let kind = obj
                .get("Type")
                .and_then(Json::as_str)
                .ok_or_else(|| malformed(&at, "a parameter needs a `Type`".into()))?
                .to_owned();
            let number = |key: &str| obj.get(key).and_then(scalar_text).and_then(|s| s.parse().ok());
            parameters.insert(
                name.clone(),
                ParameterDecl {
                    name: name.clone(),
                    kind,
                    default: obj.get("Default").and_then(scalar_text),
                    allowed_values: obj
                        .get("AllowedValues")
                        .and_then(Json::as_array)
                        .map(|vs| vs.iter().filter_map(scalar_text).collect())
                        .unwrap_or_default(),
                    allowed_pattern: match obj.get("AllowedPattern").and_then(scalar_text) {
                        None => None,
                        Some(p) => Some(
                            regex::Regex::new(&format!("^(?:{p})$"))
                                .map_err(|e| malformed(&at, format!("`AllowedPattern` is not a valid pattern: {e}")))?,
                        ),
                    },
                    min_value: number("MinValue"),
                    max_value: number("MaxValue"),
                    description: obj.get("Description").and_then(scalar_text).unwrap_or_default(),
                },
            );
        }

        let mut resources = IndexMap::new();
        let resource_section = section("Resources")?;
        if resource_section.is_empty() {
            return Err(malformed("Resources", "a template needs at least one resource".into()));
        }
        for (id, decl) in resource_section {
            let at = format!("Resources.{id}");
            let obj = decl.as_object().ok_or_else(|| malformed(&at, "a resource must be a mapping".into()))?;
            let resource_type = obj
                .get("Type")
                .and_then(Json::as_str)
                .ok_or_else(|| malformed(&at, "a resource needs a `Type`".into()))?
                .to_owned();
            let depends_on = match obj.get("DependsOn") {
                None => Vec::new(),
                Some(Json::String(s)) => vec![s.clone()],
                Some(Json::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
                Some(_) => return Err(malformed(&at, "`DependsOn` must be a name or a list of names".into())),
            };
            resources.insert(
                id.clone(),
                ResourceDecl {
                    logical_id: id.clone(),
                    resource_type,
                    condition: obj.get("Condition").and_then(Json::as_str).map(str::to_owned),
                    depends_on,
                    properties: obj.get("Properties").cloned().unwrap_or(Json::Object(Map::new())),
                    accepted_risks: accepted_risks(obj.get("Metadata"), &at).map_err(|m| malformed(&at, m))?,
                    deletion_policy: obj.get("DeletionPolicy").and_then(Json::as_str).map(str::to_owned),
                },
            );
        }

        let mut outputs = IndexMap::new();
        for (name, decl) in section("Outputs")? {
            let at = format!("Outputs.{name}");
            let obj = decl.as_object().ok_or_else(|| malformed(&at, "an output must be a mapping".into()))?;
            let value = obj.get("Value").cloned().ok_or_else(|| malformed(&at, "an output needs a `Value`".into()))?;
            outputs.insert(
                name.clone(),
                OutputDecl {
                    name: name.clone(),
                    condition: obj.get("Condition").and_then(Json::as_str).map(str::to_owned),
                    value,
                    export_name: obj.get("Export").and_then(|e| e.get("Name")).cloned(),
                },
            );
        }

        Ok(Template {
            file: file.to_owned(),
            phase,
            description: root.get("Description").and_then(scalar_text).unwrap_or_default(),
            parameters,
            mappings: section("Mappings")?,
            conditions: section("Conditions")?.into_iter().collect(),
            resources,
            outputs,
            document,
        })
    }
}

/// checkov's inline skips; a skip without a one-line reason is an error, so no
/// check is waived silently.
fn accepted_risks(metadata: Option<&Json>, at: &str) -> std::result::Result<Vec<AcceptedRisk>, String> {
    let Some(skips) = metadata.and_then(|m| m.get("checkov")).and_then(|c| c.get("skip")) else {
        return Ok(Vec::new());
    };
    let items = skips.as_array().ok_or("`Metadata.checkov.skip` must be a list of {id, comment}")?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| item.get(name).and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty());
            let check = field("id").ok_or(format!("`Metadata.checkov.skip[{i}]` needs an `id` (e.g. CKV_AWS_18)"))?;
            let reason = field("comment").ok_or(format!(
                "`Metadata.checkov.skip[{i}]` ({check}) needs a `comment`: a one-line reason for accepting the risk ({at})"
            ))?;
            if reason.contains('\n') {
                return Err(format!("`Metadata.checkov.skip[{i}]` ({check}): the reason must be one line"));
            }
            Ok(AcceptedRisk { check: check.to_owned(), reason: reason.to_owned() })
        })
        .collect()
}

fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads YAML (a superset of JSON) and rewrites short-form tags into long form.
pub fn parse_document(file: &str, text: &str) -> Result<Json> {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| InfraError::Syntax { file: file.to_owned(), message: e.to_string() })?;
    yaml_to_json(file, yaml)
}

fn yaml_to_json(file: &str, yaml: serde_yaml::Value) -> Result<Json> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map(Json::Number).unwrap_or(Json::Null)
            }
        }
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(|i| yaml_to_json(file, i)).collect::<Result<_>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(InfraError::Syntax {
                            file: file.to_owned(),
                            message: format!("mapping key {other:?} is not a scalar"),
                        })
                    }
                };
                out.insert(key, yaml_to_json(file, v)?);
            }
            Json::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(file, tagged.value)?;
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                other => format!("Fn::{other}"),
            };
            let mut out = Map::new();
            out.insert(key, inner);
            Json::Object(out)
        }
    })
}
