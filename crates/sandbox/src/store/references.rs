//! The reference check of a POST: every `...Reference` object of a payload (at the top level
//! and in the items of its collections) must point at a stored record; and how one reference
//! object finds its target, which rendering uses for the `link` of a reference too.

use super::errors::ApiError;
use super::keys::ref_key_of_reference;
use super::records::Store;
use super::schema::Api;
use serde_json::{Map, Value};

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
    /// The records (endpoint, record) a payload's references point to, or the first reference
    /// that points to nothing as an [`ApiError::UnresolvedReference`].
    pub(super) fn check_references(
        &self,
        api: &Api,
        ep: usize,
        body: &Map<String, Value>,
    ) -> Result<Vec<(usize, usize)>, ApiError> {
        let mut targets = Vec::new();
        let mut failed: Option<String> = None;
        visit_references(body, &mut |prop, robj, _top| {
            if failed.is_some() {
                return;
            }
            match self.resolve_reference(api, ep, prop, robj) {
                Ok(Some(t)) => targets.push(t),
                Ok(None) => {}
                Err(entity) => failed = Some(entity),
            }
        });
        match failed {
            Some(resource) => Err(ApiError::UnresolvedReference { resource }),
            None => Ok(targets),
        }
    }

    /// Find the record a reference object points to.
    pub(super) fn resolve_reference(
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
        let key = ref_key_of_reference(obj);
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
}
