//! Islands: the interactive part of a page that a small bundle of its own hydrates, while the
//! rest of the page stays the server's HTML. The tier page is one (see [`crate::Bundle`]): the
//! app's full bundle (router and every page, 383 KB brotli) is more than the page's budget, and
//! only its controls, results and request form react to anything.
//!
//! This is what Leptos's `#[island]` expands to, for one page instead of the whole app: the
//! server wraps the view in `<leptos-island data-component=NAME>` after its props (JSON in a
//! `<script type="application/json" data-island-props=NAME>` just before it: in an attribute
//! every quote would cost six bytes, a sixth of the tier page), numbers the
//! resources created inside it from zero (the shell renders the rest of such a page without
//! hydration ids: [`crate::shell`]), and the island's bundle hydrates that element from its props
//! with [`hydrate`]. Anything an island needs comes through its props or its own resources: it
//! sees no context of the page around it.

use leptos::prelude::*;
use leptos::reactive::owner::Owner;
use leptos::tachys::html::islands::Island;
use leptos::tachys::reactive_graph::OwnedView;

/// `body` as the island `name`, with its props (JSON, read back by [`hydrate`]). In the app's
/// full bundle (a client-side navigation to the page) it renders as the plain view.
pub fn island<V: IntoView + 'static>(
    name: &'static str,
    props_json: String,
    body: impl FnOnce() -> V + Send + 'static,
) -> impl IntoView {
    let props = (!props_json.is_empty()).then(|| {
        let text = script_safe(props_json);
        view! { <script type="application/json" data-island-props=name inner_html=text></script> }
    });
    view! { {props} {island_element(name, body)} }
}

/// JSON that can stand inside a `<script>` element: `<` only occurs inside JSON strings, where
/// `\u003c` reads the same, so no `</script>` can end the element early. JSON already made safe
/// comes back as it is, without a copy.
pub fn script_safe(json: String) -> String {
    if json.contains('<') {
        json.replace('<', "\\u003c")
    } else {
        json
    }
}

/// The `<leptos-island>` element itself: what [`hydrate`] hydrates (its props sit before it).
fn island_element<V: IntoView + 'static>(
    name: &'static str,
    body: impl FnOnce() -> V + Send + 'static,
) -> impl IntoView {
    // As `#[island]` does: its own owner, and hydration ids handed out while it is built.
    let view = Owner::new().with(|| Owner::with_hydration(move || OwnedView::new(body())));
    Island::new(name, view)
}

/// Why an island on the page could not be hydrated.
#[cfg(feature = "hydrate")]
#[derive(Debug, thiserror::Error)]
pub enum IslandError {
    #[error("island {name}: the page has no document")]
    NoDocument { name: &'static str },
    #[error("island {name}: {what}")]
    Dom { name: &'static str, what: String },
    #[error("island {name}: its props do not read: {source}")]
    Props { name: &'static str, source: serde_json::Error },
}

/// Hydrates every `name` island on the page with the view `build` makes from its props; returns
/// how many there were. Call [`leptos::mount::hydrate_islands`] once first.
#[cfg(feature = "hydrate")]
pub fn hydrate<P, V>(name: &'static str, build: impl Fn(P) -> V + Clone + Send + 'static) -> Result<u32, IslandError>
where
    P: serde::de::DeserializeOwned + Send + 'static,
    V: IntoView + 'static,
{
    use leptos::tachys::view::{Position, RenderHtml};
    use wasm_bindgen::JsCast;

    let dom = |what: &str| IslandError::Dom { name, what: what.to_string() };
    let document = web_sys::window().and_then(|w| w.document()).ok_or(IslandError::NoDocument { name })?;
    let found = document
        .query_selector_all(&format!("leptos-island[data-component=\"{name}\"]"))
        .map_err(|_| dom("the selector does not parse"))?;
    for index in 0..found.length() {
        let element: web_sys::HtmlElement = found
            .item(index)
            .and_then(|node| node.dyn_into().ok())
            .ok_or_else(|| dom("an island is not an HTML element"))?;
        let json = element
            .previous_element_sibling()
            .filter(|props| props.get_attribute("data-island-props").as_deref() == Some(name))
            .and_then(|props| props.text_content())
            .ok_or_else(|| dom("an island has no props before it"))?;
        let props: P = serde_json::from_str(&json).map_err(|source| IslandError::Props { name, source })?;
        let build = build.clone();
        let view = island_element(name, move || build(props));
        // The island lives as long as the page: its state is never unmounted.
        std::mem::forget(view.hydrate_from_position::<true>(&element, Position::Current));
    }
    Ok(found.length())
}
