//! The lightbeam YAML config (drop-in compatible with the Python tool's `lightbeam.yaml`):
//! typed structs with every key and default, `${ENV_VAR}` expansion (with `-p/--params`
//! values overriding the environment), `--set key.path value` overrides auto-typed as the
//! Python tool's `autocast`, and validation. Every error names the key path and the line.
//!
//! No I/O: the caller reads the file and passes its text, an environment lookup closure,
//! the current year and the home directory.

mod de;
mod yaml;

use std::fmt;

use crate::ports::LogLevel;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use yaml::Origin;
use yaml::{Cast, KeyNode, Node, NodeKind, Scalar};

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

/// The Ed-Fi API mode, which decides the data URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiMode {
    SharedInstance,
    Sandbox,
    DistrictSpecific,
    YearSpecific,
    InstanceYearSpecific,
}

impl ApiMode {
    pub const ALL: [ApiMode; 5] = [
        ApiMode::SharedInstance,
        ApiMode::Sandbox,
        ApiMode::DistrictSpecific,
        ApiMode::YearSpecific,
        ApiMode::InstanceYearSpecific,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiMode::SharedInstance => "shared_instance",
            ApiMode::Sandbox => "sandbox",
            ApiMode::DistrictSpecific => "district_specific",
            ApiMode::YearSpecific => "year_specific",
            ApiMode::InstanceYearSpecific => "instance_year_specific",
        }
    }

    /// Whether the data URL carries a year.
    pub fn needs_year(self) -> bool {
        matches!(self, ApiMode::YearSpecific | ApiMode::InstanceYearSpecific)
    }
}

impl fmt::Display for ApiMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret (the OAuth client secret): never shown by `Debug` and serialized as `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (the token request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(\"\")")
        } else {
            f.write_str("Secret(***)")
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "***" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// `edfi_api` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdfiApi {
    pub base_url: String,
    /// Empty: taken from the discovery document (`urls.oauth`).
    pub oauth_url: String,
    /// Empty: taken from the discovery document (`urls.dependencies`).
    pub dependencies_url: String,
    /// Empty: taken from the discovery document (`urls.openApiMetadata`).
    pub open_api_metadata_url: String,
    pub descriptors_swagger_url: String,
    pub resources_swagger_url: String,
    pub version: u32,
    pub mode: ApiMode,
    /// Defaults to the current year (given to [`Config::from_yaml`]).
    pub year: Option<i32>,
    pub instance_code: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
}

impl Default for EdfiApi {
    fn default() -> Self {
        EdfiApi {
            base_url: String::new(),
            oauth_url: String::new(),
            dependencies_url: String::new(),
            open_api_metadata_url: String::new(),
            descriptors_swagger_url: String::new(),
            resources_swagger_url: String::new(),
            version: 3,
            mode: ApiMode::YearSpecific,
            year: None,
            instance_code: None,
            client_id: String::new(),
            client_secret: Secret::default(),
        }
    }
}

/// `connection` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connection {
    /// Requests in flight at once.
    pub pool_size: u32,
    /// Seconds for a whole request.
    pub timeout: f64,
    /// Retries after the first attempt.
    pub num_retries: u32,
    /// Growth factor of the exponential backoff.
    pub backoff_factor: f64,
    pub retry_statuses: Vec<u16>,
    pub verify_ssl: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            pool_size: 8,
            timeout: 60.0,
            num_retries: 10,
            backoff_factor: 1.5,
            retry_statuses: vec![429, 500, 501, 503, 504],
            verify_ssl: true,
        }
    }
}

/// `count` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountConfig {
    pub separator: String,
}

impl Default for CountConfig {
    fn default() -> Self {
        CountConfig {
            separator: "\t".to_string(),
        }
    }
}

/// `fetch` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    pub page_size: u32,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig { page_size: 100 }
    }
}

/// A validation method: `json` is always checked; `validate.methods` chooses the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationMethod {
    /// The line is a JSON object (always checked, not chosen).
    #[serde(skip_deserializing)]
    Json,
    Schema,
    Descriptors,
    Uniqueness,
    References,
}

impl ValidationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationMethod::Json => "json",
            ValidationMethod::Schema => "schema",
            ValidationMethod::Descriptors => "descriptors",
            ValidationMethod::Uniqueness => "uniqueness",
            ValidationMethod::References => "references",
        }
    }

    /// A method `validate.methods` may name.
    fn parse(s: &str) -> Option<Self> {
        match s {
            "schema" => Some(ValidationMethod::Schema),
            "descriptors" => Some(ValidationMethod::Descriptors),
            "uniqueness" => Some(ValidationMethod::Uniqueness),
            "references" => Some(ValidationMethod::References),
            _ => None,
        }
    }
}

/// `validate.methods`: a list of methods, or `"*"`/`"all"` (the defaults plus references).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationMethods(pub Vec<ValidationMethod>);

impl ValidationMethods {
    pub fn all() -> Self {
        ValidationMethods(vec![
            ValidationMethod::Schema,
            ValidationMethod::Descriptors,
            ValidationMethod::Uniqueness,
            ValidationMethod::References,
        ])
    }

    pub fn contains(&self, m: ValidationMethod) -> bool {
        self.0.contains(&m)
    }
}

impl Default for ValidationMethods {
    fn default() -> Self {
        ValidationMethods(vec![
            ValidationMethod::Schema,
            ValidationMethod::Descriptors,
            ValidationMethod::Uniqueness,
        ])
    }
}

impl<'de> Deserialize<'de> for ValidationMethods {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str =
            "\"*\", \"all\", or a list of: schema, descriptors, uniqueness, references";
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ValidationMethods;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                if s == "*" || s.eq_ignore_ascii_case("all") {
                    return Ok(ValidationMethods::all());
                }
                match ValidationMethod::parse(s) {
                    Some(m) => Ok(ValidationMethods(vec![m])),
                    None => Err(E::custom(format!("expected {EXPECTED}, got {s:?}"))),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(m) = seq.next_element::<ValidationMethod>()? {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                Ok(ValidationMethods(out))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ValidationMethods::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `validate.references.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceBehavior {
    /// The selected references are not validated.
    #[default]
    Exclude,
    /// Only the selected references are validated.
    Include,
}

