//! A test kit for the engine and for faces' tests (the `testing` feature): every port in memory,
//! and an executor, so that whole commands run without sockets, disks or timers, natively and in
//! wasm32 alike.
//!
//! - [`block_on`]: runs a future to its end by polling it (the fakes below make progress when
//!   polled; none needs a real waker);
//! - [`MemFiles`]: data files as bytes, read in small chunks (lines cross chunk boundaries);
//! - [`FakeClock`]: time that advances only when slept on, sleeps recorded;
//! - [`MemState`]: the state store as a map;
//! - [`Recorder`]: an event sink that keeps every event;
//! - [`FakeApi`]: an Ed-Fi API behind the `Http` port: OAuth, dependencies, POSTs that answer
//!   `201` unless a script says otherwise, with in-flight counting and expiring tokens.

use crate::ports::{
    ChunkReader, Clock, Confirm, ConfirmRequest, DataFile, DataSource, Digest, DigestMap, Event,
    EventSink, Http, HttpRequest, HttpResponse, LocalFuture, LogLevel, PayloadState, SourceError,
    StateStore, StoreError, TransportError,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs a future to its end, polling it until it is ready.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Pending once, then ready: lets other futures run in between.
pub struct YieldNow(bool);

/// A future that is pending once (see [`YieldNow`]).
pub fn yield_now() -> YieldNow {
    YieldNow(false)
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

// --- data files ---------------------------------------------------------------------------------

/// Data files in memory by path, read `chunk` bytes at a time.
#[derive(Debug, Clone)]
pub struct MemFiles {
    files: BTreeMap<String, Vec<u8>>,
    chunk: usize,
}

impl Default for MemFiles {
    fn default() -> Self {
        MemFiles {
            files: BTreeMap::new(),
            chunk: 7,
        }
    }
}

impl MemFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn with(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.to_string(), bytes.into());
        self
    }

    /// Reads files `chunk` bytes at a time (at least 1).
    pub fn chunked(mut self, chunk: usize) -> Self {
        self.chunk = chunk.max(1);
        self
    }
}

struct Chunks(Vec<Vec<u8>>);

impl ChunkReader for Chunks {
    fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, SourceError>> {
        let c = (!self.0.is_empty()).then(|| self.0.remove(0));
        Box::pin(std::future::ready(Ok(c)))
    }
}

impl DataSource for MemFiles {
    fn list(&self) -> LocalFuture<'_, Result<Vec<String>, SourceError>> {
        Box::pin(std::future::ready(Ok(self.files.keys().cloned().collect())))
    }

    fn display_name(&self, path: &str) -> String {
        path.to_string()
    }

    fn describe(&self) -> String {
        "the test files".to_string()
    }

    fn read(
        &self,
        file: &DataFile,
    ) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, SourceError>> {
        let found = self.files.get(&file.path).map(|b| {
            Box::new(Chunks(b.chunks(self.chunk).map(<[u8]>::to_vec).collect()))
                as Box<dyn ChunkReader>
        });
        Box::pin(std::future::ready(found.ok_or_else(|| {
            SourceError(format!("{}: no such file", file.path))
        })))
    }
}

// --- time ---------------------------------------------------------------------------------------

/// A clock that starts at 2023-11-14 and advances 1 ms per reading and by every sleep; a sleep
/// yields once per 100 ms it stands for (at least once, at most 1,000 times), so that other
/// futures run meanwhile as they would in real time; jitter is always 0.5.
#[derive(Default)]
pub struct FakeClock {
    now_ms: Cell<i64>,
    /// Every sleep asked for, in order.
    pub slept: RefCell<Vec<Duration>>,
}

impl Clock for FakeClock {
    fn now_unix_ms(&self) -> i64 {
        self.now_ms.set(self.now_ms.get() + 1);
        1_700_000_000_000 + self.now_ms.get()
    }
    fn sleep(&self, d: Duration) -> LocalFuture<'_, ()> {
        self.slept.borrow_mut().push(d);
        self.now_ms.set(self.now_ms.get() + d.as_millis() as i64);
        let polls = (d.as_millis() / 100).clamp(1, 1_000) as usize;
        Box::pin(async move {
            for _ in 0..polls {
                yield_now().await;
            }
        })
    }
    fn random(&self) -> f64 {
        0.5
    }
}

// --- state --------------------------------------------------------------------------------------

/// The state store as a map of (endpoint, digest) → last outcome, and its marks.
#[derive(Debug, Default)]
pub struct MemState(
    pub RefCell<HashMap<(String, Digest), PayloadState>>,
    pub RefCell<HashMap<String, String>>,
);

