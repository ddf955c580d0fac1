//! The caller's API tokens on the settings page: listed (name, prefix, created, last used, expiry),
//! created (the token shown this once) and revoked.

use leptos::prelude::*;

use crate::components::feedback::error_view;
use crate::format::timestamp;
use crate::model::{NewTokenView, Refusal, TokenView};
use crate::{create_token, revoke_token};

type TokensResource = Resource<Result<Result<Vec<TokenView>, Refusal>, ServerFnError>>;

/// `tokens` is made with the page (hydration meets it in order); `changed` reloads it.
#[component]
pub fn TokenManager(tokens: TokensResource, changed: RwSignal<u32>) -> impl IntoView {
    let created = RwSignal::new(None::<NewTokenView>);
    view! {
        <section class="tokens" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"Your API tokens"</h2>
            <p class="muted">"For scripts: send one as Authorization: Bearer. Each expires; revoke one you no longer use."</p>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(Ok(list)) => token_table(list, changed),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Transition>
            {move || created.get().map(|c| view! {
                <div class="registered" role="region" aria-label="New token">
                    <p>{format!("Token “{}”, shown this once (only its hash is kept):", c.token.name)}</p>
                    <code class="new-token">{c.secret}</code>
                </div>
            })}
            <NewToken created=created changed=changed/>
        </section>
    }
}

fn token_table(list: Vec<TokenView>, changed: RwSignal<u32>) -> AnyView {
    let when = |at: Option<i64>, none: &'static str| at.map(timestamp).unwrap_or_else(|| none.to_owned());
    view! {
        <div class="table-scroll">
            <table class="token-list">
                <caption>"Tokens"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Starts with"</th><th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col">"State"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|t| {
                        let (id, name) = (t.id, t.name.clone());
                        let revoke = Action::new(move |_: &()| revoke_token(id));
                        Effect::new(move |_| {
                            if let Some(Ok(Ok(_))) = revoke.value().get() {
                                changed.update(|n| *n += 1);
                            }
                        });
                        view! {
                            <tr>
                                <th scope="row">{t.name.clone()}</th>
                                <td><code>{format!("{}…", t.prefix)}</code></td>
                                <td>{timestamp(t.created_at)}</td>
                                <td>{when(t.last_used_at, "never")}</td>
                                <td>{when(t.expires_at, "never")}</td>
                                <td>{match t.revoked_at {
                                    Some(at) => format!("revoked {}", timestamp(at)).into_any(),
                                    None => view! {
                                        <button type="button" class="button secondary" on:click=move |_| { revoke.dispatch(()); }>
                                            {format!("Revoke {name}")}
                                        </button>
                                    }.into_any(),
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn NewToken(created: RwSignal<Option<NewTokenView>>, changed: RwSignal<u32>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("90".to_owned());
    let create = Action::new(move |_: &()| {
        let days = days.get_untracked().trim().parse::<i64>().unwrap_or(0);
        create_token(name.get_untracked(), days)
    });
    Effect::new(move |_| {
        if let Some(Ok(Ok(view))) = create.value().get() {
            created.set(Some(view));
            changed.update(|n| *n += 1);
        }
    });
    let refusal = move || match create.value().get() {
        Some(Ok(Err(r))) => Some(r.message),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <form class="new-token-form" on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
            <h3>"New token"</h3>
            <div class="field"><label for="token-name">"Token name"</label>
                <input id="token-name" required autocomplete="off" on:input=move |ev| name.set(event_target_value(&ev))/></div>
            <div class="field"><label for="token-days">"Days until it expires (1 to 366)"</label>
                <input id="token-days" type="number" min="1" max="366" prop:value=move || days.get()
                    on:input=move |ev| days.set(event_target_value(&ev))/></div>
            <p class="error" role="alert">{refusal}</p>
            <button type="submit" class="button" disabled=move || create.pending().get()>"Create token"</button>
        </form>
    }
}
