//! The deployed architecture's security posture: encryption in transit with a domain, the
//! origin closed behind CloudFront, guests off, least privilege, what each deployment lacks
//! shown as such, and the cost of what the hardening added.

mod common;

use infra::posture::{Posture, Protocol};
use infra::value::Value;
use infra::{Catalog, DeploymentSpec, EnvironmentName, Evaluation, OptionSet, Region, ServiceOption, Sources, TierId};

use common::catalog;

const DOMAIN: &str = "concerts.example.com";

fn spec(tier: TierId, options: OptionSet, domain: Option<&str>) -> DeploymentSpec {
    DeploymentSpec {
        tier,
        environment: EnvironmentName::parse("posture-env").expect("name"),
        region: Region::US_EAST_1,
        options,
        domain_name: domain.map(|d| infra::DomainName::parse(d).expect("domain")),
    }
}

fn option_sets() -> Vec<OptionSet> {
    let all = ServiceOption::ALL;
    (0..1u32 << all.len())
        .map(|mask| all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, o)| *o).collect())
        .collect()
}

/// Every tier × every option combination × with and without a domain.
fn every_deployment(catalog: &Catalog) -> Vec<(DeploymentSpec, Evaluation)> {
    let mut out = Vec::new();
    for tier in TierId::ALL {
        for options in option_sets() {
            for domain in [None, Some(DOMAIN)] {
                let s = spec(tier, options.clone(), domain);
                let ev = catalog.evaluate(&s).expect("evaluates");
                out.push((s, ev));
            }
        }
    }
    out
}

fn has_cloudfront(ev: &Evaluation) -> bool {
    ev.of_type("AWS::CloudFront::Distribution").count() > 0
}

