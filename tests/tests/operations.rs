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
