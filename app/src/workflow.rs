//! Signing in, requesting a deployment, the approvals queue, history and a request's page.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::format::{timestamp, usd};
use crate::model::{HistoryQuery, Refusal, RequestDetail, RequestForm, RequestRow, TierQuery};
use crate::pages::CostTable;
use crate::{
    decide_request, get_request_detail, history, request_deployment, sandbox_mode, sign_in, sign_out, single_sign_on,
    whoami,
};

/// Sends the browser to `path` with a full load, so every part of the page sees the new session.
fn go(path: &str) {
    let _ = window().location().set_href(path);
}

#[component]
pub fn SiteNav() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    let sandbox = Resource::new(|| (), |_| sandbox_mode());
    let signing_out = Action::new(|_: &()| sign_out());
    Effect::new(move |_| {
        if signing_out.value().get().is_some() {
            go("/");
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(sandbox.await, Ok(true)).then(|| view! {
                    <span class="badge-sandbox" title="Deployments go to the local moto sandbox on this machine, not to AWS">
                        "Sandbox"
                    </span>
                })
            })}
        </Suspense>
        <nav class="site-nav" aria-label="Main">
            <a href="/">"Tiers"</a>
            <a href="/requests">"History"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => {
                            let approver = u.has("approver");
                            let admin = u.has("admin");
                            let mine = format!("/requests?requester={}", u.name);
                            view! {
                                <a href=mine>"My requests"</a>
                                {approver.then(|| view! { <a href="/approvals">"Approvals"</a> })}
                                {admin.then(|| view! { <a href="/admin">"Users"</a> })}
                                <a href="/settings">"Settings"</a>
                                <span class="who">{format!("Signed in as {}", u.name)}</span>
                                <button type="button" class="link-button" on:click=move |_| { signing_out.dispatch(()); }>
                                    "Sign out"
                                </button>
                            }
                                .into_any()
                        }
                        _ => view! { <a href="/signin">"Sign in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </nav>
    }
}

fn field_error(refusal: RwSignal<Option<Refusal>>, field: &'static str) -> impl IntoView {
    let id = format!("{field}-error");
    view! {
        <p class="field-error" id=id role="alert">
            {move || refusal.get().filter(|r| r.field.as_deref() == Some(field)).map(|r| r.message)}
        </p>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = Action::new(|(name, password): &(String, String)| sign_in(name.clone(), password.clone()));
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let provider = Resource::new(|| (), |_| single_sign_on());
    let message = move || match action.value().get() {
        Some(Ok(Err(refusal))) => Some(refusal.message),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = action.value().get() {
            go("/");
        }
    });
    view! {
        <section class="page narrow">
            <h1>"Sign in"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    provider.await.ok().flatten().map(|label| view! {
                        <p class="sso">
                            // A plain link: the provider's page is a full navigation, not a fetch.
                            <a class="button" href="/auth/oidc/start" rel="external">{format!("Sign in with {label}")}</a>
                        </p>
                        <p class="muted">"or with a portal account:"</p>
                    })
                })}
            </Suspense>
            <form on:submit=move |ev| {
                ev.prevent_default();
                action.dispatch((name.get_untracked(), password.get_untracked()));
            }>
                <div class="field">
                    <label for="signin-name">"User name"</label>
                    <input id="signin-name" name="name" autocomplete="username" required
                        on:input=move |ev| name.set(event_target_value(&ev)) prop:value=name/>
                </div>
                <div class="field">
                    <label for="signin-password">"Password"</label>
                    <input id="signin-password" name="password" type="password" autocomplete="current-password" required
                        on:input=move |ev| password.set(event_target_value(&ev)) prop:value=password/>
                </div>
                <p class="error" role="alert">{message}</p>
                <button type="submit" class="button" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}

