//! Bad templates, tier files, prices and usage: each error names the file and the logical id or key.

use infra::{Catalog, InfraError, Phase, Sources, TemplateProblem, Usage};

fn load_with_template(phase: Phase, text: &str) -> InfraError {
    Catalog::from_sources(Sources::embedded().with_template(phase, text))
        .and_then(|c| {
            for tier in infra::TierId::ALL {
                c.evaluate(&infra::DeploymentSpec::preview(tier, Default::default()))?;
            }
            Ok(c)
        })
        .expect_err("the bad template is refused")
}

fn embedded_template(phase: Phase) -> String {
    Sources::embedded().templates[phase as usize].1.clone()
}

/// Appends a resource to the `Resources:` section of a template text.
fn with_resource(phase: Phase, yaml: &str) -> String {
    let text = embedded_template(phase);
    let at = text.find("\nResources:\n").expect("a Resources section") + "\nResources:\n".len();
    format!("{}{}\n{}", &text[..at], yaml, &text[at..])
}

fn template_error(err: InfraError) -> (String, String, TemplateProblem) {
    match err {
        InfraError::Template { file, at, problem } => (file, at, problem),
        other => panic!("expected a template error, got {other}"),
    }
}

#[test]
fn unknown_condition_names_file_and_resource() {
    let text = with_resource(Phase::Data, "  Broken:\n    Type: AWS::SNS::Topic\n    Condition: NoSuchCondition\n");
    let (file, at, problem) = template_error(load_with_template(Phase::Data, &text));
    assert_eq!(file, "2-data.yaml");
    assert_eq!(at, "Resources.Broken");
    assert_eq!(problem, TemplateProblem::UnknownCondition("NoSuchCondition".into()));
}

#[test]
fn missing_parameter_names_it() {
    let text =
        embedded_template(Phase::Cdn).replacen("Parameters:\n", "Parameters:\n  NeedsAValue:\n    Type: String\n", 1);
    let (file, at, problem) = template_error(load_with_template(Phase::Cdn, &text));
    assert_eq!(file, "5-cdn.yaml");
    assert_eq!(at, "Parameters.NeedsAValue");
    assert_eq!(problem, TemplateProblem::MissingParameter("NeedsAValue".into()));
}

#[test]
fn reference_cycle_names_the_circle() {
    let text = with_resource(
        Phase::Auth,
        "  LoopA:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt LoopB.TopicName\n  LoopB:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub '${LoopA}-b'\n",
    );
    let (file, at, problem) = template_error(load_with_template(Phase::Auth, &text));
    assert_eq!(file, "4-auth.yaml");
    assert_eq!(at, "Resources.LoopA");
    assert_eq!(problem, TemplateProblem::Cycle("LoopA -> LoopB -> LoopA".into()));
}

#[test]
fn unsupported_intrinsic_names_the_resource() {
    let text = with_resource(
        Phase::Serverless,
        "  Odd:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: { 'Fn::Transform': { Name: X } }\n",
    );
    let (file, at, problem) = template_error(load_with_template(Phase::Serverless, &text));
    assert_eq!(file, "6-serverless.yaml");
    assert_eq!(at, "Resources.Odd");
    assert_eq!(problem, TemplateProblem::UnsupportedIntrinsic("Fn::Transform".into()));
}

#[test]
fn invalid_yaml_names_the_file() {
    let err = load_with_template(Phase::Network, "Resources: [unclosed");
    assert!(matches!(&err, InfraError::Syntax { file, .. } if file == "1-network.yaml"), "{err}");
}

