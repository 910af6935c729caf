//! The data operations, one handler each: GET of a collection (its query parameters checked),
//! GET by id (`If-None-Match`), POST (upsert by identity), PUT and DELETE (`If-Match`); with
//! `--relationship-auth`, POST and PUT bodies are authorized first (403). Under a profile
//! (`profiles.rs`), a GET returns what its readable content type lets through (with the profile
//! media type as `Content-Type`), and a POST or PUT writes what its writable content type lets
//! through, the other members keeping their stored values. The route and the bearer token were
//! checked before (`routing.rs`); a handler's `Err` is rendered in the configured error style.

use super::forms::parse_query;
use super::profiles::Applied;
use super::state::Sandbox;
use crate::store::{ApiError, ErrorStyle, Query, Store};
use axum::body::Body;
use axum::http::header::{self, HeaderName};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use parking_lot::RwLock;
use serde_json::Value;
use std::sync::Arc;

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The collection a data request addresses: one endpoint in the store of an instance/year.
pub(super) struct Collection {
    /// The URL of its root: the base URL and the tenant and context segments.
    pub(super) root_url: String,
    /// The instance/year segments of the URL ("" for none, else e.g. "255901/2024").
    pub(super) prefix: String,
    pub(super) store: Arc<RwLock<Store>>,
    pub(super) ep: usize,
    /// The profile the request is under, if any.
    pub(super) profile: Option<Applied>,
}

impl Collection {
    /// Items as the request may read them: all of them, or what its profile lets through.
    pub(super) fn readable(&self, items: Vec<Value>) -> Vec<Value> {
        match &self.profile {
            Some(p) => items.into_iter().map(|v| p.content.read(v)).collect(),
            None => items,
        }
    }

    /// A JSON answer of data, with the profile media type as its `Content-Type` under a profile.
    pub(super) fn json(&self, value: Value) -> Response<Body> {
        let mut resp = axum::Json(value).into_response();
        if let Some(p) = &self.profile {
            insert_header(&mut resp, header::CONTENT_TYPE, &p.media_type);
        }
        resp
    }
}

type Answer = Result<Response<Body>, ApiError>;

/// GET of a collection: `offset`, `limit`, `totalCount`, `minChangeVersion`/`maxChangeVersion`
/// and filters by property.
pub(super) fn list(sb: &Sandbox, c: &Collection, uri: &Uri) -> Answer {
    let (q, total_count) = list_query(sb.api.style, uri)?;
    let (items, total) = c.store.read().list(&sb.api, c.ep, &q);
    let mut resp = c.json(Value::Array(c.readable(items)));
    if total_count {
        resp.headers_mut()
            .insert("Total-Count", HeaderValue::from(total));
    }
    Ok(resp)
}

/// GET by id, 304 when `If-None-Match` names its etag.
pub(super) fn get(sb: &Sandbox, c: &Collection, id: &str, headers: &HeaderMap) -> Answer {
    let item = c.store.read().get(&sb.api, c.ep, id)?;
    let etag = quoted(item["_etag"].as_str().unwrap_or_default());
    if header_str(headers, header::IF_NONE_MATCH) == Some(etag.as_str()) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let item = c.readable(vec![item]).swap_remove(0);
    let mut resp = c.json(item);
    insert_header(&mut resp, header::ETAG, &etag);
    Ok(resp)
}

/// POST: 201 for a new record, 200 for the update of the record of the same identity.
pub(super) async fn post(sb: &Sandbox, c: &Collection, body: Body) -> Answer {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::BadRequest {
            detail: "The request could not be processed.".into(),
            errors: vec!["The request body could not be read.".into()],
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(empty_body());
    }
    let mut value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::validation("$", format!("The request body is not valid JSON: {e}"))
    })?;
    if c.profile.is_none() {
        sb.api.precheck(c.ep, &mut value)?;
    }
    let u = {
        let mut store = c.store.write();
        if let Some(p) = &c.profile {
            // what the profile writes, merged into the record of the same identity
            let obj = value.as_object().ok_or_else(ApiError::not_an_object)?;
            if obj.contains_key("id") {
                return Err(ApiError::IdInBody);
            }
            let stored = store.body_with_identity(&sb.api, c.ep, obj);
            value = Value::Object(p.content.write(&p.name, stored, obj)?);
            sb.api.precheck(c.ep, &mut value)?;
        }
        authorize(sb, &store, c.ep, &value)?;
        store.upsert_checked(&sb.api, c.ep, value)?
    };
    let name = &sb.api.model.endpoints[c.ep];
    sb.stats
        .lock()
        .count_upsert(u.created, &format!("{}/{}", name.namespace, name.name));
    let status = if u.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = status.into_response();
    insert_header(
        &mut resp,
        header::LOCATION,
        &format!("{}/{}", location_base(sb, c), u.id),
    );
    insert_header(&mut resp, header::ETAG, &quoted(u.etag));
    Ok(resp)
}

