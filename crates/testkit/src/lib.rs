//! The one harness of the tests that run real `edfi-sandbox` processes: the end-to-end journeys
//! of the `lightbeam` CLI (`tests/`, package `lightbeam-e2e`) and the sandbox's own HTTP tests
//! (`crates/sandbox/tests`).
//!
//! - where things are: the real Ed-Fi documents in `../shared/edfi` ([`shared`]), the API
//!   versions the sandbox serves ([`Version`]), the workspace binaries `lightbeam` and
//!   `edfi-sandbox` beside the test executable, built when missing ([`bin`]), the Python
//!   lightbeam ([`python_lightbeam_exe`]);
//! - a running sandbox ([`Sandbox`]): started with [`Sandbox::start`], its base URL read from the
//!   first line it prints (http or https; self-signed certificates are accepted), killed when
//!   dropped; its statistics, an OAuth token and GET/POST/DELETE helpers of the data API;
//! - test data: [`generate`] (the generator's files and line counts), [`tmp_dir`]; a plain
//!   `lightbeam.yaml` for a sandbox, which both lightbeams read ([`write_lightbeam_config`]).
//!
//! What is specific to the CLI journeys (their config files, running our `lightbeam`, reading
//! results and the state database) lives in `tests/support.rs`.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The repository's root (this crate is `crates/testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit is two levels below the workspace root")
        .to_path_buf()
}

/// `../shared/edfi` beside the repository: the real Ed-Fi OpenAPI documents, dependencies and
/// descriptor seeds (read-only).
pub fn shared() -> PathBuf {
    workspace_root().join("../shared/edfi")
}

/// An API version the sandbox serves: its OpenAPI documents, dependencies and descriptor seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// ODS/API 7.x, DS 5.0 (OpenAPI 3), seeded with the DS 5.2.0 descriptors
    Ds50,
    /// ODS/API 6.1, DS 4.0 (OpenAPI 3)
    Ds40,
    /// ODS/API 5.3, DS 3.3.1-b (Swagger 2.0 resources)
    Swagger53,
    /// ODS/API 7.3, DS 6.0 (OpenAPI 3, listing each resource's `/partitions`), seeded with the
    /// DS 5.2.0 descriptors (the DS 6.0 ones are not in ../shared; those DS 6.0 lacks are left out)
    Ds60,
}

impl Version {
    pub const ALL: [Version; 3] = [Version::Ds50, Version::Ds40, Version::Swagger53];

    /// The `edfi-sandbox serve` arguments of this version: `--resources-openapi`,
    /// `--descriptors-openapi`, `--dependencies` and `--seed-dir` with their files in [`shared`].
    pub fn serve_args(self) -> Vec<String> {
        let (resources, descriptors, dependencies, seeds) = match self {
            Version::Ds50 => (
                "odsapi-7.x_resources_openapi3_ds5.0.json",
                "odsapi-7.x_descriptors_openapi3_ds5.0.json",
                "odsapi-7.x_ds-5.2.0_dependencies.json",
                "ds-5.2.0_jsonl",
            ),
            Version::Ds40 => (
                "odsapi-6.1_resources_openapi3_ds4.0-tpdm.json",
                "odsapi-6.1_descriptors_openapi3_ds4.0-tpdm.json",
                "odsapi-6.1_ds-4.0.0_dependencies.json",
                "ds-4.0.0_jsonl",
            ),
            Version::Ds60 => (
                "odsapi-7.3_resources_openapi3_ds6.0.json",
                "odsapi-7.3_descriptors_openapi3_ds6.0.json",
                "odsapi-7.x_ds-6.0.0_dependencies.json",
                "ds-5.2.0_jsonl",
            ),
            Version::Swagger53 => (
                "odsapi-5.3_resources_swagger2_ds3.3.1b-tpdm.json",
                "odsapi-5.3_descriptors_openapi3-converted_ds3.3.json",
                "odsapi-7.x_ds-4.0.0_dependencies.json",
                "ds-3.3.1-a_jsonl",
            ),
        };
        let s = shared();
        [
            ("--resources-openapi", s.join("openapi").join(resources)),
            ("--descriptors-openapi", s.join("openapi").join(descriptors)),
            ("--dependencies", s.join("dependencies").join(dependencies)),
            ("--seed-dir", s.join("descriptors").join(seeds)),
        ]
        .into_iter()
        .flat_map(|(flag, path)| [flag.to_string(), path.display().to_string()])
        .collect()
    }
}

