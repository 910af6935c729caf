//! What the API knows from its OpenAPI documents ([`Api`]: the model, one compiled JSON schema
//! per endpoint, the error style) and the checks of a body that need no stored data: a JSON
//! object without `id`, lenient binding of scalars as the ODS does, then the schema, with
//! messages keyed by JSON path as the ODS reports them.

use super::errors::{ApiError, ErrorStyle};
use lightbeam_core::api::openapi::{upper_first, Endpoint, Model, ScalarKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The schema, identity and reference knowledge of the API, shared by all stores.
pub struct Api {
    pub model: Model,
    validators: Vec<OnceLock<Option<jsonschema::Validator>>>,
    pub style: ErrorStyle,
}

/// The JSON path (`$.addresses[0].city`) of a JSON pointer (`/addresses/0/city`).
fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&seg);
            out.push(']');
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

impl Api {
    pub fn new(model: Model, style: ErrorStyle) -> Api {
        let validators = (0..model.endpoints.len())
            .map(|_| OnceLock::new())
            .collect();
        Api {
            model,
            validators,
            style,
        }
    }

    pub fn endpoint(&self, i: usize) -> &Endpoint {
        &self.model.endpoints[i]
    }

    fn validator(&self, ep: usize) -> Option<&jsonschema::Validator> {
        self.validators[ep]
            .get_or_init(|| {
                let e = &self.model.endpoints[ep];
                let schema = self
                    .model
                    .document_of(e)
                    .standalone_schema(&e.schema_name)?;
                jsonschema::draft4::new(&schema).ok()
            })
            .as_ref()
    }

    /// Compile every endpoint's schema now (instead of on first use).
    pub fn warm_up(&self) {
        for i in 0..self.model.endpoints.len() {
            let _ = self.validator(i);
        }
    }

    /// Schema validation: JSON path → messages, as the ODS reports them.
    pub fn schema_errors(&self, ep: usize, body: &Value) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let Some(v) = self.validator(ep) else {
            return out;
        };
        if v.is_valid(body) {
            return out;
        }
        for err in v.iter_errors(body) {
            let base = json_path(err.instance_path().as_str());
            match err.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let prop = property.as_str().unwrap_or_default();
                    let path = if base == "$" {
                        format!("$.{prop}")
                    } else {
                        format!("{base}.{prop}")
                    };
                    out.entry(path)
                        .or_default()
                        .push(format!("{} is required.", upper_first(prop)));
                }
                _ => {
                    out.entry(base).or_default().push(err.to_string());
                }
            }
        }
        out
    }

    /// The checks that need no stored data: a JSON object, no `id`, lenient scalars, the schema.
    pub fn precheck(&self, ep: usize, body: &mut Value) -> Result<(), ApiError> {
        let Some(obj) = body.as_object_mut() else {
            return Err(ApiError::not_an_object());
        };
        if obj.contains_key("id") {
            return Err(ApiError::IdInBody);
        }
        self.coerce(ep, obj);
        let errors = self.schema_errors(ep, body);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    /// Lenient binding of scalars as the ODS does: numeric strings for numbers, "true"/"1" for
    /// booleans; applied to top-level scalars and reference fields before validation.
    fn coerce(&self, ep: usize, body: &mut Map<String, Value>) {
        let e = &self.model.endpoints[ep];
        for (name, kind) in &e.scalar_props {
            if let Some(v) = body.get_mut(name) {
                coerce_value(v, *kind);
            }
        }
        for r in &e.references {
            let Some(obj) = body.get_mut(&r.property).and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(target) = self.model.reference_target(e, r) else {
                continue;
            };
            let te = &self.model.endpoints[target];
            for (k, v) in obj.iter_mut() {
                // a reference field has the type of the same-named field of its target's
                // query parameters (flattened identities)
                if let Some(p) = te.query_params.iter().find(|p| p.name == *k) {
                    coerce_value(v, p.kind);
                }
            }
        }
    }
}

fn coerce_value(v: &mut Value, kind: ScalarKind) {
    if let Value::String(s) = v {
        let t = s.trim();
        match kind {
            ScalarKind::Integer => {
                if let Ok(n) = t.parse::<i64>() {
                    *v = Value::from(n);
                }
            }
            ScalarKind::Number => {
                if let Ok(n) = t.parse::<f64>() {
                    if let Some(num) = serde_json::Number::from_f64(n) {
                        *v = Value::Number(num);
                    }
                }
            }
            ScalarKind::Boolean => match t.to_ascii_lowercase().as_str() {
                "true" | "1" => *v = Value::Bool(true),
                "false" | "0" => *v = Value::Bool(false),
                _ => {}
            },
            ScalarKind::String => {}
        }
    } else if let Value::Number(n) = v {
        if kind == ScalarKind::Boolean {
            match n.as_i64() {
                Some(1) => *v = Value::Bool(true),
                Some(0) => *v = Value::Bool(false),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        assert_eq!(json_path(""), "$");
        assert_eq!(json_path("/addresses/0/city"), "$.addresses[0].city");
    }
}
