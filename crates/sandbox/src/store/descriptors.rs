//! The descriptor check of a POST: every `...Descriptor` string of a payload, at any depth,
//! must be a `namespace#codeValue` URI of a stored descriptor of the property's type.

use super::errors::{ApiError, ErrorStyle};
use super::keys::descriptor_key;
use super::records::Store;
use super::schema::Api;
use lightbeam_core::api::openapi::upper_first;
use serde_json::Value;
use std::collections::BTreeMap;

/// Visit every `...Descriptor` string in a payload with its JSON path.
fn visit_descriptors<'a>(v: &'a Value, path: &mut String, f: &mut dyn FnMut(&str, &str, &'a str)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                if let Value::String(s) = x {
                    if k.ends_with("Descriptor") {
                        f(path, k, s);
                    }
                } else {
                    visit_descriptors(x, path, f);
                }
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                visit_descriptors(x, path, f);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

impl Store {
    /// The stored descriptors (endpoint, record) a payload names. Malformed values, and in the
    /// 7.2 style unknown ones, are validation errors by path; in the 7.1 style the first unknown
    /// value is an [`ApiError::UnresolvedDescriptor`].
    pub(super) fn check_descriptors(
        &self,
        api: &Api,
        body: &Value,
    ) -> Result<Vec<(usize, usize)>, ApiError> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut desc_refs: Vec<(usize, usize)> = Vec::new();
        let mut unresolved_descriptor: Option<(String, String, String)> = None;
        let mut path = String::from("$");
        let model = &api.model;
        let endpoints = &self.endpoints;
        visit_descriptors(body, &mut path, &mut |p, k, value| {
            let dtype = model
                .descriptor_for_property(k)
                .map(|d| upper_first(model.endpoints[d].singular()))
                .unwrap_or_else(|| upper_first(k));
            let Some(key) = descriptor_key(value) else {
                errors.entry(p.to_string()).or_default().push(format!(
                    "{dtype} value '{value}' is not a valid value for use as a descriptor (a '#' is expected to delineate the namespace and code value portions)."
                ));
                return;
            };
            let Some(d) = model.descriptor_for_property(k) else {
                return;
            };
            match endpoints[d].by_ref_key.get(&key) {
                Some(r) => desc_refs.push((d, *r)),
                None => {
                    if api.style == ErrorStyle::V72 {
                        errors
                            .entry(p.to_string())
                            .or_default()
                            .push(format!("{dtype} value '{value}' does not exist."));
                    } else if unresolved_descriptor.is_none() {
                        unresolved_descriptor =
                            Some((p.to_string(), dtype.clone(), value.to_string()));
                    }
                }
            }
        });
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        if let Some((path, descriptor, value)) = unresolved_descriptor {
            return Err(ApiError::UnresolvedDescriptor {
                path,
                descriptor,
                value,
            });
        }
        Ok(desc_refs)
    }
}
