//! Feedback shared by pages and widgets: a failure shown in place of what could not load.

use leptos::prelude::*;

/// A failure (a refusal's message or a failed call), announced to screen readers.
pub fn error_view(message: String) -> AnyView {
    view! { <p class="error" role="alert">{message}</p> }.into_any()
}
