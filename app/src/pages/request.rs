//! A request's page: its status, cost change, facts and timeline, the approver's decision form,
//! its security posture (what travels unencrypted, said before the decision), the change preview,
//! its rollout (followed live) and what was requested (diagram and costs).
//! While the request waits for approvers or its preview, the page looks again every 2 s.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::cost_table::CostTable;
use crate::components::feedback::error_view;
use crate::components::posture::SecurityPosture;
use crate::components::preview::PreviewSection;
use crate::components::rollout::RolloutSection;
use crate::components::status::status_badge;
use crate::format::{timestamp, usd, usd_range};
use crate::model::{PreviewStatus, Refusal, RequestDetail, RequestKind, RequestStatus};
use crate::{decide_request, get_request_detail};

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(-1));
    let detail = Resource::new(move || id.get(), get_request_detail);
    view! {
        <section class="page">
            <p class="breadcrumb"><a href="/requests">"History"</a></p>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading request…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Ok(d)) => view! { <RequestView detail=d/> }.into_any(),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RequestView(detail: RequestDetail) -> impl IntoView {
    let current = RwSignal::new(detail);
    let comment = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<Refusal>);
    let decide = Action::new(move |approve: &bool| {
        let id = current.get_untracked().row.id;
        decide_request(id, *approve, comment.get_untracked())
    });
    Effect::new(move |_| match decide.value().get() {
        Some(Ok(Ok(d))) => {
            refusal.set(None);
            current.set(d);
        }
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    // While the request waits for approvers (or its change preview), look again every 2 s, so
    // whoever watches sees the approval and the rollout start without reloading.
    let waiting = Memo::new(move |_| {
        current.with(|d| {
            d.row.status == RequestStatus::Pending
                || d.preview.as_ref().is_some_and(|p| p.status == PreviewStatus::Computing)
        })
    });
    let refresh = Action::new(move |_: &()| get_request_detail(current.get_untracked().row.id));
    Effect::new(move |_| {
        if let Some(Ok(Ok(d))) = refresh.value().get() {
            if d != current.get_untracked() {
                current.set(d);
            }
        }
    });
    Effect::new(move |_| {
        if waiting.get() {
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    if waiting.get_untracked() && !refresh.pending().get_untracked() {
                        refresh.dispatch(());
                    }
                },
                std::time::Duration::from_secs(2),
            ) {
                on_cleanup(move || handle.clear());
            }
        }
    });
    view! {
        {move || {
            let d = current.get();
            let r = d.row.clone();
            view! {
                <h1>{format!("Request #{}: {} ({})", r.id, r.environment, r.tier)}</h1>
                <p class="status-line">
                    {status_badge(r.status.as_str())}
                    <span>{format!(" {} of {} approvals · {} a month · {} · requested by {} on {}",
                        r.approvals, r.required_approvals, usd(r.monthly_usd), r.region, r.requester, timestamp(r.created_at))}</span>
                </p>
                <p class="cost-change">
                    {match d.current_monthly_usd {
                        Some(now) => format!("This environment costs {} a month now; this request changes that by {}.",
                            usd(now), usd(r.monthly_usd - now)),
                        None => format!("A new environment: {} a month.", usd(r.monthly_usd)),
                    }}
                    {d.range.filter(|range| range.is_spread()).map(|range| format!(
                        " On-demand at typical usage; {} at low to high usage.", usd_range(range.low, range.high)))}
                </p>
                {(!d.commitments.is_empty()).then(|| view! {
                    <ul class="commitments" aria-label="Commitments">
                        {d.commitments.iter().map(|c| view! {
                            <li>{format!("With a {}: {} a month (saves {}), committing {} over {} months ({}).",
                                c.pricing.label().to_lowercase(), usd(c.monthly_usd), usd(c.saving_monthly_usd),
                                usd(c.committed_total_usd), c.term_months, c.covers)}</li>
                        }).collect_view()}
                    </ul>
                })}
                {d.commitment_note.clone().map(|n| view! { <p class="hint commitment-note">{n}</p> })}
                {(!d.after_teardown.is_empty()).then(|| view! {
                    <p class="hint after-teardown">{format!("After teardown: {} a month until deleted ({}).",
                        usd(d.after_teardown.iter().map(|a| a.monthly_usd).sum()),
                        d.after_teardown.iter().map(|a| a.description.clone()).collect::<Vec<_>>().join("; "))}</p>
                })}
                {match (d.kind, d.lifetime.clone(), d.lifetime_usd) {
                    (RequestKind::Deploy, Some(lifetime), Some(cost)) => Some(view! {
                        <p class="lifetime">{format!("It lives {lifetime} from its approval, then is torn down unless extended: {} for its lifetime.", usd(cost))}</p>
                    }.into_any()),
                    (RequestKind::Extend, Some(by), _) => Some(view! {
                        <p class="lifetime">{format!("An extension: the environment expires {by} later than it does now. Nothing is deployed.")}</p>
                    }.into_any()),
                    _ => None,
                }}
                {(d.kind == RequestKind::Teardown).then(|| view! {
                    <p class="warning">"A teardown: approving it deletes every stack of this environment, last phase first."</p>
                })}
                {d.adopt.then(|| view! {
                    <p class="warning">"An adoption: this deployment takes over the environment's stacks that no portal created, and tags them as this portal's. The changes below are what CloudFormation will do to them."</p>
                })}
                {d.catalog_changed.then(|| view! {
                    <p class="warning" role="alert">"The templates or prices changed since this request was made: an approval given now is void at rollout time."</p>
                })}
                <dl class="facts">
                    <dt>"Justification"</dt><dd>{d.justification.clone()}</dd>
                    <dt>"Deploy role"</dt><dd><code>{d.role_arn.clone()}</code></dd>
                    <dt>"Optional services"</dt><dd>{if d.options.is_empty() { "none".to_owned() } else { d.options.join(", ") }}</dd>
                    <dt>"Domain"</dt><dd>{d.posture.domain.clone().unwrap_or_else(|| "none (no certificate: plain HTTP where there is no CloudFront)".to_owned())}</dd>
                </dl>
                <SecurityPosture posture=d.posture.clone()/>
                <h2>"Timeline"</h2>
                <ol class="timeline">
                    {d.timeline.iter().map(|t| view! {
                        <li><time>{timestamp(t.at)}</time>" "<strong>{t.actor.clone()}</strong>" "{t.action.as_str()}
                            {(!t.detail.is_empty()).then(|| format!(": {}", t.detail))}</li>
                    }).collect_view()}
                </ol>
                {d.may_decide.then(|| view! {
                    <form class="decision" on:submit=|ev| ev.prevent_default()>
                        <h2>"Your decision"</h2>
                        <div class="field">
                            <label for="decision-comment">"Comment"</label>
                            <textarea id="decision-comment" rows="2" on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                        </div>
                        <p class="error" role="alert">{move || refusal.get().map(|r| r.message)}</p>
                        <div class="buttons">
                            <button type="button" class="button" disabled=move || decide.pending().get()
                                on:click=move |_| { decide.dispatch(true); }>"Approve"</button>
                            <button type="button" class="button danger" disabled=move || decide.pending().get()
                                on:click=move |_| { decide.dispatch(false); }>"Reject"</button>
                        </div>
                    </form>
                })}
                {d.preview.clone().map(|p| view! { <PreviewSection preview=p/> })}
                {d.rollout.map(|(rollout, _)| view! { <RolloutSection id=rollout heading=false/> })}
                <h2>"What was requested"</h2>
                <figure class="diagram">
                    <div class="diagram-canvas" inner_html=d.diagram_svg.clone()></div>
                </figure>
                <CostTable services=d.services.clone()/>
            }
        }}
    }
}
