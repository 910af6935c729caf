//! The sandbox's data: records of every endpoint, upsert by identity, reference and descriptor
//! checks, queries with paging and filters, delete with dependency checks. No HTTP here.

use lightbeam_core::openapi::{
    canonical_scalar, upper_first, Endpoint, IdentityPart, Model, ScalarKind,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Which generation of ODS/API error bodies to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// ODS/API 7.2+: RFC 9457 problem details.
    V72,
    /// ODS/API up to 7.1: `{"message": ...}`.
    V71,
}

/// An error outcome of a data request, rendered by the server in the configured style.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400 data validation: JSON path → messages.
    Validation(BTreeMap<String, Vec<String>>),
    /// 400 bad request with `errors`.
    BadRequest { detail: String, errors: Vec<String> },
    /// 400 parameter validation.
    Parameter(String),
    /// 400 id in POST body.
    IdInBody,
    /// 404 unknown resource route.
    UnknownResource,
    /// 404 unknown id.
    NotFound { entity: String },
    /// 405
    MethodNotAllowed,
    /// 409 unresolved reference to `resource` (PascalCase, e.g. `School`).
    UnresolvedReference { resource: String },
    /// 409 unknown descriptor value, pre-7.2 (7.2+ reports it as a 400 validation error).
    UnresolvedDescriptor {
        path: String,
        descriptor: String,
        value: String,
    },
    /// 409 delete while referenced by an `entity`.
    DependentItemExists { entity: String },
    /// 412
    OptimisticLock,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub body: Map<String, Value>,
    pub etag: u64,
    pub last_modified: String,
    /// (endpoint, record) this record references.
    out_refs: Vec<(usize, usize)>,
    /// endpoint → number of references from records of that endpoint.
    in_refs: Vec<(usize, u32)>,
    identity_key: String,
    ref_key: String,
}

#[derive(Debug, Clone, Default)]
pub struct EndpointData {
    records: Vec<Option<Record>>,
    by_id: HashMap<String, usize>,
    by_identity: HashMap<String, usize>,
    /// sorted identity values → record, for resolving references
    by_ref_key: HashMap<String, usize>,
    live: usize,
}

impl EndpointData {
    pub fn count(&self) -> usize {
        self.live
    }
}

/// The records of one database (one ODS instance / year).
#[derive(Debug, Clone)]
pub struct Store {
    pub endpoints: Vec<EndpointData>,
    /// education organization id → (endpoint, record)
    edorgs: HashMap<String, (usize, usize)>,
    etag_counter: u64,
}

/// Result of a successful POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub created: bool,
    pub id: String,
    pub etag: u64,
}

/// The schema, identity and reference knowledge of the API, shared by all stores.
pub struct Api {
    pub model: Model,
    validators: Vec<OnceLock<Option<jsonschema::Validator>>>,
    pub style: ErrorStyle,
}

