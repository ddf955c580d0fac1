//! The estimate against a recomputation written out here from the price catalog: each tier's
//! typical total, the traffic each tier carries and the path it takes, ranges, commitments, and
//! the seed notes' figures. Prices come from the catalog (`p("id")`), never copied numbers, so a
//! price change moves both sides; what a test pins is the arithmetic and the routing.

mod common;

use infra::cost::UsdRange;
use infra::pricing::PriceCatalog;
use infra::{Catalog, DeploymentSpec, Estimate, PricingModel, TierId, Usage};

use common::catalog;

const H: f64 = 730.0;
/// Bytes in a GB, for the API replies' KB.
const KB_PER_GB: f64 = 1024.0 * 1024.0;

fn estimate(catalog: &Catalog, tier: TierId, usage: &Usage, model: PricingModel) -> Estimate {
    let spec = DeploymentSpec::preview(tier, catalog.tier(tier).default_options.clone());
    catalog.report(&spec, usage, true, model).expect("report").estimate
}

fn typical(catalog: &Catalog, tier: TierId) -> Estimate {
    estimate(catalog, tier, &catalog.default_usage, PricingModel::OnDemand)
}

fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A service's total in the estimate.
fn service(e: &Estimate, name: &str) -> f64 {
    e.services.iter().find(|s| s.service == name).map_or(0.0, |s| s.monthly_usd)
}

/// Checks every service against its recomputation, then the total against their sum. Lines are
/// rounded to the cent one by one, as a bill is: a service may differ by a cent per line.
fn check(tier: TierId, e: &Estimate, expected: &[(&str, f64)]) {
    let mut sum = 0.0;
    for (name, usd) in expected {
        let usd = cents(*usd);
        assert!(
            (service(e, name) - usd).abs() <= 0.02,
            "{tier} {name}: estimate {} vs recomputed {usd}",
            service(e, name)
        );
        sum += usd;
    }
    let listed: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    for s in &e.services {
        assert!(listed.contains(&s.service.as_str()) || s.monthly_usd == 0.0, "{tier}: {} not recomputed", s.service);
    }
    assert!((e.monthly_usd - sum).abs() <= 0.05, "{tier}: total {} vs recomputed {sum}", e.monthly_usd);
}

/// What is left of an always-free allowance shared by several quantities.
fn beyond_free(prices: &PriceCatalog, id: &str, quantity: f64) -> f64 {
    (quantity - prices.free_quantity(id)).max(0.0) * prices.usd(id)
}

/// API Gateway's replies, in GB.
fn api_reply_gb(u: &Usage) -> f64 {
    u.api_requests * u.api_reply_kb / KB_PER_GB
}

/// S3 for every tier: the same buckets; the log bucket keeps its logs for the tier's retention.
fn s3(p: &dyn Fn(&str) -> f64, u: &Usage, log_days: f64) -> f64 {
    let logs = u.access_logs_gb * (log_days / 30.0) * p("s3.standard.gb")
        // One delivery (PUT) per ~20 KB of logs.
        + u.access_logs_gb * 1e6 / 20.0 / 1000.0 * p("s3.put.1k");
    let stored = (u.s3_assets_gb + u.s3_uploads_gb + u.s3_backups_gb) * p("s3.standard.gb");
    let requests = u.s3_put_requests / 1000.0 * p("s3.put.1k") + u.s3_get_requests / 1000.0 * p("s3.get.1k");
    logs + stored + requests
}

