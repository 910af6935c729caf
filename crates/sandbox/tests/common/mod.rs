//! Starting a real `edfi-sandbox` process for tests and talking to it over HTTP.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/edfi")
}

/// The OpenAPI documents, dependencies and descriptor seeds of one API version.
#[derive(Clone, Copy, Debug)]
pub enum Version {
    /// ODS/API 7.x, DS 5.0 (OpenAPI 3)
    Ds50,
    /// ODS/API 6.1, DS 4.0 (OpenAPI 3)
    Ds40,
    /// ODS/API 5.3, DS 3.3.1-b (Swagger 2.0 resources)
    Swagger53,
}

impl Version {
    pub fn args(self) -> Vec<String> {
        let s = shared();
        let (res, desc, deps, seeds) = match self {
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
            Version::Swagger53 => (
                "odsapi-5.3_resources_swagger2_ds3.3.1b-tpdm.json",
                "odsapi-5.3_descriptors_openapi3-converted_ds3.3.json",
                "odsapi-7.x_ds-4.0.0_dependencies.json",
                "ds-3.3.1-a_jsonl",
            ),
        };
        vec![
            "--resources-openapi".into(),
            s.join("openapi").join(res).display().to_string(),
            "--descriptors-openapi".into(),
            s.join("openapi").join(desc).display().to_string(),
            "--dependencies".into(),
            s.join("dependencies").join(deps).display().to_string(),
            "--seed-dir".into(),
            s.join("descriptors").join(seeds).display().to_string(),
        ]
    }
}

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
    pub fn start(version: Version, extra: &[&str]) -> Sandbox {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_edfi-sandbox"));
        cmd.arg("serve").args(version.args()).args(extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start edfi-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read base URL");
        let base = line.trim().to_string();
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "first line is the base URL: {base:?}"
        );
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Sandbox { child, base, http }
    }

    pub fn token_for(&self, id: &str, secret: &str) -> String {
        let r = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn token(&self) -> String {
        self.token_for("testkey", "testsecret")
    }

    pub fn data(&self, path: &str) -> String {
        format!("{}/data/v3{}", self.base, path)
    }

    pub fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::blocking::Response {
        self.http
            .post(self.data(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap()
    }

    pub fn get(&self, token: &str, path_and_query: &str) -> reqwest::blocking::Response {
        self.http
            .get(self.data(path_and_query))
            .bearer_auth(token)
            .send()
            .unwrap()
    }

    pub fn delete(&self, token: &str, path: &str) -> reqwest::blocking::Response {
        self.http
            .delete(self.data(path))
            .bearer_auth(token)
            .send()
            .unwrap()
    }

    pub fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/stats", self.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }
}
