//! The phase graph, from the templates' exports and imports.

mod common;

use std::collections::BTreeSet;

use infra::{DeploymentSpec, OptionSet, Phase, PhaseGraph, ServiceOption, TierId};

use common::{catalog, evaluate};
use Phase::*;

fn set(phases: &[Phase]) -> BTreeSet<Phase> {
    phases.iter().copied().collect()
}

#[test]
fn each_phase_needs_exactly_the_phases_it_imports_from() {
    let catalog = catalog();
    for tier in TierId::ALL {
        let graph = PhaseGraph::of(&evaluate(&catalog, tier));
        assert_eq!(graph.needs(Network), set(&[]), "{tier}");
        assert_eq!(graph.needs(Data), set(&[Network]), "{tier}: subnets and the database's group");
        assert_eq!(graph.needs(Compute), set(&[Network, Data]), "{tier}: the database's address and secret");
        assert_eq!(graph.needs(Auth), set(&[Network]), "{tier}: the uploads bucket");
        // The load balancer's name; with CloudFront also the assets and log buckets.
        let cdn = if tier == TierId::Development { set(&[Compute]) } else { set(&[Network, Compute]) };
        assert_eq!(graph.needs(Cdn), cdn, "{tier}");
        assert_eq!(graph.needs(Serverless), set(&[Network, Data, Auth]), "{tier}: not compute");
        assert_eq!(graph.waves(), vec![vec![Network], vec![Data, Auth], vec![Compute, Serverless], vec![Cdn]]);
        assert_eq!(graph.critical_path(), vec![Network, Data, Compute, Cdn], "{tier}");
        assert_eq!(graph.dependents(Auth), set(&[Serverless]), "a failed auth phase stops only serverless");
        assert_eq!(graph.dependents(Data), set(&[Compute, Cdn, Serverless]));
    }
}

#[test]
fn the_graph_follows_what_is_imported_not_what_is_written() {
    // A condition that drops an import drops the edge: without Route 53 no phase imports the
    // hosted zone; with it, compute (the certificate) and cdn do, both from network.
    let catalog = catalog();
    let with_zone = DeploymentSpec {
        domain_name: Some(infra::DomainName::parse("concerts.example.com").expect("domain")),
        ..DeploymentSpec::preview(TierId::ProductionLite, [ServiceOption::Route53].into_iter().collect::<OptionSet>())
    };
    let ev = catalog.evaluate(&with_zone).expect("evaluates");
    let compute = ev.phases.iter().find(|p| p.phase == Compute).expect("compute");
    assert!(compute.imports.iter().any(|i| i.ends_with("-HostedZoneId")), "{:?}", compute.imports);
    let plain = evaluate(&catalog, TierId::ProductionLite);
    let compute = plain.phases.iter().find(|p| p.phase == Compute).expect("compute");
    assert!(!compute.imports.iter().any(|i| i.ends_with("-HostedZoneId")), "{:?}", compute.imports);
}

#[test]
fn teardown_goes_backwards_through_the_graph() {
    let graph = PhaseGraph::of(&evaluate(&catalog(), TierId::FullProduction));
    let mut deleted = BTreeSet::new();
    let mut order = Vec::new();
    loop {
        let wave = graph.ready_to_delete(&deleted);
        if wave.is_empty() {
            break;
        }
        deleted.extend(wave.iter().copied());
        order.push(wave);
    }
    assert_eq!(order, vec![vec![Cdn, Serverless], vec![Compute, Auth], vec![Data], vec![Network]]);
}
