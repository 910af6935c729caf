//! `send`: POST every selected payload in dependency order with `pool_size` requests in flight at
//! every moment. Endpoints of one dependency level share one stream of requests (no barriers
//! between them); a level starts when everything of the previous level is finished, retries
//! included. Outcomes go to the state store as they arrive.

use crate::api::errors::error_messages;
use crate::api::session::{Session, SessionError};
use crate::data::lines::file_lines;
use crate::data::lines::LineSplitter;
use crate::ports::{DataFile, DataSource, Event, LogLevel, Method, PayloadState, StateStore};
use crate::results::{FailureKind, RunResults};
use crate::state::{decide, is_success, payload_hash_hex, Decision, LastOutcome, ResendCriteria};
use futures::stream::StreamExt;
use std::collections::HashMap;

/// Payload hashes are md5 digests, already uniform: keyed without rehashing.
type DigestMap<V> = crate::validate::keys::KeyMap<V>;
use std::rc::Rc;

/// One endpoint with its data files.
#[derive(Debug, Clone)]
pub struct EndpointPlan {
    pub endpoint: String,
    pub files: Vec<DataFile>,
}

/// The `selected` endpoints that have data files in `discovery`, with their files, by dependency
/// level; `file_name` turns a path relative to the data folder into the name a face reads it by.
pub fn plan_levels(
    deps: &crate::api::dependencies::Dependencies,
    selected: &[String],
    discovery: &crate::data::files::Discovery,
    file_name: impl Fn(&str) -> String,
) -> Vec<Vec<EndpointPlan>> {
    let with_data = discovery.endpoints_with_data(selected);
    deps.levels_of(&with_data)
        .into_iter()
        .map(|level| {
            level
                .into_iter()
                .map(|endpoint| EndpointPlan {
                    files: discovery
                        .files_for(&endpoint)
                        .map(|rel| DataFile {
                            endpoint: endpoint.clone(),
                            name: file_name(rel),
                        })
                        .collect(),
                    endpoint,
                })
                .collect()
        })
        .collect()
}

/// What stops a run early.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{0}")]
    State(String),
    #[error("cannot read {file}: {reason}")]
    Read { file: String, reason: String },
}

/// Count the payload (non-blank) lines of files, for progress totals, without copying them.
pub async fn count_lines(source: &dyn DataSource, files: &[DataFile]) -> Result<u64, RunError> {
    let mut n = 0;
    for f in files {
        let read_error = |reason| RunError::Read {
            file: f.name.clone(),
            reason,
        };
        let mut reader = source.read(f).await.map_err(read_error)?;
        let mut splitter = LineSplitter::new();
        while let Some(chunk) = reader.next_chunk().await.map_err(read_error)? {
            n += splitter.count(&chunk);
        }
        n += splitter.finish_count();
    }
    Ok(n)
}

enum Outcome {
    Skipped {
        ep: usize,
    },
    Unreadable {
        ep: usize,
        file: Rc<str>,
        line: u64,
        message: String,
    },
    Response {
        ep: usize,
        file: Rc<str>,
        line: u64,
        hash: String,
        status: u16,
        body: Vec<u8>,
    },
    NoAnswer {
        ep: usize,
        file: Rc<str>,
        line: u64,
        message: String,
    },
    Fatal(SessionError),
}

struct Progress {
    total: u64,
    done: u64,
    skipped: u64,
    failed: u64,
    statuses: HashMap<u16, u64>,
}

/// Send the given dependency levels. Results accumulate in `results`; state is recorded as
/// outcomes arrive and flushed at the end (also after a fatal error).
pub async fn send(
    session: &Session<'_>,
    levels: &[Vec<EndpointPlan>],
    source: &dyn DataSource,
    state: Option<&dyn StateStore>,
    criteria: &ResendCriteria,
    results: &mut RunResults,
) -> Result<(), RunError> {
    let outcome = send_levels(session, levels, source, state, criteria, results).await;
    if let Some(state) = state {
        state
            .flush()
            .await
            .map_err(|e| RunError::State(e.to_string()))?;
    }
    outcome
}

