//! The web app's pure logic, built and unit-tested natively too: the config form and the config
//! text it becomes (validated by the core's `Config::from_yaml`, so messages match the CLI), the
//! paths of dropped files, and small formatting helpers.

use indexmap::IndexMap;
use lightbeam_core::config::{ApiMode, Config, ConfigError, LoadOptions};
use serde_json::{Map, Value};

/// The fields of the config form, as typed (strings, so that wrong values reach the core's
/// validation and get its messages).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigForm {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub mode: String,
    pub year: String,
    pub instance_code: String,
    pub namespace: String,
    /// One `namespace: endpoint, endpoint` per line.
    pub namespace_overrides: String,
    pub pool_size: String,
    pub num_retries: String,
    pub timeout: String,
    /// Keys of a loaded config file that the form does not show (validate, fetch, count,
    /// oauth_url...), kept as they were; the secret is never among them.
    pub extras: Map<String, Value>,
}

/// The form fields, their config key paths and labels.
pub const FORM_FIELDS: [(&str, &str); 11] = [
    ("base_url", "edfi_api.base_url"),
    ("client_id", "edfi_api.client_id"),
    ("client_secret", "edfi_api.client_secret"),
    ("mode", "edfi_api.mode"),
    ("year", "edfi_api.year"),
    ("instance_code", "edfi_api.instance_code"),
    ("namespace", "namespace"),
    ("namespace_overrides", "namespace_overrides"),
    ("pool_size", "connection.pool_size"),
    ("num_retries", "connection.num_retries"),
    ("timeout", "connection.timeout"),
];

/// The form field (its id) a config key path belongs to, if the form shows it.
pub fn field_of_path(path: &str) -> Option<&'static str> {
    FORM_FIELDS
        .iter()
        .find(|(_, p)| {
            path == *p || path.starts_with(&format!("{p}.")) || path.starts_with(&format!("{p}["))
        })
        .map(|(f, _)| *f)
}

/// A config problem for the page: the message (as the CLI words it) and the form field it is
/// about.
#[derive(Debug, Clone, PartialEq)]
pub struct FormError {
    pub message: String,
    pub field: Option<&'static str>,
}

impl Default for ConfigForm {
    fn default() -> Self {
        ConfigForm::from_config(&Config::default())
    }
}

/// A number if the text is one, else the text (the core then says what it expected).
fn number_or_text(text: &str) -> Value {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = t.parse::<f64>() {
        if f.is_finite() {
            return Value::from(f);
        }
    }
    Value::from(t)
}

fn insert_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut node = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node.insert(part.to_string(), value);
            return;
        }
        let entry = node
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        node = entry.as_object_mut().expect("made an object above");
    }
}

fn drop_nulls(v: &mut Value) {
    if let Value::Object(m) = v {
        m.retain(|_, x| !x.is_null());
        for x in m.values_mut() {
            drop_nulls(x);
        }
    }
}

fn remove_path(root: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            root.remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(m)) = root.get_mut(head) {
                remove_path(m, rest);
            }
        }
    }
}

/// Parses `namespace: endpoint, endpoint` lines.
pub fn parse_overrides(text: &str) -> Result<IndexMap<String, Vec<String>>, FormError> {
    let mut out = IndexMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((ns, eps)) = line.split_once(':') else {
            return Err(FormError {
                message: format!(
                    "config error: namespace_overrides: line {}: expected `namespace: endpoint, endpoint`, got {line:?}",
                    i + 1
                ),
                field: Some("namespace_overrides"),
            });
        };
        let eps: Vec<String> = eps
            .split(',')
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        out.insert(ns.trim().to_string(), eps);
    }
    Ok(out)
}