impl MemState {
    /// Outcomes remembered of all endpoints.
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

impl StateStore for MemState {
    fn load(&self, endpoint: &str) -> LocalFuture<'_, Result<DigestMap<PayloadState>, StoreError>> {
        let m = self
            .0
            .borrow()
            .iter()
            .filter(|((e, _), _)| e == endpoint)
            .map(|((_, d), s)| (*d, *s))
            .collect();
        Box::pin(std::future::ready(Ok(m)))
    }
    fn record(
        &self,
        endpoint: &str,
        digest: Digest,
        state: PayloadState,
    ) -> Result<(), StoreError> {
        self.0
            .borrow_mut()
            .insert((endpoint.to_string(), digest), state);
        Ok(())
    }
    fn remove(&self, endpoint: &str, digest: Digest) -> Result<(), StoreError> {
        self.0.borrow_mut().remove(&(endpoint.to_string(), digest));
        Ok(())
    }
    fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        self.0.borrow_mut().retain(|(e, _), _| e != endpoint);
        Box::pin(std::future::ready(Ok(())))
    }
    fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn mark(&self, key: &str) -> LocalFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(std::future::ready(Ok(self.1.borrow().get(key).cloned())))
    }
    fn set_mark(&self, key: &str, value: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        self.1
            .borrow_mut()
            .insert(key.to_string(), value.to_string());
        Box::pin(std::future::ready(Ok(())))
    }
}

// --- events and confirmation --------------------------------------------------------------------

/// Keeps every event.
#[derive(Debug, Default)]
pub struct Recorder(pub RefCell<Vec<Event>>);

impl Recorder {
    /// The log messages at `level` or above, in order.
    pub fn logs(&self, level: LogLevel) -> Vec<String> {
        self.0
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Log { level: l, message } if *l >= level => Some(message.clone()),
                _ => None,
            })
            .collect()
    }
}

impl EventSink for Recorder {
    fn emit(&self, event: Event) {
        self.0.borrow_mut().push(event);
    }
}

/// Answers every confirmation with a fixed text (`None`: nobody to ask), and keeps the requests.
#[derive(Debug, Default)]
pub struct Answer {
    pub answer: Option<String>,
    pub asked: RefCell<Vec<ConfirmRequest>>,
}

impl Answer {
    pub fn new(answer: Option<&str>) -> Answer {
        Answer {
            answer: answer.map(str::to_string),
            asked: RefCell::default(),
        }
    }
}

impl Confirm for Answer {
    fn ask(&self, request: &ConfirmRequest) -> LocalFuture<'_, Option<String>> {
        self.asked.borrow_mut().push(request.clone());
        Box::pin(std::future::ready(self.answer.clone()))
    }
}

// --- the API ------------------------------------------------------------------------------------

