//! The records of one database ([`Store`]): every endpoint's records with their indexes by id,
//! identity and reference key, the education organizations, etags, the change version of each
//! record and the database's counter of them (Change Queries), the reference counts that keep a
//! referenced record from being deleted; and DELETE, which keeps what `/deletes` reports.
//! Records are added and replaced by `upsert.rs`.

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
    /// The change version of its last create or modifying update (Change Queries).
    pub change_version: u64,
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
    pub(super) live: usize,
    /// The records deleted so far, in the order of their change versions (for `/deletes`).
    pub(super) deleted: Vec<Deleted>,
}

/// A deleted record as the ODS's tracked changes keep it: its id, the change version of its
/// delete, its identity key (to hide it while a record of that identity lives again) and its
/// identity values as `/deletes` shows them.
#[derive(Debug, Clone)]
pub(super) struct Deleted {
    pub id: String,
    pub change_version: u64,
    pub identity_key: String,
    pub key_values: Map<String, Value>,
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
    /// The last change version given (the ODS's `changes.ChangeVersionSequence`, one a database).
    change_version: u64,
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
            change_version: 0,
        }
    }

    /// The newest change version of this database (0 before any change).
    pub fn newest_change_version(&self) -> u64 {
        self.change_version
    }

    /// The next change version, for a create, a modifying update or a delete.
    pub(super) fn next_change_version(&mut self) -> u64 {
        self.change_version += 1;
        self.change_version
    }

    pub fn count(&self, ep: usize) -> usize {
        self.endpoints[ep].live
    }

    pub(super) fn next_etag(&mut self) -> u64 {
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

    pub(super) fn add_ref(&mut self, t: usize, r: usize, from: usize) {
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

    pub(super) fn release_ref(&mut self, t: usize, r: usize, from: usize) {
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
        let deleted = Deleted {
            id: rec.id.clone(),
            change_version: self.next_change_version(),
            identity_key: rec.identity_key.clone(),
            key_values: api.key_values(ep, &rec.body),
        };
        let data = &mut self.endpoints[ep];
        data.deleted.push(deleted);
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