/// The request form at the foot of a tier page, for signed-in requesters.
#[component]
pub fn RequestSection(query: Signal<TierQuery>) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <section class="request" aria-labelledby="request-heading">
            <h2 id="request-heading">"Request this tier"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) if u.has("requester") => view! { <RequestFormView query=query/> }.into_any(),
                        Ok(Some(u)) => view! {
                            <p>{format!("{} cannot request deployments: that needs the requester role.", u.name)}</p>
                        }.into_any(),
                        _ => view! { <p><a href="/signin">"Sign in"</a>" to request a deployment."</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RequestFormView(query: Signal<TierQuery>) -> impl IntoView {
    let environment = RwSignal::new(String::new());
    let region = RwSignal::new("us-east-1".to_owned());
    let role_arn = RwSignal::new(String::new());
    let justification = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<Refusal>);
    let action = Action::new(|form: &RequestForm| request_deployment(form.clone()));
    Effect::new(move |_| match action.value().get() {
        Some(Ok(Ok(id))) => go(&format!("/requests/{id}")),
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let described = |field: &'static str| format!("{field}-error");
    view! {
        <form class="request-form" on:submit=move |ev| {
            ev.prevent_default();
            refusal.set(None);
            action.dispatch(RequestForm {
                environment: environment.get_untracked(),
                region: region.get_untracked(),
                role_arn: role_arn.get_untracked(),
                justification: justification.get_untracked(),
                query: query.get_untracked(),
            });
        }>
            <p class="hint">"The request records the cost, options and assumptions shown above."</p>
            <div class="field">
                <label for="req-environment">"Environment name"</label>
                <input id="req-environment" name="environment" required placeholder="concert-prod"
                    aria-describedby=described("environment") on:input=move |ev| environment.set(event_target_value(&ev))/>
                {field_error(refusal, "environment")}
            </div>
            <div class="field">
                <label for="req-region">"Region"</label>
                <select id="req-region" name="region" aria-describedby=described("region")
                    on:change=move |ev| region.set(event_target_value(&ev))>
                    {["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"]
                        .into_iter()
                        .map(|r| view! { <option value=r selected=r == "us-east-1">{r}</option> })
                        .collect_view()}
                </select>
                {field_error(refusal, "region")}
            </div>
            <div class="field">
                <label for="req-role">"Deploy role ARN"</label>
                <input id="req-role" name="role_arn" required placeholder="arn:aws:iam::123456789012:role/portal-deploy"
                    aria-describedby=described("role_arn") on:input=move |ev| role_arn.set(event_target_value(&ev))/>
                {field_error(refusal, "role_arn")}
            </div>
            <div class="field">
                <label for="req-justification">"Justification"</label>
                <textarea id="req-justification" name="justification" required rows="3"
                    aria-describedby=described("justification") on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                {field_error(refusal, "justification")}
            </div>
            <p class="error" role="alert">
                {move || refusal.get().filter(|r| r.field.is_none() || r.field.as_deref().is_some_and(|f| f.starts_with("usage") || f == "options" || f == "tier")).map(|r| r.message)}
            </p>
            <button type="submit" class="button" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Requesting…" } else { "Request deployment" }}
            </button>
        </form>
    }
}

pub(crate) fn status_badge(status: &str) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.to_owned()}</span> }
}

fn rows_table(rows: Vec<RequestRow>, caption: &'static str) -> impl IntoView {
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
                                <td>{r.environment.clone()}</td>
                                <td>{r.tier.clone()}{(r.kind == "teardown").then(|| view! { " " <strong class="warning">"teardown"</strong> })}</td>
                                <td>{status_badge(&r.status)}</td>
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
                                {["", "pending", "approved", "rejected", "expired"].into_iter().map(|t| view! {
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
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
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
                        Ok(Err(r)) => view! { <p class="error" role="alert">{r.message}</p> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

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
                        Ok(Err(r)) => view! { <p class="error" role="alert">{r.message}</p> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
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
        current.with(|d| d.row.status == "pending" || d.preview.as_ref().is_some_and(|p| p.status == "computing"))
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
                    {status_badge(&r.status)}
                    <span>{format!(" {} of {} approvals · {} a month · {} · requested by {} on {}",
                        r.approvals, r.required_approvals, usd(r.monthly_usd), r.region, r.requester, timestamp(r.created_at))}</span>
                </p>
                <p class="cost-change">
                    {match d.current_monthly_usd {
                        Some(now) => format!("This environment costs {} a month now; this request changes that by {}.",
                            usd(now), usd(r.monthly_usd - now)),
                        None => format!("A new environment: {} a month.", usd(r.monthly_usd)),
                    }}
                </p>
                {(d.kind == "teardown").then(|| view! {
                    <p class="warning">"A teardown: approving it deletes every stack of this environment, last phase first."</p>
                })}
                {d.catalog_changed.then(|| view! {
                    <p class="warning" role="alert">"The templates or prices changed since this request was made: an approval given now is void at rollout time."</p>
                })}
                <dl class="facts">
                    <dt>"Justification"</dt><dd>{d.justification.clone()}</dd>
                    <dt>"Deploy role"</dt><dd><code>{d.role_arn.clone()}</code></dd>
                    <dt>"Optional services"</dt><dd>{if d.options.is_empty() { "none".to_owned() } else { d.options.join(", ") }}</dd>
                </dl>
                <h2>"Timeline"</h2>
                <ol class="timeline">
                    {d.timeline.iter().map(|t| view! {
                        <li><time>{timestamp(t.at)}</time>" "<strong>{t.actor.clone()}</strong>" "{t.action.clone()}
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
                {d.preview.clone().map(|p| view! { <crate::rollouts::PreviewSection preview=p/> })}
                {d.rollout.map(|(rollout, _)| view! { <crate::rollouts::RolloutSection id=rollout heading=false/> })}
                <h2>"What was requested"</h2>
                <figure class="diagram">
                    <div class="diagram-canvas" inner_html=d.diagram_svg.clone()></div>
                </figure>
                <CostTable services=d.services.clone()/>
            }
        }}
    }
}
