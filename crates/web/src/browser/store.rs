//! The `StateStore` and `Cache` ports over IndexedDB (rexie), one database per API (its data
//! URL, so each year or instance of an ODS keeps its own history).
//!
//! State is an append-only log per endpoint: each commit writes one record (key
//! `{endpoint}#{sequence}`) holding its outcomes as text lines `hash status timestamp` (status 0:
//! removed). Loading replays the records in key order, so a million payloads cost a few hundred
//! records, not a million IndexedDB writes; a long log is compacted into one record on load.
//! Outcomes are buffered and committed about once a second and on `flush`.

use super::js_error_text;
use lightbeam_core::ports::{Cache, LocalFuture, PayloadState, StateStore, StoreError};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

const STATE: &str = "state";
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

    /// Payload hashes remembered per endpoint, and cached documents with their age in seconds.
    pub async fn summary(
        &self,
    ) -> Result<(Vec<(String, usize)>, Vec<(String, u64, usize)>), StoreError> {
        let tx = self
            .rexie
            .transaction(&[STATE, CACHE], TransactionMode::ReadOnly)
            .map_err(err)?;
        let state = tx.store(STATE).map_err(err)?;
        let mut by_endpoint: Vec<(String, HashMap<String, PayloadState>)> = Vec::new();
        for (k, v) in state.scan(None, None, None, None).await.map_err(err)? {
            let key = k.as_string().unwrap_or_default();
            let endpoint = key
                .rsplit_once('#')
                .map(|(e, _)| e)
                .unwrap_or(&key)
                .to_string();
            let text = v.as_string().unwrap_or_default();
            match by_endpoint.iter_mut().find(|(e, _)| *e == endpoint) {
                Some((_, m)) => apply_log(m, &text),
                None => {
                    let mut m = HashMap::new();
                    apply_log(&mut m, &text);
                    by_endpoint.push((endpoint, m));
                }
            }
        }
        let cache = tx.store(CACHE).map_err(err)?;
        let now = js_sys::Date::now();
        let mut docs = Vec::new();
        for (k, v) in cache.scan(None, None, None, None).await.map_err(err)? {
            let (bytes, at) = cache_entry(&v);
            docs.push((
                k.as_string().unwrap_or_default(),
                ((now - at) / 1000.0).max(0.0) as u64,
                bytes.map(|b| b.len()).unwrap_or(0),
            ));
        }
        Ok((
            by_endpoint.into_iter().map(|(e, m)| (e, m.len())).collect(),
            docs,
        ))
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

fn apply_log(map: &mut HashMap<String, PayloadState>, text: &str) {
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(hash), Some(status), Some(ts)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(status), Ok(timestamp)) = (status.parse::<u16>(), ts.parse::<i64>()) else {
            continue;
        };
        if status == 0 {
            map.remove(hash);
        } else {
            map.insert(hash.to_string(), PayloadState { timestamp, status });
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

struct StateInner {
    db: Rc<Db>,
    /// Outcomes not yet committed: endpoint → log lines.
    buffer: RefCell<Vec<(String, String)>>,
    last_commit_ms: Cell<f64>,
    seq: Cell<u64>,
    committing: futures::lock::Mutex<()>,
    error: RefCell<Option<String>>,
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
        let tx = self
            .db
            .rexie
            .transaction(&[STATE], TransactionMode::ReadWrite)
            .map_err(err)?;
        let store = tx.store(STATE).map_err(err)?;
        for (endpoint, text) in by_endpoint {
            let key = JsValue::from_str(&self.next_key(&endpoint));
            store
                .put(&JsValue::from_str(&text), Some(&key))
                .await
                .map_err(err)?;
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
            return Err(StoreError(e.clone()));
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
                    *inner.error.borrow_mut() = Some(e.0);
                }
            });
        }
        Ok(())
    }
}

impl StateStore for IdbState {
    fn load(
        &self,
        endpoint: &str,
    ) -> LocalFuture<'_, Result<HashMap<String, PayloadState>, StoreError>> {
        let endpoint = endpoint.to_string();
        Box::pin(async move {
            self.inner.commit().await?;
            let db = &self.inner.db;
            let tx = db
                .rexie
                .transaction(&[STATE], TransactionMode::ReadOnly)
                .map_err(err)?;
            let store = tx.store(STATE).map_err(err)?;
            let records = store
                .get_all(Some(endpoint_range(&endpoint)?), None)
                .await
                .map_err(err)?;
            drop(tx);
            let mut map = HashMap::new();
            for r in &records {
                apply_log(&mut map, &r.as_string().unwrap_or_default());
            }
            if records.len() > COMPACT_AFTER {
                let mut text = String::with_capacity(map.len() * 48);
                for (hash, s) in &map {
                    text.push_str(&format!("{hash} {} {}\n", s.status, s.timestamp));
                }
                let tx = db
                    .rexie
                    .transaction(&[STATE], TransactionMode::ReadWrite)
                    .map_err(err)?;
                let store = tx.store(STATE).map_err(err)?;
                let keys = store
                    .get_all_keys(Some(endpoint_range(&endpoint)?), None)
                    .await
                    .map_err(err)?;
                for k in keys {
                    store.delete(k).await.map_err(err)?;
                }
                let key = JsValue::from_str(&self.inner.next_key(&endpoint));
                store
                    .put(&JsValue::from_str(&text), Some(&key))
                    .await
                    .map_err(err)?;
                tx.done().await.map_err(err)?;
            }
            Ok(map)
        })
    }

    fn record(&self, endpoint: &str, hash: &str, state: PayloadState) -> Result<(), StoreError> {
        self.push(
            endpoint,
            format!("{hash} {} {}\n", state.status.max(1), state.timestamp),
        )
    }

    fn remove(&self, endpoint: &str, hash: &str) -> Result<(), StoreError> {
        self.push(endpoint, format!("{hash} 0 0\n"))
    }

    fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        let endpoint = endpoint.to_string();
        Box::pin(async move {
            self.inner.commit().await?;
            let tx = self
                .inner
                .db
                .rexie
                .transaction(&[STATE], TransactionMode::ReadWrite)
                .map_err(err)?;
            let store = tx.store(STATE).map_err(err)?;
            let keys = store
                .get_all_keys(Some(endpoint_range(&endpoint)?), None)
                .await
                .map_err(err)?;
            for k in keys {
                store.delete(k).await.map_err(err)?;
            }
            tx.done().await.map_err(err)?;
            Ok(())
        })
    }

    fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.inner.commit().await?;
            match self.inner.error.borrow_mut().take() {
                Some(e) => Err(StoreError(e)),
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
                        "cache write failed: {}",
                        js_error_text(&JsValue::from_str(&e.to_string()))
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