/// A query on a collection.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub offset: usize,
    pub limit: usize,
    pub filters: Vec<(String, String)>,
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

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
            return Err(ApiError::Validation(BTreeMap::from([(
                "$".to_string(),
                vec!["The request body must be a JSON object.".to_string()],
            )])));
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

    /// Identity key of a payload (ordered values of its identity parts).
    fn identity_values(&self, ep: usize, body: &Map<String, Value>) -> Vec<String> {
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

    /// The set of distinct identity values: an identity that repeats a value through two
    /// references (a courseOffering's `schoolId` in both its school and session references)
    /// is referenced with that value once, and role-named fields need no name mapping.
    fn ref_key_of_values(mut vals: Vec<String>) -> String {
        vals.sort();
        vals.dedup();
        vals.join("\u{1f}")
    }

    /// The key under which a reference object finds its target.
    fn ref_key_of_reference(obj: &Map<String, Value>) -> String {
        let vals: Vec<String> = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "link")
            .map(|(_, v)| canonical_scalar(v))
            .collect();
        Self::ref_key_of_values(vals)
    }

    /// Descriptor key `namespace#codevalue` lowercased.
    fn descriptor_key(uri: &str) -> Option<String> {
        let (ns, code) = uri.rsplit_once('#')?;
        if ns.is_empty() || code.is_empty() {
            return None;
        }
        Some(format!(
            "{}#{}",
            ns.trim().to_lowercase(),
            code.trim().to_lowercase()
        ))
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

/// Visit every `...Reference` object in a payload (top level and inside collections).
/// Called with (property name, reference object, whether at the top level).
type ReferenceVisitor<'v, 'a> = dyn FnMut(&str, &'a Map<String, Value>, bool) + 'v;

fn visit_references<'a>(v: &'a Map<String, Value>, f: &mut ReferenceVisitor<'_, 'a>) {
    for (k, x) in v {
        match x {
            Value::Object(o) if k.ends_with("Reference") => f(k, o, true),
            Value::Object(o) if k != "_ext" => visit_references(o, f),
            Value::Array(a) => {
                for item in a {
                    if let Value::Object(o) = item {
                        for (ik, ix) in o {
                            if let Value::Object(io) = ix {
                                if ik.ends_with("Reference") {
                                    f(ik, io, false);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

impl Store {
    pub fn new(api: &Api) -> Store {
        Store {
            endpoints: vec![EndpointData::default(); api.model.endpoints.len()],
            edorgs: HashMap::new(),
            etag_counter: 5_250_159_352_800_270_000,
        }
    }

    pub fn count(&self, ep: usize) -> usize {
        self.endpoints[ep].live
    }

    fn next_etag(&mut self) -> u64 {
        self.etag_counter += 7919;
        self.etag_counter
    }

    /// Find the record a reference object points to.
    fn resolve_reference(
        &self,
        api: &Api,
        from: usize,
        property: &str,
        obj: &Map<String, Value>,
    ) -> Result<Option<(usize, usize)>, String> {
        let e = &api.model.endpoints[from];
        // the property may be on the endpoint or inside a collection item: find its target by name
        let target_name = property.strip_suffix("Reference").unwrap_or(property);
        let rp = e.references.iter().find(|r| r.property == property);
        let target = match rp {
            Some(rp) => api
                .model
                .reference_target(e, rp)
                .map(|t| (t, rp.target.clone())),
            None => {
                // nested reference: find the endpoint by the longest matching suffix of the name
                let lower = target_name.to_ascii_lowercase();
                api.model
                    .endpoints
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| {
                        !x.is_descriptor && lower.ends_with(&x.singular().to_ascii_lowercase())
                    })
                    .max_by_key(|(_, x)| x.singular().len())
                    .map(|(i, x)| (i, x.singular().to_string()))
            }
        };
        let key = Api::ref_key_of_reference(obj);
        match target {
            Some((t, _)) => match self.endpoints[t].by_ref_key.get(&key) {
                Some(r) => Ok(Some((t, *r))),
                None => Err(api.model.endpoints[t].entity_name()),
            },
            None => {
                let target = rp
                    .map(|r| r.target.clone())
                    .unwrap_or_else(|| target_name.to_string());
                if target.eq_ignore_ascii_case("educationOrganization") {
                    match self.edorgs.get(&key) {
                        Some(x) => Ok(Some(*x)),
                        None => Err("EducationOrganization".into()),
                    }
                } else {
                    // an abstract target the sandbox cannot resolve: accepted
                    Ok(None)
                }
            }
        }
    }

    /// POST: validate and upsert.
    pub fn upsert(&mut self, api: &Api, ep: usize, mut body: Value) -> Result<Upserted, ApiError> {
        api.precheck(ep, &mut body)?;
        self.upsert_checked(api, ep, body)
    }

    /// Upsert a body that passed [`Api::precheck`]: descriptor and reference checks, then store.
    pub fn upsert_checked(
        &mut self,
        api: &Api,
        ep: usize,
        body: Value,
    ) -> Result<Upserted, ApiError> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let Some(obj) = body.as_object() else {
            return Err(ApiError::Validation(BTreeMap::from([(
                "$".to_string(),
                vec!["The request body must be a JSON object.".to_string()],
            )])));
        };
        // descriptors
        let mut desc_refs: Vec<(usize, usize)> = Vec::new();
        let mut unresolved_descriptor: Option<(String, String, String)> = None;
        {
            let mut path = String::from("$");
            let model = &api.model;
            let endpoints = &self.endpoints;
            visit_descriptors(&body, &mut path, &mut |p, k, value| {
                let dtype = model
                    .descriptor_for_property(k)
                    .map(|d| upper_first(model.endpoints[d].singular()))
                    .unwrap_or_else(|| upper_first(k));
                let Some(key) = Api::descriptor_key(value) else {
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
        }
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
        // references
        let mut out_refs = desc_refs;
        let mut failed: Option<String> = None;
        visit_references(obj, &mut |prop, robj, _top| {
            if failed.is_some() {
                return;
            }
            match self.resolve_reference(api, ep, prop, robj) {
                Ok(Some(t)) => out_refs.push(t),
                Ok(None) => {}
                Err(entity) => failed = Some(entity),
            }
        });
        if let Some(resource) = failed {
            return Err(ApiError::UnresolvedReference { resource });
        }
        let descriptor_key = if api.model.endpoints[ep].is_descriptor {
            let ns = obj
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let cv = obj
                .get("codeValue")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some(format!(
                "{}#{}",
                ns.trim().to_lowercase(),
                cv.trim().to_lowercase()
            ))
        } else {
            None
        };
        let values = api.identity_values(ep, obj);
        let identity_key = values.join("\u{1f}");
        let ref_key = descriptor_key.unwrap_or_else(|| Api::ref_key_of_values(values));
        let etag = self.next_etag();
        let body_map = match body {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let existing = self.endpoints[ep].by_identity.get(&identity_key).copied();
        match existing {
            Some(idx) => {
                let old_refs = {
                    let rec = self.endpoints[ep].records[idx]
                        .as_mut()
                        .expect("indexed record exists");
                    rec.body = body_map;
                    rec.etag = etag;
                    rec.last_modified = now_iso();
                    std::mem::replace(&mut rec.out_refs, out_refs.clone())
                };
                for (t, r) in old_refs {
                    self.release_ref(t, r, ep);
                }
                for (t, r) in out_refs {
                    self.add_ref(t, r, ep);
                }
                let id = self.endpoints[ep].records[idx]
                    .as_ref()
                    .map(|r| r.id.clone())
                    .unwrap_or_default();
                Ok(Upserted {
                    created: false,
                    id,
                    etag,
                })
            }
            None => {
                let id = new_id();
                let data = &mut self.endpoints[ep];
                let idx = data.records.len();
                data.records.push(Some(Record {
                    id: id.clone(),
                    body: body_map,
                    etag,
                    last_modified: now_iso(),
                    out_refs: out_refs.clone(),
                    in_refs: Vec::new(),
                    identity_key: identity_key.clone(),
                    ref_key: ref_key.clone(),
                }));
                data.by_id.insert(id.clone(), idx);
                data.by_identity.insert(identity_key, idx);
                data.by_ref_key.insert(ref_key.clone(), idx);
                data.live += 1;
                if api.model.endpoints[ep].is_education_organization {
                    self.edorgs.insert(ref_key, (ep, idx));
                }
                for (t, r) in out_refs {
                    self.add_ref(t, r, ep);
                }
                Ok(Upserted {
                    created: true,
                    id,
                    etag,
                })
            }
        }
    }

    fn add_ref(&mut self, t: usize, r: usize, from: usize) {
        if let Some(rec) = self.endpoints[t]
            .records
            .get_mut(r)
            .and_then(Option::as_mut)
        {
            match rec.in_refs.iter_mut().find(|(e, _)| *e == from) {
                Some((_, n)) => *n += 1,
                None => rec.in_refs.push((from, 1)),
            }
        }
    }

    fn release_ref(&mut self, t: usize, r: usize, from: usize) {
        if let Some(rec) = self.endpoints[t]
            .records
            .get_mut(r)
            .and_then(Option::as_mut)
        {
            if let Some(pos) = rec.in_refs.iter().position(|(e, _)| *e == from) {
                rec.in_refs[pos].1 -= 1;
                if rec.in_refs[pos].1 == 0 {
                    rec.in_refs.remove(pos);
                }
            }
        }
    }

    /// DELETE by id.
    pub fn delete(&mut self, api: &Api, ep: usize, id: &str) -> Result<(), ApiError> {
        let id = id.replace('-', "").to_ascii_lowercase();
        let entity = api.model.endpoints[ep].entity_name();
        let Some(&idx) = self.endpoints[ep].by_id.get(&id) else {
            return Err(ApiError::NotFound { entity });
        };
        let rec = self.endpoints[ep].records[idx]
            .as_ref()
            .expect("indexed record exists");
        if let Some((from, _)) = rec.in_refs.first() {
            return Err(ApiError::DependentItemExists {
                entity: api.model.endpoints[*from].entity_name(),
            });
        }
        let rec = self.endpoints[ep].records[idx]
            .take()
            .expect("indexed record exists");
        let data = &mut self.endpoints[ep];
        data.by_id.remove(&rec.id);
        data.by_identity.remove(&rec.identity_key);
        data.by_ref_key.remove(&rec.ref_key);
        data.live -= 1;
        if api.model.endpoints[ep].is_education_organization {
            self.edorgs.remove(&rec.ref_key);
        }
        for (t, r) in rec.out_refs {
            self.release_ref(t, r, ep);
        }
        Ok(())
    }

    /// GET by id.
    pub fn get(&self, api: &Api, ep: usize, id: &str) -> Result<Value, ApiError> {
        let id = id.replace('-', "").to_ascii_lowercase();
        match self.endpoints[ep].by_id.get(&id) {
            Some(&idx) => Ok(self.render(api, ep, idx)),
            None => Err(ApiError::NotFound {
                entity: api.model.endpoints[ep].entity_name(),
            }),
        }
    }

    pub fn etag_of(&self, ep: usize, id: &str) -> Option<u64> {
        let id = id.replace('-', "").to_ascii_lowercase();
        let idx = *self.endpoints[ep].by_id.get(&id)?;
        self.endpoints[ep].records[idx].as_ref().map(|r| r.etag)
    }

    /// PUT by id: full replacement, identity must not change.
    pub fn put(
        &mut self,
        api: &Api,
        ep: usize,
        id: &str,
        mut body: Value,
    ) -> Result<u64, ApiError> {
        let id = id.replace('-', "").to_ascii_lowercase();
        let entity = api.model.endpoints[ep].entity_name();
        let Some(&idx) = self.endpoints[ep].by_id.get(&id) else {
            return Err(ApiError::NotFound { entity });
        };
        if let Some(o) = body.as_object_mut() {
            // an id in a PUT body must match the URL; drop it before the upsert
            if let Some(bid) = o.remove("id") {
                if bid
                    .as_str()
                    .map(|s| s.replace('-', "").to_ascii_lowercase())
                    != Some(id.clone())
                {
                    return Err(ApiError::BadRequest {
                        detail: "The request construction was invalid.".into(),
                        errors: vec!["The identifier of the resource in the body does not match the identifier in the URL.".into()],
                    });
                }
            }
            let key = api.identity_values(ep, o).join("\u{1f}");
            let current = &self.endpoints[ep].records[idx]
                .as_ref()
                .expect("indexed")
                .identity_key;
            if &key != current {
                return Err(ApiError::BadRequest {
                    detail: format!(
                        "Identifying values for the {entity} item cannot be changed. Delete and recreate the item instead."
                    ),
                    errors: vec![],
                });
            }
        }
        self.upsert(api, ep, body).map(|u| u.etag)
    }

    /// Render a stored record as the API returns it.
    fn render(&self, api: &Api, ep: usize, idx: usize) -> Value {
        let rec = self.endpoints[ep].records[idx]
            .as_ref()
            .expect("live record");
        let mut out = Map::with_capacity(rec.body.len() + 3);
        out.insert("id".into(), Value::String(rec.id.clone()));
        for (k, v) in &rec.body {
            if k.ends_with("Reference") {
                if let Value::Object(o) = v {
                    let mut o = o.clone();
                    if let Ok(Some((t, r))) = self.resolve_reference(api, ep, k, &o) {
                        if let Some(target) = self.endpoints[t].records[r].as_ref() {
                            let te = &api.model.endpoints[t];
                            o.insert(
                                "link".into(),
                                serde_json::json!({"rel": te.entity_name(), "href": format!("/{}/{}/{}", te.namespace, te.name, target.id)}),
                            );
                        }
                    }
                    out.insert(k.clone(), Value::Object(o));
                    continue;
                }
            }
            out.insert(k.clone(), v.clone());
        }
        out.insert("_etag".into(), Value::String(rec.etag.to_string()));
        out.insert(
            "_lastModifiedDate".into(),
            Value::String(rec.last_modified.clone()),
        );
        Value::Object(out)
    }

    fn matches(&self, api: &Api, ep: usize, rec: &Record, filters: &[(String, String)]) -> bool {
        let e = &api.model.endpoints[ep];
        'filters: for (name, want) in filters {
            let want = want.trim().to_lowercase();
            if name.eq_ignore_ascii_case("id") {
                if rec.id != want.replace('-', "") {
                    return false;
                }
                continue;
            }
            if let Some((_, v)) = rec
                .body
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_object() && !v.is_array())
            {
                if canonical_scalar(v) != want {
                    return false;
                }
                continue;
            }
            let mut known = false;
            for r in &e.references {
                for f in &r.fields {
                    if r.flattened_names(f)
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(name))
                    {
                        known = true;
                        if let Some(v) = rec.body.get(&r.property).and_then(|o| o.get(f)) {
                            if canonical_scalar(v) == want {
                                continue 'filters;
                            }
                        }
                    }
                }
            }
            if known
                || e.scalar_props
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                return false;
            }
            // a parameter the resource does not have: ignored, as by the ODS
        }
        true
    }

    /// GET collection: (items, total count of matches).
    pub fn list(&self, api: &Api, ep: usize, q: &Query) -> (Vec<Value>, usize) {
        let data = &self.endpoints[ep];
        let mut total = 0usize;
        let mut items = Vec::new();
        for (idx, rec) in data.records.iter().enumerate() {
            let Some(rec) = rec else { continue };
            if !q.filters.is_empty() && !self.matches(api, ep, rec, &q.filters) {
                continue;
            }
            if total >= q.offset && items.len() < q.limit {
                items.push(self.render(api, ep, idx));
            }
            total += 1;
        }
        (items, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightbeam_core::openapi::Document;
    use serde_json::json;

    fn api() -> Api {
        let load = |name: &str| {
            let p = format!(
                "{}/../../../shared/edfi/openapi/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            Document::new(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
                .unwrap()
        };
        Api::new(
            Model::new(vec![
                load("odsapi-7.x_resources_openapi3_ds5.0.json"),
                load("odsapi-7.x_descriptors_openapi3_ds5.0.json"),
            ]),
            ErrorStyle::V72,
        )
    }

    #[test]
    fn json_paths() {
        assert_eq!(json_path(""), "$");
        assert_eq!(json_path("/addresses/0/city"), "$.addresses[0].city");
    }

    #[test]
    fn upsert_reference_descriptor_delete() {
        let api = api();
        let mut s = Store::new(&api);
        let ep = |n: &str| api.model.find("ed-fi", n).unwrap();
        let d = json!({"codeValue": "Ninth grade", "namespace": "uri://ed-fi.org/GradeLevelDescriptor", "shortDescription": "Ninth grade"});
        assert!(
            s.upsert(&api, ep("gradeLevelDescriptors"), d.clone())
                .unwrap()
                .created
        );
        assert!(
            !s.upsert(&api, ep("gradeLevelDescriptors"), d)
                .unwrap()
                .created
        );
        let st = json!({"studentUniqueId": "604822", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B"});
        let created = s.upsert(&api, ep("students"), st).unwrap();
        // reference to a school that does not exist
        let ssa = json!({"entryDate": "2023-08-23", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
            "schoolReference": {"schoolId": 255901001}, "studentReference": {"studentUniqueId": "604822"}});
        assert_eq!(
            s.upsert(&api, ep("studentSchoolAssociations"), ssa)
                .unwrap_err(),
            ApiError::UnresolvedReference {
                resource: "School".into()
            }
        );
        let bad = json!({"studentUniqueId": "x", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B", "birthCountryDescriptor": "00"});
        match s.upsert(&api, ep("students"), bad).unwrap_err() {
            ApiError::Validation(m) => {
                assert!(m["$.birthCountryDescriptor"][0].contains("is not a valid value"))
            }
            e => panic!("{e:?}"),
        }
        let missing = json!({"studentUniqueId": "x", "firstName": "A"});
        match s.upsert(&api, ep("students"), missing).unwrap_err() {
            ApiError::Validation(m) => {
                assert_eq!(m["$.lastSurname"], vec!["LastSurname is required."])
            }
            e => panic!("{e:?}"),
        }
        let (items, total) = s.list(
            &api,
            ep("students"),
            &Query {
                offset: 0,
                limit: 25,
                filters: vec![("StudentUniqueId".into(), "604822".into())],
            },
        );
        assert_eq!((items.len(), total), (1, 1));
        s.delete(&api, ep("students"), &created.id).unwrap();
        assert_eq!(s.count(ep("students")), 0);
    }
}
