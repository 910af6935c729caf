//! The sandbox's own counters (requests by method and status, injected faults, requests
//! refused by the rate limit, dropped connections, creates and updates, and when each endpoint's
//! first and last successful POST came) and the JSON of `/_sandbox/stats` that reports them with
//! the record counts of every store.

use crate::store::{Api, Store};
use axum::http::{Method, StatusCode};
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct Stats {
    requests: BTreeMap<String, BTreeMap<u16, u64>>,
    faults: BTreeMap<u16, u64>,
    rate_limited: u64,
    dropped: u64,
    creates: u64,
    updates: u64,
    /// The numbers (1, 2, ...) of the first and the last successful POST of each endpoint: how a
    /// client's order of sending shows from outside.
    upsert_spans: BTreeMap<String, (u64, u64)>,
}

impl Stats {
    /// A data request answered with `status` (by a handler or by an injected fault).
    pub(super) fn count_request(&mut self, method: &Method, status: StatusCode) {
        *self
            .requests
            .entry(method.as_str().to_string())
            .or_default()
            .entry(status.as_u16())
            .or_default() += 1;
    }

    /// A fault answered with `status` instead of the data request.
    pub(super) fn count_fault(&mut self, status: u16) {
        *self.faults.entry(status).or_default() += 1;
    }

    /// A data request answered 429 by the rate limit.
    pub(super) fn count_rate_limited(&mut self) {
        self.rate_limited += 1;
    }

    /// A connection closed without an answer.
    pub(super) fn count_dropped(&mut self) {
        self.dropped += 1;
    }

    /// A successful POST to `endpoint` (`ed-fi/students`): a create or an update.
    pub(super) fn count_upsert(&mut self, created: bool, endpoint: &str) {
        if created {
            self.creates += 1;
        } else {
            self.updates += 1;
        }
        let n = self.creates + self.updates;
        match self.upsert_spans.get_mut(endpoint) {
            Some(span) => span.1 = n,
            None => {
                self.upsert_spans.insert(endpoint.to_string(), (n, n));
            }
        }
    }

    /// The JSON of `/_sandbox/stats`: these counters, `tokens_issued`, the record count of every
    /// endpoint in the default store and of the non-empty ones of every instance/year store.
    pub(super) fn report(
        &self,
        api: &Api,
        default: &Store,
        stores: Vec<(String, Arc<RwLock<Store>>)>,
        tokens_issued: u64,
    ) -> Value {
        let mut records = serde_json::Map::new();
        for (i, e) in api.model.endpoints.iter().enumerate() {
            records.insert(
                format!("{}/{}", e.namespace, e.name),
                json!(default.count(i)),
            );
        }
        let mut instances = serde_json::Map::new();
        for (prefix, st) in stores {
            if prefix.is_empty() {
                continue;
            }
            let st = st.read();
            let m: serde_json::Map<String, Value> = api
                .model
                .endpoints
                .iter()
                .enumerate()
                .filter(|(i, _)| st.count(*i) > 0)
                .map(|(i, e)| (format!("{}/{}", e.namespace, e.name), json!(st.count(i))))
                .collect();
            instances.insert(prefix, Value::Object(m));
        }
        let requests: serde_json::Map<String, Value> = self
            .requests
            .iter()
            .map(|(m, by)| {
                (
                    m.clone(),
                    json!(by
                        .iter()
                        .map(|(k, v)| (k.to_string(), *v))
                        .collect::<BTreeMap<_, _>>()),
                )
            })
            .collect();
        json!({
            "requests": requests,
            "faults_injected": self.faults.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "faults_injected_total": self.faults.values().sum::<u64>(),
            "rate_limited": self.rate_limited,
            "connections_dropped": self.dropped,
            "tokens_issued": tokens_issued,
            "creates": self.creates,
            "updates": self.updates,
            "upsert_spans": self.upsert_spans.iter().map(|(k, (a, b))| (k.clone(), json!([a, b]))).collect::<serde_json::Map<_, _>>(),
            "records": records,
            "records_by_instance": instances,
        })
    }
}
