//! A rollout, loaded and then followed live: on its own page or inside its request's page.
//!
//! [`RolloutSection`] loads it; `RolloutLive` holds its state (the rollout and its events, fed by
//! the live subscription in [`live`]) and lays out the parts: the heading, the status and
//! progress, the controls (cancel, retry), the phase cards with their event lists, the teardown
//! form, and the architecture diagram coloured by each resource's status.

mod live;

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::components::feedback::error_view;
use crate::components::nav::go;
use crate::components::status::{phase_label, status_badge, ResourceLook};
use crate::format::{phase_start, timestamp};
use crate::model::{
    PhaseStatus, RequestKind, RolloutDetail, RolloutEventView, RolloutPhaseView, RolloutStatus, RolloutView,
};
use crate::{get_rollout, request_teardown, steer_rollout};

/// A rollout, loaded and then followed live; on its own page or inside its request's page.
#[component]
pub fn RolloutSection(id: i64, heading: bool) -> impl IntoView {
    let detail = Resource::new(move || id, get_rollout);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading rollout…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(Ok(d)) => view! { <RolloutLive detail=d heading=heading/> }.into_any(),
                    Ok(Err(r)) => error_view(r.message),
                    Err(e) => error_view(e.to_string()),
                }
            })}
        </Suspense>
    }
}

