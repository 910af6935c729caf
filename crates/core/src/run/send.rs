//! `send`: POST every selected payload in dependency order with `pool_size` requests on the wire
//! (the [`scheduler`](super::scheduler)). With `send.order: records` (the default) and the API's
//! model known, all levels run as one stage and each payload waits only for the payloads of this
//! run it needs ([`super::order`]); with `send.order: levels`, a level starts when the previous
//! one has finished. A payload whose last outcome was a success is skipped unless a resend flag
//! selects it ([`crate::state::decide`]); outcomes go to the state store as they arrive.

use super::order::{Admitted, RecordOrder};
use super::payloads::Payloads;
use super::scheduler::{
    self, log_finished, Admission, LevelOrder, Outcome, Prepared, Settled, StateChange, Task, Work,
};
use super::RunError;
use crate::api::errors::error_messages;
use crate::api::openapi::Model;
use crate::data::lines::LineError;
use crate::ports::{DataFile, Digest, DigestMap, LogLevel, Method, PayloadState};
use crate::results::{FailureMethod, RunResults};
use crate::state::{decide, is_success, Decision};
use futures::stream::{self, LocalBoxStream, StreamExt};
use std::cell::RefCell;
use std::collections::HashMap;

/// Sends the payloads of `p.data` (its levels in dependency order), in record order when `model`
/// is given, else level by level. Results accumulate in `results`; state is recorded as outcomes
/// arrive and flushed at the end (also after an error that stops the run).
pub async fn send(
    p: &Payloads<'_, '_>,
    model: Option<&Model>,
    results: &mut RunResults,
) -> Result<(), RunError> {
    let levels = p.data.level_names();
    let order = model.map(RecordOrder::new);
    let level_of: HashMap<&str, usize> = levels
        .iter()
        .enumerate()
        .flat_map(|(l, eps)| eps.iter().map(move |e| (e.as_str(), l)))
        .collect();
    let task = Send {
        p,
        order: order.as_ref(),
        level_of,
    };
    let release = match order {
        Some(_) => LevelOrder::OneStage,
        None => LevelOrder::Forward,
    };
    scheduler::run(&task, p.session, &release, &levels, p.state, results).await?;
    Ok(())
}

struct Send<'a, 'b, 's> {
    p: &'a Payloads<'b, 's>,
    order: Option<&'a RecordOrder<'a>>,
    level_of: HashMap<&'a str, usize>,
}

struct Endpoint {
    url: String,
    files: Vec<DataFile>,
    /// The last outcome of every payload the state knows: loaded when the endpoint's lines
    /// begin, dropped when it has finished (a run of a million payloads keeps no more than the
    /// endpoints under way).
    known: RefCell<Option<DigestMap<PayloadState>>>,
    /// Its number in the record order.
    ordered: Option<usize>,
}

/// A payload to POST, as the scheduler takes it in.
struct Payload<'o> {
    text: String,
    digest: Digest,
    /// Its place in the record order (it leaves it when dropped).
    admitted: Option<InOrder<'o>>,
}

/// A payload admitted to the record order; finished when dropped, whatever became of it.
struct InOrder<'o> {
    order: &'o RecordOrder<'o>,
    admitted: Admitted,
}

impl Drop for InOrder<'_> {
    fn drop(&mut self) {
        self.order.finished(&self.admitted);
    }
}

impl<'a> Task for Send<'a, '_, '_> {
    type Ctx = Endpoint;
    type Item = Result<String, LineError>;
    type Ready = Payload<'a>;

    async fn prepare(
        &self,
        endpoint: &str,
        _results: &mut RunResults,
    ) -> Result<Option<Prepared<Endpoint>>, RunError> {
        let p = self.p;
        let (files, total) = p.files(endpoint).await?;
        let config = p.session.config;
        let url = p.session.resource_url(endpoint);
        p.session.log(
            LogLevel::Info,
            format!("sending endpoint {endpoint} ({total} payloads) to {url} ..."),
        );
        let ordered = self.order.map(|o| {
            let level = self.level_of.get(endpoint).copied().unwrap_or(0);
            o.add_endpoint(config.namespace_for(endpoint), endpoint, level)
        });
        Ok(Some(Prepared {
            endpoint: endpoint.to_string(),
            total,
            ctx: Endpoint {
                url,
                files,
                known: RefCell::new(None),
                ordered,
            },
        }))
    }