async fn send_levels(
    session: &Session<'_>,
    levels: &[Vec<EndpointPlan>],
    source: &dyn DataSource,
    state: Option<&dyn StateStore>,
    criteria: &ResendCriteria,
    results: &mut RunResults,
) -> Result<(), RunError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    for level in levels {
        if level.is_empty() {
            continue;
        }
        // state of every endpoint of the level, and progress totals
        let mut known: Vec<DigestMap<LastOutcome>> = Vec::with_capacity(level.len());
        let mut progress: Vec<Progress> = Vec::with_capacity(level.len());
        let mut files = Vec::new();
        for (i, plan) in level.iter().enumerate() {
            let mut map = DigestMap::default();
            if let Some(state) = state {
                let loaded = state
                    .load(&plan.endpoint)
                    .await
                    .map_err(|e| RunError::State(e.to_string()))?;
                map.reserve(loaded.len());
                for (hash, s) in loaded {
                    if let Ok(h) = u128::from_str_radix(&hash, 16) {
                        map.insert(
                            h,
                            LastOutcome {
                                timestamp: s.timestamp,
                                status: s.status,
                            },
                        );
                    }
                }
            }
            known.push(map);
            let total = count_lines(source, &plan.files).await?;
            progress.push(Progress {
                total,
                done: 0,
                skipped: 0,
                failed: 0,
                statuses: HashMap::new(),
            });
            results.resource_mut(&plan.endpoint);
            session.log(
                LogLevel::Info,
                format!(
                    "sending endpoint {} ({total} payloads) to {} ...",
                    plan.endpoint,
                    session.config.resource_url(&plan.endpoint)
                ),
            );
            session.events.emit(Event::EndpointStarted {
                endpoint: plan.endpoint.clone(),
                total,
            });
            for f in &plan.files {
                files.push((i, f.clone()));
            }
        }
        let urls: Vec<String> = level
            .iter()
            .map(|p| session.config.resource_url(&p.endpoint))
            .collect();
        let lines = file_lines(source, files);
        let known_ref = &known;
        let urls_ref = &urls;
        let mut outcomes = lines
            .map(move |item| {
                let fut: crate::ports::LocalFuture<'_, Result<Outcome, RunError>> =
                    Box::pin(async move {
                        let item = item.map_err(|e| RunError::Read {
                            file: e.file,
                            reason: e.reason,
                        })?;
                        let text = match item.line.text {
                            Ok(t) => t,
                            Err(e) => {
                                return Ok(Outcome::Unreadable {
                                    ep: item.ep,
                                    file: item.file,
                                    line: item.line.number,
                                    message: e.to_string(),
                                })
                            }
                        };
                        let hash = payload_hash_hex(&text);
                        let last = u128::from_str_radix(&hash, 16)
                            .ok()
                            .and_then(|h| known_ref[item.ep].get(&h));
                        if let Decision::Skip = decide(last, criteria) {
                            return Ok(Outcome::Skipped { ep: item.ep });
                        }
                        match session
                            .call(Method::Post, &urls_ref[item.ep], Some(text.as_bytes()))
                            .await
                        {
                            Err(fatal) => Ok(Outcome::Fatal(fatal)),
                            Ok(Ok(resp)) => Ok(Outcome::Response {
                                ep: item.ep,
                                file: item.file,
                                line: item.line.number,
                                hash,
                                status: resp.status,
                                body: resp.body,
                            }),
                            Ok(Err(e)) => Ok(Outcome::NoAnswer {
                                ep: item.ep,
                                file: item.file,
                                line: item.line.number,
                                message: e.to_string(),
                            }),
                        }
                    });
                fut
            })
            .buffer_unordered(pool);
        let mut fatal: Option<RunError> = None;
        while let Some(outcome) = outcomes.next().await {
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    fatal = Some(e);
                    break;
                }
            };
            let ep = match &outcome {
                Outcome::Skipped { ep }
                | Outcome::Unreadable { ep, .. }
                | Outcome::Response { ep, .. }
                | Outcome::NoAnswer { ep, .. } => *ep,
                Outcome::Fatal(e) => {
                    fatal = Some(RunError::Session(e.clone()));
                    break;
                }
            };
            let endpoint = &level[ep].endpoint;
            let res = results.resource_mut(endpoint);
            let p = &mut progress[ep];
            p.done += 1;
            match outcome {
                Outcome::Skipped { .. } => {
                    res.record_skip();
                    p.skipped += 1;
                }
                Outcome::Unreadable {
                    file,
                    line,
                    message,
                    ..
                } => {
                    res.record_failure(FailureKind::Method("read".into()), &[message], &file, line);
                    p.failed += 1;
                }
                Outcome::NoAnswer {
                    file,
                    line,
                    message,
                    ..
                } => {
                    res.record_failure(
                        FailureKind::Method("connection".into()),
                        &[message],
                        &file,
                        line,
                    );
                    p.failed += 1;
                }
                Outcome::Response {
                    file,
                    line,
                    hash,
                    status,
                    body,
                    ..
                } => {
                    *p.statuses.entry(status).or_default() += 1;
                    if is_success(status) {
                        res.record_success(status);
                    } else {
                        let messages = error_messages(status, &body);
                        res.record_failure(FailureKind::Status(status), &messages, &file, line);
                        p.failed += 1;
                    }
                    if let Some(state) = state {
                        state
                            .record(
                                endpoint,
                                &hash,
                                PayloadState {
                                    timestamp: session.clock.now_unix_ms() / 1000,
                                    status,
                                },
                            )
                            .map_err(|e| RunError::State(e.to_string()))?;
                    }
                }
                Outcome::Fatal(_) => unreachable!("handled above"),
            }
            // progress for every 32 payloads and at the end (a bar needs no more)
            if p.done.is_multiple_of(32) || p.done == p.total {
                session.events.emit(Event::Progress {
                    endpoint: endpoint.clone(),
                    done: p.done,
                    skipped: p.skipped,
                    failed: p.failed,
                });
            }
            if p.done == p.total {
                finish_endpoint(session, endpoint, p);
            }
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        for (i, p) in progress.iter().enumerate() {
            if p.done != p.total {
                finish_endpoint(session, &level[i].endpoint, p);
            }
        }
    }
    Ok(())
}

