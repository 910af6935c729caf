//! `send`: POST every selected payload in dependency order with `pool_size` requests in flight at
//! every moment. Endpoints of one dependency level share one stream of requests (no barriers
//! between them); a level starts when everything of the previous level is finished, retries
//! included. Outcomes go to the state store as they arrive.

use crate::api_errors::error_messages;
use crate::datafiles::{LineSplitter, OwnedLine};
use crate::hashing::{decide, is_success, payload_hash_hex, Decision, LastOutcome, ResendCriteria};
use crate::ports::{
    ChunkReader, DataFile, DataSource, Event, LogLevel, Method, PayloadState, StateStore,
};
use crate::results::{FailureKind, RunResults};
use crate::session::{Session, SessionError};
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// One endpoint with its data files.
#[derive(Debug, Clone)]
pub struct EndpointPlan {
    pub endpoint: String,
    pub files: Vec<DataFile>,
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

/// A line to process.
struct Item {
    ep: usize,
    file: Rc<str>,
    line: OwnedLine,
}

/// Reads the files of a level one after another, as lines.
/// The file being read: endpoint index, name, reader, splitter.
type OpenFile<'x> = (usize, Rc<str>, Box<dyn ChunkReader + 'x>, LineSplitter);

struct LineProducer<'x> {
    source: &'x dyn DataSource,
    files: VecDeque<(usize, DataFile)>,
    current: Option<OpenFile<'x>>,
    pending: VecDeque<Item>,
}

impl<'x> LineProducer<'x> {
    async fn next(&mut self) -> Option<Result<Item, RunError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if self.current.is_none() {
                let (ep, file) = self.files.pop_front()?;
                match self.source.read(&file).await {
                    Ok(reader) => {
                        self.current = Some((
                            ep,
                            Rc::from(file.name.as_str()),
                            reader,
                            LineSplitter::new(),
                        ));
                    }
                    Err(reason) => {
                        return Some(Err(RunError::Read {
                            file: file.name.clone(),
                            reason,
                        }))
                    }
                }
            }
            let (ep, name, reader, splitter) = self.current.as_mut().expect("set above");
            match reader.next_chunk().await {
                Ok(Some(chunk)) => {
                    for line in splitter.push(&chunk) {
                        self.pending.push_back(Item {
                            ep: *ep,
                            file: name.clone(),
                            line,
                        });
                    }
                }
                Ok(None) => {
                    for line in splitter.finish() {
                        self.pending.push_back(Item {
                            ep: *ep,
                            file: name.clone(),
                            line,
                        });
                    }
                    self.current = None;
                }
                Err(reason) => {
                    let file = name.to_string();
                    self.current = None;
                    return Some(Err(RunError::Read { file, reason }));
                }
            }
        }
    }
}

/// Count the non-blank lines of files (for progress totals).
pub async fn count_lines(source: &dyn DataSource, files: &[DataFile]) -> Result<u64, RunError> {
    let mut n = 0;
    for f in files {
        let mut reader = source.read(f).await.map_err(|reason| RunError::Read {
            file: f.name.clone(),
            reason,
        })?;
        let mut splitter = LineSplitter::new();
        while let Some(chunk) = reader.next_chunk().await.map_err(|reason| RunError::Read {
            file: f.name.clone(),
            reason,
        })? {
            n += splitter.push(&chunk).len() as u64;
        }
        n += splitter.finish().len() as u64;
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
        let mut known: Vec<HashMap<u128, LastOutcome>> = Vec::with_capacity(level.len());
        let mut progress: Vec<Progress> = Vec::with_capacity(level.len());
        let mut files = VecDeque::new();
        for (i, plan) in level.iter().enumerate() {
            let mut map = HashMap::new();
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
                files.push_back((i, f.clone()));
            }
        }
        let urls: Vec<String> = level
            .iter()
            .map(|p| session.config.resource_url(&p.endpoint))
            .collect();
        let producer = LineProducer {
            source,
            files,
            current: None,
            pending: VecDeque::new(),
        };
        let lines = Box::pin(stream::unfold(producer, |mut p| async move {
            p.next().await.map(|item| (item, p))
        }));
        let known_ref = &known;
        let urls_ref = &urls;
        let mut outcomes = lines
            .map(move |item| {
                let fut: crate::ports::LocalFuture<'_, Result<Outcome, RunError>> =
                    Box::pin(async move {
                        let item = item?;
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
            session.events.emit(Event::Progress {
                endpoint: endpoint.clone(),
                done: p.done,
                skipped: p.skipped,
                failed: p.failed,
            });
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
