//! The requests table: the history, the approvals queue and an environment's page show it. Each
//! row says what was asked (a deployment, a teardown, an upgrade…), how far its approval got, and
//! what its rollout came to.

use leptos::prelude::*;

use crate::components::status::status_badge;
use crate::format::{timestamp, usd};
use crate::model::{RequestKind, RequestRow};

pub fn rows_table(rows: Vec<RequestRow>, caption: &'static str) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="history">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Request"</th>
                        <th scope="col">"Environment"</th>
                        <th scope="col">"Tier"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Rollout"</th>
                        <th scope="col">"Approvals"</th>
                        <th scope="col">"Requested by"</th>
                        <th scope="col" class="num">"Monthly"</th>
                        <th scope="col">"When"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! {
                            <tr>
                                <td><a href=format!("/requests/{}", r.id)>{format!("#{}", r.id)}</a></td>
                                <td><a href=format!("/environments/{}", r.environment)>{r.environment.clone()}</a></td>
                                <td>
                                    {r.tier.clone()}
                                    {(r.kind != RequestKind::Deploy).then(|| {
                                        let class = if r.kind == RequestKind::Teardown { "warning" } else { "kind" };
                                        view! { " " <strong class=class>{r.kind.label().to_lowercase()}</strong> }
                                    })}
                                </td>
                                <td>{status_badge(r.status.as_str())}</td>
                                <td>{match r.rollout_status {
                                    Some(s) => status_badge(s.as_str()).into_any(),
                                    None => view! { <span class="muted">"—"</span> }.into_any(),
                                }}</td>
                                <td>{format!("{} of {}", r.approvals, r.required_approvals)}</td>
                                <td>{r.requester.clone()}</td>
                                <td class="num">{usd(r.monthly_usd)}</td>
                                <td>{timestamp(r.created_at)}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
