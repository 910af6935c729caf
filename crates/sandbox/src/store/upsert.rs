//! POST and PUT: the checks a body runs, in order (a JSON object without `id` and valid against
//! the schema, see `schema.rs`; its descriptors; its references; its identity), then the
//! upsert by identity: a new record, or the replacement of the record with the same identity.

use super::errors::ApiError;
use super::records::{normalize_id, not_found, Record, Store};
use super::schema::Api;
use serde_json::{Map, Value};

/// Result of a successful POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub created: bool,
    pub id: String,
    pub etag: u64,
}

/// A body that passed every check of a POST, with what it is stored under.
struct Checked {
    body: Map<String, Value>,
    /// (endpoint, record) of every descriptor and reference the body names.
    out_refs: Vec<(usize, usize)>,
    identity_key: String,
    ref_key: String,
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

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

    /// Store a checked body: a new record, or the update of the record of the same identity.
    /// As the ODS (Ed-Fi-ODS `UpsertEntity`), an update that changes nothing writes nothing:
    /// the record keeps its etag, `_lastModifiedDate` and change version; a create and a
    /// modifying update take the database's next change version.
    fn save(&mut self, api: &Api, ep: usize, checked: Checked) -> Upserted {
        let existing = self.endpoints[ep]
            .by_identity
            .get(&checked.identity_key)
            .copied();
        if let Some(idx) = existing {
            let rec = self.record(ep, idx);
            if rec.body == checked.body {
                return Upserted {
                    created: false,
                    id: rec.id.clone(),
                    etag: rec.etag,
                };
            }
        }
        let etag = self.next_etag();
        let version = self.next_change_version();
        match existing {
            Some(idx) => Upserted {
                created: false,
                id: self.replace(ep, idx, checked, etag, version),
                etag,
            },
            None => Upserted {
                created: true,
                id: self.insert(api, ep, checked, etag, version),
                etag,
            },
        }
    }

    /// Replace the body of record `idx` and move its references; returns its id.
    fn replace(
        &mut self,
        ep: usize,
        idx: usize,
        checked: Checked,
        etag: u64,
        version: u64,
    ) -> String {
        let old_refs = {
            let rec = self.endpoints[ep].records[idx]
                .as_mut()
                .expect("indexed record exists");
            rec.body = checked.body;
            rec.etag = etag;
            rec.last_modified = now_iso();
            rec.change_version = version;
            std::mem::replace(&mut rec.out_refs, checked.out_refs.clone())
        };
        for (t, r) in old_refs {
            self.release_ref(t, r, ep);
        }
        for (t, r) in checked.out_refs {
            self.add_ref(t, r, ep);
        }
        self.endpoints[ep].records[idx]
            .as_ref()
            .map(|r| r.id.clone())
            .unwrap_or_default()
    }

    /// Add a new record under its id and keys and count its references; returns its id.
    fn insert(
        &mut self,
        api: &Api,
        ep: usize,
        checked: Checked,
        etag: u64,
        version: u64,
    ) -> String {
        let Checked {
            body,
            out_refs,
            identity_key,
            ref_key,
        } = checked;
        let id = new_id();
        let data = &mut self.endpoints[ep];
        let idx = data.records.len();
        data.records.push(Some(Record {
            id: id.clone(),
            body,
            etag,
            last_modified: now_iso(),
            change_version: version,
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
        id
    }
}
