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
use crate::template::{ParameterDecl, Template};
use crate::value::{ResourceKey, Value};

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
}

/// Evaluates `template` with the `supplied` parameter values; parameters the
/// template does not declare are ignored (tiers hold one set for all phases).
pub fn evaluate_template(
    template: &Template,
    supplied: &IndexMap<String, String>,
    ctx: &EvalContext<'_>,
) -> Result<EvaluatedPhase> {
    let (raw_params, params) = resolve_parameters(template, supplied)?;
    check_resource_cycles(template)?;
    let mut ev = Evaluator {
        t: template,
        ctx,
        params,
        conditions: RefCell::new(HashMap::new()),
        visiting: RefCell::new(Vec::new()),
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

#[derive(Debug, PartialEq)]
enum SubPart {
    Text(String),
    Var(String),
}

/// Splits an `Fn::Sub` string into text and `${Var}` parts; `${!x}` is the literal `${x}`.
fn sub_parts(s: &str) -> Vec<SubPart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if let Some(literal) = name.strip_prefix('!') {
                    text.push_str("${");
                    text.push_str(literal);
                    text.push('}');
                } else {
                    if !text.is_empty() {
                        parts.push(SubPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(SubPart::Var(name.trim().to_owned()));
                }
                rest = &after[end + 1..];
            }
            None => {
                text.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SubPart::Text(text));
    }
    parts
}

struct Evaluator<'a> {
    t: &'a Template,
    ctx: &'a EvalContext<'a>,
    params: IndexMap<String, Value>,
    conditions: RefCell<HashMap<String, bool>>,
    visiting: RefCell<Vec<String>>,
    included: HashSet<String>,
}

