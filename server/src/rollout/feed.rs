//! Live rollout progress, read once per rollout per process and shared by all who watch it.
//!
//! A [`RolloutFeed`] keeps one reader task per watched rollout. The reader sleeps until the
//! rollout changes ([`crate::db::RolloutChanges`]: PostgreSQL's `NOTIFY` from a trigger on the rollout
//! tables, so a write by any process wakes every process at commit; on SQLite this process's own
//! writes), with a slow fallback poll for what no signal covers (a dropped `LISTEN` connection,
//! the CLI writing to the same SQLite file). Each wake it reads the rollout and the events after
//! its cursor once, and broadcasts one [`Batch`] to every watcher. The reader stops when its last
//! watcher leaves or the rollout has ended.
//!
//! Watchers catch up from the database themselves (from their `Last-Event-ID`), so a reader
//! never holds history; a batch says which events it starts after, and a watcher that is behind
//! it (it connected between two reads, or lagged) reads the gap before using the batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::RolloutView;
use tokio::sync::broadcast;

use crate::db::EVERY_ROLLOUT;
use crate::error::ServerError;
use crate::rollout::RolloutStore;

/// What one read of a rollout found, shared by every watcher of it.
#[derive(Debug)]
pub struct Batch {
    /// The events below are those recorded after this event id.
    pub from: i64,
    /// `(event id, JSON of the event)`, oldest first; serialized once for all watchers.
    pub events: Vec<(i64, Arc<str>)>,
    /// JSON of the rollout view now.
    pub state: Arc<str>,
    /// The rollout has ended and every event of it is in this batch or before.
    pub end: Option<String>,
}

/// Events read per query; a reader that gets this many reads again at once.
pub const PAGE: i64 = 500;

/// One reader per watched rollout, in this process.
#[derive(Clone)]
pub struct RolloutFeed {
    store: RolloutStore,
    fallback_poll: Duration,
    readers: Readers,
}

impl RolloutFeed {
    /// `fallback_poll`: how often a reader reads without a signal.
    pub fn new(store: RolloutStore, fallback_poll: Duration) -> RolloutFeed {
        RolloutFeed { store, fallback_poll, readers: Arc::default() }
    }

    /// The fallback poll for this database: PostgreSQL signals every write; SQLite only this
    /// process's.
    pub fn fallback_for(dialect: crate::db::Dialect) -> Duration {
        match dialect {
            crate::db::Dialect::Postgres => Duration::from_secs(5),
            crate::db::Dialect::Sqlite => Duration::from_secs(2),
        }
    }

    pub fn store(&self) -> &RolloutStore {
        &self.store
    }

    /// Rollouts with a reader in this process now.
    pub fn readers(&self) -> usize {
        self.readers.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Batches of rollout `id` from now on, starting its reader if it has none.
    pub fn subscribe(&self, id: i64) -> Result<broadcast::Receiver<Arc<Batch>>, ServerError> {
        let mut readers = self.readers.lock().map_err(|_| ServerError::Internal("live readers poisoned".into()))?;
        if let Some(tx) = readers.get(&id) {
            return Ok(tx.subscribe());
        }
        // Room for bursts; a watcher that still falls behind reads the gap from the database.
        let (tx, rx) = broadcast::channel(64);
        readers.insert(id, tx.clone());
        let reader = Reader {
            id,
            readers: self.readers.clone(),
            store: self.store.clone(),
            changes: self.store.db.changes.subscribe(),
            tx,
            fallback_poll: self.fallback_poll,
            after: None,
            last_state: None,
        };
        tokio::spawn(reader.run());
        Ok(rx)
    }
}

/// The events of rollout `id` after event `after`, up to event `until`, as `(event id, JSON)`,
/// read a page at a time.
pub async fn events_json(
    store: &RolloutStore,
    id: i64,
    mut after: i64,
    until: i64,
) -> Result<Vec<(i64, Arc<str>)>, ServerError> {
    let mut out = Vec::new();
    loop {
        let page = store.events(id, after, PAGE).await?;
        let full = page.len() as i64 == PAGE;
        for e in page {
            if e.id > until {
                return Ok(out);
            }
            after = e.id;
            out.push((e.id, Arc::from(serde_json::to_string(&e)?)));
        }
        if !full {
            return Ok(out);
        }
    }
}

type Readers = Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<Batch>>>>>;

struct Reader {
    id: i64,
    /// The feed's map, which this reader leaves when it stops.
    readers: Readers,
    store: RolloutStore,
    changes: broadcast::Receiver<i64>,
    tx: broadcast::Sender<Arc<Batch>>,
    fallback_poll: Duration,
    /// The last event id read; `None` until the first read (which starts from the newest).
    after: Option<i64>,
    last_state: Option<Arc<str>>,
}

impl Reader {
    async fn run(mut self) {
        if let Ok(newest) = self.store.newest_event_id(self.id).await {
            self.after = Some(newest);
        }
        loop {
            let wait = tokio::time::sleep(self.fallback_poll);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    _ = &mut wait => break,
                    changed = self.changes.recv() => match changed {
                        Ok(id) if id == self.id || id == EVERY_ROLLOUT => break,
                        Ok(_) => continue,
                        // Missed signals: one of them may have been ours.
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
            if self.leave_if(|tx| tx.receiver_count() == 0) {
                return;
            }
            match self.read().await {
                Ok(Some(batch)) => {
                    let ended = batch.end.is_some();
                    let _ = self.tx.send(Arc::new(batch));
                    // A watcher that joins after this finds the rollout ended in the database.
                    if ended && self.leave_if(|_| true) {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(rollout = self.id, "live reader could not read the rollout: {e}"),
            }
        }
    }

    /// Leaves the feed when `done` says so, under the lock `subscribe` takes: no watcher can
    /// join a reader that is leaving.
    fn leave_if(&self, done: impl FnOnce(&broadcast::Sender<Arc<Batch>>) -> bool) -> bool {
        let Ok(mut readers) = self.readers.lock() else { return true };
        if !done(&self.tx) {
            return false;
        }
        readers.remove(&self.id);
        true
    }

    /// One read; `None` when nothing changed.
    async fn read(&mut self) -> Result<Option<Batch>, ServerError> {
        let from = self.after.unwrap_or(0);
        let events = events_json(&self.store, self.id, from, i64::MAX).await?;
        self.after = Some(events.last().map_or(from, |(id, _)| *id));
        let view: RolloutView = self.store.view(self.id).await?;
        let state: Arc<str> = Arc::from(serde_json::to_string(&view)?);
        let state_changed = self.last_state.as_deref() != Some(&*state);
        self.last_state = Some(state.clone());
        // Events are read before the view: an ended view means no event can come after these.
        let end = view.status.ended().then(|| view.status.as_str().to_owned());
        if events.is_empty() && !state_changed && end.is_none() {
            return Ok(None);
        }
        Ok(Some(Batch { from, events, state, end }))
    }
}
