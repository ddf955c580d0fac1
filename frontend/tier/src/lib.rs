#![recursion_limit = "512"]
//! The tier page's bundle: hydrates the page's island alone (`app::pages::tier::TierIsland`),
//! without the router and the other pages the app's bundle (`frontend/`) carries.

use app::pages::tier::{TierIsland, TIER_ISLAND};

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    let hydrated = app::island::hydrate(TIER_ISLAND, TierIsland::render);
    // What the server sent for hydration is used up: a resource made from now on fetches.
    if let Some(context) = leptos::reactive::owner::Owner::current_shared_context() {
        context.hydration_complete();
    }
    match hydrated {
        Ok(_) => app::mark_hydrated(),
        Err(e) => leptos::logging::error!("{e}"),
    }
}
