//! The `descriptors` method's knowledge: every descriptor value that exists, from the local
//! descriptor files and from the API (fetched once with paging, cached for a month).
//!
//! A value is `{namespace}#{codeValue}`, looked up by hash. Values are kept per descriptor type,
//! so `entryGradeLevelDescriptor` accepts grade levels only (the API checks the type too).

use super::ValidateError;
use crate::api::openapi::Model;
use crate::api::session::{Session, SessionError};
use crate::ports::{Cache, LogLevel, Method};
use crate::state::md5_hex;
use futures::stream::{self, StreamExt};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::HashMap;

/// How long fetched descriptor values are reused (a month, as the Python tool).
pub const DESCRIPTOR_CACHE_SECONDS: u64 = 2_629_800;

/// Descriptor values by `namespace#codeValue`.
#[derive(Debug, Clone)]
pub struct DescriptorIndex {
    /// uri → descriptor types that have it
    values: FxHashMap<Box<str>, Vec<u32>>,
    /// descriptor endpoint → its type (the first endpoint of the same singular name)
    type_of: Vec<u32>,
    /// `...Descriptor` property name → expected descriptor endpoint
    properties: FxHashMap<String, Option<usize>>,
}

impl DescriptorIndex {
    /// An empty index for the descriptor endpoints of `model`; knows the descriptor type of every
    /// `...Descriptor` property of the model's schemas.
    pub fn new(model: &Model) -> DescriptorIndex {
        let mut first_of: HashMap<String, u32> = HashMap::new();
        let type_of = model
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| {
                *first_of
                    .entry(e.singular().to_ascii_lowercase())
                    .or_insert(i as u32)
            })
            .collect();
        let mut properties = FxHashMap::default();
        for doc in &model.documents {
            for schema in doc.schemas().values() {
                let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                    continue;
                };
                for name in props.keys() {
                    if name.ends_with("Descriptor") && !properties.contains_key(name) {
                        properties.insert(name.clone(), model.descriptor_for_property(name));
                    }
                }
            }
        }
        DescriptorIndex {
            values: FxHashMap::default(),
            type_of,
            properties,
        }
    }

    /// Adds a value of the descriptor endpoint `endpoint` (index in the model).
    pub fn add(&mut self, endpoint: usize, namespace: &str, code_value: &str) {
        let t = self
            .type_of
            .get(endpoint)
            .copied()
            .unwrap_or(endpoint as u32);
        let uri = format!("{namespace}#{code_value}");
        let types = self.values.entry(uri.into_boxed_str()).or_default();
        if !types.contains(&t) {
            types.push(t);
        }
    }

    /// Adds the value of a descriptor payload (`{"namespace", "codeValue", ...}`); false when it
    /// has none.
    pub fn add_payload(&mut self, endpoint: usize, payload: &Value) -> bool {
        let ns = payload.get("namespace").and_then(Value::as_str);
        let cv = payload.get("codeValue").and_then(Value::as_str);
        match (ns, cv) {
            (Some(ns), Some(cv)) => {
                self.add(endpoint, ns, cv);
                true
            }
            _ => false,
        }
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The descriptor endpoint a property holds values of (`None`: unknown, any type accepted).
    pub fn expected(&self, model: &Model, property: &str) -> Option<usize> {
        match self.properties.get(property) {
            Some(e) => *e,
            None => model.descriptor_for_property(property),
        }
    }

    /// Whether `uri` exists among the values of `expected` (or of any type).
    pub fn contains(&self, uri: &str, expected: Option<usize>) -> bool {
        match self.values.get(uri) {
            None => false,
            Some(types) => match expected {
                None => true,
                Some(e) => {
                    let t = self.type_of.get(e).copied().unwrap_or(e as u32);
                    types.contains(&t)
                }
            },
        }
    }
}

/// The cache key of an API's descriptor values.
pub fn cache_key(data_url: &str) -> String {
    format!("descriptor-values-{}", md5_hex(data_url))
}

/// Fetched values: `{"{namespace}/{endpoint}": ["{namespace}#{codeValue}", ...]}`.
type Fetched = Vec<(usize, Vec<(String, String)>)>;

fn to_cache(model: &Model, fetched: &Fetched) -> Vec<u8> {
    let mut m = serde_json::Map::new();
    for (ep, values) in fetched {
        let e = &model.endpoints[*ep];
        m.insert(
            format!("{}/{}", e.namespace, e.name),
            Value::Array(
                values
                    .iter()
                    .map(|(ns, cv)| {
                        Value::Array(vec![Value::from(ns.as_str()), Value::from(cv.as_str())])
                    })
                    .collect(),
            ),
        );
    }
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}

