//! `delete`: remove the records of the selected payloads from the API. For each payload, a GET
//! with its identity values (under the query-parameter names the endpoint accepts) finds the
//! record, which is DELETEd by `id` when exactly one matches; otherwise the payload is skipped
//! with a reason ("payload not found in API", "multiple matching payloads found in API", the
//! status of a failed search), counted and reported. Descriptors are matched (namespace +
//! codeValue) against one fetch of all values of their endpoint. Endpoints go in reverse
//! dependency order, level by level, `pool_size` payloads in flight; a deleted payload (and one
//! not found) leaves the state, so a later `send` sends it again. Which payloads: see
//! [`decide_delete`].

use crate::api::errors::error_messages;
use crate::api::openapi::{canonical_scalar, Endpoint, IdentityPart, Model};
use crate::api::session::{Session, SessionError};
use crate::data::lines::{file_lines, ReadError};
use crate::ports::{DataSource, Event, LogLevel, Method, StateStore};
use crate::results::{FailureKind, RunResults};
use crate::run::count::query_url;
use crate::run::fetch::{fetch_all, MAX_PAGE_SIZE};
use crate::run::send::{count_lines, EndpointPlan, RunError};
use crate::state::{
    decide_delete, is_success, payload_hash_hex, Decision, LastOutcome, ResendCriteria,
};
use futures::stream::StreamExt;
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Skip reasons (the Python tool's words).
pub const NOT_FOUND: &str = "payload not found in API";
pub const MULTIPLE: &str = "multiple matching payloads found in API";
pub const NOT_A_LIST: &str = "searching API for payload returned a response that is not a list";
pub const NOT_SELECTED: &str =
    "previously processed and not selected by the -f, -o, -n or -r criteria";

/// Why a payload's identity values cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the payload is not a JSON object")]
    NotAnObject,
    #[error("the payload has no `{0}` (part of the identity of its endpoint)")]
    Missing(String),
    #[error("`{0}` must be a string, number or boolean (part of the identity of its endpoint)")]
    NotScalar(String),
}

/// One identity value of a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityValue {
    /// `entryDate`, `schoolReference.schoolId`.
    pub path: String,
    /// The GET parameter that filters on it (`schoolId`), when the endpoint accepts one.
    pub param: Option<String>,
    pub value: Value,
}

fn scalar(path: &str, v: Option<&Value>) -> Result<Value, IdentityError> {
    match v {
        None | Some(Value::Null) => Err(IdentityError::Missing(path.to_string())),
        Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => Ok(v.clone()),
        Some(_) => Err(IdentityError::NotScalar(path.to_string())),
    }
}

/// The identity values of a payload of `endpoint` (scalars and the fields of identity
/// references, in the schema's order), each with the query parameter that filters on it.
pub fn identity_values(
    endpoint: &Endpoint,
    payload: &Value,
) -> Result<Vec<IdentityValue>, IdentityError> {
    let obj = payload.as_object().ok_or(IdentityError::NotAnObject)?;
    let mut out = Vec::new();
    for part in &endpoint.identity {
        match part {
            IdentityPart::Scalar(name) => {
                let value = scalar(name, obj.get(name))?;
                out.push(IdentityValue {
                    path: name.clone(),
                    param: endpoint.accepts_query_param(name).then(|| name.clone()),
                    value,
                });
            }
            IdentityPart::Reference(prop) => {
                let Some(reference) = endpoint.references.iter().find(|r| &r.property == prop)
                else {
                    continue;
                };
                let Some(robj) = obj.get(prop) else {
                    return Err(IdentityError::Missing(prop.clone()));
                };
                let robj = robj
                    .as_object()
                    .ok_or_else(|| IdentityError::NotScalar(prop.clone()))?;
                for field in &reference.fields {
                    let path = format!("{prop}.{field}");
                    let value = scalar(&path, robj.get(field))?;
                    let param = reference
                        .flattened_names(field)
                        .into_iter()
                        .find(|n| endpoint.accepts_query_param(n));
                    out.push(IdentityValue { path, param, value });
                }
            }
        }
    }
    Ok(out)
}

fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The GET parameters that find a payload's record: its identity values under the parameter
/// names the endpoint accepts (each name once).
pub fn identity_query(values: &[IdentityValue]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for v in values {
        if let Some(p) = &v.param {
            if !out.iter().any(|(k, _)| k.eq_ignore_ascii_case(p)) {
                out.push((p.clone(), param_text(&v.value)));
            }
        }
    }
    out
}

/// Whether a record returned by the API has the payload's identity values (compared as the
/// ODS does: strings trimmed and case-insensitively).
pub fn matches_identity(values: &[IdentityValue], record: &Value) -> bool {
    values.iter().all(|v| {
        let mut cur = Some(record);
        for seg in v.path.split('.') {
            cur = cur.and_then(|c| c.get(seg));
        }
        cur.is_some_and(|found| canonical_scalar(found) == canonical_scalar(&v.value))
    })
}

/// Skipped payloads of one endpoint, file and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipGroup {
    pub endpoint: String,
    pub reason: String,
    pub file: String,
    /// Sorted, 1-based.
    pub line_numbers: Vec<u64>,
}

/// What `delete` reports besides the results: every skip with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    pub skips: Vec<SkipGroup>,
}

/// What stops a delete.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeleteError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("the endpoint {0} is not in the API's OpenAPI documents, so its identity is unknown")]
    UnknownEndpoint(String),
}

impl From<SessionError> for DeleteError {
    fn from(e: SessionError) -> Self {
        DeleteError::Run(RunError::Session(e))
    }
}

impl From<ReadError> for DeleteError {
    fn from(e: ReadError) -> Self {
        DeleteError::Run(RunError::Read {
            file: e.file,
            reason: e.reason,
        })
    }
}

/// Descriptor values of an endpoint: (namespace, codeValue) canonical → ids.
type DescriptorIds = HashMap<(String, String), Vec<String>>;

struct EndpointCtx<'m> {
    endpoint: &'m Endpoint,
    url: String,
    known: HashMap<u128, LastOutcome>,
    /// For descriptors: all values of the API, or why they could not be fetched.
    descriptors: Option<Result<DescriptorIds, String>>,
}

enum Outcome {
    Failed {
        kind: FailureKind,
        messages: Vec<String>,
    },
    Skipped {
        reason: String,
        /// Set when the payload's state should be dropped (not found in the API).
        forget: Option<String>,
    },
    Deleted {
        status: u16,
        hash: String,
    },
}

fn failed(kind: &str, message: impl Into<String>) -> Outcome {
    Outcome::Failed {
        kind: FailureKind::Method(kind.into()),
        messages: vec![message.into()],
    }
}

fn skipped(reason: impl Into<String>) -> Outcome {
    Outcome::Skipped {
        reason: reason.into(),
        forget: None,
    }
}

async fn delete_id(
    session: &Session<'_>,
    url: &str,
    id: &str,
    hash: String,
) -> Result<Outcome, SessionError> {
    Ok(
        match session
            .call(Method::Delete, &format!("{url}/{id}"), None)
            .await?
        {
            Ok(r) if is_success(r.status) => Outcome::Deleted {
                status: r.status,
                hash,
            },
            Ok(r) => Outcome::Failed {
                kind: FailureKind::Status(r.status),
                messages: error_messages(r.status, &r.body),
            },
            Err(e) => failed("connection", e.to_string()),
        },
    )
}