/// The loaded rollout, kept current by the live subscription (and by a steer's answer).
#[component]
fn RolloutLive(detail: RolloutDetail, heading: bool) -> impl IntoView {
    let id = detail.rollout.id;
    let rollout = RwSignal::new(detail.rollout);
    let events = RwSignal::new(detail.events);
    let may_request_teardown = detail.may_request_teardown;
    let role_arn = detail.role_arn;
    follow_live(id, rollout, events);
    view! {
        <section class="rollout" aria-labelledby=format!("rollout-{id}-heading")>
            <RolloutHeading id=id heading=heading rollout=rollout/>
            <RolloutProgress rollout=rollout/>
            <RolloutControls id=id may_steer=detail.may_steer rollout=rollout events=events/>
            <PhaseCards rollout=rollout events=events needs=detail.phase_needs/>
            {move || (may_request_teardown && rollout.with(|r| r.status == RolloutStatus::Succeeded)).then(|| {
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
            <RolloutDiagram diagram_svg=detail.diagram_svg rollout=rollout events=events/>
            <p class="muted">{move || rollout.with(|r| r.started_at.map(|t| format!("Started {}", timestamp(t))))}</p>
        </section>
    }
}

/// After hydration, follows the rollout live until it ends (and again after a retry), from the
/// last event already shown. The stream is closed when the section is cleaned up.
fn follow_live(id: i64, rollout: RwSignal<RolloutView>, events: RwSignal<Vec<RolloutEventView>>) {
    let feed = live::Feed::new();
    let attempt = Memo::new(move |_| rollout.with(|r| (r.attempt, r.ended())));
    Effect::new(move |_| {
        let (_, ended) = attempt.get();
        if !ended {
            let after = events.with_untracked(|e| e.last().map(|x| x.id).unwrap_or(0));
            feed.follow(id, after, rollout, events);
        }
    });
}

/// The rollout's title: the page's `h1`, or inside its request's page an `h2` linking to the
/// rollout's own page. Either labels the section.
#[component]
fn RolloutHeading(id: i64, heading: bool, #[prop(into)] rollout: Signal<RolloutView>) -> impl IntoView {
    move || {
        rollout.with(|r| {
            let title = format!(
                "Rollout #{}: {} of {} ({}, {})",
                r.id,
                if r.kind == RequestKind::Teardown { "teardown" } else { "deployment" },
                r.environment,
                r.tier,
                r.region
            );
            if heading {
                view! { <h1 id=format!("rollout-{id}-heading")>{title}</h1> }.into_any()
            } else {
                view! { <h2 id=format!("rollout-{id}-heading")><a href=format!("/rollouts/{id}")>{title}</a></h2> }
                    .into_any()
            }
        })
    }
}

/// The status badge with a one-line summary (the live region), the phases-done progress bar,
/// and the failure, if any.
#[component]
fn RolloutProgress(#[prop(into)] rollout: Signal<RolloutView>) -> impl IntoView {
    let done = move || rollout.with(|r| r.phases.iter().filter(|p| p.status == PhaseStatus::Done).count());
    view! {
        <p class="status-line">
            {move || rollout.with(|r| status_badge(r.status.as_str()))}
            <span role="status" aria-live="polite" class="rollout-summary">{move || rollout.with(summary)}</span>
        </p>
        <label class="progress-label">
            "Phases done "
            <progress max="6" value=move || done().to_string()>{move || format!("{} of 6", done())}</progress>
            <span>{move || format!(" {} of 6", done())}</span>
        </label>
        {move || rollout.with(|r| r.failure.clone()).map(|f| view! { <p class="error" role="alert">{f}</p> })}
    }
}

/// One line saying where the rollout is, for the live region.
fn summary(r: &RolloutView) -> String {
    let done = r.phases.iter().filter(|p| p.status == PhaseStatus::Done).count();
    let total = r.phases.len().max(6);
    match r.status {
        RolloutStatus::Queued => "Queued: waiting for the engine (one rollout at a time per environment).".to_owned(),
        RolloutStatus::WaitingForWindow => match r.window_opens_at {
            Some(at) => format!(
                "Waiting for the environment's change window: it starts by itself when the window opens, {}.",
                crate::format::timestamp(at)
            ),
            None => "Waiting for the environment's change window.".to_owned(),
        },
        RolloutStatus::Running => {
            let running: Vec<&RolloutPhaseView> =
                r.phases.iter().filter(|p| p.status == PhaseStatus::Running).collect();
            match running.as_slice() {
                [] => format!("Running: {done} of {total} phases done."),
                [p] => format!("Phase {} of {total} running: {} ({done} done).", p.number, p.name),
                [p, beside @ ..] => format!(
                    "Phase {} of {total} running: {}, beside phase {} ({done} done).",
                    p.number,
                    p.name,
                    beside.iter().map(|b| b.number.to_string()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        RolloutStatus::Succeeded => format!("Succeeded: all {total} phases done."),
        RolloutStatus::Failed => format!("Failed after {done} of {total} phases."),
        RolloutStatus::Cancelled => format!("Cancelled after {done} of {total} phases."),
    }
}

/// Cancel (while the rollout runs) and retry (after it failed or was cancelled), for whoever may
/// steer it; the answer replaces the rollout and its events, a refusal shows under the buttons.
#[component]
fn RolloutControls(
    id: i64,
    may_steer: bool,
    rollout: RwSignal<RolloutView>,
    events: RwSignal<Vec<RolloutEventView>>,
) -> impl IntoView {
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
    view! {
        {move || (may_steer && rollout.with(|r| !r.ended())).then(|| view! {
            <button type="button" class="button danger" disabled=move || steer.pending().get()
                on:click=move |_| { steer.dispatch(false); }>"Cancel rollout"</button>
        })}
        {move || (may_steer && rollout.with(|r| matches!(r.status, RolloutStatus::Failed | RolloutStatus::Cancelled))).then(|| view! {
            <button type="button" class="button" disabled=move || steer.pending().get()
                on:click=move |_| { steer.dispatch(true); }>"Retry from the failed phase"</button>
        })}
        <p class="error" role="alert">{move || refusal.get()}</p>
    }
}

/// One card per phase, in order.
#[component]
fn PhaseCards(
    #[prop(into)] rollout: Signal<RolloutView>,
    #[prop(into)] events: Signal<Vec<RolloutEventView>>,
    /// Per phase number, the phases it imports from (a deployment starts it once they are done).
    needs: Vec<(i64, Vec<u8>)>,
) -> impl IntoView {
    let needs = StoredValue::new(needs);
    view! {
        <ol class="phases">
            {move || {
                let deploy = rollout.with(|r| r.kind == RequestKind::Deploy);
                rollout
                    .with(|r| r.phases.clone())
                    .into_iter()
                    .map(|phase| {
                        let start = deploy
                            .then(|| needs.with_value(|n| n.iter().find(|(p, _)| *p == phase.number).map(|(_, n)| phase_start(n))))
                            .flatten();
                        view! { <PhaseCard phase=phase events=events start=start/> }
                    })
                    .collect_view()
            }}
        </ol>
    }
}

/// A phase's card, labelled with its number, name and status: its stack, action and resource
/// count, the reason it failed, its outputs, and its events.
#[component]
fn PhaseCard(phase: RolloutPhaseView, events: Signal<Vec<RolloutEventView>>, start: Option<String>) -> impl IntoView {
    let number = phase.number;
    view! {
        <li class=format!("phase phase-{}", phase.status) id=format!("phase-{number}")
            aria-label=format!("Phase {number}: {} — {}", phase.name, phase.status)>
            <div class="phase-head">
                <strong>{format!("{number}. {}", phase.name)}</strong>
                <span class="phase-status">{phase_label(phase.status)}</span>
            </div>
            <p class="muted">
                <code>{phase.stack_name.clone()}</code>
                {phase.action.map(|a| format!(" · {a}"))}
                {(phase.resource_count > 0).then(|| format!(" · {} resources", phase.resource_count))}
            </p>
            {start.map(|start| view! { <p class="muted needs">{start}</p> })}
            {phase.reason.clone().map(|reason| view! { <p class="error">{reason}</p> })}
            {(!phase.outputs.is_empty()).then(|| view! {
                <details>
                    <summary>{format!("Outputs ({})", phase.outputs.len())}</summary>
                    <dl class="outputs">
                        {phase.outputs.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd><code>{v.clone()}</code></dd> }).collect_view()}
                    </dl>
                </details>
            })}
            <PhaseEvents number=number events=events/>
        </li>
    }
}

/// A phase's stack events, folded: time, resource (and type), status, reason; each row classed
/// by its status.
#[component]
fn PhaseEvents(number: i64, events: Signal<Vec<RolloutEventView>>) -> impl IntoView {
    let phase_events = move || events.with(|all| all.iter().filter(|e| e.phase == number).cloned().collect::<Vec<_>>());
    view! {
        <details>
            <summary>{move || format!("Events ({})", phase_events().len())}</summary>
            <div class="table-scroll"><table class="events">
                <thead><tr><th scope="col">"Time"</th><th scope="col">"Resource"</th><th scope="col">"Status"</th><th scope="col">"Reason"</th></tr></thead>
                <tbody>
                    {move || phase_events().into_iter().map(|e| view! {
                        <tr class=format!("event-{}", ResourceLook::of(&e.status).class())>
                            <td>{e.at.clone()}</td>
                            <td>{e.logical_id.clone()}<br/><span class="muted">{e.resource_type.clone()}</span></td>
                            <td>{e.status.clone()}</td>
                            <td>{e.reason.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        </details>
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
            go(&format!("/requests/{id}"));
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
                <p>{format!("Deletes all six stacks of {environment} in {region} once approved, each after the stacks that import from it.")}</p>
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

/// The architecture diagram with each resource coloured by its status (a `<style>` that follows
/// the rollout and its events). The section around it holds the heading and the legend.
#[component]
fn RolloutDiagram(
    diagram_svg: String,
    #[prop(into)] rollout: Signal<RolloutView>,
    #[prop(into)] events: Signal<Vec<RolloutEventView>>,
) -> impl IntoView {
    view! {
        <style>{move || rollout.with(|r| events.with(|e| diagram_style(r, e)))}</style>
        <figure class="diagram rollout-diagram">
            <div class="diagram-canvas" inner_html=diagram_svg></div>
        </figure>
    }
}

/// CSS colouring the diagram: each phase's resources by the phase's state (a stack that completed
/// holds only complete resources), then each resource by its own latest event where there is one.
fn diagram_style(rollout: &RolloutView, events: &[RolloutEventView]) -> String {
    let mut css = String::new();
    for p in &rollout.phases {
        let look = match (p.status, rollout.kind) {
            (PhaseStatus::Done, RequestKind::Teardown) => ResourceLook::Deleted,
            (PhaseStatus::Done, RequestKind::Deploy) => ResourceLook::Complete,
            (PhaseStatus::Running, _) => ResourceLook::Progress,
            _ => continue,
        };
        if let Some((fill, stroke)) = look.colours() {
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
        if let Some((fill, stroke)) = ResourceLook::of(status).colours() {
            css.push_str(&format!(
                ".rollout-diagram g.resource[data-phase=\"{phase}\"][data-resource=\"{id}\"] rect {{ fill: {fill}; stroke: {stroke}; stroke-width: 2px; }}\n"
            ));
        }
    }
    css
}
