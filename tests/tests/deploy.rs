//! The AWS identity the portal deploys as, through STS on moto's server. (Deployments
//! themselves are in `rollouts`.)

use portal_tests::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_the_portal_deploys_as_is_shown() {
    let moto = Moto::start();
    let portal =
        portal_tests::TestPortal::start_with(portal_tests::Backend::Sqlite, Some(moto.sdk_config().await)).await;
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