#[test]
fn development_typical_total_is_recomputed_from_the_price_catalog() {
    let catalog = catalog();
    let (prices, u) = (&catalog.prices, &catalog.default_usage);
    let p = |id: &str| prices.usd(id);
    let e = typical(&catalog, TierId::Development);
    // No CloudFront: every viewer byte and request goes through the load balancer, and leaves the
    // region from it; with the servers' uploads and the API's replies, beyond the free 100 GB.
    let egress = u.viewer_transfer_gb + u.server_uploads_gb + api_reply_gb(u);
    let lcu = (u.viewer_transfer_gb / H).max(u.viewer_requests / (H * 3600.0) / 25.0);
    assert!((lcu - 1.40).abs() < 0.01, "1 TB through the load balancer is ~1.4 LCU, not 1: {lcu}");
    check(
        TierId::Development,
        &e,
        &[
            // One t3.micro with a 20 GB volume; 10% average CPU is its baseline: no credits.
            ("EC2", H * p("ec2.t3.micro") + 20.0 * p("ebs.gp3.gb")),
            ("RDS MySQL", H * p("rds.mysql.db.t3.micro") + 20.0 * p("rds.storage.gp3")),
            ("ALB", H * p("alb.hour") + lcu * H * p("alb.lcu-hour")),
            ("NAT Gateway", H * p("nat.hour") + (u.server_downloads_gb + u.server_uploads_gb) * p("nat.gb")),
            ("S3", s3(&p, u, 7.0)),
            // 10,000 users, 1M invocations of 200 ms at 256 MB: inside the always-free allowances.
            ("Cognito", beyond_free(prices, "cognito.mau.essentials", u.cognito_mau)),
            ("Lambda", 0.0),
            ("API Gateway", u.api_requests / 1e6 * p("apigw.rest.1m")),
            // Logs: two groups share the ingestion assumption, the API's access logs come on top;
            // 7 days kept, inside the free 5 GB of storage; three alarms, inside the free ten.
            (
                "CloudWatch",
                beyond_free(prices, "logs.ingest.gb", u.logs_ingested_gb + u.api_access_logs_gb)
                    + beyond_free(prices, "logs.storage.gb", (u.logs_ingested_gb + u.api_access_logs_gb) * 7.0 / 30.0),
            ),
            ("Secrets Manager", p("secrets.secret") + u.secrets_api_calls / 10_000.0 * p("secrets.api.10k")),
            (
                "Data Transfer",
                beyond_free(prices, "transfer.out.gb", egress)
                    // RDS puts the database in either of two zones, the servers run in one: half
                    // the queries cross, billed out of one zone and into the other.
                    + u.app_database_gb * 0.5 * 2.0 * p("transfer.inter-az.gb"),
            ),
            // The NAT's Elastic IP and the load balancer's two nodes.
            ("Public IPv4", 3.0 * H * p("ipv4.hour")),
        ],
    );
}

#[test]
fn production_lite_typical_total_is_recomputed_from_the_price_catalog() {
    let catalog = catalog();
    let (prices, u) = (&catalog.prices, &catalog.default_usage);
    let p = |id: &str| prices.usd(id);
    let e = typical(&catalog, TierId::ProductionLite);
    // CloudFront serves the viewers; the load balancer sees only its fetches (the origin share).
    let origin_gb = u.viewer_transfer_gb * u.cdn_origin_share;
    let lcu = (origin_gb / H).max(u.viewer_requests * u.cdn_origin_share / (H * 3600.0) / 25.0);
    let nat_gb = u.server_downloads_gb + u.server_uploads_gb;
    let logs_gb = u.rds_os_metrics_gb + u.logs_ingested_gb + u.api_access_logs_gb;
    check(
        TierId::ProductionLite,
        &e,
        &[
            ("EC2", 2.0 * H * p("ec2.t3.small") + 2.0 * 20.0 * p("ebs.gp3.gb")),
            ("RDS MySQL", H * p("rds.mysql.db.t4g.micro") + 20.0 * p("rds.storage.gp3")),
            ("ALB", H * p("alb.hour") + lcu * H * p("alb.lcu-hour")),
            ("NAT Gateway", H * p("nat.hour") + nat_gb * p("nat.gb")),
            ("S3", s3(&p, u, 30.0)),
            // 1 TB and 10M requests: inside CloudFront's always-free allowance.
            (
                "CloudFront",
                beyond_free(prices, "cloudfront.transfer.gb", u.viewer_transfer_gb)
                    + beyond_free(prices, "cloudfront.https.10k", u.viewer_requests / 10_000.0),
            ),
            ("Cognito", 0.0),
            ("Lambda", 0.0),
            ("API Gateway", u.api_requests / 1e6 * p("apigw.rest.1m")),
            // 30 days kept: storage is one month of what is ingested.
            (
                "CloudWatch",
                beyond_free(prices, "logs.ingest.gb", logs_gb) + beyond_free(prices, "logs.storage.gb", logs_gb),
            ),
            // The database's secret and the origin header's (read only when deploying).
            ("Secrets Manager", 2.0 * p("secrets.secret") + u.secrets_api_calls / 10_000.0 * p("secrets.api.10k")),
            (
                "Data Transfer",
                // Only non-CDN egress leaves the region otherwise: inside the free 100 GB.
                beyond_free(prices, "transfer.out.gb", u.server_uploads_gb + api_reply_gb(u))
                    // Zone B's servers reach the internet through zone A's one NAT gateway…
                    + nat_gb * 0.5 * 2.0 * p("transfer.inter-az.gb")
                    // …and half the queries cross to the database's zone.
                    + u.app_database_gb * 0.5 * 2.0 * p("transfer.inter-az.gb"),
            ),
            ("Public IPv4", 3.0 * H * p("ipv4.hour")),
        ],
    );
}