impl Evaluator<'_> {
    fn err(&self, at: &str, problem: TemplateProblem) -> InfraError {
        InfraError::Template { file: self.t.file.clone(), at: at.to_owned(), problem }
    }

    fn malformed(&self, at: &str, message: impl Into<String>) -> InfraError {
        self.err(at, TemplateProblem::Malformed(message.into()))
    }

    fn condition(&self, name: &str, at: &str) -> Result<bool> {
        if let Some(v) = self.conditions.borrow().get(name) {
            return Ok(*v);
        }
        let expr = self
            .t
            .conditions
            .get(name)
            .ok_or_else(|| self.err(at, TemplateProblem::UnknownCondition(name.to_owned())))?;
        {
            let mut visiting = self.visiting.borrow_mut();
            if let Some(pos) = visiting.iter().position(|n| n == name) {
                let mut cycle = visiting[pos..].to_vec();
                cycle.push(name.to_owned());
                let first = cycle[0].clone();
                return Err(self.err(&format!("Conditions.{first}"), TemplateProblem::Cycle(cycle.join(" -> "))));
            }
            visiting.push(name.to_owned());
        }
        let result = self.eval(expr, &format!("Conditions.{name}"));
        self.visiting.borrow_mut().pop();
        let value = match result? {
            Value::Bool(b) => b,
            other => {
                return Err(self.malformed(
                    &format!("Conditions.{name}"),
                    format!("a condition must be true or false, got `{}`", other.display()),
                ))
            }
        };
        self.conditions.borrow_mut().insert(name.to_owned(), value);
        Ok(value)
    }

    fn eval(&self, json: &Json, at: &str) -> Result<Value> {
        Ok(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::List(self.eval_list(items, at)?),
            Json::Object(map) => {
                if map.len() == 1 {
                    if let Some((k, v)) = map.iter().next() {
                        if k == "Ref" || k == "Condition" || k.starts_with("Fn::") {
                            return self.intrinsic(k, v, at);
                        }
                    }
                }
                let mut out = IndexMap::with_capacity(map.len());
                for (k, v) in map {
                    let value = self.eval(v, at)?;
                    if value != Value::NoValue {
                        out.insert(k.clone(), value);
                    }
                }
                Value::Map(out)
            }
        })
    }

    fn eval_list(&self, items: &[Json], at: &str) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let value = self.eval(item, at)?;
            if value != Value::NoValue {
                out.push(value);
            }
        }
        Ok(out)
    }

    fn args<'j>(&self, name: &str, v: &'j Json, n: usize, at: &str) -> Result<&'j [Json]> {
        match v.as_array() {
            Some(items) if items.len() == n => Ok(items),
            _ => Err(self.malformed(at, format!("`{name}` takes a list of {n} arguments"))),
        }
    }

    fn bool_arg(&self, name: &str, v: &Json, at: &str) -> Result<bool> {
        match self.eval(v, at)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.malformed(at, format!("`{name}` needs conditions, got `{}`", other.display()))),
        }
    }

    fn text_arg(&self, name: &str, v: &Json, at: &str) -> Result<String> {
        match self.eval(v, at)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(crate::value::format_number(n)),
            other => {
                Err(self
                    .malformed(at, format!("`{name}` needs text known before deployment, got `{}`", other.display())))
            }
        }
    }

    fn intrinsic(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
        match name {
            "Ref" => {
                let target = v.as_str().ok_or_else(|| self.malformed(at, "`Ref` takes a name"))?;
                self.reference(target, at)
            }
            "Condition" => {
                let cond = v.as_str().ok_or_else(|| self.malformed(at, "`Condition` takes a name"))?;
                Ok(Value::Bool(self.condition(cond, at)?))
            }
            "Fn::If" => {
                let a = self.args(name, v, 3, at)?;
                let cond = a[0].as_str().ok_or_else(|| self.malformed(at, "`Fn::If` starts with a condition name"))?;
                // Only the branch taken is evaluated, as CloudFormation does.
                if self.condition(cond, at)? {
                    self.eval(&a[1], at)
                } else {
                    self.eval(&a[2], at)
                }
            }
            "Fn::Equals" => {
                let a = self.args(name, v, 2, at)?;
                let (l, r) = (self.eval(&a[0], at)?, self.eval(&a[1], at)?);
                Ok(Value::Bool(equal(&l, &r)))
            }
            "Fn::And" | "Fn::Or" => self.and_or(name, v, at),
            "Fn::Not" => {
                let a = self.args(name, v, 1, at)?;
                Ok(Value::Bool(!self.bool_arg(name, &a[0], at)?))
            }
            "Fn::Sub" => self.sub(v, at),
            "Fn::GetAtt" => self.get_att(name, v, at),
            "Fn::ImportValue" => {
                let export = self.text_arg(name, v, at)?;
                self.ctx
                    .exports
                    .get(&export)
                    .cloned()
                    .ok_or_else(|| self.err(at, TemplateProblem::MissingExport(export)))
            }
            "Fn::Select" => self.select(name, v, at),
            "Fn::GetAZs" => {
                let region = self.text_arg(name, v, at)?;
                if !region.is_empty() && region != self.ctx.region {
                    return Err(self.malformed(at, format!("`Fn::GetAZs` of another region `{region}`")));
                }
                Ok(Value::List(self.ctx.availability_zones.iter().map(|z| Value::String(z.clone())).collect()))
            }
            "Fn::Join" => self.join(name, v, at),
            "Fn::Split" => {
                let a = self.args(name, v, 2, at)?;
                let delimiter = a[0]
                    .as_str()
                    .filter(|d| !d.is_empty())
                    .ok_or_else(|| self.malformed(at, "`Fn::Split` starts with a delimiter"))?;
                Ok(Value::List(split(self.eval(&a[1], at)?, delimiter)))
            }
            "Fn::FindInMap" => self.find_in_map(name, v, at),
            // The encoding is CloudFormation's business; the text is what matters here.
            "Fn::Base64" => self.eval(v, at),
            other => Err(self.err(at, TemplateProblem::UnsupportedIntrinsic(other.to_owned()))),
        }
    }

    /// `Fn::And` or `Fn::Or` over 2 to 10 conditions.
    fn and_or(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
        let items = v
            .as_array()
            .filter(|i| (2..=10).contains(&i.len()))
            .ok_or_else(|| self.malformed(at, format!("`{name}` takes 2 to 10 conditions")))?;
        let mut acc = name == "Fn::And";
        for item in items {
            let b = self.bool_arg(name, item, at)?;
            acc = if name == "Fn::And" { acc && b } else { acc || b };
        }
        Ok(Value::Bool(acc))
    }

    /// Either `Resource.Attribute` or `[Resource, Attribute]`.
    fn get_att(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
        let (id, attr) = match v {
            Json::String(s) => match s.split_once('.') {
                Some((id, attr)) => (id.to_owned(), attr.to_owned()),
                None => return Err(self.malformed(at, "`Fn::GetAtt` takes `Resource.Attribute`")),
            },
            Json::Array(a) if a.len() == 2 => (
                a[0].as_str().ok_or_else(|| self.malformed(at, "`Fn::GetAtt` starts with a resource name"))?.to_owned(),
                self.text_arg(name, &a[1], at)?,
            ),
            _ => return Err(self.malformed(at, "`Fn::GetAtt` takes [Resource, Attribute]")),
        };
        Ok(Value::Attr { resource: self.resource_key(&id, at)?, attribute: attr })
    }

    /// `Fn::Select`: a whole index into a list.
    fn select(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
        let a = self.args(name, v, 2, at)?;
        let index = self
            .eval(&a[0], at)?
            .as_f64()
            .filter(|i| *i >= 0.0 && i.fract() == 0.0)
            .ok_or_else(|| self.malformed(at, "`Fn::Select` needs a whole index"))? as usize;
        match self.eval(&a[1], at)? {
            Value::List(items) => items.get(index).cloned().ok_or_else(|| {
                self.malformed(at, format!("`Fn::Select` index {index} is past the end of a list of {}", items.len()))
            }),
            other => Err(self.malformed(at, format!("`Fn::Select` needs a list, got `{}`", other.display()))),
        }
    }

    /// `Fn::Join`, kept symbolic where an item is only known at deployment.
    fn join(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
        let a = self.args(name, v, 2, at)?;
        let delimiter = a[0].as_str().ok_or_else(|| self.malformed(at, "`Fn::Join` starts with a delimiter"))?;
        let items = match self.eval(&a[1], at)? {
            Value::List(items) => items,
            other => return Err(self.malformed(at, format!("`Fn::Join` needs a list, got `{}`", other.display()))),
        };
        let mut parts = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 && !delimiter.is_empty() {
                parts.push(Value::String(delimiter.to_owned()));
            }
            parts.push(item);
        }
        Ok(concat(parts))
    }

    /// `Fn::FindInMap` over the template's `Mappings`.
    fn find_in_map(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
        let a = self.args(name, v, 3, at)?;
        let keys = [self.text_arg(name, &a[0], at)?, self.text_arg(name, &a[1], at)?, self.text_arg(name, &a[2], at)?];
        let found = self
            .t
            .mappings
            .get(&keys[0])
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]))
            .ok_or_else(|| self.malformed(at, format!("no mapping entry {}", keys.join("."))))?;
        self.eval(found, at)
    }

    fn resource_key(&self, id: &str, at: &str) -> Result<ResourceKey> {
        if self.included.contains(id) {
            Ok(ResourceKey::new(self.t.phase, id))
        } else if self.t.resources.contains_key(id) {
            Err(self.err(at, TemplateProblem::ExcludedResource(id.to_owned())))
        } else {
            Err(self.err(at, TemplateProblem::UnknownReference(id.to_owned())))
        }
    }

    fn reference(&self, name: &str, at: &str) -> Result<Value> {
        if let Some(v) = self.params.get(name) {
            return Ok(v.clone());
        }
        let ctx = self.ctx;
        Ok(match name {
            "AWS::Region" => Value::String(ctx.region.to_owned()),
            "AWS::AccountId" => Value::String(ctx.account_id.to_owned()),
            "AWS::StackName" => Value::String(ctx.stack_name.clone()),
            "AWS::Partition" => Value::String("aws".to_owned()),
            "AWS::URLSuffix" => Value::String("amazonaws.com".to_owned()),
            "AWS::StackId" => Value::Deferred { deferred: "AWS::StackId".to_owned() },
            "AWS::NotificationARNs" => Value::List(Vec::new()),
            "AWS::NoValue" => Value::NoValue,
            _ => Value::Ref { r#ref: self.resource_key(name, at)? },
        })
    }

    fn sub(&self, v: &Json, at: &str) -> Result<Value> {
        let (text, vars) = match v {
            Json::String(s) => (s.as_str(), None),
            Json::Array(a) if a.len() == 2 => (
                a[0].as_str().ok_or_else(|| self.malformed(at, "`Fn::Sub` starts with a string"))?,
                Some(a[1].as_object().ok_or_else(|| self.malformed(at, "`Fn::Sub` variables must be a mapping"))?),
            ),
            _ => return Err(self.malformed(at, "`Fn::Sub` takes a string or [string, variables]")),
        };
        let mut parts = Vec::new();
        for part in sub_parts(text) {
            parts.push(match part {
                SubPart::Text(t) => Value::String(t),
                SubPart::Var(name) => match vars.and_then(|m| m.get(&name)) {
                    Some(expr) => self.eval(expr, at)?,
                    None => match name.split_once('.') {
                        Some((id, attr)) if !self.params.contains_key(&name) => {
                            Value::Attr { resource: self.resource_key(id, at)?, attribute: attr.to_owned() }
                        }
                        _ => self.reference(&name, at)?,
                    },
                },
            });
        }
        Ok(concat(parts))
    }
}

