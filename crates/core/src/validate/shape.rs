//! What validation needs to know of an endpoint's schema, read once: where its references are
//! (at any depth, in collections too) and which endpoints they point to, and the identity of
//! the items of its collections (for uniqueness inside a payload).

use crate::api::openapi::{Document, IdentityPart, Model};
use crate::data::selectors::keys_match;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// How deep schemas are followed (Ed-Fi resources nest three or four levels).
const MAX_DEPTH: usize = 8;

/// The endpoints a reference may resolve to. Group `i < n` is the endpoint `i` of the model;
/// group `n` is every education organization (schools, local and state education agencies...),
/// the targets of an `educationOrganizationReference`.
#[derive(Debug)]
pub struct RefGroups {
    n: usize,
    singles: Vec<usize>,
    edorgs: Vec<usize>,
    /// lowercase singular (`school`) → endpoint, resources only
    by_singular: HashMap<String, usize>,
    /// schema name (`edFi_school`) → endpoint
    by_schema: HashMap<String, usize>,
}

impl RefGroups {
    pub fn new(model: &Model) -> RefGroups {
        let mut edorgs: Vec<usize> = model
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_education_organization && !e.is_descriptor)
            .map(|(i, _)| i)
            .collect();
        // the likeliest targets first: fewer requests when looking up remotely
        let rank = |name: &str| match name {
            "schools" => 0,
            "localEducationAgencies" => 1,
            "stateEducationAgencies" => 2,
            _ => 3,
        };
        edorgs.sort_by_key(|i| (rank(&model.endpoints[*i].name), *i));
        let mut by_singular = HashMap::new();
        let mut by_schema = HashMap::new();
        for (i, e) in model.endpoints.iter().enumerate() {
            by_schema.entry(e.schema_name.clone()).or_insert(i);
            if !e.is_descriptor {
                by_singular
                    .entry(e.singular().to_ascii_lowercase())
                    .or_insert(i);
            }
        }
        RefGroups {
            n: model.endpoints.len(),
            singles: (0..model.endpoints.len()).collect(),
            edorgs,
            by_singular,
            by_schema,
        }
    }

    /// The endpoints of a group.
    pub fn endpoints(&self, group: usize) -> &[usize] {
        if group < self.n {
            &self.singles[group..group + 1]
        } else {
            &self.edorgs
        }
    }

    pub fn edorg_group(&self) -> usize {
        self.n
    }

    /// The group of a reference schema (`edFi_schoolReference`), `None` for an abstract
    /// target other than education organizations.
    pub fn for_reference_schema(&self, schema_name: &str) -> Option<usize> {
        let base = schema_name.strip_suffix("Reference")?;
        if let Some(i) = self.by_schema.get(base) {
            return Some(*i);
        }
        let singular = base.split_once('_').map_or(base, |(_, s)| s);
        if singular.eq_ignore_ascii_case("educationOrganization") {
            return Some(self.edorg_group());
        }
        self.by_singular
            .get(&singular.to_ascii_lowercase())
            .copied()
    }

    /// The group of a reference property the schema does not describe, by its name: the longest
    /// suffix of `nextYearSchoolReference` that names a resource (`school`).
    pub fn for_reference_name(&self, property: &str) -> Option<usize> {
        let name = property.strip_suffix("Reference")?;
        let lower = name.to_ascii_lowercase();
        for (i, b) in name.bytes().enumerate() {
            if i == 0 || b.is_ascii_uppercase() {
                let suffix = &lower[i..];
                if suffix == "educationorganization" {
                    return Some(self.edorg_group());
                }
                if let Some(e) = self.by_singular.get(suffix) {
                    return Some(*e);
                }
            }
        }
        None
    }
}

/// One value of an identity: its name in messages and where it is in a payload
/// (`["entryDate"]` or `["schoolReference", "schoolId"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityField {
    pub name: String,
    pub path: Vec<String>,
}

/// An identity: the fields whose values together must be unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentitySpec {
    pub fields: Vec<IdentityField>,
}

impl IdentitySpec {
    /// The identity of an endpoint, from [`crate::api::openapi::Endpoint::identity`].
    pub fn of_endpoint(model: &Model, endpoint: usize) -> IdentitySpec {
        let e = &model.endpoints[endpoint];
        let mut fields = Vec::new();
        for part in &e.identity {
            match part {
                IdentityPart::Scalar(n) => fields.push(IdentityField {
                    name: n.clone(),
                    path: vec![n.clone()],
                }),
                IdentityPart::Reference(p) => {
                    if let Some(r) = e.references.iter().find(|r| &r.property == p) {
                        for f in &r.fields {
                            fields.push(IdentityField {
                                name: f.clone(),
                                path: vec![p.clone(), f.clone()],
                            });
                        }
                    }
                }
            }
        }
        IdentitySpec { fields }
    }