fn finish_endpoint(session: &Session<'_>, endpoint: &str, p: &Progress) {
    let mut statuses: Vec<(u16, u64)> = p.statuses.iter().map(|(k, v)| (*k, *v)).collect();
    statuses.sort();
    let counts: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    if p.skipped > 0 {
        session.log(
            LogLevel::Info,
            format!(
                "skipped {} of {} payloads because they were previously processed and did not match any resend criteria",
                p.skipped, p.total
            ),
        );
    }
    session.log(
        LogLevel::Info,
        format!(
            "finished processing endpoint {endpoint}! (final status counts: {{{}}})",
            counts.join(", ")
        ),
    );
    session.events.emit(Event::EndpointFinished {
        endpoint: endpoint.to_string(),
    });
}

#[cfg(test)]
mod tests {
    //! The send engine in memory: a fake API behind the `Http` port, an instant clock, state and
    //! data in memory. A busy-polling executor runs the futures, natively and in wasm alike.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::config::{Config, LoadOptions};
    use crate::ports::{
        ChunkReader, Clock, EventSink, Http, HttpRequest, HttpResponse, LocalFuture, StoreError,
        TransportError,
    };
    use crate::results::RunMetadata;
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::task::{Context, Poll};
    use std::time::Duration;

    fn run<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// Pending once (after waking itself), then ready: lets other requests interleave.
    struct YieldOnce(bool);
    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    /// Statuses (with a Retry-After) answered in turn to the payloads that contain a text.
    type Script = Vec<(String, Vec<(u16, Option<&'static str>)>)>;

    /// A fake Ed-Fi API: answers by a rule per request, counts concurrency and tokens.
    #[derive(Default)]
    struct FakeApi {
        in_flight: Cell<usize>,
        max_in_flight: Cell<usize>,
        tokens: Cell<u32>,
        posts: RefCell<Vec<(String, String)>>,
        /// (url suffix, body) → scripted statuses, used one by one (then 201)
        script: RefCell<Script>,
        /// token values that are rejected with 401
        expired: RefCell<Vec<String>>,
        /// the time of each POST's start, by endpoint
        log: RefCell<Vec<String>>,
    }

    impl Http for FakeApi {
        fn send(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, TransportError>> {
            Box::pin(async move {
                if req.url.ends_with("/oauth/token") {
                    self.tokens.set(self.tokens.get() + 1);
                    let body = format!("{{\"access_token\":\"t{}\",\"expires_in\":1800,\"token_type\":\"bearer\"}}", self.tokens.get());
                    return Ok(HttpResponse {
                        status: 200,
                        headers: vec![],
                        body: body.into_bytes(),
                    });
                }
                if req.url.ends_with("/dependencies") {
                    let deps = r#"[{"resource":"/ed-fi/students","order":1,"operations":["Create"]},
                        {"resource":"/ed-fi/staffs","order":1,"operations":["Create"]},
                        {"resource":"/ed-fi/studentSchoolAssociations","order":2,"operations":["Create"]}]"#;
                    return Ok(HttpResponse {
                        status: 200,
                        headers: vec![],
                        body: deps.as_bytes().to_vec(),
                    });
                }
                let auth = req
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Authorization")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let body = String::from_utf8(req.body.clone().unwrap_or_default()).unwrap();
                self.in_flight.set(self.in_flight.get() + 1);
                self.max_in_flight
                    .set(self.max_in_flight.get().max(self.in_flight.get()));
                let endpoint = req.url.rsplit('/').next().unwrap().to_string();
                self.log.borrow_mut().push(format!("start {endpoint}"));
                // requests take different times (1 to 4 polls)
                for _ in 0..1 + (body.bytes().map(usize::from).sum::<usize>() % 4) {
                    YieldOnce(false).await;
                }
                self.in_flight.set(self.in_flight.get() - 1);
                self.log.borrow_mut().push(format!("end {endpoint}"));
                if self
                    .expired
                    .borrow()
                    .iter()
                    .any(|t| auth == format!("Bearer {t}"))
                {
                    return Ok(HttpResponse {
                        status: 401,
                        headers: vec![],
                        body: vec![],
                    });
                }
                let mut script = self.script.borrow_mut();
                if let Some((_, statuses)) =
                    script.iter_mut().find(|(k, _)| body.contains(k.as_str()))
                {
                    if !statuses.is_empty() {
                        let (status, retry_after) = statuses.remove(0);
                        let headers = retry_after
                            .map(|v| vec![("Retry-After".to_string(), v.to_string())])
                            .unwrap_or_default();
                        let body =
                            br#"{"detail":"nope","type":"urn:ed-fi:api:system","status":500}"#
                                .to_vec();
                        return Ok(HttpResponse {
                            status,
                            headers,
                            body,
                        });
                    }
                }
                self.posts.borrow_mut().push((endpoint, body));
                Ok(HttpResponse {
                    status: 201,
                    headers: vec![],
                    body: vec![],
                })
            })
        }
    }

    #[derive(Default)]
    struct FakeClock {
        now_ms: Cell<i64>,
        slept: RefCell<Vec<Duration>>,
    }
    impl Clock for FakeClock {
        fn now_unix_ms(&self) -> i64 {
            self.now_ms.set(self.now_ms.get() + 1);
            1_700_000_000_000 + self.now_ms.get()
        }
        fn sleep(&self, d: Duration) -> LocalFuture<'_, ()> {
            self.slept.borrow_mut().push(d);
            self.now_ms.set(self.now_ms.get() + d.as_millis() as i64);
            Box::pin(YieldOnce(false))
        }
        fn random(&self) -> f64 {
            0.5
        }
    }

    struct NoEvents;
    impl EventSink for NoEvents {
        fn emit(&self, _: Event) {}
    }

    #[derive(Default)]
    struct MemState(RefCell<HashMap<(String, String), PayloadState>>);
    impl StateStore for MemState {
        fn load(
            &self,
            endpoint: &str,
        ) -> LocalFuture<'_, Result<HashMap<String, PayloadState>, StoreError>> {
            let m = self
                .0
                .borrow()
                .iter()
                .filter(|((e, _), _)| e == endpoint)
                .map(|((_, h), s)| (h.clone(), *s))
                .collect();
            Box::pin(std::future::ready(Ok(m)))
        }
        fn record(
            &self,
            endpoint: &str,
            hash: &str,
            state: PayloadState,
        ) -> Result<(), StoreError> {
            self.0
                .borrow_mut()
                .insert((endpoint.into(), hash.into()), state);
            Ok(())
        }
        fn remove(&self, endpoint: &str, hash: &str) -> Result<(), StoreError> {
            self.0.borrow_mut().remove(&(endpoint.into(), hash.into()));
            Ok(())
        }
        fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>> {
            self.0.borrow_mut().retain(|(e, _), _| e != endpoint);
            Box::pin(std::future::ready(Ok(())))
        }
        fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>> {
            Box::pin(std::future::ready(Ok(())))
        }
    }

