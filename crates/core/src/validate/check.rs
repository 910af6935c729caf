//! The checks of one line that need nothing but the line and read-only knowledge: JSON,
//! `schema`, `descriptors`, the identity key, uniqueness inside the payload's collections, and
//! references against local data. They run on many threads natively (see [`par_map`]); what
//! depends on line order (uniqueness across lines) or on the network (remote references) is
//! done afterwards, in order.

use super::descriptors::DescriptorIndex;
use super::keys::{identity_key, reference_key};
use super::references::{param_text, LocalIndexes};
use super::schema::SchemaCheck;
use super::shape::{Child, IdentitySpec, RefGroups, ReferenceSelection, Shape};
use crate::api::openapi::Model;
use crate::config::ValidationMethod as Method;
use crate::data::lines::OwnedLine;
use crate::pycompat::json_dumps_pairs;
use serde_json::{Map, Value};

/// Which methods run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Methods {
    pub schema: bool,
    pub descriptors: bool,
    pub uniqueness: bool,
    pub references: bool,
}

/// A reference not found in local data: to look up in the API, or a failure.
#[derive(Debug, Clone)]
pub struct PendingRef {
    /// The property, e.g. `schoolReference`.
    pub property: String,
    /// The Python tool's path of the object holding it (`""` at the top).
    pub path: String,
    pub group: usize,
    pub key: u128,
    /// The reference's fields and values (without `link`), for the query.
    pub params: Vec<(String, String)>,
    /// `json.dumps` of the reference without `link`.
    pub display: String,
}

impl PendingRef {
    /// The Python tool's message for an invalid reference.
    pub fn invalid_message(&self) -> String {
        let at = if self.path.is_empty() {
            ": ".to_string()
        } else {
            format!(" (at {}): ", self.path)
        };
        format!(
            "payload contains an invalid {} {at}{}",
            self.property, self.display
        )
    }

    /// The message when the API gave no clear answer.
    pub fn unknown_message(&self, reason: &str) -> String {
        let at = if self.path.is_empty() {
            String::new()
        } else {
            format!(" (at {})", self.path)
        };
        format!(
            "could not check {}{at}: {} ({reason})",
            self.property, self.display
        )
    }
}

/// What the parallel checks found in one line.
#[derive(Debug, Clone)]
pub struct LineCheck {
    pub number: u64,
    /// A failure that ends the line's checks (json, schema, descriptors).
    pub failure: Option<(Method, String)>,
    /// The payload's identity key (uniqueness), when it has every identity value.
    pub identity: Option<u128>,
    /// A duplicate inside one of the payload's collections.
    pub nested_duplicate: Option<String>,
    /// References not found locally, in payload order.
    pub pending: Vec<PendingRef>,
}

/// Everything the line checks of one endpoint read.
pub struct EndpointChecker<'a> {
    pub endpoint: String,
    pub methods: Methods,
    pub schema: Option<SchemaCheck>,
    pub shape: Shape,
    pub identity: Option<IdentitySpec>,
    pub is_descriptor: bool,
    pub model: &'a Model,
    pub descriptors: Option<&'a DescriptorIndex>,
    pub groups: &'a RefGroups,
    pub local: &'a LocalIndexes,
    pub selection: &'a ReferenceSelection,
}

/// The walk over one payload.
struct Walk<'c, 'a> {
    c: &'c EndpointChecker<'a>,
    descriptor_failure: Option<String>,
    nested_duplicate: Option<String>,
    pending: Vec<PendingRef>,
    /// dotted location without indices, for the reference selection (`endpoint.a.bReference`)
    location: String,
}

fn join_path(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else {
        format!("{path}.{segment}")
    }
}