/// `target/{profile}`: the test executable is `target/{profile}/deps/{name}-{hash}`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .to_path_buf()
}

static BUILD: Mutex<()> = Mutex::new(());

/// A binary of the workspace (`lightbeam`, `edfi-sandbox`) in the test executable's target dir,
/// built (`cargo build -p lightbeam-cli` or `-p edfi-sandbox`, `--release` in a release target
/// dir) if it is missing.
pub fn bin(name: &str) -> PathBuf {
    let dir = target_dir();
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let _one_build_at_a_time = BUILD.lock().unwrap_or_else(PoisonError::into_inner);
    if !path.exists() {
        let package = if name == "lightbeam" {
            "lightbeam-cli"
        } else {
            name
        };
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", package]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().expect("cargo build").success(),
            "cargo build -p {package}"
        );
        assert!(path.exists(), "{} after cargo build", path.display());
    }
    path
}

/// A fresh, empty temporary directory for one test (`lb-test-{name}-{pid}`).
pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lb-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// A running `edfi-sandbox serve`, killed when dropped.
pub struct Sandbox {
    child: Child,
    /// `http://127.0.0.1:{port}` (or `https://` with `--tls-self-signed`)
    pub base: String,
    /// A client for it (60 s timeout, self-signed certificates accepted).
    pub http: reqwest::blocking::Client,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    /// `edfi-sandbox serve` with the documents of `version` and `extra` arguments (a
    /// `--seed-dir` among them adds to the version's seeds). Unless `extra` sets
    /// `--token-limit`, the ODS/API's cap of 15 live tokens per client is lifted: journeys run
    /// many processes against one sandbox (the Python tool, and ours, take a token each).
    pub fn start(version: Version, extra: &[&str]) -> Sandbox {
        let token_limit: &[&str] = if extra.contains(&"--token-limit") {
            &[]
        } else {
            &["--token-limit", "100000"]
        };
        let mut child = Command::new(bin("edfi-sandbox"))
            .arg("serve")
            .args(version.serve_args())
            .args(token_limit)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start edfi-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the base URL line");
        let base = line.trim().to_string();
        assert!(
            base.starts_with("http://127.0.0.1:") || base.starts_with("https://127.0.0.1:"),
            "the first line is the base URL: {base:?}"
        );
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .danger_accept_invalid_certs(true)
            .build()
            .expect("HTTP client");
        Sandbox { child, base, http }
    }

    /// `{base}{path}`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The data API: `{base}/data/v3{path}`.
    pub fn data(&self, path: &str) -> String {
        self.url(&format!("/data/v3{path}"))
    }

