//! The config form and the config text it becomes (validated by the core's `Config::from_yaml`,
//! so messages match the CLI), and what the page remembers of it in local storage.

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

    /// The text fields, by their id (the storage keys).
    fn fields_mut(&mut self) -> [(&'static str, &mut String); 11] {
        [
            ("base_url", &mut self.base_url),
            ("client_id", &mut self.client_id),
            ("client_secret", &mut self.client_secret),
            ("mode", &mut self.mode),
            ("year", &mut self.year),
            ("instance_code", &mut self.instance_code),
            ("namespace", &mut self.namespace),
            ("namespace_overrides", &mut self.namespace_overrides),
            ("pool_size", &mut self.pool_size),
            ("num_retries", &mut self.num_retries),
            ("timeout", &mut self.timeout),
        ]
    }

    /// A compact JSON record of the form, for local storage.
    pub fn to_storage(&self) -> String {
        let mut form = self.clone();
        let mut m: Map<String, Value> = form
            .fields_mut()
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::from(v.as_str())))
            .collect();
        m.insert("extras".to_string(), Value::Object(self.extras.clone()));
        Value::Object(m).to_string()
    }

    /// The form a [`ConfigForm::to_storage`] record holds (missing fields blank).
    pub fn from_storage(text: &str) -> Option<ConfigForm> {
        let v: Value = serde_json::from_str(text).ok()?;
        let mut form = ConfigForm::default();
        for (k, field) in form.fields_mut() {
            *field = v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        }
        form.extras = v
            .get("extras")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Some(form)
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

    /// The error of the test form with one change.
    fn error_of(change: impl FnOnce(&mut ConfigForm)) -> FormError {
        let mut f = form();
        change(&mut f);
        f.to_config(2025).unwrap_err()
    }

    #[test]
    fn wrong_values_get_the_cli_messages_and_their_field() {
        let e = error_of(|f| f.pool_size = "eight".into());
        assert_eq!(e.field, Some("pool_size"));
        assert!(
            e.message
                .starts_with("config error: connection.pool_size: expected a whole number"),
            "{}",
            e.message
        );
        let e = error_of(|f| f.base_url = "localhost".into());
        assert_eq!(e.field, Some("base_url"));
        assert!(
            e.message.contains("must start with http://"),
            "{}",
            e.message
        );
        let e = error_of(|f| f.mode = "instance_year_specific".into());
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
}
