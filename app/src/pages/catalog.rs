//! The tier catalog (the home page): the three tiers as cards and side by side; and the page for
//! an unknown address.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::cost_table::commitment_caveat;
use crate::components::feedback::error_view;
use crate::components::nav::runs_in;
use crate::format::{quantity, usd, usd_range};
use crate::model::{Pricing, RunningTiers, TierSummary};
use crate::{list_running_tiers, list_tiers};

#[component]
pub fn CatalogPage() -> impl IntoView {
    // Every tier priced with the one model the reader picks (`?pricing=`), on-demand by default.
    let query = use_query_map();
    let pricing = Memo::new(move |_| Pricing::from_query(query.read().get("pricing").as_deref()));
    let tiers = Resource::new(move || pricing.get(), list_tiers);
    // For a signed-in person: where each tier runs (nothing for anyone else).
    let running = Resource::new(|| (), |_| list_running_tiers());
    view! {
        <section class="page">
            <h1>"Choose a tier"</h1>
            <p class="lead">
                "Three ways to run the Concert Platform on AWS. Every figure is computed from the "
                "CloudFormation templates the portal deploys, priced for us-east-1, at the same demand "
                "for every tier (1 TB and 10 million requests a month to viewers)."
            </p>
            {move || view! { <PricingSwitch current=pricing.get()/> }}
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading tiers…"</p> }>
                {move || Suspend::new(async move {
                    let running = running.await.unwrap_or_default();
                    match tiers.await {
                        Ok(list) => view! { <TierComparison tiers=list running pricing=pricing.get_untracked()/> }.into_any(),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The pricing model every tier is shown with: links, so the choice is in the address and works
/// without the app's script.
#[component]
fn PricingSwitch(current: Pricing) -> impl IntoView {
    view! {
        <nav class="pricing-switch" aria-label="Pricing model">
            <span class="pricing-switch-label">"Price every tier with"</span>
            <ul>
                {Pricing::ALL
                    .into_iter()
                    .map(|p| {
                        let href = if p == Pricing::OnDemand { "/".to_owned() } else { format!("/?pricing={}", p.as_str()) };
                        view! {
                            <li>
                                <a href=href aria-current=(p == current).then_some("page")>{p.label()}</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

#[component]
fn TierComparison(tiers: Vec<TierSummary>, running: RunningTiers, pricing: Pricing) -> impl IntoView {
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let alternative = |t: &TierSummary, p: Pricing| t.alternatives.iter().find(|a| a.pricing == p).cloned();
    let saving = |t: &TierSummary| match alternative(t, pricing) {
        Some(a) if pricing.is_commitment() => {
            let share = if t.monthly_usd + a.saving_monthly_usd > 0.0 {
                a.saving_monthly_usd / (t.monthly_usd + a.saving_monthly_usd) * 100.0
            } else {
                0.0
            };
            format!("{} ({share:.0}%)", usd(a.saving_monthly_usd))
        }
        _ => "none (on-demand)".to_owned(),
    };
    let committed = |t: &TierSummary| match alternative(t, pricing) {
        Some(a) if pricing.is_commitment() => {
            format!("{} over {} months ({})", usd(a.committed_total_usd), a.term_months, a.covers)
        }
        _ => "nothing".to_owned(),
    };
    let rows: Vec<(String, Vec<String>)> = vec![
        (format!("Monthly, {}", pricing.label().to_lowercase()), tiers.iter().map(|t| usd(t.monthly_usd)).collect()),
        ("Low – high usage".into(), tiers.iter().map(|t| usd_range(t.range.low, t.range.high)).collect()),
        ("Fixed part (no usage moves it)".into(), tiers.iter().map(|t| usd(t.fixed_monthly_usd)).collect()),
        ("Saving on on-demand".into(), tiers.iter().map(saving).collect()),
        ("Committed".into(), tiers.iter().map(committed).collect()),
        ("Availability zones in use".into(), tiers.iter().map(|t| t.availability_zones.to_string()).collect()),
        ("NAT gateways".into(), tiers.iter().map(|t| t.nat_gateways.to_string()).collect()),
        ("Backend instances".into(), tiers.iter().map(|t| quantity(t.instances)).collect()),
        ("Multi-AZ database".into(), tiers.iter().map(|t| yes_no(t.multi_az_database).to_owned()).collect()),
        ("Read replica".into(), tiers.iter().map(|t| yes_no(t.read_replica).to_owned()).collect()),
        ("CloudFront".into(), tiers.iter().map(|t| yes_no(t.cloudfront).to_owned()).collect()),
        (
            "Viewer traffic leaves through".into(),
            tiers
                .iter()
                .map(|t| {
                    if t.cloudfront {
                        "CloudFront (1 TB a month free)"
                    } else {
                        "the load balancer ($0.09/GB beyond 100 GB)"
                    }
                    .to_owned()
                })
                .collect(),
        ),
        ("Resources".into(), tiers.iter().map(|t| t.resource_count.to_string()).collect()),
    ];
    let headers = tiers.iter().map(|t| view! { <th scope="col">{t.name.clone()}</th> }).collect_view();
    let every_model = tiers
        .iter()
        .map(|t| {
            let cells = Pricing::ALL
                .into_iter()
                .map(|p| {
                    let cell = alternative(t, p).map_or_else(String::new, |a| {
                        if p.is_commitment() {
                            format!("{} (saves {})", usd(a.monthly_usd), usd(a.saving_monthly_usd))
                        } else {
                            usd(a.monthly_usd)
                        }
                    });
                    view! { <td class="num">{cell}</td> }
                })
                .collect_view();
            view! { <tr><th scope="row">{t.name.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <p class="pricing-note" data-testid="pricing-note">
            {format!("All three tiers priced with {}, at typical usage.", pricing.label().to_lowercase())}
            {commitment_caveat(pricing).map(|c| view! { " "<strong>{c}</strong> })}
        </p>
        <ul class="tier-cards" aria-label="Tiers">
            {tiers
                .iter()
                .map(|t| {
                    let href = match pricing {
                        Pricing::OnDemand => format!("/tiers/{}", t.id),
                        p => format!("/tiers/{}?pricing={}", t.id, p.as_str()),
                    };
                    let heading_id = format!("tier-{}", t.id);
                    view! {
                        <li class="tier-card" aria-labelledby=heading_id.clone()>
                            <h2 id=heading_id.clone()>{t.name.clone()}</h2>
                            <p class="price"><strong>{usd(t.monthly_usd)}</strong>" / month"</p>
                            <p class="range">{format!("{} at low to high usage", usd_range(t.range.low, t.range.high))}</p>
                            <p class="summary">{t.summary.clone()}</p>
                            <p class="availability">{t.availability.clone()}</p>
                            <ul class="included">
                                {t.included.iter().map(|i| view! { <li>{i.clone()}</li> }).collect_view()}
                            </ul>
                            {runs_in(running.of(&t.id))}
                            <a class="button" href=href>{format!("Review {}", t.name)}</a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <div class="table-scroll">
            <table class="comparison">
                <caption>{format!("Side by side, {}", pricing.label().to_lowercase())}</caption>
                <thead><tr><th scope="col">"Tier"</th>{headers}</tr></thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(label, cells)| view! {
                            <tr>
                                <th scope="row">{label}</th>
                                {cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <div class="table-scroll">
            <table class="comparison every-model">
                <caption>"Every pricing model, monthly at typical usage"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Tier"</th>
                        {Pricing::ALL.into_iter().map(|p| view! { <th scope="col" class="num">{p.label()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{every_model}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the tier catalog"</a></p>
        </section>
    }
}
