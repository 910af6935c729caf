//! Change Queries of the ODS/API 7.x, always on: `GET {root}/changeQueries/v1/availableChangeVersions`
//! (the database's newest change version), and per resource `/deletes` and `/keyChanges`
//! (Ed-Fi-ODS `AvailableChangeVersionsController`, `DeletesController`, `KeyChangesController`);
//! `minChangeVersion`/`maxChangeVersion` on a collection GET are read by `data.rs`.
//!
//! The sandbox refuses identity changes through PUT (as the ODS does for resources without
//! cascading key updates), so `/keyChanges` is always the empty array the ODS gives for
//! resources that do not support key changes; its parameters are checked all the same.

use super::data::{change_version, not_valid_for, Collection};
use super::forms::parse_query;
use crate::store::{ApiError, Query, Store};
use axum::body::Body;
use axum::http::{HeaderValue, Response, Uri};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The ODS's `DefaultPageSizeLimit`: the largest `limit`, and the page of `/deletes` and
/// `/keyChanges` when none is given.
const PAGE_SIZE_LIMIT: i64 = 500;

type Answer = Result<Response<Body>, ApiError>;

/// `availableChangeVersions`: the oldest change version (always 0: nothing is purged) and the
/// newest one given in this database.
pub(super) fn available_change_versions(store: &Store) -> Answer {
    Ok(axum::Json(json!({
        "oldestChangeVersion": 0,
        "newestChangeVersion": store.newest_change_version(),
    }))
    .into_response())
}

/// `GET /{namespace}/{resource}/deletes`: records deleted (and not re-created) within the
/// change version window.
pub(super) fn deletes(c: &Collection, uri: &Uri) -> Answer {
    let (q, total_count) = tracked_query(uri)?;
    let (items, total) = c.store.read().deletes(c.ep, &q);
    Ok(with_total(items, total_count.then_some(total)))
}

/// `GET /{namespace}/{resource}/keyChanges`: always empty here (see the module's note).
pub(super) fn key_changes(uri: &Uri) -> Answer {
    let (_, total_count) = tracked_query(uri)?;
    Ok(with_total(Vec::new(), total_count.then_some(0)))
}

/// A JSON array, with the `Total-Count` header when asked for.
fn with_total(items: Vec<Value>, total: Option<usize>) -> Response<Body> {
    let mut resp = axum::Json(Value::Array(items)).into_response();
    if let Some(total) = total {
        resp.headers_mut()
            .insert("Total-Count", HeaderValue::from(total));
    }
    resp
}

/// The query of `/deletes` and `/keyChanges` and whether `totalCount=true` asks for the
/// `Total-Count` header, with the ODS's checks: parameters of the wrong type are the 400 of its
/// model binding (every one named); then a `limit` outside 0..=500 or a negative `offset` is
/// the 400 of its `UrlQueryParametersRequest.Validate` (both told). Other parameters are
/// ignored.
fn tracked_query(uri: &Uri) -> Result<(Query, bool), ApiError> {
    let mut q = Query {
        offset: 0,
        limit: PAGE_SIZE_LIMIT as usize,
        ..Query::default()
    };
    let mut total_count = false;
    let (mut offset, mut limit) = (None, None);
    let mut binding: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut bind_failed = |e: ApiError| {
        if let ApiError::Validation(m) = e {
            binding.extend(m);
        }
    };
    for (k, v) in parse_query(uri) {
        match k.to_ascii_lowercase().as_str() {
            "offset" => match int32("Offset", &v) {
                Ok(n) => offset = n,
                Err(e) => bind_failed(e),
            },
            "limit" => match int32("Limit", &v) {
                Ok(n) => limit = n,
                Err(e) => bind_failed(e),
            },
            "totalcount" => match v.trim().to_ascii_lowercase().as_str() {
                "" | "false" => total_count = false,
                "true" => total_count = true,
                _ => bind_failed(not_valid_for("TotalCount", &v)),
            },
            "minchangeversion" => match change_version("MinChangeVersion", &v) {
                Ok(n) => q.window.min = n,
                Err(e) => bind_failed(e),
            },
            "maxchangeversion" => match change_version("MaxChangeVersion", &v) {
                Ok(n) => q.window.max = n,
                Err(e) => bind_failed(e),
            },
            _ => {}
        }
    }
    if !binding.is_empty() {
        return Err(ApiError::Validation(binding));
    }
    let mut invalid = Vec::new();
    if limit.is_some_and(|n| !(0..=PAGE_SIZE_LIMIT).contains(&n)) {
        invalid.push(format!(
            "Limit must be omitted or set to a value between 1 and {PAGE_SIZE_LIMIT}."
        ));
    }
    if offset.unwrap_or(0) < 0 {
        invalid.push("Offset must be greater than or equal to 0.".to_string());
    }
    if !invalid.is_empty() {
        return Err(ApiError::ParametersInvalid(invalid));
    }
    if let Some(n) = limit {
        q.limit = n as usize;
    }
    q.offset = offset.unwrap_or(0) as usize;
    Ok((q, total_count))
}

/// A 32-bit integer parameter (empty for none), else the 400 of the ODS's model binding.
fn int32(name: &str, v: &str) -> Result<Option<i64>, ApiError> {
    if v.is_empty() {
        return Ok(None);
    }
    v.trim()
        .parse::<i32>()
        .map(|n| Some(i64::from(n)))
        .map_err(|_| not_valid_for(name, v))
}
