//! The portal's metrics, in Prometheus's text format at `/metrics`, through the `metrics` crates.
//! One recorder per process (installed on first use; the portals of one test process share it).
//! Labels are bounded: a route is its pattern (`/api/rollouts/{id}`), never the raw path.
//!
//! - `portal_http_requests_total{method,route,status}`, `portal_http_request_duration_seconds`
//! - `portal_rollouts_finished_total{kind,status}`, `portal_rollout_duration_seconds{kind,status}`
//! - `portal_phases_finished_total{status}`, `portal_phase_duration_seconds{status}`
//! - `portal_rollout_claims_total{resumed}` (a resumed claim took over another process's work),
//!   `portal_leases_handed_back_total`, `portal_rollouts_running` (this process)
//! - read at each scrape: `portal_webhook_deliveries{status}`, `portal_live_streams`,
//!   `portal_live_readers` (rollouts read for live streams, one reader each),
//!   `portal_db_pool_connections{state}`

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const HTTP_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const ROLLOUT_BUCKETS: &[f64] = &[1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 10800.0];

/// The process's recorder, installed on first call; `None` if another recorder was installed first.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("http_request_duration_seconds".into()), HTTP_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("rollout_duration_seconds".into()), ROLLOUT_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("phase_duration_seconds".into()), ROLLOUT_BUCKETS)
                })
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// One HTTP request answered (the web layer's middleware calls this).
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!("portal_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("portal_http_request_duration_seconds", "method" => method, "route" => route).record(seconds);
}

pub fn rollout_finished(kind: &str, status: &str, seconds: f64) {
    let labels = [("kind", kind.to_owned()), ("status", status.to_owned())];
    metrics::counter!("portal_rollouts_finished_total", &labels).increment(1);
    metrics::histogram!("portal_rollout_duration_seconds", &labels).record(seconds);
}

pub fn phase_finished(status: &str, seconds: f64) {
    metrics::counter!("portal_phases_finished_total", "status" => status.to_owned()).increment(1);
    metrics::histogram!("portal_phase_duration_seconds", "status" => status.to_owned()).record(seconds);
}

pub fn rollout_claimed(resumed: bool) {
    metrics::counter!("portal_rollout_claims_total", "resumed" => resumed.to_string()).increment(1);
}

pub fn rollouts_running(running_here: usize) {
    metrics::gauge!("portal_rollouts_running").set(running_here as f64);
}

pub fn leases_handed_back(count: usize) {
    metrics::counter!("portal_leases_handed_back_total").increment(count as u64);
}

/// What is read at scrape time rather than counted as it happens.
pub struct Snapshot {
    pub webhook_pending: i64,
    pub webhook_failed: i64,
    pub live_streams: usize,
    pub live_readers: usize,
    pub pool_size: u32,
    pub pool_idle: usize,
}

/// The text Prometheus scrapes, with the snapshot's gauges set first.
pub fn render(snapshot: &Snapshot) -> String {
    metrics::gauge!("portal_webhook_deliveries", "status" => "pending").set(snapshot.webhook_pending as f64);
    metrics::gauge!("portal_webhook_deliveries", "status" => "failed").set(snapshot.webhook_failed as f64);
    metrics::gauge!("portal_live_streams").set(snapshot.live_streams as f64);
    metrics::gauge!("portal_live_readers").set(snapshot.live_readers as f64);
    metrics::gauge!("portal_db_pool_connections", "state" => "idle").set(snapshot.pool_idle as f64);
    let busy = (snapshot.pool_size as usize).saturating_sub(snapshot.pool_idle);
    metrics::gauge!("portal_db_pool_connections", "state" => "busy").set(busy as f64);
    recorder().map(PrometheusHandle::render).unwrap_or_default()
}
