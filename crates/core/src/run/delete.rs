//! `delete`: remove the records of the selected payloads from the API. For each payload, a GET
//! with its identity values (under the query-parameter names the endpoint accepts) finds the
//! record, which is DELETEd by `id` when exactly one matches; otherwise the payload is skipped
//! with a reason ("payload not found in API", "multiple matching payloads found in API", the
//! status of a failed search), counted and reported. Descriptors are matched (namespace +
//! codeValue) against one fetch of all values of their endpoint. Endpoints go in reverse
//! dependency order, level by level, `pool_size` payloads in flight; a deleted payload (and one
//! not found) leaves the state, so a later `send` sends it again. Which payloads: see
//! [`decide_delete`].

use super::paging::{fetch_all, Pager, MAX_PAGE_SIZE};
use super::payloads::Payloads;
use super::scheduler::{
    self, log_finished, Admission, LevelOrder, Outcome, Prepared, Settled, SkipGroup, StateChange,
    Tally, Task, Work,
};
use super::RunError;
use crate::api::errors::error_messages;
use crate::api::openapi::{canonical_scalar, Endpoint, IdentityPart, Model};
use crate::api::session::Session;
use crate::api::url::query_url;
use crate::config::ValidationMethod;
use crate::data::lines::LineError;
use crate::ports::{DataFile, Digest, DigestMap, LogLevel, Method, PayloadState};
use crate::results::{FailureKind, FailureMethod, RunResults};
use crate::state::{decide_delete, is_success, Decision, ResendCriteria};
use futures::stream::LocalBoxStream;
use serde_json::Value;
use std::collections::HashMap;

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

/// Descriptor values of an endpoint: (namespace, codeValue) canonical → ids.
type DescriptorIds = HashMap<(String, String), Vec<String>>;

/// Deletes the records of the payloads of `p.data` (levels in dependency order, processed in
/// reverse). Results accumulate in `results`; the state loses every payload deleted or not
/// found. Returns every skip with its reason.
pub async fn delete(
    p: &Payloads<'_, '_>,
    model: &Model,
    results: &mut RunResults,
) -> Result<Vec<SkipGroup>, RunError> {
    let levels = p.data.level_names();
    let pager = Pager::choose(p.session, Some(model), None).await;
    let task = Delete { p, model, pager };
    scheduler::run(
        &task,
        p.session,
        &LevelOrder::Reverse,
        &levels,
        p.state,
        results,
    )
    .await
}

struct Delete<'a, 'b, 's> {
    p: &'a Payloads<'b, 's>,
    model: &'a Model,
    /// How descriptor values are listed.
    pager: Pager,
}

struct EndpointCtx<'m> {
    endpoint: &'m Endpoint,
    url: String,
    files: Vec<DataFile>,
    known: DigestMap<PayloadState>,
    /// For descriptors: all values of the API, or why they could not be fetched.
    descriptors: Option<Result<DescriptorIds, String>>,
}

impl<'a> Task for Delete<'a, '_, '_> {
    type Ctx = EndpointCtx<'a>;
    type Item = Result<String, LineError>;
    type Ready = Result<String, LineError>;

