//! ODS/API profiles (`--profile NAME:FILE`): a profile definition (`<Profile name="...">` with a
//! `<Resource name="School">` per resource, each with an optional `ReadContentType` and
//! `WriteContentType` of `memberSelection` `IncludeAll`, `IncludeOnly` or `ExcludeOnly`, naming
//! `Property`, `Collection`, `Object` and `Extension` members, collections and objects with their
//! own member selection) read from XML (`xml.rs`) and resolved against the API's OpenAPI
//! schemas ([`Profile`]); and what a content type does to a body ([`Selection`]): the members a
//! reader sees, and how a write merges the members it may write into the stored record.
//!
//! As Ed-Fi-ODS (`ProfileResourceMembersFilterProvider`, `ProfileResourceContentTypes`,
//! `MappingContractProvider`): identifying members are always included; `IncludeOnly` of a
//! member that does not exist makes the profile invalid, `ExcludeOnly` of one (or of an
//! identifying member) is ignored with a warning; `ExcludeAll` is not supported; a write keeps
//! the stored values of the members it may not write; a create is refused (Data Policy
//! Enforced) when the content type leaves out a required member, and so is a new collection
//! item whose required members are left out. Collection item `Filter`s are not supported (a
//! profile using them is refused at start).

pub mod xml;

use crate::store::{Api, ApiError};
use lightbeam_core::api::openapi::{canonical_scalar, upper_first, Document, IdentityPart};
use serde_json::{Map, Value};
use xml::Element;

/// Readable (GET) or writable (POST, PUT) content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Readable,
    Writable,
}

impl Usage {
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Readable => "readable",
            Usage::Writable => "writable",
        }
    }
}

