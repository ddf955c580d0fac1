//! What operators and load balancers ask of a running portal: `/healthz` (the process answers) and
//! `/readyz` (its database answers and has every migration this build knows; 503 with the reason
//! otherwise). Graceful stops are in `processes.rs` (they need real processes and signals).

use portal_tests::{backends, Backend, TestPortal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_say_whether_to_send_traffic() {
    for backend in backends() {
        let portal = TestPortal::start_on(backend).await;
        let (status, body) = portal.call("GET", "/healthz", None, None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ok")), "{backend:?}");
        let (status, body) = portal.call("GET", "/readyz", None, None).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ready")), "{backend:?}: {body}");

        // A database missing a migration this build knows (an upgrade not finished, a restore from
        // before it): not ready, naming the migration.
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 13")
            .execute(&portal.portal.db.pool)
            .await
            .expect("forget one migration");
        let (status, body) = portal.call("GET", "/readyz", None, None).await;
        assert_eq!(status, 503, "{backend:?}: {body}");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("migrations not applied: 13 (domains)"), "{backend:?}: {reason}");
        assert_eq!(portal.call("GET", "/healthz", None, None).await.0, 200, "the process itself is fine");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_gone_makes_the_portal_not_ready_without_saying_where_it_was() {
    if !backends().contains(&Backend::Postgres) {
        return; // backends() has said why (and fails under CI instead)
    }
    let portal = TestPortal::start_on(Backend::Postgres).await;
    assert_eq!(portal.call("GET", "/readyz", None, None).await.0, 200);
    let name = portal.database.url.rsplit('/').next().expect("database name").to_owned();
    server::db::admin_execute(&portal_tests::postgres_admin_url(), &format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop the database under the portal");
    let (status, body) = portal.call("GET", "/readyz", None, None).await;
    assert_eq!(status, 503, "{body}");
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("database: "), "{reason}");
    assert!(!reason.contains(&name) && !reason.contains("127.0.0.1"), "no names or hosts: {reason}");
    assert_eq!(portal.call("GET", "/healthz", None, None).await.0, 200);
}

/// The value of the sample `name{labels…}` (labels in any order; others allowed), summed over
/// the lines that match.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || (labels.is_empty() && l.starts_with(&format!("{name} "))))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_requests_and_rollouts_behind_their_token() {
    let moto = portal_tests::Moto::start();
    let token = "metrics-token-0123456789";
    let portal = TestPortal::start_configured(Backend::Sqlite, Some(moto.sdk_config().await), |_, settings| {
        settings.metrics_token = Some(token.to_owned());
    })
    .await;
    let people = crate::rollouts::people(&portal).await;
    portal.start_engine();

    let scrape = async |bearer: Option<&str>| {
        let mut request = portal.client.get(portal.url("/metrics"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.expect("metrics answer");
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    };
    assert_eq!(scrape(None).await.0, 401, "no token, no metrics");
    assert_eq!(scrape(Some("metrics-token-0123456780")).await.0, 401, "a wrong token neither");
    let (status, before) = scrape(Some(token)).await;
    assert_eq!(status, 200);
    let succeeded = [("kind", "deploy"), ("status", "succeeded")];
    let rollouts_before = sample(&before, "portal_rollouts_finished_total", &succeeded).unwrap_or(0.0);
    let phases_before = sample(&before, "portal_phases_finished_total", &[("status", "done")]).unwrap_or(0.0);

    assert_eq!(portal.call("GET", "/api/tiers/development", None, None).await.0, 200);
    let id = crate::rollouts::approved_rollout(&portal, &people, "metered", "development").await;
    assert_eq!(crate::rollouts::wait_until_ended(&portal, &people, id).await["status"], "succeeded");

    let (_, after) = scrape(Some(token)).await;
    let tier_route = [("method", "GET"), ("route", "/api/tiers/{id}"), ("status", "200")];
    assert!(sample(&after, "portal_http_requests_total", &tier_route).unwrap_or(0.0) >= 1.0, "{after}");
    assert!(
        sample(&after, "portal_http_request_duration_seconds_count", &[("route", "/api/tiers/{id}")]).unwrap_or(0.0)
            >= 1.0,
        "request durations are a histogram"
    );
    // Other tests in this process run rollouts too: at least this one moved the counters.
    let rollouts_after = sample(&after, "portal_rollouts_finished_total", &succeeded).unwrap_or(0.0);
    assert!(rollouts_after >= rollouts_before + 1.0, "{rollouts_before} -> {rollouts_after}");
    let phases_after = sample(&after, "portal_phases_finished_total", &[("status", "done")]).unwrap_or(0.0);
    assert!(phases_after >= phases_before + 6.0, "{phases_before} -> {phases_after}");
    assert!(sample(&after, "portal_rollout_duration_seconds_bucket", &[("kind", "deploy"), ("le", "+Inf")]).is_some());
    assert!(sample(&after, "portal_rollout_claims_total", &[("resumed", "false")]).unwrap_or(0.0) >= 1.0);
    for name in [
        "portal_db_pool_connections",
        "portal_live_streams",
        "portal_live_readers",
        "portal_webhook_deliveries",
        "portal_rollouts_running",
    ] {
        assert!(after.contains(name), "{name} in {after}");
    }
    assert!(!after.contains("/api/rollouts/1\""), "routes are patterns, never raw paths");
}
