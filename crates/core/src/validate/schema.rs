//! The `schema` method: JSON Schema draft 4 against an endpoint's OpenAPI schema, compiled once.
//!
//! The fast path is `is_valid`; only an invalid payload walks its errors. Of those, the one the
//! Python tool reports is chosen (its `Draft4Validator.validate` raises the first error of a
//! depth-first walk in the order keys appear in the schema document), and the message is
//! written as Python's jsonschema writes it (`'lastSurname' is a required property`,
//! `7 is not of type 'string'`), followed by lightbeam's ` in a -> b` path of the instance.
//!
//! `format` is not checked (Python's `Draft4Validator` has no format checker by default).

use crate::api::openapi::Document;
use crate::pycompat::{repr, str_repr};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::ValidationError;
use serde_json::Value;

/// A compiled endpoint schema.
pub struct SchemaCheck {
    validator: jsonschema::Validator,
    /// The standalone schema (`allOf: [$ref]` + the schemas reachable from it).
    root: Value,
}

impl std::fmt::Debug for SchemaCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaCheck")
    }
}

impl SchemaCheck {
    /// Compiles the schema called `name` of `doc` (e.g. `edFi_student`).
    pub fn new(doc: &Document, name: &str) -> Result<SchemaCheck, String> {
        let root = doc
            .standalone_schema(name)
            .ok_or_else(|| format!("the OpenAPI document has no schema {name}"))?;
        let validator = jsonschema::draft4::options()
            .should_validate_formats(false)
            .build(&root)
            .map_err(|e| format!("the schema {name} does not compile: {e}"))?;
        Ok(SchemaCheck { validator, root })
    }

    pub fn is_valid(&self, payload: &Value) -> bool {
        self.validator.is_valid(payload)
    }

    /// The message of the error the Python tool reports for `payload`, `None` when it is valid.
    pub fn first_error(&self, payload: &Value) -> Option<String> {
        if self.validator.is_valid(payload) {
            return None;
        }
        let mut best: Option<(Vec<usize>, ValidationError<'_>)> = None;
        for err in self.validator.iter_errors(payload) {
            let key = self.python_order(&err);
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, err));
            }
        }
        best.map(|(_, e)| python_message(&e))
    }

    /// The position of an error in Python's depth-first walk: at each schema object the index
    /// of the keyword among its keys, then (for `properties`) of the property, (for `items`) the
    /// array index, (for `allOf`...) the subschema, (for `required`) the missing property.
    fn python_order(&self, err: &ValidationError<'_>) -> Vec<usize> {
        let segs: Vec<String> = err
            .evaluation_path()
            .segments()
            .map(|s| segment_text(&s))
            .collect();
        let inst: Vec<String> = err
            .instance_path()
            .segments()
            .map(|s| segment_text(&s))
            .collect();
        let mut key = Vec::with_capacity(segs.len());
        let mut node = &self.root;
        let mut inst_i = 0;
        let mut i = 0;
        while i < segs.len() {
            let Some(obj) = node.as_object() else { break };
            let seg = segs[i].as_str();
            if seg == "$ref" {
                // draft 4: a `$ref` hides its siblings
                key.push(0);
                let target = obj
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|p| self.root.pointer(p));
                match target {
                    Some(t) => node = t,
                    None => break,
                }
                i += 1;
                continue;
            }
            key.push(obj.keys().position(|k| k == seg).unwrap_or(usize::MAX));
            let child = obj.get(seg);
            match seg {
                "properties" => {
                    let Some(name) = segs.get(i + 1) else { break };
                    let props = child.and_then(Value::as_object);
                    key.push(
                        props
                            .and_then(|p| p.keys().position(|k| k == name))
                            .unwrap_or(usize::MAX),
                    );
                    match props.and_then(|p| p.get(name)) {
                        Some(n) => node = n,
                        None => break,
                    }
                    inst_i += 1;
                    i += 2;
                }
                "items" => {
                    let index = inst
                        .get(inst_i)
                        .and_then(|s| s.parse::<usize>().ok())
                        .unwrap_or(usize::MAX);
                    key.push(index);
                    inst_i += 1;
                    match child {
                        Some(Value::Array(a)) => {
                            // tuple form: the next segment is the subschema index
                            let Some(n) = segs.get(i + 1).and_then(|s| s.parse::<usize>().ok())
                            else {
                                break;
                            };
                            match a.get(n) {
                                Some(x) => node = x,
                                None => break,
                            }
                            i += 2;
                        }
                        Some(x) => {
                            node = x;
                            i += 1;
                        }
                        None => break,
                    }
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let Some(n) = segs.get(i + 1).and_then(|s| s.parse::<usize>().ok()) else {
                        break;
                    };
                    key.push(n);
                    match child.and_then(Value::as_array).and_then(|a| a.get(n)) {
                        Some(x) => node = x,
                        None => break,
                    }
                    i += 2;
                }
                "required" => {
                    if let ValidationErrorKind::Required { property } = err.kind() {
                        let pos = child
                            .and_then(Value::as_array)
                            .and_then(|a| a.iter().position(|x| x == property))
                            .unwrap_or(usize::MAX);
                        key.push(pos);
                    }
                    break;
                }
                _ => break,
            }
        }
        key
    }
}

