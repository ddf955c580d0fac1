//! Live rollout progress as server-sent events. A stream follows the rollout's shared reader in
//! this process ([`RolloutFeed`]), which reads the database when any process changes the rollout,
//! so it shows a rollout whichever portal process runs it; a stream catches up from the database
//! itself (a reconnecting client's `Last-Event-ID`, or when it fell behind), so it misses nothing.
//!
//! Each open stream holds a slot: at most so many per user and in total (429 beyond), given back
//! when the stream ends or the client goes away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};

use tokio::sync::broadcast;

use crate::error::ServerError;
use crate::rollout::feed::{events_json, Batch, RolloutFeed};

/// How many live streams may be open at once.
#[derive(Clone)]
pub struct LiveLimits {
    per_user: usize,
    total: usize,
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

impl LiveLimits {
    pub fn new(per_user: usize, total: usize) -> LiveLimits {
        LiveLimits { per_user, total, open: Arc::default() }
    }

    /// Streams open now, everyone's.
    pub fn open_total(&self) -> usize {
        self.open.lock().map(|open| open.values().sum()).unwrap_or(0)
    }

    /// A slot for one more stream of `user`, or 429 saying which limit is reached.
    pub fn take(&self, user: i64) -> Result<StreamSlot, ServerError> {
        let mut open = self.open.lock().map_err(|_| ServerError::Internal("live stream counts poisoned".into()))?;
        if open.values().sum::<usize>() >= self.total {
            return Err(ServerError::TooManyRequests(format!(
                "the portal already serves {} live streams; try again shortly",
                self.total
            )));
        }
        let mine = open.entry(user).or_default();
        if *mine >= self.per_user {
            return Err(ServerError::TooManyRequests(format!(
                "you already have {} live streams open; close one first",
                self.per_user
            )));
        }
        *mine += 1;
        Ok(StreamSlot { limits: self.clone(), user })
    }
}

/// One open stream; its slot is given back when it is dropped.
pub struct StreamSlot {
    limits: LiveLimits,
    user: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.limits.open.lock() {
            if let Some(n) = open.get_mut(&self.user) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.user);
                }
            }
        }
    }
}

/// One browser's stream: what it has been sent, and the feed it follows.
struct Watcher {
    _slot: StreamSlot,
    stopping: tokio::sync::watch::Receiver<bool>,
    feed: RolloutFeed,
    batches: Option<broadcast::Receiver<Arc<Batch>>>,
    id: i64,
    /// The last event id sent (the client's `Last-Event-ID` at first).
    after: i64,
    last_state: Option<Arc<str>>,
    ended: bool,
}

pub fn rollout_stream(
    slot: StreamSlot,
    stopping: tokio::sync::watch::Receiver<bool>,
    feed: RolloutFeed,
    id: i64,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watcher = Watcher { _slot: slot, stopping, feed, batches: None, id, after, last_state: None, ended: false };
    let stream = stream::unfold(watcher, |mut watcher| async move {
        if watcher.ended {
            return None;
        }
        let events = watcher.next_events().await;
        Some((stream::iter(events.into_iter().map(Ok)), watcher))
    })
    .flatten();
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

impl Watcher {
    /// The next events to send; waits for the rollout's reader when there is nothing new.
    async fn next_events(&mut self) -> Vec<Event> {
        if self.batches.is_none() {
            // First call: follow the reader from now, then read what came before from the
            // database (in this order, so nothing falls between the two).
            return match self.feed.subscribe(self.id) {
                Ok(batches) => {
                    self.batches = Some(batches);
                    self.catch_up().await
                }
                Err(e) => self.fail(e),
            };
        }
        loop {
            if *self.stopping.borrow() {
                return self.restart();
            }
            let received = {
                let (batches, stopping) = (&mut self.batches, &mut self.stopping);
                let Some(batches) = batches.as_mut() else { return Vec::new() };
                tokio::select! {
                    received = batches.recv() => Some(received),
                    _ = stopping.changed() => None,
                }
            };
            let out = match received {
                None => return self.restart(),
                Some(Ok(batch)) => self.apply(&batch).await,
                // Fell behind the reader: the database has all it missed.
                Some(Err(broadcast::error::RecvError::Lagged(_))) => self.catch_up().await,
                // The reader stopped (the rollout ended, or it had no watcher for a moment).
                Some(Err(broadcast::error::RecvError::Closed)) => {
                    let out = self.catch_up().await;
                    if !self.ended {
                        match self.feed.subscribe(self.id) {
                            Ok(batches) => self.batches = Some(batches),
                            Err(e) => return self.fail(e),
                        }
                    }
                    out
                }
            };
            if !out.is_empty() || self.ended {
                return out;
            }
        }
    }

    /// The process is stopping: the browser's EventSource reconnects (with Last-Event-ID),
    /// reaching another process behind the load balancer.
    fn restart(&mut self) -> Vec<Event> {
        self.ended = true;
        vec![Event::default().event("restart").data("the server is stopping; reconnect")]
    }

    fn fail(&mut self, e: ServerError) -> Vec<Event> {
        self.ended = true;
        vec![Event::default().event("error").data(e.to_string())]
    }

    /// Everything after `after` from the database, and the rollout's state now.
    async fn catch_up(&mut self) -> Vec<Event> {
        let store = self.feed.store().clone();
        let mut out = match self.events_from_db(i64::MAX).await {
            Ok(out) => out,
            Err(e) => return self.fail(e),
        };
        // Read after the events: an ended view means every event of the rollout is sent.
        let view = match store.view(self.id).await {
            Ok(view) => view,
            Err(e) => return self.fail(e),
        };
        match serde_json::to_string(&view) {
            Ok(state) => self.push_state(&mut out, Arc::from(state)),
            Err(e) => return self.fail(e.into()),
        }
        if view.status.ended() {
            self.push_end(&mut out, view.status.as_str());
        }
        out
    }

    /// A batch from the reader; first the gap before it, if this stream is behind it.
    async fn apply(&mut self, batch: &Batch) -> Vec<Event> {
        let mut out = Vec::new();
        if self.after < batch.from {
            match self.events_from_db(batch.from).await {
                Ok(gap) => out = gap,
                Err(e) => return self.fail(e),
            }
        }
        out.extend(batch.events.iter().filter_map(|(id, json)| self.resource(*id, json)));
        self.push_state(&mut out, batch.state.clone());
        if let Some(end) = &batch.end {
            self.push_end(&mut out, end);
        }
        out
    }

    /// Events after `after` up to `until` (an event id), from the database.
    async fn events_from_db(&mut self, until: i64) -> Result<Vec<Event>, ServerError> {
        let events = events_json(self.feed.store(), self.id, self.after, until).await?;
        Ok(events.iter().filter_map(|(id, json)| self.resource(*id, json)).collect())
    }

    /// A `resource` event for a stored event this stream has not sent yet.
    fn resource(&mut self, id: i64, json: &str) -> Option<Event> {
        (id > self.after).then(|| {
            self.after = id;
            Event::default().event("resource").id(id.to_string()).data(json)
        })
    }

    fn push_state(&mut self, out: &mut Vec<Event>, state: Arc<str>) {
        if self.last_state.as_deref() != Some(&*state) {
            out.push(Event::default().event("state").data(&*state));
            self.last_state = Some(state);
        }
    }

    fn push_end(&mut self, out: &mut Vec<Event>, status: &str) {
        self.ended = true;
        out.push(Event::default().event("end").data(status));
    }
}
