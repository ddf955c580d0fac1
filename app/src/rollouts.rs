//! Rollout pages: each phase's progress and events, the architecture diagram coloured by each
//! resource's status, live over server-sent events; and the settings page (which AWS account
//! deployments go to, how notifications fare).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::format::timestamp;
use crate::model::{PreviewView, RolloutDetail, RolloutEventView, RolloutView, SettingsView};
use crate::workflow::status_badge;
use crate::{get_rollout, get_settings, request_teardown, steer_rollout};

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

/// A rollout, loaded and then followed live; on its own page or inside its request's page.
#[component]
pub fn RolloutSection(id: i64, heading: bool) -> impl IntoView {
    let detail = Resource::new(move || id, get_rollout);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading rollout…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Ok(d)) => view! { <RolloutLive detail=d heading=heading/> }.into_any(),
                    Ok(Err(r)) => view! { <p class="error" role="alert">{r.message}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The status class of a stack event's resource status, for the diagram and the event list.
fn status_class(status: &str) -> &'static str {
    if status.starts_with("DELETE_COMPLETE") {
        "deleted"
    } else if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
        "failed"
    } else if status.ends_with("_IN_PROGRESS") {
        "progress"
    } else if status.ends_with("_COMPLETE") {
        "complete"
    } else {
        "pending"
    }
}

fn colours(class: &str) -> Option<(&'static str, &'static str)> {
    Some(match class {
        "complete" => ("#dcfce7", "#15803d"),
        "progress" => ("#fef9c3", "#a16207"),
        "failed" => ("#fee2e2", "#b91c1c"),
        "deleted" => ("#e5e7eb", "#6b7280"),
        _ => return None,
    })
}

/// CSS colouring the diagram: each phase's resources by the phase's state (a stack that completed
/// holds only complete resources), then each resource by its own latest event where there is one.
fn diagram_style(rollout: &RolloutView, events: &[RolloutEventView]) -> String {
    let mut css = String::new();
    for p in &rollout.phases {
        let class = match (p.status.as_str(), rollout.kind.as_str()) {
            ("done", "teardown") => "deleted",
            ("done", _) => "complete",
            ("running", _) => "progress",
            _ => continue,
        };
        if let Some((fill, stroke)) = colours(class) {
            css.push_str(&format!(
                ".rollout-diagram g.resource[data-phase=\"{}\"] rect {{ fill: {fill}; stroke: {stroke}; stroke-width: 2px; }}\n",
                p.number
            ));
        }
    }
    let mut latest: BTreeMap<(i64, &str), &str> = BTreeMap::new();
    for e in events.iter().filter(|e| e.resource_type != "AWS::CloudFormation::Stack") {
        latest.insert((e.phase, e.logical_id.as_str()), e.status.as_str());
    }
    for ((phase, id), status) in latest {
        // Logical ids are alphanumeric (CloudFormation's rule), so they go into a selector as they are.
        if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        if let Some((fill, stroke)) = colours(status_class(status)) {
            css.push_str(&format!(
                ".rollout-diagram g.resource[data-phase=\"{phase}\"][data-resource=\"{id}\"] rect {{ fill: {fill}; stroke: {stroke}; stroke-width: 2px; }}\n"
            ));
        }
    }
    css
}

fn phase_label(status: &str) -> &'static str {
    match status {
        "done" => "✓ done",
        "running" => "● running",
        "failed" => "✗ failed",
        "cancelled" => "⊘ cancelled",
        _ => "○ pending",
    }
}

/// One line saying where the rollout is, for the live region.
fn summary(r: &RolloutView) -> String {
    let done = r.phases.iter().filter(|p| p.status == "done").count();
    let total = r.phases.len().max(6);
    match r.status.as_str() {
        "queued" => "Queued: waiting for the engine (one rollout at a time per environment).".to_owned(),
        "running" => match r.phases.iter().find(|p| p.status == "running") {
            Some(p) => format!("Phase {} of {total} running: {} ({} done).", p.number, p.name, done),
            None => format!("Running: {done} of {total} phases done."),
        },
        "succeeded" => format!("Succeeded: all {total} phases done."),
        "failed" => format!("Failed after {done} of {total} phases."),
        _ => format!("Cancelled after {done} of {total} phases."),
    }
}

