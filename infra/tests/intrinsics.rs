//! Table tests of the intrinsic functions, on one-resource templates.

use indexmap::IndexMap;
use infra::eval::{evaluate_template, EvalContext};
use infra::template::Template;
use infra::value::{ResourceKey, Value};
use infra::{InfraError, Phase, TemplateProblem};

const HEADER: &str = r#"
Parameters:
  Env: { Type: String, Default: dev }
  Count: { Type: Number, Default: "2", MinValue: 1, MaxValue: 5 }
  Zones: { Type: CommaDelimitedList, Default: "a,b,c" }
  Size: { Type: String, Default: small, AllowedValues: [small, large] }
Mappings:
  Sizes:
    small: { Memory: 512 }
    large: { Memory: 2048 }
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  IsTwo: !Equals [!Ref Count, 2]
  Both: !And [!Condition IsDev, !Condition IsTwo]
  Either: !Or [!Not [!Condition IsDev], !Condition IsTwo]
  NotDev: !Not [!Condition IsDev]
Resources:
  Other:
    Type: AWS::SNS::Topic
  Probe:
    Type: AWS::SSM::Parameter
    Properties:
      Value: "#;

fn evaluate(expr: &str, params: &[(&str, &str)]) -> Result<Value, InfraError> {
    let text = format!("{HEADER}{expr}\n");
    let template = Template::parse("probe.yaml", Phase::Network, &text)?;
    let zones = vec!["us-east-1a".to_owned(), "us-east-1b".to_owned()];
    let mut exports = IndexMap::new();
    exports.insert("dev-VpcId".to_owned(), Value::String("vpc-123".into()));
    let ctx = EvalContext {
        region: "us-east-1",
        account_id: "123456789012",
        stack_name: "dev-network".into(),
        availability_zones: &zones,
        exports: &exports,
    };
    let supplied: IndexMap<String, String> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let phase = evaluate_template(&template, &supplied, &ctx)?;
    let probe = phase.resources.iter().find(|r| r.key.logical_id == "Probe").expect("probe resource");
    Ok(probe.property("Value").cloned().unwrap_or(Value::NoValue))
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn other() -> Value {
    Value::Ref { r#ref: ResourceKey::new(Phase::Network, "Other") }
}

/// A case: the expression, the parameters it is evaluated with, and what it must give.
type Case<T> = (&'static str, &'static [(&'static str, &'static str)], T);

#[test]
fn intrinsics_evaluate_as_cloudformation_does() {
    let cases: Vec<Case<Value>> = vec![
        ("!Ref Env", &[], s("dev")),
        ("!Ref Env", &[("Env", "prod")], s("prod")),
        ("{ Ref: Env }", &[], s("dev")),
        ("!Ref AWS::Region", &[], s("us-east-1")),
        ("!Ref AWS::StackName", &[], s("dev-network")),
        ("!Ref AWS::AccountId", &[], s("123456789012")),
        ("!Ref Other", &[], other()),
        ("!Sub '${Env}-x'", &[], s("dev-x")),
        ("!Sub '${!Literal}-${AWS::Region}'", &[], s("${Literal}-us-east-1")),
        ("!Sub ['${A}-${Env}', { A: !Ref Count }]", &[], s("2-dev")),
        ("!Sub 'arn:${Other}'", &[], Value::Concat { concat: vec![s("arn:"), other()] }),
        (
            "!Sub '${Other.TopicName}'",
            &[],
            Value::Attr { resource: ResourceKey::new(Phase::Network, "Other"), attribute: "TopicName".into() },
        ),
        (
            "!GetAtt Other.TopicArn",
            &[],
            Value::Attr { resource: ResourceKey::new(Phase::Network, "Other"), attribute: "TopicArn".into() },
        ),
        ("!If [IsDev, yes, no]", &[], s("yes")),
        ("!If [IsDev, yes, no]", &[("Env", "prod")], s("no")),
        ("!If [Both, yes, no]", &[], s("yes")),
        ("!If [Both, yes, no]", &[("Count", "3")], s("no")),
        ("!If [Either, yes, no]", &[("Count", "3")], s("no")),
        ("!If [Either, yes, no]", &[("Env", "prod"), ("Count", "3")], s("yes")),
        ("!If [NotDev, yes, no]", &[], s("no")),
        ("!Select [1, !Ref Zones]", &[], s("b")),
        ("!Select [0, !GetAZs '']", &[], s("us-east-1a")),
        ("!Select ['1', !GetAZs { Ref: AWS::Region }]", &[], s("us-east-1b")),
        ("!Join ['-', [a, !Ref Env, c]]", &[], s("a-dev-c")),
        ("!Join ['', []]", &[], s("")),
        ("!Select [2, !Split [',', 'x,y,z']]", &[], s("z")),
        ("!Select [0, !Split [',', !Join [',', [!Ref Other, b]]]]", &[], other()),
        ("!ImportValue dev-VpcId", &[], s("vpc-123")),
        ("!ImportValue { 'Fn::Sub': '${Env}-VpcId' }", &[], s("vpc-123")),
        ("!FindInMap [Sizes, !Ref Size, Memory]", &[("Size", "large")], Value::Number(2048.0)),
        ("!Base64 { 'Fn::Sub': 'echo ${Env}' }", &[], s("echo dev")),
        ("!Equals [a, a]", &[], Value::Bool(true)),
        ("[a, !Ref AWS::NoValue, b]", &[], Value::List(vec![s("a"), s("b")])),
    ];
    for (expr, params, expected) in cases {
        let got = evaluate(expr, params).unwrap_or_else(|e| panic!("`{expr}` failed: {e}"));
        assert_eq!(got, expected, "`{expr}` with {params:?}");
    }
}

#[test]
fn a_map_key_with_no_value_is_dropped() {
    let got = evaluate("{ A: x, B: !If [NotDev, y, !Ref AWS::NoValue] }", &[]).expect("evaluates");
    assert_eq!(got.get("A"), Some(&s("x")));
    assert_eq!(got.get("B"), None);
}

fn problem(expr: &str, params: &[(&str, &str)]) -> TemplateProblem {
    match evaluate(expr, params) {
        Err(InfraError::Template { file, problem, at }) => {
            assert_eq!(file, "probe.yaml");
            assert!(!at.is_empty());
            problem
        }
        other => panic!("`{expr}`: expected a template error, got {other:?}"),
    }
}

#[test]
fn bad_expressions_are_named_errors() {
    let cases: Vec<Case<TemplateProblem>> = vec![
        ("!If [Nope, a, b]", &[], TemplateProblem::UnknownCondition("Nope".into())),
        ("!Ref Missing", &[], TemplateProblem::UnknownReference("Missing".into())),
        ("!ImportValue nobody-exports-this", &[], TemplateProblem::MissingExport("nobody-exports-this".into())),
        ("!Cidr [10.0.0.0/16, 2, 8]", &[], TemplateProblem::UnsupportedIntrinsic("Fn::Cidr".into())),
        ("{ 'Fn::Length': [a] }", &[], TemplateProblem::UnsupportedIntrinsic("Fn::Length".into())),
    ];
    for (expr, params, expected) in cases {
        assert_eq!(problem(expr, params), expected, "`{expr}`");
    }
    assert!(matches!(problem("!Select [9, [a]]", &[]), TemplateProblem::Malformed(_)));
    assert!(matches!(
        problem("!Ref Env", &[("Size", "huge")]),
        TemplateProblem::InvalidParameter { name, .. } if name == "Size"
    ));
    assert!(matches!(
        problem("!Ref Env", &[("Count", "9")]),
        TemplateProblem::InvalidParameter { name, .. } if name == "Count"
    ));
}
