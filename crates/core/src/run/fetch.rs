//! `fetch`: every record of the selected endpoints (optionally filtered by `-q` query parameters)
//! written to `{endpoint}.jsonl`, one JSON object a line, in the API's order. The reads (pages
//! planned from the `Total-Count`, or cursor partitions where the API offers them, see
//! [`paging`](super::paging)) go `pool_size` at a time and are written in order as they arrive:
//! never more than `pool_size` pages or partitions in memory. `-k/--keep-keys` and
//! `-d/--drop-keys` select the top-level keys written; lines are formatted as Python's
//! `json.dumps` (the Python tool's output, byte for byte).

use super::changes::{self, Window};
use super::count::total_count;
use super::paging::{get_page, plan_pages, read_partition, Page, PageError, Pager, MAX_PAGE_SIZE};
use super::RunError;
use crate::api::openapi::{Endpoint, Model};
use crate::api::session::Session;
use crate::data::selectors::select_keys;
use crate::ports::{Event, LogLevel, OutputError, OutputFiles, OutputWriter};
use crate::pycompat::json_dumps;
use crate::results::RunResults;
use futures::stream::{self, StreamExt};
use serde_json::{Map, Value};

/// Query parameters lightbeam sets itself; not accepted in `-q`.
pub const PAGING_PARAMS: [&str; 5] = ["limit", "offset", "totalCount", "pageToken", "pageSize"];

/// Errors in `-q/--query`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "-q/--query: not valid JSON ({0}); expected an object like '{{\"schoolId\": 255901001}}'"
    )]
    NotJson(String),
    #[error(
        "-q/--query: expected a JSON object of query parameters like '{{\"schoolId\": 255901001}}'"
    )]
    NotAnObject,
    #[error("-q/--query: the value of `{0}` must be a string, number or boolean")]
    BadValue(String),
}

/// `-q/--query` (a JSON object) as query parameters, in order. Empty text is no query.
pub fn parse_query(text: &str) -> Result<Vec<(String, String)>, QueryError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| QueryError::NotJson(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(QueryError::NotAnObject);
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(QueryError::BadValue(k)),
            };
            Ok((k, text))
        })
        .collect()
}

/// The keys of `query` the endpoint does not accept as GET parameters (per its OpenAPI
/// document), and the paging parameters lightbeam sets itself.
pub fn unsupported_query_keys(endpoint: &Endpoint, query: &[(String, String)]) -> Vec<String> {
    query
        .iter()
        .map(|(k, _)| k)
        .filter(|k| {
            PAGING_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k))
                || !endpoint.accepts_query_param(k)
        })
        .cloned()
        .collect()
}

/// Whether `-k`/`-d` change anything (`*` and nothing: every key kept).
pub fn selects_all_keys(keep_keys: &str, drop_keys: &str) -> bool {
    let keep = keep_keys.trim();
    (keep.is_empty() || keep == "*") && drop_keys.trim().is_empty()
}

