//! The checks of a config that types alone do not make (the first problem is returned, naming
//! the key and its line).

use super::{ApiMode, Config, ConfigError};

impl Config {
    /// Checks the values that types alone do not (the first problem is returned).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_api()?;
        self.check_connection()?;
        self.check_paths_and_names()
    }

    /// `edfi_api`: an http(s) base URL, version 3, the year and instance code a mode needs.
    fn check_api(&self) -> Result<(), ConfigError> {
        let api = &self.edfi_api;
        if api.base_url.trim().is_empty() {
            return Err(self.invalid(
                "edfi_api.base_url",
                "is required (the Ed-Fi API's base URL)",
            ));
        }
        // base_url is required (above); data_url is checked when it is set
        for (key, url) in [
            ("edfi_api.base_url", &api.base_url),
            ("edfi_api.data_url", &api.data_url),
        ] {
            let lower = url.trim().to_ascii_lowercase();
            if lower.is_empty() {
                continue;
            }
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                return Err(self.invalid(
                    key,
                    format!("must start with http:// or https://, got {url:?}"),
                ));
            }
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
        Ok(())
    }

    /// `connection`: sizes, times and status codes in range.
    fn check_connection(&self) -> Result<(), ConfigError> {
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
        Ok(())
    }

    /// `fetch`, `namespace`, `data_dir`, `state_dir`, `namespace_overrides` and the reference
    /// selectors of `validate`.
    fn check_paths_and_names(&self) -> Result<(), ConfigError> {
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
}
