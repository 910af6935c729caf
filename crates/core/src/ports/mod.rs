//! The ports through which the engine reaches the world. Each face implements them: reqwest,
//! SQLite and the filesystem natively; fetch, IndexedDB and dropped files in the browser; memory
//! in tests ([`crate::testing`]). Browser futures are not `Send`, so nothing here requires it.
//!
//! Each port has its own error type, carried as it is by the engine's errors
//! ([`crate::run::RunError`]) until a face prints it.

mod memory;

pub use crate::state::digest::{Digest, DigestMap};
pub use crate::state::PayloadState;
pub use memory::MemoryOutput;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future that need not be `Send`.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

// --- HTTP ---------------------------------------------------------------------------------------

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

// --- time ---------------------------------------------------------------------------------------

/// Time, sleeping and randomness for jitter.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_unix_ms(&self) -> i64;
    /// The local time zone's offset from UTC in seconds, east positive (for timestamps in
    /// results and for `-o`/`-n` times without an offset).
    fn utc_offset_seconds(&self) -> i32 {
        0
    }
    fn sleep(&self, d: Duration) -> LocalFuture<'_, ()>;
    /// A random number in [0, 1).
    fn random(&self) -> f64;
}

// --- state and cache ----------------------------------------------------------------------------

/// The state store failed; the message is the backend's (SQLite, IndexedDB) and names where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

/// Payload digest → last outcome, per endpoint. Writes are buffered by the store, which commits
/// them at least about once a second and on `flush`.
pub trait StateStore {
    fn load(&self, endpoint: &str) -> LocalFuture<'_, Result<DigestMap<PayloadState>, StoreError>>;
    fn record(&self, endpoint: &str, digest: Digest, state: PayloadState)
        -> Result<(), StoreError>;
    fn remove(&self, endpoint: &str, digest: Digest) -> Result<(), StoreError>;
    fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>>;
    fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>>;
    /// A value kept under `key` beside the payloads' outcomes (`fetch --changes` keeps the newest
    /// change version it fetched), `None` when there is none.
    fn mark(&self, key: &str) -> LocalFuture<'_, Result<Option<String>, StoreError>>;
    /// Keeps `value` under `key`, at once (not buffered).
    fn set_mark(&self, key: &str, value: &str) -> LocalFuture<'_, Result<(), StoreError>>;
}

/// Cached documents (OpenAPI, descriptor values), with their age. A cache that cannot be read
/// or written is no cache: the engine fetches again.
pub trait Cache {
    /// The cached bytes and their age in seconds.
    fn get(&self, key: &str) -> LocalFuture<'_, Option<(Vec<u8>, u64)>>;
    fn put(&self, key: &str, value: &[u8]) -> LocalFuture<'_, ()>;
    fn wipe(&self) -> LocalFuture<'_, ()>;
}

// --- data files ---------------------------------------------------------------------------------

/// A data file could not be listed, opened or read; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// A data file and the endpoint it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub endpoint: String,
    /// Path relative to the data folder, with `/` separators (as listed, normalised): what the
    /// data source reads.
    pub path: String,
    /// The name in messages and results (`./data/students.jsonl`): see
    /// [`DataSource::display_name`].
    pub name: String,
}

/// The data files of a run: a folder natively, dropped files in the browser.
pub trait DataSource {
    /// Every file, as paths relative to the data folder with `/` separators (at least the top
    /// level and one folder below it; the engine picks the data files).
    fn list(&self) -> LocalFuture<'_, Result<Vec<String>, SourceError>>;
    /// The name a listed file has in messages and results (`./data/students.jsonl`).
    fn display_name(&self, path: &str) -> String;
    /// What the data is called in messages (`` `data_dir` ./data/ ``, `your dropped files`).
    fn describe(&self) -> String;
    /// Opens a file (by its `path`) for reading in chunks.
    fn read(
        &self,
        file: &DataFile,
    ) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, SourceError>>;
}

/// Successive chunks of one file (split into lines by the engine); `None` at the end.
pub trait ChunkReader {
    fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, SourceError>>;
}

// --- output files -------------------------------------------------------------------------------

/// An output file could not be written or read; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OutputError(pub String);

/// Where output files go (`fetch` writes `{endpoint}.jsonl`, `create` writes `earthmover.yml`
/// and `templates/{endpoint}.jsont`). Paths are relative and `/`-separated; the face decides
/// where they go (a directory natively, downloads in the browser). Writers are streamed: `fetch`
/// never holds a whole endpoint in memory.
pub trait OutputFiles {
    /// Whether `path` exists already.
    fn exists(&self, path: &str) -> LocalFuture<'_, Result<bool, OutputError>>;
    /// The text of `path`, `None` when it does not exist.
    fn read_text(&self, path: &str) -> LocalFuture<'_, Result<Option<String>, OutputError>>;
    /// Creates `path` (and its parent directories), replacing a file of that name.
    fn create(
        &self,
        path: &str,
    ) -> LocalFuture<'_, Result<Box<dyn OutputWriter + '_>, OutputError>>;
}

/// One file being written, in order.
pub trait OutputWriter {
    fn write(&mut self, bytes: &[u8]) -> LocalFuture<'_, Result<(), OutputError>>;
    /// Flushes and closes the file; it is complete only after this.
    fn finish(&mut self) -> LocalFuture<'_, Result<(), OutputError>>;
}

