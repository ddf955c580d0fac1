//! An environment's day-two policy as an admin edits it on the environment's page: lifetimes per
//! tier, expiry reminders, approvers an extension needs, drift checks, the sleep schedule, and the
//! change window with its freezes. The server checks every field and names the one it refuses.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::model::{
    EnvironmentDetail, FreezeText, LifetimeText, PolicyText, Refusal, ScheduleText, SpanText, WindowsText,
};

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// Hours on days, as the form holds them.
#[derive(Clone, Copy)]
struct Hours {
    on: RwSignal<bool>,
    zone: RwSignal<String>,
    days: RwSignal<Vec<String>>,
    from: RwSignal<String>,
    until: RwSignal<String>,
}

impl Hours {
    fn new(on: bool, zone: &str, days: &[String], from: &str, until: &str) -> Hours {
        Hours {
            on: RwSignal::new(on),
            zone: RwSignal::new(if zone.is_empty() { "UTC".into() } else { zone.to_owned() }),
            days: RwSignal::new(if days.is_empty() {
                DAYS[..5].iter().map(|(d, _)| (*d).to_owned()).collect()
            } else {
                days.to_vec()
            }),
            from: RwSignal::new(if from.is_empty() { "08:00".into() } else { from.to_owned() }),
            until: RwSignal::new(if until.is_empty() { "19:00".into() } else { until.to_owned() }),
        }
    }

    fn span(&self) -> SpanText {
        SpanText { days: self.days.get_untracked(), from: self.from.get_untracked(), until: self.until.get_untracked() }
    }
}

/// The form's fields for one set of hours (`prefix` keeps their ids apart).
fn hours_fields(prefix: &'static str, legend: &'static str, hours: Hours) -> impl IntoView {
    view! {
        <fieldset class="hours" disabled=move || !hours.on.get()>
            <legend>{legend}</legend>
            <div class="field">
                <label for=format!("{prefix}-zone")>"Time zone"</label>
                <input id=format!("{prefix}-zone") type="text" list="time-zones" prop:value=move || hours.zone.get()
                    on:input=move |ev| hours.zone.set(event_target_value(&ev))/>
            </div>
            <div class="days" role="group" aria-label=format!("{legend}: days")>
                {DAYS.iter().map(|(day, name)| {
                    let day = (*day).to_owned();
                    let checked = { let day = day.clone(); move || hours.days.with(|d| d.contains(&day)) };
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=checked on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                hours.days.update(|d| {
                                    d.retain(|x| *x != day);
                                    if on { d.push(day.clone()); }
                                });
                            }/>
                            {*name}
                        </label>
                    }
                }).collect_view()}
            </div>
            <div class="field inline">
                <label for=format!("{prefix}-from")>"From"</label>
                <input id=format!("{prefix}-from") type="time" prop:value=move || hours.from.get()
                    on:input=move |ev| hours.from.set(event_target_value(&ev))/>
                <label for=format!("{prefix}-until")>"Until"</label>
                <input id=format!("{prefix}-until") type="time" prop:value=move || hours.until.get()
                    on:input=move |ev| hours.until.set(event_target_value(&ev))/>
            </div>
        </fieldset>
    }
}

/// `2026-12-20 2027-01-04 holidays` per line.
fn freezes_text(freezes: &[FreezeText]) -> String {
    freezes
        .iter()
        .map(|f| format!("{} {} {}", f.from, f.until, f.reason).trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_freezes(text: &str) -> Vec<FreezeText> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            FreezeText {
                from: parts.next().unwrap_or_default().to_owned(),
                until: parts.next().unwrap_or_default().to_owned(),
                reason: parts.next().unwrap_or_default().trim().to_owned(),
            }
        })
        .collect()
}

