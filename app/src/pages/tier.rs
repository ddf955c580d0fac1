//! A tier's review page: usage assumptions and optional services on one side, the estimate
//! (totals, diagram, cost table) on the other, following every change; then the rollout plan with
//! the tier's choices, and the request form.
//!
//! Only [`TierReview`] reacts to anything: it is the page's island ([`crate::island`]), hydrated
//! by the tier bundle (`frontend/tier/`) from [`TierIsland`]; the heading stays the server's HTML.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::cost_table::{commitment_caveat, CostTable};
use crate::components::feedback::error_view;
use crate::components::nav::runs_in;
use crate::components::posture::SecurityPosture;
use crate::components::request_form::{RequestAccess, RequestSection};
use crate::format::{phase_start, quantity, usd, usd_range};
use crate::island::island;
use crate::model::{OptionView, Pricing, TierQuery, TierView, UsageFieldView};
use crate::{get_tier_view, list_running_tiers};

/// The name of the tier page's island (its bundle looks for it).
pub const TIER_ISLAND: &str = "tier-review";

/// What the tier page's island is hydrated from: the estimate the page was rendered with, and
/// what the caller may request. It is all the island knows (it creates no resource: nothing it
/// shows waits for the server when it hydrates).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TierIsland {
    pub tier_id: String,
    pub initial: TierView,
    pub access: RequestAccess,
}

impl TierIsland {
    /// The island's view; also what the tier bundle calls with the props it read.
    pub fn render(self) -> impl IntoView {
        view! { <TierReview initial=self.initial tier_id=self.tier_id access=self.access/> }
    }

    /// The island, its props written by the server; `query` is what `initial` answers.
    fn into_island(self, query: &TierQuery) -> impl IntoView {
        // The props are read only by the tier bundle, from the server's HTML.
        #[cfg(feature = "ssr")]
        let props = self.props_json(query);
        #[cfg(not(feature = "ssr"))]
        let props = {
            let _ = query;
            String::new()
        };
        island(TIER_ISLAND, props, move || self.render())
    }

