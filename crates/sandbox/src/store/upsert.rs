//! POST and PUT: the checks a body runs, in order (a JSON object without `id` and valid against
//! the schema, see `schema.rs`; its descriptors; its references; its identity), then the
//! upsert by identity: a new record, or the update of the record with the same identity.

use super::errors::ApiError;
use super::records::{normalize_id, not_found, Checked, Store, Upserted};
use super::schema::Api;
use serde_json::Value;

impl Store {
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
        let Some(obj) = body.as_object() else {
            return Err(ApiError::not_an_object());
        };
        let mut out_refs = self.check_descriptors(api, &body)?;
        out_refs.extend(self.check_references(api, ep, obj)?);
        let (identity_key, ref_key) = api.record_keys(ep, obj);
        let Value::Object(body) = body else {
            unreachable!("checked to be an object above")
        };
        let checked = Checked {
            body,
            out_refs,
            identity_key,
            ref_key,
        };
        Ok(self.save(api, ep, checked))
    }

    /// PUT by id: full replacement, identity must not change.
    pub fn put(
        &mut self,
        api: &Api,
        ep: usize,
        id: &str,
        mut body: Value,
    ) -> Result<u64, ApiError> {
        let id = normalize_id(id);
        let Some(idx) = self.find(ep, &id) else {
            return Err(not_found(api, ep));
        };
        if let Some(o) = body.as_object_mut() {
            // an id in a PUT body must match the URL; drop it before the upsert
            if let Some(bid) = o.remove("id") {
                if bid.as_str().map(normalize_id) != Some(id.clone()) {
                    return Err(ApiError::BadRequest {
                        detail: "The request construction was invalid.".into(),
                        errors: vec!["The identifier of the resource in the body does not match the identifier in the URL.".into()],
                    });
                }
            }
            if api.identity_key(ep, o) != self.record(ep, idx).identity_key {
                let entity = api.model.endpoints[ep].entity_name();
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
}