#[test]
fn full_production_typical_total_is_recomputed_from_the_price_catalog() {
    let catalog = catalog();
    let (prices, u) = (&catalog.prices, &catalog.default_usage);
    let p = |id: &str| prices.usd(id);
    let e = typical(&catalog, TierId::FullProduction);
    let origin_gb = u.viewer_transfer_gb * u.cdn_origin_share;
    let lcu = (origin_gb / H).max(u.viewer_requests * u.cdn_origin_share / (H * 3600.0) / 25.0);
    // Enhanced monitoring on the primary and the replica, kept 30 days; the other logs 90 days.
    let ingested = 2.0 * u.rds_os_metrics_gb + u.logs_ingested_gb + u.api_access_logs_gb;
    let stored = 2.0 * u.rds_os_metrics_gb + (u.logs_ingested_gb + u.api_access_logs_gb) * 3.0;
    check(
        TierId::FullProduction,
        &e,
        &[
            ("EC2", 2.0 * H * p("ec2.t3.small") + 2.0 * 20.0 * p("ebs.gp3.gb")),
            (
                "RDS MySQL",
                H * p("rds.mysql.db.t3.micro.multi-az")
                    + 20.0 * p("rds.storage.gp3.multi-az")
                    + H * p("rds.mysql.db.t3.micro")
                    + 20.0 * p("rds.storage.gp3"),
            ),
            ("ALB", H * p("alb.hour") + lcu * H * p("alb.lcu-hour")),
            ("NAT Gateway", 2.0 * H * p("nat.hour") + (u.server_downloads_gb + u.server_uploads_gb) * p("nat.gb")),
            ("S3", s3(&p, u, 90.0)),
            ("CloudFront", 0.0),
            ("Cognito", 0.0),
            ("Lambda", 0.0),
            ("API Gateway", u.api_requests / 1e6 * p("apigw.rest.1m")),
            (
                "CloudWatch",
                // Detailed monitoring: 7 metrics per instance, beyond the free 10.
                beyond_free(prices, "cloudwatch.metric", 2.0 * 7.0)
                    + beyond_free(prices, "logs.ingest.gb", ingested)
                    + beyond_free(prices, "logs.storage.gb", stored),
            ),
            ("Secrets Manager", 2.0 * p("secrets.secret") + u.secrets_api_calls / 10_000.0 * p("secrets.api.10k")),
            (
                "Data Transfer",
                // A NAT gateway per zone: nothing crosses on the way out.
                beyond_free(prices, "transfer.out.gb", u.server_uploads_gb + api_reply_gb(u))
                    + u.app_database_gb * 0.5 * 2.0 * p("transfer.inter-az.gb"),
            ),
            ("Public IPv4", 4.0 * H * p("ipv4.hour")),
        ],
    );
}

