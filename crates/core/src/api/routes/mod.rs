//! Where the data API is: the route layout from discovery, the host from `base_url`.
//!
//! Discovery behind a proxy often names internal hosts, so only the *route layout* is taken from
//! it: the path of `urls.dataManagementApi` below the API's root (`data/v3` for ODS/API 5.x-7.x,
//! `data/v3/2025` for 6.1 year-specific, `2025/data/v3` for a 7.x context, `data` for the Ed-Fi
//! DMS), joined to `base_url`.
//!
//! - A layout that begins with `data/v3` is an ODS/API without tenant or context segments: the
//!   data URL is then exactly what the Python tool builds (`base_url/data/v3` plus `/{year}` or
//!   `/{instance_code}/{year}` by `edfi_api.mode`), whatever year discovery shows.
//! - Any other layout is used as discovery gives it. Segments that discovery leaves as route
//!   templates (the ODS/API answers `{tenantIdentifier}` and `{schoolYearFromRoute}` at its root,
//!   the DMS `{districtId}/{schoolYear}`) are filled from the config: a key naming a year takes
//!   `edfi_api.year`, any other key `edfi_api.instance_code`; a tenant cannot be guessed, so it
//!   asks for `base_url` to be the tenant's root.
//! - `edfi_api.data_url` overrides everything.

use crate::config::{url_join, Config};
use serde_json::Value;

/// The data URL cannot be told from discovery and the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RouteError(pub String);

/// Where a data URL came from, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteSource {
    /// `edfi_api.data_url`.
    Configured,
    /// `base_url/data/v3` and the mode, as the Python tool builds it.
    Mode,
    /// Discovery's layout (the string), joined to `base_url`.
    Discovery(String),
}

/// The data URL of this config given the discovery document (None: discovery was not read).
pub fn data_url(
    config: &Config,
    discovery: Option<&Value>,
) -> Result<(String, RouteSource), RouteError> {
    let api = &config.edfi_api;
    let configured = api.data_url.trim();
    if !configured.is_empty() {
        return Ok((
            configured.trim_end_matches('/').to_string(),
            RouteSource::Configured,
        ));
    }
    let Some(layout) = discovery.and_then(|d| layout(&api.base_url, d)) else {
        return Ok((config.data_url(), RouteSource::Mode));
    };
    if layout.starts_with(&["data".to_string(), "v3".to_string()]) || layout.is_empty() {
        return Ok((config.data_url(), RouteSource::Mode));
    }
    let filled = layout
        .iter()
        .map(|s| fill_segment(s, config))
        .collect::<Result<Vec<_>, _>>()?
        .join("/");
    Ok((
        url_join(&[&api.base_url, &filled]),
        RouteSource::Discovery(layout.join("/")),
    ))
}

/// A discovery URL (oauth, dependencies, metadata) with its route templates filled from the
/// config, as [`data_url`] fills the layout.
pub fn fill_url(url: &str, config: &Config) -> Result<String, RouteError> {
    if !url.contains('{') {
        return Ok(url.to_string());
    }
    let (head, path) = split_origin(url);
    let filled = path
        .split('/')
        .map(|s| fill_segment(s, config))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!("{head}{}", filled.join("/")))
}

/// A route template segment (`{schoolYearFromRoute}`, `{schoolYearFromRoute:range(2000,2099)}`)
/// filled from the config; any other segment as it is.
fn fill_segment(segment: &str, config: &Config) -> Result<String, RouteError> {
    let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        return Ok(segment.to_string());
    };
    let key = inner.split(':').next().unwrap_or(inner);
    let api = &config.edfi_api;
    let lower = key.to_ascii_lowercase();
    if lower.contains("tenant") {
        return Err(RouteError(format!(
            "the API is multi-tenant (its discovery document has {{{key}}} in its URLs): set \
             edfi_api.base_url to the tenant's root, e.g. {}/TENANT, or edfi_api.data_url",
            api.base_url.trim_end_matches('/')
        )));
    }
    if lower.contains("year") {
        return api.year.map(|y| y.to_string()).ok_or_else(|| {
            RouteError(format!(
                "the API's routes have a school year ({{{key}}}): set edfi_api.year"
            ))
        });
    }
    match api.instance_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => Ok(code.trim_matches('/').to_string()),
        _ => Err(RouteError(format!(
            "the API's routes have a {{{key}}} segment: set edfi_api.instance_code to its value, \
             or edfi_api.data_url"
        ))),
    }
}

