//! The lightbeam YAML config (drop-in compatible with the Python tool's `lightbeam.yaml`):
//! typed structs with every key and default, `${ENV_VAR}` expansion (with `-p/--params`
//! values overriding the environment), `--set key.path value` overrides auto-typed as the
//! Python tool's `autocast`, and validation. Every error names the key path and the line.
//!
//! No I/O: the caller reads the file and passes its text, an environment lookup closure,
//! the current year and the home directory.
//!
//! - `mod.rs`: the whole [`Config`], its errors, and what it answers (data URL, namespaces);
//! - `sections`: the sections' types and defaults (`edfi_api`, `connection`, `validate`...);
//! - `load`: from text to a config (`${VAR}` expansion, `-p`, `--set`, auto-typing);
//! - `check`: the checks types alone do not make;
//! - `yaml` and `de`: the YAML reader that keeps lines, and serde over it.

mod check;
mod de;
mod load;
mod sections;
mod yaml;

use crate::ports::LogLevel;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use load::{
    autocast, expand_user, expand_vars, parse_params, parse_set_args, AutoValue, LoadOptions,
};
pub use sections::*;
pub use yaml::Origin;

/// The config file names looked for in the working directory when `-c` is not given.
pub const DEFAULT_CONFIG_FILES: [&str; 2] = ["lightbeam.yaml", "lightbeam.yml"];

/// A config problem. Its `Display` is the one-line reason shown to the user, e.g.
/// `config error at line 7: connection.pool_size: expected a whole number (0 or more), got "eight"`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The YAML itself could not be parsed.
    #[error("config error at line {line}, column {column}: YAML could not be parsed: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// The document is empty or not a mapping.
    #[error("config error: {0}")]
    NotAMapping(String),
    /// A key or value is wrong: unknown key, wrong type, invalid value.
    #[error("{}", located_message(*origin, path, message))]
    Invalid {
        origin: Origin,
        path: String,
        message: String,
    },
    /// `-p/--params` is not a JSON object of strings.
    #[error("config error: -p/--params must be a JSON object like '{{\"VAR\": \"value\"}}': {0}")]
    Params(String),
    /// `--set` was given an odd number of strings, or a path that cannot be set.
    #[error("config error: {0}")]
    Set(String),
}

fn located_message(origin: Origin, path: &str, message: &str) -> String {
    let head = match origin {
        Origin::Line(line) => format!("config error at line {line}"),
        Origin::Override if !path.is_empty() => {
            return format!("config error in --set {path}: {message}")
        }
        Origin::Override => "config error in --set".to_string(),
        Origin::Default => "config error".to_string(),
    };
    if path.is_empty() {
        format!("{head}: {message}")
    } else {
        format!("{head}: {path}: {message}")
    }
}

/// The whole config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// No state tracking (and no cache) when absent.
    pub state_dir: Option<String>,
    pub data_dir: String,
    pub namespace: String,
    /// `{namespace: [endpoint, ...]}`: endpoints that live in another namespace.
    pub namespace_overrides: Option<IndexMap<String, Vec<String>>>,
    pub edfi_api: EdfiApi,
    pub connection: Connection,
    pub count: CountConfig,
    pub fetch: FetchConfig,
    pub send: SendConfig,
    pub validate: ValidateConfig,
    pub force_delete: bool,
    pub log_level: LogLevel,
    pub show_stacktrace: bool,
    /// Where each key path came from (lines of the file, `--set`), for error messages.
    #[serde(skip)]
    origins: IndexMap<String, Origin>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            state_dir: None,
            data_dir: "./".to_string(),
            namespace: "ed-fi".to_string(),
            namespace_overrides: None,
            edfi_api: EdfiApi::default(),
            connection: Connection::default(),
            count: CountConfig::default(),
            fetch: FetchConfig::default(),
            send: SendConfig::default(),
            validate: ValidateConfig::default(),
            force_delete: false,
            log_level: LogLevel::Info,
            show_stacktrace: false,
            origins: IndexMap::new(),
        }
    }
}

impl Config {
    /// Where a key path (`connection.pool_size`) was set; [`Origin::Default`] when it was not.
    pub fn origin_of(&self, path: &str) -> Origin {
        let mut p = path;
        loop {
            if let Some(o) = self.origins.get(p) {
                return *o;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return Origin::Default,
            }
        }
    }

    fn invalid(&self, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin_of(path),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// Whether payload state (hashes of sent lines) is tracked.
    pub fn tracks_state(&self) -> bool {
        self.state_dir.is_some()
    }

    /// `base_url/data/v3` [+ `/{year}` | `/{instance_code}/{year}`], without double slashes: the
    /// data URL the Python tool builds, and ours for an ODS/API without tenant or context routes
    /// ([`crate::api::routes`] decides, with discovery; a session's is `session.urls.data`).
    pub fn data_url(&self) -> String {
        let api = &self.edfi_api;
        let mut url = format!("{}/data/v3", api.base_url.trim_end_matches('/'));
        let year = api.year.map(|y| y.to_string()).unwrap_or_default();
        match api.mode {
            ApiMode::SharedInstance | ApiMode::Sandbox | ApiMode::DistrictSpecific => {}
            ApiMode::YearSpecific => {
                url.push('/');
                url.push_str(&year);
            }
            ApiMode::InstanceYearSpecific => {
                url.push('/');
                url.push_str(api.instance_code.as_deref().unwrap_or("").trim_matches('/'));
                url.push('/');
                url.push_str(&year);
            }
        }
        url
    }

    /// The namespace `endpoint` is sent to: the first `namespace_overrides` entry that lists it,
    /// else `namespace`.
    pub fn namespace_for(&self, endpoint: &str) -> &str {
        namespace_for_endpoint(&self.namespace, self.namespace_overrides.as_ref(), endpoint)
    }

    /// `namespace` then every `namespace_overrides` key, without repeats (the namespaces whose
    /// `/{namespace}/` prefix is stripped from dependency resources).
    pub fn namespaces(&self) -> Vec<String> {
        let mut out = vec![self.namespace.clone()];
        if let Some(o) = &self.namespace_overrides {
            for ns in o.keys() {
                if !out.contains(ns) {
                    out.push(ns.clone());
                }
            }
        }
        out
    }
}

/// The namespace of an endpoint given `namespace` and `namespace_overrides`.
pub fn namespace_for_endpoint<'a>(
    namespace: &'a str,
    overrides: Option<&'a IndexMap<String, Vec<String>>>,
    endpoint: &str,
) -> &'a str {
    if let Some(overrides) = overrides {
        for (ns, endpoints) in overrides {
            if endpoints.iter().any(|e| e == endpoint) {
                return ns;
            }
        }
    }
    namespace
}

/// Joins URL parts with single slashes (Python `util.url_join`, which also keeps parts from
/// producing `//`).
pub fn url_join(parts: &[&str]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let p = part.trim_end_matches('/');
        if i == 0 {
            out.push_str(p);
        } else {
            out.push('/');
            out.push_str(p.trim_start_matches('/'));
        }
    }
    out
}

#[cfg(test)]
mod tests;
