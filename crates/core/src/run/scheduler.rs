//! One scheduler for the commands that act on payloads or records one at a time: `send`,
//! `delete`, `truncate`. Each is a [`Task`]: how to prepare an endpoint, which work items it
//! has, what one item does, how an endpoint ends. The scheduler does the rest alike for all:
//!
//! - endpoints go in the stages a [`ReleaseOrder`] makes of the dependency levels (a stage's
//!   endpoints are prepared together, and a stage starts when the previous one has finished,
//!   retries included);
//! - in a stage, the items of all its endpoints share one stream with `pool_size` in flight (no
//!   barrier between endpoints of a stage);
//! - each item's outcome is recorded as it arrives: in the results, in its endpoint's progress
//!   (an event every 32 items and at the end, with the API's pushback when it changed), in the
//!   state store; an endpoint ends when its last item is in (or when the stage ends);
//! - the state store is flushed at the end, also after an error that stops the run.

use super::RunError;
use crate::api::session::Session;
use crate::ports::{Digest, Event, LogLevel, PayloadState, Pressure, StateStore};
use crate::results::{FailureKind, RunResults};
use futures::future::poll_fn;
use futures::stream::{FuturesUnordered, LocalBoxStream, StreamExt};
use indexmap::IndexMap;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::Poll;

/// The order in which the scheduler releases work, as stages of dependency levels.
pub trait ReleaseOrder {
    /// The indexes of `levels` dependency levels, grouped in the stages they run in, in order.
    fn stages(&self, levels: usize) -> Vec<Vec<usize>>;
}

/// Dependency levels one after another: forward to create (`send`), in reverse to delete; or
/// all of them in one stage, in dependency order, when the task orders the items itself
/// (`send.order: records`, see [`super::order`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelOrder {
    Forward,
    Reverse,
    OneStage,
}

impl ReleaseOrder for LevelOrder {
    fn stages(&self, levels: usize) -> Vec<Vec<usize>> {
        if *self == LevelOrder::OneStage {
            return vec![(0..levels).collect()];
        }
        let mut stages: Vec<Vec<usize>> = (0..levels).map(|l| vec![l]).collect();
        if *self == LevelOrder::Reverse {
            stages.reverse();
        }
        stages
    }
}

/// An endpoint a task has prepared.
pub(crate) struct Prepared<E> {
    pub endpoint: String,
    /// How many items it has (for progress).
    pub total: u64,
    pub ctx: E,
}

/// One work item, where it comes from: a line of a file, or a record's position in a listing.
pub(crate) struct Work<I> {
    /// Index of its endpoint in the stage.
    pub ep: usize,
    pub file: Rc<str>,
    pub line: u64,
    pub item: I,
}

/// How an item ended.
#[derive(Debug)]
pub(crate) enum Settled {
    /// The API said yes.
    Done { status: u16 },
    /// Nothing to do (already sent, not found...), with the reason worth reporting.
    Skipped { reason: Option<String> },
    Failed {
        kind: FailureKind,
        messages: Vec<String>,
    },
}

/// What an item's outcome changes in the state store.
#[derive(Debug)]
pub(crate) enum StateChange {
    Keep,
    /// The payload's last outcome is this status, now.
    Record(Digest, u16),
    /// The payload is not in the API (any more).
    Forget(Digest),
}

/// An item's outcome.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub settled: Settled,
    pub state: StateChange,
}

impl Outcome {
    pub fn new(settled: Settled) -> Outcome {
        Outcome {
            settled,
            state: StateChange::Keep,
        }
    }

    pub fn failed(kind: impl Into<FailureKind>, message: impl Into<String>) -> Outcome {
        Outcome::new(Settled::Failed {
            kind: kind.into(),
            messages: vec![message.into()],
        })
    }

    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome::new(Settled::Skipped {
            reason: Some(reason.into()),
        })
    }

    pub fn with_state(mut self, state: StateChange) -> Outcome {
        self.state = state;
        self
    }
}

/// The progress of one endpoint.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub total: u64,
    pub done: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Skips by reason, in the order first seen.
    pub reasons: IndexMap<String, u64>,
    finished: bool,
}

/// Skipped payloads of one endpoint, file and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipGroup {
    pub endpoint: String,
    pub reason: String,
    pub file: String,
    /// Sorted, 1-based.
    pub line_numbers: Vec<u64>,
}

/// An item taken in: its outcome now, or what to process.
pub(crate) enum Admission<R> {
    Now(Outcome),
    Later(R),
}

/// What a command does, endpoint by endpoint and item by item.
pub(crate) trait Task {
    /// What the task knows of a prepared endpoint (its URL, its payloads' last outcomes...).
    type Ctx;
    /// One unit of work (a payload line, a record id).
    type Item;
    /// An item as [`Task::admit`] makes it when the scheduler takes it from the stream.
    type Ready;