/// CloudFormation compares scalars as text: `!Equals [!Ref Count, 2]` holds for "2".
fn equal(l: &Value, r: &Value) -> bool {
    let scalar = |v: &Value| match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(v.display()),
        _ => None,
    };
    match (scalar(l), scalar(r)) {
        (Some(a), Some(b)) => a == b,
        _ => l == r,
    }
}

/// Joins parts into one string when all are known, else keeps them as a `Concat`.
fn concat(parts: Vec<Value>) -> Value {
    let mut merged: Vec<Value> = Vec::with_capacity(parts.len());
    for part in parts {
        let part = match part {
            Value::Number(n) => Value::String(crate::value::format_number(n)),
            Value::Concat { concat } => {
                for p in concat {
                    push_part(&mut merged, p);
                }
                continue;
            }
            other => other,
        };
        push_part(&mut merged, part);
    }
    match merged.len() {
        0 => Value::String(String::new()),
        1 => merged.remove(0),
        _ => Value::Concat { concat: merged },
    }
}

fn push_part(merged: &mut Vec<Value>, part: Value) {
    if let (Some(Value::String(last)), Value::String(s)) = (merged.last_mut(), &part) {
        last.push_str(s);
    } else {
        merged.push(part);
    }
}

/// Splits known text at the delimiter, keeping deploy-time parts whole, so
/// `Split(",", Join(",", [Ref A, Ref B]))` gives back `[Ref A, Ref B]`.
fn split(source: Value, delimiter: &str) -> Vec<Value> {
    let parts = match source {
        Value::Concat { concat } => concat,
        Value::List(items) => return items,
        other => vec![other],
    };
    let mut items = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for part in parts {
        match part {
            Value::String(s) => {
                let mut pieces = s.split(delimiter).peekable();
                while let Some(piece) = pieces.next() {
                    if !piece.is_empty() {
                        push_part(&mut current, Value::String(piece.to_owned()));
                    }
                    if pieces.peek().is_some() {
                        items.push(concat(std::mem::take(&mut current)));
                        // concat() of one part is that part itself.
                    }
                }
            }
            other => current.push(other),
        }
    }
    items.push(concat(current));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_parts_handle_literals_and_attributes() {
        assert_eq!(
            sub_parts("a-${Env}-${Db.Endpoint.Address}${!Literal}z"),
            vec![
                SubPart::Text("a-".into()),
                SubPart::Var("Env".into()),
                SubPart::Text("-".into()),
                SubPart::Var("Db.Endpoint.Address".into()),
                SubPart::Text("${Literal}z".into()),
            ]
        );
    }

    #[test]
    fn split_undoes_join_of_symbolic_values() {
        let a = Value::Ref { r#ref: ResourceKey::new(Phase::Network, "A") };
        let b = Value::Ref { r#ref: ResourceKey::new(Phase::Network, "B") };
        let joined = concat(vec![a.clone(), Value::String(",".into()), b.clone()]);
        assert_eq!(split(joined, ","), vec![a, b]);
        assert_eq!(split(Value::String("x,y".into()), ","), vec![Value::String("x".into()), Value::String("y".into())]);
    }
}