/// PUT by id: 204 with the new etag.
pub(super) async fn put(
    sb: &Sandbox,
    c: &Collection,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Answer {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let mut value: Value = serde_json::from_slice(&bytes).map_err(|_| empty_body())?;
    let etag = {
        let mut store = c.store.write();
        check_if_match(headers, &store, c.ep, id)?;
        if let (Some(p), Some(obj)) = (&c.profile, value.as_object()) {
            // what the profile writes, merged into the stored record
            if let Some(stored) = store.body_of(c.ep, id) {
                value = Value::Object(p.content.write(&p.name, Some(stored), obj)?);
            }
        }
        authorize(sb, &store, c.ep, &value)?;
        store.put(&sb.api, c.ep, id, value)?
    };
    let mut resp = StatusCode::NO_CONTENT.into_response();
    insert_header(&mut resp, header::ETAG, &quoted(etag));
    Ok(resp)
}

/// DELETE by id: 204.
pub(super) fn delete(sb: &Sandbox, c: &Collection, id: &str, headers: &HeaderMap) -> Answer {
    let mut store = c.store.write();
    check_if_match(headers, &store, c.ep, id)?;
    store.delete(&sb.api, c.ep, id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The query of a collection GET and whether `totalCount=true` asks for the `Total-Count`
/// header; a bad `offset`, `limit`, `id`, `minChangeVersion` or `maxChangeVersion` is a 400.
pub(super) fn list_query(style: ErrorStyle, uri: &Uri) -> Result<(Query, bool), ApiError> {
    let mut q = Query {
        offset: 0,
        limit: 25,
        ..Query::default()
    };
    let mut total_count = false;
    for (k, v) in parse_query(uri) {
        match k.to_ascii_lowercase().as_str() {
            "offset" => match v.parse::<usize>() {
                Ok(n) => q.offset = n,
                Err(_) => {
                    return Err(ApiError::Parameter(
                        "Offset must be a non-negative integer.".into(),
                    ))
                }
            },
            "limit" => match v.parse::<i64>() {
                Ok(n) if (0..=500).contains(&n) => q.limit = n as usize,
                _ => {
                    return Err(ApiError::Parameter(if style == ErrorStyle::V72 {
                        "Limit must be a value between 0 and 500.".into()
                    } else {
                        "Limit must be omitted or set to a value between 0 and 500.".into()
                    }))
                }
            },
            "totalcount" => total_count = v.eq_ignore_ascii_case("true"),
            "minchangeversion" => q.window.min = change_version("MinChangeVersion", &v)?,
            "maxchangeversion" => q.window.max = change_version("MaxChangeVersion", &v)?,
            "pagesize" | "pagetoken" => {}
            "id" => {
                let norm = v.replace('-', "");
                if norm.len() != 32 || !norm.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ApiError::validation(
                        "$.id",
                        format!("The value '{v}' is not valid for Id."),
                    ));
                }
                q.filters.push((k, v));
            }
            _ => q.filters.push((k, v)),
        }
    }
    Ok((q, total_count))
}

/// A `minChangeVersion` or `maxChangeVersion` (`name` as the ODS's model binding names it):
/// empty for none, else a 64-bit integer, else the 400 of the ODS's model binding.
pub(super) fn change_version(name: &str, v: &str) -> Result<Option<i64>, ApiError> {
    if v.is_empty() {
        return Ok(None);
    }
    v.trim()
        .parse::<i64>()
        .map(Some)
        .map_err(|_| not_valid_for(name, v))
}

/// The 400 of the ODS's model binding of a query parameter that is not of its type.
pub(super) fn not_valid_for(name: &str, v: &str) -> ApiError {
    ApiError::validation(
        &format!("$.{name}"),
        format!("The value '{v}' is not valid for {name}."),
    )
}

/// The `If-Match` precondition of PUT and DELETE: when given, it must be the record's etag.
fn check_if_match(headers: &HeaderMap, store: &Store, ep: usize, id: &str) -> Result<(), ApiError> {
    let Some(if_match) = header_str(headers, header::IF_MATCH) else {
        return Ok(());
    };
    if store.etag_of(ep, id).map(quoted).as_deref() == Some(if_match) {
        Ok(())
    } else {
        Err(ApiError::OptimisticLock)
    }
}

/// With `--relationship-auth`, the relationship check of a POST or PUT body (403).
fn authorize(sb: &Sandbox, store: &Store, ep: usize, body: &Value) -> Result<(), ApiError> {
    if sb.cfg.relationship_auth {
        store.check_relationships(&sb.api, ep, body)
    } else {
        Ok(())
    }
}

/// The URL of the collection, which the `Location` of a POST extends with the record's id.
fn location_base(sb: &Sandbox, c: &Collection) -> String {
    let endpoint = sb.api.endpoint(c.ep);
    let prefix = if c.prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", c.prefix)
    };
    format!(
        "{}{}{prefix}{}/{}",
        c.root_url,
        sb.data_path(),
        endpoint.namespace,
        endpoint.name
    )
}

/// The 400 of a POST or PUT without a body.
fn empty_body() -> ApiError {
    ApiError::BadRequest {
        detail: "The request could not be processed. See 'errors' for details.".into(),
        errors: vec!["A non-empty request body is required.".into()],
    }
}

/// An etag as its header carries it, in double quotes.
fn quoted(etag: impl std::fmt::Display) -> String {
    format!("\"{etag}\"")
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Set a header, unless `value` cannot be one.
fn insert_header(resp: &mut Response<Body>, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}
