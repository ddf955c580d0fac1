//! The monthly cost table, line by line: on a tier's page and on a request's page.

use leptos::prelude::*;

use crate::format::{quantity, unit_price, usd, usd_range};
use crate::model::{Pricing, ServiceView};

/// Each service's lines with what they are, quantity × unit price, monthly cost and the range at
/// low and high usage; a line's phase links to the phase's card (`#phase-N`) and the line's own
/// `id` is what the diagram links to. Where the table has less than 760 px (a phone, a narrow
/// column) each line shows its resource and monthly figure on its first row and folds the rest
/// below (see `.cost` in the style sheet): nothing scrolls sideways.
#[component]
pub fn CostTable(services: Vec<ServiceView>) -> impl IntoView {
    view! {
        <div class="cost-wrap">
            <table class="cost">
                <caption>"Monthly cost, line by line"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="resource">"Resource"</th>
                        <th scope="col" class="what">"What"</th>
                        <th scope="col" class="num quantity">"Quantity × unit price"</th>
                        <th scope="col" class="num monthly">"Monthly"</th>
                        <th scope="col" class="num range">"Low – high usage"</th>
                    </tr>
                </thead>
                {services
                    .into_iter()
                    .map(|s| {
                        let seed = s.seed_usd.map(|v| format!("seed: {}", usd(v)));
                        let range = s.range.is_spread().then(|| usd_range(s.range.low, s.range.high));
                        view! {
                            <tbody>
                                <tr class="service-row">
                                    <th scope="rowgroup" colspan="3" class="resource">
                                        {s.service}
                                        {seed.map(|t| view! { <span class="seed">{t}</span> })}
                                        {s.note.map(|n| view! { <span class="note">{n}</span> })}
                                    </th>
                                    <td class="num monthly"><strong>{usd(s.monthly_usd)}</strong></td>
                                    <td class="num range">{range}</td>
                                </tr>
                                {s.lines
                                    .into_iter()
                                    .map(|l| {
                                        let free = (l.free_quantity > 0.0)
                                            .then(|| format!(", {} free", quantity(l.free_quantity)));
                                        let (range, fixed) = if l.range.is_spread() {
                                            (usd_range(l.range.low, l.range.high), false)
                                        } else {
                                            ((if l.usage_key.is_none() { "fixed" } else { "" }).to_owned(), true)
                                        };
                                        view! {
                                            <tr id=l.anchor class="line">
                                                <td class="resource">
                                                    <span class="name">{l.resource}</span>" "
                                                    <a class="phase-link" href=format!("#phase-{}", l.phase)
                                                        aria-label=format!("P{}: phase {}", l.phase, l.phase)>
                                                        {format!("P{}", l.phase)}
                                                    </a>
                                                </td>
                                                <td class="what">{l.description}</td>
                                                <td class="num quantity">
                                                    {format!("{} {} × {}", quantity(l.quantity), l.unit, unit_price(l.unit_price_usd))}
                                                    {free}
                                                </td>
                                                <td class="num monthly" data-testid="line-monthly">{usd(l.monthly_usd)}</td>
                                                <td class="num range" class:fixed=fixed>{range}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        }
                    })
                    .collect_view()}
            </table>
        </div>
    }
}

/// The commitment caveat, wherever a committed figure is shown.
pub fn commitment_caveat(pricing: Pricing) -> Option<String> {
    pricing.is_commitment().then(|| {
        format!(
            "{} bill all 12 months of their term, whether the environment runs or not: after the portal tears it \
             down, the commitment is still owed. Choose one only for an environment that lives at least a year.",
            match pricing {
                Pricing::SavingsPlan => "Savings Plans",
                _ => "Reservations",
            }
        )
    })
}
