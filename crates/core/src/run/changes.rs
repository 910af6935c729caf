//! Change queries (ODS/API 5.x and later, the Ed-Fi DMS) for `fetch`, as Ed-Fi's client guide
//! describes them ("Using the Changed Record Queries"):
//! - `GET {changeQueries}/availableChangeVersions` gives the newest change version;
//! - `minChangeVersion` / `maxChangeVersion` (both inclusive) on a collection GET give what was
//!   created or changed in that window, `GET {resource}/deletes` what was deleted in it (`id`,
//!   `changeVersion` and, where the API has them, `keyValues`), written to
//!   `{endpoint}.deletes.jsonl` as the API gives them.
//!
//! `fetch --changes` fetches what changed since the last `fetch --changes` of this API, selection
//! and query: the first run fetches everything up to the newest change version, each next run the
//! window after the version kept in the state (a mark), and its deletes. The version is kept only
//! when every page was read, so a failed run is fetched again. `--min-change-version` and
//! `--max-change-version` give a window explicitly.

use super::paging::{get_page_at, Page, PageError, MAX_PAGE_SIZE};
use super::RunError;
use crate::api::session::{Session, SessionError};
use crate::ports::{LogLevel, Method};
use serde_json::Value;

/// What `fetch` asks of change versions (`Job::changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Changes {
    /// Every record (no change versions).
    #[default]
    All,
    /// `--changes`: since the last `--changes` run (kept in the state).
    SinceLast,
    /// `--min-change-version` / `--max-change-version` (inclusive).
    Window { min: Option<u64>, max: Option<u64> },
}

/// The change versions a fetch asks for, and whether it writes the deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub min: Option<u64>,
    pub max: Option<u64>,
    /// Write `{endpoint}.deletes.jsonl` (not on the first `--changes` run: there is nothing
    /// before it to delete from).
    pub deletes: bool,
}

impl Window {
    /// The window as query parameters.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(min) = self.min {
            out.push(("minChangeVersion".to_string(), min.to_string()));
        }
        if let Some(max) = self.max {
            out.push(("maxChangeVersion".to_string(), max.to_string()));
        }
        out
    }

    /// `change versions 12..40`, `change versions up to 40`, ...
    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("change versions {a} to {b}"),
            (Some(a), None) => format!("change versions from {a}"),
            (None, Some(b)) => format!("change versions up to {b}"),
            (None, None) => "every change version".to_string(),
        }
    }
}

/// Why the change versions could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangesError {
    #[error("fetch --changes keeps the newest change version it fetched in the state: set state_dir in the config")]
    NoState,
    #[error("the API's available change versions could not be read from {url}: {reason}")]
    Unavailable { url: String, reason: String },
    #[error("--min-change-version {min} is more than --max-change-version {max}")]
    Empty { min: u64, max: u64 },
}

/// The newest change version of the API (`availableChangeVersions`).
pub async fn newest_change_version(session: &Session<'_>) -> Result<u64, RunError> {
    let url = crate::config::url_join(&[&session.change_queries_url(), "availableChangeVersions"]);
    let unavailable = |reason: String| ChangesError::Unavailable {
        url: url.clone(),
        reason,
    };
    let resp = session
        .call(Method::Get, &url, None)
        .await?
        .map_err(|e| unavailable(e.to_string()))?;
    if !(200..300).contains(&resp.status) {
        let messages = crate::api::errors::error_messages(resp.status, &resp.body);
        return Err(unavailable(format!("status {}: {}", resp.status, messages.join("; "))).into());
    }
    let body: Value = serde_json::from_slice(&resp.body)
        .map_err(|_| unavailable("the answer is not JSON".into()))?;
    let newest = body
        .get("newestChangeVersion")
        .and_then(Value::as_u64)
        .ok_or_else(|| unavailable("the answer has no newestChangeVersion".into()))?;
    session.log(
        LogLevel::Info,
        format!("the API's newest change version is {newest}"),
    );
    Ok(newest)
}

/// The state's mark of the last `--changes` run of this API, selection and query.
pub fn mark_key(session: &Session<'_>, endpoints: &[String], query: &[(String, String)]) -> String {
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "changes {} [{}] {}",
        session.urls.data,
        endpoints.join(","),
        query.join("&")
    )
}

/// The deleted records of `endpoint` in `window`, `page_size` a page until a short page.
pub async fn deletes(
    session: &Session<'_>,
    endpoint: &str,
    window: &Window,
    page_size: u64,
) -> Result<(Vec<Value>, Option<PageError>), SessionError> {
    let limit = page_size.clamp(1, MAX_PAGE_SIZE);
    let params = window.params();
    let url = format!("{}/deletes", session.resource_url(endpoint));
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = Page { offset, limit };
        match get_page_at(session, &url, &params, page).await? {
            Ok(records) => {
                let n = records.len() as u64;
                out.extend(records);
                if n < limit {
                    return Ok((out, None));
                }
                offset += n;
            }
            Err(e) => return Ok((out, Some(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn windows_as_parameters() {
        let w = Window {
            min: Some(12),
            max: Some(40),
            deletes: true,
        };
        assert_eq!(
            w.params(),
            vec![
                ("minChangeVersion".to_string(), "12".to_string()),
                ("maxChangeVersion".to_string(), "40".to_string())
            ]
        );
        assert_eq!(w.describe(), "change versions 12 to 40");
        let first = Window {
            min: None,
            max: Some(40),
            deletes: false,
        };
        assert_eq!(first.params().len(), 1);
        assert_eq!(first.describe(), "change versions up to 40");
    }
}