/// The record with only the top-level keys `-k`/`-d` select (keys that match nothing are fine;
/// a key a record lacks is not added).
pub fn select_record_keys(record: Value, keep_keys: &str, drop_keys: &str) -> Value {
    if selects_all_keys(keep_keys, drop_keys) {
        return record;
    }
    let Value::Object(mut map) = record else {
        return record;
    };
    let keys: Vec<&String> = map.keys().collect();
    let kept = select_keys(&keys, keep_keys, drop_keys);
    let mut out = Map::with_capacity(kept.len());
    for k in kept {
        if let Some(v) = map.remove(&k) {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// What `fetch` does besides the endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// `fetch.page_size` (at most [`MAX_PAGE_SIZE`]).
    pub page_size: u64,
    /// `-q/--query` parameters (see [`parse_query`]).
    pub query: Vec<(String, String)>,
    /// `-k/--keep-keys` (empty or `*`: all).
    pub keep_keys: String,
    /// `-d/--drop-keys`.
    pub drop_keys: String,
    /// The change versions asked for (`--changes`, `--min/max-change-version`): then every
    /// endpoint gets its file, empty when nothing changed (a file of an earlier run is never
    /// left to look like this one's), and its deletes when the window says so.
    pub changes: Option<Window>,
}

/// The output file of an endpoint.
pub fn output_file(endpoint: &str) -> String {
    format!("{endpoint}.jsonl")
}

/// The file of an endpoint's deleted records.
pub fn deletes_file(endpoint: &str) -> String {
    format!("{endpoint}.deletes.jsonl")
}

/// The endpoints `-q` can be applied to: those whose OpenAPI GET accepts every key (the others
/// are warned about and skipped, as a typo would otherwise fetch every record).
pub fn endpoints_for_query(
    session: &Session<'_>,
    model: Option<&Model>,
    endpoints: &[String],
    query: &[(String, String)],
) -> Vec<String> {
    if query.is_empty() {
        return endpoints.to_vec();
    }
    let mut out = Vec::new();
    for name in endpoints {
        let ns = session.config.namespace_for(name);
        let Some(endpoint) = model.and_then(|m| m.find(ns, name).map(|i| &m.endpoints[i])) else {
            session.log(
                LogLevel::Warning,
                format!("{name} is not in the API's OpenAPI documents, so its query parameters are unknown... skipping!"),
            );
            continue;
        };
        let bad = unsupported_query_keys(endpoint, query);
        if bad.is_empty() {
            out.push(name.clone());
        } else {
            let supported: Vec<&str> = endpoint
                .query_params
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            session.log(
                LogLevel::Warning,
                format!(
                    "Query contains keys that are not params for the endpoint {name} ({})... skipping! (Supported params: {})",
                    bad.join(", "),
                    supported.join(", ")
                ),
            );
        }
    }
    out
}

/// `fetch.page_size`, at most the API's maximum (warned about when more).
pub fn page_size(session: &Session<'_>) -> u64 {
    let page_size = u64::from(session.config.fetch.page_size);
    if page_size > MAX_PAGE_SIZE {
        session.log(
            LogLevel::Warning,
            format!("fetch.page_size {page_size} is more than the API's maximum of {MAX_PAGE_SIZE}; fetching pages of {MAX_PAGE_SIZE}"),
        );
        return MAX_PAGE_SIZE;
    }
    page_size
}

/// Fetch `endpoints` (dependency order) into `{endpoint}.jsonl` files of `out`. `model` is
/// needed to vet `-q` keys (see [`endpoints_for_query`]); `pager` tells which endpoints are read
/// with cursor paging. Results: one success (status 200) per record written, one failure per
/// page or partition (or count) that could not be read, at the line of the output file where
/// its records would have started.
pub async fn fetch(
    session: &Session<'_>,
    endpoints: &[String],
    model: Option<&Model>,
    pager: &Pager,
    options: &FetchOptions,
    out: &dyn OutputFiles,
    results: &mut RunResults,
) -> Result<(), RunError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    let endpoints = endpoints_for_query(session, model, endpoints, &options.query);
    let mut query = options.query.clone();
    if let Some(window) = &options.changes {
        query.extend(window.params());
        session.log(
            LogLevel::Info,
            format!("fetching what changed: {}", window.describe()),
        );
    }
    let query = &query;
    let totals = count_endpoints(session, &endpoints, query, results).await?;
    let reads = plan_reads(session, pager, &endpoints, &totals, query, options).await?;
    let endpoints_ref = &endpoints;
    let page_size = options.page_size;
    // records become their output lines as they arrive: a line takes a fraction of the memory of
    // a parsed record, and up to pool_size partitions wait here for their turn
    let line = |record: Value| -> Option<String> {
        let record = select_record_keys(record, &options.keep_keys, &options.drop_keys);
        Some(json_dumps(&record))
    };
    let line = &line;
    let mut fetched = stream::iter(reads)
        .map(|(ep, read, last)| async move {
            let endpoint = &endpoints_ref[ep];
            let got = match &read {
                Read::Page(page) => {
                    get_page(session, endpoint, query, *page)
                        .await
                        .map(|r| match r {
                            Ok(records) => (records.into_iter().filter_map(line).collect(), None),
                            Err(e) => (Vec::new(), Some(e)),
                        })
                }
                Read::Partition { token, .. } => {
                    read_partition(session, endpoint, query, token, page_size, line).await
                }
                Read::Nothing => Ok((Vec::new(), None)),
            };
            (ep, read, last, got)
        })
        .buffered(pool);
    let mut files = Files {
        session,
        out,
        open: None,
        failed_reads: 0,
    };
    while let Some((ep, read, last, got)) = fetched.next().await {
        let (lines, error) = got?;
        files
            .write(&endpoints[ep], ep, &read, lines, error, results)
            .await?;
        if last {
            files.close(&endpoints[ep]).await?;
        }
    }
    if let Some(window) = options.changes.filter(|w| w.deletes) {
        let counted: Vec<&String> = totals.iter().map(|(ep, _)| &endpoints[*ep]).collect();
        write_deletes(
            session,
            &counted,
            &window,
            options.page_size,
            out,
            &mut files,
            results,
        )
        .await?;
    }
    if files.failed_reads > 0 {
        session.log(
            LogLevel::Warning,
            format!(
                "{} pages could not be fetched: the files lack their records",
                files.failed_reads
            ),
        );
    }
    Ok(())
}

/// One read of an endpoint's records: a page by offset, or a whole cursor partition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    Page(Page),
    /// The `index`th (from 0) of `of` partitions, starting at `token`.
    Partition {
        index: usize,
        of: usize,
        token: String,
    },
    /// None: the empty file of an endpoint without changes.
    Nothing,
}

