//! Live rollout progress as server-sent events. The stream reads the database, not this
//! process's memory, so it shows a rollout whichever portal process runs it, and a
//! reconnecting client (`Last-Event-ID`) misses nothing.
//!
//! Each open stream holds a slot: at most so many per user and in total (429 beyond), given back
//! when the stream ends or the client goes away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};

use crate::error::ServerError;
use crate::rollout::RolloutStore;

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

const POLL: Duration = Duration::from_millis(250);

struct Cursor {
    _slot: StreamSlot,
    stopping: tokio::sync::watch::Receiver<bool>,
    store: RolloutStore,
    id: i64,
    after: i64,
    last_state: Option<String>,
    ended: bool,
}

pub fn rollout_stream(
    slot: StreamSlot,
    stopping: tokio::sync::watch::Receiver<bool>,
    store: RolloutStore,
    id: i64,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let cursor = Cursor { _slot: slot, stopping, store, id, after, last_state: None, ended: false };
    let stream = stream::unfold(cursor, |mut cursor| async move {
        if cursor.ended {
            return None;
        }
        let batch = next_batch(&mut cursor).await;
        Some((stream::iter(batch.into_iter().map(Ok)), cursor))
    })
    .flatten();
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// What changed since the last batch; waits a poll interval first when nothing did.
async fn next_batch(cursor: &mut Cursor) -> Vec<Event> {
    loop {
        let mut out = Vec::new();
        let view = match cursor.store.view(cursor.id).await {
            Ok(view) => view,
            Err(e) => {
                cursor.ended = true;
                return vec![Event::default().event("error").data(e.to_string())];
            }
        };
        let events = cursor.store.events(cursor.id, cursor.after, 500).await.unwrap_or_default();
        let more_events = events.len() == 500;
        for e in events {
            cursor.after = e.id;
            if let Ok(event) = Event::default().event("resource").id(e.id.to_string()).json_data(&e) {
                out.push(event);
            }
        }
        let state = serde_json::to_string(&view).unwrap_or_default();
        if cursor.last_state.as_deref() != Some(state.as_str()) {
            out.push(Event::default().event("state").data(state.clone()));
            cursor.last_state = Some(state);
        }
        let terminal = view.status.ended();
        if terminal && !more_events {
            cursor.ended = true;
            out.push(Event::default().event("end").data(view.status.as_str()));
            return out;
        }
        if !out.is_empty() {
            return out;
        }
        if *cursor.stopping.borrow() {
            // The process is stopping: the browser's EventSource reconnects (with Last-Event-ID),
            // reaching another process behind the load balancer.
            cursor.ended = true;
            return vec![Event::default().event("restart").data("the server is stopping; reconnect")];
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = cursor.stopping.changed() => {}
        }
    }
}
