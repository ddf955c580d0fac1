//! What a sleep schedule saves, stated from the price catalog: the lines that stop (the auto
//! scaling group's instances and volumes, the database's instance hours where RDS lets it stop)
//! priced for the hours asleep; everything else keeps billing and is listed with its cost.

mod common;

use common::catalog;
use infra::cost::sleep::database_can_stop;
use infra::{DeploymentSpec, TierId};

fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn price(id: &str) -> f64 {
    catalog().prices.prices.get(id).map(|p| p.usd).unwrap_or_else(|| panic!("price {id}"))
}

fn spec(tier: TierId) -> DeploymentSpec {
    let catalog = catalog();
    DeploymentSpec::preview(tier, catalog.tier(tier).default_options.clone())
}

#[test]
fn development_asleep_outside_office_hours_saves_its_instance_volume_and_database_hours() {
    let catalog = catalog();
    let share = 55.0 / 168.0; // 08:00-19:00 on five days
    let sleep =
        catalog.sleep_estimate(&spec(TierId::Development), &catalog.default_usage, true, share).expect("estimate");
    let hours = catalog.prices.hours_per_month;
    // Development: one t3.micro with a 20 GB gp3 volume, a single-AZ db.t3.micro with no replica.
    let lines = [hours * price("ec2.t3.micro"), 20.0 * price("ebs.gp3.gb"), hours * price("rds.mysql.db.t3.micro")];
    let expected: f64 = lines.iter().map(|l| cents((1.0 - share) * cents(*l))).sum();
    assert!((sleep.saving_usd - cents(expected)).abs() < 0.005, "{} against {expected}", sleep.saving_usd);
    assert!(sleep.database_stops);
    let mut stopping: Vec<&str> = sleep.stopping.iter().map(|l| l.resource.as_str()).collect();
    stopping.sort_unstable();
    assert_eq!(stopping, ["AutoScalingGroup", "AutoScalingGroup", "Database"], "{:?}", sleep.stopping);
    assert!((sleep.monthly_usd - cents(sleep.awake_monthly_usd - sleep.saving_usd)).abs() < 0.005);
    let running: Vec<&str> = sleep.running.iter().map(|l| l.resource.as_str()).collect();
    for always in ["NatGatewayA", "LoadBalancer", "Database"] {
        assert!(running.contains(&always), "{always} keeps billing (the database its storage): {running:?}");
    }
    assert!(sleep.running.iter().all(|l| l.saving_usd == 0.0 && l.awake_usd > 0.0));
}

#[test]
fn a_database_with_a_read_replica_keeps_running_and_only_the_instances_stop() {
    let catalog = catalog();
    let full = spec(TierId::FullProduction);
    assert!(
        !database_can_stop(&catalog.evaluate(&full).expect("evaluates")),
        "RDS does not stop a primary with a replica"
    );
    assert!(database_can_stop(&catalog.evaluate(&spec(TierId::ProductionLite)).expect("evaluates")));
    let share = 0.5;
    let sleep = catalog.sleep_estimate(&full, &catalog.default_usage, true, share).expect("estimate");
    assert!(!sleep.database_stops);
    assert!(sleep.stopping.iter().all(|l| l.resource == "AutoScalingGroup"), "{:?}", sleep.stopping);
    // Two t3.small instances the whole month, half of it asleep.
    let instances = sleep.stopping.iter().find(|l| l.description.contains("t3.small")).expect("instance line");
    let hours = catalog.prices.hours_per_month;
    assert!(
        (instances.saving_usd - cents(0.5 * cents(2.0 * hours * price("ec2.t3.small")))).abs() < 0.005,
        "{instances:?}"
    );
    assert!(sleep.running.iter().any(|l| l.resource == "Database"), "the database keeps running");
    // A schedule saves on-demand hours: the reserved pricing of Production Lite saves nothing more.
    let lite =
        catalog.sleep_estimate(&spec(TierId::ProductionLite), &catalog.default_usage, true, share).expect("estimate");
    assert!(lite.saving_usd > 0.0 && (lite.awake_monthly_usd - lite.monthly_usd - lite.saving_usd).abs() < 0.005);
}

#[test]
fn a_bill_of_a_sleeping_environment_is_compared_with_the_estimate_less_what_stops() {
    use infra::cost::sleep::with_schedule;
    use infra::PricingModel;
    let catalog = catalog();
    let development = spec(TierId::Development);
    let share = 55.0 / 168.0;
    let estimate =
        catalog.report(&development, &catalog.default_usage, true, PricingModel::OnDemand).expect("report").estimate;
    let sleep = catalog.sleep_estimate(&development, &catalog.default_usage, true, share).expect("estimate");
    let scheduled = with_schedule(&estimate, &sleep);
    let hours = catalog.prices.hours_per_month;
    // What stops: EC2's instance hours and volume, RDS's instance hours, each for the hours asleep.
    let ec2_saving = cents((1.0 - share) * cents(hours * price("ec2.t3.micro")))
        + cents((1.0 - share) * cents(20.0 * price("ebs.gp3.gb")));
    let rds_saving = cents((1.0 - share) * cents(hours * price("rds.mysql.db.t3.micro")));
    for (before, after) in estimate.services.iter().zip(&scheduled.services) {
        let expected = match before.service.as_str() {
            "EC2" => ec2_saving,
            "RDS MySQL" => rds_saving,
            _ => 0.0,
        };
        let (b, a) = (before.range.expect("range"), after.range.expect("range"));
        for (x, y) in [(b.low, a.low), (b.typical, a.typical), (b.high, a.high)] {
            assert!((x - y - expected).abs() < 0.015, "{}: {x} → {y}, expected {expected} less", before.service);
        }
        assert!((before.monthly_usd - after.monthly_usd - expected).abs() < 0.015, "{}", before.service);
    }
    assert!(ec2_saving > 0.0 && rds_saving > 0.0);
    assert!((estimate.monthly_usd - scheduled.monthly_usd - sleep.saving_usd).abs() < 0.005);
    let (r, s) = (estimate.range_or_exact(), scheduled.range_or_exact());
    assert!((r.high - s.high - sleep.saving_usd).abs() < 0.005);
}
