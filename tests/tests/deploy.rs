//! Every tier's six templates deploy, in order, as stacks on moto's server,
//! later phases importing the exports of earlier ones, through the AWS SDK for Rust.

use infra::{Catalog, DeploymentSpec, EnvironmentName, Region, TierId};
use portal_tests::Moto;
use server::aws::CloudFormation;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tier_deploys_phase_by_phase() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cfn = CloudFormation::from_config(&config);
    let catalog = Catalog::embedded().expect("catalog");
    for tier in TierId::ALL {
        let environment = format!("it-{}", tier.as_str());
        let spec = DeploymentSpec {
            tier,
            environment: EnvironmentName::parse(&environment).expect("name"),
            region: Region::US_EAST_1,
            options: catalog.tier(tier).default_options.clone(),
            domain_name: None,
        };
        let phases = infra::render::render(&catalog, &spec).expect("renders");
        for phase in &phases {
            let outcome = cfn
                .deploy(phase, &format!("{environment}-{}-1", phase.phase.slug()))
                .await
                .unwrap_or_else(|e| panic!("{tier}: {} failed: {e}", phase.stack_name));
            assert_eq!(outcome.status, "CREATE_COMPLETE", "{tier}: {}", phase.stack_name);
            assert!(!outcome.outputs.is_empty(), "{tier}: {} publishes outputs", phase.stack_name);
        }
        // Deploying the same phase again is a no-op, not a failure.
        let again = cfn.deploy(&phases[0], &format!("{environment}-network-2")).await.expect("redeploy");
        assert!(again.unchanged, "{tier}: an unchanged stack is a success");
    }
    let stacks = cfn
        .client()
        .list_stacks()
        .send()
        .await
        .expect("list stacks");
    let complete = stacks
        .stack_summaries()
        .iter()
        .filter(|s| s.stack_status().map(|x| x.as_str()) == Some("CREATE_COMPLETE"))
        .count();
    assert_eq!(complete, 18, "six stacks for each of three tiers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_the_portal_deploys_as_is_shown() {
    let moto = Moto::start();
    let portal = portal_tests::TestPortal::start_with(portal_tests::Backend::Sqlite, Some(moto.sdk_config().await)).await;
    let roles = [server::people::Role::Viewer].into_iter().collect();
    let (_, token) = server::people::add_user(&portal.portal.db, "watcher", &roles, None, true).await.expect("user");
    let token = token.expect("token");
    let res = portal.client.get(portal.url("/api/identity")).bearer_auth(&token).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    // moto's default account; the ARN is the caller's, as STS reports it.
    assert_eq!(body["account"], "123456789012");
    assert!(body["arn"].as_str().unwrap_or_default().starts_with("arn:aws:"), "{body}");
    assert_eq!(body["region"], "us-east-1");
    let anonymous = portal.client.get(portal.url("/api/identity")).send().await.expect("request");
    assert_eq!(anonymous.status(), 401);
}