/// Every byte viewers download is billed once: on CloudFront's line where the tier has
/// CloudFront (its fetches from the origins are free), else as data transfer out from the load
/// balancer; other egress is named for what it is.
#[test]
fn every_tier_carries_the_same_demand_and_counts_each_byte_once() {
    let catalog = catalog();
    let u = &catalog.default_usage;
    for tier in TierId::ALL {
        let e = typical(&catalog, tier);
        let quantity = |price: &str, resource: &str| -> f64 {
            e.lines.iter().filter(|l| l.price_id == price && l.resource == resource).map(|l| l.quantity).sum()
        };
        let cdn = quantity("cloudfront.transfer.gb", "Distribution");
        let from_lb = quantity("transfer.out.gb", "LoadBalancer");
        assert_eq!(cdn + from_lb, u.viewer_transfer_gb, "{tier}: viewer bytes billed once");
        assert!(cdn == 0.0 || from_lb == 0.0, "{tier}: never on both paths");
        let egress: f64 = e.lines.iter().filter(|l| l.price_id == "transfer.out.gb").map(|l| l.quantity).sum();
        let expected = from_lb + u.server_uploads_gb + api_reply_gb(u);
        assert!((egress - expected).abs() < 1e-9, "{tier}: egress {egress} vs {expected}");
        for l in e.lines.iter().filter(|l| l.price_id == "transfer.out.gb" && l.resource != "LoadBalancer") {
            assert!(l.description.contains("non-CDN egress"), "{tier}: {}", l.description);
        }
        if cdn > 0.0 {
            let fetched = quantity("cloudfront.origin-fetch.gb", "Distribution");
            assert_eq!(fetched, u.viewer_transfer_gb * u.cdn_origin_share);
            assert!(e.lines.iter().any(|l| l.price_id == "cloudfront.origin-fetch.gb" && l.monthly_usd == 0.0));
        }
    }
    let dev = typical(&catalog, TierId::Development);
    let transfer = dev.lines.iter().find(|l| l.resource == "LoadBalancer" && l.price_id == "transfer.out.gb");
    assert!(
        transfer.is_some_and(|l| l.monthly_usd > 80.0),
        "Development's 1 TB leaves through its load balancer: {transfer:?}"
    );
    // At equal demand, CloudFront's free terabyte makes Production Lite cheaper than
    // Development; with no viewer traffic the tiers cost in the order of what they include.
    let lite = typical(&catalog, TierId::ProductionLite);
    assert!(lite.monthly_usd < dev.monthly_usd, "{} < {}", lite.monthly_usd, dev.monthly_usd);
    let mut quiet = u.clone();
    quiet.set("viewer_transfer_gb", 0.0).expect("valid");
    quiet.set("viewer_requests", 0.0).expect("valid");
    let monthly = |t| estimate(&catalog, t, &quiet, PricingModel::OnDemand).monthly_usd;
    let (d, l, f) = (monthly(TierId::Development), monthly(TierId::ProductionLite), monthly(TierId::FullProduction));
    assert!(d < l && l < f, "{d} < {l} < {f}");
}

#[test]
fn the_development_tier_states_its_figures() {
    let catalog = catalog();
    let dev = typical(&catalog, TierId::Development);
    let text: String =
        catalog.tier(TierId::Development).decisions.iter().map(|d| format!("{} {} ", d.choice, d.reason)).collect();
    let fixed = format!("About ${:.0} a month before traffic", dev.fixed_monthly_usd);
    assert!(text.contains(&fixed), "{fixed}");
    let transfer =
        dev.lines.iter().find(|l| l.resource == "LoadBalancer" && l.price_id == "transfer.out.gb").expect("line");
    assert!(text.contains(&format!("about ${:.0} for the seed's 1 TB", transfer.monthly_usd)), "{transfer:?}");
}

#[test]
fn cross_zone_traffic_follows_where_things_run() {
    let catalog = catalog();
    let (prices, u) = (&catalog.prices, &catalog.default_usage);
    let crossing = |tier, resource: &str| -> f64 {
        typical(&catalog, tier)
            .lines
            .iter()
            .filter(|l| l.price_id == "transfer.inter-az.gb" && l.resource == resource)
            .map(|l| l.monthly_usd)
            .sum()
    };
    // Lite: one NAT gateway for two zones; Full: one per zone; Development: one zone.
    let nat = (u.server_downloads_gb + u.server_uploads_gb) * 0.5 * 2.0 * prices.usd("transfer.inter-az.gb");
    assert_eq!(crossing(TierId::ProductionLite, "NatGatewayA"), cents(nat));
    assert_eq!(crossing(TierId::FullProduction, "NatGatewayA") + crossing(TierId::FullProduction, "NatGatewayB"), 0.0);
    assert_eq!(crossing(TierId::Development, "NatGatewayA"), 0.0);
    // The database: in either zone of its subnet group; half the queries cross on every tier.
    let db = u.app_database_gb * 0.5 * 2.0 * prices.usd("transfer.inter-az.gb");
    for tier in TierId::ALL {
        assert_eq!(crossing(tier, "Database"), cents(db), "{tier}");
        assert_eq!(crossing(tier, "ReadReplica"), 0.0, "{tier}: replication within the region is free");
    }
}