/// `validate.references` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReferencesConfig {
    /// `endpoint.path.to.someReference` entries.
    pub selector: Vec<String>,
    pub behavior: ReferenceBehavior,
    /// Look references up in the API when not found locally.
    pub remote: bool,
    /// Stop validating after this many failures.
    pub max_failures: Option<u64>,
}

impl Default for ReferencesConfig {
    fn default() -> Self {
        ReferencesConfig {
            selector: Vec::new(),
            behavior: ReferenceBehavior::Exclude,
            remote: true,
            max_failures: None,
        }
    }
}

/// `validate` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateConfig {
    pub methods: ValidationMethods,
    pub references: ReferencesConfig,
    /// `validate+send` sends even when validation found failures (the Python tool's behaviour);
    /// by default it sends only when every payload is valid.
    pub send_on_failure: bool,
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
            validate: ValidateConfig::default(),
            force_delete: false,
            log_level: LogLevel::Info,
            show_stacktrace: false,
            origins: IndexMap::new(),
        }
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// What [`Config::from_yaml`] needs from the world.
pub struct LoadOptions<'a> {
    /// Environment variable lookup (`std::env::var(..).ok()` natively).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// `-p/--params` values; they override environment variables.
    pub params: IndexMap<String, String>,
    /// `--set key.path value` pairs, applied in order (see [`parse_set_args`]).
    pub overrides: Vec<(String, String)>,
    /// Default of `edfi_api.year` (the Python tool uses the current year).
    pub current_year: Option<i32>,
    /// Home directory, to expand a leading `~` in `state_dir` and `data_dir`.
    pub home_dir: Option<String>,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        LoadOptions {
            env: &no_env,
            params: IndexMap::new(),
            overrides: Vec::new(),
            current_year: None,
            home_dir: None,
        }
    }
}

impl Config {
    /// Parses, expands, overrides, types and validates a config file's text.
    pub fn from_yaml(text: &str, opts: &LoadOptions<'_>) -> Result<Config, ConfigError> {
        // a UTF-8 byte order mark (Windows editors) is not part of the first key
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut root = match yaml::parse(text) {
            Ok(Some(node)) => node,
            Ok(None) => {
                return Err(ConfigError::NotAMapping(
                    "the config file is empty; it must be a YAML mapping (key: value lines)"
                        .to_string(),
                ))
            }
            Err(e) => {
                return Err(ConfigError::Syntax {
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })
            }
        };
        if !matches!(root.kind, NodeKind::Map(_)) {
            return Err(ConfigError::NotAMapping(format!(
                "the config file must be a YAML mapping (key: value lines), not {}",
                root.describe()
            )));
        }

        let lookup = |name: &str| -> Option<String> {
            opts.params.get(name).cloned().or_else(|| (opts.env)(name))
        };
        expand_tree(&mut root, &lookup);
        for (path, value) in &opts.overrides {
            set_path(&mut root, path, value)?;
        }

        let mut origins = IndexMap::new();
        collect_origins(&root, "", &mut origins);

        let mut config =
            Config::deserialize(de::NodeDe::new(&root, String::new())).map_err(|e| {
                let (path, origin) = e.location.unwrap_or((String::new(), Origin::Default));
                ConfigError::Invalid {
                    origin,
                    path,
                    message: e.message,
                }
            })?;
        config.origins = origins;
        if config.edfi_api.year.is_none() {
            config.edfi_api.year = opts.current_year;
        }
        if let Some(home) = &opts.home_dir {
            if let Some(dir) = &config.state_dir {
                config.state_dir = Some(expand_user(dir, home));
            }
            config.data_dir = expand_user(&config.data_dir, home);
        }
        config.validate()?;
        Ok(config)
    }

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

