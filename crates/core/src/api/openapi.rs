//! The Ed-Fi OpenAPI documents (Swagger 2.0 `definitions` or OpenAPI 3 `components.schemas`)
//! read into a model of endpoints: their schema, GET query parameters, identity
//! (natural key) and references. Used by validation, delete and the sandbox.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// Errors while reading an OpenAPI document.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("the OpenAPI document has neither `definitions` nor `components.schemas`")]
    NoSchemas,
    #[error("the OpenAPI document has no `paths`")]
    NoPaths,
}

/// One OpenAPI document (resources or descriptors).
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Value,
    /// `#/definitions/` (Swagger 2.0) or `#/components/schemas/` (OpenAPI 3).
    pub schema_prefix: &'static str,
}

impl Document {
    pub fn new(root: Value) -> Result<Self, OpenApiError> {
        let schema_prefix = if root.get("definitions").is_some_and(Value::is_object) {
            "#/definitions/"
        } else if root
            .get("components")
            .and_then(|c| c.get("schemas"))
            .is_some_and(Value::is_object)
        {
            "#/components/schemas/"
        } else {
            return Err(OpenApiError::NoSchemas);
        };
        if !root.get("paths").is_some_and(Value::is_object) {
            return Err(OpenApiError::NoPaths);
        }
        Ok(Document {
            root,
            schema_prefix,
        })
    }

    pub fn is_swagger2(&self) -> bool {
        self.schema_prefix == "#/definitions/"
    }

    pub fn schemas(&self) -> &Map<String, Value> {
        let v = if self.is_swagger2() {
            &self.root["definitions"]
        } else {
            &self.root["components"]["schemas"]
        };
        v.as_object().expect("checked in new()")
    }

