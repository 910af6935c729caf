//! The `StateStore` and `Cache` ports over IndexedDB (rexie), one database per API (its data
//! URL, so each year or instance of an ODS keeps its own history).
//!
//! State is an append-only log per endpoint: each commit writes one record (key
//! `{endpoint}#{sequence}`) holding its outcomes as text lines `digest status timestamp` (the
//! digest as 32 hex digits; status 0: removed). Loading replays the records in key order, so a million payloads cost a few hundred
//! records, not a million IndexedDB writes; a long log is compacted into one record on load.
//! Outcomes are buffered and committed about once a second and on `flush`.

use crate::logic::saved::{CachedDocument, SavedSummary};
use lightbeam_core::ports::{
    Cache, Digest, DigestMap, LocalFuture, PayloadState, StateStore, StoreError,
};
use rexie::{KeyRange, ObjectStore, Rexie, Store, TransactionMode};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

const STATE: &str = "state";
/// Marks (`StateStore::mark`) are kept in the state store under this prefix (no endpoint name
/// begins with it).
const MARK: &str = "!mark:";
const CACHE: &str = "cache";
/// Records of one endpoint beyond which `load` rewrites them as one.
const COMPACT_AFTER: usize = 64;

/// The IndexedDB database name for an API.
pub fn database_name(api_url: &str) -> String {
    format!("lightbeam:{}", api_url.trim_end_matches('/'))
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("IndexedDB: {e}"))
}

/// One open database of an API.
pub struct Db {
    rexie: Rexie,
}

impl Db {
    pub async fn open(api_url: &str) -> Result<Rc<Db>, StoreError> {
        let rexie = Rexie::builder(&database_name(api_url))
            .version(1)
            .add_object_store(ObjectStore::new(STATE))
            .add_object_store(ObjectStore::new(CACHE))
            .build()
            .await
            .map_err(err)?;
        Ok(Rc::new(Db { rexie }))
    }

    /// Payloads remembered per endpoint, and cached documents with their age.
    pub async fn summary(&self) -> Result<SavedSummary, StoreError> {
        let tx = self
            .rexie
            .transaction(&[STATE, CACHE], TransactionMode::ReadOnly)
            .map_err(err)?;
        let state = tx.store(STATE).map_err(err)?;
        let mut by_endpoint: Vec<(String, DigestMap<PayloadState>)> = Vec::new();
        for (k, v) in state.scan(None, None, None, None).await.map_err(err)? {
            let key = k.as_string().unwrap_or_default();
            if key.starts_with(MARK) {
                continue;
            }
            let endpoint = key.rsplit_once('#').map(|(e, _)| e).unwrap_or(&key);
            let text = v.as_string().unwrap_or_default();
            match by_endpoint.iter_mut().find(|(e, _)| e == endpoint) {
                Some((_, m)) => apply_log(m, &text),
                None => {
                    let mut m = DigestMap::default();
                    apply_log(&mut m, &text);
                    by_endpoint.push((endpoint.to_string(), m));
                }
            }
        }
        let cache = tx.store(CACHE).map_err(err)?;
        let now = js_sys::Date::now();
        let mut docs = Vec::new();
        for (k, v) in cache.scan(None, None, None, None).await.map_err(err)? {
            let (bytes, at) = cache_entry(&v);
            docs.push(CachedDocument {
                key: k.as_string().unwrap_or_default(),
                age_seconds: ((now - at) / 1000.0).max(0.0) as u64,
                bytes: bytes.map(|b| b.len()).unwrap_or(0),
            });
        }
        Ok(SavedSummary {
            state: by_endpoint.into_iter().map(|(e, m)| (e, m.len())).collect(),
            cache: docs,
        })
    }

