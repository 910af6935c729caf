//! The results model (`--results-file`) and the exit code rule.
//!
//! The JSON has exactly the Python tool's fields and types (`lightbeam.py`
//! `write_structured_output`, `send.py`, `validate.py`): `started_at`, `working_dir`,
//! `config_file`, `data_dir`, `api_url`, `namespace`, `namespace_overrides`, `resources`
//! {endpoint: {`records_processed`, `records_skipped`, `records_failed`, `successes`
//! [{`status_code`, `count`}], `failures` [{`status_code` | `method`, `message`, `file`,
//! `line_numbers`, `count`}]}}, `command`, `completed_at`, `runtime_sec`,
//! `total_records_processed`, `total_records_skipped`, `total_records_failed`.
//! As in Python, `successes` and `failures` are left out when empty, and [`RunResults::to_json`]
//! writes 4-space indented, ASCII-escaped JSON with each `line_numbers` list on one line.

use std::collections::{BTreeMap, HashMap};

use crate::config::ValidationMethod;
use indexmap::IndexMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// Exit code when the run went through (possibly with some failures).
pub const EXIT_OK: i32 = 0;
/// Exit code when every payload failed (or, in strict mode, when any failed).
pub const EXIT_FAILED: i32 = 1;
/// Exit code when every payload was skipped (Airflow marks the task skipped).
pub const EXIT_ALL_SKIPPED: i32 = 99;
/// Exit code of a configuration or connection error (the Python tool's `exit(-1)`).
pub const EXIT_FATAL: i32 = 255;

/// What failed: an HTTP status (send, delete, truncate), or a method (validation methods, and
/// the steps of a command that got no status); the results file's `status_code` or `method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    Status(u16),
    Method(FailureMethod),
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailureKind::Status(s) => write!(f, "{s}"),
            FailureKind::Method(m) => f.write_str(m.as_str()),
        }
    }
}

/// A failure's `method`: a validation method, or the step of a command that failed without an
/// HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureMethod {
    Validation(ValidationMethod),
    /// The line could not be read (not UTF-8).
    Read,
    /// No answer from the API after all retries.
    Connection,
    /// `delete`: the payload's identity values could not be read.
    Identity,
    /// `count`: the answer had no `Total-Count`.
    Count,
    /// `fetch`: a page that is not a list of records.
    Fetch,
}

impl FailureMethod {
    /// The name in results and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMethod::Validation(m) => m.as_str(),
            FailureMethod::Read => "read",
            FailureMethod::Connection => "connection",
            FailureMethod::Identity => "identity",
            FailureMethod::Count => "count",
            FailureMethod::Fetch => "fetch",
        }
    }
}

impl From<ValidationMethod> for FailureKind {
    fn from(m: ValidationMethod) -> Self {
        FailureKind::Method(FailureMethod::Validation(m))
    }
}

impl From<FailureMethod> for FailureKind {
    fn from(m: FailureMethod) -> Self {
        FailureKind::Method(m)
    }
}

/// One group of failures: same kind, message and file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub file: String,
    /// Sorted, 1-based.
    pub line_numbers: Vec<u64>,
    pub count: u64,
}

impl Serialize for Failure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        match &self.kind {
            FailureKind::Status(code) => m.serialize_entry("status_code", code)?,
            FailureKind::Method(method) => m.serialize_entry("method", method.as_str())?,
        }
        m.serialize_entry("message", &self.message)?;
        m.serialize_entry("file", &self.file)?;
        m.serialize_entry("line_numbers", &self.line_numbers)?;
        m.serialize_entry("count", &self.count)?;
        m.end()
    }
}

/// Successful responses of one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Success {
    pub status_code: u16,
    pub count: u64,
}

type FailureKey = (FailureKind, String, String);

/// The results of one endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceResults {
    pub records_processed: u64,
    pub records_skipped: u64,
    pub records_failed: u64,
    successes: BTreeMap<u16, u64>,
    failures: HashMap<FailureKey, Vec<u64>>,
}

impl ResourceResults {
    pub fn new() -> Self {
        Self::default()
    }

    /// A payload sent with a 2xx answer.
    pub fn record_success(&mut self, status: u16) {
        self.records_processed += 1;
        *self.successes.entry(status).or_insert(0) += 1;
    }

    /// A payload skipped (already sent, or nothing to do).
    pub fn record_skip(&mut self) {
        self.records_processed += 1;
        self.records_skipped += 1;
    }

