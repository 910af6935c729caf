//! `truncate`: delete every record of the selected endpoints, with the
//! [`scheduler`](super::scheduler) in reverse dependency order: all ids of a level's endpoints
//! are listed first (paging while deleting would skip records), then DELETEd `pool_size` at a
//! time. The state of each truncated endpoint is cleared (its payloads are not in the API any
//! more, so a later `send` sends them again).

use super::paging::{fetch_all, Pager, MAX_PAGE_SIZE};
use super::scheduler::{
    self, log_finished, Admission, LevelOrder, Outcome, Prepared, Settled, Tally, Task, Work,
};
use super::RunError;
use crate::api::errors::error_messages;
use crate::api::session::Session;
use crate::ports::{LogLevel, Method, StateStore};
use crate::results::{FailureKind, FailureMethod, RunResults};
use crate::state::is_success;
use futures::stream::{self, LocalBoxStream, StreamExt};
use serde_json::Value;
use std::rc::Rc;

/// Truncates the endpoints of `levels` (dependency levels in dependency order; processed in
/// reverse). In the results, each record is one payload: a success per deleted record, a failure
/// (file: the endpoint's URL, line: the record's position in the listing) per record not deleted.
pub async fn truncate(
    session: &Session<'_>,
    pager: &Pager,
    levels: &[Vec<String>],
    state: Option<&dyn StateStore>,
    results: &mut RunResults,
) -> Result<(), RunError> {
    let task = Truncate {
        session,
        pager,
        state,
    };
    scheduler::run(&task, session, &LevelOrder::Reverse, levels, state, results).await?;
    Ok(())
}

struct Truncate<'a, 's> {
    session: &'a Session<'s>,
    pager: &'a Pager,
    state: Option<&'a dyn StateStore>,
}

/// An endpoint's URL and the ids of all its records.
struct Listed {
    url: Rc<str>,
    ids: Vec<String>,
}

impl Task for Truncate<'_, '_> {
    type Ctx = Listed;
    type Item = String;
    type Ready = String;

    async fn prepare(
        &self,
        endpoint: &str,
        results: &mut RunResults,
    ) -> Result<Option<Prepared<Listed>>, RunError> {
        let url = self.session.resource_url(endpoint);
        let page_size = u64::from(self.session.config.fetch.page_size).clamp(1, MAX_PAGE_SIZE);
        let id_of = |v: Value| v.get("id").and_then(Value::as_str).map(str::to_string);
        match fetch_all(self.session, self.pager, endpoint, page_size, &id_of).await? {
            Ok(ids) => {
                self.session.log(
                    LogLevel::Info,
                    format!(
                        "TRUNCATING ALL DATA from endpoint {endpoint} ({} records at {url}) ...",
                        ids.len()
                    ),
                );
                Ok(Some(Prepared {
                    endpoint: endpoint.to_string(),
                    total: ids.len() as u64,
                    ctx: Listed {
                        url: Rc::from(url),
                        ids,
                    },
                }))
            }
            Err(e) => {
                self.session.log(
                    LogLevel::Error,
                    format!(
                        "Unable to list the records of {endpoint}, so none were deleted... {e}"
                    ),
                );
                results
                    .resource_mut(endpoint)
                    .record_failure(e.kind(), &e.messages(), &url, 0);
                Ok(None)
            }
        }
    }

    fn items<'s>(
        &'s self,
        stage: &'s [Prepared<Listed>],
    ) -> LocalBoxStream<'s, Result<Work<String>, RunError>> {
        let work = stage.iter().enumerate().flat_map(|(ep, p)| {
            p.ctx.ids.iter().enumerate().map(move |(i, id)| {
                Ok(Work {
                    ep,
                    file: p.ctx.url.clone(),
                    line: i as u64 + 1,
                    item: id.clone(),
                })
            })
        });
        stream::iter(work).boxed_local()
    }

    fn admit(&self, _ctx: &Self::Ctx, item: String) -> Admission<String> {
        Admission::Later(item)
    }

    async fn process(&self, ctx: &Listed, id: String) -> Result<Outcome, RunError> {
        let url = format!("{}/{id}", ctx.url);
        Ok(match self.session.call(Method::Delete, &url, None).await? {
            Ok(resp) if is_success(resp.status) => Outcome::new(Settled::Done {
                status: resp.status,
            }),
            Ok(resp) => Outcome::new(Settled::Failed {
                kind: FailureKind::Status(resp.status),
                messages: error_messages(resp.status, &resp.body),
            }),
            Err(e) => Outcome::failed(FailureMethod::Connection, e.to_string()),
        })
    }

    async fn finish(&self, p: &Prepared<Listed>, tally: &Tally) -> Result<(), RunError> {
        log_finished(self.session, &p.endpoint, tally);
        if tally.failed > 0 {
            self.session.log(
                LogLevel::Warning,
                format!(
                    "{} of {} records of {} could not be deleted",
                    tally.failed, tally.total, p.endpoint
                ),
            );
        }
        // cleared even after some failures: a later send then re-sends (upserts) payloads whose
        // records are still there, instead of skipping ones that are gone
        if let Some(state) = self.state {
            state.clear_endpoint(&p.endpoint).await?;
        }
        Ok(())
    }
}
