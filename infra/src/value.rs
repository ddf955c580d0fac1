//! Values of an evaluated template.
//!
//! Most of a template is known before deployment (parameters, conditions,
//! literals). What only CloudFormation knows (a resource's physical id, its
//! attributes) stays symbolic, so cost and diagram can still follow a `Ref`
//! from an auto scaling group to its launch template or from a NAT gateway to
//! its subnet.

use indexmap::IndexMap;
use serde::Serialize;

use crate::phase::Phase;

/// A resource of one phase's stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceKey {
    pub phase: Phase,
    pub logical_id: String,
}

impl ResourceKey {
    pub fn new(phase: Phase, logical_id: impl Into<String>) -> Self {
        Self { phase, logical_id: logical_id.into() }
    }
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.phase.slug(), self.logical_id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(IndexMap<String, Value>),
    /// `Ref` to a resource: its physical id, known once deployed.
    Ref {
        r#ref: ResourceKey,
    },
    /// `Fn::GetAtt` of a resource.
    Attr {
        resource: ResourceKey,
        attribute: String,
    },
    /// Text made of known parts and deploy-time values (`Fn::Sub`, `Fn::Join`).
    Concat {
        concat: Vec<Value>,
    },
    /// A value only the deployment knows (an SSM-typed parameter, `AWS::StackId`).
    Deferred {
        deferred: String,
    },
    /// `Ref: AWS::NoValue`; removed from the enclosing map or list.
    #[serde(skip)]
    NoValue,
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Numbers arrive as YAML numbers or, through `Ref` to a parameter, as strings.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Booleans likewise arrive as YAML booleans or as "true"/"false" strings.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(map) => map.get(key),
            _ => None,
        }
    }

    /// The resource this value points at, if it is a `Ref` or `Fn::GetAtt`.
    pub fn resource(&self) -> Option<&ResourceKey> {
        match self {
            Value::Ref { r#ref } => Some(r#ref),
            Value::Attr { resource, .. } => Some(resource),
            _ => None,
        }
    }

    /// A string for display: known text as is, deploy-time parts as `${...}`.
    pub fn display(&self) -> String {
        match self {
            Value::Null | Value::NoValue => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => format_number(*n),
            Value::String(s) => s.clone(),
            Value::List(items) => items.iter().map(Value::display).collect::<Vec<_>>().join(","),
            Value::Map(_) => "{…}".to_owned(),
            Value::Ref { r#ref } => format!("${{{}}}", r#ref.logical_id),
            Value::Attr { resource, attribute } => format!("${{{}.{}}}", resource.logical_id, attribute),
            Value::Concat { concat } => concat.iter().map(Value::display).collect(),
            Value::Deferred { deferred } => format!("${{{deferred}}}"),
        }
    }
}

pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}