    /// Prepares an endpoint before its stage starts (and logs it); `None` when it has nothing to
    /// do (its failure, if any, is in `results`).
    async fn prepare(
        &self,
        endpoint: &str,
        results: &mut RunResults,
    ) -> Result<Option<Prepared<Self::Ctx>>, RunError>;

    /// The work items of a stage's endpoints, in order.
    fn items<'s>(
        &'s self,
        stage: &'s [Prepared<Self::Ctx>],
    ) -> LocalBoxStream<'s, Result<Work<Self::Item>, RunError>>;

    /// Takes an item in, at once and in stream order (a task that orders items by what they
    /// need registers here what each one is); an item whose outcome is known at once (a payload
    /// already sent, a line that cannot be read) is recorded without more ado.
    fn admit(&self, ctx: &Self::Ctx, item: Self::Item) -> Admission<Self::Ready>;

    /// How many admitted items are waiting for others to finish: they do not count as in
    /// progress (nor do those waiting for their next attempt), so the scheduler takes more items
    /// meanwhile (up to [`PARKED_MAX`] in all).
    fn waiting(&self) -> usize {
        0
    }

    /// Does one item.
    async fn process(&self, ctx: &Self::Ctx, item: Self::Ready) -> Result<Outcome, RunError>;

    /// The end of an endpoint: its closing log lines (see [`log_finished`]).
    async fn finish(&self, endpoint: &Prepared<Self::Ctx>, tally: &Tally) -> Result<(), RunError>;
}

/// At most this many items are taken in at once, waiting ones included.
pub(crate) const PARKED_MAX: usize = 8192;

/// The Python tool's closing line of an endpoint.
pub(crate) fn log_finished(session: &Session<'_>, endpoint: &str, tally: &Tally) {
    let counts: Vec<String> = tally
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    session.log(
        LogLevel::Info,
        format!(
            "finished processing endpoint {endpoint}! (final status counts: {{{}}})",
            counts.join(", ")
        ),
    );
}

/// Runs `task` over the endpoints of `levels` (dependency levels, in dependency order) in the
/// stages `order` makes; returns the skips worth reporting. The state store is flushed at the
/// end, also after an error.
pub(crate) async fn run<T: Task>(
    task: &T,
    session: &Session<'_>,
    order: &dyn ReleaseOrder,
    levels: &[Vec<String>],
    state: Option<&dyn StateStore>,
    results: &mut RunResults,
) -> Result<Vec<SkipGroup>, RunError> {
    let mut runner = Runner {
        task,
        session,
        state,
        skips: Vec::new(),
        pressure: Cell::default(),
    };
    let mut outcome = Ok(());
    for stage in order.stages(levels.len()) {
        let endpoints: Vec<&str> = stage
            .iter()
            .flat_map(|l| levels[*l].iter().map(String::as_str))
            .collect();
        outcome = runner.stage(&endpoints, results).await;
        if outcome.is_err() {
            break;
        }
    }
    if let Some(state) = state {
        state.flush().await?;
    }
    outcome.map(|()| runner.skips)
}

/// One admitted item, processed.
async fn process<'a, T: Task>(
    task: &'a T,
    stage: &'a [Prepared<T::Ctx>],
    ep: usize,
    file: Rc<str>,
    line: u64,
    ready: T::Ready,
) -> Result<(usize, Rc<str>, u64, Outcome), RunError> {
    let outcome = task.process(&stage[ep].ctx, ready).await?;
    Ok((ep, file, line, outcome))
}

struct Runner<'r, 's, T> {
    task: &'r T,
    session: &'r Session<'s>,
    state: Option<&'r dyn StateStore>,
    skips: Vec<SkipGroup>,
    /// The API's pushback as last reported.
    pressure: Cell<Pressure>,
}