impl<'a> EndpointChecker<'a> {
    /// Runs the per-line checks.
    pub fn check(&self, line: &OwnedLine) -> LineCheck {
        let mut out = LineCheck {
            number: line.number,
            failure: None,
            identity: None,
            nested_duplicate: None,
            pending: Vec::new(),
        };
        let text = match &line.text {
            Ok(t) => t,
            Err(e) => {
                out.failure = Some((Method::Json, format!("invalid JSON: {e}")));
                return out;
            }
        };
        let payload: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.failure = Some((Method::Json, json_error_message(&e)));
                return out;
            }
        };
        if self.methods.schema {
            if let Some(schema) = &self.schema {
                if let Some(message) = schema.first_error(&payload) {
                    out.failure = Some((Method::Schema, message));
                    return out;
                }
            }
        }
        let Some(obj) = payload.as_object() else {
            out.failure = Some((
                Method::Json,
                format!(
                    "the payload is a JSON {}, not an object",
                    json_kind(&payload)
                ),
            ));
            return out;
        };
        let need_walk = self.methods.descriptors
            || self.methods.uniqueness
            || (self.methods.references && !self.is_descriptor);
        if need_walk {
            let mut w = Walk {
                c: self,
                descriptor_failure: None,
                nested_duplicate: None,
                pending: Vec::new(),
                location: self.endpoint.clone(),
            };
            w.object(obj, Some(0), "");
            if let Some(message) = w.descriptor_failure {
                out.failure = Some((Method::Descriptors, message));
                return out;
            }
            out.nested_duplicate = w.nested_duplicate;
            out.pending = w.pending;
        }
        if self.methods.uniqueness {
            if let Some(spec) = &self.identity {
                out.identity = spec.values(obj).map(|v| identity_key(&v));
            }
        }
        out
    }

    /// The Python tool's display of an identity (`{"entryDate": "...", "schoolId": 1}`).
    pub fn identity_display(&self, text: &str) -> String {
        let Some(spec) = &self.identity else {
            return "{}".into();
        };
        let payload: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let Some(obj) = payload.as_object() else {
            return "{}".into();
        };
        match spec.values(obj) {
            Some(values) => json_dumps_pairs(
                spec.fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .zip(values.iter().copied()),
            ),
            None => "{}".into(),
        }
    }
}