    /// Forgets every sent payload and cached document of this API.
    pub async fn clear(&self, state: bool, cache: bool) -> Result<(), StoreError> {
        let tx = self
            .rexie
            .transaction(&[STATE, CACHE], TransactionMode::ReadWrite)
            .map_err(err)?;
        if state {
            tx.store(STATE).map_err(err)?.clear().await.map_err(err)?;
        }
        if cache {
            tx.store(CACHE).map_err(err)?.clear().await.map_err(err)?;
        }
        tx.done().await.map_err(err)?;
        Ok(())
    }
}

/// One outcome as a line of the log (status 0: removed).
fn log_line(digest: Digest, status: u16, timestamp: i64) -> String {
    format!("{} {status} {timestamp}\n", digest.to_hex())
}

/// Replays log lines into `map` (lines that cannot be read are skipped).
fn apply_log(map: &mut DigestMap<PayloadState>, text: &str) {
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(hex), Some(status), Some(ts)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Some(digest), Ok(status), Ok(timestamp)) = (
            Digest::from_hex(hex),
            status.parse::<u16>(),
            ts.parse::<i64>(),
        ) else {
            continue;
        };
        if status == 0 {
            map.remove(&digest);
        } else {
            map.insert(digest, PayloadState { timestamp, status });
        }
    }
}

fn endpoint_range(endpoint: &str) -> Result<KeyRange, StoreError> {
    KeyRange::bound(
        &JsValue::from_str(&format!("{endpoint}#")),
        &JsValue::from_str(&format!("{endpoint}#~")),
        None,
        None,
    )
    .map_err(|e| err(format!("{e:?}")))
}

/// Deletes every record of `endpoint` in a store of a read-write transaction.
async fn delete_records(store: &Store, endpoint: &str) -> Result<(), StoreError> {
    let keys = store
        .get_all_keys(Some(endpoint_range(endpoint)?), None)
        .await
        .map_err(err)?;
    for k in keys {
        store.delete(k).await.map_err(err)?;
    }
    Ok(())
}

struct StateInner {
    db: Rc<Db>,
    /// Outcomes not yet committed: endpoint → log lines.
    buffer: RefCell<Vec<(String, String)>>,
    last_commit_ms: Cell<f64>,
    seq: Cell<u64>,
    committing: futures::lock::Mutex<()>,
    /// A commit in the background failed: said at the next write or flush.
    error: RefCell<Option<StoreError>>,
}

impl StateInner {
    fn next_key(&self, endpoint: &str) -> String {
        // unique and increasing across sessions: milliseconds, then a counter
        let s = ((js_sys::Date::now() as u64) << 20) | (self.seq.get() & 0xF_FFFF);
        self.seq.set(self.seq.get() + 1);
        format!("{endpoint}#{s:016x}")
    }

    async fn commit(&self) -> Result<(), StoreError> {
        let _guard = self.committing.lock().await;
        let pending = std::mem::take(&mut *self.buffer.borrow_mut());
        self.last_commit_ms.set(js_sys::Date::now());
        if pending.is_empty() {
            return Ok(());
        }
        let mut by_endpoint: Vec<(String, String)> = Vec::new();
        for (endpoint, line) in pending {
            match by_endpoint.iter_mut().find(|(e, _)| *e == endpoint) {
                Some((_, text)) => text.push_str(&line),
                None => by_endpoint.push((endpoint, line)),
            }
        }
        let writes = by_endpoint.into_iter().map(|(e, text)| (e, Some(text)));
        self.write(writes.collect(), false).await
    }

    /// In one transaction, for each endpoint: its records deleted first when `replace`, then
    /// its text (if any) added as a new record.
    async fn write(
        &self,
        records: Vec<(String, Option<String>)>,
        replace: bool,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .rexie
            .transaction(&[STATE], TransactionMode::ReadWrite)
            .map_err(err)?;
        let store = tx.store(STATE).map_err(err)?;
        for (endpoint, text) in records {
            if replace {
                delete_records(&store, &endpoint).await?;
            }
            if let Some(text) = text {
                let key = JsValue::from_str(&self.next_key(&endpoint));
                store
                    .put(&JsValue::from_str(&text), Some(&key))
                    .await
                    .map_err(err)?;
            }
        }
        tx.done().await.map_err(err)?;
        Ok(())
    }
}