    struct MemFiles(HashMap<String, Vec<u8>>);
    struct MemReader(Option<Vec<u8>>);
    impl ChunkReader for MemReader {
        fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, String>> {
            // in two chunks, split mid-line
            let out = match self.0.take() {
                Some(mut all) if all.len() > 7 => {
                    let rest = all.split_off(7);
                    self.0 = Some(rest);
                    Some(all)
                }
                other => other,
            };
            Box::pin(std::future::ready(Ok(out)))
        }
    }
    impl DataSource for MemFiles {
        fn read(
            &self,
            file: &DataFile,
        ) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, String>> {
            let r = self
                .0
                .get(&file.name)
                .cloned()
                .ok_or_else(|| format!("{}: no such file", file.name));
            Box::pin(std::future::ready(
                r.map(|b| Box::new(MemReader(Some(b))) as Box<dyn ChunkReader>),
            ))
        }
    }

    fn config(pool: u32) -> Config {
        let yaml = format!(
            "edfi_api:\n  base_url: http://api.test\n  oauth_url: http://api.test/oauth/token\n  dependencies_url: http://api.test/metadata/dependencies\n  open_api_metadata_url: http://api.test/metadata/\n  mode: shared_instance\n  client_id: k\n  client_secret: s\nconnection:\n  pool_size: {pool}\n"
        );
        Config::from_yaml(&yaml, &LoadOptions::default()).expect("config")
    }