    /// A payload that failed, with its messages (one failure group per distinct message; a
    /// payload counts once in `records_failed` however many messages it has).
    pub fn record_failure(
        &mut self,
        kind: FailureKind,
        messages: &[String],
        file: &str,
        line: u64,
    ) {
        self.records_processed += 1;
        self.records_failed += 1;
        self.add_failure_lines(kind, messages, file, line);
    }

    /// A payload processed with no outcome to record here (e.g. validated fine).
    pub fn record_ok(&mut self) {
        self.records_processed += 1;
    }

    /// Adds `line` to the failure groups of `messages` without touching the counters.
    pub fn add_failure_lines(
        &mut self,
        kind: FailureKind,
        messages: &[String],
        file: &str,
        line: u64,
    ) {
        let mut seen: Vec<&String> = Vec::new();
        for message in messages {
            if seen.contains(&message) {
                continue;
            }
            seen.push(message);
            self.failures
                .entry((kind, message.clone(), file.to_string()))
                .or_default()
                .push(line);
        }
    }

    /// Adds another partial result of the same endpoint (e.g. from another worker).
    pub fn merge(&mut self, other: &ResourceResults) {
        self.records_processed += other.records_processed;
        self.records_skipped += other.records_skipped;
        self.records_failed += other.records_failed;
        for (status, count) in &other.successes {
            *self.successes.entry(*status).or_insert(0) += count;
        }
        for (key, lines) in &other.failures {
            self.failures.entry(key.clone()).or_default().extend(lines);
        }
    }

    /// Successes by status code, ascending.
    pub fn successes(&self) -> Vec<Success> {
        self.successes
            .iter()
            .map(|(status_code, count)| Success {
                status_code: *status_code,
                count: *count,
            })
            .collect()
    }

    /// Failure groups, deterministic: by file, then first line, then kind and message.
    pub fn failures(&self) -> Vec<Failure> {
        let mut out: Vec<Failure> = self
            .failures
            .iter()
            .map(|((kind, message, file), lines)| {
                let mut line_numbers = lines.clone();
                line_numbers.sort_unstable();
                Failure {
                    kind: *kind,
                    message: message.clone(),
                    file: file.clone(),
                    count: line_numbers.len() as u64,
                    line_numbers,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.file, a.line_numbers.first(), &a.kind, &a.message).cmp(&(
                &b.file,
                b.line_numbers.first(),
                &b.kind,
                &b.message,
            ))
        });
        out
    }
}

impl Serialize for ResourceResults {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("records_processed", &self.records_processed)?;
        m.serialize_entry("records_skipped", &self.records_skipped)?;
        m.serialize_entry("records_failed", &self.records_failed)?;
        if !self.successes.is_empty() {
            m.serialize_entry("successes", &self.successes())?;
        }
        if !self.failures.is_empty() {
            m.serialize_entry("failures", &self.failures())?;
        }
        m.end()
    }
}

/// Totals over all endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub processed: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// The command a results file is about (its `command` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Command {
    Validate,
    #[default]
    Send,
    /// `validate+send`: its results file says `send`, as in Python (the send part writes last).
    ValidateSend,
    Delete,
    Truncate,
    Count,
    Fetch,
    Create,
}

impl Command {
    pub fn parse(s: &str) -> Option<Command> {
        Some(match s {
            "validate" => Command::Validate,
            "send" => Command::Send,
            "validate+send" => Command::ValidateSend,
            "delete" => Command::Delete,
            "truncate" => Command::Truncate,
            "count" => Command::Count,
            "fetch" => Command::Fetch,
            "create" => Command::Create,
            _ => return None,
        })
    }

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Validate => "validate",
            Command::Send => "send",
            Command::ValidateSend => "validate+send",
            Command::Delete => "delete",
            Command::Truncate => "truncate",
            Command::Count => "count",
            Command::Fetch => "fetch",
            Command::Create => "create",
        }
    }

    /// The `command` field of the results file.
    pub fn results_name(self) -> &'static str {
        match self {
            Command::ValidateSend => "send",
            other => other.as_str(),
        }
    }
}

/// The exit code of a finished run (configuration and connection errors are [`EXIT_FATAL`]
/// and never get here).
///
/// - `send` (and `validate+send`, `delete`): 99 when every payload was skipped (also when there
///   were none, as in Python), else 1 when every payload failed, else 0;
/// - `truncate`: 1 when there were records and none could be deleted, else 0;
/// - `validate`: 1 when there were payloads and every one failed, else 0;
/// - other commands: 0;
/// - `strict`: 1 whenever any payload failed (the Python tool exits 0 on partial failure).
pub fn exit_code(totals: Totals, command: Command, strict: bool) -> i32 {
    match command {
        Command::Send | Command::ValidateSend | Command::Delete => {
            if totals.processed == totals.skipped {
                return EXIT_ALL_SKIPPED;
            }
            if totals.processed == totals.failed {
                return EXIT_FAILED;
            }
        }
        Command::Validate | Command::Truncate
            if totals.processed > 0 && totals.processed == totals.failed =>
        {
            return EXIT_FAILED;
        }
        _ => {}
    }
    if strict && totals.failed > 0 {
        return EXIT_FAILED;
    }
    EXIT_OK
}

