//! From a config file's text to a [`Config`]: YAML with its lines, `${VAR}` expansion (`-p`
//! values first, then the environment), `--set` overrides auto-typed as the Python tool's
//! `autocast`, serde over the YAML nodes, then the checks.

use super::yaml::{self, Cast, KeyNode, Node, NodeKind, Scalar};
use super::{de, Config, ConfigError, Origin};
use indexmap::IndexMap;
use serde::Deserialize;

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