/// Writes the deleted records of each of `endpoints` in `window` to `{endpoint}.deletes.jsonl`
/// (every endpoint gets its file), `pool_size` endpoints at a time.
async fn write_deletes(
    session: &Session<'_>,
    endpoints: &[&String],
    window: &Window,
    page_size: u64,
    out: &dyn OutputFiles,
    files: &mut Files<'_, '_>,
    results: &mut RunResults,
) -> Result<(), RunError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    let mut read = stream::iter(endpoints.iter())
        .map(|e| async move { (*e, changes::deletes(session, e, window, page_size).await) })
        .buffered(pool);
    while let Some((endpoint, got)) = read.next().await {
        let (deleted, error) = got?;
        let file = deletes_file(endpoint);
        let mut writer = out.create(&file).await.map_err(write_error(&file))?;
        let mut buf = String::new();
        for d in &deleted {
            buf.push_str(&json_dumps(d));
            buf.push('\n');
        }
        writer
            .write(buf.as_bytes())
            .await
            .map_err(write_error(&file))?;
        writer.finish().await.map_err(write_error(&file))?;
        if let Some(e) = &error {
            files.failed_reads += 1;
            session.log(
                LogLevel::Warning,
                format!("Unable to load the deleted records of {endpoint}... {e}"),
            );
            results.resource_mut(endpoint).record_failure(
                e.kind(),
                &e.messages(),
                &file,
                deleted.len() as u64 + 1,
            );
        }
        if !deleted.is_empty() || error.is_none() {
            session.log(
                LogLevel::Info,
                format!(
                    "wrote {} deleted records of {endpoint} to {}",
                    deleted.len(),
                    crate::config::url_join(&[&session.config.data_dir, &file])
                ),
            );
        }
    }
    Ok(())
}

/// How many records each endpoint has, `pool_size` endpoints at a time: (index, total) of those
/// that could be counted; the others are failures in `results`.
async fn count_endpoints(
    session: &Session<'_>,
    endpoints: &[String],
    query: &[(String, String)],
    results: &mut RunResults,
) -> Result<Vec<(usize, u64)>, RunError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    let mut counts = stream::iter(endpoints.iter())
        .map(|e| async move { (e, total_count(session, e, query).await) })
        .buffered(pool);
    let mut totals: Vec<(usize, u64)> = Vec::new();
    let mut ep = 0;
    while let Some((endpoint, count)) = counts.next().await {
        let res = results.resource_mut(endpoint);
        match count? {
            Ok(total) => totals.push((ep, total)),
            Err(e) => {
                session.log(
                    LogLevel::Warning,
                    format!("Unable to load counts for {endpoint}... {e}"),
                );
                let e = PageError::from(e);
                res.record_failure(e.kind(), &e.messages(), &output_file(endpoint), 0);
            }
        }
        ep += 1;
    }
    Ok(totals)
}