#[test]
fn ranges_bound_the_typical_figure_and_fixed_lines_do_not_move() {
    let catalog = catalog();
    for tier in TierId::ALL {
        let e = typical(&catalog, tier);
        let total = e.range.expect("a range");
        assert!(total.low < total.typical && total.typical < total.high, "{tier}: {total:?}");
        assert_eq!(total.typical, e.monthly_usd);
        let (mut low, mut high) = (0.0, 0.0);
        for l in &e.lines {
            let r = l.range.expect("every line has a range");
            assert!(r.low <= r.typical && r.typical <= r.high, "{tier} {}: {r:?}", l.resource);
            assert_eq!(r.typical, l.monthly_usd);
            if l.is_fixed() {
                assert_eq!(r, UsdRange::exact(l.monthly_usd), "{tier} {} {} is fixed", l.resource, l.price_id);
            }
            low += r.low;
            high += r.high;
        }
        assert!((total.low - low).abs() < 0.011 && (total.high - high).abs() < 0.011, "{tier}: sums of the lines");
        let usage_driven: f64 = e.lines.iter().filter(|l| !l.is_fixed()).map(|l| l.monthly_usd).sum();
        assert!((e.fixed_monthly_usd + usage_driven - e.monthly_usd).abs() < 0.011, "{tier}: fixed + usage = total");
    }
}

/// The risks the typical figure leaves out, as the high end of their ranges.
#[test]
fn risks_show_as_ranges() {
    let catalog = catalog();
    let (prices, range) = (&catalog.prices, &catalog.usage_range);
    let full = typical(&catalog, TierId::FullProduction);
    let line = |price: &str| full.lines.iter().find(|l| l.price_id == price).expect(price).clone();
    // t3 CPU credits: the 60% scaling target held all month, above t3.small's 20% baseline.
    let credits = line("ec2.cpu-credit.vcpu-hour").range.expect("range");
    let small = prices.burstable("t3.small").expect("t3.small is burstable");
    let per_instance = (range.high.cpu_average_percent - small.baseline_percent) / 100.0
        * small.vcpus
        * H
        * prices.usd("ec2.cpu-credit.vcpu-hour");
    assert!((per_instance - 29.20).abs() < 0.005, "~$29 per t3.small-month: {per_instance}");
    assert_eq!((credits.typical, credits.high), (0.0, cents(2.0 * per_instance)));
    // Cognito Essentials beyond the free 10,000 users.
    let cognito = line("cognito.mau.essentials").range.expect("range");
    let beyond = (range.high.cognito_mau - prices.free_quantity("cognito.mau.essentials"))
        * prices.usd("cognito.mau.essentials");
    assert_eq!((cognito.typical, cognito.high), (0.0, cents(beyond)));
    // The final snapshot: billed after teardown, not in the monthly total.
    let snapshot = 20.0 * prices.usd("rds.snapshot.gb");
    assert!((snapshot - 1.90).abs() < 0.005);
    assert_eq!(full.after_teardown.len(), 1, "the primary's snapshot (a replica has none)");
    assert_eq!(full.after_teardown_monthly_usd(), cents(snapshot));
    assert!(full.lines.iter().all(|l| l.price_id != "rds.snapshot.gb"));
}

#[test]
fn a_requests_usage_moves_its_range_with_it() {
    let catalog = catalog();
    let mut usage = catalog.default_usage.clone();
    usage.set("viewer_transfer_gb", 2048.0).expect("valid");
    usage.set("cpu_average_percent", 30.0).expect("valid");
    let range = catalog.usage_range.around(&usage);
    let d = &catalog.usage_range;
    assert_eq!(range.typical, usage);
    assert_eq!(range.low.viewer_transfer_gb, 2048.0 * d.low.viewer_transfer_gb / d.typical.viewer_transfer_gb);
    assert_eq!(range.high.viewer_transfer_gb, 2048.0 * d.high.viewer_transfer_gb / d.typical.viewer_transfer_gb);
    // A percentage never goes past 100.
    assert_eq!(range.high.cpu_average_percent, 100.0);
    assert_eq!(catalog.usage_range.around(&catalog.default_usage), catalog.usage_range);
}

