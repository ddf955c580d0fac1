//! The security posture of a tier or a request: what travels unencrypted (said first, as a
//! risk), the request path hop by hop, the principles kept or missing, and the policy checks the
//! templates waive with their reasons. Shared by the tier page and the request page.

use leptos::prelude::*;

use crate::model::PostureView;

#[component]
pub fn SecurityPosture(posture: PostureView) -> impl IntoView {
    let kept = posture.controls.iter().filter(|c| c.met).count();
    let total = posture.controls.len();
    let risky: Vec<String> = posture
        .request_path
        .iter()
        .filter(|h| h.public && !h.encrypted)
        .map(|h| format!("{} → {}", h.from, h.to))
        .collect();
    let waivers = posture.accepted_risks.len();
    let domain = posture.domain.clone();
    view! {
        <section class="posture" aria-labelledby="posture-heading">
            <h2 id="posture-heading">"Security posture"</h2>
            <p class="posture-summary">
                {format!("{kept} of {total} principles kept · {waivers} accepted risks")}
                {domain.map(|d| format!(" · served at {d}"))}
            </p>
            {(!risky.is_empty()).then(|| view! {
                <p class="warning" role="note" data-testid="unencrypted-warning">
                    <strong>"Unencrypted traffic: "</strong>
                    {format!(
                        "{} {} plain HTTP over the internet, readable and changeable on the way. \
                         Register the environment with a domain to get a certificate and HTTPS end to end.",
                        risky.join(" and "),
                        if risky.len() == 1 { "travels as" } else { "travel as" }
                    )}
                </p>
            })}
            <h3>"Request path"</h3>
            <ol class="hops" aria-label="Request path">
                {posture
                    .request_path
                    .into_iter()
                    .map(|h| {
                        let class = if h.encrypted { "hop encrypted" } else if h.public { "hop unencrypted" } else { "hop internal" };
                        let note = match (h.encrypted, h.public) {
                            (true, _) => "encrypted",
                            (false, true) => "unencrypted",
                            (false, false) => "inside the VPC",
                        };
                        view! {
                            <li class=class>
                                {format!("{} → {}: ", h.from, h.to)}
                                <strong>{h.protocol}</strong>
                                {format!(" ({note})")}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <h3>"Principles"</h3>
            <ul class="controls-list">
                {posture
                    .controls
                    .into_iter()
                    .map(|c| {
                        let (class, badge) = if c.met { ("control met", "Kept") } else { ("control missing", "Missing") };
                        view! {
                            <li class=class data-control=c.id>
                                <span class="badge">{badge}</span>
                                " "
                                <strong>{c.title}</strong>
                                ": "
                                {c.detail}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <details class="waivers">
                <summary>{format!("Accepted risks ({waivers}): policy checks waived, with their reasons")}</summary>
                <div class="table-scroll">
                    <table>
                        <caption>"Checks (checkov IDs) these templates deliberately do not meet"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Phase"</th>
                                <th scope="col">"Resource"</th>
                                <th scope="col">"Check"</th>
                                <th scope="col">"Reason"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {posture
                                .accepted_risks
                                .into_iter()
                                .map(|w| view! {
                                    <tr>
                                        <td>{w.phase}</td>
                                        <td><code>{w.resource}</code></td>
                                        <td><code>{w.check}</code></td>
                                        <td>{w.reason}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </details>
        </section>
    }
}
