//! Evaluation of one template for one set of parameter values: conditions
//! decided, intrinsic functions applied, resources whose condition is false
//! dropped. What stays unknown until deployment stays symbolic (see [`Value`]).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::{InfraError, Result, TemplateProblem};
use crate::phase::Phase;
use crate::template::{AcceptedRisk, ParameterDecl, Template};
use crate::value::{ResourceKey, Value};

mod intrinsics;

use intrinsics::{sub_parts, Evaluator, SubPart};

/// What CloudFormation would know about the stack being created.
#[derive(Debug, Clone)]
pub struct EvalContext<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    pub stack_name: String,
    pub availability_zones: &'a [String],
    /// Exports of the phases deployed before this one, by export name.
    pub exports: &'a IndexMap<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvaluatedResource {
    pub key: ResourceKey,
    pub resource_type: String,
    pub properties: Value,
    pub depends_on: Vec<String>,
    /// The policy checks this resource deliberately does not meet, with their reasons.
    pub accepted_risks: Vec<AcceptedRisk>,
    pub deletion_policy: Option<String>,
}

impl EvaluatedResource {
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }

    /// A tag's value, from the usual `Tags: [{Key, Value}]` list.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.property("Tags")?
            .as_list()?
            .iter()
            .find(|t| t.get("Key").and_then(Value::as_str) == Some(key))?
            .get("Value")?
            .as_str()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvaluatedOutput {
    pub name: String,
    pub value: Value,
    pub export_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvaluatedPhase {
    pub phase: Phase,
    pub stack_name: String,
    /// The parameter values used, defaults included, as CloudFormation will receive them.
    pub parameters: IndexMap<String, String>,
    pub resources: Vec<EvaluatedResource>,
    pub outputs: Vec<EvaluatedOutput>,
    /// The exports of earlier phases this phase imports (as evaluated: conditions decided).
    pub imports: std::collections::BTreeSet<String>,
}

/// Evaluates `template` with the `supplied` parameter values; parameters the
/// template does not declare are ignored (tiers hold one set for all phases).
pub fn evaluate_template(
    template: &Template,
    supplied: &IndexMap<String, String>,
    ctx: &EvalContext<'_>,
) -> Result<EvaluatedPhase> {
    let (raw_params, ev) = decide(template, supplied, ctx)?;
    let mut resources = Vec::new();
    for (id, decl) in &template.resources {
        if !ev.included.contains(id) {
            continue;
        }
        let at = format!("Resources.{id}");
        for dep in &decl.depends_on {
            if !template.resources.contains_key(dep) {
                return Err(ev.err(&at, TemplateProblem::UnknownReference(dep.clone())));
            }
        }
        resources.push(EvaluatedResource {
            key: ResourceKey::new(template.phase, id.clone()),
            resource_type: decl.resource_type.clone(),
            properties: ev.eval(&decl.properties, &at)?,
            depends_on: decl.depends_on.clone(),
            accepted_risks: decl.accepted_risks.clone(),
            deletion_policy: decl.deletion_policy.clone(),
        });
    }

    let mut outputs = Vec::new();
    for (name, decl) in &template.outputs {
        let at = format!("Outputs.{name}");
        if let Some(c) = &decl.condition {
            if !ev.condition(c, &at)? {
                continue;
            }
        }
        let value = ev.eval(&decl.value, &at)?;
        let export_name = match &decl.export_name {
            None => None,
            Some(expr) => match ev.eval(expr, &at)? {
                Value::String(s) => Some(s),
                other => {
                    return Err(ev.err(
                        &at,
                        TemplateProblem::Malformed(format!(
                            "export name must be known before deployment, got `{}`",
                            other.display()
                        )),
                    ))
                }
            },
        };
        outputs.push(EvaluatedOutput { name: name.clone(), value, export_name });
    }

    Ok(EvaluatedPhase {
        phase: template.phase,
        stack_name: ctx.stack_name.clone(),
        parameters: raw_params,
        resources,
        outputs,
        imports: ev.imports.take(),
    })
}

/// Parameters resolved, every condition decided and the resources kept chosen.
fn decide<'a>(
    template: &'a Template,
    supplied: &IndexMap<String, String>,
    ctx: &'a EvalContext<'a>,
) -> Result<(IndexMap<String, String>, Evaluator<'a>)> {
    let (raw_params, params) = resolve_parameters(template, supplied)?;
    check_resource_cycles(template)?;
    let mut ev = Evaluator {
        t: template,
        ctx,
        params,
        conditions: RefCell::new(HashMap::new()),
        visiting: RefCell::new(Vec::new()),
        imports: RefCell::new(Default::default()),
        included: HashSet::new(),
    };
    // Every declared condition is decided, so an unknown or cyclic one is
    // reported even when nothing uses it.
    for name in template.conditions.keys() {
        ev.condition(name, &format!("Conditions.{name}"))?;
    }
    let mut included = HashSet::new();
    for (id, decl) in &template.resources {
        let keep = match &decl.condition {
            Some(c) => ev.condition(c, &format!("Resources.{id}"))?,
            None => true,
        };
        if keep {
            included.insert(id.clone());
        }
    }
    ev.included = included;
    Ok((raw_params, ev))
}

