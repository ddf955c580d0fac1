//! Cost and diagram, both computed from one evaluation.

mod common;

use infra::cost::{differs, SEED_TOLERANCE, SEED_TOLERANCE_USD};
use infra::value::ResourceKey;
use infra::{Catalog, DeploymentSpec, Phase, PricingModel, Sources, TierId};

use common::{catalog, report};

#[test]
fn totals_are_the_sum_of_the_lines() {
    let catalog = catalog();
    for tier in TierId::ALL {
        let r = report(&catalog, tier, catalog.tier(tier).default_options.clone());
        let e = &r.estimate;
        let sum: f64 = e.lines.iter().map(|l| l.monthly_usd).sum();
        assert!((sum - e.monthly_usd).abs() < 0.011, "{tier}: {sum} vs {}", e.monthly_usd);
        assert!((e.yearly_usd - e.monthly_usd * 12.0).abs() < 0.011);
        assert!(e.unpriced.is_empty(), "{tier}: unpriced {:?}", e.unpriced);
        assert!(e.reserved_monthly_usd < e.on_demand_monthly_usd, "{tier}: reservations save");
        for l in &e.lines {
            assert!(l.monthly_usd >= 0.0 && l.quantity >= l.free_quantity, "{tier}: {l:?}");
        }
    }
}

#[test]
fn every_tier_is_priced_with_the_model_asked_for() {
    let catalog = catalog();
    for tier in TierId::ALL {
        let spec = DeploymentSpec::preview(tier, catalog.tier(tier).default_options.clone());
        for model in PricingModel::ALL {
            let e = catalog.report(&spec, &catalog.default_usage, true, model).expect("report").estimate;
            assert_eq!(e.pricing, model);
            let expected = match model {
                PricingModel::OnDemand => e.on_demand_monthly_usd,
                PricingModel::Reserved => e.reserved_monthly_usd,
                PricingModel::SavingsPlan => e.savings_plan_monthly_usd.unwrap_or_default(),
            };
            assert_eq!(e.monthly_usd, expected, "{tier} {model}");
        }
    }
}

#[test]
fn every_service_far_from_the_seed_says_why() {
    let catalog = catalog();
    let full = report(&catalog, TierId::FullProduction, Default::default()).estimate;
    let compared: Vec<_> = full.services.iter().filter(|s| s.seed_usd.is_some()).collect();
    assert_eq!(compared.len(), 12, "all twelve rows of the seed's table are compared");
    for s in compared {
        let seed = s.seed_usd.unwrap_or_default();
        let gap = (s.monthly_usd - seed).abs();
        let far = gap / seed > SEED_TOLERANCE || gap > SEED_TOLERANCE_USD;
        assert_eq!(far, differs(s.monthly_usd, seed));
        assert_eq!(s.note.is_some(), far, "{}: ours {} vs seed {}", s.service, s.monthly_usd, seed);
    }
    // Development is not the seed's table: no comparison there.
    let dev = report(&catalog, TierId::Development, Default::default()).estimate;
    assert!(dev.services.iter().all(|s| s.seed_usd.is_none()));
}

#[test]
fn usage_and_free_tier_move_the_total() {
    let catalog = catalog();
    let spec = DeploymentSpec::preview(TierId::FullProduction, Default::default());
    let base =
        catalog.report(&spec, &catalog.default_usage, true, infra::PricingModel::OnDemand).expect("report").estimate;
    let mut usage = catalog.default_usage.clone();
    usage.set("viewer_transfer_gb", 5120.0).expect("valid");
    let more = catalog.report(&spec, &usage, true, infra::PricingModel::OnDemand).expect("report").estimate;
    // 4 TB beyond the free 1 TB at $0.085/GB, and the load balancer's capacity units for the
    // origin's share of it (10%, at 1 GB an hour per LCU and $0.008 per LCU-hour).
    let p = &catalog.prices;
    let expected = 4096.0 * p.usd("cloudfront.transfer.gb") + 4096.0 * 0.1 * p.usd("alb.lcu-hour");
    assert!(
        (more.monthly_usd - base.monthly_usd - expected).abs() < 0.02,
        "{} → {}",
        base.monthly_usd,
        more.monthly_usd
    );
    let no_free =
        catalog.report(&spec, &catalog.default_usage, false, infra::PricingModel::OnDemand).expect("report").estimate;
    assert!(no_free.monthly_usd > base.monthly_usd + 87.0, "1 TB of CloudFront alone is $87.04");
}