    /// Checks the values that types alone do not (the first problem is returned).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let api = &self.edfi_api;
        if api.base_url.trim().is_empty() {
            return Err(self.invalid(
                "edfi_api.base_url",
                "is required (the Ed-Fi API's base URL)",
            ));
        }
        let lower = api.base_url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(self.invalid(
                "edfi_api.base_url",
                format!(
                    "must start with http:// or https://, got {:?}",
                    api.base_url
                ),
            ));
        }
        if api.version != 3 {
            return Err(self.invalid(
                "edfi_api.version",
                format!(
                    "only version 3 (Ed-Fi ODS/API v3+) is supported, got {}",
                    api.version
                ),
            ));
        }
        if api.mode.needs_year() {
            match api.year {
                None => {
                    return Err(self.invalid(
                        "edfi_api.year",
                        format!("is required for mode {}", api.mode),
                    ))
                }
                Some(y) if y <= 0 => {
                    return Err(self.invalid(
                        "edfi_api.year",
                        format!("expected a positive year, got {y}"),
                    ))
                }
                _ => {}
            }
        }
        if api.mode == ApiMode::InstanceYearSpecific
            && api
                .instance_code
                .as_deref()
                .is_none_or(|c| c.trim().is_empty())
        {
            return Err(self.invalid(
                "edfi_api.instance_code",
                "is required for mode instance_year_specific",
            ));
        }
        let c = &self.connection;
        if c.pool_size < 1 {
            return Err(self.invalid("connection.pool_size", "must be at least 1"));
        }
        if !(c.timeout.is_finite() && c.timeout > 0.0) {
            return Err(self.invalid(
                "connection.timeout",
                format!("must be a positive number of seconds, got {}", c.timeout),
            ));
        }
        if !(c.backoff_factor.is_finite() && c.backoff_factor > 0.0) {
            return Err(self.invalid(
                "connection.backoff_factor",
                format!("must be a positive number, got {}", c.backoff_factor),
            ));
        }
        if c.num_retries > 100 {
            return Err(self.invalid(
                "connection.num_retries",
                format!("must be at most 100, got {}", c.num_retries),
            ));
        }
        for (i, s) in c.retry_statuses.iter().enumerate() {
            if !(100..=599).contains(s) {
                return Err(self.invalid(
                    &format!("connection.retry_statuses[{i}]"),
                    format!("expected an HTTP status code (100-599), got {s}"),
                ));
            }
        }
        if self.fetch.page_size < 1 {
            return Err(self.invalid("fetch.page_size", "must be at least 1"));
        }
        if self.namespace.trim().is_empty() {
            return Err(self.invalid("namespace", "must not be empty"));
        }
        if self.data_dir.is_empty() {
            return Err(self.invalid("data_dir", "must not be empty"));
        }
        if let Some(dir) = &self.state_dir {
            if dir.is_empty() {
                return Err(self.invalid(
                    "state_dir",
                    "must not be empty (remove the key to disable state tracking)",
                ));
            }
        }
        if let Some(overrides) = &self.namespace_overrides {
            for ns in overrides.keys() {
                if ns.trim().is_empty() {
                    return Err(
                        self.invalid("namespace_overrides", "a namespace must not be empty")
                    );
                }
            }
        }
        for (i, sel) in self.validate.references.selector.iter().enumerate() {
            let parts: Vec<&str> = sel.split('.').collect();
            if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(self.invalid(
                    &format!("validate.references.selector[{i}]"),
                    format!(
                        "{sel:?} is incorrectly formatted (should be `someEndpoint.someReference`, such as `studentSchoolAssociations.schoolReference`)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether payload state (hashes of sent lines) is tracked.
    pub fn tracks_state(&self) -> bool {
        self.state_dir.is_some()
    }

    /// `base_url/data/v3` [+ `/{year}` | `/{instance_code}/{year}`], without double slashes.
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

    /// `{data_url}/{namespace}/{endpoint}`.
    pub fn resource_url(&self, endpoint: &str) -> String {
        url_join(&[&self.data_url(), self.namespace_for(endpoint), endpoint])
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

/// `~` or `~/...` → the home directory (Python `os.path.expanduser`, without `~user`).
pub fn expand_user(path: &str, home: &str) -> String {
    if path == "~" {
        return home.to_string();
    }
    if let Some(rest) = path.strip_prefix("~/").or(path.strip_prefix("~\\")) {
        let home = home.trim_end_matches(['/', '\\']);
        return format!("{home}/{rest}");
    }
    path.to_string()
}

/// `$NAME` and `${NAME}` replaced by their values; unknown names are left as written
/// (Python `os.path.expandvars`; names are ASCII letters, digits and `_`).
pub fn expand_vars(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    if !text.contains('$') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (Some(&inner[..end]), end + 2),
                None => (None, 0),
            }
        } else {
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if len > 0 {
                (Some(&after[..len]), len)
            } else {
                (None, 0)
            }
        };
        match name.and_then(|n| lookup(n).map(|v| (n, v))) {
            Some((_, value)) => {
                out.push_str(&value);
                rest = &after[consumed..];
            }
            None => {
                let keep = 1 + consumed;
                out.push_str(&rest[pos..pos + keep]);
                rest = &rest[pos + keep..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn expand_tree(node: &mut Node, lookup: &dyn Fn(&str) -> Option<String>) {
    match &mut node.kind {
        NodeKind::Scalar(s) => {
            if s.text.contains('$') {
                let expanded = expand_vars(&s.text, lookup);
                if expanded != s.text {
                    s.text = expanded;
                    s.quoted = true;
                }
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| expand_tree(n, lookup)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|(_, n)| expand_tree(n, lookup)),
        NodeKind::Null => {}
    }
}

fn collect_origins(node: &Node, path: &str, out: &mut IndexMap<String, Origin>) {
    if !path.is_empty() {
        out.insert(path.to_string(), node.origin);
    }
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let p = de::child_path(path, &k.name);
                collect_origins(v, &p, out);
                // a key's own line wins over its value's (a block mapping starts below its key)
                out.insert(p, k.origin);
            }
        }
        NodeKind::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_origins(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// A `--set` value auto-typed as the Python tool's `autocast`.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// Python `Lightbeam.autocast`: `true/yes/on/t/y` and `false/no/off/f/n` (any case) are
/// booleans; a value with a `.` is a float if it parses; otherwise an int if it parses;
/// otherwise the string.
pub fn autocast(value: &str) -> AutoValue {
    let lower = value.to_lowercase();
    if ["true", "yes", "on", "t", "y"].contains(&lower.as_str()) {
        return AutoValue::Bool(true);
    }
    if ["false", "no", "off", "f", "n"].contains(&lower.as_str()) {
        return AutoValue::Bool(false);
    }
    if value.contains('.') {
        if !lower.contains("inf") && !lower.contains("nan") {
            if let Some(f) = de::parse_float(value) {
                return AutoValue::Float(f);
            }
        }
        return AutoValue::Str(value.to_string());
    }
    let t = value.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    // Python int(): decimal digits, single `_` between digits, surrounding whitespace
    if digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        if let Some(i) = de::parse_int(t) {
            return AutoValue::Int(i);
        }
    }
    AutoValue::Str(value.to_string())
}

/// Pairs `--set key value key value ...` (an odd count is an error, as in Python).
pub fn parse_set_args(args: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    if !args.len().is_multiple_of(2) {
        return Err(ConfigError::Set(
            "overrides specified with --set must be followed by an even number of strings (key value key value ...)"
                .to_string(),
        ));
    }
    Ok(args
        .chunks(2)
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect())
}

/// Parses `-p/--params` (a JSON object; string values as they are, other scalars as text).
pub fn parse_params(json: &str) -> Result<IndexMap<String, String>, ConfigError> {
    if json.trim().is_empty() {
        return Ok(IndexMap::new());
    }
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ConfigError::Params(e.to_string()))?;
    let serde_json::Value::Object(map) = value else {
        return Err(ConfigError::Params("not an object".to_string()));
    };
    let mut out = IndexMap::new();
    for (k, v) in map {
        let s = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                return Err(ConfigError::Params(format!(
                    "the value of {k:?} must be a string, got {other}"
                )))
            }
        };
        out.insert(k, s);
    }
    Ok(out)
}

fn set_path(root: &mut Node, path: &str, value: &str) -> Result<(), ConfigError> {
    let pieces: Vec<&str> = path.split('.').collect();
    if pieces.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::Set(format!(
            "--set {path:?}: expected a key path like connection.pool_size"
        )));
    }
    let cast = match autocast(value) {
        AutoValue::Bool(b) => Cast::Bool(b),
        AutoValue::Int(i) => Cast::Int(i),
        AutoValue::Float(f) => Cast::Float(f),
        AutoValue::Str(_) => Cast::Str,
    };
    let leaf = Node::new(
        Origin::Override,
        NodeKind::Scalar(Scalar {
            text: value.to_string(),
            quoted: false,
            cast: Some(cast),
        }),
    );
    let mut current = root;
    for (i, piece) in pieces.iter().enumerate() {
        if matches!(current.kind, NodeKind::Null) {
            current.kind = NodeKind::Map(Vec::new());
            current.origin = Origin::Override;
        }
        let NodeKind::Map(entries) = &mut current.kind else {
            return Err(ConfigError::Set(format!(
                "--set {path}: {} is not a mapping",
                pieces[..i].join(".")
            )));
        };
        let last = i + 1 == pieces.len();
        let idx = match entries.iter().position(|(k, _)| k.name == *piece) {
            Some(idx) => idx,
            None => {
                entries.push((
                    KeyNode {
                        name: piece.to_string(),
                        origin: Origin::Override,
                    },
                    Node::new(Origin::Override, NodeKind::Map(Vec::new())),
                ));
                entries.len() - 1
            }
        };
        let entry = &mut entries[idx];
        if last {
            entry.0.origin = Origin::Override;
            entry.1 = leaf;
            return Ok(());
        }
        current = &mut entry.1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const FULL: &str = r#"
state_dir: ~/.lighbeam/
data_dir: ./data/
namespace: ed-fi
namespace_overrides:
  tpdm:
    - candidates
    - evaluations
edfi_api:
  base_url: https://api.example.com/
  version: 3
  mode: year_specific
  year: 2025
  client_id: ${EDFI_API_CLIENT_ID}
  client_secret: ${EDFI_API_CLIENT_SECRET}
connection:
  pool_size: 16
  timeout: 30
  num_retries: 3
  backoff_factor: 2
  retry_statuses: [429, 500, 502, 503, 504]
  verify_ssl: False
count:
  separator: ","
fetch:
  page_size: 500
validate:
  methods:
    - schema
    - references
  references:
    selector:
      - studentSchoolAssociations.calendarReference
    behavior: include
    remote: no
    max_failures: 10
force_delete: true
log_level: debug
show_stacktrace: yes
"#;

    fn env(name: &str) -> Option<String> {
        match name {
            "EDFI_API_CLIENT_ID" => Some("the-id".to_string()),
            "EDFI_API_CLIENT_SECRET" => Some("the-secret".to_string()),
            "YEAR" => Some("2026".to_string()),
            "POOL" => Some("4".to_string()),
            _ => None,
        }
    }

    fn opts() -> LoadOptions<'static> {
        LoadOptions {
            env: &env,
            current_year: Some(2024),
            ..LoadOptions::default()
        }
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_yaml(text, &opts())
    }

    fn err(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    const MIN: &str = "edfi_api:\n  base_url: http://localhost:54746\n";

    #[test]
    fn full_config() {
        let mut o = opts();
        o.home_dir = Some("/home/me".to_string());
        let c = Config::from_yaml(FULL, &o).unwrap();
        assert_eq!(c.state_dir.as_deref(), Some("/home/me/.lighbeam/"));
        assert_eq!(c.data_dir, "./data/");
        assert_eq!(
            c.namespace_overrides.as_ref().unwrap()["tpdm"],
            vec!["candidates", "evaluations"]
        );
        assert_eq!(c.edfi_api.year, Some(2025));
        assert_eq!(c.edfi_api.client_id, "the-id");
        assert_eq!(c.edfi_api.client_secret.expose(), "the-secret");
        assert_eq!(c.connection.pool_size, 16);
        assert_eq!(c.connection.timeout, 30.0);
        assert_eq!(c.connection.backoff_factor, 2.0);
        assert_eq!(c.connection.retry_statuses, vec![429, 500, 502, 503, 504]);
        assert!(!c.connection.verify_ssl);
        assert_eq!(c.count.separator, ",");
        assert_eq!(c.fetch.page_size, 500);
        assert_eq!(
            c.validate.methods.0,
            vec![ValidationMethod::Schema, ValidationMethod::References]
        );
        assert_eq!(c.validate.references.behavior, ReferenceBehavior::Include);
        assert!(!c.validate.references.remote);
        assert_eq!(c.validate.references.max_failures, Some(10));
        assert!(c.force_delete);
        assert_eq!(c.log_level, LogLevel::Debug);
        assert!(c.show_stacktrace);
        assert_eq!(c.data_url(), "https://api.example.com/data/v3/2025");
        assert_eq!(c.namespace_for("candidates"), "tpdm");
        assert_eq!(c.namespace_for("students"), "ed-fi");
        assert_eq!(
            c.resource_url("candidates"),
            "https://api.example.com/data/v3/2025/tpdm/candidates"
        );
        assert_eq!(c.namespaces(), vec!["ed-fi", "tpdm"]);
        assert_eq!(c.origin_of("connection.pool_size"), Origin::Line(17));
        assert_eq!(c.origin_of("namespace_overrides.tpdm[1]"), Origin::Line(8));
        assert_eq!(
            c.origin_of("edfi_api.oauth_url"),
            Origin::Line(9),
            "parent section"
        );
    }

    #[test]
    fn defaults_match_python() {
        let c = load(MIN).unwrap();
        assert_eq!(c.state_dir, None);
        assert!(!c.tracks_state());
        assert_eq!(c.data_dir, "./");
        assert_eq!(c.namespace, "ed-fi");
        assert_eq!(c.namespace_overrides, None);
        assert_eq!(c.edfi_api.version, 3);
        assert_eq!(c.edfi_api.mode, ApiMode::YearSpecific);
        assert_eq!(c.edfi_api.year, Some(2024), "current year from the options");
        assert_eq!(c.edfi_api.oauth_url, "");
        assert_eq!(c.connection, Connection::default());
        assert_eq!(c.connection.pool_size, 8);
        assert_eq!(c.connection.timeout, 60.0);
        assert_eq!(c.connection.num_retries, 10);
        assert_eq!(c.connection.backoff_factor, 1.5);
        assert_eq!(c.connection.retry_statuses, vec![429, 500, 501, 503, 504]);
        assert!(c.connection.verify_ssl);
        assert_eq!(c.count.separator, "\t");
        assert_eq!(c.fetch.page_size, 100);
        assert_eq!(c.validate.methods, ValidationMethods::default());
        assert_eq!(c.validate.references, ReferencesConfig::default());
        assert!(!c.force_delete);
        assert_eq!(c.log_level, LogLevel::Info);
        assert!(!c.show_stacktrace);
        assert_eq!(c.data_url(), "http://localhost:54746/data/v3/2024");
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let text = "edfi_api:\n  base_url: http://x\n\n\n\nconnection:\n  pool_size: eight\n";
        assert_eq!(
            err(text),
            "config error at line 7: connection.pool_size: expected a whole number (0 or more), got \"eight\""
        );
        let e = load(text).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { origin: Origin::Line(7), ref path, .. } if path == "connection.pool_size")
        );
    }

    #[test]
    fn unknown_keys_name_key_and_line() {
        let e = err("edfi_api:\n  base_url: http://x\nconnection:\n  pool_sise: 3\n");
        assert!(
            e.starts_with("config error at line 4: connection.pool_sise: unknown key (did you mean \"pool_size\"?)"),
            "{e}"
        );
        let e = err("colour: blue\nedfi_api:\n  base_url: http://x\n");
        assert!(
            e.starts_with("config error at line 1: colour: unknown key;"),
            "{e}"
        );
        let e = err("edfi_api:\n  base_url: http://x\n  clientid: a\n");
        assert!(
            e.contains("line 3: edfi_api.clientid: unknown key (did you mean \"client_id\"?)"),
            "{e}"
        );
    }

    #[test]
    fn other_type_errors() {
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  retry_statuses: [429, x]\n"),
            "config error at line 4: connection.retry_statuses[1]: expected a whole number (0 or more), got \"x\""
        );
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  retry_statuses: 429\n"),
            "config error at line 4: connection.retry_statuses: expected a list, got \"429\""
        );
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  verify_ssl: maybe\n"),
            "config error at line 4: connection.verify_ssl: expected true or false, got \"maybe\""
        );
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\n  mode: yearly\n"),
            "config error at line 3: edfi_api.mode: expected one of shared_instance, sandbox, district_specific, year_specific, instance_year_specific, got \"yearly\""
        );
        assert_eq!(
            err("edfi_api: http://x\n"),
            "config error at line 1: edfi_api: expected a mapping (key: value pairs), got \"http://x\""
        );
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  pool_size: -1\n"),
            "config error at line 4: connection.pool_size: expected a whole number of at least 0, got -1"
        );
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\nlog_level: loud\n"),
            "config error at line 3: log_level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got \"loud\""
        );
        assert!(
            err("edfi_api:\n  base_url: http://x\nvalidate:\n  methods: [schema, spelling]\n")
                .starts_with("config error at line 4: validate.methods[1]: expected one of")
        );
        assert!(
            err("edfi_api:\n  base_url: http://x\nnamespace_overrides:\n  tpdm: candidates\n")
                .starts_with("config error at line 4: namespace_overrides.tpdm: expected a list")
        );
        assert!(
            err("edfi_api:\n  base_url: http://x\nedfi_api:\n  year: 1\n")
                .contains("duplicate key")
        );
        assert!(err("a: [1\nb: 2\n").starts_with("config error at line 2"));
        assert!(err("").contains("empty"));
        assert!(err("- a\n- b\n").contains("must be a YAML mapping"));
        assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  pool_size:\n"),
            "config error at line 4: connection.pool_size: expected a whole number (0 or more), got an empty value"
        );
    }

    #[test]
    fn empty_sections_take_defaults() {
        let c =
            load("edfi_api:\n  base_url: http://x\nconnection:\nvalidate:\nstate_dir:\n").unwrap();
        assert_eq!(c.connection, Connection::default());
        assert_eq!(c.state_dir, None);
    }

    #[test]
    fn lenient_scalars() {
        let c = load(
            "edfi_api:\n  base_url: http://x\n  year: '2023'\n  client_id: 12345\n  instance_code: 0042\nconnection:\n  verify_ssl: 'off'\n  timeout: 7.5\n",
        )
        .unwrap();
        assert_eq!(c.edfi_api.year, Some(2023));
        assert_eq!(c.edfi_api.client_id, "12345");
        assert_eq!(c.edfi_api.instance_code.as_deref(), Some("0042"));
        assert!(!c.connection.verify_ssl);
        assert_eq!(c.connection.timeout, 7.5);
    }

    #[test]
    fn validation_methods_forms() {
        for (text, expected) in [
            ("'*'", ValidationMethods::all()),
            ("all", ValidationMethods::all()),
            ("ALL", ValidationMethods::all()),
            ("schema", ValidationMethods(vec![ValidationMethod::Schema])),
            ("[]", ValidationMethods(vec![])),
        ] {
            let c = load(&format!("{MIN}validate:\n  methods: {text}\n")).unwrap();
            assert_eq!(c.validate.methods, expected, "{text}");
        }
        let e = err(&format!("{MIN}validate:\n  methods: everything\n"));
        assert!(
            e.starts_with("config error at line 4: validate.methods: expected \"*\""),
            "{e}"
        );
    }

    #[test]
    fn env_vars_and_params() {
        let text = "edfi_api:\n  base_url: http://x\n  year: ${YEAR}\n  client_id: $EDFI_API_CLIENT_ID-x\n  client_secret: ${MISSING}\nconnection:\n  pool_size: ${POOL}\n";
        let c = load(text).unwrap();
        assert_eq!(c.edfi_api.year, Some(2026));
        assert_eq!(c.edfi_api.client_id, "the-id-x");
        assert_eq!(c.edfi_api.client_secret.expose(), "${MISSING}");
        assert_eq!(c.connection.pool_size, 4);

        let mut o = opts();
        o.params = parse_params(r#"{"YEAR": "2030", "MISSING": "found", "POOL": 2}"#).unwrap();
        let c = Config::from_yaml(text, &o).unwrap();
        assert_eq!(c.edfi_api.year, Some(2030), "params override env");
        assert_eq!(c.edfi_api.client_secret.expose(), "found");
        assert_eq!(c.connection.pool_size, 2);

        let e = load("edfi_api:\n  base_url: http://x\nconnection:\n  pool_size: ${MISSING}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "config error at line 4: connection.pool_size: expected a whole number (0 or more), got \"${MISSING}\""
        );
    }

    #[test]
    fn expand_vars_like_python() {
        let lookup = |n: &str| match n {
            "A" => Some("1".to_string()),
            "B_2" => Some("$A".to_string()),
            _ => None,
        };
        assert_eq!(expand_vars("x${A}y", &lookup), "x1y");
        assert_eq!(expand_vars("$A$A", &lookup), "11");
        assert_eq!(expand_vars("$B_2", &lookup), "$A", "no recursive expansion");
        assert_eq!(expand_vars("$Ab", &lookup), "$Ab", "name is the whole word");
        assert_eq!(expand_vars("${NOPE} $NOPE", &lookup), "${NOPE} $NOPE");
        assert_eq!(expand_vars("a$ b$", &lookup), "a$ b$");
        assert_eq!(expand_vars("${A", &lookup), "${A");
        assert_eq!(expand_vars("${}", &lookup), "${}");
        assert_eq!(expand_vars("ü$A€", &lookup), "ü1€");
    }

    #[test]
    fn autocast_like_python() {
        use AutoValue::*;
        for (input, expected) in [
            ("true", Bool(true)),
            ("Yes", Bool(true)),
            ("ON", Bool(true)),
            ("t", Bool(true)),
            ("y", Bool(true)),
            ("false", Bool(false)),
            ("n", Bool(false)),
            ("OFF", Bool(false)),
            ("1000", Int(1000)),
            ("-5", Int(-5)),
            (" 7 ", Int(7)),
            ("1_000", Int(1000)),
            ("1.5", Float(1.5)),
            ("2.", Float(2.0)),
            ("1.5e3", Float(1500.0)),
            ("0x10", Str("0x10".to_string())),
            ("1.2.3", Str("1.2.3".to_string())),
            ("api.example.com", Str("api.example.com".to_string())),
            ("inf", Str("inf".to_string())),
            ("abc", Str("abc".to_string())),
            ("", Str(String::new())),
        ] {
            assert_eq!(autocast(input), expected, "{input:?}");
        }
    }

    #[test]
    fn set_overrides() {
        let mut o = opts();
        o.overrides = parse_set_args(&[
            "fetch.page_size".to_string(),
            "1000".to_string(),
            "connection.verify_ssl".to_string(),
            "no".to_string(),
            "edfi_api.mode".to_string(),
            "sandbox".to_string(),
            "state_dir".to_string(),
            "/tmp/state".to_string(),
            "edfi_api.client_id".to_string(),
            "y".to_string(),
            "connection.timeout".to_string(),
            "2.5".to_string(),
        ])
        .unwrap();
        let c = Config::from_yaml(MIN, &o).unwrap();
        assert_eq!(c.fetch.page_size, 1000);
        assert!(!c.connection.verify_ssl);
        assert_eq!(c.edfi_api.mode, ApiMode::Sandbox);
        assert_eq!(c.state_dir.as_deref(), Some("/tmp/state"));
        assert_eq!(c.edfi_api.client_id, "y", "strings keep the text as typed");
        assert_eq!(c.connection.timeout, 2.5);
        assert_eq!(c.origin_of("fetch.page_size"), Origin::Override);
        assert_eq!(c.data_url(), "http://localhost:54746/data/v3");

        o.overrides = vec![("connection.pool_size".to_string(), "many".to_string())];
        assert_eq!(
            Config::from_yaml(MIN, &o).unwrap_err().to_string(),
            "config error in --set connection.pool_size: expected a whole number (0 or more), got \"many\""
        );
        o.overrides = vec![("connection.pool_sise".to_string(), "3".to_string())];
        assert!(Config::from_yaml(MIN, &o)
            .unwrap_err()
            .to_string()
            .starts_with("config error in --set connection.pool_sise: unknown key"));
        o.overrides = vec![("edfi_api.base_url.x".to_string(), "3".to_string())];
        assert!(matches!(
            Config::from_yaml(MIN, &o).unwrap_err(),
            ConfigError::Set(_)
        ));
        assert!(parse_set_args(&["a".to_string()]).is_err());
    }

    #[test]
    fn params_parsing() {
        assert!(parse_params("").unwrap().is_empty());
        assert_eq!(
            parse_params(r#"{"A": "x", "B": 1, "C": true}"#)
                .unwrap()
                .len(),
            3
        );
        assert!(matches!(parse_params("[1]"), Err(ConfigError::Params(_))));
        assert!(matches!(parse_params("{bad"), Err(ConfigError::Params(_))));
        assert!(matches!(
            parse_params(r#"{"A": [1]}"#),
            Err(ConfigError::Params(_))
        ));
    }

    #[test]
    fn validation() {
        assert_eq!(
            err("namespace: ed-fi\n"),
            "config error: edfi_api.base_url: is required (the Ed-Fi API's base URL)"
        );
        assert_eq!(
            err("edfi_api:\n  base_url: api.example.com\n"),
            "config error at line 2: edfi_api.base_url: must start with http:// or https://, got \"api.example.com\""
        );
        assert!(err(&format!("{MIN}  version: 2\n")).contains("edfi_api.version: only version 3"));
        assert!(err(&format!("{MIN}  mode: instance_year_specific\n"))
            .contains("edfi_api.instance_code: is required for mode instance_year_specific"));
        assert_eq!(
            err(&format!("{MIN}connection:\n  pool_size: 0\n")),
            "config error at line 4: connection.pool_size: must be at least 1"
        );
        assert!(err(&format!("{MIN}connection:\n  timeout: 0\n")).contains("connection.timeout"));
        assert!(err(&format!("{MIN}connection:\n  retry_statuses: [42]\n"))
            .contains("connection.retry_statuses[0]: expected an HTTP status code"));
        assert!(err(&format!("{MIN}fetch:\n  page_size: 0\n")).contains("fetch.page_size"));
        assert!(err(&format!(
            "{MIN}validate:\n  references:\n    selector: [studentSchoolAssociations]\n"
        ))
        .contains("line 5: validate.references.selector[0]"));
        let no_year = Config::from_yaml(MIN, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            no_year.to_string(),
            "config error at line 1: edfi_api.year: is required for mode year_specific"
        );
    }

    #[test]
    fn data_urls_per_mode() {
        let mut c = load(MIN).unwrap();
        c.edfi_api.base_url = "https://h/api//".to_string();
        c.edfi_api.year = Some(2025);
        c.edfi_api.instance_code = Some("/district-1/".to_string());
        let cases = [
            (ApiMode::SharedInstance, "https://h/api/data/v3"),
            (ApiMode::Sandbox, "https://h/api/data/v3"),
            (ApiMode::DistrictSpecific, "https://h/api/data/v3"),
            (ApiMode::YearSpecific, "https://h/api/data/v3/2025"),
            (
                ApiMode::InstanceYearSpecific,
                "https://h/api/data/v3/district-1/2025",
            ),
        ];
        for (mode, url) in cases {
            c.edfi_api.mode = mode;
            assert_eq!(c.data_url(), url, "{mode}");
        }
    }

    #[test]
    fn url_join_and_namespaces() {
        assert_eq!(
            url_join(&["http://h/", "/ed-fi/", "students"]),
            "http://h/ed-fi/students"
        );
        let mut overrides = IndexMap::new();
        overrides.insert("tpdm".to_string(), vec!["candidates".to_string()]);
        overrides.insert("other".to_string(), vec!["candidates".to_string()]);
        assert_eq!(
            namespace_for_endpoint("ed-fi", Some(&overrides), "candidates"),
            "tpdm"
        );
        assert_eq!(
            namespace_for_endpoint("ed-fi", Some(&overrides), "schools"),
            "ed-fi"
        );
        assert_eq!(namespace_for_endpoint("ed-fi", None, "schools"), "ed-fi");
    }

    #[test]
    fn expand_user_paths() {
        assert_eq!(expand_user("~", "/home/a"), "/home/a");
        assert_eq!(expand_user("~/x", "/home/a/"), "/home/a/x");
        assert_eq!(expand_user("~bob/x", "/home/a"), "~bob/x");
        assert_eq!(expand_user("./x", "/home/a"), "./x");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = load(FULL).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("the-secret"), "{debug}");
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("the-secret"), "{json}");
        assert!(json.contains("\"client_secret\":\"***\""));
    }

    #[test]
    fn yaml_features() {
        let c = load("defaults: &d\n  pool_size: 3\n");
        assert!(c.unwrap_err().to_string().contains("defaults: unknown key"));
        let c = load(
            "edfi_api:\n  base_url: \"http://x\"\n  client_secret: !!str 0123\nconnection: {pool_size: 2, verify_ssl: true}\n",
        )
        .unwrap();
        assert_eq!(c.connection.pool_size, 2);
        assert_eq!(c.edfi_api.client_secret.expose(), "0123");
    }
}
