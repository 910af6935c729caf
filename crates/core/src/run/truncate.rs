//! `truncate`: delete every record of the selected endpoints. Endpoints go in reverse dependency
//! order, level by level: all ids of a level's endpoints are fetched first (paging while
//! deleting would skip records), then DELETEd `pool_size` at a time. The state of each
//! truncated endpoint is cleared (its payloads are not in the API any more, so a later `send`
//! sends them again).

use crate::api::errors::error_messages;
use crate::api::session::{Session, SessionError};
use crate::ports::{Event, LogLevel, Method, StateStore};
use crate::results::{FailureKind, RunResults};
use crate::run::fetch::{fetch_all, MAX_PAGE_SIZE};
use crate::state::is_success;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::BTreeMap;

/// What stops a truncate.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TruncateError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{0}")]
    State(String),
}

/// Truncate `levels` (dependency levels in dependency order; processed in reverse). In the
/// results, each record is one payload: a success per deleted record, a failure (file: the
/// endpoint's URL, line: the record's position in the listing) per record not deleted.
pub async fn truncate(
    session: &Session<'_>,
    levels: &[Vec<String>],
    state: Option<&dyn StateStore>,
    results: &mut RunResults,
) -> Result<(), TruncateError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    let page_size = u64::from(session.config.fetch.page_size).clamp(1, MAX_PAGE_SIZE);
    let id_of = |v: Value| v.get("id").and_then(Value::as_str).map(str::to_string);
    for level in levels.iter().rev() {
        // every id of the level first
        let mut jobs: Vec<(usize, u64, String)> = Vec::new();
        let mut listed: Vec<usize> = Vec::new();
        let mut totals: Vec<u64> = vec![0; level.len()];
        for (ep, endpoint) in level.iter().enumerate() {
            let url = session.config.resource_url(endpoint);
            results.resource_mut(endpoint);
            match fetch_all(session, endpoint, page_size, &id_of).await? {
                Ok(ids) => {
                    session.log(
                        LogLevel::Info,
                        format!("TRUNCATING ALL DATA from endpoint {endpoint} ({} records at {url}) ...", ids.len()),
                    );
                    totals[ep] = ids.len() as u64;
                    session.events.emit(Event::EndpointStarted {
                        endpoint: endpoint.clone(),
                        total: ids.len() as u64,
                    });
                    listed.push(ep);
                    jobs.extend(
                        ids.into_iter()
                            .enumerate()
                            .map(|(i, id)| (ep, i as u64 + 1, id)),
                    );
                }
                Err(e) => {
                    session.log(
                        LogLevel::Error,
                        format!(
                            "Unable to list the records of {endpoint}, so none were deleted... {e}"
                        ),
                    );
                    results
                        .resource_mut(endpoint)
                        .record_failure(e.kind(), &e.messages(), &url, 0);
                }
            }
        }
        let urls: Vec<String> = level
            .iter()
            .map(|e| session.config.resource_url(e))
            .collect();
        let urls_ref = &urls;
        let mut outcomes = stream::iter(jobs)
            .map(|(ep, position, id)| async move {
                let url = format!("{}/{id}", urls_ref[ep]);
                let r = session.call(Method::Delete, &url, None).await?;
                Ok::<_, SessionError>((ep, position, r))
            })
            .buffer_unordered(pool);
        let mut done = vec![0u64; level.len()];
        let mut failed = vec![0u64; level.len()];
        let mut statuses: Vec<BTreeMap<u16, u64>> = vec![BTreeMap::new(); level.len()];
        while let Some(next) = outcomes.next().await {
            let (ep, position, r) = next?;
            let endpoint = &level[ep];
            let res = results.resource_mut(endpoint);
            done[ep] += 1;
            match r {
                Ok(resp) if is_success(resp.status) => {
                    *statuses[ep].entry(resp.status).or_default() += 1;
                    res.record_success(resp.status);
                }
                Ok(resp) => {
                    *statuses[ep].entry(resp.status).or_default() += 1;
                    failed[ep] += 1;
                    res.record_failure(
                        FailureKind::Status(resp.status),
                        &error_messages(resp.status, &resp.body),
                        &urls[ep],
                        position,
                    );
                }
                Err(e) => {
                    failed[ep] += 1;
                    res.record_failure(
                        FailureKind::Method("connection".into()),
                        &[e.to_string()],
                        &urls[ep],
                        position,
                    );
                }
            }
            session.events.emit(Event::Progress {
                endpoint: endpoint.clone(),
                done: done[ep],
                skipped: 0,
                failed: failed[ep],
            });
        }
        for ep in listed {
            let endpoint = &level[ep];
            let counts: Vec<String> = statuses[ep]
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
            if failed[ep] > 0 {
                session.log(
                    LogLevel::Warning,
                    format!(
                        "{} of {} records of {endpoint} could not be deleted",
                        failed[ep], totals[ep]
                    ),
                );
            }
            // cleared even after some failures: a later send then re-sends (upserts) payloads
            // whose records are still there, instead of skipping ones that are gone
            if let Some(state) = state {
                state
                    .clear_endpoint(endpoint)
                    .await
                    .map_err(|e| TruncateError::State(e.to_string()))?;
            }
            session.events.emit(Event::EndpointFinished {
                endpoint: endpoint.clone(),
            });
        }
    }
    if let Some(state) = state {
        state
            .flush()
            .await
            .map_err(|e| TruncateError::State(e.to_string()))?;
    }
    Ok(())
}
