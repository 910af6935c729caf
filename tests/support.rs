//! Helpers of the end-to-end journeys: the built binaries, sandbox processes, generated data,
//! config files and lightbeam runs.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;

/// `../shared/edfi` beside the repository.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/edfi")
}

fn target_dir() -> PathBuf {
    // target/{profile}/deps/{test binary}
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .to_path_buf()
}

static BUILD: Once = Once::new();

/// A binary of the workspace (`lightbeam`, `edfi-sandbox`), built if needed.
pub fn bin(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    BUILD.call_once(|| {
        if !target_dir().join("lightbeam").exists() || !target_dir().join("edfi-sandbox").exists() {
            let release = target_dir().ends_with("release");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "-p", "lightbeam-cli", "-p", "edfi-sandbox"]);
            if release {
                cmd.arg("--release");
            }
            assert!(cmd.status().expect("cargo build").success());
        }
    });
    path
}

/// A fresh temporary directory for one test.
pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lb-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// The DS 5.0 (ODS/API 7.x) documents and descriptor seeds.
pub fn ds50_args() -> Vec<String> {
    let s = shared();
    [
        (
            "--resources-openapi",
            s.join("openapi/odsapi-7.x_resources_openapi3_ds5.0.json"),
        ),
        (
            "--descriptors-openapi",
            s.join("openapi/odsapi-7.x_descriptors_openapi3_ds5.0.json"),
        ),
        (
            "--dependencies",
            s.join("dependencies/odsapi-7.x_ds-5.2.0_dependencies.json"),
        ),
        ("--seed-dir", s.join("descriptors/ds-5.2.0_jsonl")),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v.display().to_string()])
    .collect()
}

/// A running `edfi-sandbox serve`.
pub struct Sandbox {
    child: Child,
    pub base: String,
    pub http: reqwest::blocking::Client,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    pub fn start(extra: &[&str]) -> Sandbox {
        let mut child = Command::new(bin("edfi-sandbox"))
            .arg("serve")
            .args(ds50_args())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start edfi-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("base URL line");
        let base = line.trim().to_string();
        assert!(
            base.starts_with("http://") || base.starts_with("https://"),
            "{base:?}"
        );
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .danger_accept_invalid_certs(true)
            .build()
            .expect("client");
        Sandbox { child, base, http }
    }

    pub fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/stats", self.base))
            .send()
            .and_then(|r| r.json())
            .expect("stats")
    }

    /// Records of an endpoint (`students`) in the default database.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.stats()["records"][format!("ed-fi/{endpoint}")]
            .as_u64()
            .unwrap_or(0)
    }

    /// POSTs answered so far, by status.
    pub fn posts(&self) -> u64 {
        self.stats()["requests"]["POST"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    }
}

/// `edfi-sandbox generate`: (endpoint, lines) in dependency order.
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
        .expect("run generate");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let (n, e) = l.split_once('\t')?;
            Some((e.to_string(), n.parse().ok()?))
        })
        .collect()
}

/// Write `lightbeam.yaml` in `dir` for the sandbox at `base`, with extra YAML appended
/// (top-level keys; `connection:` is written here, so pass its settings in `connection`).
pub fn write_config(dir: &Path, base: &str, connection: &str, extra: &str) -> PathBuf {
    let path = dir.join("lightbeam.yaml");
    // the Python tool has no default for verify_ssl
    let verify = if connection.contains("verify_ssl") {
        ""
    } else {
        "  verify_ssl: true\n"
    };
    let text = format!(
        "state_dir: {state}\ndata_dir: {data}/\nedfi_api:\n  base_url: {base}\n  mode: shared_instance\n  client_id: testkey\n  client_secret: testsecret\nconnection:\n{verify}{connection}{extra}",
        state = dir.join("state").display(),
        data = dir.join("data").display(),
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Run our `lightbeam` in `dir`.
pub fn lightbeam(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin("lightbeam"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run lightbeam")
}

/// Run the Python lightbeam (LIGHTBEAM_PY, or .venv/bin/lightbeam of the repository).
pub fn python_lightbeam(dir: &Path, args: &[&str]) -> Output {
    let exe = std::env::var_os("LIGHTBEAM_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/lightbeam")
        });
    assert!(
        exe.exists(),
        "the Python lightbeam is missing at {}: run `bash scripts/setup.sh`",
        exe.display()
    );
    Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run the Python lightbeam")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read JSON file"))
        .expect("valid JSON")
}

/// The lines of generated files (as `generate` returns them).
pub fn total_lines(files: &[(String, u64)]) -> u64 {
    files.iter().map(|(_, n)| n).sum()
}

/// Every payload of the state database (`{dir}/state/lightbeam.sqlite`) with its last status,
/// after checking the database is not corrupt.
pub fn state_statuses(dir: &Path) -> std::collections::BTreeMap<(String, String), u16> {
    let db = rusqlite::Connection::open(dir.join("state/lightbeam.sqlite")).expect("open state");
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ok, "ok", "state database is not corrupt");
    let mut stmt = db
        .prepare("SELECT endpoint, hash, status FROM payload_state")
        .expect("the payload_state table");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                r.get::<_, u16>(2)?,
            ))
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}
