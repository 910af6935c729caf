//! Talking to an Ed-Fi API: the session (discovery, OAuth, requests with retries), the retry
//! policy, the API's error bodies, its OpenAPI model and its dependency order.

pub mod dependencies;
pub mod errors;
pub mod flow;
pub mod openapi;
pub mod retry;
pub mod routes;
pub mod session;
pub mod url;