    /// The schema called `name` (e.g. `edFi_student`).
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.schemas().get(name)
    }

    /// Resolve a local `$ref` such as `#/components/schemas/edFi_student`.
    pub fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.root.pointer(pointer)
    }

    /// The name of the schema a `$ref` points to, when it points to a schema.
    pub fn schema_name_of_ref<'a>(&self, reference: &'a str) -> Option<&'a str> {
        reference.strip_prefix(self.schema_prefix)
    }

    /// The JSON Schema of the whole document's schemas container, to resolve `$ref`s.
    /// Returns `(container key path, container)`, e.g. `(["components","schemas"], {...})`.
    pub fn schema_container(&self) -> (Vec<&'static str>, &Value) {
        if self.is_swagger2() {
            (vec!["definitions"], &self.root["definitions"])
        } else {
            (
                vec!["components", "schemas"],
                &self.root["components"]["schemas"],
            )
        }
    }

    /// A self-contained draft-4 schema for one named schema: `{"$ref": ..., <container>}`
    /// holding only the schemas reachable from it.
    pub fn standalone_schema(&self, name: &str) -> Option<Value> {
        self.schema(name)?;
        let mut needed: Vec<String> = vec![name.to_string()];
        let mut seen: std::collections::HashSet<String> = needed.iter().cloned().collect();
        let mut i = 0;
        while i < needed.len() {
            let s = self.schema(&needed[i]).cloned().unwrap_or(Value::Null);
            let mut refs = Vec::new();
            collect_refs(&s, &mut refs);
            for r in refs {
                if let Some(n) = self.schema_name_of_ref(&r) {
                    if seen.insert(n.to_string()) && self.schema(n).is_some() {
                        needed.push(n.to_string());
                    }
                }
            }
            i += 1;
        }
        let mut container = Map::new();
        for n in &needed {
            if let Some(s) = self.schema(n) {
                container.insert(n.clone(), s.clone());
            }
        }
        let mut root = Map::new();
        root.insert(
            "allOf".into(),
            Value::Array(vec![
                serde_json::json!({ "$ref": format!("{}{}", self.schema_prefix, name) }),
            ]),
        );
        if self.is_swagger2() {
            root.insert("definitions".into(), Value::Object(container));
        } else {
            let mut components = Map::new();
            components.insert("schemas".into(), Value::Object(container));
            root.insert("components".into(), Value::Object(components));
        }
        Some(Value::Object(root))
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// `ed-fi` → `edFi`, `tpdm` → `tpdm`, `my_ext` → `myExt` (as the Python tool's `camel_case`).
pub fn camel_case_namespace(ns: &str) -> String {
    let mut out = String::new();
    let mut upper_next = false;
    for c in ns.chars() {
        if c == '-' || c == '_' || c == ' ' {
            upper_next = !out.is_empty();
            continue;
        }
        if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `localEducationAgencies` → `localEducationAgency`, `people` → `person`, `students` → `student`.
pub fn singularize(endpoint: &str) -> String {
    if let Some(stem) = endpoint.strip_suffix("ies") {
        format!("{stem}y")
    } else if endpoint == "people" {
        "person".into()
    } else if let Some(stem) = endpoint.strip_suffix("Statuses") {
        format!("{stem}Status")
    } else if let Some(stem) = endpoint.strip_suffix('s') {
        stem.to_string()
    } else {
        endpoint.to_string()
    }
}

/// The scalar type of a property or query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    Integer,
    Number,
    Boolean,
}

/// A GET query parameter of an endpoint (other than paging ones).
#[derive(Debug, Clone)]
pub struct QueryParam {
    pub name: String,
    pub kind: ScalarKind,
    pub is_identity: bool,
}

/// A reference property of a resource (e.g. `schoolReference` → `schools`).
#[derive(Debug, Clone)]
pub struct ReferenceProp {
    /// Property name, e.g. `nextYearSchoolReference`.
    pub property: String,
    /// The referenced resource, singular, e.g. `school`.
    pub target: String,
    /// The reference schema's fields (without `link`), in document order.
    pub fields: Vec<String>,
    pub required: bool,
    /// Part of the referencing resource's identity.
    pub is_identity: bool,
}

impl ReferenceProp {
    /// Query-parameter names under which a field of this reference can be filtered:
    /// `nextYearSchoolReference.schoolId` → `nextYearSchoolId`; `schoolReference.schoolId` →
    /// `schoolId`; also `{target}{Field}` as the ODS names some collisions.
    pub fn flattened_names(&self, field: &str) -> Vec<String> {
        let role = self
            .property
            .strip_suffix("Reference")
            .unwrap_or(&self.property);
        let mut names = Vec::new();
        if role.eq_ignore_ascii_case(&self.target) {
            names.push(field.to_string());
        } else {
            let prefix = if role.len() > self.target.len()
                && role[role.len() - self.target.len()..].eq_ignore_ascii_case(&self.target)
            {
                &role[..role.len() - self.target.len()]
            } else {
                role
            };
            names.push(format!("{prefix}{}", upper_first(field)));
        }
        names.push(format!("{}{}", self.target, upper_first(field)));
        names
    }
}

pub fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// One identity part of a resource: a scalar property or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityPart {
    Scalar(String),
    Reference(String),
}

/// An endpoint (resource or descriptor) as the API exposes it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub namespace: String,
    /// Plural, as in the URL: `students`.
    pub name: String,
    /// Schema name, e.g. `edFi_student`.
    pub schema_name: String,
    pub is_descriptor: bool,
    pub query_params: Vec<QueryParam>,
    pub scalar_props: Vec<(String, ScalarKind)>,
    pub references: Vec<ReferenceProp>,
    pub required: Vec<String>,
    pub identity: Vec<IdentityPart>,
    /// True for education organizations (schools, LEAs, ...): they can be the target of an
    /// `educationOrganizationReference`.
    pub is_education_organization: bool,
    /// The document lists `/{namespace}/{name}/partitions`: the API offers cursor paging here
    /// (ODS/API 7.3).
    pub has_partitions: bool,
    /// Index into `Model::documents`.
    pub document: usize,
}