    fn lines(prefix: &str, n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"{prefix}\":{i}}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    fn plan(endpoints: &[&[&str]]) -> Vec<Vec<EndpointPlan>> {
        endpoints
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|e| EndpointPlan {
                        endpoint: e.to_string(),
                        files: vec![DataFile {
                            endpoint: e.to_string(),
                            name: format!("{e}.jsonl"),
                        }],
                    })
                    .collect()
            })
            .collect()
    }

    fn send_all(
        api: &FakeApi,
        clock: &FakeClock,
        state: &MemState,
        files: &MemFiles,
        levels: &[Vec<EndpointPlan>],
        pool: u32,
    ) -> RunResults {
        let config = config(pool);
        let mut results = RunResults::new(RunMetadata::default());
        run(async {
            let session = Session::connect(&config, api, clock, &NoEvents)
                .await
                .expect("connect");
            send(
                &session,
                levels,
                files,
                Some(state),
                &ResendCriteria::default(),
                &mut results,
            )
            .await
            .expect("send");
        });
        results
    }

    #[test]
    fn sends_every_line_once_with_the_pool_full_and_skips_on_the_next_run() {
        let api = FakeApi::default();
        let (clock, state) = (FakeClock::default(), MemState::default());
        let mut data = lines("student", 40);
        data.extend_from_slice(b"\n\r\n"); // blank lines are not payloads
        let files = MemFiles(HashMap::from([
            ("students.jsonl".to_string(), data),
            ("staffs.jsonl".to_string(), lines("staff", 9)),
        ]));
        let levels = plan(&[&["students", "staffs"]]);
        let results = send_all(&api, &clock, &state, &files, &levels, 4);
        assert_eq!(api.posts.borrow().len(), 49);
        assert_eq!(
            api.max_in_flight.get(),
            4,
            "pool_size requests in flight, never more"
        );
        assert_eq!(api.tokens.get(), 1, "one token for all requests");
        assert_eq!(results.resources["students"].records_processed, 40);
        assert_eq!(results.totals().failed, 0);
        assert_eq!(state.0.borrow().len(), 49);
        // the endpoints of one level overlap: staffs starts before students has finished
        let log = api.log.borrow();
        let first_staff = log.iter().position(|l| l == "start staffs").unwrap();
        let last_student = log.iter().rposition(|l| l == "end students").unwrap();
        assert!(
            first_staff < last_student,
            "no barrier between endpoints of a level: {log:?}"
        );
        drop(log);
        let again = send_all(&api, &clock, &state, &files, &levels, 4);
        assert_eq!(api.posts.borrow().len(), 49, "nothing sent again");
        assert_eq!(again.totals().skipped, 49);
    }

    #[test]
    fn retries_honour_retry_after_and_a_failure_is_resent_next_time() {
        let api = FakeApi::default();
        api.script
            .borrow_mut()
            .push(("\"student\":3}".into(), vec![(429, Some("7")), (503, None)]));
        api.script
            .borrow_mut()
            .push(("\"student\":5}".into(), vec![(409, None)]));
        let (clock, state) = (FakeClock::default(), MemState::default());
        let files = MemFiles(HashMap::from([(
            "students.jsonl".to_string(),
            lines("student", 10),
        )]));
        let levels = plan(&[&["students"]]);
        let results = send_all(&api, &clock, &state, &files, &levels, 3);
        let r = &results.resources["students"];
        assert_eq!(
            (r.records_processed, r.records_failed),
            (10, 1),
            "the 429 and 503 were retried; the 409 is final"
        );
        let f = &r.failures()[0];
        assert_eq!(
            (f.kind.clone(), f.line_numbers.clone()),
            (FailureKind::Status(409), vec![6])
        );
        assert!(
            clock
                .slept
                .borrow()
                .iter()
                .any(|d| *d >= Duration::from_secs(7)),
            "Retry-After: 7 honoured"
        );
        assert_eq!(api.posts.borrow().len(), 9);
        // a plain rerun sends the failed payload (it now succeeds) and skips the others
        let again = send_all(&api, &clock, &state, &files, &levels, 3);
        assert_eq!(again.resources["students"].records_skipped, 9);
        assert_eq!(api.posts.borrow().len(), 10);
    }

    #[test]
    fn a_401_renews_the_token_once_for_all_requests() {
        let api = FakeApi::default();
        api.expired.borrow_mut().push("t1".into());
        let (clock, state) = (FakeClock::default(), MemState::default());
        let files = MemFiles(HashMap::from([(
            "students.jsonl".to_string(),
            lines("student", 20),
        )]));
        let results = send_all(&api, &clock, &state, &files, &plan(&[&["students"]]), 8);
        assert_eq!(results.totals().failed, 0);
        assert_eq!(api.posts.borrow().len(), 20);
        assert_eq!(
            api.tokens.get(),
            2,
            "eight requests saw a 401 with t1; one new token"
        );
    }

    #[test]
    fn a_level_starts_after_the_previous_one_has_finished() {
        let api = FakeApi::default();
        api.script.borrow_mut().push((
            "\"student\":0}".into(),
            vec![(500, None), (500, None), (500, None)],
        ));
        let (clock, state) = (FakeClock::default(), MemState::default());
        let files = MemFiles(HashMap::from([
            ("students.jsonl".to_string(), lines("student", 5)),
            (
                "studentSchoolAssociations.jsonl".to_string(),
                lines("ssa", 5),
            ),
        ]));
        send_all(
            &api,
            &clock,
            &state,
            &files,
            &plan(&[&["students"], &["studentSchoolAssociations"]]),
            8,
        );
        let log = api.log.borrow();
        let last_student = log.iter().rposition(|l| l == "end students").unwrap();
        let first_ssa = log
            .iter()
            .position(|l| l == "start studentSchoolAssociations")
            .unwrap();
        assert!(
            last_student < first_ssa,
            "retries of level 1 finish before level 2 starts"
        );
    }
}
