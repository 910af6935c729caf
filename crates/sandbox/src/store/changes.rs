//! Change Queries of the ODS/API 7.x: the change version window of `minChangeVersion` and
//! `maxChangeVersion` ([`ChangeWindow`], both bounds inclusive) and the records deleted within
//! it (`/deletes`). Change versions are given by [`Store`] (`records.rs`, one counter a
//! database, as the ODS's `changes.ChangeVersionSequence`) to each create, modifying update and
//! delete (`upsert.rs`, `records.rs`).

use super::query::Query;
use super::records::Store;
use serde_json::{json, Value};

/// The change versions a query asks for: `minChangeVersion <= v <= maxChangeVersion`, each
/// bound optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeWindow {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl ChangeWindow {
    pub fn contains(&self, version: u64) -> bool {
        let v = i64::try_from(version).unwrap_or(i64::MAX);
        self.min.is_none_or(|min| v >= min) && self.max.is_none_or(|max| v <= max)
    }
}

impl Store {
    /// `/deletes`: the records of endpoint `ep` deleted within the query's window, in the order
    /// of their change versions, as `{"id", "changeVersion", "keyValues"}`, paged by its offset
    /// and limit; and how many there are. As the ODS (Ed-Fi-ODS
    /// `DeletedItemsQueryBuilderFactory`), a delete is not shown while a record of the same
    /// identity lives again.
    pub fn deletes(&self, ep: usize, q: &Query) -> (Vec<Value>, usize) {
        let data = &self.endpoints[ep];
        let mut total = 0;
        let mut items = Vec::new();
        for d in &data.deleted {
            if !q.window.contains(d.change_version)
                || data.by_identity.contains_key(&d.identity_key)
            {
                continue;
            }
            if total >= q.offset && items.len() < q.limit {
                items.push(json!({
                    "id": d.id,
                    "changeVersion": d.change_version,
                    "keyValues": d.key_values,
                }));
            }
            total += 1;
        }
        (items, total)
    }
}