/// `scheme://host[:port]` and the rest of the URL (from its first `/` after the host).
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

/// The path segments of a URL, without the query and empty segments.
fn segments(url: &str) -> Vec<String> {
    let path = split_origin(url).1;
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The route layout of `urls.dataManagementApi`: its path below `base_url`'s path when it lies
/// there, else below the root that all of discovery's URLs share (up to their first route
/// template), as when a proxy publishes the API under another path.
fn layout(base_url: &str, discovery: &Value) -> Option<Vec<String>> {
    let urls = discovery.get("urls")?.as_object()?;
    let data = segments(urls.get("dataManagementApi")?.as_str()?);
    let base = segments(base_url);
    if data.starts_with(&base) {
        return Some(data[base.len()..].to_vec());
    }
    let mut root: Option<Vec<String>> = None;
    for url in urls.values().filter_map(Value::as_str) {
        let s = segments(url);
        root = Some(match root {
            None => s,
            Some(r) => r
                .iter()
                .zip(&s)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.clone())
                .collect(),
        });
    }
    let root = root.unwrap_or_default();
    let shared = root.iter().take_while(|s| !s.starts_with('{')).count();
    Some(data[shared.min(data.len())..].to_vec())
}

/// How many first requests to a collection (a POST, a GET of `{data}/{namespace}/{endpoint}`)
/// must all answer 404 for the data URL to be called wrong.
pub const FIRST_ANSWERS: u32 = 5;

/// Watches the first requests to collections, in the order they are issued (answers to
/// endpoints the API lacks come back first, so the order of answers would mislead): when the
/// first [`FIRST_ANSWERS`] all answer 404 (not found), the data URL is wrong (a mode or year
/// mistake), and every request of the run would fail the same way.
#[derive(Debug, Default)]
pub struct FirstAnswers {
    issued: std::cell::Cell<u32>,
    not_found: std::cell::Cell<u32>,
}

/// A request among the first to collections ([`FirstAnswers::issue`]).
#[derive(Debug, Clone, Copy)]
pub struct FirstRequest;

impl FirstAnswers {
    /// A request of `url` is issued: a ticket when it is among the first to collections.
    pub fn issue(&self, data_url: &str, url: &str) -> Option<FirstRequest> {
        let issued = self.issued.get();
        (issued < FIRST_ANSWERS && is_collection(data_url, url)).then(|| {
            self.issued.set(issued + 1);
            FirstRequest
        })
    }

    /// The final answer of a first request; true when it makes the first requests all 404.
    pub fn wrong_url(&self, ticket: Option<FirstRequest>, status: u16) -> bool {
        if ticket.is_none() || status != 404 {
            return false;
        }
        self.not_found.set(self.not_found.get() + 1);
        self.not_found.get() == FIRST_ANSWERS
    }
}

/// Whether `url` is `{data_url}/{namespace}/{endpoint}` (with or without a query).
fn is_collection(data_url: &str, url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.strip_prefix(data_url.trim_end_matches('/'))
        .map(|rest| rest.split('/').filter(|s| !s.is_empty()).count() == 2)
        .unwrap_or(false)
}

/// What to check when every first request answered 404: the mode and year, what discovery says
/// of the API's mode, or `edfi_api.data_url`.
pub fn not_found_hint(config: &Config, api_mode: Option<&str>) -> String {
    let api = &config.edfi_api;
    let mut hint = if api.mode.needs_year() {
        format!(
            "edfi_api.mode is {} (it adds /{}{} to the URL): check edfi_api.year, or use \
             shared_instance if the API is not year-specific",
            api.mode,
            if api.mode == crate::config::ApiMode::InstanceYearSpecific {
                "{instance_code}/"
            } else {
                ""
            },
            api.year
                .map(|y| y.to_string())
                .unwrap_or_else(|| "{year}".into()),
        )
    } else {
        format!(
            "edfi_api.mode is {}: if the API is year-specific, set edfi_api.mode: year_specific \
             and edfi_api.year",
            api.mode
        )
    };
    if let Some(m) = api_mode {
        hint.push_str(&format!(
            "; the API's discovery document says apiMode: {m:?}"
        ));
    }
    hint.push_str("; or set edfi_api.data_url");
    hint
}

#[cfg(test)]
mod tests;