/// The run-level fields known when a run starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunMetadata {
    /// ISO timestamp, Python `datetime.now().isoformat(timespec='microseconds')` style.
    pub started_at: String,
    pub working_dir: String,
    pub config_file: String,
    pub data_dir: String,
    /// `edfi_api.base_url`.
    pub api_url: String,
    pub namespace: String,
    /// `null` in the file when the config has none.
    pub namespace_overrides: Option<IndexMap<String, Vec<String>>>,
}

/// A whole results file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunResults {
    pub meta: RunMetadata,
    /// Endpoint → results, in the order endpoints were started.
    pub resources: IndexMap<String, ResourceResults>,
    pub command: String,
    pub completed_at: String,
    pub runtime_sec: f64,
}

impl RunResults {
    pub fn new(meta: RunMetadata) -> Self {
        RunResults {
            meta,
            ..Default::default()
        }
    }

    /// The results of `endpoint`, created empty on first use.
    pub fn resource_mut(&mut self, endpoint: &str) -> &mut ResourceResults {
        self.resources.entry(endpoint.to_string()).or_default()
    }

    /// Sets the closing fields.
    pub fn finish(&mut self, command: Command, completed_at: impl Into<String>, runtime_sec: f64) {
        self.command = command.results_name().to_string();
        self.completed_at = completed_at.into();
        self.runtime_sec = runtime_sec;
    }

    pub fn totals(&self) -> Totals {
        self.resources
            .values()
            .fold(Totals::default(), |t, r| Totals {
                processed: t.processed + r.records_processed,
                skipped: t.skipped + r.records_skipped,
                failed: t.failed + r.records_failed,
            })
    }

    pub fn exit_code(&self, command: Command, strict: bool) -> i32 {
        exit_code(self.totals(), command, strict)
    }

    /// The file's text, formatted as the Python tool writes it.
    pub fn to_json(&self) -> String {
        python_json(self)
    }
}

impl Serialize for RunResults {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let totals = self.totals();
        let m = &self.meta;
        let mut map = s.serialize_map(Some(15))?;
        map.serialize_entry("started_at", &m.started_at)?;
        map.serialize_entry("working_dir", &m.working_dir)?;
        map.serialize_entry("config_file", &m.config_file)?;
        map.serialize_entry("data_dir", &m.data_dir)?;
        map.serialize_entry("api_url", &m.api_url)?;
        map.serialize_entry("namespace", &m.namespace)?;
        map.serialize_entry("namespace_overrides", &m.namespace_overrides)?;
        map.serialize_entry("resources", &self.resources)?;
        map.serialize_entry("command", &self.command)?;
        map.serialize_entry("completed_at", &self.completed_at)?;
        map.serialize_entry("runtime_sec", &self.runtime_sec)?;
        map.serialize_entry("total_records_processed", &totals.processed)?;
        map.serialize_entry("total_records_skipped", &totals.skipped)?;
        map.serialize_entry("total_records_failed", &totals.failed)?;
        map.end()
    }
}

/// Python's `json.dumps(value, indent=4)` (see [`crate::pycompat`]), then every `line_numbers`
/// list on one line without spaces, as `write_structured_output` does.
pub fn python_json<T: Serialize>(value: &T) -> String {
    collapse_line_numbers(&crate::pycompat::json_dumps_indented(value))
}