    /// The value of each field in `obj`; `None` when one is missing.
    pub fn values<'v>(&self, obj: &'v Map<String, Value>) -> Option<Vec<&'v Value>> {
        let mut out = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            let mut v: Option<&Value> = get(obj, &f.path[0]);
            for seg in &f.path[1..] {
                v = v.and_then(Value::as_object).and_then(|o| get(o, seg));
            }
            out.push(v?);
        }
        Some(out)
    }
}

/// A property of an object: a scan of small objects (Ed-Fi payloads have a few keys each),
/// cheaper than hashing the name.
pub fn get<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if obj.len() <= 24 {
        obj.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        obj.get(key)
    }
}

/// How the payload's property of a schema object is described.
#[derive(Debug, Clone)]
pub enum Child {
    /// A nested object (`_ext`, an inline object).
    Object(usize),
    /// A collection of objects; `identity` is the identity of its items, if they have one.
    Array {
        item: usize,
        identity: Option<usize>,
    },
    /// A reference (`schoolReference`): index into [`Shape::refs`].
    Reference(usize),
}

/// One object schema.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub props: FxHashMap<String, Child>,
}

/// A reference property of the schema.
#[derive(Debug, Clone)]
pub struct RefSite {
    /// Where the target may be; `None` for a target that cannot be checked (abstract types).
    pub group: Option<usize>,
    /// Selected for checking by `validate.references` (`selector`, `behavior`).
    pub checked: bool,
}

/// Which references `validate.references` selects: `{endpoint}.{path}.{reference}` matched
/// against `selector` (with `*` wildcards), included or excluded by `behavior`.
#[derive(Debug, Clone, Default)]
pub struct ReferenceSelection {
    pub selector: Vec<String>,
    pub include: bool,
}

impl ReferenceSelection {
    /// Whether the reference at `location` (`studentSchoolAssociations.schoolReference`) is
    /// checked.
    pub fn checks(&self, location: &str) -> bool {
        let listed = self.selector.iter().any(|s| keys_match(location, s));
        listed == self.include
    }
}

/// The validation view of an endpoint's schema.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// `nodes[0]` is the endpoint's schema.
    pub nodes: Vec<Node>,
    pub refs: Vec<RefSite>,
    pub identities: Vec<IdentitySpec>,
}

impl Shape {
    /// An empty shape (no schema known): every property is unknown.
    pub fn empty() -> Shape {
        Shape {
            nodes: vec![Node::default()],
            refs: Vec::new(),
            identities: Vec::new(),
        }
    }

    /// The shape of `schema_name` in `doc`, for `endpoint` (its name prefixes reference
    /// locations for the selection).
    pub fn build(
        doc: &Document,
        schema_name: &str,
        endpoint: &str,
        groups: &RefGroups,
        selection: &ReferenceSelection,
    ) -> Shape {
        let mut shape = Shape::empty();
        if let Some(schema) = doc.schema(schema_name) {
            let mut b = Builder {
                doc,
                groups,
                selection,
                shape: &mut shape,
            };
            b.fill(0, schema, endpoint, 0);
        }
        shape
    }
}

struct Builder<'a> {
    doc: &'a Document,
    groups: &'a RefGroups,
    selection: &'a ReferenceSelection,
    shape: &'a mut Shape,
}

fn resolve<'d>(doc: &'d Document, v: &'d Value) -> Option<&'d Value> {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.resolve(r),
        None => Some(v),
    }
}

impl Builder<'_> {
    fn new_node(&mut self) -> usize {
        self.shape.nodes.push(Node::default());
        self.shape.nodes.len() - 1
    }

    /// Describe the properties of `schema` into node `id`; `location` is the dotted path of
    /// the object (`studentAssessments.studentObjectiveAssessments`).
    fn fill(&mut self, id: usize, schema: &Value, location: &str, depth: usize) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, p) in props {
            let ref_name = p
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.doc.schema_name_of_ref(r));
            if let Some(ref_name) = ref_name.filter(|n| n.ends_with("Reference")) {
                let site = RefSite {
                    group: self.groups.for_reference_schema(ref_name),
                    checked: self.selection.checks(&format!("{location}.{name}")),
                };
                self.shape.refs.push(site);
                let r = self.shape.refs.len() - 1;
                self.shape.nodes[id]
                    .props
                    .insert(name.clone(), Child::Reference(r));
                continue;
            }
            if depth >= MAX_DEPTH {
                continue;
            }
            let Some(resolved) = resolve(self.doc, p) else {
                continue;
            };
            let is_array = resolved.get("type").and_then(Value::as_str) == Some("array");
            if is_array {
                let Some(items) = resolved.get("items").and_then(|i| resolve(self.doc, i)) else {
                    continue;
                };
                if items.get("properties").is_none() {
                    continue;
                }
                let item = self.new_node();
                let identity = item_identity(self.doc, items).map(|spec| {
                    self.shape.identities.push(spec);
                    self.shape.identities.len() - 1
                });
                self.shape.nodes[id]
                    .props
                    .insert(name.clone(), Child::Array { item, identity });
                self.fill(item, items, &format!("{location}.{name}"), depth + 1);
            } else if resolved.get("properties").is_some() {
                let child = self.new_node();
                self.shape.nodes[id]
                    .props
                    .insert(name.clone(), Child::Object(child));
                self.fill(child, resolved, &format!("{location}.{name}"), depth + 1);
            }
        }
    }
}

