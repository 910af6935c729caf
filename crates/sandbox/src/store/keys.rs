//! The keys records are found by. A record's identity key is its identity values in order (one
//! record per identity: a second POST of it is an update); its reference key is the set of
//! those values, or `namespace#codevalue` for a descriptor, and is what a reference object or a
//! descriptor URI is turned into to find its target.

use super::schema::Api;
use lightbeam_core::api::openapi::{canonical_scalar, IdentityPart};
use serde_json::{Map, Value};

/// Separates the values inside a key.
const SEPARATOR: &str = "\u{1f}";

impl Api {
    /// Identity key of a payload (ordered values of its identity parts).
    pub(super) fn identity_values(&self, ep: usize, body: &Map<String, Value>) -> Vec<String> {
        let e = &self.model.endpoints[ep];
        let mut vals = Vec::new();
        for part in &e.identity {
            match part {
                IdentityPart::Scalar(n) => {
                    vals.push(body.get(n).map(canonical_scalar).unwrap_or_default())
                }
                IdentityPart::Reference(n) => {
                    let r = e.references.iter().find(|r| &r.property == n);
                    let obj = body.get(n).and_then(Value::as_object);
                    if let (Some(r), Some(obj)) = (r, obj) {
                        for f in &r.fields {
                            vals.push(obj.get(f).map(canonical_scalar).unwrap_or_default());
                        }
                    } else {
                        vals.push(String::new());
                    }
                }
            }
        }
        vals
    }

    /// The identity values of a stored body as Change Queries show them (`keyValues` of
    /// `/deletes`): identity scalars by name, the fields of identity references by their
    /// flattened names (`schoolId`, `nextYearSchoolId`), a name repeated through two references
    /// once (as the ODS unifies it), descriptors by `namespace` and `codeValue`.
    pub(super) fn key_values(&self, ep: usize, body: &Map<String, Value>) -> Map<String, Value> {
        let e = &self.model.endpoints[ep];
        let mut out = Map::new();
        for part in &e.identity {
            match part {
                IdentityPart::Scalar(n) => {
                    out.insert(n.clone(), body.get(n).cloned().unwrap_or(Value::Null));
                }
                IdentityPart::Reference(n) => {
                    let Some(r) = e.references.iter().find(|r| &r.property == n) else {
                        continue;
                    };
                    let obj = body.get(n).and_then(Value::as_object);
                    for f in &r.fields {
                        let name = r.flattened_names(f).swap_remove(0);
                        if !out.contains_key(&name) {
                            let v = obj.and_then(|o| o.get(f)).cloned();
                            out.insert(name, v.unwrap_or(Value::Null));
                        }
                    }
                }
            }
        }
        out
    }

    /// The identity key of a payload.
    pub(super) fn identity_key(&self, ep: usize, body: &Map<String, Value>) -> String {
        self.identity_values(ep, body).join(SEPARATOR)
    }

    /// (identity key, reference key) of a payload about to be stored.
    pub(super) fn record_keys(&self, ep: usize, body: &Map<String, Value>) -> (String, String) {
        let values = self.identity_values(ep, body);
        let identity_key = values.join(SEPARATOR);
        let ref_key = if self.model.endpoints[ep].is_descriptor {
            let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
            namespaced_code(field("namespace"), field("codeValue"))
        } else {
            ref_key_of_values(values)
        };
        (identity_key, ref_key)
    }
}

/// The set of distinct identity values: an identity that repeats a value through two
/// references (a courseOffering's `schoolId` in both its school and session references)
/// is referenced with that value once, and role-named fields need no name mapping.
fn ref_key_of_values(mut vals: Vec<String>) -> String {
    vals.sort();
    vals.dedup();
    vals.join(SEPARATOR)
}

/// The key under which a reference object finds its target.
pub(super) fn ref_key_of_reference(obj: &Map<String, Value>) -> String {
    let vals: Vec<String> = obj
        .iter()
        .filter(|(k, _)| k.as_str() != "link")
        .map(|(_, v)| canonical_scalar(v))
        .collect();
    ref_key_of_values(vals)
}

/// Descriptor key `namespace#codevalue` lowercased, of a descriptor URI.
pub(super) fn descriptor_key(uri: &str) -> Option<String> {
    let (ns, code) = uri.rsplit_once('#')?;
    if ns.is_empty() || code.is_empty() {
        return None;
    }
    Some(namespaced_code(ns, code))
}

/// `namespace#codevalue`, trimmed and lowercased: the reference key of a descriptor.
fn namespaced_code(namespace: &str, code_value: &str) -> String {
    format!(
        "{}#{}",
        namespace.trim().to_lowercase(),
        code_value.trim().to_lowercase()
    )
}