#[test]
fn adding_a_resource_changes_cost_and_diagram() {
    let sources = Sources::embedded();
    let text = &sources.templates[Phase::Compute as usize].1;
    let at = text.find("\nResources:\n").expect("Resources") + "\nResources:\n".len();
    let extra = "  BastionHost:\n    Type: AWS::EC2::Instance\n    Properties:\n      InstanceType: t3.micro\n      ImageId: !Ref AmiId\n      SubnetId: !Select [0, !Split [',', !ImportValue { 'Fn::Sub': '${EnvironmentName}-PublicSubnetIds' }]]\n";
    let edited = format!("{}{}{}", &text[..at], extra, &text[at..]);
    let before = Catalog::from_sources(sources.clone()).expect("catalog");
    let after = Catalog::from_sources(sources.with_template(Phase::Compute, edited)).expect("edited catalog");

    let tier = TierId::Development;
    let r0 = report(&before, tier, Default::default());
    let r1 = report(&after, tier, Default::default());
    let added: Vec<_> = r1.estimate.lines.iter().filter(|l| l.resource == "BastionHost").collect();
    assert_eq!(added.len(), 1);
    assert!((added[0].monthly_usd - 730.0 * 0.0104).abs() < 0.01);
    assert!((r1.estimate.monthly_usd - r0.estimate.monthly_usd - added[0].monthly_usd).abs() < 0.011);

    let d0 = before.diagram(&r0);
    let d1 = after.diagram(&r1);
    assert!(!d0.contains("data-resource=\"BastionHost\""));
    assert!(d1.contains("data-resource=\"BastionHost\""));
}

fn parse_svg(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("diagram is not well-formed XML: {e}"))
}

#[test]
fn diagrams_are_accessible_and_show_tier_differences() {
    let catalog = catalog();
    for tier in TierId::ALL {
        let r = report(&catalog, tier, Default::default());
        let svg = catalog.diagram(&r);
        let doc = parse_svg(&svg);
        let root = doc.root_element();
        assert_eq!(root.attribute("role"), Some("group"));
        assert_eq!(root.attribute("aria-labelledby"), Some("diagram-title"));
        let title = root.children().find(|n| n.has_tag_name("title")).expect("<title>");
        assert!(title.text().unwrap_or_default().contains(&r.tier.name));
        let desc = root.children().find(|n| n.has_tag_name("desc")).expect("<desc>");
        assert!(desc.text().unwrap_or_default().contains("Request path"));

        let boxes = |label: &str| doc.descendants().filter(|n| n.attribute("data-type") == Some(label)).count();
        let ev = &r.evaluation;
        assert_eq!(boxes("NAT gateway"), ev.of_type("AWS::EC2::NatGateway").count(), "{tier}");
        assert_eq!(boxes("CloudFront"), ev.of_type("AWS::CloudFront::Distribution").count(), "{tier}");
        assert_eq!(boxes("RDS read replica"), if tier == TierId::FullProduction { 1 } else { 0 });
        assert_eq!(boxes("RDS standby"), if tier == TierId::FullProduction { 1 } else { 0 });
        assert_eq!(boxes("Application Load Balancer"), 1);

        // Every resource in the drawing links to a cost line that exists, or to none when it is free.
        for link in doc.descendants().filter(|n| n.has_tag_name("a")) {
            let href = link.attribute("href").expect("href");
            if let Some(phase) = href.strip_prefix("#phase-") {
                assert!(matches!(phase, "1" | "2" | "3" | "4" | "5" | "6"));
            } else {
                let anchor = href.trim_start_matches('#');
                let priced = r
                    .estimate
                    .lines
                    .iter()
                    .any(|l| infra::diagram::cost_anchor(&ResourceKey::new(l.phase, l.resource.clone())) == anchor);
                assert!(priced, "{tier}: {anchor} has no cost line");
            }
        }
    }
}
