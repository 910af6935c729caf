//! `count`: the number of records of each selected endpoint, from the `Total-Count` header of
//! `GET {resource}?limit=0&totalCount=true`, `pool_size` endpoints at a time. Also the building
//! block of `fetch` (page planning) and `truncate` (paging through all ids).

use crate::api::errors::linearize;
use crate::api::session::{Session, SessionError};
use crate::api::url::query_url;
use crate::ports::{LogLevel, Method};
use crate::results::{FailureKind, FailureMethod, RunResults};
use futures::stream::{self, StreamExt};

/// Why an endpoint could not be counted. The text is the Python tool's cell of the count table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("error ({status}): {body}")]
    Status { status: u16, body: String },
    #[error("error: no Total-Count header")]
    NoTotalCount,
    #[error("error: {0}")]
    Transport(String),
}

impl CountError {
    /// What failed, in the results.
    pub fn kind(&self) -> FailureKind {
        match self {
            CountError::Status { status, .. } => FailureKind::Status(*status),
            CountError::NoTotalCount => FailureMethod::Count.into(),
            CountError::Transport(_) => FailureMethod::Connection.into(),
        }
    }
}

/// The longest response body excerpt kept in a [`CountError`].
const MAX_BODY: usize = 300;

/// The number of records of `endpoint` matching `params` (the `fetch -q` filters; empty for
/// all). `Err` only for what stops the run (credentials, connection to the token endpoint).
pub async fn total_count(
    session: &Session<'_>,
    endpoint: &str,
    params: &[(String, String)],
) -> Result<Result<u64, CountError>, SessionError> {
    let mut all = super::paging::params(params);
    all.push(("limit", "0"));
    all.push(("totalCount", "true"));
    let url = query_url(&session.resource_url(endpoint), &all);
    let resp = match session.call(Method::Get, &url, None).await? {
        Ok(r) => r,
        Err(e) => return Ok(Err(CountError::Transport(e.to_string()))),
    };
    if !(200..300).contains(&resp.status) {
        let body: String = linearize(&resp.text()).chars().take(MAX_BODY).collect();
        return Ok(Err(CountError::Status {
            status: resp.status,
            body,
        }));
    }
    Ok(resp
        .header("Total-Count")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or(CountError::NoTotalCount))
}

/// One row of the count table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub endpoint: String,
    pub records: Result<u64, CountError>,
}

/// Counts `endpoints` (`pool_size` at a time); rows in the order given (dependency order). An
/// endpoint that could not be counted is a failure in `results` (exit 1 with `--strict`).
pub async fn count(
    session: &Session<'_>,
    endpoints: &[String],
    results: &mut RunResults,
) -> Result<Vec<CountRow>, SessionError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    session.log(LogLevel::Debug, "fetching record counts...");
    let mut rows = Vec::with_capacity(endpoints.len());
    let mut counted = stream::iter(endpoints.iter())
        .map(|endpoint| async move {
            let records = total_count(session, endpoint, &[]).await?;
            Ok::<_, SessionError>(CountRow {
                endpoint: endpoint.clone(),
                records,
            })
        })
        .buffered(pool);
    while let Some(row) = counted.next().await {
        let row = row?;
        if let Err(e) = &row.records {
            session.log(
                LogLevel::Warning,
                format!("Unable to load counts for {}... {e}", row.endpoint),
            );
            let url = session.resource_url(&row.endpoint);
            results
                .resource_mut(&row.endpoint)
                .record_failure(e.kind(), &[e.to_string()], &url, 0);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The count table: a `Records{sep}Endpoint` header, then one row per endpoint. With
/// `all_rows` false (the console), only endpoints with records or an error are listed; the
/// `--results-file` gets every row. Each line ends with `\n`.
pub fn count_table(rows: &[CountRow], separator: &str, all_rows: bool) -> String {
    let mut out = format!("Records{separator}Endpoint\n");
    for row in rows {
        let cell = match &row.records {
            Ok(0) if !all_rows => continue,
            Ok(n) => n.to_string(),
            Err(e) => e.to_string(),
        };
        out.push_str(&cell);
        out.push_str(separator);
        out.push_str(&row.endpoint);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn rows() -> Vec<CountRow> {
        vec![
            CountRow {
                endpoint: "schools".into(),
                records: Ok(1),
            },
            CountRow {
                endpoint: "calendars".into(),
                records: Ok(0),
            },
            CountRow {
                endpoint: "students".into(),
                records: Err(CountError::Status {
                    status: 500,
                    body: "boom".into(),
                }),
            },
            CountRow {
                endpoint: "staffs".into(),
                records: Err(CountError::NoTotalCount),
            },
        ]
    }

    #[test]
    fn console_table_lists_records_and_errors() {
        assert_eq!(
            count_table(&rows(), "\t", false),
            "Records\tEndpoint\n1\tschools\nerror (500): boom\tstudents\nerror: no Total-Count header\tstaffs\n"
        );
    }

    #[test]
    fn file_table_lists_every_row() {
        assert_eq!(
            count_table(&rows()[..2], ",", true),
            "Records,Endpoint\n1,schools\n0,calendars\n"
        );
    }
}
