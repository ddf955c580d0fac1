//! The tier catalog (the home page): the three tiers as cards and side by side; and the page for
//! an unknown address.

use leptos::prelude::*;

use crate::components::feedback::error_view;
use crate::components::nav::runs_in;
use crate::format::{quantity, usd};
use crate::model::{RunningTiers, TierSummary};
use crate::{list_running_tiers, list_tiers};

#[component]
pub fn CatalogPage() -> impl IntoView {
    let tiers = Resource::new(|| (), |_| list_tiers());
    // For a signed-in person: where each tier runs (nothing for anyone else).
    let running = Resource::new(|| (), |_| list_running_tiers());
    view! {
        <section class="page">
            <h1>"Choose a tier"</h1>
            <p class="lead">
                "Three ways to run the Concert Platform on AWS. Every figure is computed from the "
                "CloudFormation templates the portal deploys, priced for us-east-1."
            </p>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading tiers…"</p> }>
                {move || Suspend::new(async move {
                    let running = running.await.unwrap_or_default();
                    match tiers.await {
                        Ok(list) => view! { <TierComparison tiers=list running/> }.into_any(),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TierComparison(tiers: Vec<TierSummary>, running: RunningTiers) -> impl IntoView {
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let rows: Vec<(&'static str, Vec<String>)> = vec![
        ("Monthly cost", tiers.iter().map(|t| usd(t.monthly_usd)).collect()),
        ("Pricing", tiers.iter().map(|t| t.pricing.clone()).collect()),
        (
            "On-demand / reserved",
            tiers
                .iter()
                .map(|t| format!("{} / {}", usd(t.on_demand_monthly_usd), usd(t.reserved_monthly_usd)))
                .collect(),
        ),
        ("Availability zones in use", tiers.iter().map(|t| t.availability_zones.to_string()).collect()),
        ("NAT gateways", tiers.iter().map(|t| t.nat_gateways.to_string()).collect()),
        ("Backend instances", tiers.iter().map(|t| quantity(t.instances)).collect()),
        ("Multi-AZ database", tiers.iter().map(|t| yes_no(t.multi_az_database).to_owned()).collect()),
        ("Read replica", tiers.iter().map(|t| yes_no(t.read_replica).to_owned()).collect()),
        ("CloudFront", tiers.iter().map(|t| yes_no(t.cloudfront).to_owned()).collect()),
        ("Resources", tiers.iter().map(|t| t.resource_count.to_string()).collect()),
    ];
    let headers = tiers.iter().map(|t| view! { <th scope="col">{t.name.clone()}</th> }).collect_view();
    view! {
        <ul class="tier-cards" aria-label="Tiers">
            {tiers
                .iter()
                .map(|t| {
                    let href = format!("/tiers/{}", t.id);
                    let heading_id = format!("tier-{}", t.id);
                    view! {
                        <li class="tier-card" aria-labelledby=heading_id.clone()>
                            <h2 id=heading_id.clone()>{t.name.clone()}</h2>
                            <p class="price"><strong>{usd(t.monthly_usd)}</strong>" / month"</p>
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
                <caption>"Side by side"</caption>
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