impl Walk<'_, '_> {
    /// Walks an object in payload order; `node` is its schema node, if known. Stops at the
    /// first invalid descriptor.
    fn object(&mut self, obj: &Map<String, Value>, node: Option<usize>, path: &str) {
        let c = self.c;
        for (k, v) in obj {
            if self.descriptor_failure.is_some() {
                return;
            }
            let child = node.and_then(|n| c.shape.nodes[n].props.get(k));
            match v {
                Value::String(s) if c.methods.descriptors && k.ends_with("Descriptor") => {
                    self.descriptor(k, s, path);
                }
                Value::Object(o) if k.ends_with("Reference") => {
                    if c.methods.descriptors {
                        let inner = join_path(path, k);
                        self.object(o, None, &inner);
                    }
                    if c.methods.references && !c.is_descriptor {
                        self.reference(k, o, child, path);
                    }
                }
                Value::Object(o) => {
                    let inner_node = match child {
                        Some(Child::Object(id)) => Some(*id),
                        _ => None,
                    };
                    let len = self.location.len();
                    self.location.push('.');
                    self.location.push_str(k);
                    self.object(o, inner_node, &join_path(path, k));
                    self.location.truncate(len);
                }
                Value::Array(items) => {
                    let (item_node, identity) = match child {
                        Some(Child::Array { item, identity }) => (Some(*item), *identity),
                        _ => (None, None),
                    };
                    if c.methods.uniqueness && self.nested_duplicate.is_none() {
                        if let Some(spec) = identity.map(|i| &c.shape.identities[i]) {
                            self.nested_duplicates(spec, k, items, path);
                        }
                    }
                    let len = self.location.len();
                    self.location.push('.');
                    self.location.push_str(k);
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Object(o) = item {
                            let p = join_path(path, &format!("{k}[{i}]"));
                            self.object(o, item_node, &p);
                            if self.descriptor_failure.is_some() {
                                break;
                            }
                        }
                    }
                    self.location.truncate(len);
                }
                _ => {}
            }
        }
    }

    fn descriptor(&mut self, k: &str, value: &str, path: &str) {
        let c = self.c;
        let Some(index) = c.descriptors else { return };
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" (at {path})")
        };
        if !value.contains('#') {
            self.descriptor_failure = Some(format!(
                "{value} is not a valid descriptor value for {k}{at}; format should be like `uri://namespace.org/SomeDescriptor#SomeValue`"
            ));
            return;
        }
        if !index.contains(value, index.expected(c.model, k)) {
            self.descriptor_failure = Some(format!(
                "{value} is not a valid descriptor value for {k}{at}"
            ));
        }
    }

    fn reference(&mut self, k: &str, obj: &Map<String, Value>, child: Option<&Child>, path: &str) {
        let c = self.c;
        let (group, checked) = match child {
            Some(Child::Reference(r)) => (c.shape.refs[*r].group, c.shape.refs[*r].checked),
            _ => (
                c.groups.for_reference_name(k),
                c.selection.checks(&format!("{}.{k}", self.location)),
            ),
        };
        let (Some(group), true) = (group, checked) else {
            return;
        };
        let key = reference_key(obj);
        if c.local.contains(c.groups, group, key) {
            return;
        }
        let pairs: Vec<(&str, &Value)> = obj
            .iter()
            .filter(|(f, _)| f.as_str() != "link")
            .map(|(f, v)| (f.as_str(), v))
            .collect();
        self.pending.push(PendingRef {
            property: k.to_string(),
            path: path.to_string(),
            group,
            key,
            params: pairs
                .iter()
                .map(|(f, v)| (f.to_string(), param_text(v)))
                .collect(),
            display: json_dumps_pairs(pairs.iter().copied()),
        });
    }

    /// Items of one collection with the same identity: the first repeat, as the Python tool
    /// reports it.
    fn nested_duplicates(&mut self, spec: &IdentitySpec, k: &str, items: &[Value], path: &str) {
        let mut seen: Vec<u128> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Some(o) = item.as_object() else { continue };
            let Some(values) = spec.values(o) else {
                continue;
            };
            let key = identity_key(&values);
            if seen.contains(&key) {
                let display = json_dumps_pairs(
                    spec.fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .zip(values.iter().copied()),
                );
                let at = join_path(path, &format!("{k}[{i}]"));
                self.nested_duplicate = Some(format!(
                    "duplicate value(s) for identity key(s): (at {at}): {display}"
                ));
                return;
            }
            seen.push(key);
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `invalid JSON {what}: column {c} (char {c-1})`, in the shape of the Python tool's message
/// (`invalid JSON Expecting value: column 1 (char 0)`), with serde_json's description.
pub fn json_error_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let what = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    let column = e.column();
    if e.line() <= 1 {
        format!(
            "invalid JSON {what}: column {column} (char {})",
            column.saturating_sub(1)
        )
    } else {
        format!("invalid JSON {what}: line {} column {column}", e.line())
    }
}

/// Maps `f` over `items` on up to `threads` threads (the calling one included), keeping order.
/// Single-threaded in wasm32, where there are no threads.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: &(dyn Fn(&T) -> R + Sync),
) -> Vec<R> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        const MIN_PER_THREAD: usize = 64;
        let threads = threads.min(items.len() / MIN_PER_THREAD).max(1);
        if threads > 1 {
            let chunk = items.len().div_ceil(threads);
            return std::thread::scope(|s| {
                let handles: Vec<_> = items
                    .chunks(chunk)
                    .skip(1)
                    .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
                    .collect();
                let mut out: Vec<R> = Vec::with_capacity(items.len());
                out.extend(items[..chunk].iter().map(f));
                for h in handles {
                    match h.join() {
                        Ok(part) => out.extend(part),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                out
            });
        }
    }
    let _ = threads;
    items.iter().map(f).collect()
}