#[component]
fn RolloutLive(detail: RolloutDetail, heading: bool) -> impl IntoView {
    let id = detail.rollout.id;
    let rollout = RwSignal::new(detail.rollout);
    let events = RwSignal::new(detail.events);
    let may_steer = detail.may_steer;
    let may_request_teardown = detail.may_request_teardown;
    let role_arn = detail.role_arn;
    let diagram_svg = detail.diagram_svg;
    let attempt = Memo::new(move |_| rollout.with(|r| (r.attempt, r.ended())));
    // After hydration: follow the rollout live until it ends (again after a retry).
    Effect::new(move |_| {
        let (_, ended) = attempt.get();
        if !ended {
            let after = events.with_untracked(|e| e.last().map(|x| x.id).unwrap_or(0));
            live::follow(id, after, rollout, events);
        }
    });
    let steer = Action::new(move |retry: &bool| steer_rollout(id, *retry));
    let refusal = RwSignal::new(None::<String>);
    Effect::new(move |_| match steer.value().get() {
        Some(Ok(Ok(d))) => {
            refusal.set(None);
            events.set(d.events);
            rollout.set(d.rollout);
        }
        Some(Ok(Err(r))) => refusal.set(Some(r.message)),
        Some(Err(e)) => refusal.set(Some(e.to_string())),
        None => {}
    });
    let done = move || rollout.with(|r| r.phases.iter().filter(|p| p.status == "done").count());
    view! {
        <section class="rollout" aria-labelledby=format!("rollout-{id}-heading")>
            {move || rollout.with(|r| {
                let title = format!("Rollout #{}: {} of {} ({}, {})", r.id,
                    if r.kind == "teardown" { "teardown" } else { "deployment" }, r.environment, r.tier, r.region);
                if heading {
                    view! { <h1 id=format!("rollout-{id}-heading")>{title}</h1> }.into_any()
                } else {
                    view! { <h2 id=format!("rollout-{id}-heading")><a href=format!("/rollouts/{id}")>{title}</a></h2> }.into_any()
                }
            })}
            <p class="status-line">
                {move || rollout.with(|r| status_badge(&r.status))}
                <span role="status" aria-live="polite" class="rollout-summary">{move || rollout.with(summary)}</span>
            </p>
            <label class="progress-label">
                "Phases done "
                <progress max="6" value=move || done().to_string()>{move || format!("{} of 6", done())}</progress>
                <span>{move || format!(" {} of 6", done())}</span>
            </label>
            {move || rollout.with(|r| r.failure.clone()).map(|f| view! { <p class="error" role="alert">{f}</p> })}
            {move || (may_steer && rollout.with(|r| !r.ended())).then(|| view! {
                <button type="button" class="button danger" disabled=move || steer.pending().get()
                    on:click=move |_| { steer.dispatch(false); }>"Cancel rollout"</button>
            })}
            {move || (may_steer && rollout.with(|r| r.status == "failed" || r.status == "cancelled")).then(|| view! {
                <button type="button" class="button" disabled=move || steer.pending().get()
                    on:click=move |_| { steer.dispatch(true); }>"Retry from the failed phase"</button>
            })}
            <p class="error" role="alert">{move || refusal.get()}</p>
            <ol class="phases">
                {move || rollout.with(|r| r.phases.clone()).into_iter().map(|p| {
                    let number = p.number;
                    let phase_events = move || events.with(|all| all.iter().filter(|e| e.phase == number).cloned().collect::<Vec<_>>());
                    view! {
                        <li class=format!("phase phase-{}", p.status) id=format!("phase-{number}")
                            aria-label=format!("Phase {number}: {} — {}", p.name, p.status)>
                            <div class="phase-head">
                                <strong>{format!("{number}. {}", p.name)}</strong>
                                <span class="phase-status">{phase_label(&p.status)}</span>
                            </div>
                            <p class="muted">
                                <code>{p.stack_name.clone()}</code>
                                {p.action.clone().map(|a| format!(" · {a}"))}
                                {(p.resource_count > 0).then(|| format!(" · {} resources", p.resource_count))}
                            </p>
                            {p.reason.clone().map(|reason| view! { <p class="error">{reason}</p> })}
                            {(!p.outputs.is_empty()).then(|| view! {
                                <details>
                                    <summary>{format!("Outputs ({})", p.outputs.len())}</summary>
                                    <dl class="outputs">
                                        {p.outputs.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd><code>{v.clone()}</code></dd> }).collect_view()}
                                    </dl>
                                </details>
                            })}
                            <details>
                                <summary>{move || format!("Events ({})", phase_events().len())}</summary>
                                <div class="table-scroll"><table class="events">
                                    <thead><tr><th scope="col">"Time"</th><th scope="col">"Resource"</th><th scope="col">"Status"</th><th scope="col">"Reason"</th></tr></thead>
                                    <tbody>
                                        {move || phase_events().into_iter().map(|e| view! {
                                            <tr class=format!("event-{}", status_class(&e.status))>
                                                <td>{e.at.clone()}</td>
                                                <td>{e.logical_id.clone()}<br/><span class="muted">{e.resource_type.clone()}</span></td>
                                                <td>{e.status.clone()}</td>
                                                <td>{e.reason.clone()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || (may_request_teardown && rollout.with(|r| r.status == "succeeded")).then(|| {
                let r = rollout.get_untracked();
                view! { <TeardownForm environment=r.environment region=r.region role_arn=role_arn.clone()/> }
            })}
            <h2>"Architecture, by resource status"</h2>
            <p class="legend" aria-hidden="true">
                <span class="swatch complete"></span>"complete "
                <span class="swatch progress"></span>"in progress "
                <span class="swatch failed"></span>"failed "
                <span class="swatch deleted"></span>"deleted "
                <span class="swatch pending"></span>"not yet"
            </p>
            <style>{move || rollout.with(|r| events.with(|e| diagram_style(r, e)))}</style>
            <figure class="diagram rollout-diagram">
                <div class="diagram-canvas" inner_html=diagram_svg></div>
            </figure>
            <p class="muted">{move || rollout.with(|r| r.started_at.map(|t| format!("Started {}", timestamp(t))))}</p>
        </section>
    }
}

/// Asks for this environment's teardown: a request of its own, approved like a deployment.
#[component]
fn TeardownForm(environment: String, region: String, role_arn: String) -> impl IntoView {
    let justification = RwSignal::new(String::new());
    let (env, reg, role) = (environment.clone(), region.clone(), role_arn.clone());
    let action = Action::new(move |why: &String| request_teardown(env.clone(), reg.clone(), role.clone(), why.clone()));
    Effect::new(move |_| {
        if let Some(Ok(Ok(id))) = action.value().get() {
            let _ = window().location().set_href(&format!("/requests/{id}"));
        }
    });
    let error = move || match action.value().get() {
        Some(Ok(Err(r))) => Some(r.message),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <details class="teardown">
            <summary>{format!("Tear down {environment}")}</summary>
            <form on:submit=move |ev| { ev.prevent_default(); action.dispatch(justification.get_untracked()); }>
                <p>{format!("Deletes all six stacks of {environment} in {region}, last phase first, once approved.")}</p>
                <div class="field">
                    <label for="teardown-justification">"Why tear it down"</label>
                    <textarea id="teardown-justification" rows="2" required
                        on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                </div>
                <p class="error" role="alert">{error}</p>
                <button type="submit" class="button danger" disabled=move || action.pending().get()>"Request teardown"</button>
            </form>
        </details>
    }
}

/// The change preview of an update request, phase by phase.
#[component]
pub fn PreviewSection(preview: PreviewView) -> impl IntoView {
    view! {
        <section class="preview" aria-labelledby="preview-heading">
            <h2 id="preview-heading">"What CloudFormation will change"</h2>
            {match preview.status.as_str() {
                "computing" => view! { <p class="loading" role="status">"Computing the change sets…"</p> }.into_any(),
                "failed" => view! { <p class="error" role="alert">{format!("The changes could not be computed: {}", preview.error.clone().unwrap_or_default())}</p> }.into_any(),
                _ => view! {
                    <div class="table-scroll"><table class="changes">
                        <thead><tr><th scope="col">"Phase"</th><th scope="col">"Action"</th><th scope="col">"Resource"</th><th scope="col">"Type"</th><th scope="col">"Replacement"</th></tr></thead>
                        <tbody>
                            {preview.phases.iter().flat_map(|p| {
                                let stack = p.stack_name.clone();
                                let rows: Vec<_> = if p.changes.is_empty() {
                                    vec![view! { <tr><td>{stack.clone()}</td><td colspan="4">"no change"</td></tr> }.into_any()]
                                } else {
                                    p.changes.iter().map(|c| {
                                        let replaced = c.replacement == "True";
                                        view! {
                                            <tr class=format!("change-{}", c.action.to_lowercase())>
                                                <td>{stack.clone()}</td>
                                                <td>{c.action.clone()}</td>
                                                <td>{c.logical_id.clone()}</td>
                                                <td>{c.resource_type.clone()}</td>
                                                <td>{if replaced { view! { <strong class="warning">"replaced"</strong> }.into_any() } else { c.replacement.clone().into_any() }}</td>
                                            </tr>
                                        }.into_any()
                                    }).collect()
                                };
                                rows
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_settings());
    view! {
        <section class="page">
            <h1>"Settings"</h1>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Reading the AWS identity…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(Ok(s)) => view! { <SettingsView settings=s/> }.into_any(),
                        Ok(Err(r)) => view! { <p class="error" role="alert">{r.message}</p> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SettingsView(settings: SettingsView) -> impl IntoView {
    view! {
        <h2>"Where deployments go"</h2>
        {match settings.identity {
            Ok(identity) => view! {
                <dl class="facts">
                    <dt>"AWS account"</dt><dd><code>{identity.account}</code></dd>
                    <dt>"Portal identity"</dt><dd><code>{identity.arn}</code></dd>
                    <dt>"Default region"</dt><dd>{identity.region.unwrap_or_else(|| "not set".into())}</dd>
                    <dt>"Mode"</dt><dd>{if settings.sandbox { "sandbox (local moto server, not AWS)" } else { "AWS" }}</dd>
                </dl>
                <p class="muted">"Each environment is deployed by assuming its own deploy role from this identity."</p>
            }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{format!("The AWS identity could not be read: {e}")}</p> }.into_any(),
        }}
        <h2>"Sign-in"</h2>
        <p>{match settings.single_sign_on {
            Some(label) => format!("Portal accounts and single sign-on ({label})."),
            None => "Portal accounts only (no single sign-on configured).".to_owned(),
        }}</p>
        <h2>"Notifications"</h2>
        <p>{if settings.webhook { "A webhook receives approval requests and rollout results." } else { "No webhook is configured (PORTAL_WEBHOOK_URL)." }}</p>
        {settings.deliveries.map(|deliveries| view! {
            <div class="table-scroll"><table class="deliveries">
                <caption>"Recent webhook deliveries"</caption>
                <thead><tr><th scope="col">"Queued"</th><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th></tr></thead>
                <tbody>
                    {deliveries.into_iter().map(|d| view! {
                        <tr class=format!("delivery-{}", d.status)>
                            <td>{timestamp(d.created_at)}</td>
                            <td>{format!("{} ({})", d.event, d.subject)}</td>
                            <td>{d.status.clone()}</td>
                            <td>{d.attempts}</td>
                            <td>{d.last_error.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        })}
    }
}

#[cfg(feature = "hydrate")]
mod live {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    use crate::model::{RolloutEventView, RolloutView};

    /// Subscribes to the rollout's event stream; the stream (and so this) ends with the rollout.
    pub fn follow(id: i64, after: i64, rollout: RwSignal<RolloutView>, events: RwSignal<Vec<RolloutEventView>>) {
        let Ok(source) = web_sys::EventSource::new(&format!("/api/rollouts/{id}/events?after={after}")) else {
            return;
        };
        let on_state = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(view) = e.data().as_string().and_then(|t| serde_json::from_str::<RolloutView>(&t).ok()) {
                rollout.set(view);
            }
        });
        let on_resource = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(event) = e.data().as_string().and_then(|t| serde_json::from_str::<RolloutEventView>(&t).ok()) {
                events.update(|all| {
                    if all.last().is_none_or(|last| last.id < event.id) {
                        all.push(event);
                    }
                });
            }
        });
        let closing = source.clone();
        // Without this the browser would reconnect to a stream that has ended.
        let on_end = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| closing.close());
        let _ = source.add_event_listener_with_callback("state", on_state.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("resource", on_resource.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
        // They live as long as the page: the source holds them.
        on_state.forget();
        on_resource.forget();
        on_end.forget();
    }
}

#[cfg(not(feature = "hydrate"))]
mod live {
    use leptos::prelude::*;

    use crate::model::{RolloutEventView, RolloutView};

    /// On the server there is nothing to follow: effects do not run there.
    pub fn follow(_id: i64, _after: i64, _rollout: RwSignal<RolloutView>, _events: RwSignal<Vec<RolloutEventView>>) {}
}