fn format_overrides(o: &IndexMap<String, Vec<String>>) -> String {
    o.iter()
        .map(|(ns, eps)| format!("{ns}: {}", eps.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigForm {
    /// The form showing a config (the secret included; the caller decides what to keep).
    pub fn from_config(config: &Config) -> ConfigForm {
        let api = &config.edfi_api;
        let mut extras = match serde_json::to_value(config) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for (_, path) in FORM_FIELDS {
            remove_path(&mut extras, path);
        }
        let mut v = Value::Object(extras);
        drop_nulls(&mut v);
        let Value::Object(extras) = v else {
            unreachable!("an object stays an object")
        };
        ConfigForm {
            base_url: api.base_url.clone(),
            client_id: api.client_id.clone(),
            client_secret: api.client_secret.expose().to_string(),
            mode: api.mode.as_str().to_string(),
            year: api.year.map(|y| y.to_string()).unwrap_or_default(),
            instance_code: api.instance_code.clone().unwrap_or_default(),
            namespace: config.namespace.clone(),
            namespace_overrides: config
                .namespace_overrides
                .as_ref()
                .map(format_overrides)
                .unwrap_or_default(),
            pool_size: config.connection.pool_size.to_string(),
            num_retries: config.connection.num_retries.to_string(),
            timeout: format_number(config.connection.timeout),
            extras,
        }
    }

    /// The config as text the core reads (JSON, which is YAML). Contains the secret.
    pub fn to_config_text(&self) -> Result<String, FormError> {
        let mut root = self.extras.clone();
        let mut set = |path: &str, v: Value| insert_path(&mut root, path, v);
        set("edfi_api.base_url", Value::from(self.base_url.trim()));
        set("edfi_api.client_id", Value::from(self.client_id.trim()));
        set(
            "edfi_api.client_secret",
            Value::from(self.client_secret.as_str()),
        );
        set("edfi_api.mode", Value::from(self.mode.trim()));
        if !self.year.trim().is_empty() {
            set("edfi_api.year", number_or_text(&self.year));
        }
        if !self.instance_code.trim().is_empty() {
            set(
                "edfi_api.instance_code",
                Value::from(self.instance_code.trim()),
            );
        }
        set("namespace", Value::from(self.namespace.trim()));
        let overrides = parse_overrides(&self.namespace_overrides)?;
        if !overrides.is_empty() {
            let o: Map<String, Value> = overrides
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect();
            set("namespace_overrides", Value::Object(o));
        }
        set("connection.pool_size", number_or_text(&self.pool_size));
        set("connection.num_retries", number_or_text(&self.num_retries));
        set("connection.timeout", number_or_text(&self.timeout));
        serde_json::to_string_pretty(&Value::Object(root)).map_err(|e| FormError {
            message: format!("config error: {e}"),
            field: None,
        })
    }

    /// The validated config, with the CLI's messages (without line numbers, which would point
    /// into generated text).
    pub fn to_config(&self, current_year: i32) -> Result<Config, FormError> {
        let text = self.to_config_text()?;
        let opts = LoadOptions {
            current_year: Some(current_year),
            ..LoadOptions::default()
        };
        Config::from_yaml(&text, &opts).map_err(form_error)
    }

    /// The form without its secret (what is remembered unless the user opts in).
    pub fn without_secret(&self) -> ConfigForm {
        ConfigForm {
            client_secret: String::new(),
            ..self.clone()
        }
    }

    /// A compact JSON record of the form, for local storage.
    pub fn to_storage(&self) -> String {
        let mut m = Map::new();
        for (k, v) in [
            ("base_url", &self.base_url),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("mode", &self.mode),
            ("year", &self.year),
            ("instance_code", &self.instance_code),
            ("namespace", &self.namespace),
            ("namespace_overrides", &self.namespace_overrides),
            ("pool_size", &self.pool_size),
            ("num_retries", &self.num_retries),
            ("timeout", &self.timeout),
        ] {
            m.insert(k.to_string(), Value::from(v.as_str()));
        }
        m.insert("extras".to_string(), Value::Object(self.extras.clone()));
        Value::Object(m).to_string()
    }

    pub fn from_storage(text: &str) -> Option<ConfigForm> {
        let v: Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Some(ConfigForm {
            base_url: s("base_url"),
            client_id: s("client_id"),
            client_secret: s("client_secret"),
            mode: s("mode"),
            year: s("year"),
            instance_code: s("instance_code"),
            namespace: s("namespace"),
            namespace_overrides: s("namespace_overrides"),
            pool_size: s("pool_size"),
            num_retries: s("num_retries"),
            timeout: s("timeout"),
            extras: v
                .get("extras")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// A config problem of the form, worded as the CLI words it but without a line number.
fn form_error(e: ConfigError) -> FormError {
    match &e {
        ConfigError::Invalid { path, message, .. } => FormError {
            message: if path.is_empty() {
                format!("config error: {message}")
            } else {
                format!("config error: {path}: {message}")
            },
            field: field_of_path(path),
        },
        _ => FormError {
            message: e.to_string(),
            field: None,
        },
    }
}

/// Loads a `lightbeam.yaml` file's text: the CLI's message (with its line) on error.
pub fn load_config_file(
    file_name: &str,
    text: &str,
    current_year: i32,
) -> Result<Config, FormError> {
    let opts = LoadOptions {
        current_year: Some(current_year),
        ..LoadOptions::default()
    };
    Config::from_yaml(text, &opts).map_err(|e| {
        let field = match &e {
            ConfigError::Invalid { path, .. } => field_of_path(path),
            _ => None,
        };
        FormError {
            message: format!("{file_name}: {e}"),
            field,
        }
    })
}

/// Modes for the form's select, as the config spells them.
pub fn modes() -> Vec<&'static str> {
    ApiMode::ALL.iter().map(|m| m.as_str()).collect()
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Paths of picked or dropped files made relative to the data folder: when every path lies in
/// one top folder (a dropped or picked folder), that folder is the data folder and is removed.
/// Returns the data folder's name (empty when files were given directly) and the paths.
pub fn relative_paths(paths: &[String]) -> (String, Vec<String>) {
    let norm: Vec<String> = paths
        .iter()
        .map(|p| p.replace('\\', "/").trim_start_matches('/').to_string())
        .collect();
    let top = norm
        .first()
        .and_then(|p| p.split_once('/'))
        .map(|(t, _)| t.to_string());
    if let Some(top) = top {
        let prefix = format!("{top}/");
        if norm.iter().all(|p| p.starts_with(&prefix)) {
            return (
                top,
                norm.iter().map(|p| p[prefix.len()..].to_string()).collect(),
            );
        }
    }
    (String::new(), norm)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as `12.3 MB`.
pub fn human_bytes(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}

/// Local time as the CLI writes it in results files: `2024-05-01T13:45:12.123000`.
pub fn iso_local(year: i32, month: u32, day: u32, h: u32, m: u32, s: u32, ms: u32) -> String {
    format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:06}",
        ms * 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ConfigForm {
        ConfigForm {
            base_url: "http://localhost:8001".into(),
            client_id: "testkey".into(),
            client_secret: "testsecret".into(),
            mode: "shared_instance".into(),
            ..ConfigForm::default()
        }
    }

    #[test]
    fn a_filled_form_is_a_valid_config() {
        let c = form().to_config(2025).expect("valid");
        assert_eq!(c.edfi_api.base_url, "http://localhost:8001");
        assert_eq!(c.edfi_api.client_secret.expose(), "testsecret");
        assert_eq!(c.connection.pool_size, 8);
        assert_eq!(c.namespace, "ed-fi");
        assert_eq!(c.data_url(), "http://localhost:8001/data/v3");
    }

    #[test]
    fn wrong_values_get_the_cli_messages_and_their_field() {
        let mut f = form();
        f.pool_size = "eight".into();
        let e = f.to_config(2025).unwrap_err();
        assert_eq!(e.field, Some("pool_size"));
        assert!(
            e.message
                .starts_with("config error: connection.pool_size: expected a whole number"),
            "{}",
            e.message
        );
        let mut f = form();
        f.base_url = "localhost".into();
        let e = f.to_config(2025).unwrap_err();
        assert_eq!(e.field, Some("base_url"));
        assert!(
            e.message.contains("must start with http://"),
            "{}",
            e.message
        );
        let mut f = form();
        f.mode = "instance_year_specific".into();
        let e = f.to_config(2025).unwrap_err();
        assert_eq!(e.field, Some("instance_code"));
    }

    #[test]
    fn year_and_overrides() {
        let mut f = form();
        f.mode = "year_specific".into();
        f.year = "2024".into();
        f.namespace_overrides = "tpdm: candidates, evaluations\n\n".into();
        let c = f.to_config(2025).unwrap();
        assert_eq!(c.data_url(), "http://localhost:8001/data/v3/2024");
        assert_eq!(c.namespace_for("candidates"), "tpdm");
        f.namespace_overrides = "nonsense".into();
        assert_eq!(
            f.to_config(2025).unwrap_err().field,
            Some("namespace_overrides")
        );
    }

    #[test]
    fn a_loaded_file_fills_the_form_and_keeps_other_keys() {
        let yaml = "edfi_api:\n  base_url: https://api.example.org\n  client_id: a\n  client_secret: b\n  mode: year_specific\n  year: 2023\nconnection:\n  pool_size: 4\nfetch:\n  page_size: 500\nstate_dir: ~/.lightbeam\n";
        let c = load_config_file("lightbeam.yaml", yaml, 2025).unwrap();
        let f = ConfigForm::from_config(&c);
        assert_eq!(f.pool_size, "4");
        assert_eq!(f.year, "2023");
        assert_eq!(f.client_secret, "b");
        assert!(!Value::Object(f.extras.clone())
            .to_string()
            .contains("\"b\""));
        let again = f.to_config(2025).unwrap();
        assert_eq!(again.fetch.page_size, 500);
        assert_eq!(again.edfi_api.year, Some(2023));
        assert_eq!(again.connection.pool_size, 4);
    }

    #[test]
    fn a_bad_file_names_its_line() {
        let yaml = "edfi_api:\n  base_url: http://x\nconnection:\n  pool_size: eight\n";
        let e = load_config_file("lightbeam.yaml", yaml, 2025).unwrap_err();
        assert!(
            e.message
                .starts_with("lightbeam.yaml: config error at line 4: connection.pool_size:"),
            "{}",
            e.message
        );
        assert_eq!(e.field, Some("pool_size"));
    }

    #[test]
    fn storage_round_trip_and_secret_removal() {
        let f = form();
        assert_eq!(ConfigForm::from_storage(&f.to_storage()).unwrap(), f);
        assert!(!f.without_secret().to_storage().contains("testsecret"));
    }

    #[test]
    fn relative_paths_of_a_folder() {
        let (dir, p) = relative_paths(&["data/students.jsonl".into(), "data/x/a.jsonl".into()]);
        assert_eq!(dir, "data");
        assert_eq!(p, vec!["students.jsonl", "x/a.jsonl"]);
        let (dir, p) = relative_paths(&["students.jsonl".into(), "schools.jsonl".into()]);
        assert_eq!(dir, "");
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn formatting() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(human_bytes(2_500_000.0), "2.5 MB");
        assert_eq!(
            iso_local(2024, 5, 1, 3, 4, 5, 12),
            "2024-05-01T03:04:05.012000"
        );
    }
}