// --- asking the user ----------------------------------------------------------------------------

/// What a destructive command asks the user to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmRequest {
    /// The endpoints about to lose data, in the order they will be processed.
    pub endpoints: Vec<String>,
    /// `truncate` (every record) rather than `delete` (the records of the payloads).
    pub truncate: bool,
}

impl ConfirmRequest {
    /// The Python tool's prompt.
    pub fn prompt(&self) -> String {
        let verbiage = if self.truncate {
            "TRUNCATE ALL DATA"
        } else {
            "delete"
        };
        format!(
            "Preparing to delete the following endpoints:\n\t • {}\nType \"yes\" to confirm you want to {verbiage} payloads for the selected endpoints? ",
            self.endpoints.join("\n\t • ")
        )
    }
}

/// Asks the user before data is deleted.
pub trait Confirm {
    /// What the user answered, or `None` when there is nobody to ask (no terminal).
    fn ask(&self, request: &ConfirmRequest) -> LocalFuture<'_, Option<String>>;
}

// --- what the engine reports --------------------------------------------------------------------

/// How hard the API pushes back, as progress shows it (the session's flow of requests).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pressure {
    /// Requests on the wire.
    pub in_flight: usize,
    /// `pool_size`.
    pub max: usize,
    /// Requests waiting out a backoff or `Retry-After` before their next attempt.
    pub waiting_retries: usize,
    /// Requests a second the pace allows, when the API has been limiting our rate.
    pub paced: Option<f64>,
    /// 429 answers so far.
    pub rate_limited: u64,
}

impl Pressure {
    /// What a person watching a run should know of the API's pushback, `None` when there is
    /// none: `API pushing back: 12 payloads waiting to retry · paced at 280/s after 429s (1,204 so far)`.
    pub fn describe(&self) -> Option<String> {
        if self.waiting_retries == 0 && self.paced.is_none() {
            return None;
        }
        let mut parts = Vec::new();
        if self.waiting_retries > 0 {
            let s = if self.waiting_retries == 1 { "" } else { "s" };
            parts.push(format!(
                "{} payload{s} waiting to retry",
                self.waiting_retries
            ));
        }
        if let Some(pace) = self.paced {
            parts.push(format!(
                "paced at {pace:.0}/s after 429s ({} so far)",
                self.rate_limited
            ));
        }
        parts.push(format!(
            "{} of {} requests on the wire",
            self.in_flight, self.max
        ));
        Some(format!("API pushing back: {}", parts.join(" · ")))
    }

    /// Whether `other` says something different to a person (requests on the wire aside).
    pub fn differs(&self, other: &Pressure) -> bool {
        self.waiting_retries != other.waiting_retries
            || self.paced.map(f64::round) != other.paced.map(f64::round)
            || self.rate_limited != other.rate_limited
    }
}

/// What the engine reports while it works.
#[derive(Debug, Clone)]
pub enum Event {
    Log {
        level: LogLevel,
        message: String,
    },
    /// An endpoint started; `total` lines (or records) to consider.
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
    /// The API's pushback changed (sent with progress, when it changed).
    Pressure(Pressure),
}

/// A log level: of messages, and `log_level` of the config (Python logging level names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Debug,
    #[default]
    Info,
    Warning,
    Error,
    Critical,
}

impl LogLevel {
    /// The Python logging name (`WARNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
            LogLevel::Critical => "CRITICAL",
        }
    }

    /// A Python logging level name, case-insensitively (`warn`, `fatal` and `notset` too).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DEBUG" | "NOTSET" => Some(LogLevel::Debug),
            "INFO" => Some(LogLevel::Info),
            "WARNING" | "WARN" => Some(LogLevel::Warning),
            "ERROR" => Some(LogLevel::Error),
            "CRITICAL" | "FATAL" => Some(LogLevel::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LogLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LogLevel::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {s:?}"
            ))
        })
    }
}

/// Receives what the engine reports.
pub trait EventSink {
    fn emit(&self, event: Event);

    /// A log message.
    fn log(&self, level: LogLevel, message: String) {
        self.emit(Event::Log { level, message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn prompt_lists_the_endpoints() {
        let ask = |endpoints: &[&str], truncate| {
            ConfirmRequest {
                endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
                truncate,
            }
            .prompt()
        };
        let p = ask(&["grades", "students"], false);
        assert!(p.starts_with(
            "Preparing to delete the following endpoints:\n\t • grades\n\t • students\n"
        ));
        assert!(p.ends_with("to delete payloads for the selected endpoints? "));
        assert!(ask(&["x"], true).contains("TRUNCATE ALL DATA"));
    }

    #[test]
    fn log_levels_by_python_name() {
        assert_eq!(LogLevel::parse(" warn "), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("notset"), Some(LogLevel::Debug));
        assert_eq!(LogLevel::parse("FATAL"), Some(LogLevel::Critical));
        assert_eq!(LogLevel::parse("loud"), None);
        assert_eq!(LogLevel::Warning.to_string(), "WARNING");
        assert!(LogLevel::Debug < LogLevel::Info);
    }
}
