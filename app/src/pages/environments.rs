//! The environments: every registered one with where it stands (`/environments`), and one
//! environment's page (`/environments/:name`): what runs there and since when, its diagram
//! marked by its latest drift check, its stacks, its schedule and what that saves, its expiry,
//! its history, and what may be asked there (a drift check, a repair, an extension, an upgrade,
//! a window override).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::feedback::error_view;
use crate::components::nav::go;
use crate::components::requests_table::rows_table;
use crate::components::status::status_badge;
use crate::format::{timestamp, usd};
use crate::model::{
    ActionOutcome, DriftCheckStatus, DriftReport, EnvironmentAction, EnvironmentDetail, EnvironmentRow, Refusal,
    ResourceDrift, SleepView,
};
use crate::{act_on_environment, get_environment_detail, list_environment_statuses};

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| list_environment_statuses());
    view! {
        <section class="page">
            <h1>"Environments"</h1>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading environments…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(Ok(p)) if p.rows.is_empty() => view! {
                            <p>"No environment is registered yet: an admin registers them on the admin page."</p>
                        }.into_any(),
                        Ok(Ok(p)) => view! {
                            <p class="hint">{format!("The portal serves catalog {}. ", p.catalog_version)}
                                "An environment on an older one can be upgraded from its page."</p>
                            {environments_table(p.rows)}
                        }.into_any(),
                        Ok(Err(r)) => view! { <p class="error" role="alert">{r.message}" "<a href="/signin">"Sign in"</a></p> }.into_any(),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn environments_table(rows: Vec<EnvironmentRow>) -> impl IntoView {
    view! {
        <table class="environments stacked">
            <caption>"Registered environments"</caption>
            <thead>
                <tr>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Runs"</th>
                    <th scope="col">"Since"</th>
                    <th scope="col">"Last rollout"</th>
                    <th scope="col" class="num">"Monthly"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Next"</th>
                    <th scope="col">"Drift"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let name = r.name.clone();
                    view! {
                        <tr>
                            <th scope="row" data-label="Environment"><a href=format!("/environments/{name}")>{name.clone()}</a>
                                <span class="muted">{format!(" {} / {}", r.account_id, r.region)}</span></th>
                            <td data-label="Status">{status_badge(r.status.as_str())}</td>
                            <td data-label="Runs">{runs(&r)}</td>
                            <td data-label="Since">{r.running_since.map(timestamp).unwrap_or_else(|| "—".into())}</td>
                            <td data-label="Last rollout">{r.last_rollout.as_ref().map(|l| view! {
                                <a href=format!("/rollouts/{}", l.id)>{format!("{} #{}", l.kind.label(), l.id)}</a>" "{status_badge(l.status.as_str())}
                            })}</td>
                            <td data-label="Monthly" class="num">{r.monthly_usd.map(usd).unwrap_or_else(|| "—".into())}</td>
                            <td data-label="Expires">{r.expires_at.map(timestamp).unwrap_or_else(|| "never".into())}</td>
                            <td data-label="Next">{r.next_action.as_ref().map(|n| format!("{}: {}", timestamp(n.at), n.what))}</td>
                            <td data-label="Drift">{drift_cell(&r)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Tier and catalog version, with the older-version note.
fn runs(r: &EnvironmentRow) -> impl IntoView {
    let tier = r.tier_name.clone().unwrap_or_else(|| "nothing".into());
    let version = r.catalog_version.clone().map(|v| format!(" · {v}")).unwrap_or_default();
    view! {
        {tier}{version}
        {r.older_version.then(|| view! { " " <strong class="warning">"older version"</strong> })}
    }
}

fn drift_cell(r: &EnvironmentRow) -> impl IntoView {
    r.drift.as_ref().map(|d| {
        let said = match d.status {
            DriftCheckStatus::Drifted => format!("{} drifted", d.drifted),
            DriftCheckStatus::InSync => "in sync".to_owned(),
            DriftCheckStatus::NotChecked => "nothing checked".to_owned(),
            DriftCheckStatus::Running => "checking…".to_owned(),
            DriftCheckStatus::Failed => "check failed".to_owned(),
        };
        view! { <span class=format!("drift drift-{}", d.status.as_str())>{said}</span>" "<span class="muted">{timestamp(d.started_at)}</span> }
    })
}

#[component]
pub fn EnvironmentPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let detail = Resource::new(move || name.get(), get_environment_detail);
    view! {
        <section class="page">
            <p class="breadcrumb"><a href="/environments">"Environments"</a></p>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading environment…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Ok(d)) => view! { <EnvironmentView detail=d/> }.into_any(),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn EnvironmentView(detail: EnvironmentDetail) -> impl IntoView {
    let current = RwSignal::new(detail);
    let name = current.with_untracked(|d| d.row.name.clone());
    // A drift check runs in the background: look again every 2 s while it does.
    let refresh = Action::new(move |n: &String| get_environment_detail(n.clone()));
    Effect::new(move |_| {
        if let Some(Ok(Ok(d))) = refresh.value().get() {
            current.set(d);
        }
    });
    let checking = Memo::new(move |_| {
        current.with(|d| d.row.drift.as_ref().is_some_and(|x| x.status == DriftCheckStatus::Running))
    });
    let again = name.clone();
    Effect::new(move |_| {
        if checking.get() {
            let n = again.clone();
            set_timeout(
                move || {
                    refresh.dispatch(n);
                },
                std::time::Duration::from_secs(2),
            );
        }
    });
    let d = current.get_untracked();
    let row = d.row.clone();
    view! {
        <h1>{row.name.clone()}" "{status_badge(row.status.as_str())}</h1>
        <dl class="facts">
            <dt>"Account / region"</dt><dd>{format!("{} / {}", row.account_id, row.region)}</dd>
            <dt>"Runs"</dt><dd>{runs(&row)}{row.tier.clone().map(|t| view! { " · " <a href=format!("/tiers/{t}")>"tier page"</a> })}</dd>
            <dt>"Running since"</dt><dd>{row.running_since.map(timestamp).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Estimated monthly"</dt><dd>{row.monthly_usd.map(usd).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Expires"</dt><dd>{row.expires_at.map(timestamp).unwrap_or_else(|| "never".into())}</dd>
            <dt>"Schedule"</dt><dd>{row.schedule.clone().unwrap_or_else(|| "always on".into())}</dd>
            <dt>"Change windows"</dt><dd>{row.windows.clone().unwrap_or_else(|| "any time".into())}</dd>
            <dt>"Next"</dt><dd>{row.next_action.as_ref().map(|n| format!("{}: {}", timestamp(n.at), n.what)).unwrap_or_else(|| "nothing scheduled".into())}</dd>
            <dt>"Last rollout"</dt><dd>{row.last_rollout.as_ref().map(|l| view! {
                <a href=format!("/rollouts/{}", l.id)>{format!("{} #{}", l.kind.label(), l.id)}</a>" "{status_badge(l.status.as_str())}
            })}</dd>
        </dl>
        {d.waiting.map(|(rollout, opens)| view! { <WaitingRollout name=name.clone() rollout opens may_override=d.may_override/> })}
        {d.upgrade_to.clone().map(|(version, changes)| view! {
            <section class="upgrade" aria-labelledby="upgrade-heading">
                <h2 id="upgrade-heading">{format!("Catalog {version} is newer")}</h2>
                <ul>{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
            </section>
        })}
        <Actions name=name.clone() detail=d.clone() refresh/>
        {(!d.diagram_svg.is_empty()).then(|| view! {
            <section class="diagram-section" aria-labelledby="diagram-heading">
                <h2 id="diagram-heading">"What runs"</h2>
                <p class="legend">
                    <span class="swatch drift-in_sync"></span>"in sync "
                    <span class="swatch drift-modified"></span>"changed outside the portal "
                    <span class="swatch drift-deleted"></span>"deleted outside the portal "
                    <span class="swatch drift-not_checked"></span>"not checked"
                </p>
                <figure class="diagram environment-diagram">
                    <div class="diagram-canvas" inner_html=d.diagram_svg.clone()></div>
                </figure>
            </section>
        })}
        {move || current.with(|d| d.drift.clone()).map(drift_section)}
        {d.sleep.clone().map(sleep_section)}
        {(!d.stacks.is_empty()).then(|| view! {
            <section aria-labelledby="stacks-heading">
                <h2 id="stacks-heading">"Stacks"</h2>
                <table class="stacks stacked">
                    <caption>"The stacks of its running deployment"</caption>
                    <thead><tr><th scope="col">"Phase"</th><th scope="col">"Stack"</th><th scope="col">"Status"</th><th scope="col" class="num">"Resources"</th><th scope="col">"Outputs"</th></tr></thead>
                    <tbody>{d.stacks.iter().map(|s| view! {
                        <tr>
                            <td data-label="Phase">{format!("{} {}", s.phase, s.name)}</td>
                            <td data-label="Stack">{s.stack_name.clone()}</td>
                            <td data-label="Status">{s.status.clone()}</td>
                            <td data-label="Resources" class="num">{s.resource_count}</td>
                            <td data-label="Outputs"><ul class="stack-outputs">{s.outputs.iter().map(|(k, v)| view! { <li><code>{k.clone()}</code>" "{v.clone()}</li> }).collect_view()}</ul></td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </section>
        })}
        <section aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            {rows_table(d.history.clone(), "Its requests and their rollouts, newest first")}
        </section>
    }
}

fn drift_section(report: DriftReport) -> impl IntoView {
    let s = &report.summary;
    let said = match s.status {
        DriftCheckStatus::Running => "Checking for drift…".to_owned(),
        DriftCheckStatus::InSync => "In sync: every checked resource matches its template.".to_owned(),
        DriftCheckStatus::Drifted => format!("{} resource(s) changed or deleted outside the portal.", s.drifted),
        DriftCheckStatus::NotChecked => "CloudFormation checks none of these resource types.".to_owned(),
        DriftCheckStatus::Failed => format!("The check failed: {}", s.error.clone().unwrap_or_default()),
    };
    let mut shown: Vec<_> = report.resources.into_iter().collect();
    // Drift first, then the rest.
    shown.sort_by_key(|r| (!matches!(r.status, ResourceDrift::Modified | ResourceDrift::Deleted), r.phase));
    view! {
        <section class="drift" aria-labelledby="drift-heading">
            <h2 id="drift-heading">"Drift"</h2>
            <p role="status">{said}" "<span class="muted">{format!("Check {} by {}, {}; {} not checked (CloudFormation does not check their type).", s.check_id, s.requested_by, timestamp(s.started_at), s.not_checked)}</span></p>
            <table class="drift-resources stacked">
                <caption>"Every resource of the latest check"</caption>
                <thead><tr><th scope="col">"Resource"</th><th scope="col">"Type"</th><th scope="col">"Drift"</th><th scope="col">"Differences"</th></tr></thead>
                <tbody>{shown.into_iter().map(|r| view! {
                    <tr class=format!("drift-{}", r.status.as_str())>
                        <td data-label="Resource">{format!("{} (phase {})", r.logical_id, r.phase)}</td>
                        <td data-label="Type">{r.resource_type.clone()}</td>
                        <td data-label="Drift">{r.status.as_str().replace('_', " ")}</td>
                        <td data-label="Differences"><ul class="differences">{r.differences.iter().map(|d| view! {
                            <li><code>{d.path.clone()}</code>": template "<code>{d.expected.clone()}</code>", actual "<code>{d.actual.clone()}</code></li>
                        }).collect_view()}</ul></td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </section>
    }
}

fn sleep_section(sleep: SleepView) -> impl IntoView {
    view! {
        <section class="sleep" aria-labelledby="sleep-heading">
            <h2 id="sleep-heading">"Sleep schedule"</h2>
            <p>{format!(
                "Awake {} ({:.0} % of the week): {} a month instead of {}, saving {} (on-demand prices: reserved capacity bills whether it runs or not).",
                sleep.schedule, sleep.awake_share * 100.0, usd(sleep.monthly_usd), usd(sleep.awake_monthly_usd), usd(sleep.saving_usd)
            )}</p>
            <p>{if sleep.database_stops { "The database is stopped while it sleeps (AWS starts it again by itself after seven days at most)." } else { "The database keeps running: RDS does not stop an instance with a read replica." }}</p>
            <table class="sleep-lines stacked">
                <caption>"What stops while it sleeps"</caption>
                <thead><tr><th scope="col">"Resource"</th><th scope="col">"Line"</th><th scope="col" class="num">"Monthly awake"</th><th scope="col" class="num">"Saved"</th></tr></thead>
                <tbody>{sleep.stopping.iter().map(|l| view! {
                    <tr><td data-label="Resource">{l.resource.clone()}</td><td data-label="Line">{l.description.clone()}</td>
                        <td data-label="Monthly awake" class="num">{usd(l.awake_usd)}</td><td data-label="Saved" class="num">{usd(l.saving_usd)}</td></tr>
                }).collect_view()}</tbody>
            </table>
            <table class="sleep-lines stacked">
                <caption>"What keeps running (and billing)"</caption>
                <thead><tr><th scope="col">"Resource"</th><th scope="col">"Line"</th><th scope="col" class="num">"Monthly"</th></tr></thead>
                <tbody>{sleep.running.iter().map(|l| view! {
                    <tr><td data-label="Resource">{l.resource.clone()}</td><td data-label="Line">{l.description.clone()}</td>
                        <td data-label="Monthly" class="num">{usd(l.awake_usd)}</td></tr>
                }).collect_view()}</tbody>
            </table>
        </section>
    }
}

/// A rollout waiting for its window: when it opens, and the admin's override with a reason.
#[component]
fn WaitingRollout(name: String, rollout: i64, opens: Option<i64>, may_override: bool) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<Refusal>);
    let start = Action::new(move |r: &String| {
        act_on_environment(name.clone(), EnvironmentAction::Override { rollout, reason: r.clone() })
    });
    Effect::new(move |_| match start.value().get() {
        Some(Ok(Ok(_))) => go(&format!("/rollouts/{rollout}")),
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    view! {
        <section class="waiting" aria-labelledby="waiting-heading">
            <h2 id="waiting-heading">"Waiting for its change window"</h2>
            <p><a href=format!("/rollouts/{rollout}")>{format!("Rollout #{rollout}")}</a>{match opens {
                Some(at) => format!(" starts by itself when the window opens, {}.", timestamp(at)),
                None => " starts when the window opens.".to_owned(),
            }}</p>
            {may_override.then(|| view! {
                <form class="override" on:submit=move |ev| { ev.prevent_default(); start.dispatch(reason.get_untracked()); }>
                    <div class="field">
                        <label for="override-reason">"Why start it now (an emergency)"</label>
                        <textarea id="override-reason" rows="2" required aria-describedby="reason-error"
                            on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        <p class="field-error" id="reason-error" role="alert">{move || refusal.get().map(|r| r.message)}</p>
                    </div>
                    <button type="submit" class="button danger" disabled=move || start.pending().get()>"Start now, outside the window"</button>
                </form>
            })}
        </section>
    }
}

/// What may be asked on this environment: each a small form.
#[component]
fn Actions(
    name: String,
    detail: EnvironmentDetail,
    refresh: Action<String, Result<Result<EnvironmentDetail, Refusal>, ServerFnError>>,
) -> impl IntoView {
    let may = detail.may.clone();
    if !(may.check_drift || may.repair || may.extend || may.upgrade) {
        return ().into_any();
    }
    let refusal = RwSignal::new(None::<Refusal>);
    let asked = {
        let name = name.clone();
        Action::new(move |action: &EnvironmentAction| act_on_environment(name.clone(), action.clone()))
    };
    let again = name.clone();
    Effect::new(move |_| match asked.value().get() {
        Some(Ok(Ok(ActionOutcome::Request(id)))) => go(&format!("/requests/{id}")),
        Some(Ok(Ok(ActionOutcome::Rollout(id)))) => go(&format!("/rollouts/{id}")),
        Some(Ok(Ok(ActionOutcome::DriftCheck(_)))) => {
            refusal.set(None);
            refresh.dispatch(again.clone());
        }
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let justification = RwSignal::new(String::new());
    let extend_by = RwSignal::new("7d".to_owned());
    let drifted = detail.drift.as_ref().is_some_and(|d| d.summary.status == DriftCheckStatus::Drifted);
    view! {
        <section class="actions" aria-labelledby="actions-heading">
            <h2 id="actions-heading">"Ask"</h2>
            {may.check_drift.then(|| view! {
                <button type="button" class="button secondary" disabled=move || asked.pending().get()
                    on:click=move |_| { asked.dispatch(EnvironmentAction::CheckDrift); }>"Check for drift now"</button>
            })}
            {(may.repair || may.extend || may.upgrade).then(|| view! {
                <div class="field">
                    <label for="action-justification">"Why (for the approvers)"</label>
                    <textarea id="action-justification" rows="2" aria-describedby="justification-error"
                        on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
                </div>
            })}
            {(may.repair && drifted).then(|| view! {
                <button type="button" class="button" disabled=move || asked.pending().get()
                    on:click=move |_| { asked.dispatch(EnvironmentAction::Repair { justification: justification.get_untracked() }); }>
                    "Request a repair (revert the drift)"</button>
            })}
            {may.upgrade.then(|| view! {
                <button type="button" class="button" disabled=move || asked.pending().get()
                    on:click=move |_| { asked.dispatch(EnvironmentAction::Upgrade { justification: justification.get_untracked() }); }>
                    "Request the upgrade"</button>
            })}
            {may.extend.then(|| view! {
                <div class="field inline">
                    <label for="extend-by">"Extend by"</label>
                    <input id="extend-by" type="text" value="7d" aria-describedby="extend_by-error"
                        on:input=move |ev| extend_by.set(event_target_value(&ev))/>
                    <button type="button" class="button" disabled=move || asked.pending().get()
                        on:click=move |_| { asked.dispatch(EnvironmentAction::Extend { extend_by: extend_by.get_untracked(), justification: justification.get_untracked() }); }>
                        "Request the extension"</button>
                </div>
            })}
            <p class="field-error" id="justification-error" role="alert">{move || refusal.get().filter(|r| r.field.as_deref() == Some("justification")).map(|r| r.message)}</p>
            <p class="field-error" id="extend_by-error" role="alert">{move || refusal.get().filter(|r| r.field.as_deref() == Some("extend_by")).map(|r| r.message)}</p>
            <p class="error" role="alert">{move || refusal.get().filter(|r| !matches!(r.field.as_deref(), Some("justification" | "extend_by"))).map(|r| r.message)}</p>
        </section>
    }
    .into_any()
}
