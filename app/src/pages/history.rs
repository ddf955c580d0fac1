//! The request history (filters from the address, CSV export, older pages) and the approvals
//! queue, which share the requests table and the query read from the address.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::feedback::error_view;
use crate::components::requests_table::rows_table;
use crate::history;
use crate::model::{HistoryQuery, RequestStatus};

fn query_from_url(awaiting_me: bool) -> Memo<HistoryQuery> {
    let params = use_query_map();
    Memo::new(move |_| {
        let p = params.read();
        let get = |k: &str| p.get(k).filter(|v| !v.is_empty());
        HistoryQuery {
            environment: get("environment"),
            tier: get("tier"),
            status: get("status"),
            requester: get("requester"),
            awaiting_me,
            before: get("before").and_then(|b| b.parse().ok()),
        }
    })
}

fn query_string(q: &HistoryQuery, before: Option<i64>) -> String {
    let mut parts = Vec::new();
    for (k, v) in
        [("environment", &q.environment), ("tier", &q.tier), ("status", &q.status), ("requester", &q.requester)]
    {
        if let Some(v) = v {
            parts.push(format!("{k}={}", v.replace(['&', '=', '#', '?', ' '], "")));
        }
    }
    if let Some(b) = before {
        parts.push(format!("before={b}"));
    }
    parts.join("&")
}

#[component]
pub fn HistoryPageView() -> impl IntoView {
    let query = query_from_url(false);
    let page = Resource::new(move || query.get(), history);
    view! {
        <section class="page">
            <h1>"History"</h1>
            <form class="filters" method="get" action="/requests">
                {move || {
                    let q = query.get();
                    view! {
                        <div class="field"><label for="f-env">"Environment"</label>
                            <input id="f-env" name="environment" value=q.environment.clone().unwrap_or_default()/></div>
                        <div class="field"><label for="f-tier">"Tier"</label>
                            <select id="f-tier" name="tier">
                                {["", "development", "production-lite", "full-production"].into_iter().map(|t| view! {
                                    <option value=t selected=q.tier.as_deref().unwrap_or("") == t>{if t.is_empty() { "Any" } else { t }}</option>
                                }).collect_view()}
                            </select></div>
                        <div class="field"><label for="f-status">"Status"</label>
                            <select id="f-status" name="status">
                                {std::iter::once("").chain(RequestStatus::ALL.iter().map(|s| s.as_str())).map(|t| view! {
                                    <option value=t selected=q.status.as_deref().unwrap_or("") == t>{if t.is_empty() { "Any" } else { t }}</option>
                                }).collect_view()}
                            </select></div>
                        <div class="field"><label for="f-user">"Requested by"</label>
                            <input id="f-user" name="requester" value=q.requester.clone().unwrap_or_default()/></div>
                    }
                }}
                <button type="submit" class="button">"Filter"</button>
                <a class="export" href=move || format!("/api/requests.csv?{}", query_string(&query.get(), None))>"Export CSV"</a>
            </form>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading history…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(Ok(p)) => {
                            let next = p.next_before.map(|b| format!("/requests?{}", query_string(&query.get_untracked(), Some(b))));
                            view! {
                                {rows_table(p.rows, "Deployment requests, newest first")}
                                {next.map(|href| view! { <a class="button secondary" href=href>"Older requests"</a> })}
                            }.into_any()
                        }
                        Ok(Err(r)) => view! { <p class="error" role="alert">{r.message}" "<a href="/signin">"Sign in"</a></p> }.into_any(),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let query = query_from_url(true);
    let page = Resource::new(move || query.get(), history);
    view! {
        <section class="page">
            <h1>"Awaiting your approval"</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(Ok(p)) if p.rows.is_empty() => view! { <p>"Nothing is waiting for you."</p> }.into_any(),
                        Ok(Ok(p)) => rows_table(p.rows, "Pending requests you may decide").into_any(),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Transition>
        </section>
    }
}
