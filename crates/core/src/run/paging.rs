//! How the records of an endpoint are read, for `fetch`, `truncate` and `delete` (descriptor
//! values):
//! - **offset paging** (the Python tool's, every Ed-Fi API): pages of `limit` records at
//!   `offset`s planned from the `Total-Count`;
//! - **cursor paging** (ODS/API 7.3, the Ed-Fi DMS): `GET {resource}/partitions?number=N` gives a
//!   `pageToken` for each of N even partitions of the records; each partition is read page after
//!   page (`pageToken` and `pageSize`, the next token from the `Next-Page-Token` header) until a
//!   page is empty or short. Deep pages cost the API no more than the first (no `OFFSET` to
//!   skip), and the partitions are read side by side.
//!
//! `fetch.paging` chooses: `auto` (cursor paging for the endpoints whose OpenAPI document lists
//! their `/partitions`, read only when discovery says ODS/API 7.3 or later, or the DMS, and that
//! have records for at least `pool_size` partitions), `offset`, or `cursor`. An endpoint whose `/partitions` cannot be read is paged by
//! offset, with a warning.

use super::count::CountError;
use crate::api::errors::error_messages;
use crate::api::openapi::Model;
use crate::api::session::{Session, SessionError};
use crate::api::url::query_url;
use crate::config::Paging;
use crate::ports::{Cache, LogLevel, Method};
use crate::results::{FailureKind, FailureMethod};
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::HashSet;

/// The API's maximum `limit` (and `pageSize`).
pub const MAX_PAGE_SIZE: u64 = 500;

/// Records in a partition the API makes at the least (five pages of the largest size): the
/// partitions asked for are about this size, at most [`MAX_PARTITIONS`] of them.
pub const PARTITION_RECORDS: u64 = 5 * MAX_PAGE_SIZE;

/// The most partitions the API gives.
pub const MAX_PARTITIONS: u64 = 200;

/// One page to GET by offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// The pages covering `total` records, `page_size` records each (at least 1, at most
/// [`MAX_PAGE_SIZE`]).
pub fn plan_pages(total: u64, page_size: u64) -> Vec<Page> {
    let limit = page_size.clamp(1, MAX_PAGE_SIZE);
    (0..total.div_ceil(limit))
        .map(|p| Page {
            offset: p * limit,
            limit,
        })
        .collect()
}

/// How many partitions to ask for `total` records: about [`PARTITION_RECORDS`] each.
pub fn partitions_for(total: u64) -> u64 {
    total.div_ceil(PARTITION_RECORDS).clamp(1, MAX_PARTITIONS)
}

/// Why a page (or the count or partitions before it) could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// A non-2xx answer with its messages.
    Status { status: u16, messages: Vec<String> },
    /// A 2xx answer that is not what was asked (a JSON array of records, or of page tokens).
    Unexpected(String),
    /// No answer after all retries.
    Transport(String),
}

impl PageError {
    pub fn kind(&self) -> FailureKind {
        match self {
            PageError::Status { status, .. } => FailureKind::Status(*status),
            PageError::Unexpected(_) => FailureMethod::Fetch.into(),
            PageError::Transport(_) => FailureMethod::Connection.into(),
        }
    }

    pub fn messages(&self) -> Vec<String> {
        match self {
            PageError::Status { messages, .. } => messages.clone(),
            PageError::Unexpected(e) | PageError::Transport(e) => vec![e.clone()],
        }
    }
}

impl From<CountError> for PageError {
    fn from(e: CountError) -> Self {
        match e {
            CountError::Status { status, body } => PageError::Status {
                status,
                messages: error_messages(status, body.as_bytes()),
            },
            CountError::NoTotalCount => PageError::Status {
                status: 200,
                messages: vec!["the API's answer has no Total-Count header".into()],
            },
            CountError::Transport(e) => PageError::Transport(e),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messages().join("; "))
    }
}

/// What a read gives: `Err` stops the run (credentials, the token endpoint), `Ok(Err)` is this
/// read's failure.
pub type Read<T> = Result<Result<T, PageError>, SessionError>;

/// GET `url`: its JSON body and its `Next-Page-Token`.
async fn get_json(session: &Session<'_>, url: &str) -> Read<(Value, Option<String>)> {
    let resp = match session.call(Method::Get, url, None).await? {
        Ok(r) => r,
        Err(e) => return Ok(Err(PageError::Transport(e.to_string()))),
    };
    if !(200..300).contains(&resp.status) {
        return Ok(Err(PageError::Status {
            status: resp.status,
            messages: error_messages(resp.status, &resp.body),
        }));
    }
    let next = resp
        .header("Next-Page-Token")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok(serde_json::from_slice::<Value>(&resp.body)
        .map(|v| (v, next))
        .map_err(|_| PageError::Unexpected("the API's answer is not JSON".into())))
}