/// The state of one API in IndexedDB.
#[derive(Clone)]
pub struct IdbState {
    inner: Rc<StateInner>,
}

impl IdbState {
    pub fn new(db: Rc<Db>) -> Self {
        IdbState {
            inner: Rc::new(StateInner {
                db,
                buffer: RefCell::new(Vec::new()),
                last_commit_ms: Cell::new(js_sys::Date::now()),
                seq: Cell::new(0),
                committing: futures::lock::Mutex::new(()),
                error: RefCell::new(None),
            }),
        }
    }

    fn push(&self, endpoint: &str, line: String) -> Result<(), StoreError> {
        if let Some(e) = self.inner.error.borrow().as_ref() {
            return Err(e.clone());
        }
        self.inner
            .buffer
            .borrow_mut()
            .push((endpoint.to_string(), line));
        if js_sys::Date::now() - self.inner.last_commit_ms.get() >= 1000.0
            && self.inner.committing.try_lock().is_some()
        {
            self.inner.last_commit_ms.set(js_sys::Date::now());
            let inner = self.inner.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = inner.commit().await {
                    *inner.error.borrow_mut() = Some(e);
                }
            });
        }
        Ok(())
    }
}

impl IdbState {
    /// The outcomes of `endpoint`, replayed from its records; how many records there were.
    async fn replay(&self, endpoint: &str) -> Result<(DigestMap<PayloadState>, usize), StoreError> {
        let tx = self
            .inner
            .db
            .rexie
            .transaction(&[STATE], TransactionMode::ReadOnly)
            .map_err(err)?;
        let records = tx
            .store(STATE)
            .map_err(err)?
            .get_all(Some(endpoint_range(endpoint)?), None)
            .await
            .map_err(err)?;
        let mut map = DigestMap::default();
        for r in &records {
            apply_log(&mut map, &r.as_string().unwrap_or_default());
        }
        Ok((map, records.len()))
    }

    /// Replaces the records of `endpoint` with one (`text`; none when `None`).
    async fn rewrite(&self, endpoint: &str, text: Option<String>) -> Result<(), StoreError> {
        self.inner
            .write(vec![(endpoint.to_string(), text)], true)
            .await
    }
}

impl StateStore for IdbState {
    fn load(&self, endpoint: &str) -> LocalFuture<'_, Result<DigestMap<PayloadState>, StoreError>> {
        let endpoint = endpoint.to_string();
        Box::pin(async move {
            // the endpoint's own outcomes still in the buffer must be in what is read; other
            // endpoints' outcomes wait for their commit (a send loads each endpoint's state
            // while others' outcomes arrive)
            let mine = self
                .inner
                .buffer
                .borrow()
                .iter()
                .any(|(e, _)| *e == endpoint);
            if mine {
                self.inner.commit().await?;
            }
            let (map, records) = self.replay(&endpoint).await?;
            if records > COMPACT_AFTER {
                let mut text = String::with_capacity(map.len() * 48);
                for (digest, s) in &map {
                    text.push_str(&log_line(*digest, s.status, s.timestamp));
                }
                self.rewrite(&endpoint, Some(text)).await?;
            }
            Ok(map)
        })
    }

    fn record(
        &self,
        endpoint: &str,
        digest: Digest,
        state: PayloadState,
    ) -> Result<(), StoreError> {
        self.push(
            endpoint,
            log_line(digest, state.status.max(1), state.timestamp),
        )
    }

    fn remove(&self, endpoint: &str, digest: Digest) -> Result<(), StoreError> {
        self.push(endpoint, log_line(digest, 0, 0))
    }

    fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        let endpoint = endpoint.to_string();
        Box::pin(async move {
            self.inner.commit().await?;
            self.rewrite(&endpoint, None).await
        })
    }

    fn mark(&self, key: &str) -> LocalFuture<'_, Result<Option<String>, StoreError>> {
        let key = format!("{MARK}{key}");
        Box::pin(async move {
            let tx = self
                .inner
                .db
                .rexie
                .transaction(&[STATE], TransactionMode::ReadOnly)
                .map_err(err)?;
            let v = tx
                .store(STATE)
                .map_err(err)?
                .get(JsValue::from_str(&key))
                .await
                .map_err(err)?;
            Ok(v.and_then(|v| v.as_string()))
        })
    }

    fn set_mark(&self, key: &str, value: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        let key = format!("{MARK}{key}");
        let value = value.to_string();
        Box::pin(async move {
            let tx = self
                .inner
                .db
                .rexie
                .transaction(&[STATE], TransactionMode::ReadWrite)
                .map_err(err)?;
            tx.store(STATE)
                .map_err(err)?
                .put(&JsValue::from_str(&value), Some(&JsValue::from_str(&key)))
                .await
                .map_err(err)?;
            tx.done().await.map_err(err)?;
            Ok(())
        })
    }

    fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.inner.commit().await?;
            match self.inner.error.borrow_mut().take() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
    }
}