async fn delete_line(
    session: &Session<'_>,
    ctx: &EndpointCtx<'_>,
    text: &str,
    criteria: &ResendCriteria,
) -> Result<Outcome, SessionError> {
    let hash = payload_hash_hex(text);
    let last = u128::from_str_radix(&hash, 16)
        .ok()
        .and_then(|h| ctx.known.get(&h));
    if decide_delete(last, criteria) == Decision::Skip {
        return Ok(skipped(NOT_SELECTED));
    }
    let payload: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Ok(failed("json", format!("invalid JSON: {e}"))),
    };
    let values = match identity_values(ctx.endpoint, &payload) {
        Ok(v) => v,
        Err(e) => return Ok(failed("identity", e.to_string())),
    };
    let not_found = || Outcome::Skipped {
        reason: NOT_FOUND.into(),
        forget: Some(hash.clone()),
    };
    if let Some(descriptors) = &ctx.descriptors {
        let map = match descriptors {
            Ok(m) => m,
            Err(e) => return Ok(skipped(e.clone())),
        };
        let get = |name: &str| {
            values
                .iter()
                .find(|v| v.path == name)
                .map(|v| canonical_scalar(&v.value))
                .unwrap_or_default()
        };
        return Ok(match map.get(&(get("namespace"), get("codeValue"))) {
            None => not_found(),
            Some(ids) if ids.len() == 1 => delete_id(session, &ctx.url, &ids[0], hash).await?,
            Some(_) => skipped(MULTIPLE),
        });
    }
    let query = identity_query(&values);
    let resp = match session
        .call(Method::Get, &query_url(&ctx.url, &query), None)
        .await?
    {
        Ok(r) => r,
        Err(e) => return Ok(failed("connection", e.to_string())),
    };
    if !is_success(resp.status) {
        return Ok(skipped(format!(
            "searching API for payload returned a {} response",
            resp.status
        )));
    }
    let Ok(Value::Array(found)) = serde_json::from_slice::<Value>(&resp.body) else {
        return Ok(skipped(NOT_A_LIST));
    };
    // the query may lack identity values the endpoint cannot filter on: compare them all
    let matching: Vec<&Value> = if found.len() == 1 {
        found.iter().collect()
    } else {
        found
            .iter()
            .filter(|r| matches_identity(&values, r))
            .collect()
    };
    Ok(match matching.as_slice() {
        [] => not_found(),
        [one] => match one.get("id").and_then(Value::as_str) {
            Some(id) => delete_id(session, &ctx.url, id, hash).await?,
            None => skipped("the API's record has no id"),
        },
        _ => skipped(MULTIPLE),
    })
}

struct Progress {
    total: u64,
    done: u64,
    skipped: u64,
    failed: u64,
    statuses: BTreeMap<u16, u64>,
    reasons: IndexMap<String, u64>,
}

fn log_finished(session: &Session<'_>, endpoint: &str, p: &Progress) {
    let counts: Vec<String> = p
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    session.log(
        LogLevel::Info,
        format!(
            "finished processing endpoint {endpoint}! (final status counts: {{{}}})",
            counts.join(", ")
        ),
    );
    const SHOWN: usize = 10;
    for (reason, n) in p.reasons.iter().take(SHOWN) {
        session.log(
            LogLevel::Info,
            format!("  (reason: [{reason}]; instances: {n})"),
        );
    }
    if p.reasons.len() > SHOWN {
        session.log(
            LogLevel::Info,
            format!("  (... and {} others)", p.reasons.len() - SHOWN),
        );
    }
    session.events.emit(Event::EndpointFinished {
        endpoint: endpoint.to_string(),
    });
}

async fn descriptor_ids(
    session: &Session<'_>,
    endpoint: &str,
) -> Result<Result<DescriptorIds, String>, SessionError> {
    session.log(
        LogLevel::Info,
        format!("fetching current descriptors from endpoint {endpoint} ..."),
    );
    let extract = |v: Value| -> Option<((String, String), String)> {
        let id = v.get("id")?.as_str()?.to_string();
        let ns = canonical_scalar(v.get("namespace")?);
        let code = canonical_scalar(v.get("codeValue")?);
        Some(((ns, code), id))
    };
    let page_size = u64::from(session.config.fetch.page_size).clamp(1, MAX_PAGE_SIZE);
    Ok(
        match fetch_all(session, endpoint, page_size, &extract).await? {
            Ok(all) => {
                let mut map: DescriptorIds = HashMap::new();
                for (key, id) in all {
                    map.entry(key).or_default().push(id);
                }
                Ok(map)
            }
            Err(e) => Err(format!(
                "fetching the values of {endpoint} from the API failed: {e}"
            )),
        },
    )
}

