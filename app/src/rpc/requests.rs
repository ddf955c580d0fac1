//! Deployment and teardown requests: create, the history and approvals queue, one request,
//! approve or reject.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::model::{Decision, TeardownForm};
use crate::model::{HistoryPage, HistoryQuery, Refusal, RequestDetail, RequestForm};
#[cfg(feature = "ssr")]
use crate::rpc::context::{backend, signed_in, split};

#[server(prefix = "/rpc", endpoint = "request_deployment", input = leptos::server_fn::codec::Json)]
pub async fn request_deployment(form: RequestForm) -> Result<Result<i64, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.create_request(&signed_in(&backend).await?, form).await }.await)
}

#[server(prefix = "/rpc", endpoint = "history", input = leptos::server_fn::codec::Json)]
pub async fn history(query: HistoryQuery) -> Result<Result<HistoryPage, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.history(&signed_in(&backend).await?, query).await }.await)
}

#[server(prefix = "/rpc", endpoint = "request_detail")]
pub async fn get_request_detail(id: i64) -> Result<Result<RequestDetail, Refusal>, ServerFnError> {
    let backend = backend()?;
    split(async { backend.request(&signed_in(&backend).await?, id).await }.await)
}

#[server(prefix = "/rpc", endpoint = "decide_request")]
pub async fn decide_request(
    id: i64,
    approve: bool,
    comment: String,
) -> Result<Result<RequestDetail, Refusal>, ServerFnError> {
    let backend = backend()?;
    let decision = if approve { Decision::Approve } else { Decision::Reject };
    split(async { backend.decide(&signed_in(&backend).await?, id, decision, comment).await }.await)
}

/// Requests the teardown of an environment the portal deployed; answers with the request's id.
#[server(prefix = "/rpc", endpoint = "request_teardown")]
pub async fn request_teardown(
    environment: String,
    region: String,
    role_arn: String,
    justification: String,
) -> Result<Result<i64, Refusal>, ServerFnError> {
    let backend = backend()?;
    let form = TeardownForm { environment, region, role_arn, justification };
    split(async { backend.request_teardown(&signed_in(&backend).await?, form).await }.await)
}