    /// A GET without a token, read as JSON (discovery, metadata).
    pub fn get_json(&self, url: &str) -> Value {
        self.http
            .get(url)
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `/_sandbox/stats`: records, creates, updates, requests by method and status, faults...
    pub fn stats(&self) -> Value {
        self.get_json(&self.url("/_sandbox/stats"))
    }

    /// Records per collection (`ed-fi/students`), in the order the statistics list them.
    pub fn records(&self) -> Vec<(String, u64)> {
        self.stats()["records"]
            .as_object()
            .expect("records")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("a number of records")))
            .collect()
    }

    /// Records of an endpoint (`students`) in the default database.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.stats()["records"][format!("ed-fi/{endpoint}")]
            .as_u64()
            .unwrap_or(0)
    }

    /// Records created so far (POSTs answered 201).
    pub fn creates(&self) -> u64 {
        self.stats()["creates"].as_u64().expect("creates")
    }

    /// Requests of a method (`GET`) answered so far, whatever their status.
    pub fn requests(&self, method: &str) -> u64 {
        self.stats()["requests"][method]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    }

    /// POSTs answered so far, whatever their status.
    pub fn posts(&self) -> u64 {
        self.requests("POST")
    }

    /// An OAuth token of the client credentials `id`:`secret` (Basic auth, form body); the
    /// answer must be 200.
    pub fn token_for(&self, id: &str, secret: &str) -> String {
        let r = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .expect("POST /oauth/token");
        assert_eq!(r.status(), 200, "token for {id}");
        r.json::<Value>().expect("a token body")["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// A token of the default client (`testkey`:`testsecret`).
    pub fn token(&self) -> String {
        self.token_for("testkey", "testsecret")
    }

    /// POST a JSON body to the data API (`/ed-fi/students`).
    pub fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::blocking::Response {
        self.http
            .post(self.data(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .expect("POST")
    }

    /// GET from the data API (`/ed-fi/students?limit=0&totalCount=true`).
    pub fn get(&self, token: &str, path_and_query: &str) -> reqwest::blocking::Response {
        self.http
            .get(self.data(path_and_query))
            .bearer_auth(token)
            .send()
            .expect("GET")
    }

    /// DELETE in the data API (`/ed-fi/students/{id}`).
    pub fn delete(&self, token: &str, path: &str) -> reqwest::blocking::Response {
        self.http
            .delete(self.data(path))
            .bearer_auth(token)
            .send()
            .expect("DELETE")
    }
}

/// `edfi-sandbox generate` into `out`: (endpoint, lines) of every file written, in dependency
/// order (the generator's stdout: `{lines}\t{endpoint}`).
pub fn generate(out: &Path, students: usize, seed: u64) -> Vec<(String, u64)> {
    let o = Command::new(bin("edfi-sandbox"))
        .args(["generate", "--out"])
        .arg(out)
        .args([
            "--students",
            &students.to_string(),
            "--rng-seed",
            &seed.to_string(),
        ])
        .output()
        .expect("run edfi-sandbox generate");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| {
            let (n, e) = l.split_once('\t').expect("{lines}\\t{endpoint}");
            (e.to_string(), n.parse().expect("a number of lines"))
        })
        .collect()
}

/// Write `dir/lightbeam.yaml`, the config of either lightbeam (ours or the Python one): the
/// sandbox at `base` with the default client, the data in `data`, state in `dir/state`,
/// `connection` lines under `connection:` (e.g. `"  pool_size: 8\n"`; `verify_ssl: true` is
/// added unless given: the Python tool has no default for it), and `extra` top-level YAML lines
/// (e.g. `"log_level: INFO\n"`).
pub fn write_lightbeam_config(
    dir: &Path,
    data: &Path,
    base: &str,
    connection: &str,
    extra: &str,
) -> PathBuf {
    let path = dir.join("lightbeam.yaml");
    let verify = if connection.contains("verify_ssl") {
        ""
    } else {
        "  verify_ssl: true\n"
    };
    let text = format!(
        "state_dir: {state}\ndata_dir: {data}/\nedfi_api:\n  base_url: {base}\n  mode: shared_instance\n  client_id: testkey\n  client_secret: testsecret\nconnection:\n{verify}{connection}{extra}",
        state = dir.join("state").display(),
        data = data.display(),
    );
    std::fs::write(&path, text).expect("write lightbeam.yaml");
    path
}

/// The lines of generated files (as [`generate`] returns them).
pub fn total_lines(files: &[(String, u64)]) -> u64 {
    files.iter().map(|(_, n)| n).sum()
}

/// The Python lightbeam: `LIGHTBEAM_PY`, or `.venv/bin/lightbeam` of the repository
/// (`scripts/setup.sh` installs it there).
pub fn python_lightbeam_exe() -> PathBuf {
    let exe = std::env::var_os("LIGHTBEAM_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/lightbeam"));
    assert!(
        exe.exists(),
        "the Python lightbeam is missing at {}: run `bash scripts/setup.sh`",
        exe.display()
    );
    exe
}

/// Run the Python lightbeam in `dir` (unbuffered, so its output keeps its order).
pub fn python_lightbeam(dir: &Path, args: &[&str]) -> Output {
    Command::new(python_lightbeam_exe())
        .args(args)
        .current_dir(dir)
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run the Python lightbeam")
}

/// stdout then stderr of a run, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_names_files_that_exist() {
        for v in Version::ALL {
            let args = v.serve_args();
            assert_eq!(args.len(), 8, "{v:?}");
            for pair in args.chunks(2) {
                assert!(pair[0].starts_with("--"), "{v:?}: {pair:?}");
                assert!(Path::new(&pair[1]).exists(), "{v:?}: {}", pair[1]);
            }
        }
    }

    #[test]
    fn tmp_dir_is_fresh_and_empty() {
        let d = tmp_dir("testkit-self");
        std::fs::write(d.join("x"), "1").unwrap();
        let again = tmp_dir("testkit-self");
        assert_eq!(d, again);
        assert_eq!(std::fs::read_dir(&again).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&again);
    }
}