    /// The props as JSON, with the view's JSON the server keeps beside the view (the same view:
    /// `initial` is the answer to `query`); serialized here only if the server has none.
    #[cfg(feature = "ssr")]
    fn props_json(&self, query: &TierQuery) -> String {
        let kept = crate::rpc::context::backend().ok().and_then(|b| b.tier_script_json(query).ok());
        let written = match kept {
            Some(initial) => serde_json::to_string(&self.tier_id).and_then(|tier_id| {
                let access = serde_json::to_string(&self.access)?;
                Ok(format!(r#"{{"tier_id":{tier_id},"access":{access},"initial":{initial}}}"#))
            }),
            None => serde_json::to_string(self),
        };
        // Plain data with string keys: this does not fail; if it ever did, the page would say so
        // in the server's log and stay readable, unhydrated.
        written.unwrap_or_else(|e| {
            leptos::logging::error!("tier island {}: props not serialized: {e}", self.tier_id);
            String::new()
        })
    }
}

#[component]
pub fn TierPage() -> impl IntoView {
    let params = use_params_map();
    let tier_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    // The catalog's pricing model, if the reader came from it with one.
    let query = use_query_map();
    let pricing = Memo::new(move |_| Pricing::from_query(query.read().get("pricing").as_deref()));
    // The page's controls start from the tier's defaults; the results follow every change.
    let page_query =
        move || TierQuery { tier: tier_id.get(), free_tier: true, pricing: pricing.get(), ..Default::default() };
    let defaults = Resource::new(page_query, get_tier_view);
    let access = Resource::new(|| (), |_| RequestAccess::load());
    let running = Resource::new(|| (), |_| list_running_tiers());
    view! {
        <section class="page">
            <p class="breadcrumb"><a href="/">"All tiers"</a></p>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading tier…"</p> }>
                {move || Suspend::new(async move {
                    match defaults.await {
                        Ok(view) => {
                            let heading = view.summary.clone();
                            let access = access.await;
                            let running = running.await.unwrap_or_default().of(&heading.id);
                            let island = TierIsland { tier_id: tier_id.get_untracked(), initial: view, access }
                                .into_island(&untrack(page_query));
                            view! {
                                <h1>{heading.name}</h1>
                                <p class="lead">{heading.summary}</p>
                                <p class="availability">{heading.availability}</p>
                                {runs_in(running)}
                                {island}
                            }
                            .into_any()
                        }
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TierReview(initial: TierView, tier_id: String, access: RequestAccess) -> impl IntoView {
    let options = RwSignal::new(None::<Vec<String>>);
    let usage = RwSignal::new(Vec::<(String, f64)>::new());
    let free_tier = RwSignal::new(true);
    let pricing = RwSignal::new(initial.pricing);
    let domain = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let default_options: Vec<String> = initial.options.iter().filter(|o| o.enabled).map(|o| o.key.clone()).collect();
    let request_tier = tier_id.clone();
    // The first estimate is the one the page came with (not a second resource: the page would
    // carry the same view twice for hydration); each change of an input asks the server again,
    // and only the newest answer is shown.
    let shown = RwSignal::new(Ok::<TierView, String>(initial.clone()));
    let query = Memo::new(move |_| TierQuery {
        tier: tier_id.clone(),
        options: options.get(),
        usage: usage.get(),
        free_tier: free_tier.get(),
        domain: domain.get(),
        pricing: pricing.get(),
    });
    let asked = StoredValue::new(0u64);
    Effect::new(move |first_run_done: Option<()>| {
        let query = query.get();
        if first_run_done.is_none() {
            return;
        }
        asked.update_value(|n| *n += 1);
        let this = asked.get_value();
        pending.set(true);
        leptos::task::spawn_local(async move {
            let answer = get_tier_view(query).await.map_err(|e| e.to_string());
            if asked.get_value() == this {
                pending.set(false);
                shown.set(answer);
            }
        });
    });
    view! {
        <div class="tier-layout">
            <aside class="controls" aria-label="Assumptions and options">
                <UsageForm fields=initial.usage.clone() usage=usage/>
                <OptionsForm options=initial.options.clone() defaults=default_options selected=options/>
                <fieldset>
                    <legend>"Free tier"</legend>
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || free_tier.get()
                            on:change=move |ev| free_tier.set(event_target_checked(&ev))
                        />
                        "Apply AWS always-free allowances"
                    </label>
                    <p class="hint">"Switch off for an account whose other workloads already use them."</p>
                </fieldset>
                <PricingForm pricing=pricing/>
                <DomainForm domain=domain/>
            </aside>
            <div class="results">
                <p class="updating" role="status" aria-live="polite">
                    {move || if pending.get() { "Updating estimate…" } else { "" }}
                </p>
                {move || match shown.get() {
                    Ok(view) => view! { <TierResults view=view/> }.into_any(),
                    Err(message) => error_view(message),
                }}
            </div>
        </div>
        <Phases view=initial/>
        <RequestSection access=access query=Signal::derive(move || TierQuery {
            tier: request_tier.clone(),
            options: options.get(),
            usage: usage.get(),
            free_tier: free_tier.get(),
            domain: None,
            // A request is estimated on-demand: a commitment is a purchase, not a deployment's.
            pricing: Pricing::OnDemand,
        }) monthly=Signal::derive(move || shown.with(|v| v.as_ref().map(|v| (v.monthly_usd, v.hours_per_month)).unwrap_or((0.0, 730.0))))/>
    }
}

#[component]
fn UsageForm(fields: Vec<UsageFieldView>, usage: RwSignal<Vec<(String, f64)>>) -> impl IntoView {
    view! {
        <fieldset class="usage">
            <legend>"Monthly usage assumptions"</legend>
            {fields
                .into_iter()
                .map(|f| {
                    let input_id = format!("usage-{}", f.key);
                    let error_id = format!("usage-{}-error", f.key);
                    let range_id = format!("usage-{}-range", f.key);
                    let range = (f.high > f.low).then(|| {
                        format!("range {} – {}", quantity(f.low), quantity(f.high))
                    });
                    let invalid = RwSignal::new(false);
                    let key = f.key.clone();
                    view! {
                        <div class="field">
                            <label for=input_id.clone()>{format!("{} ({})", f.label, f.unit)}</label>
                            <input
                                id=input_id
                                name=f.key.clone()
                                type="number"
                                min="0"
                                step="any"
                                inputmode="decimal"
                                value=f.value.to_string()
                                aria-invalid=move || invalid.get().to_string()
                                aria-describedby=format!("{range_id} {error_id}")
                                on:input=move |ev| {
                                    let raw = event_target_value(&ev);
                                    match raw.trim().parse::<f64>() {
                                        Ok(v) if v.is_finite() && v >= 0.0 => {
                                            invalid.set(false);
                                            let key = key.clone();
                                            usage.update(|u| {
                                                u.retain(|(k, _)| *k != key);
                                                u.push((key, v));
                                            });
                                        }
                                        _ => invalid.set(true),
                                    }
                                }
                            />
                            <p class="hint range" id=range_id>{range}</p>
                            <p class="field-error" id=error_id>
                                {move || if invalid.get() { "Enter a number of zero or more." } else { "" }}
                            </p>
                        </div>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// The pricing model the estimate is shown with: on-demand, or a 1-year commitment.
#[component]
fn PricingForm(pricing: RwSignal<Pricing>) -> impl IntoView {
    view! {
        <fieldset class="pricing">
            <legend>"Pricing model"</legend>
            {Pricing::ALL
                .into_iter()
                .map(|p| view! {
                    <label class="check">
                        <input
                            type="radio"
                            name="pricing"
                            value=p.as_str()
                            checked=move || pricing.get() == p
                            on:change=move |_| pricing.set(p)
                        />
                        {p.label()}
                    </label>
                })
                .collect_view()}
            <p class="hint">"A request is estimated on-demand; a commitment is bought apart, for a year."</p>
        </fieldset>
    }
}

/// A domain to preview with: HTTPS, certificates and the origin host. A request takes the
/// domain its environment is registered with, not this one.
#[component]
fn DomainForm(domain: RwSignal<Option<String>>) -> impl IntoView {
    let invalid = RwSignal::new(false);
    view! {
        <fieldset class="domain">
            <legend>"Domain"</legend>
            <div class="field">
                <label for="preview-domain">"Preview with a domain (optional)"</label>
                <input
                    id="preview-domain"
                    name="domain"
                    type="text"
                    inputmode="url"
                    autocomplete="off"
                    placeholder="concerts.example.com"
                    aria-invalid=move || invalid.get().to_string()
                    aria-describedby="preview-domain-hint preview-domain-error"
                    on:change=move |ev| {
                        let raw = event_target_value(&ev).trim().to_ascii_lowercase();
                        if raw.is_empty() {
                            invalid.set(false);
                            domain.set(None);
                        } else if valid_domain(&raw) {
                            invalid.set(false);
                            domain.set(Some(raw));
                        } else {
                            invalid.set(true);
                        }
                    }
                />
                <p class="hint" id="preview-domain-hint">
                    "With a domain the load balancer gets a certificate and HTTPS. A request uses its environment's domain."
                </p>
                <p class="field-error" id="preview-domain-error">
                    {move || if invalid.get() { "Enter a host name such as concerts.example.com." } else { "" }}
                </p>
            </div>
        </fieldset>
    }
}

/// A first check in the browser of the templates' pattern for a domain (labels of letters, digits
/// and hyphens, a final label of letters), so a typo is said at the field; `app` does not link
/// `infra`, and the server's `DomainName::parse` decides.
fn valid_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        && labels.last().is_some_and(|l| l.len() >= 2 && l.chars().all(|c| c.is_ascii_lowercase()))
}

#[component]
fn OptionsForm(
    options: Vec<OptionView>,
    defaults: Vec<String>,
    selected: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    view! {
        <fieldset class="options">
            <legend>"Optional services"</legend>
            {options
                .into_iter()
                .map(|o| {
                    let key = o.key.clone();
                    let defaults = defaults.clone();
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                name=o.key.clone()
                                checked=o.enabled
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let key = key.clone();
                                    let defaults = defaults.clone();
                                    selected.update(|s| {
                                        let mut set = s.clone().unwrap_or(defaults);
                                        set.retain(|k| *k != key);
                                        if on {
                                            set.push(key);
                                        }
                                        *s = Some(set);
                                    });
                                }
                            />
                            {o.label.clone()}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
fn TierResults(view: TierView) -> impl IntoView {
    let unpriced = view.unpriced.clone();
    let pricing = view.pricing;
    let usage_driven = view.monthly_usd - view.fixed_monthly_usd;
    let after: f64 = view.after_teardown.iter().map(|a| a.monthly_usd).sum();
    let alternatives = view.alternatives.clone();
    view! {
        <section class="totals" aria-label="Totals">
            <p class="total">
                <span>{format!("Monthly total, {}", pricing.label().to_lowercase())}</span>
                <strong data-testid="monthly-total">{usd(view.monthly_usd)}</strong>
                <span class="hint">"at typical usage"</span>
            </p>
            <p class="total">
                <span>"Low – high usage"</span>
                <strong data-testid="monthly-range">{usd_range(view.range.low, view.range.high)}</strong>
                {range_bar(view.range.low, view.range.typical, view.range.high)}
                <span class="hint">"every usage figure at its low or high end"</span>
            </p>
            <p class="total">
                <span>"Fixed + usage-driven"</span>
                <strong>{format!("{} + {}", usd(view.fixed_monthly_usd), usd(usage_driven))}</strong>
                <span class="hint">"hours and sizes; traffic, users, requests"</span>
            </p>
            <p class="total"><span>"Yearly"</span><strong>{usd(view.yearly_usd)}</strong></p>
            <p class="hint">
                {format!("Prices as of {}, us-east-1. Low and high move every usage figure to the ends of its range \
                          (traffic peaks, CPU above the t3 baseline, users beyond Cognito's free tier).", view.prices_as_of)}
            </p>
            {commitment_caveat(pricing).map(|c| view! { <p class="warning commitment">{c}</p> })}
            {(after > 0.0).then(|| view! {
                <p class="hint after-teardown">
                    {format!("After teardown: {} a month until deleted ({}).", usd(after),
                        view.after_teardown.iter().map(|a| format!("{}: {}", a.resource, a.description)).collect::<Vec<_>>().join("; "))}
                </p>
            })}
            {(!unpriced.is_empty()).then(|| view! {
                <p class="warning" role="alert">
                    {format!("No price model for: {}. The total leaves them out.", unpriced.join(", "))}
                </p>
            })}
        </section>
        <div class="table-scroll">
            <table class="alternatives">
                <caption>"Pricing models, monthly at typical usage"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Model"</th>
                        <th scope="col" class="num">"Monthly"</th>
                        <th scope="col" class="num">"Saves"</th>
                        <th scope="col">"Commits you to"</th>
                    </tr>
                </thead>
                <tbody>
                    {alternatives
                        .into_iter()
                        .map(|a| {
                            let commits = if a.pricing.is_commitment() {
                                format!("{} over {} months, billed after teardown too ({})", usd(a.committed_total_usd), a.term_months, a.covers)
                            } else {
                                "nothing: billed by the hour".to_owned()
                            };
                            view! {
                                <tr aria-current=(a.pricing == pricing).then_some("true")>
                                    <th scope="row">{a.pricing.label()}</th>
                                    <td class="num">{usd(a.monthly_usd)}</td>
                                    <td class="num">{usd(a.saving_monthly_usd)}</td>
                                    <td>{commits}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <figure class="diagram">
            <div class="diagram-canvas" inner_html=view.diagram_svg.clone()></div>
            <figcaption>"Architecture: select a resource to see its cost line; the P number links to its phase. Arrows of the request path say HTTPS or HTTP; a dashed one with ⚠ is unencrypted over the internet."</figcaption>
        </figure>
        <SecurityPosture posture=view.posture.clone()/>
        <CostTable services=view.services.clone()/>
    }
}

/// The typical figure drawn on the line from low to high (where it sits says how lopsided the
/// risk is: far to the left, the high end is the traffic peaks and risks the typical month leaves out).
fn range_bar(low: f64, typical: f64, high: f64) -> impl IntoView {
    let at = if high > low { ((typical - low) / (high - low) * 100.0).clamp(0.0, 100.0) } else { 0.0 };
    view! {
        <span class="range-bar" role="img"
            aria-label=format!("typical {} between {} and {}", usd(typical), usd(low), usd(high))>
            <span class="range-mark" style=format!("left: {at:.1}%")></span>
        </span>
    }
}

#[component]
fn Phases(view: TierView) -> impl IntoView {
    view! {
        <section class="phases" aria-labelledby="phases-heading">
            <h2 id="phases-heading">"Rollout plan"</h2>
            <p class="hint">"Phases that import nothing from each other deploy side by side; each starts once the phases it imports from are done."</p>
            <ol class="phase-list">
                {view
                    .phases
                    .into_iter()
                    .map(|p| {
                        let count = p.resources.len();
                        let after = phase_start(&p.needs);
                        view! {
                            <li id=format!("phase-{}", p.number)>
                                <h3>{format!("Phase {}: {}", p.number, p.title)}</h3>
                                <p class="stack">{format!("Stack {} · {} resources", p.stack_name, count)}</p>
                                <p class="needs">{after}</p>
                                <details>
                                    <summary>{format!("Resources of phase {}", p.number)}</summary>
                                    <ul>
                                        {p.resources
                                            .into_iter()
                                            .map(|r| view! { <li><code>{r.logical_id}</code>" "<span class="type">{r.resource_type}</span></li> })
                                            .collect_view()}
                                    </ul>
                                </details>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            {(!view.decisions.is_empty()).then(|| view! {
                <h2>"Choices this tier makes"</h2>
                <dl class="decisions">
                    {view.decisions.into_iter().map(|d| view! {
                        <dt>{format!("{}: {}", d.topic, d.choice)}</dt>
                        <dd>{d.reason}</dd>
                    }).collect_view()}
                </dl>
            })}
        </section>
    }
}