/// The profile media type of a resource (`School`), as Ed-Fi-ODS `ProfilesContentTypeHelper`:
/// `application/vnd.ed-fi.school.{profile}.readable+json`, resource and profile lowercased.
pub fn media_type(resource: &str, profile: &str, usage: Usage) -> String {
    format!(
        "application/vnd.ed-fi.{}.{}.{}+json",
        resource.to_lowercase(),
        profile.to_lowercase(),
        usage.as_str()
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    IncludeAll,
    IncludeOnly,
    ExcludeOnly,
}

/// Members of a body every content type keeps: the resource's id and metadata, a reference's
/// link.
const SYSTEM: [&str; 4] = ["id", "_etag", "_lastModifiedDate", "link"];

/// What one content type lets through of one class (a resource, the items of a collection, an
/// embedded object), by JSON property name.
#[derive(Debug, Clone)]
pub struct Selection {
    mode: Mode,
    /// The members the definition names, with the selection of a named collection or object.
    named: Vec<(String, Option<Selection>)>,
    /// Whether the definition names an `Extension` (then `_ext` goes with `IncludeOnly`).
    extensions: bool,
    /// Identifying members: always included; collection items are matched by them.
    identity: Vec<String>,
    /// Required members: a new record or item needs them all included.
    required: Vec<String>,
    /// The class name, as the ODS names a child item (`EducationOrganizationAddress`).
    class: String,
}

impl Selection {
    fn named(&self, key: &str) -> Option<&(String, Option<Selection>)> {
        self.named.iter().find(|(k, _)| k == key)
    }

    /// Whether a member goes through.
    fn includes(&self, key: &str) -> bool {
        if SYSTEM.contains(&key) || self.identity.iter().any(|k| k == key) {
            return true;
        }
        let named = self.named(key).is_some() || (key == "_ext" && self.extensions);
        match self.mode {
            Mode::IncludeAll => true,
            Mode::IncludeOnly => named,
            Mode::ExcludeOnly => !named,
        }
    }

    /// The selection of a named collection's items or of a named object.
    fn child(&self, key: &str) -> Option<&Selection> {
        self.named(key).and_then(|(_, c)| c.as_ref())
    }

    /// The members of `body` this content type lets through, nested selections applied.
    pub fn filter(&self, body: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in body {
            if !self.includes(k) {
                continue;
            }
            let v = match (self.child(k), v) {
                (Some(c), Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .map(|item| match item {
                            Value::Object(o) => Value::Object(c.filter(o)),
                            other => other.clone(),
                        })
                        .collect(),
                ),
                (Some(c), Value::Object(o)) => Value::Object(c.filter(o)),
                _ => v.clone(),
            };
            out.insert(k.clone(), v);
        }
        out
    }

    /// A readable item: an object with only the members this content type lets through.
    pub fn read(&self, item: Value) -> Value {
        match item {
            Value::Object(o) => Value::Object(self.filter(&o)),
            other => other,
        }
    }

    /// The body a write of `incoming` under profile `profile` stores: the members it may write
    /// from `incoming`, the others from `stored` (the record it updates; None for a create).
    /// A create, or a new collection item, that this content type cannot make is the ODS's
    /// 400 Data Policy Enforced.
    pub fn write(
        &self,
        profile: &str,
        stored: Option<&Map<String, Value>>,
        incoming: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiError> {
        let filtered = self.filter(incoming);
        match stored {
            Some(stored) => self.merge(profile, stored, &filtered),
            None if !self.creatable() => Err(data_policy(profile, None)),
            None => self.merge(profile, &Map::new(), &filtered),
        }
    }

    /// `stored` with the members this content type writes replaced by `filtered`'s.
    fn merge(
        &self,
        profile: &str,
        stored: &Map<String, Value>,
        filtered: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiError> {
        let mut out: Map<String, Value> = stored
            .iter()
            .filter(|(k, _)| !self.includes(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in filtered {
            let merged = match (self.child(k), v) {
                (Some(c), Value::Array(items)) => {
                    let old = stored.get(k).and_then(Value::as_array);
                    let items = items
                        .iter()
                        .map(|item| c.merge_item(profile, item, old.map(Vec::as_slice)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Value::Array(items)
                }
                (Some(c), Value::Object(o)) => match stored.get(k).and_then(Value::as_object) {
                    Some(old) => Value::Object(c.merge(profile, old, o)?),
                    None if !c.creatable() => return Err(data_policy(profile, Some(&c.class))),
                    None => Value::Object(o.clone()),
                },
                _ => v.clone(),
            };
            out.insert(k.clone(), merged);
        }
        Ok(out)
    }

    /// A collection item: merged into the stored item of the same identity, else new (and then
    /// it must be creatable).
    fn merge_item(
        &self,
        profile: &str,
        item: &Value,
        old: Option<&[Value]>,
    ) -> Result<Value, ApiError> {
        let Value::Object(o) = item else {
            return Ok(item.clone());
        };
        let same = |s: &&Value| {
            let Some(s) = s.as_object() else { return false };
            !self.identity.is_empty()
                && self.identity.iter().all(|k| match (s.get(k), o.get(k)) {
                    (Some(a), Some(b)) => canonical_scalar(a) == canonical_scalar(b),
                    _ => false,
                })
        };
        match old
            .and_then(|old| old.iter().find(same))
            .and_then(Value::as_object)
        {
            Some(stored) => Ok(Value::Object(self.merge(profile, stored, o)?)),
            None if !self.creatable() => Err(data_policy(profile, Some(&self.class))),
            None => Ok(Value::Object(self.merge(profile, &Map::new(), o)?)),
        }
    }

    /// Whether a new one can be made: every required member included, and the items of
    /// required collections creatable too.
    fn creatable(&self) -> bool {
        self.required
            .iter()
            .all(|r| self.includes(r) && self.child(r).is_none_or(Selection::creatable))
    }
}

/// The ODS's `DataPolicyException`: a write this profile cannot make.
fn data_policy(profile: &str, child: Option<&str>) -> ApiError {
    let error = match child {
        None => format!("The Profile definition for '{profile}' excludes (or does not include) one or more required data elements needed to create the resource."),
        Some(class) => format!("The Profile definition for '{profile}' excludes (or does not include) one or more required data elements needed to create a child item of type '{class}' in the resource."),
    };
    ApiError::Profile {
        status: 400,
        urn: "bad-request:data-policy-enforced",
        title: "Data Policy Enforced",
        detail: "The data cannot be saved because a data policy has been applied to the request that prevents it.".into(),
        error,
    }
}

/// One resource of a profile: its endpoint and content types.
#[derive(Debug, Clone)]
pub struct ProfileResource {
    pub ep: usize,
    pub read: Option<Selection>,
    pub write: Option<Selection>,
}

/// A profile, resolved against the API.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub resources: Vec<ProfileResource>,
}

impl Profile {
    /// The profile's definition of endpoint `ep`, if it covers it.
    pub fn resource(&self, ep: usize) -> Option<&ProfileResource> {
        self.resources.iter().find(|r| r.ep == ep)
    }

    /// The content type of `usage` for endpoint `ep`, if the profile has one.
    pub fn content(&self, ep: usize, usage: Usage) -> Option<&Selection> {
        let r = self.resource(ep)?;
        match usage {
            Usage::Readable => r.read.as_ref(),
            Usage::Writable => r.write.as_ref(),
        }
    }

    /// The profile called `name` (case-insensitive) in the XML `text` (a `<Profiles>` document
    /// or one `<Profile>`), and the warnings of its definition; `Err` tells why it cannot be
    /// used.
    pub fn from_xml(api: &Api, name: &str, text: &str) -> Result<(Profile, Vec<String>), String> {
        let root = xml::parse(text)?;
        let candidates: Vec<&Element> = match root.name.as_str() {
            "Profile" => vec![&root],
            "Profiles" => root.children_named("Profile").collect(),
            other => {
                return Err(format!(
                    "the root element is <{other}>, not <Profiles> or <Profile>"
                ))
            }
        };
        let Some(def) = candidates
            .iter()
            .find(|p| p.attr("name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
        else {
            let names: Vec<&str> = candidates.iter().filter_map(|p| p.attr("name")).collect();
            return Err(format!(
                "no profile named {name:?} (the file has: {})",
                names.join(", ")
            ));
        };
        let name = def.attr("name").unwrap_or(name).to_string();
        let mut warnings = Vec::new();
        let mut resources: Vec<ProfileResource> = Vec::new();
        for r in def.children_named("Resource") {
            let resource = r.attr("name").ok_or("a <Resource> without a name")?;
            let ep = find_resource(api, resource, r.attr("logicalSchema")).ok_or_else(|| {
                format!("profile '{name}': resource '{resource}' is not in the API's documents")
            })?;
            if resources.iter().any(|x| x.ep == ep) {
                return Err(format!(
                    "profile '{name}': resource '{resource}' is defined twice"
                ));
            }
            let mut content = |tag: &str, usage: &str| -> Result<Option<Selection>, String> {
                let Some(ct) = r.children_named(tag).next() else {
                    return Ok(None);
                };
                let ctx = Context {
                    profile: &name,
                    resource,
                    usage,
                };
                resolve_resource(api, ep, ct, &ctx, &mut warnings).map(Some)
            };
            let read = content("ReadContentType", "read")?;
            let write = content("WriteContentType", "write")?;
            resources.push(ProfileResource { ep, read, write });
        }
        if resources.is_empty() {
            return Err(format!("profile '{name}' defines no resource"));
        }
        Ok((Profile { name, resources }, warnings))
    }
}

/// The endpoint of a profile's `<Resource name="School">` (its `logicalSchema`, e.g. `TPDM`,
/// picks the namespace; else Ed-Fi's first).
fn find_resource(api: &Api, name: &str, logical_schema: Option<&str>) -> Option<usize> {
    let squash = |s: &str| s.replace('-', "").to_ascii_lowercase();
    let mut found: Vec<usize> = api
        .model
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| e.entity_name().eq_ignore_ascii_case(name))
        .filter(|(_, e)| logical_schema.is_none_or(|s| squash(s) == squash(&e.namespace)))
        .map(|(i, _)| i)
        .collect();
    found.sort_by_key(|&i| api.model.endpoints[i].namespace != "ed-fi");
    found.first().copied()
}

/// Where a definition is, for messages.
struct Context<'a> {
    profile: &'a str,
    resource: &'a str,
    usage: &'a str,
}

/// The selection of a resource's content type: the endpoint's identity is always included.
fn resolve_resource(
    api: &Api,
    ep: usize,
    def: &Element,
    ctx: &Context,
    warnings: &mut Vec<String>,
) -> Result<Selection, String> {
    let e = &api.model.endpoints[ep];
    let doc = api.model.document_of(e);
    let schema = doc
        .schema(&e.schema_name)
        .ok_or_else(|| format!("no schema {} for {}", e.schema_name, ctx.resource))?;
    let identity = e
        .identity
        .iter()
        .map(|p| match p {
            IdentityPart::Scalar(n) | IdentityPart::Reference(n) => n.clone(),
        })
        .collect();
    resolve(doc, schema, e.entity_name(), identity, def, ctx, warnings)
}

/// The selection of one class: `def`'s members resolved against `schema`'s properties.
fn resolve(
    doc: &Document,
    schema: &Value,
    class: String,
    identity: Vec<String>,
    def: &Element,
    ctx: &Context,
    warnings: &mut Vec<String>,
) -> Result<Selection, String> {
    let mode = match def.attr("memberSelection") {
        Some("IncludeAll") => Mode::IncludeAll,
        Some("IncludeOnly") => Mode::IncludeOnly,
        Some("ExcludeOnly") => Mode::ExcludeOnly,
        Some(other) => {
            return Err(format!(
                "profile '{}': member selection '{other}' of '{class}' is not supported (IncludeAll, IncludeOnly, ExcludeOnly)",
                ctx.profile
            ))
        }
        None => {
            return Err(format!(
                "profile '{}': <{}> of '{class}' has no memberSelection",
                ctx.profile, def.name
            ))
        }
    };
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    let required = schema["required"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut sel = Selection {
        mode,
        named: Vec::new(),
        extensions: false,
        identity,
        required,
        class,
    };
    for m in &def.children {
        let tag = m.name.as_str();
        if tag == "Filter" {
            return Err(format!(
                "profile '{}': collection item filters (<Filter> in '{}') are not supported by the sandbox",
                ctx.profile, sel.class
            ));
        }
        if !matches!(tag, "Property" | "Collection" | "Object" | "Extension") {
            continue;
        }
        let name = m
            .attr("name")
            .ok_or_else(|| format!("profile '{}': a <{tag}> without a name", ctx.profile))?;
        if tag == "Extension" {
            sel.extensions = true;
            continue;
        }
        let Some(key) = member_key(doc, props, tag, name) else {
            let message = format!(
                "Profile '{}' definition for the {} content type for resource '{}' attempted to {} member '{name}' of '{}', but it doesn't exist.",
                ctx.profile,
                ctx.usage,
                ctx.resource,
                if mode == Mode::ExcludeOnly { "exclude" } else { "include" },
                sel.class
            );
            if mode == Mode::ExcludeOnly {
                warnings.push(message);
                continue;
            }
            return Err(message);
        };
        if mode == Mode::ExcludeOnly && sel.identity.contains(&key) {
            warnings.push(format!(
                "Profile '{}' definition for the {} content type for resource '{}' attempted to exclude identifying member '{name}' of '{}', but identifying members cannot be excluded.",
                ctx.profile, ctx.usage, ctx.resource, sel.class
            ));
            continue;
        }
        let child = if tag == "Property" {
            None
        } else {
            let item = &props[&key];
            let item_name = type_name(doc, item).unwrap_or_default();
            let item_schema = doc.schema(&item_name).unwrap_or(&Value::Null);
            let item_identity = item_schema["properties"]
                .as_object()
                .map(|p| {
                    p.iter()
                        .filter(|(_, v)| v["x-Ed-Fi-isIdentity"] == Value::Bool(true))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            let class = upper_first(
                item_name
                    .split_once('_')
                    .map_or(item_name.as_str(), |x| x.1),
            );
            Some(resolve(
                doc,
                item_schema,
                class,
                item_identity,
                m,
                ctx,
                warnings,
            )?)
        };
        sel.named.push((key, child));
    }
    Ok(sel)
}

/// The JSON property a profile member names: a `Property` by its name (`NameOfInstitution`,
/// `LocalEducationAgencyReference`), a `Collection` by the plural of its item class
/// (`EducationOrganizationAddresses` for `addresses`) or its name, an `Object` by its class or
/// name; case-insensitive.
fn member_key(doc: &Document, props: &Map<String, Value>, tag: &str, name: &str) -> Option<String> {
    let is_array = |v: &Value| v["type"] == "array";
    props
        .iter()
        .find(|(k, v)| {
            let by_name = k.eq_ignore_ascii_case(name);
            let class = || {
                type_name(doc, v)
                    .map(|t| upper_first(t.split_once('_').map_or(t.as_str(), |x| x.1)))
            };
            match tag {
                "Property" => by_name && !is_array(v),
                "Collection" => {
                    is_array(v)
                        && (by_name
                            || class().is_some_and(|c| pluralize(&c).eq_ignore_ascii_case(name)))
                }
                _ => {
                    !is_array(v)
                        && v.get("$ref").is_some()
                        && (by_name || class().is_some_and(|c| c.eq_ignore_ascii_case(name)))
                }
            }
        })
        .map(|(k, _)| k.clone())
}

/// The schema name of a property's `$ref` (or its items' `$ref`).
fn type_name(doc: &Document, prop: &Value) -> Option<String> {
    let r = prop
        .get("$ref")
        .or_else(|| prop.get("items").and_then(|i| i.get("$ref")))?
        .as_str()?;
    doc.schema_name_of_ref(r).map(str::to_string)
}

/// The English plural of a class name, as the ODS names collections (`Address` → `Addresses`,
/// `Category` → `Categories`, `GradeLevel` → `GradeLevels`).
fn pluralize(s: &str) -> String {
    let vowel_before_y = s
        .strip_suffix('y')
        .and_then(|stem| stem.chars().last())
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    if let (Some(stem), false) = (s.strip_suffix('y'), vowel_before_y) {
        format!("{stem}ies")
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|e| s.ends_with(e)) {
        format!("{s}es")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_of_collection_classes() {
        for (one, many) in [
            (
                "EducationOrganizationAddress",
                "EducationOrganizationAddresses",
            ),
            ("SchoolCategory", "SchoolCategories"),
            ("SchoolGradeLevel", "SchoolGradeLevels"),
            (
                "StudentSchoolAssociationAlternativeGraduationPlan",
                "StudentSchoolAssociationAlternativeGraduationPlans",
            ),
            ("Day", "Days"),
        ] {
            assert_eq!(pluralize(one), many);
        }
    }

    #[test]
    fn media_types_are_lowercased() {
        assert_eq!(
            media_type("StudentSchoolAssociation", "Test-Profile", Usage::Writable),
            "application/vnd.ed-fi.studentschoolassociation.test-profile.writable+json"
        );
    }
}
