//! An environment's estimate against its bill: last month and this month so far, service by
//! service (estimate range, actual, difference, why), what Cost Explorer said when it had nothing
//! to show (never $0), the usage the bill implies with the button that uses it, and the
//! commitments the environment could take.

use leptos::prelude::*;

use crate::act_on_environment;
use crate::format::{quantity, timestamp, usd, usd_range};
use crate::model::{
    ActionOutcome, BillPeriodView, BillReadStatus, BillVerdict, BillView, EnvironmentAction, EnvironmentDetail, Refusal,
};

/// The section, following the page's data; its two actions ask the server, then reload the page's data.
#[component]
pub fn BillSection(
    name: String,
    current: RwSignal<EnvironmentDetail>,
    refresh: Action<String, Result<Result<EnvironmentDetail, Refusal>, ServerFnError>>,
) -> impl IntoView {
    let refusal = RwSignal::new(None::<Refusal>);
    let asked = {
        let name = name.clone();
        Action::new(move |action: &EnvironmentAction| act_on_environment(name.clone(), action.clone()))
    };
    Effect::new(move |_| match asked.value().get() {
        Some(Ok(Ok(ActionOutcome::Bill))) => {
            refusal.set(None);
            refresh.dispatch(name.clone());
        }
        Some(Ok(Ok(_))) => {}
        Some(Ok(Err(r))) => refusal.set(Some(r)),
        Some(Err(e)) => refusal.set(Some(Refusal { field: None, message: e.to_string() })),
        None => {}
    });
    let bill = Memo::new(move |_| current.with(|d| d.bill.clone()));
    let busy = move || asked.pending().get();
    move || {
        bill.get().map(|b| {
            let suggestion_period = b.suggestion_period.clone();
            view! {
                <section class="bill" aria-labelledby="bill-heading">
                    <h2 id="bill-heading">"Cost: estimate and bill"</h2>
                    <p>
                        {format!(
                            "Estimated {} a month on-demand at typical usage ({} at low to high usage). ",
                            usd(b.estimate.typical),
                            usd_range(b.estimate.low, b.estimate.high)
                        )}
                        <span class="muted">{read_line(&b)}</span>
                    </p>
                    {b.schedule_note.clone().map(|n| view! { <p class="hint" data-testid="bill-schedule">{n}</p> })}
                    {b.may_read.then(|| view! {
                        <button type="button" class="button secondary" disabled=busy
                            on:click=move |_| { asked.dispatch(EnvironmentAction::ReadBill); }>
                            {move || if busy() { "Reading the bill…" } else { "Read the bill now" }}
                        </button>
                        <span class="hint">" Cost Explorer charges $0.01 a read; the portal reads once a day by itself."</span>
                    })}
                    <p class="error" role="alert">{move || refusal.get().map(|r| r.message)}</p>
                    {b.message.clone().map(|m| view! { <p class="warning" data-testid="bill-message">{m}</p> })}
                    {b.periods.iter().cloned().map(period_table).collect_view()}
                    {b.usage_set_from_bill.clone().map(|s| view! { <p class="hint">{s}</p> })}
                    {(!b.suggestion.is_empty()).then(|| {
                        let (period, label) = suggestion_period.clone().unwrap_or_default();
                        view! {
                            <table class="usage-from-bill stacked" role="table">
                                <caption>{format!("Usage from the bill of {label}")}</caption>
                                <thead role="rowgroup"><tr role="row">
                                    <th role="columnheader" scope="col">"Assumption"</th>
                                    <th role="columnheader" scope="col" class="num">"Assumed"</th>
                                    <th role="columnheader" scope="col" class="num">"From the bill"</th>
                                    <th role="columnheader" scope="col">"Read from"</th>
                                </tr></thead>
                                <tbody role="rowgroup">{b.suggestion.iter().map(|s| view! {
                                    <tr role="row">
                                        <th role="rowheader" scope="row" data-label="Assumption">{format!("{} ({})", s.label, s.unit)}</th>
                                        <td role="cell" data-label="Assumed" class="num">{quantity(s.assumed)}</td>
                                        <td role="cell" data-label="From the bill" class="num">{quantity(s.billed)}</td>
                                        <td role="cell" data-label="Read from"><code>{s.source.clone()}</code></td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                            {b.may_use_usage.then(|| view! {
                                <button type="button" class="button" disabled=busy
                                    on:click=move |_| { asked.dispatch(EnvironmentAction::UseUsageFromBill { period: period.clone() }); }>
                                    "Use the bill's usage for this environment's estimates"
                                </button>
                            })}
                        }
                    })}
                    {(!b.commitments.is_empty()).then(|| view! {
                        <ul class="commitments" aria-label="Commitments">
                            {b.commitments.iter().map(|c| view! {
                                <li>{format!("With a {}: {} a month (saves {}), committing {} over {} months ({}).",
                                    c.pricing.label().to_lowercase(), usd(c.monthly_usd), usd(c.saving_monthly_usd),
                                    usd(c.committed_total_usd), c.term_months, c.covers)}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {b.commitment_note.clone().map(|n| view! { <p class="hint commitment-note">{n}</p> })}
                </section>
            }
        })
    }
}

fn read_line(b: &BillView) -> String {
    match (b.status, b.read_at) {
        (None, _) | (_, None) => "The bill has not been read yet.".to_owned(),
        (Some(status), Some(at)) => format!(
            "Bill read {} by {}: {}.",
            timestamp(at),
            b.read_by.clone().unwrap_or_default(),
            match status {
                BillReadStatus::Read => "figures below",
                BillReadStatus::Empty => "Cost Explorer returned nothing",
                BillReadStatus::Unavailable => "Cost Explorer has no data",
                BillReadStatus::Denied => "not allowed",
                BillReadStatus::Failed => "it failed",
            }
        ),
    }
}

fn period_table(p: BillPeriodView) -> impl IntoView {
    let caption = format!(
        "{}: billed {} against {} estimated{}",
        p.label,
        usd(p.actual_usd),
        usd(p.estimate.typical),
        p.projected_usd.map(|v| format!(", on pace for {} this month", usd(v))).unwrap_or_default()
    );
    view! {
        <table class="bill-services stacked" role="table" data-period=p.start.clone()>
            <caption>{caption}</caption>
            <thead role="rowgroup"><tr role="row">
                <th role="columnheader" scope="col">"Service"</th>
                <th role="columnheader" scope="col" class="num">"Estimate"</th>
                <th role="columnheader" scope="col" class="num">"Actual"</th>
                <th role="columnheader" scope="col" class="num">"Difference"</th>
                <th role="columnheader" scope="col">"Why"</th>
            </tr></thead>
            <tbody role="rowgroup">{p.services.into_iter().map(|s| {
                let estimate = if s.estimate.is_spread() {
                    format!("{} ({})", usd(s.estimate.typical), usd_range(s.estimate.low, s.estimate.high))
                } else {
                    usd(s.estimate.typical)
                };
                let class = match s.verdict {
                    BillVerdict::WithinRange => "bill-within",
                    BillVerdict::AboveRange | BillVerdict::NotEstimated => "bill-above",
                    BillVerdict::BelowRange | BillVerdict::NotBilled => "bill-below",
                };
                view! {
                    <tr role="row" class=class>
                        <th role="rowheader" scope="row" data-label="Service">{s.service.clone()}</th>
                        <td role="cell" data-label="Estimate" class="num">{estimate}</td>
                        <td role="cell" data-label="Actual" class="num">{usd(s.actual_usd)}</td>
                        <td role="cell" data-label="Difference" class="num">{format!("{}{}", if s.difference_usd > 0.0 { "+" } else { "" }, usd(s.difference_usd))}</td>
                        <td role="cell" data-label="Why"><strong>{s.verdict.label()}</strong>": "{s.reason.clone()}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
        {p.prorated.map(|why| view! { <p class="hint">{why}</p> })}
        {p.provisional.then(|| view! { <p class="hint">"Cost Explorer marks these figures provisional: they may still change."</p> })}
    }
}