/// `"line_numbers": [\n 1,\n 2\n ]` → `"line_numbers":[1,2]` (Python's regex removes every
/// whitespace character of the match, the one after the colon included).
fn collapse_line_numbers(text: &str) -> String {
    const KEY: &str = "\"line_numbers\": [";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(KEY) {
        let after = &rest[pos + KEY.len()..];
        let body_len = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b',' || b.is_ascii_whitespace())
            .count();
        if after.as_bytes().get(body_len) != Some(&b']') {
            out.push_str(&rest[..pos + KEY.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..pos]);
        out.push_str("\"line_numbers\":[");
        out.extend(
            after[..body_len]
                .chars()
                .filter(|c| !c.is_ascii_whitespace()),
        );
        out.push(']');
        rest = &after[body_len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn msgs(m: &[&str]) -> Vec<String> {
        m.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn counting_and_grouping() {
        let mut r = ResourceResults::new();
        r.record_success(201);
        r.record_success(200);
        r.record_success(201);
        r.record_skip();
        r.record_failure(
            FailureKind::Status(409),
            &msgs(&["409: missing school"]),
            "./a.jsonl",
            9,
        );
        r.record_failure(
            FailureKind::Status(409),
            &msgs(&["409: missing school"]),
            "./a.jsonl",
            3,
        );
        r.record_failure(
            FailureKind::Status(400),
            &msgs(&["x (at $.a)", "y (at $.b)", "x (at $.a)"]),
            "./a.jsonl",
            5,
        );
        r.record_failure(
            FailureKind::Status(409),
            &msgs(&["409: missing school"]),
            "./b.jsonl",
            1,
        );
        assert_eq!(r.records_processed, 8);
        assert_eq!(r.records_skipped, 1);
        assert_eq!(r.records_failed, 4);
        assert_eq!(
            r.successes(),
            vec![
                Success {
                    status_code: 200,
                    count: 1
                },
                Success {
                    status_code: 201,
                    count: 2
                }
            ]
        );
        let f = r.failures();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].message, "409: missing school");
        assert_eq!(f[0].line_numbers, vec![3, 9]);
        assert_eq!(f[0].count, 2);
        assert_eq!(f[1].message, "x (at $.a)");
        assert_eq!(
            f[1].count, 1,
            "a message repeated within one payload counts once"
        );
        assert_eq!(f[3].file, "./b.jsonl");
    }

    #[test]
    fn merge_partials() {
        let mut a = ResourceResults::new();
        a.record_success(201);
        a.record_failure(FailureKind::Status(409), &msgs(&["m"]), "f", 2);
        let mut b = ResourceResults::new();
        b.record_success(201);
        b.record_failure(FailureKind::Status(409), &msgs(&["m"]), "f", 1);
        a.merge(&b);
        assert_eq!(a.records_processed, 4);
        assert_eq!(
            a.successes(),
            vec![Success {
                status_code: 201,
                count: 2
            }]
        );
        assert_eq!(a.failures()[0].line_numbers, vec![1, 2]);
    }

    fn sample() -> RunResults {
        let mut run = RunResults::new(RunMetadata {
            started_at: "2024-08-01T10:00:00.000001".to_string(),
            working_dir: "/home/me".to_string(),
            config_file: "lightbeam.yaml".to_string(),
            data_dir: "./".to_string(),
            api_url: "https://api.example.com".to_string(),
            namespace: "ed-fi".to_string(),
            namespace_overrides: None,
        });
        let s = run.resource_mut("schools");
        s.record_success(201);
        s.record_success(201);
        let st = run.resource_mut("students");
        st.record_skip();
        st.record_failure(
            FailureKind::Status(400),
            &msgs(&["FirstName is required. (at $.firstName)"]),
            "./students.jsonl",
            12,
        );
        st.record_failure(
            FailureKind::Status(400),
            &msgs(&["FirstName is required. (at $.firstName)"]),
            "./students.jsonl",
            3,
        );
        run.resource_mut("sections");
        run.finish(Command::Send, "2024-08-01T10:00:02.500000", 2.499999);
        run
    }

    #[test]
    fn python_file_format() {
        let expected = r#"{
    "started_at": "2024-08-01T10:00:00.000001",
    "working_dir": "/home/me",
    "config_file": "lightbeam.yaml",
    "data_dir": "./",
    "api_url": "https://api.example.com",
    "namespace": "ed-fi",
    "namespace_overrides": null,
    "resources": {
        "schools": {
            "records_processed": 2,
            "records_skipped": 0,
            "records_failed": 0,
            "successes": [
                {
                    "status_code": 201,
                    "count": 2
                }
            ]
        },
        "students": {
            "records_processed": 3,
            "records_skipped": 1,
            "records_failed": 2,
            "failures": [
                {
                    "status_code": 400,
                    "message": "FirstName is required. (at $.firstName)",
                    "file": "./students.jsonl",
                    "line_numbers":[3,12],
                    "count": 2
                }
            ]
        },
        "sections": {
            "records_processed": 0,
            "records_skipped": 0,
            "records_failed": 0
        }
    },
    "command": "send",
    "completed_at": "2024-08-01T10:00:02.500000",
    "runtime_sec": 2.499999,
    "total_records_processed": 5,
    "total_records_skipped": 1,
    "total_records_failed": 2
}"#;
        assert_eq!(sample().to_json(), expected);
    }

    #[test]
    fn json_types_and_methods() {
        let mut run = sample();
        let mut ns = IndexMap::new();
        ns.insert("tpdm".to_string(), vec!["candidates".to_string()]);
        run.meta.namespace_overrides = Some(ns);
        run.resource_mut("candidates").record_failure(
            ValidationMethod::Schema.into(),
            &msgs(&["'x' is a required property"]),
            "./candidates.jsonl",
            1,
        );
        run.finish(Command::Validate, "t", 1.0);
        let v: serde_json::Value = serde_json::from_str(&run.to_json()).unwrap();
        assert_eq!(v["namespace_overrides"]["tpdm"][0], "candidates");
        assert_eq!(v["command"], "validate");
        assert_eq!(v["runtime_sec"], 1.0);
        let f = &v["resources"]["candidates"]["failures"][0];
        assert_eq!(f["method"], "schema");
        assert!(f.get("status_code").is_none());
        assert_eq!(f["line_numbers"], serde_json::json!([1]));
        assert!(v["total_records_failed"].is_u64());
    }

    #[test]
    fn ascii_escaping_like_python() {
        // python: json.dumps({"m": "é😀\x7f"}, indent=4)
        let v = serde_json::json!({"m": "é😀\u{7f}\"\n"});
        assert_eq!(
            python_json(&v),
            "{\n    \"m\": \"\\u00e9\\ud83d\\ude00\\u007f\\\"\\n\"\n}"
        );
        let v = serde_json::json!({"a": [], "b": {}});
        assert_eq!(python_json(&v), "{\n    \"a\": [],\n    \"b\": {}\n}");
    }

    #[test]
    fn collapsing_only_line_number_lists() {
        let v = serde_json::json!({"message": "\"line_numbers\": [1, 2]", "line_numbers": [1, 2]});
        let text = python_json(&v);
        assert!(text.contains("\"line_numbers\":[1,2]"));
        assert!(
            text.contains(r#""message": "\"line_numbers\": [1, 2]""#),
            "{text}"
        );
    }

    #[test]
    fn exit_codes() {
        let t = |processed, skipped, failed| Totals {
            processed,
            skipped,
            failed,
        };
        assert_eq!(
            exit_code(t(10, 10, 0), Command::Send, false),
            EXIT_ALL_SKIPPED
        );
        assert_eq!(
            exit_code(t(0, 0, 0), Command::Send, false),
            EXIT_ALL_SKIPPED
        );
        assert_eq!(exit_code(t(10, 0, 10), Command::Send, false), EXIT_FAILED);
        assert_eq!(exit_code(t(10, 0, 3), Command::Send, false), EXIT_OK);
        assert_eq!(exit_code(t(10, 0, 3), Command::Send, true), EXIT_FAILED);
        assert_eq!(
            exit_code(t(10, 5, 5), Command::Send, false),
            EXIT_OK,
            "as Python"
        );
        assert_eq!(exit_code(t(10, 0, 0), Command::Send, true), EXIT_OK);
        assert_eq!(
            exit_code(t(10, 10, 0), Command::ValidateSend, false),
            EXIT_ALL_SKIPPED
        );
        assert_eq!(exit_code(t(4, 0, 4), Command::Validate, false), EXIT_FAILED);
        assert_eq!(exit_code(t(0, 0, 0), Command::Validate, false), EXIT_OK);
        assert_eq!(exit_code(t(4, 0, 1), Command::Validate, false), EXIT_OK);
        assert_eq!(exit_code(t(4, 0, 1), Command::Validate, true), EXIT_FAILED);
        assert_eq!(exit_code(t(4, 0, 4), Command::Delete, false), EXIT_FAILED);
        assert_eq!(
            exit_code(t(4, 4, 0), Command::Delete, false),
            EXIT_ALL_SKIPPED
        );
        assert_eq!(exit_code(t(4, 1, 1), Command::Delete, false), EXIT_OK);
        assert_eq!(exit_code(t(4, 1, 1), Command::Delete, true), EXIT_FAILED);
        assert_eq!(exit_code(t(0, 0, 0), Command::Truncate, false), EXIT_OK);
        assert_eq!(exit_code(t(3, 0, 3), Command::Truncate, false), EXIT_FAILED);
        assert_eq!(exit_code(t(3, 0, 3), Command::Count, false), EXIT_OK);
        assert_eq!(sample().exit_code(Command::Send, false), EXIT_OK);
        assert_eq!(Command::parse("validate+send"), Some(Command::ValidateSend));
        assert_eq!(Command::ValidateSend.results_name(), "send");
        assert_eq!(Command::parse("nope"), None);
    }
}
