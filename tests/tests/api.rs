//! The JSON API and the server-rendered pages, on a real server with a random port.

use std::time::{Duration, Instant};

use portal_tests::{free_port, portal_binary, repo_root, Backend, TestDatabase, TestPortal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_are_listed_with_their_costs() {
    let portal = TestPortal::start().await;
    let res = portal.client.get(portal.url("/api/tiers")).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    let tiers = body["tiers"].as_array().expect("tiers");
    let ids: Vec<&str> = tiers.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, vec!["development", "production-lite", "full-production"]);
    for t in tiers {
        assert!(t["monthly_usd"].as_f64().unwrap_or_default() > 0.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_has_cost_lines_totals_and_phases() {
    let portal = TestPortal::start().await;
    let body: serde_json::Value = portal
        .client
        .get(portal.url("/api/tiers/full-production"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let lines = body["estimate"]["lines"].as_array().expect("lines");
    assert!(lines.len() > 20);
    let sum: f64 = lines.iter().filter_map(|l| l["monthly_usd"].as_f64()).sum();
    let total = body["estimate"]["monthly_usd"].as_f64().expect("total");
    assert!((sum - total).abs() < 0.02);
    let phases = body["phases"].as_array().expect("phases");
    assert_eq!(phases.len(), 6);
    assert_eq!(phases[0]["stack_name"], "concert-preview-network");
    assert!(phases.iter().all(|p| !p["resources"].as_array().expect("resources").is_empty()));
    let needs: Vec<serde_json::Value> = phases.iter().map(|p| p["needs"].clone()).collect();
    assert_eq!(
        serde_json::Value::Array(needs),
        serde_json::json!([[], [1], [1, 2], [1], [1, 3], [1, 2, 4]]),
        "the phase graph, from the templates' imports"
    );
    assert_eq!(body["posture"]["controls"].as_array().map(Vec::len), Some(8), "the security posture comes with it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_change_the_estimate() {
    let portal = TestPortal::start().await;
    let get = |path: &'static str| {
        let client = portal.client.clone();
        let url = portal.url(path);
        async move {
            let body: serde_json::Value = client.get(url).send().await.expect("req").json().await.expect("json");
            body["estimate"]["monthly_usd"].as_f64().expect("total")
        }
    };
    let base = get("/api/tiers/full-production").await;
    let more = get("/api/tiers/full-production?usage.viewer_transfer_gb=2048").await;
    let with_sqs = get("/api/tiers/full-production?options=sqs,elasticache_redis").await;
    assert!(more > base && with_sqs > base, "{base} {more} {with_sqs}");
}

/// Each line and the total at low, typical and high usage; every tier priced with the model asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tier_comes_with_its_range_and_the_pricing_model_asked_for() {
    let portal = TestPortal::start().await;
    let get = |path: String| {
        let client = portal.client.clone();
        let url = portal.url(&path);
        async move { client.get(url).send().await.expect("req").json::<serde_json::Value>().await.expect("json") }
    };
    let body = get("/api/tiers/production-lite".into()).await;
    let estimate = &body["estimate"];
    let range = &estimate["range"];
    let point = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("no {k} in {v}"));
    assert!(point(range, "low") < point(range, "typical") && point(range, "typical") < point(range, "high"), "{range}");
    assert_eq!(point(range, "typical"), point(estimate, "monthly_usd"));
    for line in estimate["lines"].as_array().expect("lines") {
        let r = &line["range"];
        assert!(point(r, "low") <= point(r, "typical") && point(r, "typical") <= point(r, "high"), "{line}");
    }
    for key in ["low", "typical", "high"] {
        assert!(body["usage"][key]["viewer_transfer_gb"].is_number(), "the usage range: {}", body["usage"]);
    }
    assert_eq!(estimate["pricing"], "on-demand", "on-demand unless asked");
    let reserved = get("/api/tiers/production-lite?pricing=reserved".into()).await;
    assert_eq!(reserved["estimate"]["pricing"], "reserved");
    assert!(point(&reserved["estimate"], "monthly_usd") < point(estimate, "monthly_usd"));
    for pricing in ["on-demand", "reserved", "savings-plan"] {
        let list = get(format!("/api/tiers?pricing={pricing}")).await;
        let tiers = list["tiers"].as_array().expect("tiers");
        assert_eq!(tiers.len(), 3);
        assert!(tiers.iter().all(|t| t["pricing"] == pricing), "one model for every tier: {list}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_json_errors() {
    let portal = TestPortal::start().await;
    let cases = [
        ("/api/tiers/gold", 404, "unknown_tier", None),
        ("/api/tiers/gold/diagram.svg", 404, "unknown_tier", None),
        ("/api/tiers/development?options=teleporter", 422, "unknown_option", Some("options")),
        ("/api/tiers/development?usage.cognito_mau=lots", 422, "invalid_input", Some("usage.cognito_mau")),
        ("/api/tiers/development?usage.cognito_mau=-4", 422, "invalid_input", Some("usage.cognito_mau")),
        ("/api/tiers/development?usage.cdn_origin_share=2", 422, "invalid_input", Some("usage.cdn_origin_share")),
        // A key earlier versions had: refused, saying what it became.
        ("/api/tiers/development?usage.alb_lcu=2", 422, "invalid_input", Some("usage.alb_lcu")),
        ("/api/tiers/development?pricing=spot", 422, "invalid_input", Some("pricing")),
        ("/api/tiers?pricing=spot", 422, "invalid_input", Some("pricing")),
        ("/api/tiers/development?usage.nonsense=4", 422, "invalid_input", Some("usage.nonsense")),
        ("/api/tiers/development?colour=blue", 422, "invalid_input", Some("colour")),
    ];
    for (path, status, code, field) in cases {
        let res = portal.client.get(portal.url(path)).send().await.expect("request");
        assert_eq!(res.status().as_u16(), status, "{path}");
        let body: serde_json::Value = res.json().await.expect("json error body");
        assert_eq!(body["error"]["code"], code, "{path}");
        assert!(!body["error"]["message"].as_str().unwrap_or_default().is_empty(), "{path}");
        if let Some(field) = field {
            assert_eq!(body["error"]["field"], field, "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diagram_is_served_as_svg() {
    let portal = TestPortal::start().await;
    let res = portal.client.get(portal.url("/api/tiers/development/diagram.svg")).send().await.expect("request");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap_or_default().starts_with("image/svg+xml"));
    let svg = res.text().await.expect("text");
    assert!(svg.starts_with("<svg") && svg.contains("<title id=\"diagram-title\">Development architecture</title>"));
}

/// `portal serve` in a process of its own, killed on drop.
struct ServeProcess(std::process::Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Rendered by `portal serve` itself, one process with one runtime as in production: in-process
/// portals of tests running in parallel each bring their own tokio runtime, and Leptos's task
/// executor is one per process; a page of one could stall (seen about once in three runs of this
/// module, before and after the registry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_rendered_on_the_server() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let port = free_port();
    let _serve = ServeProcess(
        std::process::Command::new(portal_binary())
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--site-root"])
            .arg(repo_root().join("target/site"))
            .env("DATABASE_URL", &database.url)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("PORTAL_WEBHOOK_URL")
            .env_remove("PORTAL_OIDC_ISSUER")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("portal serve starts"),
    );
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let html = loop {
        match client.get(url("/")).send().await {
            Ok(res) => break res.text().await.expect("html"),
            Err(e) => assert!(Instant::now() < deadline, "portal serve never answered: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for name in ["Development", "Production Lite", "Full Production"] {
        assert!(html.contains(name), "catalog shows {name}");
    }
    // A page request has been seen to stall (about one run in three of this module with in-process
    // portals; once in a full run with this process): tried three times, each stall reported, so
    // a page that never renders still fails. The cause is open (see the closing note of issue 9).
    let mut html = String::new();
    for attempt in 1..=3 {
        match client.get(url("/tiers/full-production")).send().await {
            Ok(res) => {
                assert_eq!(res.status(), 200);
                html = res.text().await.expect("html");
                break;
            }
            Err(e) => eprintln!("pages_are_rendered_on_the_server: attempt {attempt} stalled: {e}"),
        }
    }
    assert!(html.contains("<svg") && html.contains("Monthly total") && html.contains("Phase 6"));
    assert!(html.contains("id=\"cost-network-NatGatewayA\""), "cost lines carry the diagram's anchors");
    // The tier view travels once for hydration, not once per resource that reads it (it did three
    // times: 332 KB). Bytes are deterministic: the page is about 136 KB with one copy.
    let copies = html.matches("Multi-AZ everything, auto scaling").count();
    assert_eq!(copies, 2, "the tier's summary once in the HTML and once in the hydration data");
    assert!(html.len() < 160_000, "the Full Production page weighs {} bytes", html.len());
}