#[component]
pub fn PolicyForm(
    name: String,
    detail: EnvironmentDetail,
    /// The page's data, replaced by the answer.
    current: RwSignal<EnvironmentDetail>,
) -> impl IntoView {
    let policy = detail.policy.clone();
    let lifetimes: Vec<(String, RwSignal<String>, RwSignal<String>)> = detail
        .tiers
        .iter()
        .map(|tier| {
            let rule = policy.lifetimes.as_ref().and_then(|l| l.get(tier)).cloned().unwrap_or_default();
            (tier.clone(), RwSignal::new(rule.default.unwrap_or_default()), RwSignal::new(rule.max.unwrap_or_default()))
        })
        .collect();
    let reminders = RwSignal::new(policy.expiry_reminders.clone().unwrap_or_default().join(", "));
    let approvers = RwSignal::new(policy.extension_approvals.unwrap_or(1).to_string());
    let drift_hours = RwSignal::new(policy.drift_check_hours.unwrap_or(24).to_string());
    let schedule = policy.schedule.clone().flatten();
    let sleep = match &schedule {
        Some(s) => Hours::new(true, &s.time_zone, &s.days, &s.from, &s.until),
        None => Hours::new(false, "", &[], "", ""),
    };
    let windows = policy.change_windows.clone().flatten();
    let first = windows.as_ref().and_then(|w| w.windows.first().cloned()).unwrap_or_default();
    let window = Hours::new(
        windows.is_some(),
        windows.as_ref().map(|w| w.time_zone.as_str()).unwrap_or_default(),
        &first.days,
        &first.from,
        &first.until,
    );
    let freezes = RwSignal::new(windows.as_ref().map(|w| freezes_text(&w.freezes)).unwrap_or_default());
    let refusal = RwSignal::new(None::<Refusal>);
    let saved = RwSignal::new(false);
    let rules = StoredValue::new(lifetimes.clone());
    let save = Action::new(move |policy: &PolicyText| crate::change_environment_policy(name.clone(), policy.clone()));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(Ok(d))) => {
            refusal.set(None);
            saved.set(true);
            current.set(d);
        }
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let lifetimes: BTreeMap<String, LifetimeText> = rules.with_value(|all| {
            all.iter()
                .map(|(tier, default, max)| {
                    let text =
                        |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
                    (tier.clone(), LifetimeText { default: text(*default), max: text(*max) })
                })
                .collect()
        });
        let listed: Vec<String> =
            reminders.get_untracked().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let policy = PolicyText {
            lifetimes: Some(lifetimes),
            expiry_reminders: Some(listed),
            extension_approvals: Some(approvers.get_untracked().trim().parse().unwrap_or(0)),
            drift_check_hours: Some(drift_hours.get_untracked().trim().parse().unwrap_or(-1)),
            schedule: Some(sleep.on.get_untracked().then(|| {
                let span = sleep.span();
                ScheduleText {
                    time_zone: sleep.zone.get_untracked(),
                    days: span.days,
                    from: span.from,
                    until: span.until,
                }
            })),
            change_windows: Some(window.on.get_untracked().then(|| WindowsText {
                time_zone: window.zone.get_untracked(),
                windows: vec![window.span()],
                freezes: parse_freezes(&freezes.get_untracked()),
            })),
        };
        save.dispatch(policy);
    };
    view! {
        <details class="policy">
            <summary>"Change its policy (lifetimes, schedule, change windows, drift checks)"</summary>
            <form class="policy-form" on:submit=submit>
                <datalist id="time-zones">
                    {["UTC", "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"]
                        .into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
                </datalist>
                <table class="lifetimes">
                    <caption>"Lifetime per tier (12h, 14d; empty: none)"</caption>
                    <thead><tr><th scope="col">"Tier"</th><th scope="col">"Default"</th><th scope="col">"Longest allowed"</th></tr></thead>
                    <tbody>{lifetimes.into_iter().map(|(tier, default, max)| view! {
                        <tr>
                            <th scope="row">{tier.clone()}</th>
                            <td><input type="text" aria-label=format!("Default lifetime of {tier}") prop:value=move || default.get()
                                on:input=move |ev| default.set(event_target_value(&ev))/></td>
                            <td><input type="text" aria-label=format!("Longest lifetime of {tier}") prop:value=move || max.get()
                                on:input=move |ev| max.set(event_target_value(&ev))/></td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
                <div class="field">
                    <label for="policy-reminders">"Expiry reminders before the end (comma-separated)"</label>
                    <input id="policy-reminders" type="text" prop:value=move || reminders.get() on:input=move |ev| reminders.set(event_target_value(&ev))/>
                </div>
                <div class="field inline">
                    <label for="policy-approvers">"Approvers an extension needs"</label>
                    <input id="policy-approvers" type="number" min="1" max="5" prop:value=move || approvers.get() on:input=move |ev| approvers.set(event_target_value(&ev))/>
                    <label for="policy-drift">"Drift check every (hours, 0: only on demand)"</label>
                    <input id="policy-drift" type="number" min="0" max="744" prop:value=move || drift_hours.get() on:input=move |ev| drift_hours.set(event_target_value(&ev))/>
                </div>
                <label class="check">
                    <input type="checkbox" prop:checked=move || sleep.on.get() on:change=move |ev| sleep.on.set(event_target_checked(&ev))/>
                    "Sleeps outside its awake hours"
                </label>
                {hours_fields("sleep", "Awake hours", sleep)}
                <label class="check">
                    <input type="checkbox" prop:checked=move || window.on.get() on:change=move |ev| window.on.set(event_target_checked(&ev))/>
                    "Changes start only inside a change window"
                </label>
                {hours_fields("window", "Change window", window)}
                <div class="field">
                    <label for="policy-freezes">"Freezes (one per line: first day, last day, reason)"</label>
                    <textarea id="policy-freezes" rows="2" prop:value=move || freezes.get() on:input=move |ev| freezes.set(event_target_value(&ev))></textarea>
                </div>
                <p class="error" role="alert">{move || refusal.get().map(|r| match r.field {
                    Some(field) => format!("{field}: {}", r.message),
                    None => r.message,
                })}</p>
                <p role="status">{move || saved.get().then_some("Saved.")}</p>
                <button type="submit" class="button" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save policy" }}
                </button>
            </form>
        </details>
    }
}