/// Delete the payloads of `levels` (in dependency order; processed in reverse). Results
/// accumulate in `results`; the state loses every payload deleted or not found.
pub async fn delete(
    session: &Session<'_>,
    model: &Model,
    levels: &[Vec<EndpointPlan>],
    source: &dyn DataSource,
    state: Option<&dyn StateStore>,
    criteria: &ResendCriteria,
    results: &mut RunResults,
) -> Result<DeleteReport, DeleteError> {
    let mut report = DeleteReport::default();
    let outcome = delete_levels(
        session,
        model,
        levels,
        source,
        state,
        criteria,
        results,
        &mut report,
    )
    .await;
    if let Some(state) = state {
        state
            .flush()
            .await
            .map_err(|e| RunError::State(e.to_string()))?;
    }
    outcome.map(|()| report)
}

#[allow(clippy::too_many_arguments)]
async fn delete_levels(
    session: &Session<'_>,
    model: &Model,
    levels: &[Vec<EndpointPlan>],
    source: &dyn DataSource,
    state: Option<&dyn StateStore>,
    criteria: &ResendCriteria,
    results: &mut RunResults,
    report: &mut DeleteReport,
) -> Result<(), DeleteError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    for level in levels.iter().rev() {
        let mut ctxs: Vec<EndpointCtx<'_>> = Vec::with_capacity(level.len());
        let mut progress: Vec<Progress> = Vec::with_capacity(level.len());
        let mut files = Vec::new();
        for (i, plan) in level.iter().enumerate() {
            let ns = session.config.namespace_for(&plan.endpoint);
            let endpoint = model
                .find(ns, &plan.endpoint)
                .map(|i| &model.endpoints[i])
                .ok_or_else(|| DeleteError::UnknownEndpoint(plan.endpoint.clone()))?;
            let mut known = HashMap::new();
            if let Some(state) = state {
                for (hash, s) in state
                    .load(&plan.endpoint)
                    .await
                    .map_err(|e| RunError::State(e.to_string()))?
                {
                    if let Ok(h) = u128::from_str_radix(&hash, 16) {
                        known.insert(
                            h,
                            LastOutcome {
                                timestamp: s.timestamp,
                                status: s.status,
                            },
                        );
                    }
                }
            }
            let descriptors = if endpoint.is_descriptor {
                Some(descriptor_ids(session, &plan.endpoint).await?)
            } else {
                None
            };
            let url = session.config.resource_url(&plan.endpoint);
            let total = count_lines(source, &plan.files).await?;
            results.resource_mut(&plan.endpoint);
            session.log(
                LogLevel::Info,
                format!(
                    "deleting {total} payloads of endpoint {} from {url} ...",
                    plan.endpoint
                ),
            );
            session.events.emit(Event::EndpointStarted {
                endpoint: plan.endpoint.clone(),
                total,
            });
            ctxs.push(EndpointCtx {
                endpoint,
                url,
                known,
                descriptors,
            });
            progress.push(Progress {
                total,
                done: 0,
                skipped: 0,
                failed: 0,
                statuses: BTreeMap::new(),
                reasons: IndexMap::new(),
            });
            files.extend(plan.files.iter().map(|f| (i, f.clone())));
        }
        let ctxs_ref = &ctxs;
        let mut outcomes = file_lines(source, files)
            .map(|item| async move {
                let item = item?;
                let outcome = match &item.line.text {
                    Err(e) => failed("read", e.to_string()),
                    Ok(text) => delete_line(session, &ctxs_ref[item.ep], text, criteria).await?,
                };
                Ok::<_, DeleteError>((item.ep, item.file, item.line.number, outcome))
            })
            .buffer_unordered(pool);
        let mut skips: IndexMap<(usize, String, Rc<str>), Vec<u64>> = IndexMap::new();
        while let Some(next) = outcomes.next().await {
            let (ep, file, line, outcome) = next?;
            let endpoint = &level[ep].endpoint;
            let res = results.resource_mut(endpoint);
            let p = &mut progress[ep];
            p.done += 1;
            match outcome {
                Outcome::Failed { kind, messages } => {
                    if let FailureKind::Status(s) = kind {
                        *p.statuses.entry(s).or_default() += 1;
                    }
                    res.record_failure(kind, &messages, &file, line);
                    p.failed += 1;
                }
                Outcome::Skipped { reason, forget } => {
                    res.record_skip();
                    p.skipped += 1;
                    *p.reasons.entry(reason.clone()).or_default() += 1;
                    skips.entry((ep, reason, file)).or_default().push(line);
                    if let (Some(state), Some(hash)) = (state, forget) {
                        state
                            .remove(endpoint, &hash)
                            .map_err(|e| RunError::State(e.to_string()))?;
                    }
                }
                Outcome::Deleted { status, hash } => {
                    *p.statuses.entry(status).or_default() += 1;
                    res.record_success(status);
                    if let Some(state) = state {
                        state
                            .remove(endpoint, &hash)
                            .map_err(|e| RunError::State(e.to_string()))?;
                    }
                }
            }
            session.events.emit(Event::Progress {
                endpoint: endpoint.clone(),
                done: p.done,
                skipped: p.skipped,
                failed: p.failed,
            });
            if p.done == p.total {
                log_finished(session, endpoint, p);
            }
        }
        for (i, p) in progress.iter().enumerate() {
            // files without payloads, or lines counted differently than read
            if p.done != p.total || p.total == 0 {
                log_finished(session, &level[i].endpoint, p);
            }
        }
        for ((ep, reason, file), mut line_numbers) in skips {
            line_numbers.sort_unstable();
            report.skips.push(SkipGroup {
                endpoint: level[ep].endpoint.clone(),
                reason,
                file: file.to_string(),
                line_numbers,
            });
        }
    }
    Ok(())
}