/// The template as written, narrowed to one deployment: parameter defaults set to the values
/// given, resources and outputs whose condition is false dropped, every `Fn::If` replaced by
/// the branch taken and `AWS::NoValue` removed. Everything else stays as reviewed. Policy
/// tools that do not decide conditions themselves (checkov) check this form.
pub fn specialize_template(
    template: &Template,
    supplied: &IndexMap<String, String>,
    ctx: &EvalContext<'_>,
) -> Result<Json> {
    let (raw_params, ev) = decide(template, supplied, ctx)?;
    let mut doc = template.document.clone();
    if let Some(Json::Object(params)) = doc.get_mut("Parameters") {
        for (name, decl) in params.iter_mut() {
            if let (Some(value), Json::Object(decl)) = (raw_params.get(name), decl) {
                decl.insert("Default".into(), Json::String(value.clone()));
            }
        }
    }
    for section in ["Resources", "Outputs"] {
        let Some(Json::Object(entries)) = doc.get_mut(section) else { continue };
        let mut kept = serde_json::Map::new();
        for (id, mut entry) in std::mem::take(entries) {
            let at = format!("{section}.{id}");
            if let Some(Json::String(c)) = entry.get("Condition") {
                if !ev.condition(c, &at)? {
                    continue;
                }
            }
            if let Json::Object(fields) = &mut entry {
                fields.remove("Condition");
            }
            if let Some(entry) = choose_branches(&ev, entry, &at)? {
                kept.insert(id, entry);
            }
        }
        *entries = kept;
    }
    Ok(doc)
}

/// `Fn::If` replaced by its chosen branch, `{"Ref": "AWS::NoValue"}` dropped (`None`).
fn choose_branches(ev: &Evaluator<'_>, json: Json, at: &str) -> Result<Option<Json>> {
    Ok(match json {
        Json::Object(map) => {
            if map.len() == 1 {
                if let Some(Json::String(r)) = map.get("Ref") {
                    if r == "AWS::NoValue" {
                        return Ok(None);
                    }
                }
                if let Some(args) = map.get("Fn::If") {
                    let args = ev.args("Fn::If", args, 3, at)?;
                    let name = args[0].as_str().ok_or_else(|| ev.malformed(at, "`Fn::If` needs a condition name"))?;
                    let branch = if ev.condition(name, at)? { &args[1] } else { &args[2] };
                    return choose_branches(ev, branch.clone(), at);
                }
            }
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if let Some(v) = choose_branches(ev, v, at)? {
                    out.insert(k, v);
                }
            }
            Some(Json::Object(out))
        }
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(item) = choose_branches(ev, item, at)? {
                    out.push(item);
                }
            }
            Some(Json::Array(out))
        }
        other => Some(other),
    })
}