/// The identity of a collection's items: the properties flagged `x-Ed-Fi-isIdentity` and the
/// fields of its required references; failing those, its required scalar properties.
pub fn item_identity(doc: &Document, schema: &Value) -> Option<IdentitySpec> {
    let props = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    for (name, p) in props {
        if let Some(r) = p.get("$ref").and_then(Value::as_str) {
            if name.ends_with("Reference") && required.contains(&name.as_str()) {
                let ref_props = doc
                    .resolve(r)
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object);
                for f in ref_props.into_iter().flat_map(|m| m.keys()) {
                    if f != "link" {
                        fields.push(IdentityField {
                            name: f.clone(),
                            path: vec![name.clone(), f.clone()],
                        });
                    }
                }
            }
            continue;
        }
        let is_scalar = p
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "array" && t != "object");
        if is_scalar && p.get("x-Ed-Fi-isIdentity").and_then(Value::as_bool) == Some(true) {
            fields.push(IdentityField {
                name: name.clone(),
                path: vec![name.clone()],
            });
        }
    }
    if fields.is_empty() {
        for name in &required {
            let scalar = props
                .get(*name)
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t != "array" && t != "object");
            if scalar {
                fields.push(IdentityField {
                    name: name.to_string(),
                    path: vec![name.to_string()],
                });
            }
        }
    }
    (!fields.is_empty()).then_some(IdentitySpec { fields })
}

// reads the shared Ed-Fi documents from disk: native only
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn model(resources: &str, descriptors: Option<&str>) -> Model {
        let mut names = vec![resources];
        names.extend(descriptors);
        crate::testing::openapi_model(&names)
    }

    /// Every reference's fields are its target's identity values (the premise of keying
    /// references by their set of values), some renamed by role.
    #[test]
    fn reference_fields_are_their_targets_identity() {
        for (docs, min) in [
            ("odsapi-7.x_resources_openapi3_ds5.0.json", 250),
            ("odsapi-6.1_resources_openapi3_ds4.0-tpdm.json", 250),
            ("odsapi-5.3_resources_swagger2_ds3.3.1b-tpdm.json", 250),
        ] {
            let m = model(docs, None);
            let groups = RefGroups::new(&m);
            let mut checked = 0;
            let mut mismatches = Vec::new();
            for e in &m.endpoints {
                for r in &e.references {
                    let Some(g) = groups
                        .for_reference_schema(&format!(
                            "{}_{}Reference",
                            e.schema_name.split('_').next().unwrap(),
                            r.target
                        ))
                        .or_else(|| groups.for_reference_name(&r.property))
                    else {
                        continue;
                    };
                    for &t in groups.endpoints(g) {
                        let spec = IdentitySpec::of_endpoint(&m, t);
                        let mut names: Vec<&str> =
                            spec.fields.iter().map(|f| f.name.as_str()).collect();
                        names.sort();
                        names.dedup();
                        let mut fields: Vec<&str> = r.fields.iter().map(String::as_str).collect();
                        fields.sort();
                        if g == groups.edorg_group() {
                            // educationOrganizationId stands for the target's own id
                            if names.len() != 1 || fields != ["educationOrganizationId"] {
                                mismatches.push(format!(
                                    "{}.{} -> {}",
                                    e.name, r.property, m.endpoints[t].name
                                ));
                            }
                        } else if names.len() != fields.len()
                            || names.iter().filter(|n| !fields.contains(n)).count() > 1
                        {
                            // the same values; at most one renamed by role
                            // (`graduationSchoolYear` for the plan's `schoolYear`)
                            mismatches.push(format!(
                                "{}.{} -> {}: {fields:?} vs {names:?}",
                                e.name, r.property, m.endpoints[t].name
                            ));
                        }
                        checked += 1;
                    }
                }
            }
            assert!(checked > min, "{docs}: {checked}");
            assert!(mismatches.is_empty(), "{docs}: {mismatches:#?}");
        }
    }
}
