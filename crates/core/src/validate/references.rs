//! The `references` method's lookups: local data first (an index of the referenced endpoints'
//! records, built once per endpoint), then the API by GET with the reference's values as query
//! parameters (answers kept for the run).

use super::keys::{KeyMap, KeySet};
use super::shape::RefGroups;
use crate::api::openapi::{IdentityPart, Model};
use crate::api::session::{Session, SessionError};
use crate::api::url::query_url;
use crate::ports::Method;
use serde_json::Value;
use std::collections::HashMap;

/// Record keys of the endpoints that have local data.
#[derive(Debug, Default)]
pub struct LocalIndexes {
    by_endpoint: HashMap<usize, KeySet>,
}

impl LocalIndexes {
    pub fn has(&self, endpoint: usize) -> bool {
        self.by_endpoint.contains_key(&endpoint)
    }

    /// Adds (or replaces) the index of an endpoint.
    pub fn insert(&mut self, endpoint: usize, keys: KeySet) {
        self.by_endpoint.insert(endpoint, keys);
    }

    /// Whether a record of `group` with `key` is in local data.
    pub fn contains(&self, groups: &RefGroups, group: usize, key: u128) -> bool {
        groups
            .endpoints(group)
            .iter()
            .any(|e| self.by_endpoint.get(e).is_some_and(|s| s.contains(&key)))
    }

    /// Records indexed in all.
    pub fn len(&self) -> usize {
        self.by_endpoint.values().map(|s| s.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The values a record of `endpoint` is referenced by (its identity values), `None` when one
/// is missing.
pub fn record_values<'v>(
    model: &Model,
    endpoint: usize,
    payload: &'v Value,
) -> Option<Vec<&'v Value>> {
    let e = &model.endpoints[endpoint];
    let obj = payload.as_object()?;
    let mut out = Vec::new();
    for part in &e.identity {
        match part {
            IdentityPart::Scalar(n) => out.push(obj.get(n)?),
            IdentityPart::Reference(p) => {
                let r = e.references.iter().find(|r| &r.property == p)?;
                let robj = obj.get(p)?.as_object()?;
                for f in &r.fields {
                    out.push(robj.get(f)?);
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// What the API says of a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteAnswer {
    Found,
    Missing,
    /// Neither: an unexpected status (the reason says which).
    Unknown(String),
}

/// Remote answers by (group, key).
#[derive(Debug, Default)]
pub struct RemoteCache {
    pub answers: HashMap<usize, KeyMap<RemoteAnswer>>,
}

impl RemoteCache {
    pub fn get(&self, group: usize, key: u128) -> Option<&RemoteAnswer> {
        self.answers.get(&group).and_then(|m| m.get(&key))
    }

    pub fn insert(&mut self, group: usize, key: u128, answer: RemoteAnswer) {
        self.answers.entry(group).or_default().insert(key, answer);
    }
}

/// The text of a scalar for a query parameter.
pub fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Asks the API whether a record of `group` with the reference's `params` exists: a GET on each
/// endpoint of the group, filtered by the values (an `educationOrganizationId` is asked as the
/// target's own identity, e.g. `schoolId`). 200 with records: found; 200 empty, 404 or 400:
/// missing; anything else: unknown. A request that gets no answer after its retries stops the
/// run (the API is unreachable).
pub async fn lookup(
    session: &Session<'_>,
    model: &Model,
    groups: &RefGroups,
    group: usize,
    params: &[(String, String)],
) -> Result<RemoteAnswer, SessionError> {
    let mut unknown: Option<String> = None;
    for &ep in groups.endpoints(group) {
        let e = &model.endpoints[ep];
        let own_id = e.identity.iter().find_map(|p| match p {
            IdentityPart::Scalar(n) => Some(n.as_str()),
            IdentityPart::Reference(_) => None,
        });
        let query: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| {
                let name = if !e.accepts_query_param(k) && e.is_education_organization {
                    own_id.unwrap_or(k)
                } else {
                    k
                };
                (name, v.as_str())
            })
            .collect();
        let url = query_url(
            &crate::config::url_join(&[&session.urls.data, &e.namespace, &e.name]),
            &query,
        );
        match session.call(Method::Get, &url, None).await? {
            Err(transport) => {
                return Err(SessionError::Unreachable {
                    url,
                    reason: transport.to_string(),
                })
            }
            Ok(resp) => match resp.status {
                200 | 201 => {
                    let found = matches!(
                        serde_json::from_slice::<Value>(&resp.body),
                        Ok(Value::Array(a)) if !a.is_empty()
                    );
                    if found {
                        return Ok(RemoteAnswer::Found);
                    }
                }
                400 | 404 => {}
                status => {
                    unknown.get_or_insert(format!("the API answered {status} to GET {url}"));
                }
            },
        }
    }
    Ok(match unknown {
        Some(reason) => RemoteAnswer::Unknown(reason),
        None => RemoteAnswer::Missing,
    })
}