    async fn prepare(
        &self,
        name: &str,
        _results: &mut RunResults,
    ) -> Result<Option<Prepared<EndpointCtx<'a>>>, RunError> {
        let p = self.p;
        let ns = p.session.config.namespace_for(name);
        let endpoint = self
            .model
            .find(ns, name)
            .map(|i| &self.model.endpoints[i])
            .ok_or_else(|| RunError::UnknownEndpoint(name.to_string()))?;
        let known = p.known(name).await?;
        let descriptors = if endpoint.is_descriptor {
            Some(descriptor_ids(p.session, &self.pager, name).await?)
        } else {
            None
        };
        let url = p.session.resource_url(name);
        let (files, total) = p.files(name).await?;
        p.session.log(
            LogLevel::Info,
            format!("deleting {total} payloads of endpoint {name} from {url} ..."),
        );
        Ok(Some(Prepared {
            endpoint: name.to_string(),
            total,
            ctx: EndpointCtx {
                endpoint,
                url,
                files,
                known,
                descriptors,
            },
        }))
    }

    fn items<'s>(
        &'s self,
        stage: &'s [Prepared<EndpointCtx<'a>>],
    ) -> LocalBoxStream<'s, Result<Work<Self::Item>, RunError>> {
        self.p.lines(stage, |p| &p.ctx.files)
    }

    fn admit(
        &self,
        _ctx: &Self::Ctx,
        item: Result<String, LineError>,
    ) -> Admission<Result<String, LineError>> {
        Admission::Later(item)
    }

    async fn process(
        &self,
        ctx: &EndpointCtx<'a>,
        text: Result<String, LineError>,
    ) -> Result<Outcome, RunError> {
        match text {
            Err(e) => Ok(Outcome::failed(FailureMethod::Read, e.to_string())),
            Ok(text) => delete_line(self.p.session, ctx, &text, self.p.criteria).await,
        }
    }

    async fn finish(&self, p: &Prepared<EndpointCtx<'a>>, tally: &Tally) -> Result<(), RunError> {
        let session = self.p.session;
        log_finished(session, &p.endpoint, tally);
        const SHOWN: usize = 10;
        for (reason, n) in tally.reasons.iter().take(SHOWN) {
            session.log(
                LogLevel::Info,
                format!("  (reason: [{reason}]; instances: {n})"),
            );
        }
        if tally.reasons.len() > SHOWN {
            session.log(
                LogLevel::Info,
                format!("  (... and {} others)", tally.reasons.len() - SHOWN),
            );
        }
        Ok(())
    }
}

/// DELETE a record by id.
async fn delete_id(
    session: &Session<'_>,
    url: &str,
    id: &str,
    digest: Digest,
) -> Result<Outcome, RunError> {
    let resp = match session
        .call(Method::Delete, &format!("{url}/{id}"), None)
        .await?
    {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::failed(FailureMethod::Connection, e.to_string())),
    };
    Ok(if is_success(resp.status) {
        Outcome::new(Settled::Done {
            status: resp.status,
        })
        .with_state(StateChange::Forget(digest))
    } else {
        Outcome::new(Settled::Failed {
            kind: FailureKind::Status(resp.status),
            messages: error_messages(resp.status, &resp.body),
        })
    })
}

/// Finds a payload's record and deletes it.
async fn delete_line(
    session: &Session<'_>,
    ctx: &EndpointCtx<'_>,
    text: &str,
    criteria: &ResendCriteria,
) -> Result<Outcome, RunError> {
    let digest = Digest::of_line(text);
    if decide_delete(ctx.known.get(&digest), criteria) == Decision::Skip {
        return Ok(Outcome::skipped(NOT_SELECTED));
    }
    let payload: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Outcome::failed(
                ValidationMethod::Json,
                format!("invalid JSON: {e}"),
            ))
        }
    };
    let values = match identity_values(ctx.endpoint, &payload) {
        Ok(v) => v,
        Err(e) => return Ok(Outcome::failed(FailureMethod::Identity, e.to_string())),
    };
    let not_found = || Outcome::skipped(NOT_FOUND).with_state(StateChange::Forget(digest));
    if let Some(descriptors) = &ctx.descriptors {
        let map = match descriptors {
            Ok(m) => m,
            Err(e) => return Ok(Outcome::skipped(e.clone())),
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
            Some(ids) if ids.len() == 1 => delete_id(session, &ctx.url, &ids[0], digest).await?,
            Some(_) => Outcome::skipped(MULTIPLE),
        });
    }
    let query = identity_query(&values);
    let resp = match session
        .call(Method::Get, &query_url(&ctx.url, &query), None)
        .await?
    {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::failed(FailureMethod::Connection, e.to_string())),
    };
    if !is_success(resp.status) {
        return Ok(Outcome::skipped(format!(
            "searching API for payload returned a {} response",
            resp.status
        )));
    }
    let Ok(Value::Array(found)) = serde_json::from_slice::<Value>(&resp.body) else {
        return Ok(Outcome::skipped(NOT_A_LIST));
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
            Some(id) => delete_id(session, &ctx.url, id, digest).await?,
            None => Outcome::skipped("the API's record has no id"),
        },
        _ => Outcome::skipped(MULTIPLE),
    })
}

/// Every value of a descriptor endpoint, by (namespace, codeValue); `Err` says why they could
/// not be fetched (its payloads are then skipped with that reason).
async fn descriptor_ids(
    session: &Session<'_>,
    pager: &Pager,
    endpoint: &str,
) -> Result<Result<DescriptorIds, String>, RunError> {
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
        match fetch_all(session, pager, endpoint, page_size, &extract).await? {
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
}
