//! The intrinsic functions (`Ref`, `Fn::Sub`, `Fn::GetAtt`, `Fn::If`, `Fn::Join`…) and
//! conditions, applied to one template's values by the [`Evaluator`]; and the value helpers
//! they share (equality, concatenation, splitting symbolic strings).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::Value as Json;

use super::EvalContext;
use crate::error::{InfraError, Result, TemplateProblem};

use crate::template::Template;
use crate::value::{ResourceKey, Value};

#[derive(Debug, PartialEq)]
pub(super) enum SubPart {
    Text(String),
    Var(String),
}

/// Splits an `Fn::Sub` string into text and `${Var}` parts; `${!x}` is the literal `${x}`.
pub(super) fn sub_parts(s: &str) -> Vec<SubPart> {
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

pub(super) struct Evaluator<'a> {
    pub(super) t: &'a Template,
    pub(super) ctx: &'a EvalContext<'a>,
    pub(super) params: IndexMap<String, Value>,
    pub(super) conditions: RefCell<HashMap<String, bool>>,
    pub(super) visiting: RefCell<Vec<String>>,
    /// The exports this template's evaluated parts import (branches not taken import nothing).
    pub(super) imports: RefCell<std::collections::BTreeSet<String>>,
    pub(super) included: HashSet<String>,
}

impl Evaluator<'_> {
    pub(super) fn err(&self, at: &str, problem: TemplateProblem) -> InfraError {
        InfraError::Template { file: self.t.file.clone(), at: at.to_owned(), problem }
    }

    pub(super) fn malformed(&self, at: &str, message: impl Into<String>) -> InfraError {
        self.err(at, TemplateProblem::Malformed(message.into()))
    }

    pub(super) fn condition(&self, name: &str, at: &str) -> Result<bool> {
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

    pub(super) fn eval(&self, json: &Json, at: &str) -> Result<Value> {
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

    pub(super) fn eval_list(&self, items: &[Json], at: &str) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let value = self.eval(item, at)?;
            if value != Value::NoValue {
                out.push(value);
            }
        }
        Ok(out)
    }

    pub(super) fn args<'j>(&self, name: &str, v: &'j Json, n: usize, at: &str) -> Result<&'j [Json]> {
        match v.as_array() {
            Some(items) if items.len() == n => Ok(items),
            _ => Err(self.malformed(at, format!("`{name}` takes a list of {n} arguments"))),
        }
    }

    pub(super) fn bool_arg(&self, name: &str, v: &Json, at: &str) -> Result<bool> {
        match self.eval(v, at)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.malformed(at, format!("`{name}` needs conditions, got `{}`", other.display()))),
        }
    }

    pub(super) fn text_arg(&self, name: &str, v: &Json, at: &str) -> Result<String> {
        match self.eval(v, at)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(crate::value::format_number(n)),
            other => {
                Err(self
                    .malformed(at, format!("`{name}` needs text known before deployment, got `{}`", other.display())))
            }
        }
    }

    pub(super) fn intrinsic(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
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
                let value = self.ctx.exports.get(&export).cloned();
                let value = value.ok_or_else(|| self.err(at, TemplateProblem::MissingExport(export.clone())))?;
                self.imports.borrow_mut().insert(export);
                Ok(value)
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
    pub(super) fn and_or(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
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
    pub(super) fn get_att(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
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
    pub(super) fn select(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
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
    pub(super) fn join(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
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
    pub(super) fn find_in_map(&self, name: &str, v: &Json, at: &str) -> Result<Value> {
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

    pub(super) fn resource_key(&self, id: &str, at: &str) -> Result<ResourceKey> {
        if self.included.contains(id) {
            Ok(ResourceKey::new(self.t.phase, id))
        } else if self.t.resources.contains_key(id) {
            Err(self.err(at, TemplateProblem::ExcludedResource(id.to_owned())))
        } else {
            Err(self.err(at, TemplateProblem::UnknownReference(id.to_owned())))
        }
    }

    pub(super) fn reference(&self, name: &str, at: &str) -> Result<Value> {
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

    pub(super) fn sub(&self, v: &Json, at: &str) -> Result<Value> {
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
pub(super) fn equal(l: &Value, r: &Value) -> bool {
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
pub(super) fn concat(parts: Vec<Value>) -> Value {
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

pub(super) fn push_part(merged: &mut Vec<Value>, part: Value) {
    if let (Some(Value::String(last)), Value::String(s)) = (merged.last_mut(), &part) {
        last.push_str(s);
    } else {
        merged.push(part);
    }
}

/// Splits known text at the delimiter, keeping deploy-time parts whole, so
/// `Split(",", Join(",", [Ref A, Ref B]))` gives back `[Ref A, Ref B]`.
pub(super) fn split(source: Value, delimiter: &str) -> Vec<Value> {
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
    use crate::phase::Phase;

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
