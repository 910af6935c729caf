//! OAuth: the token endpoint (client credentials in a Basic header or in a JSON or form body),
//! the tokens it issues, and the bearer check of every data request.

use super::errors::{message, problem};
use super::forms::url_form;
use super::roots::Root;
use super::state::{Client, IssuedToken, Sandbox, Shared};
use crate::store::ErrorStyle;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// `POST /oauth/token`: a bearer token for known client credentials.
pub(super) async fn token(
    State(sb): State<Shared>,
    Extension(root): Extension<Root>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    match grant(&sb, &root, &headers, &body) {
        Ok(body) => axum::Json(body).into_response(),
        Err(Refused::TooManyTokens) => too_many_tokens(&sb),
        Err(Refused::OAuth(status, error)) => {
            (status, axum::Json(json!({ "error": error }))).into_response()
        }
    }
}

/// The ODS/API's answer to a client that holds `--token-limit` live tokens (Ed-Fi-ODS
/// `TooManyTokensException`; no `Retry-After`: its tokens live until they expire).
fn too_many_tokens(sb: &Sandbox) -> Response<Body> {
    let status = StatusCode::TOO_MANY_REQUESTS;
    let detail = "The caller has authenticated too many times in too short of a time period.";
    let error = format!(
        "Too many access tokens have been requested (limit is {}). Access tokens should be reused until they expire.",
        sb.cfg.token_limit
    );
    match sb.api.style {
        ErrorStyle::V72 => problem(
            status,
            "urn:ed-fi:api:security:authentication:too-many-tokens",
            "Too Many Tokens",
            detail,
            Some(("errors", json!([error]))),
        ),
        ErrorStyle::V71 => message(status, &format!("{detail} {error}"), None),
    }
}

/// An OAuth error: its status and `error` code.
type Refusal = (StatusCode, &'static str);

/// Why a token is not granted.
enum Refused {
    OAuth(StatusCode, &'static str),
    TooManyTokens,
}

impl From<Refusal> for Refused {
    fn from((status, error): Refusal) -> Refused {
        Refused::OAuth(status, error)
    }
}

/// The body of a granted token request, or why it is refused.
fn grant(sb: &Sandbox, root: &Root, headers: &HeaderMap, body: &[u8]) -> Result<Value, Refused> {
    let fields = request_fields(headers, body)?;
    let creds = client_credentials(headers, &fields)?;
    if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(Refused::OAuth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ));
    }
    // a client bound to a tenant gets tokens at that tenant's root only
    let known = sb.cfg.clients.iter().find(|c| {
        c.id == creds.0 && c.secret == creds.1 && (c.tenant.is_none() || c.tenant == root.tenant)
    });
    let Some(client) = known else {
        return Err(Refused::OAuth(StatusCode::UNAUTHORIZED, "invalid_client"));
    };
    let token = issue_token(sb, root, client).ok_or(Refused::TooManyTokens)?;
    let mut body = json!({"access_token": token, "expires_in": sb.cfg.token_ttl.as_secs(), "token_type": "bearer"});
    if let Some(scope) = fields.get("scope") {
        body["scope"] = json!(scope);
    }
    Ok(body)
}

/// The bearer check of a data request: the profiles assigned to the token's client, or why it
/// fails.
pub(super) fn check_bearer(
    sb: &Sandbox,
    root: &Root,
    headers: &HeaderMap,
) -> Result<Vec<String>, &'static str> {
    let Some(h) = headers.get(header::AUTHORIZATION) else {
        return Err("Authorization header is missing.");
    };
    let h = h.to_str().map_err(|_| "Invalid Authorization header.")?;
    let Some((scheme, token)) = h.split_once(' ') else {
        return Err("Invalid Authorization header.");
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("Unknown Authorization header scheme.");
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("Missing Authorization header bearer token value.");
    }
    // a token works in the tenant it was issued in
    match sb.tokens.lock().get(token) {
        Some(t) if t.expires > Instant::now() && t.tenant == root.tenant => Ok(t.profiles.clone()),
        _ => Err("Invalid token"),
    }
}

/// The fields of a token request: a JSON object (by its content type) or a URL-encoded form.
fn request_fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.contains("json") {
        return Ok(url_form(body));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect()),
        _ => Err((StatusCode::BAD_REQUEST, "invalid_request")),
    }
}

/// The client id and secret of a token request: in a Basic Authorization header or in the
/// fields, not in both.
fn client_credentials(
    headers: &HeaderMap,
    fields: &HashMap<String, String>,
) -> Result<(String, String), Refusal> {
    let basic = basic_credentials(headers)?;
    let in_body = match (fields.get("client_id"), fields.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => None,
    };
    match (basic, in_body) {
        (Some(_), Some(_)) => Err((StatusCode::BAD_REQUEST, "invalid_client")),
        (Some(c), None) | (None, Some(c)) => Ok(c),
        (None, None) => Err((StatusCode::UNAUTHORIZED, "invalid_request")),
    }
}

/// The credentials of a Basic Authorization header, if there is one.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, Refusal> {
    let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some((scheme, value)) = h.split_once(' ') else {
        return Err((StatusCode::BAD_REQUEST, "invalid_request"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err((StatusCode::UNAUTHORIZED, "invalid_client"));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((id, secret)) => Ok(Some((id.to_string(), secret.to_string()))),
        None => Err((StatusCode::BAD_REQUEST, "invalid_request")),
    }
}

/// A new token, valid for `--token-ttl`, counted, and appended to the `--log-tokens` file.
/// A new token for `client` in `root`'s tenant; None when the client already holds
/// `--token-limit` live tokens.
fn issue_token(sb: &Sandbox, root: &Root, client: &Client) -> Option<String> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    {
        let mut tokens = sb.tokens.lock();
        let now = Instant::now();
        tokens.retain(|_, t| t.expires > now);
        if tokens.values().filter(|t| t.client == client.id).count() >= sb.cfg.token_limit {
            return None;
        }
        tokens.insert(
            token.clone(),
            IssuedToken {
                expires: now + sb.cfg.token_ttl,
                tenant: root.tenant.clone(),
                client: client.id.clone(),
                profiles: client.profiles.clone(),
            },
        );
    }
    sb.tokens_issued.fetch_add(1, Ordering::Relaxed);
    if let Some(path) = &sb.cfg.token_log {
        use std::io::Write;
        let logged = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{token}"));
        if let Err(e) = logged {
            eprintln!("cannot log the token to {}: {e}", path.display());
        }
    }
    Some(token)
}
