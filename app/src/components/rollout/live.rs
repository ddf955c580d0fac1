//! The live subscription of a rollout's section: in the browser an `EventSource` on
//! `/api/rollouts/{id}/events?after=…` whose `state`, `resource` and `end` events update the
//! rollout and its event list. The stream ends with the rollout (`end` closes it, so the browser
//! does not reconnect to it); until then the browser reconnects by itself and the server resumes
//! after the last event id. The source is closed, and its listeners freed, when the section is
//! cleaned up or a new attempt opens another stream. On the server there is nothing to follow
//! (effects do not run there), so [`Feed`] does nothing.

#[cfg(feature = "hydrate")]
pub use browser::Feed;
#[cfg(not(feature = "hydrate"))]
pub use server::Feed;

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    use crate::model::{RolloutEventView, RolloutView};

    /// The section's open stream, if any. An `EventSource` and its closures are not `Send`, so
    /// they live in a local stored value (this is only a handle to it) that the owner's cleanup
    /// empties: dropping the [`Stream`] closes it.
    #[derive(Clone, Copy)]
    pub struct Feed(StoredValue<Option<Stream>, LocalStorage>);

    impl Feed {
        /// A feed without a stream, closed when the current owner (the section) is cleaned up.
        pub fn new() -> Self {
            let stream = StoredValue::new_local(None::<Stream>);
            // Cleanups run before the owner disposes its stored values, so the stream is still there.
            on_cleanup(move || drop(stream.try_update_value(Option::take)));
            Self(stream)
        }

        /// Subscribes to the rollout's events after `after`, closing the stream it replaces.
        pub fn follow(
            self,
            id: i64,
            after: i64,
            rollout: RwSignal<RolloutView>,
            events: RwSignal<Vec<RolloutEventView>>,
        ) {
            let opened = Stream::open(id, after, rollout, events);
            // Dropped outside the stored value's lock; if the section is gone already, `opened` is
            // dropped (and closed) inside.
            let replaced = self.0.try_update_value(|held| std::mem::replace(held, opened));
            drop(replaced);
        }
    }

    /// What the source calls for one event type.
    type Listener = Closure<dyn Fn(MessageEvent)>;

    /// An open `EventSource` and its listeners, by event type.
    struct Stream {
        source: EventSource,
        listeners: Vec<(&'static str, Listener)>,
    }

    impl Stream {
        fn open(
            id: i64,
            after: i64,
            rollout: RwSignal<RolloutView>,
            events: RwSignal<Vec<RolloutEventView>>,
        ) -> Option<Self> {
            let source = EventSource::new(&format!("/api/rollouts/{id}/events?after={after}")).ok()?;
            let on_state = Listener::new(move |e: MessageEvent| {
                if let Some(view) = e.data().as_string().and_then(|t| serde_json::from_str::<RolloutView>(&t).ok()) {
                    rollout.set(view);
                }
            });
            let on_resource = Listener::new(move |e: MessageEvent| {
                if let Some(event) =
                    e.data().as_string().and_then(|t| serde_json::from_str::<RolloutEventView>(&t).ok())
                {
                    events.update(|all| {
                        if all.last().is_none_or(|last| last.id < event.id) {
                            all.push(event);
                        }
                    });
                }
            });
            let closing = source.clone();
            // Without this the browser would reconnect to a stream that has ended.
            let on_end = Listener::new(move |_| closing.close());
            let listeners = vec![("state", on_state), ("resource", on_resource), ("end", on_end)];
            for (name, listener) in &listeners {
                let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            }
            Some(Self { source, listeners })
        }
    }

    impl Drop for Stream {
        /// Closes the source (a closed source dispatches nothing more) and takes the listeners
        /// off it before their closures are freed.
        fn drop(&mut self) {
            self.source.close();
            for (name, listener) in &self.listeners {
                let _ = self.source.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            }
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod server {
    use leptos::prelude::*;

    use crate::model::{RolloutEventView, RolloutView};

    /// On the server there is nothing to follow: effects do not run there.
    #[derive(Clone, Copy)]
    pub struct Feed;

    impl Feed {
        pub fn new() -> Self {
            Self
        }

        pub fn follow(
            self,
            _id: i64,
            _after: i64,
            _rollout: RwSignal<RolloutView>,
            _events: RwSignal<Vec<RolloutEventView>>,
        ) {
        }
    }
}
