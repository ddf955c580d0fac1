//! The monthly cost table, line by line: on a tier's page and on a request's page.

use leptos::prelude::*;

use crate::format::{quantity, unit_price, usd};
use crate::model::ServiceView;

/// Each service's lines with quantity, unit price and monthly cost; a line's phase links to the
/// phase's card (`#phase-N`) and the line's own `id` is what the diagram links to.
#[component]
pub fn CostTable(services: Vec<ServiceView>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="cost">
                <caption>"Monthly cost, line by line"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Resource"</th>
                        <th scope="col">"Phase"</th>
                        <th scope="col">"What"</th>
                        <th scope="col" class="num">"Quantity"</th>
                        <th scope="col" class="num">"Unit price"</th>
                        <th scope="col" class="num">"Monthly"</th>
                    </tr>
                </thead>
                {services
                    .into_iter()
                    .map(|s| {
                        let seed = s.seed_usd.map(|v| format!("seed: {}", usd(v)));
                        view! {
                            <tbody>
                                <tr class="service-row">
                                    <th scope="rowgroup" colspan="5">
                                        {s.service.clone()}
                                        {seed.map(|t| view! { <span class="seed">{t}</span> })}
                                        {s.note.clone().map(|n| view! { <span class="note">{n}</span> })}
                                    </th>
                                    <td class="num"><strong>{usd(s.monthly_usd)}</strong></td>
                                </tr>
                                {s.lines
                                    .into_iter()
                                    .map(|l| {
                                        let free = (l.free_quantity > 0.0)
                                            .then(|| format!(" ({} free)", quantity(l.free_quantity)));
                                        view! {
                                            <tr id=l.anchor.clone()>
                                                <td>{l.resource.clone()}</td>
                                                <td><a href=format!("#phase-{}", l.phase)>{l.phase}</a></td>
                                                <td>{l.description.clone()}</td>
                                                <td class="num">{format!("{} {}", quantity(l.quantity), l.unit)}{free}</td>
                                                <td class="num">{unit_price(l.unit_price_usd)}</td>
                                                <td class="num">{usd(l.monthly_usd)}</td>
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