/// Every read of every endpoint with records, in order: (endpoint index, read, last of its
/// endpoint). Each endpoint with records is started (logged, and its event emitted); the
/// partitions of those read with cursor paging are asked for `pool_size` endpoints at a time.
async fn plan_reads(
    session: &Session<'_>,
    pager: &Pager,
    endpoints: &[String],
    totals: &[(usize, u64)],
    query: &[(String, String)],
    options: &FetchOptions,
) -> Result<Vec<(usize, Read, bool)>, RunError> {
    let pool = session.config.connection.pool_size.max(1) as usize;
    let with_records: Vec<(usize, u64)> = totals.iter().copied().filter(|(_, t)| *t > 0).collect();
    let partitions: Vec<Option<Vec<String>>> = stream::iter(with_records.iter())
        .map(|(ep, total)| pager.partitions(session, &endpoints[*ep], query, *total))
        .buffered(pool)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut partitions = partitions.into_iter();
    let mut reads = Vec::new();
    for (ep, total) in totals {
        let endpoint = &endpoints[*ep];
        if *total == 0 {
            session.log(
                LogLevel::Info,
                format!("no records to fetch from {endpoint}"),
            );
            if options.changes.is_some() {
                reads.push((*ep, Read::Nothing, true));
            }
            continue;
        }
        let tokens = partitions.next().flatten();
        let how = match &tokens {
            Some(t) if t.len() == 1 => " in 1 cursor partition".to_string(),
            Some(t) => format!(" in {} cursor partitions", t.len()),
            None => String::new(),
        };
        session.log(
            LogLevel::Info,
            format!(
                "fetching {total} records from {}{how} ...",
                session.resource_url(endpoint)
            ),
        );
        session.events.emit(Event::EndpointStarted {
            endpoint: endpoint.clone(),
            total: *total,
        });
        let planned: Vec<Read> = match tokens {
            Some(tokens) => {
                let of = tokens.len();
                tokens
                    .into_iter()
                    .enumerate()
                    .map(|(index, token)| Read::Partition { index, of, token })
                    .collect()
            }
            None => plan_pages(*total, options.page_size)
                .into_iter()
                .map(Read::Page)
                .collect(),
        };
        let n = planned.len();
        for (k, read) in planned.into_iter().enumerate() {
            reads.push((*ep, read, k + 1 == n));
        }
    }
    Ok(reads)
}

/// The output files of a fetch, written one endpoint at a time, page after page.
struct Files<'f, 's> {
    session: &'f Session<'s>,
    out: &'f dyn OutputFiles,
    /// The endpoint being written (its index), its file, and its records written so far.
    open: Option<(usize, Box<dyn OutputWriter + 'f>, u64)>,
    failed_reads: u64,
}

impl<'f> Files<'f, '_> {
    /// Writes the lines of a read into its endpoint's file (opened on its first read), and
    /// records why (the rest of) the read could not be had.
    async fn write(
        &mut self,
        endpoint: &str,
        ep: usize,
        read: &Read,
        lines: Vec<String>,
        error: Option<PageError>,
        results: &mut RunResults,
    ) -> Result<(), RunError> {
        let file = output_file(endpoint);
        if self.open.as_ref().is_none_or(|(open, _, _)| *open != ep) {
            let writer = self.out.create(&file).await.map_err(write_error(&file))?;
            self.open = Some((ep, writer, 0));
        }
        let (_, writer, written) = self.open.as_mut().expect("opened above");
        let res = results.resource_mut(endpoint);
        let n = lines.len() as u64;
        let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            buf.push_str(&line);
            buf.push('\n');
            res.record_success(200);
        }
        if !buf.is_empty() {
            writer
                .write(buf.as_bytes())
                .await
                .map_err(write_error(&file))?;
        }
        *written += n;
        if let Some(e) = error {
            self.failed_reads += 1;
            let what = match read {
                Read::Page(page) => format!(
                    "records {}..{} of {endpoint}",
                    page.offset + 1,
                    page.offset + page.limit
                ),
                Read::Partition { index, of, .. } => format!(
                    "partition {} of {of} of {endpoint} after its first {n} records",
                    index + 1
                ),
                Read::Nothing => endpoint.to_string(),
            };
            self.session
                .log(LogLevel::Warning, format!("Unable to load {what}... {e}"));
            res.record_failure(e.kind(), &e.messages(), &file, *written + 1);
        }
        self.session.events.emit(Event::Progress {
            endpoint: endpoint.to_string(),
            done: *written,
            skipped: 0,
            failed: 0,
        });
        Ok(())
    }

    /// Completes the file of the endpoint being written.
    async fn close(&mut self, endpoint: &str) -> Result<(), RunError> {
        let Some((_, mut writer, written)) = self.open.take() else {
            return Ok(());
        };
        let file = output_file(endpoint);
        writer.finish().await.map_err(write_error(&file))?;
        self.session.log(
            LogLevel::Info,
            format!(
                "wrote {written} records of {endpoint} to {}",
                crate::config::url_join(&[&self.session.config.data_dir, &file])
            ),
        );
        self.session.events.emit(Event::EndpointFinished {
            endpoint: endpoint.to_string(),
        });
        Ok(())
    }
}

