//! A rollout's own page (`/rollouts/:id`): the rollout section under a link back to the history.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::rollout::RolloutSection;

#[component]
pub fn RolloutPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(-1));
    view! {
        <section class="page">
            <p class="breadcrumb"><a href="/requests">"History"</a></p>
            {move || view! { <RolloutSection id=id.get() heading=true/> }}
        </section>
    }
}
