//! The environments: every registered one with where it stands (`/environments`), and one
//! environment's page (`/environments/:name`): what runs there and since when, its diagram
//! marked by its latest drift check, its stacks, its schedule and what that saves, its expiry,
//! its history, its estimate against its bill, and what may be asked there (a drift check, a
//! repair, an extension, an upgrade, a window override, a read of the bill).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::bill::BillSection;
use crate::components::feedback::error_view;
use crate::components::nav::go;
use crate::components::policy_form::PolicyForm;
use crate::components::requests_table::rows_table;
use crate::components::status::{environment_badge, status_badge};
use crate::format::{timestamp, usd};
use crate::model::{
    ActionOutcome, DriftCheckStatus, DriftReport, EnvironmentAction, EnvironmentDetail, EnvironmentRow, Refusal,
    ResourceDrift, RolloutStatus, SleepView,
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
        <table class="environments stacked" role="table">
            <caption>"Registered environments"</caption>
            <thead role="rowgroup">
                <tr role="row">
                    <th role="columnheader" scope="col">"Environment"</th>
                    <th role="columnheader" scope="col">"Status"</th>
                    <th role="columnheader" scope="col">"Runs"</th>
                    <th role="columnheader" scope="col">"Since"</th>
                    <th role="columnheader" scope="col">"Last rollout"</th>
                    <th role="columnheader" scope="col" class="num">"Monthly"</th>
                    <th role="columnheader" scope="col">"Expires"</th>
                    <th role="columnheader" scope="col">"Next"</th>
                    <th role="columnheader" scope="col">"Drift"</th>
                </tr>
            </thead>
            <tbody role="rowgroup">
                {rows.into_iter().map(|r| {
                    let name = r.name.clone();
                    view! {
                        <tr role="row">
                            <th role="rowheader" scope="row" data-label="Environment"><a href=format!("/environments/{name}")>{name.clone()}</a>
                                <span class="where">{format!("{} / {}", r.account_id, r.region)}</span></th>
                            <td role="cell" data-label="Status">{environment_badge(r.status)}</td>
                            <td role="cell" data-label="Runs">{runs(&r)}</td>
                            <td role="cell" data-label="Since">{r.running_since.map(timestamp).unwrap_or_else(|| "—".into())}</td>
                            <td role="cell" data-label="Last rollout">{r.last_rollout.as_ref().map(|l| view! {
                                <a href=format!("/rollouts/{}", l.id)>{format!("{} #{}", l.kind.label(), l.id)}</a>" "{status_badge(l.status.as_str())}
                            })}</td>
                            <td role="cell" data-label="Monthly" class="num">{r.monthly_usd.map(usd).unwrap_or_else(|| "—".into())}</td>
                            <td role="cell" data-label="Expires">{r.expires_at.map(timestamp).unwrap_or_else(|| "never".into())}</td>
                            <td role="cell" data-label="Next">{r.next_action.as_ref().map(|n| format!("{}: {}", timestamp(n.at), n.what))}</td>
                            <td role="cell" data-label="Drift">{drift_cell(&r)}</td>
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
    let name = detail.row.name.clone();
    let may_change_policy = detail.may_change_policy;
    let current = RwSignal::new(detail.clone());
    let refresh = Action::new(move |n: &String| get_environment_detail(n.clone()));
    Effect::new(move |_| {
        if let Some(Ok(Ok(d))) = refresh.value().get() {
            current.set(d);
        }
    });
    // While a drift check or a rollout runs, each new answer asks again 2 s later, so the page
    // follows them without a reload.
    let again = name.clone();
    Effect::new(move |_| {
        let busy = current.with(|d| {
            d.row.drift.as_ref().is_some_and(|x| x.status == DriftCheckStatus::Running)
                || d.row
                    .last_rollout
                    .as_ref()
                    .is_some_and(|r| matches!(r.status, RolloutStatus::Queued | RolloutStatus::Running))
        });
        if busy {
            let n = again.clone();
            set_timeout(
                move || {
                    refresh.dispatch(n);
                },
                std::time::Duration::from_secs(2),
            );
        }
    });
    let page_name = name.clone();
    view! {
        {move || overview(current.get(), page_name.clone())}
        // The forms are made once: a refresh of the page's data keeps what someone is typing.
        <Actions name=name.clone() current refresh/>
        <BillSection name=name.clone() current refresh/>
        {may_change_policy.then(|| view! { <PolicyForm name=name.clone() detail=detail.clone() current/> })}
        {move || details(current.get())}
    }
}

/// The environment's head: status, facts, a waiting rollout, the newer catalog.
fn overview(d: EnvironmentDetail, name: String) -> impl IntoView {
    let row = d.row.clone();
    view! {
        <h1>{row.name.clone()}" "{environment_badge(row.status)}</h1>
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
        {d.waiting.map(|(rollout, opens)| view! { <WaitingRollout name rollout opens may_override=d.may_override/> })}
        {d.upgrade_to.clone().map(|(version, changes)| view! {
            <section class="upgrade" aria-labelledby="upgrade-heading">
                <h2 id="upgrade-heading">{format!("Catalog {version} is newer")}</h2>
                <ul>{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
            </section>
        })}
    }
}

/// What runs, drawn and listed: the diagram with drift marked, the drift, the schedule, the
/// stacks, the history.
fn details(d: EnvironmentDetail) -> impl IntoView {
    view! {
        {(!d.diagram_svg.is_empty()).then(|| view! {
            <section class="diagram-section" aria-labelledby="diagram-heading">
                <h2 id="diagram-heading">"What runs"</h2>
                <p class="legend">
                    <span class="swatch drift-in_sync"></span>"in sync "
                    <span class="swatch drift-modified"></span>"changed outside the portal "
                    <span class="swatch drift-deleted"></span>"deleted outside the portal "
                    <span class="swatch drift-not_checked"></span>"not checked "
                    <span class="swatch asleep"></span>"asleep (stopped by its schedule)"
                </p>
                <figure class="diagram environment-diagram">
                    <div class="diagram-canvas" inner_html=d.diagram_svg.clone()></div>
                    {(!d.drift_off_diagram.is_empty()).then(|| view! {
                        <figcaption class="drift-modified">{format!("Changed outside the portal, not drawn: {}", d.drift_off_diagram.join(", "))}</figcaption>
                    })}
                </figure>
            </section>
        })}
        {d.drift.clone().map(drift_section)}
        {d.sleep.clone().map(sleep_section)}
        {(!d.stacks.is_empty()).then(|| view! {
            <section aria-labelledby="stacks-heading">
                <h2 id="stacks-heading">"Stacks"</h2>
                <table class="stacks stacked" role="table">
                    <caption>"The stacks of its running deployment"</caption>
                    <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">"Phase"</th><th role="columnheader" scope="col">"Stack"</th><th role="columnheader" scope="col">"Status"</th><th role="columnheader" scope="col" class="num">"Resources"</th><th role="columnheader" scope="col">"Outputs"</th></tr></thead>
                    <tbody role="rowgroup">{d.stacks.iter().map(|s| view! {
                        <tr role="row">
                            <td role="cell" data-label="Phase">{format!("{} {}", s.phase, s.name)}</td>
                            <td role="cell" data-label="Stack">{s.stack_name.clone()}</td>
                            <td role="cell" data-label="Status">{s.status.clone()}</td>
                            <td role="cell" data-label="Resources" class="num">{s.resource_count}</td>
                            <td role="cell" data-label="Outputs">{(!s.outputs.is_empty()).then(|| view! {
                                <details>
                                    <summary>{format!("{} outputs", s.outputs.len())}</summary>
                                    <ul class="stack-outputs">{s.outputs.iter().map(|(k, v)| view! { <li><code>{k.clone()}</code>" "{v.clone()}</li> }).collect_view()}</ul>
                                </details>
                            })}</td>
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
    let (drifted, rest): (Vec<_>, Vec<_>) = report
        .resources
        .into_iter()
        .partition(|r| matches!(r.status, ResourceDrift::Modified | ResourceDrift::Deleted));
    let count = rest.len();
    view! {
        <section class="drift" aria-labelledby="drift-heading">
            <h2 id="drift-heading">"Drift"</h2>
            <p role="status">{said}" "<span class="muted">{format!("Check {} by {}, {}; {} not checked (CloudFormation does not check their type).", s.check_id, s.requested_by, timestamp(s.started_at), s.not_checked)}</span></p>
            {(!drifted.is_empty()).then(|| drift_table(drifted, "Changed or deleted outside the portal"))}
            <details>
                <summary>{format!("The other {count} resources of the check")}</summary>
                {drift_table(rest, "In sync, or not checked")}
            </details>
        </section>
    }
}

fn drift_table(resources: Vec<crate::model::DriftResourceView>, caption: &'static str) -> impl IntoView {
    view! {
        <table class="drift-resources stacked" role="table">
            <caption>{caption}</caption>
            <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">"Resource"</th><th role="columnheader" scope="col">"Type"</th><th role="columnheader" scope="col">"Drift"</th><th role="columnheader" scope="col">"Differences"</th></tr></thead>
            <tbody role="rowgroup">{resources.into_iter().map(|r| view! {
                <tr role="row" class=format!("drift-{}", r.status.as_str())>
                    <td role="cell" data-label="Resource">{format!("{} (phase {})", r.logical_id, r.phase)}</td>
                    <td role="cell" data-label="Type">{r.resource_type.clone()}</td>
                    <td role="cell" data-label="Drift">{r.status.as_str().replace('_', " ")}</td>
                    <td role="cell" data-label="Differences"><ul class="differences">{r.differences.iter().map(|d| view! {
                        <li><code>{d.path.clone()}</code>": template "<code>{d.expected.clone()}</code>", actual "<code>{d.actual.clone()}</code></li>
                    }).collect_view()}</ul></td>
                </tr>
            }).collect_view()}</tbody>
        </table>
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
            <table class="sleep-lines stacked" role="table">
                <caption>"What stops while it sleeps"</caption>
                <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">"Resource"</th><th role="columnheader" scope="col">"Line"</th><th role="columnheader" scope="col" class="num">"Monthly awake"</th><th role="columnheader" scope="col" class="num">"Saved"</th></tr></thead>
                <tbody role="rowgroup">{sleep.stopping.iter().map(|l| view! {
                    <tr role="row"><td role="cell" data-label="Resource">{l.resource.clone()}</td><td role="cell" data-label="Line">{l.description.clone()}</td>
                        <td role="cell" data-label="Monthly awake" class="num">{usd(l.awake_usd)}</td><td role="cell" data-label="Saved" class="num">{usd(l.saving_usd)}</td></tr>
                }).collect_view()}</tbody>
            </table>
            <table class="sleep-lines stacked" role="table">
                <caption>"What keeps running (and billing)"</caption>
                <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">"Resource"</th><th role="columnheader" scope="col">"Line"</th><th role="columnheader" scope="col" class="num">"Monthly"</th></tr></thead>
                <tbody role="rowgroup">{sleep.running.iter().map(|l| view! {
                    <tr role="row"><td role="cell" data-label="Resource">{l.resource.clone()}</td><td role="cell" data-label="Line">{l.description.clone()}</td>
                        <td role="cell" data-label="Monthly" class="num">{usd(l.awake_usd)}</td></tr>
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

/// What may be asked on this environment, following its data as it changes.
#[component]
fn Actions(
    name: String,
    current: RwSignal<EnvironmentDetail>,
    refresh: Action<String, Result<Result<EnvironmentDetail, Refusal>, ServerFnError>>,
) -> impl IntoView {
    let refusal = RwSignal::new(None::<Refusal>);
    let asked = {
        let name = name.clone();
        Action::new(move |action: &EnvironmentAction| act_on_environment(name.clone(), action.clone()))
    };
    let again = name.clone();
    Effect::new(move |_| match asked.value().get() {
        Some(Ok(Ok(ActionOutcome::Request(id)))) => go(&format!("/requests/{id}")),
        Some(Ok(Ok(ActionOutcome::Rollout(id)))) => go(&format!("/rollouts/{id}")),
        Some(Ok(Ok(ActionOutcome::DriftCheck(_) | ActionOutcome::Bill))) => {
            refusal.set(None);
            refresh.dispatch(again.clone());
        }
        Some(Ok(Err(r))) => {
            // A refusal may come of what changed meanwhile (a check already running): show it.
            refusal.set(Some(r));
            refresh.dispatch(again.clone());
        }
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let justification = RwSignal::new(String::new());
    let extend_by = RwSignal::new("7d".to_owned());
    let may = Memo::new(move |_| current.with(|d| d.may.clone()));
    let drifted = Memo::new(move |_| {
        current.with(|d| d.drift.as_ref().is_some_and(|r| r.summary.status == DriftCheckStatus::Drifted))
    });
    let asks = move || may.with(|m| (m.repair && drifted.get()) || m.extend || m.upgrade);
    let checking = Memo::new(move |_| {
        current.with(|d| d.row.drift.as_ref().is_some_and(|x| x.status == DriftCheckStatus::Running))
    });
    let busy = move || asked.pending().get();
    view! {
        <section class="actions" aria-labelledby="actions-heading" hidden=move || !(asks() || may.with(|m| m.check_drift))>
            <h2 id="actions-heading">"Ask"</h2>
            <button type="button" class="button secondary" hidden=move || !may.with(|m| m.check_drift)
                disabled=move || busy() || checking.get()
                on:click=move |_| { asked.dispatch(EnvironmentAction::CheckDrift); }>
                {move || if checking.get() { "Checking for drift…" } else { "Check for drift now" }}
            </button>
            <div class="field" hidden=move || !asks()>
                <label for="action-justification">"Why (for the approvers)"</label>
                <textarea id="action-justification" rows="2" aria-describedby="justification-error"
                    on:input=move |ev| justification.set(event_target_value(&ev))></textarea>
            </div>
            <button type="button" class="button" hidden=move || !(may.with(|m| m.repair) && drifted.get()) disabled=busy
                on:click=move |_| { asked.dispatch(EnvironmentAction::Repair { justification: justification.get_untracked() }); }>
                "Request a repair (revert the drift)"</button>
            <button type="button" class="button" hidden=move || !may.with(|m| m.upgrade) disabled=busy
                on:click=move |_| { asked.dispatch(EnvironmentAction::Upgrade { justification: justification.get_untracked() }); }>
                "Request the upgrade"</button>
            <div class="field inline" hidden=move || !may.with(|m| m.extend)>
                <label for="extend-by">"Extend by"</label>
                <input id="extend-by" type="text" value="7d" aria-describedby="extend_by-error"
                    on:input=move |ev| extend_by.set(event_target_value(&ev))/>
                <button type="button" class="button" disabled=busy
                    on:click=move |_| { asked.dispatch(EnvironmentAction::Extend { extend_by: extend_by.get_untracked(), justification: justification.get_untracked() }); }>
                    "Request the extension"</button>
            </div>
            <p class="field-error" id="justification-error" role="alert">{move || refusal.get().filter(|r| r.field.as_deref() == Some("justification")).map(|r| r.message)}</p>
            <p class="field-error" id="extend_by-error" role="alert">{move || refusal.get().filter(|r| r.field.as_deref() == Some("extend_by")).map(|r| r.message)}</p>
            <p class="error" role="alert">{move || refusal.get().filter(|r| !matches!(r.field.as_deref(), Some("justification" | "extend_by"))).map(|r| r.message)}</p>
        </section>
    }
}