fn write_error(file: &str) -> impl Fn(OutputError) -> RunError + '_ {
    move |error| RunError::Write {
        file: file.to_string(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn queries() {
        assert_eq!(parse_query("").unwrap(), vec![]);
        assert_eq!(
            parse_query(r#"{"schoolId": 255901001, "studentUniqueId": "6", "x": true}"#).unwrap(),
            vec![
                ("schoolId".to_string(), "255901001".to_string()),
                ("studentUniqueId".to_string(), "6".to_string()),
                ("x".to_string(), "true".to_string()),
            ]
        );
        assert_eq!(parse_query("[1]").unwrap_err(), QueryError::NotAnObject);
        assert_eq!(
            parse_query(r#"{"a": null}"#).unwrap_err(),
            QueryError::BadValue("a".into())
        );
        assert!(matches!(parse_query("{"), Err(QueryError::NotJson(_))));
    }

    #[test]
    fn key_selection() {
        let r = json!({"id": "1", "schoolId": 2, "_etag": "3", "_lastModifiedDate": "x", "schoolReference": {"schoolId": 2}});
        assert_eq!(select_record_keys(r.clone(), "*", ""), r);
        assert_eq!(
            select_record_keys(r.clone(), "", "id,_*"),
            json!({"schoolId": 2, "schoolReference": {"schoolId": 2}})
        );
        assert_eq!(select_record_keys(r.clone(), "id", ""), json!({"id": "1"}));
        assert_eq!(
            select_record_keys(r.clone(), "*Id,*Reference", "schoolReference"),
            json!({"schoolId": 2})
        );
        // a record without a kept key gets no null for it (Python's did)
        assert_eq!(
            select_record_keys(json!({"a": 1}), "a,b", ""),
            json!({"a": 1})
        );
        assert!(selects_all_keys("", ""));
        assert!(selects_all_keys("*", " "));
        assert!(!selects_all_keys("*", "id"));
    }

    #[test]
    fn lines_like_python_json_dumps() {
        let v = json!({"id": "a", "n": [1, 2.5, true, null], "o": {"k": "é\u{7f}\n\"😀"}});
        assert_eq!(
            json_dumps(&v),
            r#"{"id": "a", "n": [1, 2.5, true, null], "o": {"k": "\u00e9\u007f\n\"\ud83d\ude00"}}"#
        );
        assert_eq!(json_dumps(&json!({})), "{}");
        assert_eq!(json_dumps(&json!([])), "[]");
    }

    #[test]
    fn floats_like_python_json_dumps() {
        // python: json.dumps({"a": 1e16, "b": 1.5e-7, "c": 100.0, "d": 0.1, "e": 123456789012345680.0})
        let v: Value = serde_json::from_str(
            r#"{"a": 1e16, "b": 1.5e-7, "c": 100.0, "d": 0.1, "e": 123456789012345680.0}"#,
        )
        .unwrap();
        assert_eq!(
            json_dumps(&v),
            r#"{"a": 1e+16, "b": 1.5e-07, "c": 100.0, "d": 0.1, "e": 1.2345678901234568e+17}"#
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn unsupported_keys_from_the_openapi_document() {
        let m = crate::testing::openapi_model(&["odsapi-7.x_resources_openapi3_ds5.0.json"]);
        let students = &m.endpoints[m.find("ed-fi", "students").unwrap()];
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(unsupported_query_keys(
            students,
            &q(&[("studentUniqueId", "1"), ("lastSurname", "x")])
        )
        .is_empty());
        assert_eq!(
            unsupported_query_keys(students, &q(&[("schoolId", "1"), ("limit", "3")])),
            vec!["schoolId", "limit"]
        );
        let ssa = &m.endpoints[m.find("ed-fi", "studentSchoolAssociations").unwrap()];
        assert!(unsupported_query_keys(ssa, &q(&[("schoolId", "1")])).is_empty());
    }
}