impl Endpoint {
    /// `/ed-fi/students`
    pub fn path(&self) -> String {
        format!("/{}/{}", self.namespace, self.name)
    }
    /// The singular resource name: `student`.
    pub fn singular(&self) -> &str {
        self.schema_name
            .split_once('_')
            .map(|(_, s)| s)
            .unwrap_or(&self.schema_name)
    }
    /// The ODS's entity name, PascalCase singular: `Student`.
    pub fn entity_name(&self) -> String {
        upper_first(self.singular())
    }
    pub fn accepts_query_param(&self, name: &str) -> bool {
        const PAGING: [&str; 7] = [
            "offset",
            "limit",
            "totalcount",
            "minchangeversion",
            "maxchangeversion",
            "pagetoken",
            "pagesize",
        ];
        let lower = name.to_ascii_lowercase();
        lower == "id"
            || PAGING.contains(&lower.as_str())
            || self
                .query_params
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// All endpoints of one API, from its resources and descriptors documents.
#[derive(Debug, Clone)]
pub struct Model {
    pub documents: Vec<Document>,
    pub endpoints: Vec<Endpoint>,
    by_path: HashMap<(String, String), usize>,
    by_schema: HashMap<String, usize>,
    /// lowercase descriptor singular (`gradeleveldescriptor`) → endpoint index
    descriptor_by_singular: HashMap<String, usize>,
}

impl Model {
    /// Build the model from one or more documents (normally resources, then descriptors).
    pub fn new(documents: Vec<Document>) -> Model {
        let mut endpoints = Vec::new();
        let mut partitioned = std::collections::HashSet::new();
        for (di, doc) in documents.iter().enumerate() {
            let Some(paths) = doc.root["paths"].as_object() else {
                continue;
            };
            for (path, ops) in paths {
                let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
                if segs.len() == 3 && segs[2] == "partitions" {
                    partitioned.insert((segs[0].to_string(), segs[1].to_ascii_lowercase()));
                }
                if segs.len() != 2 || segs[1].starts_with('{') {
                    continue;
                }
                if ops.get("post").is_none() && ops.get("get").is_none() {
                    continue;
                }
                if let Some(ep) = read_endpoint(doc, di, segs[0], segs[1], ops) {
                    endpoints.push(ep);
                }
            }
        }
        for e in &mut endpoints {
            e.has_partitions =
                partitioned.contains(&(e.namespace.clone(), e.name.to_ascii_lowercase()));
        }
        let mut by_path = HashMap::new();
        let mut by_schema = HashMap::new();
        let mut descriptor_by_singular = HashMap::new();
        for (i, e) in endpoints.iter().enumerate() {
            by_path.insert((e.namespace.clone(), e.name.to_ascii_lowercase()), i);
            by_schema.entry(e.schema_name.clone()).or_insert(i);
            if e.is_descriptor {
                descriptor_by_singular
                    .entry(e.singular().to_ascii_lowercase())
                    .or_insert(i);
            }
        }
        Model {
            documents,
            endpoints,
            by_path,
            by_schema,
            descriptor_by_singular,
        }
    }

    /// Frees the OpenAPI documents (most of the model's memory) when only the endpoints are
    /// needed from now on (their identities, references, names); schema lookups in the
    /// documents are no longer possible.
    pub fn forget_documents(&mut self) {
        self.documents = Vec::new();
    }

    /// The endpoint `/{namespace}/{name}` (name matched case-insensitively).
    pub fn find(&self, namespace: &str, name: &str) -> Option<usize> {
        self.by_path
            .get(&(namespace.to_string(), name.to_ascii_lowercase()))
            .copied()
    }

    pub fn namespaces(&self) -> Vec<String> {
        let mut v: Vec<String> = self.endpoints.iter().map(|e| e.namespace.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The endpoint a reference property points to (`edFi_schoolReference` → `schools`),
    /// searched first in the referencing endpoint's namespace.
    pub fn reference_target(&self, from: &Endpoint, reference: &ReferenceProp) -> Option<usize> {
        let own = format!(
            "{}_{}",
            from.schema_name.split('_').next().unwrap_or(""),
            reference.target
        );
        if let Some(i) = self.by_schema.get(&own) {
            return Some(*i);
        }
        let ed_fi = format!("edFi_{}", reference.target);
        self.by_schema.get(&ed_fi).copied().or_else(|| {
            self.endpoints.iter().position(|e| {
                e.singular().eq_ignore_ascii_case(&reference.target) && !e.is_descriptor
            })
        })
    }

    /// The descriptor endpoint for a `...Descriptor` property name: the longest suffix of the
    /// name that is a descriptor (`entryGradeLevelDescriptor` → `gradeLevelDescriptors`).
    pub fn descriptor_for_property(&self, property: &str) -> Option<usize> {
        if !property.ends_with("Descriptor") {
            return None;
        }
        let lower = property.to_ascii_lowercase();
        // candidate suffixes start at each uppercase letter (and at 0)
        let bytes = property.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if i == 0 || b.is_ascii_uppercase() {
                if let Some(ix) = self.descriptor_by_singular.get(&lower[i..]) {
                    return Some(*ix);
                }
            }
        }
        None
    }

    pub fn document_of(&self, endpoint: &Endpoint) -> &Document {
        &self.documents[endpoint.document]
    }
}

fn scalar_kind(v: &Value) -> Option<ScalarKind> {
    let t = v
        .get("type")
        .or_else(|| v.get("schema").and_then(|s| s.get("type")))?
        .as_str()?;
    Some(match t {
        "string" => ScalarKind::String,
        "integer" => ScalarKind::Integer,
        "number" => ScalarKind::Number,
        "boolean" => ScalarKind::Boolean,
        _ => return None,
    })
}

fn is_identity_flag(v: &Value) -> bool {
    v.get("x-Ed-Fi-isIdentity").and_then(Value::as_bool) == Some(true)
}

fn post_body_ref(doc: &Document, ops: &Value) -> Option<String> {
    let post = ops.get("post")?;
    if let Some(rb) = post.get("requestBody") {
        let rb = match rb.get("$ref").and_then(Value::as_str) {
            Some(r) => doc.resolve(r)?,
            None => rb,
        };
        let content = rb.get("content")?.as_object()?;
        for (_, c) in content {
            if let Some(r) = c
                .get("schema")
                .and_then(|s| s.get("$ref"))
                .and_then(Value::as_str)
            {
                return Some(r.to_string());
            }
        }
        None
    } else {
        for p in post.get("parameters")?.as_array()? {
            let p = match p.get("$ref").and_then(Value::as_str) {
                Some(r) => doc.resolve(r)?,
                None => p,
            };
            if p.get("in").and_then(Value::as_str) == Some("body") {
                return p
                    .get("schema")
                    .and_then(|s| s.get("$ref"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
        }
        None
    }
}

/// The query parameters of an endpoint's GET (inline ones; `$ref`s are the paging parameters).
fn get_query_params(ops: &Value) -> Vec<QueryParam> {
    let Some(params) = ops
        .get("get")
        .and_then(|g| g.get("parameters"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    params
        .iter()
        .filter(|p| p.get("$ref").is_none())
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|p| {
            Some(QueryParam {
                name: p.get("name").and_then(Value::as_str)?.to_string(),
                kind: scalar_kind(p).unwrap_or(ScalarKind::String),
                is_identity: is_identity_flag(p),
            })
        })
        .collect()
}

/// What an endpoint's schema properties say.
#[derive(Default)]
struct Properties {
    scalars: Vec<(String, ScalarKind)>,
    references: Vec<ReferenceProp>,
    /// The scalars flagged `x-Ed-Fi-isIdentity`.
    identity: Vec<IdentityPart>,
    /// Every education organization (school, LEA, SEA, ESC, ...) has a `nameOfInstitution`.
    is_education_organization: bool,
}

/// A reference property (`schoolReference`, or role-named: `nextYearSchoolReference`).
fn reference_prop(
    doc: &Document,
    pname: &str,
    p: &Value,
    reference: &str,
    required: &[String],
    identity_params: &[String],
) -> Option<ReferenceProp> {
    let rname = doc.schema_name_of_ref(reference)?;
    let target = rname
        .split_once('_')
        .and_then(|(_, t)| t.strip_suffix("Reference"))?;
    let fields: Vec<String> = doc
        .schema(rname)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().filter(|k| *k != "link").cloned().collect())
        .unwrap_or_default();
    let mut rp = ReferenceProp {
        property: pname.to_string(),
        target: target.to_string(),
        fields,
        required: required.iter().any(|r| r == pname),
        is_identity: false,
    };
    // identity references are required, and (some of) their flattened fields are identity
    // query parameters (an optional calendarReference shares schoolId)
    rp.is_identity = is_identity_flag(p)
        || rp.required
            && rp.fields.iter().any(|f| {
                rp.flattened_names(f)
                    .iter()
                    .any(|n| identity_params.contains(&n.to_ascii_lowercase()))
            });
    Some(rp)
}

fn read_properties(
    doc: &Document,
    props: &Map<String, Value>,
    required: &[String],
    identity_params: &[String],
) -> Properties {
    let mut out = Properties::default();
    for (pname, p) in props {
        if pname == "id" || pname == "_etag" || pname == "_lastModifiedDate" || pname == "_ext" {
            continue;
        }
        if pname == "nameOfInstitution" {
            out.is_education_organization = true;
        }
        if let Some(r) = p.get("$ref").and_then(Value::as_str) {
            out.references
                .extend(reference_prop(doc, pname, p, r, required, identity_params));
            continue;
        }
        if let Some(kind) = scalar_kind(p) {
            out.scalars.push((pname.clone(), kind));
            if is_identity_flag(p) {
                out.identity.push(IdentityPart::Scalar(pname.clone()));
            }
        }
    }
    out
}

/// A resource's identity: its identity scalars and references in the schema's order; without
/// identity flags at all, its required properties.
fn resource_identity(
    found: &mut Properties,
    props: Option<&Map<String, Value>>,
    required: &[String],
) -> Vec<IdentityPart> {
    let mut identity = std::mem::take(&mut found.identity);
    for r in &found.references {
        if r.is_identity {
            identity.push(IdentityPart::Reference(r.property.clone()));
        }
    }
    // keep document order: scalars and references interleaved as in the schema
    if let Some(props) = props {
        let order: HashMap<&str, usize> = props
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        identity.sort_by_key(|p| match p {
            IdentityPart::Scalar(n) | IdentityPart::Reference(n) => {
                order.get(n.as_str()).copied().unwrap_or(0)
            }
        });
    }
    if identity.is_empty() {
        // no identity flags at all: fall back to required non-collection properties
        for r in required {
            if found.references.iter().any(|x| &x.property == r) {
                identity.push(IdentityPart::Reference(r.clone()));
            } else if found.scalars.iter().any(|(n, _)| n == r) {
                identity.push(IdentityPart::Scalar(r.clone()));
            }
        }
        for r in found.references.iter_mut() {
            r.is_identity = identity.contains(&IdentityPart::Reference(r.property.clone()));
        }
    }
    identity
}

fn read_endpoint(doc: &Document, di: usize, ns: &str, name: &str, ops: &Value) -> Option<Endpoint> {
    let schema_name = post_body_ref(doc, ops)
        .and_then(|r| doc.schema_name_of_ref(&r).map(str::to_string))
        .unwrap_or_else(|| format!("{}_{}", camel_case_namespace(ns), singularize(name)));
    let schema = doc.schema(&schema_name)?;
    let is_descriptor = name.ends_with("Descriptors");
    let query_params = get_query_params(ops);
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let identity_params: Vec<String> = query_params
        .iter()
        .filter(|p| p.is_identity)
        .map(|p| p.name.to_ascii_lowercase())
        .collect();
    let props = schema.get("properties").and_then(Value::as_object);
    let mut found = props
        .map(|props| read_properties(doc, props, &required, &identity_params))
        .unwrap_or_default();
    let identity = if is_descriptor {
        vec![
            IdentityPart::Scalar("namespace".into()),
            IdentityPart::Scalar("codeValue".into()),
        ]
    } else {
        resource_identity(&mut found, props, &required)
    };
    Some(Endpoint {
        namespace: ns.to_string(),
        name: name.to_string(),
        schema_name,
        is_descriptor,
        query_params,
        scalar_props: found.scalars,
        references: found.references,
        required,
        identity,
        is_education_organization: found.is_education_organization,
        has_partitions: false,
        document: di,
    })
}

/// Canonical text of a scalar JSON value for identity comparison: strings trimmed and
/// lowercased (SQL Server compares case-insensitively), numbers and booleans as written.
pub fn canonical_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_lowercase(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    // Reads the shared Ed-Fi fixtures from disk (../shared): native only, wasm32 in node has no
    // filesystem; every test using it is `cfg(not(target_arch = "wasm32"))`.
    #[cfg(not(target_arch = "wasm32"))]
    fn load(name: &str) -> Document {
        crate::testing::openapi_document(name)
    }

    #[test]
    fn names() {
        assert_eq!(camel_case_namespace("ed-fi"), "edFi");
        assert_eq!(camel_case_namespace("tpdm"), "tpdm");
        assert_eq!(
            singularize("localEducationAgencies"),
            "localEducationAgency"
        );
        assert_eq!(singularize("people"), "person");
        assert_eq!(
            singularize("studentPathMilestoneStatuses"),
            "studentPathMilestoneStatus"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_documents_of_7_3_list_partitions() {
        let m = Model::new(vec![
            load("odsapi-7.3_resources_openapi3_ds6.0.json"),
            load("odsapi-7.3_descriptors_openapi3_ds6.0.json"),
        ]);
        let students = &m.endpoints[m.find("ed-fi", "students").unwrap()];
        assert!(students.has_partitions);
        let grades = &m.endpoints[m.find("ed-fi", "gradeLevelDescriptors").unwrap()];
        assert!(grades.has_partitions);
        let with = m.endpoints.iter().filter(|e| e.has_partitions).count();
        assert!(
            with * 10 >= m.endpoints.len() * 9,
            "{with} of {}",
            m.endpoints.len()
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn ds50_model() {
        let m = Model::new(vec![
            load("odsapi-7.x_resources_openapi3_ds5.0.json"),
            load("odsapi-7.x_descriptors_openapi3_ds5.0.json"),
        ]);
        let ssa = &m.endpoints[m.find("ed-fi", "studentSchoolAssociations").unwrap()];
        assert_eq!(ssa.schema_name, "edFi_studentSchoolAssociation");
        assert_eq!(
            ssa.identity,
            vec![
                IdentityPart::Scalar("entryDate".into()),
                IdentityPart::Reference("schoolReference".into()),
                IdentityPart::Reference("studentReference".into()),
            ]
        );
        let school = m.find("ed-fi", "schools").unwrap();
        assert!(m.endpoints[school].is_education_organization);
        let lea = m.find("ed-fi", "localEducationAgencies").unwrap();
        assert!(m.endpoints[lea].is_education_organization);
        assert!(!m.endpoints[m.find("ed-fi", "students").unwrap()].is_education_organization);
        assert!(
            m.endpoints.iter().all(|e| !e.has_partitions),
            "7.2: no cursor paging"
        );
        let r = ssa
            .references
            .iter()
            .find(|r| r.property == "nextYearSchoolReference")
            .unwrap();
        assert!(!r.is_identity);
        assert_eq!(r.flattened_names("schoolId")[0], "nextYearSchoolId");
        assert_eq!(m.reference_target(ssa, r), Some(school));
        let gl = m
            .descriptor_for_property("entryGradeLevelDescriptor")
            .unwrap();
        assert_eq!(m.endpoints[gl].name, "gradeLevelDescriptors");
        assert!(ssa.accepts_query_param("StudentUniqueId"));
        assert!(!ssa.accepts_query_param("nonsense"));
        assert!(m.endpoints.len() > 300);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn swagger2_model() {
        let m = Model::new(vec![load(
            "odsapi-5.3_resources_swagger2_ds3.3.1b-tpdm.json",
        )]);
        let ssa = &m.endpoints[m.find("ed-fi", "studentSchoolAssociations").unwrap()];
        assert_eq!(ssa.identity.len(), 3);
        let sa = m.find("tpdm", "candidates").unwrap();
        assert_eq!(m.endpoints[sa].schema_name, "tpdm_candidate");
        assert!(m.documents[0].standalone_schema("edFi_student").is_some());
    }
}