fn data_error(err: InfraError) -> (String, String) {
    match err {
        InfraError::Data { file, key, .. } => (file, key),
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn tier_file_with_unknown_key_is_refused() {
    let mut sources = Sources::embedded();
    sources.tiers[0].1 = format!("colour = \"blue\"\n{}", sources.tiers[0].1);
    let (file, key) = data_error(Catalog::from_sources(sources).expect_err("refused"));
    assert_eq!((file.as_str(), key.as_str()), ("development.toml", "colour"));

    let mut sources = Sources::embedded();
    sources.tiers[1].1 = sources.tiers[1].1.replace("NatGatewayCount", "NatGatewayCuont");
    let (file, key) = data_error(Catalog::from_sources(sources).expect_err("refused"));
    assert_eq!((file.as_str(), key.as_str()), ("production-lite.toml", "parameters.NatGatewayCuont"));

    let mut sources = Sources::embedded();
    sources.tiers[2].1 = sources.tiers[2].1.replace("sns = false", "carrier_pigeon = true");
    let (file, key) = data_error(Catalog::from_sources(sources).expect_err("refused"));
    assert_eq!((file.as_str(), key.as_str()), ("full-production.toml", "options.carrier_pigeon"));
}

#[test]
fn price_without_unit_is_refused() {
    let mut sources = Sources::embedded();
    sources.prices.1 = sources.prices.1.replacen("unit = \"GB-month\"\n", "", 1);
    let (file, key) = data_error(Catalog::from_sources(sources).expect_err("refused"));
    assert_eq!(file, "us-east-1.toml");
    assert_eq!(key, "price `ebs.gp3.gb`");
}

#[test]
fn malformed_usage_names_file_and_key() {
    let base = Catalog::embedded().expect("catalog").default_usage;
    let (file, key) =
        data_error(base.with_overrides("mine.toml", "viewer_transfer_gb = \"lots\"").expect_err("refused"));
    assert_eq!((file.as_str(), key.as_str()), ("mine.toml", "viewer_transfer_gb"));
    let (file, key) = data_error(base.with_overrides("mine.json", r#"{"cloudfront_gb": 5}"#).expect_err("refused"));
    assert_eq!((file.as_str(), key.as_str()), ("mine.json", "cloudfront_gb"));
    // A share above 1 or a percentage above 100 is refused naming its bound.
    let err = base.with_overrides("mine.toml", "cdn_origin_share = 1.5").expect_err("refused");
    assert!(err.to_string().contains("cdn_origin_share") && err.to_string().contains("from 0 to 1"), "{err}");
    let err = base.with_overrides("mine.toml", "cpu_average_percent = 101").expect_err("refused");
    assert!(err.to_string().contains("from 0 to 100"), "{err}");
    // Keys of earlier versions: a derived one says what it follows from, a renamed one its new name.
    let err = base.with_overrides("mine.toml", "alb_lcu = 2").expect_err("refused");
    assert!(err.to_string().contains("alb_lcu") && err.to_string().contains("viewer_transfer_gb"), "{err}");
    let err = base.with_overrides("mine.toml", "data_transfer_out_gb = 200").expect_err("refused");
    assert!(err.to_string().contains("no longer an assumption"), "{err}");
    let err = base.with_overrides("mine.toml", "cloudfront_transfer_gb = 2048").expect_err("refused");
    assert!(err.to_string().contains("renamed: use viewer_transfer_gb"), "{err}");
    // Past the bound (1e12), or not a number at all: refused naming the key, never an infinite cost.
    for value in [1e308, 1.000_001e12, f64::INFINITY, f64::NAN, -0.5] {
        let mut usage = base.clone();
        let (file, key) = data_error(usage.set("cognito_mau", value).expect_err("refused"));
        assert_eq!((file.as_str(), key.as_str()), ("usage", "cognito_mau"), "{value}");
    }
    let mut usage = base.clone();
    usage.set("cognito_mau", infra::pricing::USAGE_MAX).expect("the bound itself is accepted");
    assert!(base.with_overrides("bad.toml", "[[[").is_err());
    let ok: Usage = base.with_overrides("ok.json", r#"{"viewer_transfer_gb": 2048}"#).expect("accepted");
    assert_eq!(ok.viewer_transfer_gb, 2048.0);
    assert_eq!(ok.cognito_mau, base.cognito_mau);
}

#[test]
fn a_request_stored_under_earlier_keys_reads_in_todays() {
    let catalog = Catalog::embedded().expect("catalog");
    let stored = [
        ("cloudfront_transfer_gb", 2048.0),
        ("cloudfront_requests", 2e7),
        ("nat_processed_gb", 200.0),
        ("data_transfer_out_gb", 500.0),
        ("alb_lcu", 3.0),
        ("cognito_mau", 12_000.0),
    ];
    let usage = catalog.stored_usage(stored).expect("an earlier request still reads");
    assert_eq!(usage.viewer_transfer_gb, 2048.0);
    assert_eq!(usage.viewer_requests, 2e7);
    assert_eq!((usage.server_downloads_gb, usage.server_uploads_gb), (180.0, 20.0));
    assert_eq!(usage.cognito_mau, 12_000.0);
    assert_eq!(usage.cdn_origin_share, catalog.default_usage.cdn_origin_share, "not stored: the default");
    // A key no version ever had is still refused.
    assert!(catalog.stored_usage([("gold_gb", 1.0)]).is_err());
}

#[test]
fn malformed_usage_file_names_the_key() {
    let cases: [(&str, &str, &str); 5] = [
        ("viewer_transfer_gb = { low = 512, typical = 1024, high = 3072 }", "viewer_requests", "is missing"),
        ("viewer_transfer_gb = 1024", "viewer_transfer_gb", "is missing"),
        (
            "viewer_transfer_gb = { low = 2048, typical = 1024, high = 3072 }",
            "viewer_transfer_gb",
            "low ≤ typical ≤ high",
        ),
        (
            "viewer_transfer_gb = { low = 512, typical = 1024, high = 3072, peak = 9000 }",
            "viewer_transfer_gb.peak",
            "unknown",
        ),
        ("cdn_origin_share = { low = 0.05, typical = 0.1, high = 1.3 }", "cdn_origin_share.high", "from 0 to 1"),
    ];
    for (line, expected_key, expected_message) in cases {
        let mut sources = Sources::embedded();
        let key = line.split(' ').next().unwrap_or_default();
        let start = sources.usage.1.find(&format!("\n{key} = ")).expect("the key is in usage.toml") + 1;
        let end = start + sources.usage.1[start..].find('\n').expect("a line");
        sources.usage.1.replace_range(start..end, line);
        if expected_message == "is missing" && key == "viewer_transfer_gb" && line.contains('{') {
            // Drop the next key instead, to see a missing one named.
            let at = sources.usage.1.find("\nviewer_requests = ").expect("viewer_requests") + 1;
            let end = at + sources.usage.1[at..].find('\n').expect("a line");
            sources.usage.1.replace_range(at..end, "");
        }
        let err = Catalog::from_sources(sources).expect_err("refused");
        let message = err.to_string();
        let (file, key) = data_error(err);
        assert_eq!((file.as_str(), key.as_str()), ("usage.toml", expected_key), "{line}: {message}");
        assert!(message.contains(expected_message), "{line}: {message}");
    }
}

#[test]
fn unknown_tier_is_refused() {
    let err = "gold".parse::<infra::TierId>().expect_err("refused");
    assert!(err.to_string().contains("gold") && err.to_string().contains("full-production"));
}

#[test]
fn environment_names_are_checked() {
    for bad in
        ["", "ab", "Prod", "1abc", "has_underscore", "trailing-", "two--hyphens", "a-very-long-environment-name-x"]
    {
        assert!(infra::EnvironmentName::parse(bad).is_err(), "`{bad}` accepted");
    }
    for good in ["dev", "concert-prod", "team1-staging"] {
        assert!(infra::EnvironmentName::parse(good).is_ok(), "`{good}` refused");
    }
}

#[test]
fn role_arns_are_checked() {
    let ok = infra::RoleArn::parse("arn:aws:iam::123456789012:role/portal-deploy").expect("valid");
    assert_eq!(ok.account_id(), "123456789012");
    for bad in [
        "",
        "arn:aws:iam::12345:role/x",
        "arn:aws:iam::123456789012:user/x",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/has space",
    ] {
        assert!(infra::RoleArn::parse(bad).is_err(), "`{bad}` accepted");
    }
}

/// Tier files of catalogs before 2026.12.7 named a pricing model (environments run them: see
/// `tests/fixtures/catalog-2026-11`); one still reads, its model unused. Any other value is refused.
#[test]
fn an_earlier_tier_files_pricing_model_is_read_and_left_unused() {
    let with = |line: &str| {
        let mut sources = Sources::embedded();
        sources.tiers[0].1 = sources.tiers[0].1.replacen("\nincluded = [", &format!("\n{line}\nincluded = ["), 1);
        Catalog::from_sources(sources)
    };
    let catalog = with("pricing = \"reserved\"").expect("an earlier tier file reads");
    assert_eq!(catalog.tiers.len(), 3);
    let (file, key) = data_error(with("pricing = \"spot\"").expect_err("refused"));
    assert_eq!((file.as_str(), key.as_str()), ("development.toml", "pricing"));
}