#[test]
fn commitments_cover_what_they_cover_and_bill_the_whole_term() {
    let catalog = catalog();
    let prices = &catalog.prices;
    for tier in TierId::ALL {
        let e = typical(&catalog, tier);
        for model in [PricingModel::Reserved, PricingModel::SavingsPlan] {
            let c = e.commitment(model).expect("both commitments are priced");
            assert_eq!(c.term_months, 12);
            assert_eq!(c.committed_total_usd, cents(c.committed_monthly_usd * 12.0), "{tier} {model}");
            assert_eq!(c.saving_monthly_usd, cents(e.on_demand_monthly_usd - c.monthly_usd));
            assert!(c.saving_monthly_usd > 0.0, "{tier} {model}");
            assert_eq!(c.monthly_usd, estimate(&catalog, tier, &catalog.default_usage, model).monthly_usd);
        }
        // A Compute Savings Plan does not cover RDS; reserved instances do.
        for l in e.lines.iter().filter(|l| l.price_id.starts_with("rds.mysql.")) {
            assert_eq!(l.savings_plan_monthly_usd, Some(l.on_demand_monthly_usd), "{tier} {}", l.resource);
            assert!(l.reserved_monthly_usd < l.on_demand_monthly_usd);
        }
        // The instances' commitment, recomputed: reserved EC2 + RDS hours.
        let reserved: f64 = e
            .lines
            .iter()
            .filter_map(|l| Some(cents(l.quantity * prices.prices.get(&l.price_id)?.reserved_usd?)))
            .sum();
        let c = e.commitment(PricingModel::Reserved).expect("reserved");
        assert!(
            (c.committed_monthly_usd - reserved).abs() < 0.011,
            "{tier}: {} vs {reserved}",
            c.committed_monthly_usd
        );
    }
}

#[test]
fn seed_notes_state_figures_derived_from_the_catalog() {
    let catalog = catalog();
    let prices = &catalog.prices;
    let p = |id: &str| prices.usd(id);
    let note = |service: &str| -> String {
        prices.seed.iter().find(|s| s.service == service).map(|s| s.note.clone()).unwrap_or_default()
    };
    let usd = |v: f64| format!("${v:.2}");
    // CloudFront without its free tier: 1 TB of transfer plus 10M requests.
    let transfer = 1024.0 * p("cloudfront.transfer.gb");
    let requests = 10e6 / 10_000.0 * p("cloudfront.https.10k");
    let cloudfront = note("CloudFront");
    for figure in [usd(transfer + requests), usd(transfer), usd(requests)] {
        assert!(cloudfront.contains(&figure), "CloudFront note lacks {figure}: {cloudfront}");
    }
    assert_eq!(usd(transfer + requests), "$97.04");
    // RDS: the read replica is our choice, priced from the catalog.
    let replica = H * p("rds.mysql.db.t3.micro") + 20.0 * p("rds.storage.gp3");
    let rds = note("RDS MySQL");
    assert!(rds.contains(&usd(replica)) && rds.contains("design choice") && rds.contains("has none"), "{rds}");
    assert!(rds.contains(&usd(20.0 * p("rds.snapshot.gb"))), "{rds}");
    // Cognito: 10,000 users were free before November 2024 too; $27.50 matches no price.
    let cognito = note("Cognito");
    assert!(cognito.contains("before November 2024") && cognito.contains("matches no Cognito price"), "{cognito}");
    assert!(!cognito.contains("predates"), "the old note blamed the price change: {cognito}");
    for tier in ["lite", "essentials"] {
        assert_eq!(prices.free_quantity(&format!("cognito.mau.{tier}")), 10_000.0);
    }
    // Data transfer: the seed's $20 beyond the free 100 GB at $0.09/GB.
    let gb = 20.0 / p("transfer.out.gb") + prices.free_quantity("transfer.out.gb");
    let transfer_note = note("Data Transfer");
    assert!(transfer_note.contains(&format!("about {gb:.0} GB")), "{gb}: {transfer_note}");
    assert!(transfer_note.contains("non-CDN egress"));
    // NAT: the data processed the seed leaves out, +8%.
    let nat = (catalog.default_usage.server_downloads_gb + catalog.default_usage.server_uploads_gb) * p("nat.gb");
    assert!(note("NAT Gateway").contains(&usd(nat)), "{}", note("NAT Gateway"));
    // EC2: the CPU credit risk per instance.
    assert!(note("EC2").contains("$29.20 per instance"));
}

#[test]
fn a_seed_line_off_by_more_than_five_percent_or_two_dollars_has_a_note() {
    let catalog = catalog();
    let full = typical(&catalog, TierId::FullProduction);
    let mut noted = Vec::new();
    for s in full.services.iter().filter(|s| s.seed_usd.is_some()) {
        let seed = s.seed_usd.unwrap_or_default();
        let gap = (s.monthly_usd - seed).abs();
        let off = gap / seed > 0.05 || gap > 2.0;
        assert_eq!(s.note.is_some(), off, "{}: {} vs seed {seed}", s.service, s.monthly_usd);
        if off {
            noted.push(s.service.as_str());
        }
    }
    // The NAT line is +8% (data processed), the one a 10% threshold hid.
    assert!(noted.contains(&"NAT Gateway"), "{noted:?}");
}