    fn items<'s>(
        &'s self,
        stage: &'s [Prepared<Endpoint>],
    ) -> LocalBoxStream<'s, Result<Work<Self::Item>, RunError>> {
        let p = self.p;
        stream::iter(stage.iter().enumerate())
            .then(move |(ep, e)| async move {
                let known = p.known(&e.endpoint).await?;
                *e.ctx.known.borrow_mut() = Some(known);
                Ok::<_, RunError>(p.lines_of(ep, &e.ctx.files))
            })
            .flat_map(|lines| match lines {
                Ok(lines) => lines,
                Err(e) => stream::once(async { Err(e) }).boxed_local(),
            })
            .boxed_local()
    }

    fn admit(&self, ctx: &Endpoint, text: Result<String, LineError>) -> Admission<Payload<'a>> {
        let text = match text {
            Ok(t) => t,
            Err(e) => return Admission::Now(Outcome::failed(FailureMethod::Read, e.to_string())),
        };
        let digest = Digest::of_line(&text);
        let known = ctx.known.borrow();
        let last = known.as_ref().and_then(|k| k.get(&digest));
        if let Decision::Skip = decide(last, self.p.criteria) {
            return Admission::Now(Outcome::new(Settled::Skipped { reason: None }));
        }
        // only payloads that go out are read as JSON (a line that is not JSON goes as it is,
        // and the API says what is wrong with it)
        drop(known);
        let admitted = match (self.order, ctx.ordered) {
            (Some(order), Some(ep)) => serde_json::from_str(&text).ok().map(|v| InOrder {
                order,
                admitted: order.admit(ep, &v),
            }),
            _ => None,
        };
        Admission::Later(Payload {
            text,
            digest,
            admitted,
        })
    }

    fn waiting(&self) -> usize {
        self.order.map_or(0, RecordOrder::waiting)
    }

    async fn process(&self, ctx: &Endpoint, payload: Payload<'a>) -> Result<Outcome, RunError> {
        let Payload {
            text,
            digest,
            admitted,
        } = payload;
        if let Some(a) = &admitted {
            a.order.ready(&a.admitted).await;
        }
        let resp = match self
            .p
            .session
            .call(Method::Post, &ctx.url, Some(text.as_bytes()))
            .await?
        {
            Ok(resp) => resp,
            Err(e) => return Ok(Outcome::failed(FailureMethod::Connection, e.to_string())),
        };
        drop(admitted);
        let settled = if is_success(resp.status) {
            Settled::Done {
                status: resp.status,
            }
        } else {
            Settled::Failed {
                kind: crate::results::FailureKind::Status(resp.status),
                messages: error_messages(resp.status, &resp.body),
            }
        };
        Ok(Outcome::new(settled).with_state(StateChange::Record(digest, resp.status)))
    }

    async fn finish(
        &self,
        p: &Prepared<Endpoint>,
        tally: &scheduler::Tally,
    ) -> Result<(), RunError> {
        if tally.skipped > 0 {
            self.p.session.log(
                LogLevel::Info,
                format!(
                    "skipped {} of {} payloads because they were previously processed and did not match any resend criteria",
                    tally.skipped, tally.total
                ),
            );
        }
        log_finished(self.p.session, &p.endpoint, tally);
        p.ctx.known.borrow_mut().take();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The send engine in memory: a fake API behind the `Http` port, an instant clock, state and
    //! data in memory (the `testing` kit).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::api::session::Session;
    use crate::config::{Config, LoadOptions};
    use crate::data::plan::DataPlan;
    use crate::data::plan::EndpointPlan;
    use crate::ports::{Event, EventSink};
    use crate::results::{FailureKind, RunMetadata};
    use crate::state::ResendCriteria;
    use crate::testing::{block_on, FakeApi, FakeClock, MemFiles, MemState};
    use std::time::Duration;

    struct NoEvents;
    impl EventSink for NoEvents {
        fn emit(&self, _: Event) {}
    }

    fn lines(prefix: &str, n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"{prefix}\":{i}}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    fn plan(endpoints: &[&[&str]]) -> DataPlan {
        DataPlan {
            levels: endpoints
                .iter()
                .map(|level| {
                    level
                        .iter()
                        .map(|e| EndpointPlan {
                            endpoint: e.to_string(),
                            files: vec![DataFile {
                                endpoint: e.to_string(),
                                path: format!("{e}.jsonl"),
                                name: format!("{e}.jsonl"),
                            }],
                        })
                        .collect()
                })
                .collect(),
            ..DataPlan::default()
        }
    }

    fn send_all(
        api: &FakeApi,
        clock: &FakeClock,
        state: &MemState,
        files: &MemFiles,
        data: &DataPlan,
        pool: u32,
    ) -> RunResults {
        let config = Config::from_yaml(&FakeApi::config_yaml(pool), &LoadOptions::default())
            .expect("config");
        let mut results = RunResults::new(RunMetadata::default());
        block_on(async {
            let session = Session::connect(&config, api, clock, &NoEvents)
                .await
                .expect("connect");
            let payloads = Payloads {
                session: &session,
                data,
                source: files,
                state: Some(state),
                criteria: &ResendCriteria::default(),
            };
            send(&payloads, None, &mut results).await.expect("send");
        });
        results
    }

    #[test]
    fn sends_every_line_once_with_the_pool_full_and_skips_on_the_next_run() {
        let api = FakeApi::default();
        let (clock, state) = (FakeClock::default(), MemState::default());
        let mut data = lines("student", 40);
        data.extend_from_slice(b"\n\r\n"); // blank lines are not payloads
        let files = MemFiles::new()
            .with("students.jsonl", data)
            .with("staffs.jsonl", lines("staff", 9));
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
        assert_eq!(state.len(), 49);
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
        let files = MemFiles::new().with("students.jsonl", lines("student", 10));
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
            (f.kind, f.line_numbers.clone()),
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
        let files = MemFiles::new().with("students.jsonl", lines("student", 20));
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
        let files = MemFiles::new()
            .with("students.jsonl", lines("student", 5))
            .with("studentSchoolAssociations.jsonl", lines("ssa", 5));
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

    #[test]
    fn a_payload_waiting_for_its_retry_leaves_its_place_on_the_wire() {
        let api = FakeApi::default();
        api.script
            .borrow_mut()
            .push(("\"student\":0}".into(), vec![(503, Some("5"))]));
        let (clock, state) = (FakeClock::default(), MemState::default());
        let files = MemFiles::new().with("students.jsonl", lines("student", 12));
        let results = send_all(&api, &clock, &state, &files, &plan(&[&["students"]]), 2);
        assert_eq!(results.totals().failed, 0);
        assert!(api.max_in_flight.get() <= 2, "pool_size never exceeded");
        let starts = api.starts.borrow();
        let is_0 = |b: &String| b.contains("\"student\":0}");
        let first = starts.iter().position(|(b, _)| is_0(b)).unwrap();
        let retry = starts.iter().rposition(|(b, _)| is_0(b)).unwrap();
        let meanwhile = &starts[first + 1..retry];
        assert_eq!(
            meanwhile.len(),
            11,
            "the others went out while it waited 5 s"
        );
        assert!(
            meanwhile.iter().any(|(_, on_the_wire)| *on_the_wire == 2),
            "two at a time, its place taken by others: {meanwhile:?}"
        );
    }

    #[test]
    fn frequent_429s_slow_everyone_down_and_a_sporadic_one_is_retried_alone() {
        // one 429: retried alone, nothing else changes
        let api = FakeApi::default();
        api.script
            .borrow_mut()
            .push(("\"student\":8}".into(), vec![(429, Some("1"))]));
        let (clock, state) = (FakeClock::default(), MemState::default());
        let files = MemFiles::new().with("students.jsonl", lines("student", 200));
        let results = send_all(&api, &clock, &state, &files, &plan(&[&["students"]]), 8);
        assert_eq!(results.totals().failed, 0);
        assert_eq!(api.posts.borrow().len(), 200);
        assert_eq!(
            clock.slept.borrow().len(),
            1,
            "only its own wait for a retry"
        );
        // every fifth payload refused once: the API limits the rate; everyone is paced
        let api = FakeApi::default();
        for i in (0..200).step_by(5) {
            api.script
                .borrow_mut()
                .push((format!("\"student\":{i}}}"), vec![(429, Some("1"))]));
        }
        let (clock, state) = (FakeClock::default(), MemState::default());
        let results = send_all(&api, &clock, &state, &files, &plan(&[&["students"]]), 8);
        assert_eq!(results.totals().failed, 0, "every payload landed");
        assert_eq!(api.posts.borrow().len(), 200);
        // (the fake clock's time is sequential, so rates are not measured here: flow.rs is)
        let waits = clock.slept.borrow().len();
        assert!(
            waits > 40 + 20,
            "besides the 40 waits for a retry, requests waited for their turn: {waits}"
        );
    }
}