fn from_cache(model: &Model, bytes: &[u8]) -> Option<Fetched> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let mut out = Vec::new();
    for (path, values) in v.as_object()? {
        let (ns, name) = path.split_once('/')?;
        let Some(ep) = model.find(ns, name) else {
            continue;
        };
        let mut list = Vec::new();
        for pair in values.as_array()? {
            let ns = pair.get(0)?.as_str()?;
            let cv = pair.get(1)?.as_str()?;
            list.push((ns.to_string(), cv.to_string()));
        }
        out.push((ep, list));
    }
    Some(out)
}

/// Adds the API's descriptor values to `index`: from the cache when younger than a month, else
/// fetched from every descriptor endpoint (`fetch.page_size` per page, `pool_size` requests in
/// flight) and cached when every endpoint answered.
pub async fn load_remote(
    session: &Session<'_>,
    model: &Model,
    cache: Option<&dyn Cache>,
    index: &mut DescriptorIndex,
) -> Result<(), ValidateError> {
    let key = cache_key(&session.urls.data);
    if let Some(cache) = cache {
        if let Some((bytes, age)) = cache.get(&key).await {
            if age < DESCRIPTOR_CACHE_SECONDS {
                if let Some(fetched) = from_cache(model, &bytes) {
                    session.log(LogLevel::Debug, "re-using cached descriptor values...");
                    for (ep, values) in &fetched {
                        for (ns, cv) in values {
                            index.add(*ep, ns, cv);
                        }
                    }
                    return Ok(());
                }
            }
        }
    }
    session.log(LogLevel::Info, "fetching descriptor values from the API...");
    let endpoints: Vec<usize> = model
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_descriptor)
        .map(|(i, _)| i)
        .collect();
    let pool = session.config.connection.pool_size.max(1) as usize;
    let page = session.config.fetch.page_size.max(1) as usize;
    let results: Vec<(usize, FetchResult)> = stream::iter(endpoints)
        .map(|ep| async move { (ep, fetch_endpoint(session, model, ep, page).await) })
        .buffer_unordered(pool)
        .collect()
        .await;
    let mut fetched: Fetched = Vec::new();
    let mut complete = true;
    for (ep, r) in results {
        match r {
            Ok(values) => fetched.push((ep, values)),
            Err(FetchError::Fatal(e)) => return Err(ValidateError::Session(e)),
            Err(FetchError::Status(status, url)) => {
                // a client's permissions do not change within a month; a server error might
                complete &= matches!(status, 401 | 403);
                session.log(
                    LogLevel::Warning,
                    format!(
                        "could not load descriptor values from {url}: the API answered {status}"
                    ),
                );
            }
        }
    }
    fetched.sort_by_key(|(ep, _)| *ep);
    let count: usize = fetched.iter().map(|(_, v)| v.len()).sum();
    for (ep, values) in &fetched {
        for (ns, cv) in values {
            index.add(*ep, ns, cv);
        }
    }
    session.log(
        LogLevel::Info,
        format!(
            "loaded {count} descriptor values of {} descriptor endpoints",
            fetched.len()
        ),
    );
    if complete {
        if let Some(cache) = cache {
            cache.put(&key, &to_cache(model, &fetched)).await;
        }
    }
    Ok(())
}

type FetchResult = Result<Vec<(String, String)>, FetchError>;

enum FetchError {
    Fatal(SessionError),
    Status(u16, String),
}

async fn fetch_endpoint(
    session: &Session<'_>,
    model: &Model,
    ep: usize,
    page: usize,
) -> Result<Vec<(String, String)>, FetchError> {
    let e = &model.endpoints[ep];
    let base = crate::config::url_join(&[&session.urls.data, &e.namespace, &e.name]);
    let mut out = Vec::new();
    let mut offset = 0usize;
    loop {
        let url = format!("{base}?limit={page}&offset={offset}");
        let resp = match session.call(Method::Get, &url, None).await {
            Err(fatal) => return Err(FetchError::Fatal(fatal)),
            Ok(Err(transport)) => {
                return Err(FetchError::Fatal(SessionError::Unreachable {
                    url,
                    reason: transport.to_string(),
                }))
            }
            Ok(Ok(r)) => r,
        };
        if resp.status == 404 {
            // a descriptor of the documents that this API does not serve: no values
            return Ok(out);
        }
        if resp.status != 200 {
            return Err(FetchError::Status(resp.status, url));
        }
        let items: Vec<Value> = match serde_json::from_slice::<Value>(&resp.body) {
            Ok(Value::Array(a)) => a,
            _ => return Err(FetchError::Status(resp.status, url)),
        };
        let n = items.len();
        for item in items {
            let ns = item.get("namespace").and_then(Value::as_str);
            let cv = item.get("codeValue").and_then(Value::as_str);
            if let (Some(ns), Some(cv)) = (ns, cv) {
                out.push((ns.to_string(), cv.to_string()));
            }
        }
        if n < page {
            return Ok(out);
        }
        offset += n;
    }
}