/// The confirmation text listing the endpoints about to lose data (the Python tool's words).
pub fn confirmation_prompt(endpoints: &[String], truncate: bool) -> String {
    let verbiage = if truncate {
        "TRUNCATE ALL DATA"
    } else {
        "delete"
    };
    format!(
        "Preparing to delete the following endpoints:\n\t • {}\nType \"yes\" to confirm you want to {verbiage} payloads for the selected endpoints? ",
        endpoints.join("\n\t • ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A small OpenAPI 3 document: schools, students, studentSchoolAssociations (with a
    /// role-named optional reference) in the DS 5.0 style.
    pub(crate) fn model() -> Model {
        let doc = json!({
            "openapi": "3.0.1",
            "paths": {
                "/ed-fi/schools": {"post": {}, "get": {"parameters": [
                    {"name": "schoolId", "in": "query", "x-Ed-Fi-isIdentity": true, "schema": {"type": "integer"}}
                ]}},
                "/ed-fi/studentSchoolAssociations": {"post": {}, "get": {"parameters": [
                    {"$ref": "#/components/parameters/offset"},
                    {"name": "entryDate", "in": "query", "x-Ed-Fi-isIdentity": true, "schema": {"type": "string"}},
                    {"name": "schoolId", "in": "query", "x-Ed-Fi-isIdentity": true, "schema": {"type": "integer"}},
                    {"name": "studentUniqueId", "in": "query", "x-Ed-Fi-isIdentity": true, "schema": {"type": "string"}},
                    {"name": "nextYearSchoolId", "in": "query", "schema": {"type": "integer"}}
                ]}}
            },
            "components": {"schemas": {
                "edFi_school": {"type": "object", "required": ["schoolId"], "properties": {
                    "id": {"type": "string"}, "schoolId": {"type": "integer", "x-Ed-Fi-isIdentity": true}}},
                "edFi_schoolReference": {"type": "object", "required": ["schoolId"], "properties": {
                    "schoolId": {"type": "integer", "x-Ed-Fi-isIdentity": true}, "link": {"$ref": "#/components/schemas/link"}}},
                "edFi_studentReference": {"type": "object", "required": ["studentUniqueId"], "properties": {
                    "studentUniqueId": {"type": "string", "x-Ed-Fi-isIdentity": true}}},
                "edFi_studentSchoolAssociation": {"type": "object",
                    "required": ["entryDate", "schoolReference", "studentReference"],
                    "properties": {
                        "id": {"type": "string"},
                        "entryDate": {"type": "string", "format": "date", "x-Ed-Fi-isIdentity": true},
                        "nextYearSchoolReference": {"$ref": "#/components/schemas/edFi_schoolReference"},
                        "schoolReference": {"$ref": "#/components/schemas/edFi_schoolReference"},
                        "studentReference": {"$ref": "#/components/schemas/edFi_studentReference"},
                        "_etag": {"type": "string"}}},
                "link": {"type": "object", "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}}
            }}
        });
        Model::new(vec![crate::api::openapi::Document::new(doc).unwrap()])
    }

    fn ssa(m: &Model) -> &Endpoint {
        &m.endpoints[m.find("ed-fi", "studentSchoolAssociations").unwrap()]
    }

    #[test]
    fn identity_query_uses_accepted_parameter_names() {
        let m = model();
        let payload = json!({
            "entryDate": "2023-08-21",
            "schoolReference": {"schoolId": 255901001, "link": {"rel": "School", "href": "/x"}},
            "nextYearSchoolReference": {"schoolId": 255901002},
            "studentReference": {"studentUniqueId": "604822"},
            "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"
        });
        let values = identity_values(ssa(&m), &payload).unwrap();
        let paths: Vec<&str> = values.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "entryDate",
                "schoolReference.schoolId",
                "studentReference.studentUniqueId"
            ]
        );
        assert_eq!(
            identity_query(&values),
            vec![
                ("entryDate".to_string(), "2023-08-21".to_string()),
                ("schoolId".to_string(), "255901001".to_string()),
                ("studentUniqueId".to_string(), "604822".to_string()),
            ]
        );
    }

    #[test]
    fn identity_errors_name_the_field() {
        let m = model();
        let e = ssa(&m);
        assert_eq!(
            identity_values(e, &json!({"schoolReference": {"schoolId": 1}})).unwrap_err(),
            IdentityError::Missing("entryDate".into())
        );
        assert_eq!(
            identity_values(e, &json!({"entryDate": "2023-08-21", "schoolReference": {}, "studentReference": {"studentUniqueId": "1"}}))
                .unwrap_err()
                .to_string(),
            "the payload has no `schoolReference.schoolId` (part of the identity of its endpoint)"
        );
        assert_eq!(
            identity_values(e, &json!({"entryDate": ["x"]})).unwrap_err(),
            IdentityError::NotScalar("entryDate".into())
        );
        assert_eq!(
            identity_values(e, &json!([1])).unwrap_err(),
            IdentityError::NotAnObject
        );
    }

    #[test]
    fn only_parameters_the_endpoint_accepts() {
        let m = model();
        let mut e = ssa(&m).clone();
        e.query_params.retain(|p| p.name != "entryDate");
        let payload = json!({"entryDate": "2023-08-21", "schoolReference": {"schoolId": 1}, "studentReference": {"studentUniqueId": "9"}});
        let values = identity_values(&e, &payload).unwrap();
        assert_eq!(values[0].param, None);
        assert_eq!(
            identity_query(&values),
            vec![
                ("schoolId".to_string(), "1".to_string()),
                ("studentUniqueId".to_string(), "9".to_string()),
            ]
        );
        // so a search can return several records: the identity picks the right one
        let a = json!({"id": "a", "entryDate": "2023-08-20", "schoolReference": {"schoolId": 1, "link": {}}, "studentReference": {"studentUniqueId": "9"}});
        let b = json!({"id": "b", "entryDate": "2023-08-21", "schoolReference": {"schoolId": 1}, "studentReference": {"studentUniqueId": " 9 "}});
        assert!(!matches_identity(&values, &a));
        assert!(matches_identity(&values, &b));
    }

    #[test]
    fn prompt_lists_the_endpoints() {
        let p = confirmation_prompt(&["grades".into(), "students".into()], false);
        assert!(p.starts_with(
            "Preparing to delete the following endpoints:\n\t • grades\n\t • students\n"
        ));
        assert!(p.ends_with("to delete payloads for the selected endpoints? "));
        assert!(confirmation_prompt(&["x".into()], true).contains("TRUNCATE ALL DATA"));
    }
}