/// Cached documents of one API in IndexedDB: `{data: Uint8Array, at: ms}` by key.
#[derive(Clone)]
pub struct IdbCache {
    db: Rc<Db>,
}

impl IdbCache {
    pub fn new(db: Rc<Db>) -> Self {
        IdbCache { db }
    }
}

fn cache_entry(v: &JsValue) -> (Option<Vec<u8>>, f64) {
    let data = js_sys::Reflect::get(v, &JsValue::from_str("data"))
        .ok()
        .filter(|d| d.is_instance_of::<js_sys::Uint8Array>())
        .map(|d| js_sys::Uint8Array::new(&d).to_vec());
    let at = js_sys::Reflect::get(v, &JsValue::from_str("at"))
        .ok()
        .and_then(|a| a.as_f64())
        .unwrap_or(0.0);
    (data, at)
}

impl Cache for IdbCache {
    fn get(&self, key: &str) -> LocalFuture<'_, Option<(Vec<u8>, u64)>> {
        let key = key.to_string();
        Box::pin(async move {
            let tx = self
                .db
                .rexie
                .transaction(&[CACHE], TransactionMode::ReadOnly)
                .ok()?;
            let v = tx
                .store(CACHE)
                .ok()?
                .get(JsValue::from_str(&key))
                .await
                .ok()??;
            let (data, at) = cache_entry(&v);
            let age = ((js_sys::Date::now() - at) / 1000.0).max(0.0) as u64;
            data.map(|d| (d, age))
        })
    }

    fn put(&self, key: &str, value: &[u8]) -> LocalFuture<'_, ()> {
        let key = key.to_string();
        let data = js_sys::Uint8Array::from(value);
        Box::pin(async move {
            let entry = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&entry, &JsValue::from_str("data"), &data);
            let _ = js_sys::Reflect::set(
                &entry,
                &JsValue::from_str("at"),
                &JsValue::from_f64(js_sys::Date::now()),
            );
            let Ok(tx) = self
                .db
                .rexie
                .transaction(&[CACHE], TransactionMode::ReadWrite)
            else {
                return;
            };
            if let Ok(store) = tx.store(CACHE) {
                if let Err(e) = store.put(&entry, Some(&JsValue::from_str(&key))).await {
                    web_sys::console::warn_1(&JsValue::from_str(&format!(
                        "cache write failed: {e}"
                    )));
                }
            }
            let _ = tx.done().await;
        })
    }

    fn wipe(&self) -> LocalFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.db.clear(false, true).await;
        })
    }
}