impl<T: Task> Runner<'_, '_, T> {
    async fn stage(
        &mut self,
        endpoints: &[&str],
        results: &mut RunResults,
    ) -> Result<(), RunError> {
        let mut prepared = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            results.resource_mut(endpoint);
            if let Some(p) = self.task.prepare(endpoint, results).await? {
                self.session.events.emit(Event::EndpointStarted {
                    endpoint: p.endpoint.clone(),
                    total: p.total,
                });
                prepared.push(p);
            }
        }
        let mut tallies: Vec<Tally> = prepared
            .iter()
            .map(|p| Tally {
                total: p.total,
                ..Tally::default()
            })
            .collect();
        let mut groups: IndexMap<(usize, String, Rc<str>), Vec<u64>> = IndexMap::new();
        // `pool_size` requests on the wire (the session's flow); a few times more items under
        // way, so that the wire stays full while answers are read and outcomes recorded
        let pool = self.session.config.connection.pool_size.max(1) as usize;
        let in_progress = pool * 4 + 16;
        let task = self.task;
        let stage = &prepared;
        let mut items = task.items(stage);
        let mut running = FuturesUnordered::new();
        let mut exhausted = false;
        // items waiting for others, or for their next attempt, are not under way
        let flow = self.session.flow();
        let parked = || task.waiting() + flow.pressure().waiting_retries;
        loop {
            let next = poll_fn(|cx| {
                // take items while fewer than `in_progress` are under way (items waiting for
                // others aside), in stream order
                while !exhausted
                    && running.len() - parked().min(running.len()) < in_progress
                    && running.len() < PARKED_MAX
                {
                    match items.poll_next_unpin(cx) {
                        Poll::Ready(Some(Ok(work))) => {
                            match task.admit(&stage[work.ep].ctx, work.item) {
                                Admission::Now(outcome) => {
                                    return Poll::Ready(Some(Ok((
                                        work.ep, work.file, work.line, outcome,
                                    ))))
                                }
                                Admission::Later(ready) => running.push(process(
                                    task, stage, work.ep, work.file, work.line, ready,
                                )),
                            }
                        }
                        Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                        Poll::Ready(None) => exhausted = true,
                        Poll::Pending => break,
                    }
                }
                match running.poll_next_unpin(cx) {
                    Poll::Ready(Some(r)) => Poll::Ready(Some(r)),
                    Poll::Ready(None) if exhausted => Poll::Ready(None),
                    _ => Poll::Pending,
                }
            })
            .await;
            let Some(next) = next else { break };
            let (ep, file, line, outcome) = next?;
            let p = &stage[ep];
            let tally = &mut tallies[ep];
            if let Some(reason) = self.record(p, tally, &file, line, outcome, results)? {
                groups.entry((ep, reason, file)).or_default().push(line);
            }
            if tally.done.is_multiple_of(32) || tally.done == tally.total {
                self.progress(p, tally);
            }
            if tally.done == tally.total {
                self.finish(p, tally).await?;
            }
        }
        drop(running);
        drop(items);
        for (p, tally) in stage.iter().zip(tallies.iter_mut()) {
            if !tally.finished {
                self.progress(p, tally);
                self.finish(p, tally).await?;
            }
        }
        for ((ep, reason, file), mut line_numbers) in groups {
            line_numbers.sort_unstable();
            self.skips.push(SkipGroup {
                endpoint: stage[ep].endpoint.clone(),
                reason,
                file: file.to_string(),
                line_numbers,
            });
        }
        Ok(())
    }

    /// Records an outcome; returns the reason of a skip that has one.
    fn record(
        &self,
        p: &Prepared<T::Ctx>,
        tally: &mut Tally,
        file: &str,
        line: u64,
        outcome: Outcome,
        results: &mut RunResults,
    ) -> Result<Option<String>, RunError> {
        let res = results.resource_mut(&p.endpoint);
        let mut reason_of_skip = None;
        tally.done += 1;
        match outcome.settled {
            Settled::Done { status } => {
                *tally.statuses.entry(status).or_default() += 1;
                res.record_success(status);
            }
            Settled::Skipped { reason } => {
                tally.skipped += 1;
                res.record_skip();
                if let Some(r) = reason {
                    *tally.reasons.entry(r.clone()).or_default() += 1;
                    reason_of_skip = Some(r);
                }
            }
            Settled::Failed { kind, messages } => {
                if let FailureKind::Status(s) = kind {
                    *tally.statuses.entry(s).or_default() += 1;
                }
                tally.failed += 1;
                res.record_failure(kind, &messages, file, line);
            }
        }
        if let Some(state) = self.state {
            match outcome.state {
                StateChange::Keep => {}
                StateChange::Record(digest, status) => {
                    let timestamp = self.session.clock.now_unix_ms() / 1000;
                    state.record(&p.endpoint, digest, PayloadState { timestamp, status })?;
                }
                StateChange::Forget(digest) => state.remove(&p.endpoint, digest)?,
            }
        }
        Ok(reason_of_skip)
    }

    fn progress(&self, p: &Prepared<T::Ctx>, tally: &Tally) {
        self.session.events.emit(Event::Progress {
            endpoint: p.endpoint.clone(),
            done: tally.done,
            skipped: tally.skipped,
            failed: tally.failed,
        });
        let now = self.session.flow().pressure();
        if now.differs(&self.pressure.get()) {
            self.pressure.set(now);
            self.session.events.emit(Event::Pressure(now));
        }
    }

    async fn finish(&self, p: &Prepared<T::Ctx>, tally: &mut Tally) -> Result<(), RunError> {
        tally.finished = true;
        self.task.finish(p, tally).await?;
        self.session.events.emit(Event::EndpointFinished {
            endpoint: p.endpoint.clone(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn level_orders() {
        assert_eq!(
            LevelOrder::Forward.stages(3),
            vec![vec![0], vec![1], vec![2]]
        );
        assert_eq!(
            LevelOrder::Reverse.stages(3),
            vec![vec![2], vec![1], vec![0]]
        );
        assert!(LevelOrder::Reverse.stages(0).is_empty());
        assert_eq!(LevelOrder::OneStage.stages(3), vec![vec![0, 1, 2]]);
    }
}