fn text(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

#[test]
fn behind_cloudfront_the_load_balancer_admits_only_cloudfront_with_its_secret() {
    let catalog = catalog();
    let mut checked = 0;
    for (s, ev) in every_deployment(&catalog) {
        if !has_cloudfront(&ev) {
            continue;
        }
        checked += 1;
        let group =
            ev.of_type("AWS::EC2::SecurityGroup").find(|g| g.key.logical_id == "AlbSecurityGroup").expect("ALB group");
        let rules = group.property("SecurityGroupIngress").and_then(Value::as_list).expect("ingress rules");
        assert_eq!(rules.len(), 1, "{}: one rule (the prefix list weighs ~55 of 60)", s.tier);
        for rule in rules {
            assert_eq!(text(rule.get("CidrIp")), "", "{}: no CIDR rule: {rule:?}", s.tier);
            assert_eq!(text(rule.get("CidrIpv6")), "", "{}: no IPv6 CIDR rule", s.tier);
            assert_eq!(
                text(rule.get("SourcePrefixListId")),
                "pl-3b927c52",
                "{}: CloudFront origin-facing list",
                s.tier
            );
            let port = rule.get("FromPort").and_then(Value::as_f64);
            assert_eq!(port, Some(if s.domain_name.is_some() { 443.0 } else { 80.0 }), "{}", s.tier);
        }
        for extra in ev.of_type("AWS::EC2::SecurityGroupIngress") {
            assert_ne!(text(extra.property("CidrIp")), "0.0.0.0/0", "{}: {} opens the origin", s.tier, extra.key);
        }
        // Every listener answers 403 by default; only the rule with the secret header forwards.
        for listener in ev.of_type("AWS::ElasticLoadBalancingV2::Listener") {
            let action = &listener.property("DefaultActions").and_then(Value::as_list).expect("actions")[0];
            let kind = text(action.get("Type"));
            assert!(kind == "fixed-response" || kind == "redirect", "{}: {} forwards directly", s.tier, listener.key);
            if kind == "fixed-response" {
                assert_eq!(text(action.get("FixedResponseConfig").and_then(|c| c.get("StatusCode"))), "403");
            }
        }
        let rule = ev.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").next().expect("origin rule");
        let condition = &rule.property("Conditions").and_then(Value::as_list).expect("conditions")[0];
        assert_eq!(text(condition.get("Field")), "http-header");
        let header = condition.get("HttpHeaderConfig").expect("header config");
        assert_eq!(text(header.get("HttpHeaderName")), "X-Origin-Verify");
        let value = header.get("Values").and_then(Value::as_list).expect("values")[0].display();
        assert!(value.contains("resolve:secretsmanager"), "the header value comes from Secrets Manager: {value}");
        // CloudFront sends the same secret.
        let cdn = ev.of_type("AWS::CloudFront::Distribution").next().expect("distribution");
        let origins = cdn
            .property("DistributionConfig")
            .and_then(|c| c.get("Origins"))
            .and_then(Value::as_list)
            .expect("origins");
        let alb = origins.iter().find(|o| o.get("CustomOriginConfig").is_some()).expect("ALB origin");
        let sent = alb.get("OriginCustomHeaders").and_then(Value::as_list).expect("custom headers");
        assert_eq!(text(sent[0].get("HeaderName")), "X-Origin-Verify");
        assert!(sent[0].get("HeaderValue").map(Value::display).unwrap_or_default().contains("resolve:secretsmanager"));
        let posture = Posture::of(&ev);
        assert!(
            posture.control("closed-origin").is_some_and(|c| c.met),
            "{}: {:?}",
            s.tier,
            posture.control("closed-origin")
        );
    }
    assert_eq!(checked, 2 * 32 * 2, "Production Lite and Full Production, every combination");
}

#[test]
fn with_a_domain_every_public_hop_is_https_and_http_redirects() {
    let catalog = catalog();
    for (s, ev) in every_deployment(&catalog) {
        let posture = Posture::of(&ev);
        let public: Vec<_> = posture.request_path.iter().filter(|h| h.public).collect();
        if s.domain_name.is_some() {
            let https = ev
                .of_type("AWS::ElasticLoadBalancingV2::Listener")
                .find(|l| text(l.property("Protocol")) == "HTTPS")
                .unwrap_or_else(|| panic!("{}: an HTTPS listener", s.tier));
            assert_eq!(text(https.property("SslPolicy")), "ELBSecurityPolicy-TLS13-1-2-2021-06");
            assert!(https.property("Certificates").is_some());
            let http = ev
                .of_type("AWS::ElasticLoadBalancingV2::Listener")
                .find(|l| text(l.property("Protocol")) == "HTTP")
                .expect("HTTP listener");
            let action = &http.property("DefaultActions").and_then(Value::as_list).expect("actions")[0];
            assert_eq!(text(action.get("Type")), "redirect");
            let redirect = action.get("RedirectConfig").expect("redirect config");
            assert_eq!(text(redirect.get("Protocol")), "HTTPS");
            assert_eq!(text(redirect.get("StatusCode")), "HTTP_301");
            assert!(public.iter().all(|h| h.protocol == Protocol::Https), "{}: {public:?}", s.tier);
            assert!(posture.control("viewer-tls").is_some_and(|c| c.met));
        } else {
            // Without a domain the unencrypted hop is there, and said.
            assert!(public.iter().any(|h| h.is_risk()), "{}: {public:?}", s.tier);
            let missing: Vec<_> = posture.controls.iter().filter(|c| !c.met).map(|c| c.id).collect();
            if has_cloudfront(&ev) {
                assert_eq!(public[0].protocol, Protocol::Https, "viewers still reach CloudFront over HTTPS");
                assert!(missing.contains(&"origin-tls"), "{}: {missing:?}", s.tier);
            } else {
                assert!(missing.contains(&"viewer-tls"), "{}: {missing:?}", s.tier);
                assert!(posture.control("viewer-tls").is_some_and(|c| c.detail.contains("plain HTTP")));
            }
        }
    }
}

#[test]
fn guest_identities_are_off_unless_a_tier_asks_for_them() {
    let catalog = catalog();
    for (s, ev) in every_deployment(&catalog) {
        let pool = ev.of_type("AWS::Cognito::IdentityPool").next().expect("identity pool");
        assert_eq!(pool.property("AllowUnauthenticatedIdentities").and_then(Value::as_bool), Some(false), "{}", s.tier);
        assert_eq!(ev.of_type("AWS::IAM::Role").filter(|r| r.key.logical_id == "UnauthenticatedRole").count(), 0);
    }
    // The parameter turns them on, with the guest role; the posture then says so.
    let mut sources = Sources::embedded();
    sources.tiers[0].1 =
        sources.tiers[0].1.replace("AllowGuestIdentities = \"false\"", "AllowGuestIdentities = \"true\"");
    let with_guests = Catalog::from_sources(sources).expect("catalog");
    let ev = with_guests.evaluate(&spec(TierId::Development, OptionSet::default(), None)).expect("evaluates");
    let pool = ev.of_type("AWS::Cognito::IdentityPool").next().expect("identity pool");
    assert_eq!(pool.property("AllowUnauthenticatedIdentities").and_then(Value::as_bool), Some(true));
    assert_eq!(ev.of_type("AWS::IAM::Role").filter(|r| r.key.logical_id == "UnauthenticatedRole").count(), 1);
    assert!(Posture::of(&ev).control("guests-off").is_some_and(|c| !c.met));
}

#[test]
fn no_policy_allows_a_wildcard_action_and_logs_encryption_and_backups_hold() {
    let catalog = catalog();
    for (s, ev) in every_deployment(&catalog) {
        let posture = Posture::of(&ev);
        for id in ["least-privilege", "encrypted-at-rest", "access-logs", "guests-off"] {
            let c = posture.control(id).expect("control");
            assert!(c.met, "{} {:?} {}: {}", s.tier, s.domain_name, id, c.detail);
        }
        let backups = ev.of_type("AWS::S3::Bucket").find(|b| b.tag("Purpose") == Some("backups")).expect("backups");
        assert_eq!(text(backups.property("VersioningConfiguration").and_then(|v| v.get("Status"))), "Enabled");
        assert!(backups.property("LifecycleConfiguration").is_some());
        let logs = ev.of_type("AWS::S3::Bucket").find(|b| b.tag("Purpose") == Some("logs")).expect("log bucket");
        let rules = logs.property("LifecycleConfiguration").and_then(|l| l.get("Rules")).and_then(Value::as_list);
        let expiry = rules.and_then(|r| r[0].get("ExpirationInDays")).and_then(Value::as_f64);
        let retention: f64 = catalog.tier(s.tier).parameters["LogRetentionDays"].parse().expect("days");
        assert_eq!(expiry, Some(retention), "{}: logs expire with the tier's retention", s.tier);
        let function = ev.of_type("AWS::Lambda::Function").next().expect("function");
        assert!(function.property("DeadLetterConfig").is_some());
        assert!(function.property("ReservedConcurrentExecutions").and_then(Value::as_f64).is_some_and(|n| n >= 1.0));
        for db in ev.of_type("AWS::RDS::DBInstance") {
            assert_eq!(db.property("EnableIAMDatabaseAuthentication").and_then(Value::as_bool), Some(true));
        }
    }
}

#[test]
fn production_tiers_protect_the_database_and_development_says_it_does_not() {
    let catalog = catalog();
    for tier in TierId::ALL {
        let ev = catalog.evaluate(&spec(tier, catalog.tier(tier).default_options.clone(), None)).expect("evaluates");
        let posture = Posture::of(&ev);
        let db = posture.control("database-safeguards").expect("control");
        let production = tier != TierId::Development;
        assert_eq!(db.met, production, "{tier}: {}", db.detail);
        for d in ev.of_type("AWS::RDS::DBInstance") {
            assert_eq!(d.property("DeletionProtection").and_then(Value::as_bool), Some(production), "{tier}");
            let interval = d.property("MonitoringInterval").and_then(Value::as_f64);
            assert_eq!(interval, Some(if production { 60.0 } else { 0.0 }), "{tier}: enhanced monitoring");
        }
    }
}

#[test]
fn every_waived_check_of_a_deployment_is_listed_with_its_reason() {
    let catalog = catalog();
    let dev = catalog.evaluate(&spec(TierId::Development, OptionSet::default(), None)).expect("evaluates");
    let waivers = Posture::of(&dev).accepted_risks;
    assert!(waivers.iter().all(|w| !w.reason.trim().is_empty()));
    let ids: Vec<(&str, &str)> = waivers.iter().map(|w| (w.resource.as_str(), w.check.as_str())).collect();
    assert!(ids.contains(&("HttpListener", "CKV_AWS_2")), "{ids:?}");
    assert!(ids.contains(&("AlbSecurityGroup", "CKV_AWS_260")), "{ids:?}");
    // Resources a deployment does not have bring no waivers: no CloudFront, no WAF waiver.
    assert!(!ids.iter().any(|(r, _)| *r == "Distribution"), "{ids:?}");
    let full = catalog.evaluate(&spec(TierId::FullProduction, OptionSet::default(), None)).expect("evaluates");
    assert!(Posture::of(&full).accepted_risks.iter().any(|w| w.check == "CKV_AWS_68" && w.reason.contains("WAF")));
}

#[test]
fn a_skip_without_a_reason_is_refused_naming_the_resource() {
    let text = infra::catalog::embedded::TEMPLATES[2].1.replace(
        "            comment: Redirects to HTTPS when the environment has a domain; without one there is no certificate, and the portal shows the plain HTTP to the approver.\n",
        "",
    );
    let err = Catalog::from_sources(Sources::embedded().with_template(infra::Phase::Compute, text))
        .expect_err("a skip without a reason is refused");
    let message = err.to_string();
    assert!(message.contains("3-compute.yaml") && message.contains("HttpListener"), "{message}");
    assert!(message.contains("CKV_AWS_2") && message.contains("comment"), "{message}");
}

#[test]
fn the_diagram_marks_each_hop_of_the_request_path_with_its_protocol() {
    let catalog = catalog();
    let svg = |tier: TierId, domain: Option<&str>| {
        let s = spec(tier, OptionSet::default(), domain);
        let report = catalog.report(&s, &catalog.default_usage, true, infra::PricingModel::OnDemand).expect("report");
        catalog.diagram(&report)
    };
    let dev = svg(TierId::Development, None);
    assert!(
        dev.contains(r#"data-protocol="http" data-risk="true""#),
        "Development without a domain: plain HTTP marked"
    );
    assert!(dev.contains("Internet → Load balancer: HTTP, unencrypted"));
    assert!(dev.contains("stroke-dasharray=\"7 4\""), "the risky hop is dashed, not only coloured");
    let dev_tls = svg(TierId::Development, Some(DOMAIN));
    assert!(!dev_tls.contains(r#"data-risk="true""#));
    assert!(dev_tls.contains("Internet → Load balancer: HTTPS"));
    let lite = svg(TierId::ProductionLite, None);
    assert!(lite.contains("Internet → CloudFront: HTTPS"));
    assert!(lite.contains("CloudFront → Load balancer: HTTP, unencrypted"));
    let lite_tls = svg(TierId::ProductionLite, Some(DOMAIN));
    assert!(lite_tls.contains("CloudFront → Load balancer: HTTPS"));
    assert!(lite_tls.contains("Load balancer → Backend: HTTP inside the VPC"));
}

#[test]
fn domain_names_are_checked_where_they_enter() {
    use infra::DomainName;
    for good in ["concerts.example.com", "a.io", "tickets-2.concerts.example.co"] {
        assert_eq!(DomainName::parse(good).expect(good).as_str(), good);
    }
    for (bad, says) in [
        ("localhost", "two labels"),
        ("Concerts.Example.com", "lower-case"),
        ("concerts..example.com", "1 to 63"),
        ("-concerts.example.com", "hyphen"),
        ("concerts.example.c0m", "last label"),
        ("concerts.example.com/path", "lower-case"),
        ("", "two labels"),
    ] {
        let err = DomainName::parse(bad).expect_err(bad).to_string();
        assert!(err.contains(says) && err.contains(&format!("`{bad}`")), "{bad}: {err}");
    }
}

/// The monthly figure of one resource's line with this price id (free tier off), and the unit
/// price the catalog holds for it.
fn line(report: &infra::TierReport, resource: &str, price_id: &str) -> (f64, f64) {
    let l = report
        .estimate
        .lines
        .iter()
        .find(|l| l.resource == resource && l.price_id == price_id)
        .unwrap_or_else(|| panic!("no {price_id} line for {resource}"));
    (l.monthly_usd, l.unit_price_usd)
}

#[test]
fn what_the_hardening_added_is_priced_from_the_catalog() {
    let catalog = catalog();
    let usage = &catalog.default_usage;
    let report = |tier| {
        let s = spec(tier, OptionSet::default(), None);
        catalog.report(&s, usage, false, infra::PricingModel::OnDemand).expect("report")
    };
    let price = |id: &str| catalog.prices.prices[id].usd;
    let full = report(TierId::FullProduction);
    // Lines are rounded to the cent.
    let close = |got: f64, want: f64, what: &str| assert!((got - want).abs() <= 0.0051, "{what}: {got} vs {want}");

    // The log bucket: 1 GB of access logs a month (usage.toml), kept 90 days on Full Production
    // (LogRetentionDays), Standard storage at $0.023/GB: 3 GB × $0.023 = $0.069; delivered as
    // ~20 KB objects: 50,000 PUTs at $0.005 per 1,000 = $0.25.
    assert_eq!(price("s3.standard.gb"), 0.023);
    assert_eq!(price("s3.put.1k"), 0.005);
    close(line(&full, "LogsBucket", "s3.standard.gb").0, 3.0 * 0.023, "log storage");
    close(line(&full, "LogsBucket", "s3.put.1k").0, 50.0 * 0.005, "log deliveries");
    // The origin header's secret: $0.40 a month; no API calls (CloudFormation reads it when deploying).
    assert_eq!(price("secrets.secret"), 0.40);
    close(line(&full, "OriginVerifySecret", "secrets.secret").0, 0.40, "origin secret");
    close(line(&full, "OriginVerifySecret", "secrets.api.10k").0, 0.0, "origin secret calls");
    // API access logs: 0.2 GB ingested at $0.50/GB = $0.10, kept 3 months at $0.03/GB-month = $0.018.
    assert_eq!((price("logs.ingest.gb"), price("logs.storage.gb")), (0.50, 0.03));
    close(line(&full, "ApiAccessLogGroup", "logs.ingest.gb").0, 0.2 * 0.50, "API log ingestion");
    close(line(&full, "ApiAccessLogGroup", "logs.storage.gb").0, 0.2 * 3.0 * 0.03, "API log storage");
    // Enhanced monitoring every 60 s: 0.45 GB of OS metrics per instance at $0.50/GB = $0.225,
    // for the primary and for the read replica.
    for db in ["Database", "ReadReplica"] {
        close(line(&full, db, "logs.ingest.gb").0, 0.45 * 0.50, "enhanced monitoring");
    }
    // The function's dead-letter queue carries no share of the SQS assumption.
    close(line(&full, "FunctionDeadLetterQueue", "sqs.request.1m").0, 0.0, "dead letters");

    // Development: no enhanced monitoring, no origin secret (no CloudFront), same log bucket
    // for 7 days: 7/30 GB × $0.023.
    let dev = report(TierId::Development);
    assert!(!dev.estimate.lines.iter().any(|l| l.resource == "Database" && l.price_id == "logs.ingest.gb"));
    assert!(!dev.estimate.lines.iter().any(|l| l.resource == "OriginVerifySecret"));
    close(line(&dev, "LogsBucket", "s3.standard.gb").0, 7.0 / 30.0 * 0.023, "Development log storage");
    assert!(full.estimate.unpriced.is_empty() && dev.estimate.unpriced.is_empty());
}
