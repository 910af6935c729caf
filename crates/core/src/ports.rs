//! The ports through which the engine reaches the world. Each face implements them: reqwest,
//! SQLite and the filesystem natively; fetch, IndexedDB and dropped files in the browser; memory
//! in tests. Browser futures are not `Send`, so nothing here requires it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future that need not be `Send`.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One HTTP request. `timeout` bounds the whole request, body included.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>, timeout: Duration) -> Self {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// An HTTP response, body read completely.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A header's value, name matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("request timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Other(String),
}

/// Sends HTTP requests.
pub trait Http {
    fn send(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, TransportError>>;
}

/// Time, sleeping and randomness for jitter.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_unix_ms(&self) -> i64;
    fn sleep(&self, d: Duration) -> LocalFuture<'_, ()>;
    /// A random number in [0, 1).
    fn random(&self) -> f64;
}

/// The last outcome of one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadState {
    /// Unix seconds.
    pub timestamp: i64,
    pub status: u16,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

/// Payload hash → last outcome, per endpoint. Writes are buffered by the store, which commits
/// them at least about once a second and on `flush`.
pub trait StateStore {
    fn load(
        &self,
        endpoint: &str,
    ) -> LocalFuture<'_, Result<HashMap<String, PayloadState>, StoreError>>;
    fn record(&self, endpoint: &str, hash: &str, state: PayloadState) -> Result<(), StoreError>;
    fn remove(&self, endpoint: &str, hash: &str) -> Result<(), StoreError>;
    fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>>;
    fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>>;
}

/// Cached documents (OpenAPI, descriptor values), with their age.
pub trait Cache {
    /// The cached bytes and their age in seconds.
    fn get(&self, key: &str) -> LocalFuture<'_, Option<(Vec<u8>, u64)>>;
    fn put(&self, key: &str, value: &[u8]) -> LocalFuture<'_, ()>;
    fn wipe(&self) -> LocalFuture<'_, ()>;
}

/// A data file of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub endpoint: String,
    /// The name shown in results and messages (path as given by the user).
    pub name: String,
}

/// Reads data files as chunks of bytes (split into lines by the engine).
pub trait DataSource {
    fn read(&self, file: &DataFile) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, String>>;
}

/// Successive chunks of one file; `None` at the end.
pub trait ChunkReader {
    fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, String>>;
}

/// What the engine reports while it works.
#[derive(Debug, Clone)]
pub enum Event {
    Log {
        level: LogLevel,
        message: String,
    },
    /// An endpoint started; `total` lines to consider.
    EndpointStarted {
        endpoint: String,
        total: u64,
    },
    /// Progress of an endpoint.
    Progress {
        endpoint: String,
        done: u64,
        skipped: u64,
        failed: u64,
    },
    EndpointFinished {
        endpoint: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

pub trait EventSink {
    fn emit(&self, event: Event);
}