fn segment_text(s: &LocationSegment<'_>) -> String {
    match s {
        LocationSegment::Property(p) => p.to_string(),
        LocationSegment::Index(i) => i.to_string(),
    }
}

/// Python jsonschema's message for an error, plus lightbeam's path suffix:
/// `5 is less than the minimum of 10`.
fn bound(instance: &Value, comparison: &str, limit: &Value) -> String {
    format!("{} is {comparison} of {}", repr(instance), repr(limit))
}

/// `f"{e.message} {context}"` with `context = " in " + " -> ".join(path)` (or empty).
pub fn python_message(err: &ValidationError<'_>) -> String {
    let instance: &Value = err.instance();
    let message = match err.kind() {
        ValidationErrorKind::Required { property } => {
            format!("{} is a required property", repr(property))
        }
        ValidationErrorKind::Type { kind } => {
            let names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![str_repr(t.as_str())],
                TypeKind::Multiple(set) => set.iter().map(|t| str_repr(t.as_str())).collect(),
            };
            format!("{} is not of type {}", repr(instance), names.join(", "))
        }
        ValidationErrorKind::MaxLength { limit } | ValidationErrorKind::MaxItems { limit } => {
            let words = match limit {
                0 => "is expected to be empty",
                _ => "is too long",
            };
            format!("{} {words}", repr(instance))
        }
        ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MinItems { limit } => {
            let words = match limit {
                1 => "should be non-empty",
                _ => "is too short",
            };
            format!("{} {words}", repr(instance))
        }
        ValidationErrorKind::Minimum { limit } => bound(instance, "less than the minimum", limit),
        ValidationErrorKind::Maximum { limit } => {
            bound(instance, "greater than the maximum", limit)
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            bound(instance, "less than or equal to the minimum", limit)
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            bound(instance, "greater than or equal to the maximum", limit)
        }
        ValidationErrorKind::Enum { options } => {
            format!("{} is not one of {}", repr(instance), repr(options))
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{} does not match {}", repr(instance), str_repr(pattern))
        }
        ValidationErrorKind::UniqueItems => {
            format!("{} has non-unique elements", repr(instance))
        }
        ValidationErrorKind::Format { format } => {
            format!("{} is not a {}", repr(instance), str_repr(format))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|s| str_repr(s)).collect();
            let verb = if names.len() == 1 { "was" } else { "were" };
            format!(
                "Additional properties are not allowed ({} {verb} unexpected)",
                names.join(", ")
            )
        }
        _ => err.to_string(),
    };
    let path: Vec<String> = err
        .instance_path()
        .segments()
        .map(|s| segment_text(&s))
        .collect();
    let context = if path.is_empty() {
        String::new()
    } else {
        format!(" in {}", path.join(" -> "))
    };
    format!("{message} {context}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn doc() -> Document {
        Document::new(json!({
            "openapi": "3.0.1",
            "paths": {},
            "components": {"schemas": {
                "edFi_thing": {
                    "required": ["name", "kind", "schoolReference"],
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string", "maxLength": 5},
                        "kind": {"type": "string", "minLength": 1},
                        "count": {"type": "integer", "minimum": 0, "maximum": 10},
                        "date": {"type": "string", "format": "date"},
                        "schoolReference": {"$ref": "#/components/schemas/edFi_schoolReference"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/edFi_thingItem"}}
                    }
                },
                "edFi_schoolReference": {
                    "required": ["schoolId"],
                    "type": "object",
                    "properties": {"schoolId": {"type": "integer"}, "link": {"type": "object"}}
                },
                "edFi_thingItem": {
                    "required": ["code"],
                    "type": "object",
                    "properties": {"code": {"type": "string", "maxLength": 3}}
                }
            }}
        }))
        .unwrap()
    }

    fn first(v: Value) -> Option<String> {
        SchemaCheck::new(&doc(), "edFi_thing")
            .unwrap()
            .first_error(&v)
    }

    #[test]
    fn valid_payloads_pass_and_formats_are_not_checked() {
        assert_eq!(
            first(
                json!({"name": "a", "kind": "k", "schoolReference": {"schoolId": 1}, "date": "2023-13-45", "extra": 1})
            ),
            None
        );
    }

    #[test]
    fn the_first_error_in_python_order() {
        // required comes first in the schema: both missing properties, in `required` order
        assert_eq!(
            first(json!({"kind": 5, "schoolReference": {"schoolId": 1}})).unwrap(),
            "'name' is a required property "
        );
        assert_eq!(
            first(json!({"name": "a", "schoolReference": {"schoolId": 1}, "count": -1})).unwrap(),
            "'kind' is a required property "
        );
        // then the properties, in schema order (not payload order)
        assert_eq!(
            first(json!({"count": 11, "name": "toolong", "kind": "", "schoolReference": {"schoolId": 1}}))
                .unwrap(),
            "'toolong' is too long  in name"
        );
        assert_eq!(
            first(
                json!({"count": 11, "name": "ok", "kind": "", "schoolReference": {"schoolId": 1}})
            )
            .unwrap(),
            "'' should be non-empty  in kind"
        );
        assert_eq!(
            first(
                json!({"count": 1.0, "name": "ok", "kind": "k", "schoolReference": {"schoolId": 1}})
            )
            .unwrap(),
            "1.0 is not of type 'integer'  in count"
        );
        assert_eq!(
            first(
                json!({"count": 11, "name": "ok", "kind": "k", "schoolReference": {"schoolId": 1}})
            )
            .unwrap(),
            "11 is greater than the maximum of 10  in count"
        );
        assert_eq!(
            first(json!({"name": "ok", "kind": "k", "schoolReference": {"schoolId": "x"}}))
                .unwrap(),
            "'x' is not of type 'integer'  in schoolReference -> schoolId"
        );
        assert_eq!(
            first(json!({"name": "ok", "kind": "k", "schoolReference": {}})).unwrap(),
            "'schoolId' is a required property  in schoolReference"
        );
        assert_eq!(
            first(
                json!({"name": "ok", "kind": "k", "schoolReference": {"schoolId": 1},
                "items": [{"code": "abc"}, {"code": "abcd"}, {}]})
            )
            .unwrap(),
            "'abcd' is too long  in items -> 1 -> code"
        );
        assert_eq!(
            first(json!([1, "a"])).unwrap(),
            "[1, 'a'] is not of type 'object' "
        );
    }
}
