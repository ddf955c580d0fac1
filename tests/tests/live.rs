//! Live rollout progress fanned out: one reader per watched rollout per process, woken by the
//! writes themselves (this process's on SQLite, every process's through PostgreSQL's NOTIFY).
//! The fallback poll is set to an hour here, so a stream that reaches its end was woken by a
//! change signal, not by polling.

use std::time::Duration;

use portal_tests::{Backend, Moto, TestPortal};

use crate::rollouts::{approved_rollout, event_count, people};

const NO_FALLBACK: Duration = Duration::from_secs(3600);

/// Opens `n` live streams of rollout `id` as `token`; each yields its whole text once it ends.
async fn watch(portal: &TestPortal, token: &str, id: i64, n: usize) -> Vec<tokio::task::JoinHandle<String>> {
    // A stream lasts as long as its rollout: no whole-request timeout (the portal's client has
    // 30 s, which a rollout on a loaded machine outlasts); each test bounds the wait itself.
    let client = reqwest::Client::new();
    let mut streams = Vec::new();
    for _ in 0..n {
        let response = client
            .get(portal.url(&format!("/api/rollouts/{id}/events")))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream opens");
        assert_eq!(response.status(), 200);
        streams.push(tokio::spawn(async move { response.text().await.expect("the stream ends") }));
    }
    streams
}

/// Every recorded event exactly once, in order, and the end.
fn assert_complete(text: &str, events: i64) {
    let ids: Vec<i64> = text
        .split("\n\n")
        .filter(|b| b.starts_with("event: resource"))
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|id| id.parse().ok()))
        .collect();
    assert_eq!(ids.len() as i64, events, "every event once: {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    assert!(text.trim_end().ends_with("event: end\ndata: succeeded"), "{}", &text[text.len().saturating_sub(300)..]);
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_watchers_of_a_rollout_share_one_reader_and_each_get_every_event_once() {
    let moto = Moto::start();
    let portal = TestPortal::start_configured(Backend::Sqlite, Some(moto.sdk_config().await), |_, settings| {
        settings.live_streams_per_user = 100;
        settings.live_fallback_poll = Some(NO_FALLBACK);
    })
    .await;
    let people = people(&portal).await;
    // Approved, not yet started: every stream is open before the first phase.
    let id = approved_rollout(&portal, &people, "crowd", "development").await;
    let streams = watch(&portal, people.token("watcher").unwrap_or_default(), id, 40).await;
    let feed = portal.portal.feed.clone();
    let limits = portal.portal.live_limits.clone();
    wait_for("40 open streams", || limits.open_total() == 40).await;
    assert_eq!(feed.readers(), 1, "one reader for the 40 watchers of one rollout");

    portal.start_engine();
    let mut texts = Vec::new();
    for stream in streams {
        texts.push(tokio::time::timeout(Duration::from_secs(120), stream).await.expect("stream ends").expect("task"));
    }
    let events = event_count(&portal, id).await;
    assert!(events > 10, "a development rollout records its stack events ({events})");
    for text in &texts {
        assert_complete(text, events);
    }
    wait_for("the reader to stop after the rollout ended", || feed.readers() == 0).await;
    wait_for("the stream slots to be given back", || limits.open_total() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rollout_run_by_another_process_reaches_watchers_through_postgres_notify() {
    if !portal_tests::backends().contains(&Backend::Postgres) {
        return; // backends() has said why (and fails under CI instead)
    }
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let runner = TestPortal::start_with(Backend::Postgres, Some(config.clone())).await;
    let people = people(&runner).await;
    // The watchers' process never runs the rollout and never polls: only NOTIFY can wake it.
    let viewer = runner
        .beside(Some(config), |_, settings| {
            settings.live_fallback_poll = Some(NO_FALLBACK);
        })
        .await;
    let id = approved_rollout(&runner, &people, "relayed", "development").await;
    let streams = watch(&viewer, people.token("watcher").unwrap_or_default(), id, 5).await;
    let limits = viewer.portal.live_limits.clone();
    wait_for("5 open streams", || limits.open_total() == 5).await;
    assert_eq!(viewer.portal.feed.readers(), 1);

    runner.start_engine();
    let mut texts = Vec::new();
    for stream in streams {
        texts.push(tokio::time::timeout(Duration::from_secs(120), stream).await.expect("stream ends").expect("task"));
    }
    let events = event_count(&runner, id).await;
    for text in &texts {
        assert_complete(text, events);
    }
}

/// Phases run side by side, each recording its stack events in its own transaction. A reader
/// follows a rollout by event id, so for each rollout the ids must become visible in the order
/// they were given: a later id committed before an earlier one would be skipped by every
/// watcher whose read fell between the two commits (seen on PostgreSQL: events 4–6 of 18 lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_written_by_parallel_phases_are_seen_by_a_cursor_in_id_order() {
    use server::rollout::aws::StackEvent;
    const WRITERS: i64 = 4;
    const EACH: i64 = 60;
    for backend in portal_tests::backends() {
        let portal = TestPortal::start_with(backend, None).await;
        let people = people(&portal).await;
        let id = approved_rollout(&portal, &people, "side-by-side", "development").await;
        let store = portal.portal.feed.store().clone();
        let writers: Vec<_> = (1..=WRITERS)
            .map(|phase| {
                let store = store.clone();
                tokio::spawn(async move {
                    for n in 0..EACH {
                        let event = StackEvent {
                            event_id: format!("phase-{phase}-event-{n}"),
                            logical_id: format!("Resource{n}"),
                            resource_type: "AWS::S3::Bucket".into(),
                            status: "CREATE_IN_PROGRESS".into(),
                            reason: String::new(),
                            at: "2026-12-07T09:00:00Z".into(),
                            at_ms: 0,
                            client_request_token: String::new(),
                        };
                        store.record_events(id, phase, &[&event]).await.expect("recorded");
                    }
                })
            })
            .collect();
        // A watcher's cursor, read as fast as it can while the phases write.
        let mut after = 0;
        let mut seen = Vec::new();
        loop {
            let writing = writers.iter().any(|w| !w.is_finished());
            for event in store.events(id, after, 500).await.expect("read") {
                after = event.id;
                seen.push(event.id);
            }
            if !writing {
                break;
            }
        }
        for writer in writers {
            writer.await.expect("writer");
        }
        assert_eq!(event_count(&portal, id).await, WRITERS * EACH, "{backend:?}");
        assert_eq!(seen.len() as i64, WRITERS * EACH, "{backend:?}: the cursor skipped events committed late");
    }
}
