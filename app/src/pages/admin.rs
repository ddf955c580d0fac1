//! The admin page (`/admin`): everyone who can sign in with their roles, each row saved on its
//! own, the form that adds a user, and the registered environments.

use leptos::prelude::*;

use crate::components::environment_registry::EnvironmentRegistry;
use crate::components::feedback::error_view;
use crate::model::{Refusal, RegisteredView, Role, UserView};
use crate::{create_user, list_environments, list_users, save_roles, set_user_disabled};

#[component]
pub fn AdminPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    // Made with the page, not inside the users' Suspense, so hydration meets the same resources in
    // the same order; shown only to those the users list is for (admins).
    let registered = RwSignal::new(None::<RegisteredView>);
    let environments = Resource::new(move || registered.get().map(|r| r.environment.name), |_| list_environments());
    view! {
        <section class="page">
            <h1>"Users and roles"</h1>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(Ok(list)) => view! {
                            <div class="table-scroll">
                                <table class="users">
                                    <caption>"Everyone who can sign in"</caption>
                                    <thead><tr>
                                        <th scope="col">"User"</th>
                                        {Role::ALL.iter().map(|r| view! { <th scope="col">{r.as_str()}</th> }).collect_view()}
                                        <th scope="col">"Save"</th>
                                        <th scope="col">"Access"</th>
                                    </tr></thead>
                                    <tbody>{list.into_iter().map(|u| view! { <UserRow user=u/> }).collect_view()}</tbody>
                                </table>
                            </div>
                            <AddUser/>
                            <EnvironmentRegistry environments=environments registered=registered/>
                        }.into_any(),
                        Ok(Err(r)) => error_view(r.message),
                        Err(e) => error_view(e.to_string()),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn UserRow(user: UserView) -> impl IntoView {
    let roles = RwSignal::new(user.roles.clone());
    let name = user.name.clone();
    let save = Action::new(move |_: &()| save_roles(name.clone(), roles.get_untracked()));
    let message = move || match save.value().get() {
        Some(Ok(Ok(_))) => "Saved".to_owned(),
        Some(Ok(Err(Refusal { message, .. }))) => message,
        Some(Err(e)) => e.to_string(),
        None => String::new(),
    };
    let user_name = user.name.clone();
    view! {
        <tr>
            <th scope="row">{user.name.clone()}</th>
            {Role::ALL.iter().copied().map(|role| {
                let label = format!("{role} role for {user_name}");
                let checked = user.roles.contains(&role);
                view! {
                    <td><input type="checkbox" aria-label=label checked=checked on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        roles.update(|rs| { rs.retain(|r| *r != role); if on { rs.push(role); } });
                    }/></td>
                }
            }).collect_view()}
            <td>
                <button type="button" class="button secondary" on:click=move |_| { save.dispatch(()); }>
                    {format!("Save {}", user.name)}
                </button>
                <span class="save-result" role="status">{message}</span>
            </td>
            <td><AccessToggle name=user.name.clone() disabled=user.disabled/></td>
        </tr>
    }
}

/// Disables or enables a user; the button says what it will do, the status what was done.
#[component]
fn AccessToggle(name: String, disabled: bool) -> impl IntoView {
    let disabled = RwSignal::new(disabled);
    let user = name.clone();
    let toggle = Action::new(move |to: &bool| set_user_disabled(user.clone(), *to));
    Effect::new(move |_| {
        if let Some(Ok(Ok(view))) = toggle.value().get() {
            disabled.set(view.disabled);
        }
    });
    let message = move || match toggle.value().get() {
        Some(Ok(Ok(view))) => if view.disabled { "Disabled" } else { "Enabled" }.to_owned(),
        Some(Ok(Err(Refusal { message, .. }))) => message,
        Some(Err(e)) => e.to_string(),
        None => if disabled.get() { "Disabled" } else { "" }.to_owned(),
    };
    view! {
        <button type="button" class="button secondary" on:click=move |_| { toggle.dispatch(!disabled.get_untracked()); }>
            {move || format!("{} {name}", if disabled.get() { "Enable" } else { "Disable" })}
        </button>
        <span class="save-result" role="status">{message}</span>
    }
}

#[component]
fn AddUser() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let roles = RwSignal::new(Vec::<Role>::new());
    let add =
        Action::new(move |_: &()| create_user(name.get_untracked(), roles.get_untracked(), password.get_untracked()));
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = add.value().get() {
            let _ = window().location().reload();
        }
    });
    let message = move || match add.value().get() {
        Some(Ok(Err(r))) => Some(r.message),
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <form class="add-user" on:submit=move |ev| { ev.prevent_default(); add.dispatch(()); }>
            <h2>"Add a user"</h2>
            <div class="field"><label for="new-name">"User name"</label>
                <input id="new-name" required autocomplete="off" on:input=move |ev| name.set(event_target_value(&ev))/></div>
            <div class="field"><label for="new-password">"Initial password (12 characters or more)"</label>
                <input id="new-password" type="password" required autocomplete="new-password"
                    on:input=move |ev| password.set(event_target_value(&ev))/></div>
            <fieldset><legend>"Roles"</legend>
                {Role::ALL.iter().copied().map(|role| {
                    let label = role.as_str();
                    view! { <label class="check"><input type="checkbox" on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        roles.update(|rs| { rs.retain(|r| *r != role); if on { rs.push(role); } });
                    }/>{label}</label> }
                }).collect_view()}
            </fieldset>
            <p class="error" role="alert">{message}</p>
            <button type="submit" class="button" disabled=move || add.pending().get()>"Add user"</button>
        </form>
    }
}
