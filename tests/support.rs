//! Helpers of the end-to-end journeys of the `lightbeam` CLI: config files, running our CLI and
//! the Python one, results files, the state database, a kill -9 in the middle of a send.
//!
//! Sandbox processes, the workspace binaries, generated data and temporary directories come
//! from `lightbeam-testkit`, re-exported here.

pub use lightbeam_testkit::*;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The injected faults of the fault tests: 10% of requests answered 429, 500 or 503, 1% of
/// connections dropped without an answer.
pub const FAULTS: [&str; 6] = [
    "--fault-rate",
    "0.1",
    "--fault-statuses",
    "429,500,503",
    "--drop-rate",
    "0.01",
];

/// 2 ms a request: a send long enough to be killed in the middle.
pub const SLOW: [&str; 2] = ["--latency-ms", "2"];

/// Write `lightbeam.yaml` in `dir` for the sandbox at `base`, the data in `dir/data`, with extra
/// YAML appended (top-level keys; `connection:` is written here, so pass its settings in
/// `connection`): [`write_lightbeam_config`].
pub fn write_config(dir: &Path, base: &str, connection: &str, extra: &str) -> PathBuf {
    write_lightbeam_config(dir, &dir.join("data"), base, connection, extra)
}

/// The start of most journeys: a fresh work dir ([`tmp_dir`] `name`) whose `data/` holds
/// [`generate`]d files (`students`, `seed`), a DS 5.0 sandbox started with `sandbox_args`, and a
/// `lightbeam.yaml` for it ([`write_config`] with `connection` settings and `extra` YAML).
/// Returns the dir, the generated (endpoint, lines) and the sandbox (keep it bound: a dropped
/// sandbox stops).
pub fn journey(
    name: &str,
    students: usize,
    seed: u64,
    sandbox_args: &[&str],
    connection: &str,
    extra: &str,
) -> (PathBuf, Vec<(String, u64)>, Sandbox) {
    let dir = tmp_dir(name);
    let files = generate(&dir.join("data"), students, seed);
    let sb = Sandbox::start(Version::Ds50, sandbox_args);
    write_config(&dir, &sb.base, connection, extra);
    (dir, files, sb)
}

/// Append `lines` to a file, each with a line break.
pub fn append_lines(path: &Path, lines: &[&str]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open data file");
    for l in lines {
        writeln!(f, "{l}").expect("append");
    }
}

/// Run our `lightbeam` in `dir`.
pub fn lightbeam(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin("lightbeam"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run lightbeam")
}

/// Run our `lightbeam {command} -c lightbeam.yaml {args}` in `dir`.
pub fn run(dir: &Path, command: &str, args: &[&str]) -> Output {
    let mut all = vec![command, "-c", "lightbeam.yaml"];
    all.extend_from_slice(args);
    lightbeam(dir, &all)
}

/// Run our `lightbeam {command} -c lightbeam.yaml --results-file {results} {args}` in `dir`:
/// its output and the results file it wrote.
pub fn run_with_results(
    dir: &Path,
    command: &str,
    results: &str,
    args: &[&str],
) -> (Output, Value) {
    let mut all = vec!["--results-file", results];
    all.extend_from_slice(args);
    let o = run(dir, command, &all);
    let written = dir.join(results);
    assert!(written.exists(), "no {results}: {}", text(&o));
    (o, read_json(&written))
}

/// Start our `lightbeam send -c lightbeam.yaml` in `dir` without waiting for it; its stdout is
/// discarded, its stderr goes to `stderr`.
pub fn spawn_send(dir: &Path, stderr: Stdio) -> std::process::Child {
    Command::new(bin("lightbeam"))
        .args(["send", "-c", "lightbeam.yaml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start lightbeam")
}

/// The two implementations run side by side by the parity tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// The Python lightbeam 0.1.12 ([`python_lightbeam`])
    Python,
    /// Ours ([`lightbeam`])
    Rust,
}

impl Tool {
    /// The Python tool first, then ours.
    pub const BOTH: [Tool; 2] = [Tool::Python, Tool::Rust];

    /// `python` or `rust`
    pub fn name(self) -> &'static str {
        match self {
            Tool::Python => "python",
            Tool::Rust => "rust",
        }
    }

    /// Run this tool in `dir`.
    pub fn run(self, dir: &Path, args: &[&str]) -> Output {
        match self {
            Tool::Python => python_lightbeam(dir, args),
            Tool::Rust => lightbeam(dir, args),
        }
    }

    /// `{command} -c lightbeam.yaml --results-file results.json` of this tool in `dir`, which
    /// must exit 0: its output and the results file it wrote.
    pub fn results(self, dir: &Path, command: &str) -> (Output, Value) {
        let o = self.run(
            dir,
            &[
                command,
                "-c",
                "lightbeam.yaml",
                "--results-file",
                "results.json",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}: {}", self.name(), text(&o));
        let results = read_json(&dir.join("results.json"));
        (o, results)
    }
}

/// The run exited 0.
#[track_caller]
pub fn ok(o: &Output) {
    assert_exit(o, 0);
}

/// The run exited with `code`.
#[track_caller]
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
}