fn records_of(body: Value) -> Result<Vec<Value>, PageError> {
    match body {
        Value::Array(records) => Ok(records),
        _ => Err(PageError::Unexpected(
            "the API's answer is not a JSON list of records".into(),
        )),
    }
}

pub(super) fn params(query: &[(String, String)]) -> Vec<(&str, &str)> {
    query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// GET one page of records by offset.
pub async fn get_page(
    session: &Session<'_>,
    endpoint: &str,
    query: &[(String, String)],
    page: Page,
) -> Read<Vec<Value>> {
    get_page_at(session, &session.resource_url(endpoint), query, page).await
}

/// GET one page of records of the collection at `url` (a resource, its `/deletes`) by offset.
pub async fn get_page_at(
    session: &Session<'_>,
    url: &str,
    query: &[(String, String)],
    page: Page,
) -> Read<Vec<Value>> {
    let (limit, offset) = (page.limit.to_string(), page.offset.to_string());
    let mut all = params(query);
    all.push(("limit", &limit));
    all.push(("offset", &offset));
    let url = query_url(url, &all);
    Ok(get_json(session, &url)
        .await?
        .and_then(|(v, _)| records_of(v)))
}

/// The page tokens of about [`partitions_for`]`(total)` partitions of the records matching
/// `query`.
pub async fn partition_tokens(
    session: &Session<'_>,
    endpoint: &str,
    query: &[(String, String)],
    total: u64,
) -> Read<Vec<String>> {
    let number = partitions_for(total).to_string();
    let mut all = params(query);
    all.push(("number", &number));
    let url = query_url(
        &format!("{}/partitions", session.resource_url(endpoint)),
        &all,
    );
    Ok(get_json(session, &url).await?.and_then(|(v, _)| {
        v.get("pageTokens")
            .and_then(Value::as_array)
            .and_then(|tokens| {
                tokens
                    .iter()
                    .map(|t| t.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>()
            })
            .ok_or_else(|| {
                PageError::Unexpected(
                    "the API's answer to /partitions has no list of pageTokens".into(),
                )
            })
    }))
}

/// Every record of the partition starting at `token`, `page_size` a page, in the API's order,
/// each reduced by `extract` (the records it returns `None` for are left out), and why the rest
/// could not be read.
pub async fn read_partition<T>(
    session: &Session<'_>,
    endpoint: &str,
    query: &[(String, String)],
    token: &str,
    page_size: u64,
    extract: &dyn Fn(Value) -> Option<T>,
) -> Result<(Vec<T>, Option<PageError>), SessionError> {
    let size = page_size.clamp(1, MAX_PAGE_SIZE);
    let size_text = size.to_string();
    let mut out = Vec::new();
    let mut token = token.to_string();
    loop {
        let mut all = params(query);
        all.push(("pageToken", &token));
        all.push(("pageSize", &size_text));
        let url = query_url(&session.resource_url(endpoint), &all);
        let (records, next) = match get_json(session, &url).await? {
            Ok((v, next)) => match records_of(v) {
                Ok(r) => (r, next),
                Err(e) => return Ok((out, Some(e))),
            },
            Err(e) => return Ok((out, Some(e))),
        };
        let n = records.len() as u64;
        out.extend(records.into_iter().filter_map(extract));
        match next {
            // an empty or short page is the partition's last
            _ if n < size => return Ok((out, None)),
            Some(next) => token = next,
            // a full page without the next token: the rest would be lost unseen
            None => {
                return Ok((
                    out,
                    Some(PageError::Unexpected(
                        "a full page came without its Next-Page-Token header (in a browser, \
                         the API must list it in Access-Control-Expose-Headers)"
                            .into(),
                    )),
                ))
            }
        }
    }
}

/// The endpoints whose OpenAPI document lists their `/partitions`, from the documents' `paths`
/// alone (a fraction of the time the whole model takes to read).
async fn partitioned_in_documents(
    session: &Session<'_>,
    cache: Option<&dyn Cache>,
) -> Result<HashSet<(String, String)>, SessionError> {
    #[derive(serde::Deserialize)]
    struct Paths {
        #[serde(default)]
        paths: std::collections::HashMap<String, serde::de::IgnoredAny>,
    }
    let (resources, descriptors) = session.openapi_documents(cache).await?;
    let mut out = HashSet::new();
    for bytes in [&resources, &descriptors] {
        let Ok(doc) = serde_json::from_slice::<Paths>(bytes) else {
            continue;
        };
        for path in doc.paths.keys() {
            let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
            if let [ns, name, "partitions"] = segs.as_slice() {
                out.insert((ns.to_string(), name.to_ascii_lowercase()));
            }
        }
    }
    Ok(out)
}

/// Which endpoints are read with cursor paging.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    cursor: Cursor,
}

#[derive(Debug, Clone, Default)]
enum Cursor {
    #[default]
    Nowhere,
    Everywhere,
    /// (namespace, lowercase endpoint)
    Endpoints(HashSet<(String, String)>),
}

impl Pager {
    /// Offset paging everywhere.
    pub fn offset() -> Pager {
        Pager::default()
    }

    /// As `fetch.paging` says. For `auto`, the endpoints whose OpenAPI document lists their
    /// `/partitions` (`model` when the caller has it, else read through `cache`), when the API
    /// may offer cursor paging at all; offset paging when the documents cannot be read.
    pub async fn choose(
        session: &Session<'_>,
        model: Option<&Model>,
        cache: Option<&dyn Cache>,
    ) -> Pager {
        let cursor = match session.config.fetch.paging {
            Paging::Offset => Cursor::Nowhere,
            Paging::Cursor => Cursor::Everywhere,
            Paging::Auto if !session.may_offer_cursor_paging() => Cursor::Nowhere,
            Paging::Auto => {
                let endpoints = match model {
                    Some(m) => Ok(m
                        .endpoints
                        .iter()
                        .filter(|e| e.has_partitions)
                        .map(|e| (e.namespace.clone(), e.name.to_ascii_lowercase()))
                        .collect()),
                    None => partitioned_in_documents(session, cache).await,
                };
                match endpoints {
                    Ok(e) if !e.is_empty() => Cursor::Endpoints(e),
                    Ok(_) => Cursor::Nowhere,
                    Err(e) => {
                        session.log(LogLevel::Warning, format!("paging by offset: {e}"));
                        Cursor::Nowhere
                    }
                }
            }
        };
        let pager = Pager { cursor };
        match &pager.cursor {
            Cursor::Nowhere => {}
            Cursor::Everywhere => session.log(
                LogLevel::Info,
                "cursor paging (fetch.paging: cursor)".to_string(),
            ),
            Cursor::Endpoints(e) => session.log(
                LogLevel::Info,
                format!(
                    "cursor paging where the API offers it ({} endpoints list their /partitions)",
                    e.len()
                ),
            ),
        }
        pager
    }

    /// Whether `endpoint` is read with cursor paging.
    pub fn is_cursor(&self, session: &Session<'_>, endpoint: &str) -> bool {
        match &self.cursor {
            Cursor::Nowhere => false,
            Cursor::Everywhere => true,
            Cursor::Endpoints(set) => set.contains(&(
                session.config.namespace_for(endpoint).to_string(),
                endpoint.to_ascii_lowercase(),
            )),
        }
    }

    /// The partitions' page tokens of `endpoint` when it is read with cursor paging (`None`:
    /// by offset, also when its `/partitions` could not be read, which is warned about).
    pub async fn partitions(
        &self,
        session: &Session<'_>,
        endpoint: &str,
        query: &[(String, String)],
        total: u64,
    ) -> Result<Option<Vec<String>>, SessionError> {
        if !self.is_cursor(session, endpoint) {
            return Ok(None);
        }
        // a partition is read page after page: fewer partitions than pool_size would leave the
        // pool idle where offset pages go side by side (and shallow offsets cost an API little)
        let pool = u64::from(session.config.connection.pool_size.max(1));
        if matches!(self.cursor, Cursor::Endpoints(_)) && partitions_for(total) < pool {
            return Ok(None);
        }
        match partition_tokens(session, endpoint, query, total).await? {
            Ok(tokens) => Ok(Some(tokens)),
            Err(e) => {
                session.log(
                    LogLevel::Warning,
                    format!("paging {endpoint} by offset: its /partitions could not be read ({e})"),
                );
                Ok(None)
            }
        }
    }
}

/// Every record of `endpoint`, each reduced by `extract` (records it returns `None` for are
/// left out), `pool_size` pages or partitions at a time, in no particular order. For `delete`
/// (descriptor values) and `truncate` (ids): only what `extract` keeps stays in memory.
pub async fn fetch_all<T>(
    session: &Session<'_>,
    pager: &Pager,
    endpoint: &str,
    page_size: u64,
    extract: &dyn Fn(Value) -> Option<T>,
) -> Read<Vec<T>> {
    let total = match super::count::total_count(session, endpoint, &[]).await? {
        Ok(n) => n,
        Err(e) => return Ok(Err(e.into())),
    };
    let pool = session.config.connection.pool_size.max(1) as usize;
    let mut out = Vec::with_capacity(total.min(1_000_000) as usize);
    if total == 0 {
        return Ok(Ok(out));
    }
    if let Some(tokens) = pager.partitions(session, endpoint, &[], total).await? {
        let mut parts = stream::iter(tokens.iter())
            .map(|t| read_partition(session, endpoint, &[], t, page_size, extract))
            .buffer_unordered(pool);
        while let Some(part) = parts.next().await {
            let (records, error) = part?;
            if let Some(e) = error {
                return Ok(Err(e));
            }
            out.extend(records);
        }
        return Ok(Ok(out));
    }
    let mut pages = stream::iter(plan_pages(total, page_size))
        .map(|page| get_page(session, endpoint, &[], page))
        .buffered(pool);
    while let Some(page) = pages.next().await {
        match page? {
            Ok(records) => out.extend(records.into_iter().filter_map(extract)),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, LoadOptions};
    use crate::ports::{Http, HttpRequest, HttpResponse, LocalFuture, TransportError};
    use crate::testing::{block_on, FakeApi, FakeClock, Recorder};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// An API paging by cursor: token `a` is a full page of 2 then `b`; `b` a full page of 2
    /// then `c`, or without a next token when `hide` (a browser that cannot see the header); `c`
    /// a short page of 1.
    struct Cursors {
        hide: bool,
        urls: std::cell::RefCell<Vec<String>>,
    }

    impl Http for Cursors {
        fn send(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, TransportError>> {
            self.urls.borrow_mut().push(req.url.clone());
            let page = |ids: &[u32], next: Option<&str>| HttpResponse {
                status: 200,
                headers: next
                    .map(|n| vec![("Next-Page-Token".to_string(), n.to_string())])
                    .unwrap_or_default(),
                body: serde_json::to_vec(
                    &ids.iter()
                        .map(|i| serde_json::json!({ "id": i.to_string() }))
                        .collect::<Vec<_>>(),
                )
                .unwrap(),
            };
            let resp = if req.url.ends_with("/oauth/token") {
                HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: br#"{"access_token":"t","expires_in":1800}"#.to_vec(),
                }
            } else if req.url.contains("pageToken=a&") {
                page(&[1, 2], Some("b"))
            } else if req.url.contains("pageToken=b&") {
                page(&[3, 4], (!self.hide).then_some("c"))
            } else {
                page(&[5], Some("d"))
            };
            Box::pin(async move { Ok(resp) })
        }
    }

    fn read(hide: bool) -> (Vec<String>, Option<PageError>, Vec<String>) {
        let config =
            Config::from_yaml(&FakeApi::config_yaml(2), &LoadOptions::default()).expect("config");
        let api = Cursors {
            hide,
            urls: Default::default(),
        };
        let (clock, events) = (FakeClock::default(), Recorder::default());
        let (ids, error) = block_on(async {
            let session = Session::connect(&config, &api, &clock, &events)
                .await
                .expect("connect");
            let id = |v: Value| v["id"].as_str().map(str::to_string);
            read_partition(&session, "students", &[], "a", 2, &id)
                .await
                .expect("a session")
        });
        (ids, error, api.urls.take())
    }

    #[test]
    fn a_partition_is_read_until_a_short_page() {
        let (ids, error, urls) = read(false);
        assert_eq!(ids, ["1", "2", "3", "4", "5"]);
        assert_eq!(error, None);
        let pages: Vec<&String> = urls.iter().filter(|u| u.contains("pageToken")).collect();
        assert_eq!(pages.len(), 3, "the short page is the last: {pages:?}");
        assert!(pages[0].ends_with("/ed-fi/students?pageToken=a&pageSize=2"));
    }

    #[test]
    fn a_full_page_without_the_next_token_is_an_error_not_the_end() {
        let (ids, error, _) = read(true);
        assert_eq!(ids, ["1", "2", "3", "4"]);
        let e = error.expect("the rest is not silently lost");
        assert!(e.to_string().contains("Next-Page-Token"), "{e}");
        assert_eq!(e.kind(), FailureMethod::Fetch.into());
    }

    #[test]
    fn pages_cover_the_total() {
        assert_eq!(plan_pages(0, 100), vec![]);
        assert_eq!(
            plan_pages(250, 100),
            vec![
                Page {
                    offset: 0,
                    limit: 100
                },
                Page {
                    offset: 100,
                    limit: 100
                },
                Page {
                    offset: 200,
                    limit: 100
                },
            ]
        );
        assert_eq!(plan_pages(100, 100).len(), 1);
        assert_eq!(plan_pages(101, 100).len(), 2);
        // page sizes beyond the API's maximum are capped, 0 means 1
        assert_eq!(plan_pages(1200, 1000).len(), 3);
        assert_eq!(plan_pages(1200, 1000)[1].offset, 500);
        assert_eq!(plan_pages(3, 0).len(), 3);
    }

    #[test]
    fn partitions_of_about_five_full_pages_at_most_two_hundred() {
        assert_eq!(partitions_for(0), 1);
        assert_eq!(partitions_for(2_500), 1);
        assert_eq!(partitions_for(2_501), 2);
        assert_eq!(partitions_for(100_000), 40);
        assert_eq!(partitions_for(10_000_000), 200);
    }
}