fn resolve_parameters(
    t: &Template,
    supplied: &IndexMap<String, String>,
) -> Result<(IndexMap<String, String>, IndexMap<String, Value>)> {
    let mut raw = IndexMap::new();
    let mut values = IndexMap::new();
    for (name, decl) in &t.parameters {
        let at = format!("Parameters.{name}");
        let err = |problem| InfraError::Template { file: t.file.clone(), at: at.clone(), problem };
        let value = supplied
            .get(name)
            .cloned()
            .or_else(|| decl.default.clone())
            .ok_or_else(|| err(TemplateProblem::MissingParameter(name.clone())))?;
        check_parameter(decl, &value)
            .map_err(|reason| err(TemplateProblem::InvalidParameter { name: name.clone(), reason }))?;
        let typed = if decl.kind == "CommaDelimitedList" || decl.kind.starts_with("List<") {
            Value::List(value.split(',').map(|s| Value::String(s.trim().to_owned())).collect())
        } else if decl.kind.starts_with("AWS::SSM::Parameter::Value") {
            Value::Deferred { deferred: format!("ssm:{value}") }
        } else {
            Value::String(value.clone())
        };
        raw.insert(name.clone(), value);
        values.insert(name.clone(), typed);
    }
    Ok((raw, values))
}

fn check_parameter(decl: &ParameterDecl, value: &str) -> std::result::Result<(), String> {
    if !decl.allowed_values.is_empty() && !decl.allowed_values.iter().any(|v| v == value) {
        return Err(format!("`{value}` is not one of the allowed values: {}", decl.allowed_values.join(", ")));
    }
    if let Some(pattern) = &decl.allowed_pattern {
        if !pattern.is_match(value) {
            return Err(format!("`{value}` does not match the pattern {}", pattern.as_str()));
        }
    }
    if decl.kind == "Number" {
        let n: f64 = value.trim().parse().map_err(|_| format!("`{value}` is not a number"))?;
        if decl.min_value.is_some_and(|min| n < min) || decl.max_value.is_some_and(|max| n > max) {
            return Err(format!(
                "{value} is outside {}..{}",
                decl.min_value.map(|v| v.to_string()).unwrap_or_default(),
                decl.max_value.map(|v| v.to_string()).unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// CloudFormation refuses a template whose resources refer to each other in
/// a circle; so do we, naming the circle.
fn check_resource_cycles(t: &Template) -> Result<()> {
    let mut edges: IndexMap<&str, Vec<String>> = IndexMap::new();
    for (id, decl) in &t.resources {
        let mut refs = Vec::new();
        collect_names(&decl.properties, &mut refs);
        refs.extend(decl.depends_on.iter().cloned());
        refs.retain(|r| t.resources.contains_key(r));
        edges.insert(id.as_str(), refs);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        edges: &'a IndexMap<&str, Vec<String>>,
        marks: &mut HashMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Visiting) => {
                let start = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node, Mark::Visiting);
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next.as_str(), edges, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node, Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    for id in edges.keys() {
        if let Some(cycle) = visit(id, &edges, &mut marks, &mut Vec::new()) {
            return Err(InfraError::Template {
                file: t.file.clone(),
                at: format!("Resources.{}", cycle[0]),
                problem: TemplateProblem::Cycle(cycle.join(" -> ")),
            });
        }
    }
    Ok(())
}

/// Names a raw expression refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`.
fn collect_names(json: &Json, out: &mut Vec<String>) {
    match json {
        Json::Array(items) => items.iter().for_each(|i| collect_names(i, out)),
        Json::Object(map) => {
            if map.len() == 1 {
                if let Some((k, v)) = map.iter().next() {
                    match (k.as_str(), v) {
                        ("Ref", Json::String(name)) => return out.push(name.clone()),
                        ("Fn::GetAtt", Json::String(s)) => {
                            return out.push(s.split('.').next().unwrap_or(s).to_owned())
                        }
                        ("Fn::GetAtt", Json::Array(parts)) => {
                            if let Some(Json::String(id)) = parts.first() {
                                out.push(id.clone());
                            }
                            return;
                        }
                        ("Fn::Sub", sub) => {
                            let (text, vars) = match sub {
                                Json::String(s) => (s.as_str(), None),
                                Json::Array(a) => (a.first().and_then(Json::as_str).unwrap_or(""), a.get(1)),
                                _ => ("", None),
                            };
                            for part in sub_parts(text) {
                                if let SubPart::Var(name) = part {
                                    let bound = vars.and_then(|v| v.get(&name)).is_some();
                                    if !bound {
                                        out.push(name.split('.').next().unwrap_or(&name).to_owned());
                                    }
                                }
                            }
                            if let Some(v) = vars {
                                collect_names(v, out);
                            }
                            return;
                        }
                        _ => {}
                    }
                }
            }
            map.values().for_each(|v| collect_names(v, out));
        }
        _ => {}
    }
}