/// No panic, and one of the documented exit codes (0, 1, 99, 255).
#[track_caller]
pub fn assert_no_panic(o: &Output, what: &str) {
    let all = text(o);
    assert!(
        !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
        "{what}: lightbeam panicked:\n{all}"
    );
    // 101 is Rust's exit code of a panic; -1/None a signal
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 99 | 255)),
        "{what}: an undocumented exit code {:?}:\n{all}",
        o.status.code()
    );
}

/// The sandbox holds as many records of each endpoint as its generated file has lines.
#[track_caller]
pub fn assert_landed(sb: &Sandbox, files: &[(String, u64)], what: &str) {
    for (endpoint, n) in files {
        assert_eq!(sb.count(endpoint), *n, "{endpoint}: {what}");
    }
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read JSON file"))
        .expect("valid JSON")
}

/// `{path}/` of a new directory `name` in `dir` (for `--set data_dir`).
pub fn new_data_dir(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("create data dir");
    let with_slash = format!("{}/", path.display());
    (path, with_slash)
}

/// One row of the state table.
pub struct StateRow {
    pub endpoint: String,
    pub hash: String,
    pub status: u16,
    pub timestamp: Option<String>,
}

/// Every row of the state database (`{dir}/state/lightbeam.sqlite`), after checking that it
/// exists, is not corrupt (`PRAGMA integrity_check`) and keys payloads by md5 hashes.
pub fn state_rows(dir: &Path) -> Vec<StateRow> {
    let path = dir.join("state/lightbeam.sqlite");
    assert!(path.exists(), "no state database at {}", path.display());
    let db = rusqlite::Connection::open(&path).expect("open state");
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ok, "ok", "the state database is corrupt");
    let mut stmt = db
        .prepare("SELECT endpoint, hash, timestamp, status FROM payload_state")
        .expect("the payload_state table");
    let rows = stmt
        .query_map([], |r| {
            let hash: String = r.get(1)?;
            assert_eq!(hash.len(), 32, "an md5 hash: {hash}");
            let timestamp: Option<String> =
                r.get::<_, rusqlite::types::Value>(2).map(|v| match v {
                    rusqlite::types::Value::Text(t) => Some(t),
                    rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                    rusqlite::types::Value::Real(f) => Some(f.to_string()),
                    _ => None,
                })?;
            Ok(StateRow {
                endpoint: r.get(0)?,
                hash,
                status: r.get(3)?,
                timestamp,
            })
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

/// Every payload of the state database with its last status (see [`state_rows`]).
pub fn state_statuses(dir: &Path) -> BTreeMap<(String, String), u16> {
    state_rows(dir)
        .into_iter()
        .map(|r| ((r.endpoint, r.hash), r.status))
        .collect()
}

/// When [`kill_9_send`] kills the send.
pub struct KillAt {
    /// once the sandbox has created this many records
    pub creates: u64,
    /// and this much later
    pub then: Duration,
    /// how often the sandbox is asked
    pub poll: Duration,
    /// the send must get there within this time
    pub limit: Duration,
    /// a send that finishes first is fine (else a failure)
    pub may_finish: bool,
}

/// What a kill -9 in the middle of a send left behind.
pub struct Killed {
    /// records the sandbox had created, 300 ms after the kill
    pub landed: u64,
    /// POSTs it had answered by then
    pub posts: u64,
    /// seconds from the start of the send to its end
    pub elapsed: f64,
    /// the send had finished by itself
    pub finished: bool,
}

/// Start `lightbeam send` in `dir` and SIGKILL it at `at`.
pub fn kill_9_send(sb: &Sandbox, dir: &Path, at: KillAt) -> Killed {
    let started = Instant::now();
    let mut child = spawn_send(dir, Stdio::null());
    let deadline = Instant::now() + at.limit;
    let mut finished = false;
    while sb.creates() < at.creates {
        if child.try_wait().unwrap().is_some() {
            assert!(at.may_finish, "send finished before the kill");
            finished = true;
            break;
        }
        assert!(Instant::now() < deadline, "send too slow");
        std::thread::sleep(at.poll);
    }
    std::thread::sleep(at.then);
    child.kill().expect("kill -9"); // SIGKILL
    child.wait().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    Killed {
        landed: sb.creates(),
        posts: sb.posts(),
        elapsed,
        finished,
    }
}

/// After [`kill_9_send`]: a plain `send --results-file rerun.json` that exits `exit` without a
/// panic; then every record of `files` is in the API, each created once, and the rerun has no
/// failures. Returns the POSTs of the rerun.
pub fn rerun_after_kill(
    sb: &Sandbox,
    dir: &Path,
    files: &[(String, u64)],
    killed: &Killed,
    exit: i32,
    what: &str,
) -> u64 {
    let (o, rerun) = run_with_results(dir, "send", "rerun.json", &[]);
    assert_no_panic(&o, "rerun");
    assert_eq!(o.status.code(), Some(exit), "{what}: {}", text(&o));
    assert_landed(sb, files, what);
    assert_eq!(
        sb.creates(),
        total_lines(files),
        "{what}: each record created once"
    );
    assert_eq!(rerun["total_records_failed"], 0, "{what}");
    sb.posts() - killed.posts
}