/// Statuses (with a `Retry-After` value) answered in turn to the POSTs whose body contains a text.
pub type Script = Vec<(String, Vec<(u16, Option<&'static str>)>)>;

/// The dependency order [`FakeApi`] serves unless told otherwise.
pub const DEPENDENCIES: &str = r#"[{"resource":"/ed-fi/students","order":1,"operations":["Create"]},
    {"resource":"/ed-fi/staffs","order":1,"operations":["Create"]},
    {"resource":"/ed-fi/studentSchoolAssociations","order":2,"operations":["Create"]}]"#;

/// A fake Ed-Fi API: `/oauth/token` issues tokens `t1`, `t2`..., `/dependencies` answers
/// [`FakeApi::dependencies`], and every other request is a data request: it takes 1 to 4 polls
/// (depending on its body), is answered `401` when its token has expired, else by the script, else
/// `201`. Concurrency, tokens and POSTs are counted.
pub struct FakeApi {
    pub in_flight: Cell<usize>,
    pub max_in_flight: Cell<usize>,
    pub tokens: Cell<u32>,
    /// (endpoint, body) of every POST answered 201.
    pub posts: RefCell<Vec<(String, String)>>,
    /// Scripted answers to POSTs containing a text, used one by one (then 201).
    pub script: RefCell<Script>,
    /// Token values that are rejected with 401.
    pub expired: RefCell<Vec<String>>,
    /// `start {endpoint}` and `end {endpoint}` of every data request, in order.
    pub log: RefCell<Vec<String>>,
    /// The body of every data request as it started, with the requests then on the wire (itself
    /// included).
    pub starts: RefCell<Vec<(String, usize)>>,
    /// The dependencies document.
    pub dependencies: String,
}

impl Default for FakeApi {
    fn default() -> Self {
        FakeApi {
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
            tokens: Cell::new(0),
            posts: RefCell::default(),
            script: RefCell::default(),
            expired: RefCell::default(),
            log: RefCell::default(),
            starts: RefCell::default(),
            dependencies: DEPENDENCIES.to_string(),
        }
    }
}

fn ok(status: u16, headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse {
        status,
        headers,
        body: body.into(),
    }
}

impl FakeApi {
    /// The config of a client of this API (`pool_size` requests in flight).
    pub fn config_yaml(pool: u32) -> String {
        format!(
            "edfi_api:\n  base_url: http://api.test\n  oauth_url: http://api.test/oauth/token\n  dependencies_url: http://api.test/metadata/dependencies\n  open_api_metadata_url: http://api.test/metadata/\n  mode: shared_instance\n  client_id: k\n  client_secret: s\nconnection:\n  pool_size: {pool}\n"
        )
    }

    /// The next scripted answer to a POST of `body`, if any.
    fn scripted(&self, body: &str) -> Option<HttpResponse> {
        let mut script = self.script.borrow_mut();
        let (_, statuses) = script.iter_mut().find(|(k, _)| body.contains(k.as_str()))?;
        if statuses.is_empty() {
            return None;
        }
        let (status, retry_after) = statuses.remove(0);
        let headers = retry_after
            .map(|v| vec![("Retry-After".to_string(), v.to_string())])
            .unwrap_or_default();
        Some(ok(
            status,
            headers,
            br#"{"detail":"nope","type":"urn:ed-fi:api:system","status":500}"#.to_vec(),
        ))
    }

    async fn data(&self, req: HttpRequest) -> HttpResponse {
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let body = String::from_utf8_lossy(req.body.as_deref().unwrap_or_default()).into_owned();
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight
            .set(self.max_in_flight.get().max(self.in_flight.get()));
        let endpoint = req.url.rsplit('/').next().unwrap_or_default().to_string();
        self.log.borrow_mut().push(format!("start {endpoint}"));
        self.starts
            .borrow_mut()
            .push((body.clone(), self.in_flight.get()));
        // requests take different times (1 to 4 polls)
        for _ in 0..1 + (body.bytes().map(usize::from).sum::<usize>() % 4) {
            yield_now().await;
        }
        self.in_flight.set(self.in_flight.get() - 1);
        self.log.borrow_mut().push(format!("end {endpoint}"));
        if self
            .expired
            .borrow()
            .iter()
            .any(|t| auth == format!("Bearer {t}"))
        {
            return ok(401, vec![], vec![]);
        }
        if let Some(resp) = self.scripted(&body) {
            return resp;
        }
        self.posts.borrow_mut().push((endpoint, body));
        ok(201, vec![], vec![])
    }
}

impl Http for FakeApi {
    fn send(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            if req.url.ends_with("/oauth/token") {
                self.tokens.set(self.tokens.get() + 1);
                let body = format!(
                    "{{\"access_token\":\"t{}\",\"expires_in\":1800,\"token_type\":\"bearer\"}}",
                    self.tokens.get()
                );
                return Ok(ok(200, vec![], body));
            }
            if req.url.ends_with("/dependencies") {
                return Ok(ok(200, vec![], self.dependencies.clone()));
            }
            if req.url.contains("/metadata/") {
                // no OpenAPI documents here: `send` goes level by level
                return Ok(ok(404, vec![], vec![]));
            }
            Ok(self.data(req).await)
        })
    }
}

// --- the shared Ed-Fi files ---------------------------------------------------------------------

/// The bytes of a file of `../shared/edfi` beside the repository (`openapi/...`,
/// `dependencies/...`). Native tests only: wasm32 in node has no filesystem.
#[cfg(not(target_arch = "wasm32"))]
pub fn shared_file(path: &str) -> Vec<u8> {
    let full = format!("{}/../../../shared/edfi/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// An OpenAPI document of `../shared/edfi/openapi/`.
#[cfg(not(target_arch = "wasm32"))]
pub fn openapi_document(name: &str) -> crate::api::openapi::Document {
    let doc = serde_json::from_slice(&shared_file(&format!("openapi/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    crate::api::openapi::Document::new(doc).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The model of OpenAPI documents of `../shared/edfi/openapi/`.
#[cfg(not(target_arch = "wasm32"))]
pub fn openapi_model(names: &[&str]) -> crate::api::openapi::Model {
    crate::api::openapi::Model::new(names.iter().map(|n| openapi_document(n)).collect())
}
