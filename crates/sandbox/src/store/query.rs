//! Reading records as the API returns them: GET by id, GET of a collection with its filters,
//! change version window and paging ([`Query`]), and each record rendered with its `id`, a
//! `link` in each reference, `_etag` and `_lastModifiedDate` (the change version is not shown,
//! as by the ODS).

use super::changes::ChangeWindow;
use super::errors::ApiError;
use super::records::{not_found, Record, Store};
use super::schema::Api;
use lightbeam_core::api::openapi::canonical_scalar;
use serde_json::{Map, Value};

/// A query on a collection.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub offset: usize,
    pub limit: usize,
    pub filters: Vec<(String, String)>,
    /// `minChangeVersion` and `maxChangeVersion`.
    pub window: ChangeWindow,
}

impl Store {
    /// GET by id.
    pub fn get(&self, api: &Api, ep: usize, id: &str) -> Result<Value, ApiError> {
        match self.find(ep, id) {
            Some(idx) => Ok(self.render(api, ep, idx)),
            None => Err(not_found(api, ep)),
        }
    }

    /// The stored body of the record of endpoint `ep` with this id (what a PUT replaces).
    pub fn body_of(&self, ep: usize, id: &str) -> Option<&Map<String, Value>> {
        self.find(ep, id).map(|idx| &self.record(ep, idx).body)
    }

    /// The stored body of the record of endpoint `ep` with the identity of `body` (what a POST
    /// of `body` updates).
    pub fn body_with_identity(
        &self,
        api: &Api,
        ep: usize,
        body: &Map<String, Value>,
    ) -> Option<&Map<String, Value>> {
        let idx = self.endpoints[ep]
            .by_identity
            .get(&api.identity_key(ep, body))?;
        Some(&self.record(ep, *idx).body)
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

    /// Whether a record is within the query's change version window and matches its filters.
    fn selects(&self, api: &Api, ep: usize, rec: &Record, q: &Query) -> bool {
        q.window.contains(rec.change_version)
            && (q.filters.is_empty() || self.matches(api, ep, rec, &q.filters))
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

    /// Cursor paging (ODS/API 7.3): the matches of `q` (its filters and change version window;
    /// not its offset and limit) whose position (the aggregate id) is within `range`, in order,
    /// at most `size`; and the position of the last one.
    pub fn list_range(
        &self,
        api: &Api,
        ep: usize,
        q: &Query,
        range: (usize, usize),
        size: usize,
    ) -> (Vec<Value>, Option<usize>) {
        let records = self.endpoints[ep].records.iter().enumerate();
        let mut items = Vec::new();
        let mut last = None;
        for (idx, rec) in records.skip(range.0).take_while(|(i, _)| *i <= range.1) {
            if items.len() >= size {
                break;
            }
            let Some(rec) = rec else { continue };
            if !self.selects(api, ep, rec, q) {
                continue;
            }
            items.push(self.render(api, ep, idx));
            last = Some(idx);
        }
        (items, last)
    }

    /// The positions of the matches of `q` (for `/partitions`).
    pub fn positions(&self, api: &Api, ep: usize, q: &Query) -> Vec<usize> {
        self.endpoints[ep]
            .records
            .iter()
            .enumerate()
            .filter_map(|(idx, rec)| {
                let rec = rec.as_ref()?;
                self.selects(api, ep, rec, q).then_some(idx)
            })
            .collect()
    }

    /// GET collection: (items, total count of matches).
    pub fn list(&self, api: &Api, ep: usize, q: &Query) -> (Vec<Value>, usize) {
        let data = &self.endpoints[ep];
        let mut total = 0usize;
        let mut items = Vec::new();
        for (idx, rec) in data.records.iter().enumerate() {
            let Some(rec) = rec else { continue };
            if !self.selects(api, ep, rec, q) {
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
