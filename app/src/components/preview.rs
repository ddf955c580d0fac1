//! The change preview of an update request: what CloudFormation will change, phase by phase
//! (computing, failed, or a table of changes with replacements marked, and for a repair each
//! property it puts back).

use leptos::prelude::*;

use crate::model::{PreviewStatus, PreviewView};

/// The change preview of an update request, phase by phase.
#[component]
pub fn PreviewSection(preview: PreviewView) -> impl IntoView {
    view! {
        <section class="preview" aria-labelledby="preview-heading">
            <h2 id="preview-heading">"What CloudFormation will change"</h2>
            {match preview.status {
                PreviewStatus::Computing => view! { <p class="loading" role="status">"Computing the change sets…"</p> }.into_any(),
                PreviewStatus::Failed => view! { <p class="error" role="alert">{format!("The changes could not be computed: {}", preview.error.clone().unwrap_or_default())}</p> }.into_any(),
                _ => view! {
                    <div class="table-scroll"><table class="changes">
                        <thead><tr><th scope="col">"Phase"</th><th scope="col">"Action"</th><th scope="col">"Resource"</th><th scope="col">"Type"</th><th scope="col">"Replacement"</th></tr></thead>
                        <tbody>
                            {preview.phases.iter().flat_map(|p| {
                                let stack = p.stack_name.clone();
                                let rows: Vec<_> = if p.changes.is_empty() {
                                    vec![view! { <tr><td>{stack.clone()}</td><td colspan="4">"no change"</td></tr> }.into_any()]
                                } else {
                                    p.changes.iter().map(|c| {
                                        let replaced = c.replacement == "True";
                                        view! {
                                            <tr class=format!("change-{}", c.action.to_lowercase())>
                                                <td>{stack.clone()}</td>
                                                <td>{c.action.clone()}</td>
                                                <td>
                                                    {c.logical_id.clone()}
                                                    {(!c.reverts.is_empty()).then(|| view! {
                                                        <ul class="differences" aria-label=format!("What {} puts back", c.logical_id)>
                                                            {c.reverts.iter().map(|r| view! {
                                                                <li>"puts back "<code>{r.path.clone()}</code>": now "<code>{r.actual.clone()}</code>", template "<code>{r.expected.clone()}</code></li>
                                                            }).collect_view()}
                                                        </ul>
                                                    })}
                                                </td>
                                                <td>{c.resource_type.clone()}</td>
                                                <td>{if replaced { view! { <strong class="warning">"replaced"</strong> }.into_any() } else { c.replacement.clone().into_any() }}</td>
                                            </tr>
                                        }.into_any()
                                    }).collect()
                                };
                                rows
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any(),
            }}
        </section>
    }
}
