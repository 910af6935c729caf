//! The records of one database ([`Store`]): every endpoint's records with their indexes by id,
//! identity and reference key, the education organizations, etags, and the reference counts
//! that keep a referenced record from being deleted. Storing a checked body (insert or
//! replace) and DELETE live here; the checks before a store live in `upsert.rs`.

use super::errors::ApiError;
use super::schema::Api;
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub body: Map<String, Value>,
    pub etag: u64,
    pub last_modified: String,
    /// (endpoint, record) this record references.
    pub(super) out_refs: Vec<(usize, usize)>,
    /// endpoint → number of references from records of that endpoint.
    pub(super) in_refs: Vec<(usize, u32)>,
    pub(super) identity_key: String,
    pub(super) ref_key: String,
}

#[derive(Debug, Clone, Default)]
pub struct EndpointData {
    pub(super) records: Vec<Option<Record>>,
    pub(super) by_id: HashMap<String, usize>,
    pub(super) by_identity: HashMap<String, usize>,
    /// sorted identity values → record, for resolving references
    pub(super) by_ref_key: HashMap<String, usize>,
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
    pub(super) edorgs: HashMap<String, (usize, usize)>,
    etag_counter: u64,
}

/// Result of a successful POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub created: bool,
    pub id: String,
    pub etag: u64,
}

/// A body that passed every check of a POST, with what it is stored under.
pub(super) struct Checked {
    pub(super) body: Map<String, Value>,
    /// (endpoint, record) of every descriptor and reference the body names.
    pub(super) out_refs: Vec<(usize, usize)>,
    pub(super) identity_key: String,
    pub(super) ref_key: String,
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An id as stored: without dashes, lowercase.
pub(super) fn normalize_id(id: &str) -> String {
    id.replace('-', "").to_ascii_lowercase()
}

/// The 404 of an unknown id of endpoint `ep`.
pub(super) fn not_found(api: &Api, ep: usize) -> ApiError {
    ApiError::NotFound {
        entity: api.model.endpoints[ep].entity_name(),
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

    /// Index of the live record of endpoint `ep` with this id (dashes and case ignored).
    pub(super) fn find(&self, ep: usize, id: &str) -> Option<usize> {
        self.endpoints[ep].by_id.get(&normalize_id(id)).copied()
    }

    pub(super) fn record(&self, ep: usize, idx: usize) -> &Record {
        self.endpoints[ep].records[idx]
            .as_ref()
            .expect("indexed record exists")
    }

    pub fn etag_of(&self, ep: usize, id: &str) -> Option<u64> {
        let idx = self.find(ep, id)?;
        self.endpoints[ep].records[idx].as_ref().map(|r| r.etag)
    }

    /// Store a checked body: a new record, or the update of the record of the same identity.
    pub(super) fn save(&mut self, api: &Api, ep: usize, checked: Checked) -> Upserted {
        let etag = self.next_etag();
        let existing = self.endpoints[ep]
            .by_identity
            .get(&checked.identity_key)
            .copied();
        match existing {
            Some(idx) => Upserted {
                created: false,
                id: self.replace(ep, idx, checked, etag),
                etag,
            },
            None => Upserted {
                created: true,
                id: self.insert(api, ep, checked, etag),
                etag,
            },
        }
    }

    /// Replace the body of record `idx` and move its references; returns its id.
    fn replace(&mut self, ep: usize, idx: usize, checked: Checked, etag: u64) -> String {
        let old_refs = {
            let rec = self.endpoints[ep].records[idx]
                .as_mut()
                .expect("indexed record exists");
            rec.body = checked.body;
            rec.etag = etag;
            rec.last_modified = now_iso();
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
    fn insert(&mut self, api: &Api, ep: usize, checked: Checked, etag: u64) -> String {
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
        let Some(idx) = self.find(ep, id) else {
            return Err(not_found(api, ep));
        };
        if let Some((from, _)) = self.record(ep, idx).in_refs.first() {
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
}
