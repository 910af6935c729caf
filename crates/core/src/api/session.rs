//! A connection to one Ed-Fi API: discovery, OAuth token (one per client, shared by every request,
//! refreshed once on 401 and shortly before it expires), the dependency order, the OpenAPI
//! documents, and requests with retries.

use crate::api::dependencies::Dependencies;
use crate::api::flow::{Answer, Flow, PaceChange};
use crate::api::retry::{parse_retry_after, AttemptOutcome, RetryDecision, RetryPolicy};
use crate::api::routes;
use crate::api::url::query_string;
use crate::config::Config;
use crate::ports::{
    Cache, Clock, Event, EventSink, Http, HttpRequest, HttpResponse, LogLevel, Method,
    TransportError,
};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::time::Duration;

/// Errors that stop a whole run (configuration, connection, credentials).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    #[error("could not connect to {url} ({reason})")]
    Unreachable { url: String, reason: String },
    #[error("could not parse response from {url} ({reason})")]
    BadDiscovery { url: String, reason: String },
    #[error("OAuth token could not be obtained from {url}: {reason}; check your API credentials (edfi_api.client_id, edfi_api.client_secret)")]
    Auth { url: String, reason: String },
    #[error("the first {first} requests to {url} all answered 404 (not found), so the data URL looks wrong: {hint}")]
    NotFound {
        url: String,
        first: u32,
        hint: String,
    },
    #[error("cannot tell the data URL of {url}: {reason}")]
    Route { url: String, reason: String },
    #[error("unable to load {what} from {url}: {reason}")]
    Metadata {
        what: String,
        url: String,
        reason: String,
    },
}

/// The URLs a session uses.
#[derive(Debug, Clone, Default)]
pub struct ApiUrls {
    pub base: String,
    pub oauth: String,
    pub dependencies: String,
    pub open_api_metadata: String,
    pub data: String,
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// Unix ms after which the token must not be used.
    refresh_at_ms: i64,
}

/// A session with an Ed-Fi API.
pub struct Session<'a> {
    pub config: &'a Config,
    pub http: &'a dyn Http,
    pub clock: &'a dyn Clock,
    pub events: &'a dyn EventSink,
    pub urls: ApiUrls,
    pub retry: RetryPolicy,
    token: RefCell<Option<Token>>,
    token_version: Cell<u64>,
    refreshing: futures::lock::Mutex<()>,
    tokens_fetched: Cell<u64>,
    timeout: Duration,
    flow: Flow,
    /// The first answers to collection requests, to stop a run whose data URL is wrong.
    first_answers: routes::FirstAnswers,
    /// `apiMode` of the discovery document, for the hint when the data URL is wrong.
    api_mode: Option<String>,
    /// What the discovery document says of the API's version: `None` when it was not read (all
    /// URLs configured), `Some(None)` when it names none.
    api_version: Option<Option<String>>,
    /// Discovery's data URL has no `/v3`: the Ed-Fi DMS (whose version numbers are its own).
    dms: bool,
}

/// What a request's result tells the flow.
fn answer_of(result: &Result<HttpResponse, TransportError>, now_ms: i64) -> Answer {
    match result {
        Ok(r) if r.status == 429 => Answer::RateLimited {
            retry_after: r
                .header("Retry-After")
                .and_then(|v| parse_retry_after(v, now_ms / 1000)),
        },
        Ok(_) => Answer::Other,
        Err(_) => Answer::NoAnswer,
    }
}

/// The token cap a 429 of the token endpoint names (`urn:ed-fi:api:security:authentication:
/// too-many-tokens`): "the API allows N live tokens per client" (N from its message when given).
fn too_many_tokens(r: &HttpResponse) -> Option<String> {
    if r.status != 429 {
        return None;
    }
    let body: Value = serde_json::from_slice(&r.body).ok()?;
    let text = body.to_string();
    if !text.contains("too-many-tokens") && !text.contains("Too many access tokens") {
        return None;
    }
    let limit = text
        .split("limit is ")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    Some(match limit {
        Some(n) => format!("the API allows {n} live tokens per client"),
        None => "the API's limit of live tokens per client is reached".to_string(),
    })
}

fn swap_scheme(url: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("http://") {
        Some(format!("https://{rest}"))
    } else {
        url.strip_prefix("https://")
            .map(|rest| format!("http://{rest}"))
    }
}

fn non_empty(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// `NAME` when the whole value is an environment variable reference left unexpanded (`${NAME}` or
/// `$NAME`: the variable is not set).
fn unexpanded_variable(value: &str) -> Option<&str> {
    let v = value.trim();
    let name = v
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| v.strip_prefix('$'))?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(name)
}

impl<'a> Session<'a> {
    /// Discover the API's URLs (unless all are configured) without authenticating.
    pub async fn connect(
        config: &'a Config,
        http: &'a dyn Http,
        clock: &'a dyn Clock,
        events: &'a dyn EventSink,
    ) -> Result<Session<'a>, SessionError> {
        let api = &config.edfi_api;
        let timeout = Duration::from_secs_f64(config.connection.timeout.max(0.001));
        let mut s = Session {
            config,
            http,
            clock,
            events,
            urls: ApiUrls {
                base: api.base_url.trim_end_matches('/').to_string(),
                data: String::new(),
                ..ApiUrls::default()
            },
            retry: RetryPolicy::from_connection(&config.connection),
            token: RefCell::new(None),
            token_version: Cell::new(0),
            refreshing: futures::lock::Mutex::new(()),
            tokens_fetched: Cell::new(0),
            timeout,
            flow: Flow::new(config.connection.pool_size as usize),
            first_answers: routes::FirstAnswers::default(),
            api_mode: None,
            api_version: None,
            dms: false,
        };
        let configured = (
            non_empty(&api.oauth_url).map(str::to_string),
            non_empty(&api.dependencies_url).map(str::to_string),
            non_empty(&api.open_api_metadata_url).map(str::to_string),
        );
        if let (Some(o), Some(d), Some(m)) = &configured {
            s.urls.oauth = o.clone();
            s.urls.dependencies = d.clone();
            s.urls.open_api_metadata = m.clone();
            s.set_data_url(None)?;
            return Ok(s);
        }
        s.log(LogLevel::Debug, format!("fetching {} ...", s.urls.base));
        let resp = s.get_with_fallback(&api.base_url).await?;
        let root: Value =
            serde_json::from_slice(&resp.body).map_err(|e| SessionError::BadDiscovery {
                url: api.base_url.clone(),
                reason: format!(
                    "{}; is edfi_api.base_url the root of an Ed-Fi API?",
                    crate::api::errors::not_json_reason(&resp.body, &e)
                ),
            })?;
        let pick = |configured: &Option<String>, key: &str| -> Result<String, SessionError> {
            if let Some(c) = configured {
                return Ok(c.clone());
            }
            root.get("urls")
                .and_then(|u| u.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| SessionError::BadDiscovery {
                    url: api.base_url.clone(),
                    reason: format!("no urls.{key} in the discovery document"),
                })
        };
        let route = |url: String| {
            routes::fill_url(&url, config).map_err(|e| SessionError::Route {
                url: api.base_url.clone(),
                reason: e.0,
            })
        };
        s.urls.oauth = route(pick(&configured.0, "oauth")?)?;
        s.urls.dependencies = route(pick(&configured.1, "dependencies")?)?;
        s.urls.open_api_metadata =
            route(pick(&configured.2, "openApiMetadata").unwrap_or_default())?;
        s.api_mode = root
            .get("apiMode")
            .and_then(Value::as_str)
            .map(str::to_string);
        s.api_version = Some(
            root.get("version")
                .and_then(Value::as_str)
                .map(str::to_string),
        );
        s.dms = root
            .pointer("/urls/dataManagementApi")
            .and_then(Value::as_str)
            .is_some_and(|u| !u.contains("/v3"));
        s.set_data_url(Some(&root))?;
        Ok(s)
    }

    /// The data URL ([`routes::data_url`]), said at INFO with where it comes from.
    fn set_data_url(&mut self, discovery: Option<&Value>) -> Result<(), SessionError> {
        let (url, source) =
            routes::data_url(self.config, discovery).map_err(|e| SessionError::Route {
                url: self.config.edfi_api.base_url.clone(),
                reason: e.0,
            })?;
        let from = match source {
            routes::RouteSource::Configured => "edfi_api.data_url".to_string(),
            routes::RouteSource::Mode => "edfi_api.base_url and edfi_api.mode".to_string(),
            routes::RouteSource::Discovery(layout) => {
                format!("edfi_api.base_url and the API's route layout {layout}")
            }
        };
        self.log(LogLevel::Info, format!("data URL: {url} (from {from})"));
        self.urls.data = url;
        Ok(())
    }

    /// Whether the API may offer cursor paging: its discovery document says ODS/API 7.3 or later
    /// or names no version, or it is the Ed-Fi DMS (a data URL without `/v3`). Which endpoints
    /// offer it, the OpenAPI documents tell.
    pub fn may_offer_cursor_paging(&self) -> bool {
        if self.dms {
            return true;
        }
        match &self.api_version {
            None => false,
            Some(None) => true,
            Some(Some(v)) => {
                let mut parts = v.split('.').map(|p| p.trim().parse::<u32>().ok());
                let major = parts.next().flatten();
                let minor = parts.next().flatten().unwrap_or(0);
                major.is_none_or(|m| (m, minor) >= (7, 3))
            }
        }
    }

    /// The `Accept` and `Content-Type` of a request: `application/json`, or for a resource (or one
    /// of its items) whose endpoint goes through a profile (`edfi_api.profile`, `profiles`), the
    /// profile's media types `application/vnd.ed-fi.{resource}.{profile}.readable+json` (GET)
    /// and `...writable+json` (POST, PUT), resource and profile lowercased as the ODS/API names
    /// them. Its `/deletes`, `/keyChanges` and `/partitions` are plain JSON.
    fn media_types(&self, method: Method, url: &str) -> (String, String) {
        const JSON: &str = "application/json";
        let plain = || (JSON.to_string(), JSON.to_string());
        let path = url.split(['?', '#']).next().unwrap_or("");
        let Some(rest) = path.strip_prefix(self.urls.data.trim_end_matches('/')) else {
            return plain();
        };
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let endpoint = match segs.as_slice() {
            [_, e] => *e,
            [_, e, item] if !["deletes", "keyChanges", "partitions"].contains(item) => *e,
            _ => return plain(),
        };
        let Some(profile) = self.config.edfi_api.profile_for(endpoint) else {
            return plain();
        };
        let media = |usage: &str| {
            format!(
                "application/vnd.ed-fi.{}.{}.{usage}+json",
                crate::api::openapi::singularize(endpoint).to_ascii_lowercase(),
                profile.to_ascii_lowercase()
            )
        };
        match method {
            Method::Get => (media("readable"), JSON.to_string()),
            Method::Post | Method::Put => (JSON.to_string(), media("writable")),
            _ => plain(),
        }
    }

    /// The root of the change queries beside the data URL: `{root}/changeQueries/v1` plus the
    /// instance and year segments that follow `/data/v3` (ODS/API 5.x/6.x year routes), or
    /// `{root}/changeQueries/v1` for a data URL ending in `/data` (the DMS).
    pub fn change_queries_url(&self) -> String {
        let data = self.urls.data.trim_end_matches('/');
        if let Some(i) = data.rfind("/data/v3") {
            return format!("{}/changeQueries/v1{}", &data[..i], &data[i + 8..]);
        }
        let root = data.strip_suffix("/data").unwrap_or(&self.urls.base);
        format!("{root}/changeQueries/v1")
    }

    /// `{data URL}/{namespace}/{endpoint}`.
    pub fn resource_url(&self, endpoint: &str) -> String {
        crate::config::url_join(&[
            &self.urls.data,
            self.config.namespace_for(endpoint),
            endpoint,
        ])
    }

    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        self.events.emit(Event::Log {
            level,
            message: message.into(),
        });
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// GET without authentication, trying the other scheme (http/https) when unreachable.
    pub async fn get_with_fallback(&self, url: &str) -> Result<HttpResponse, SessionError> {
        let first = self.http.send(HttpRequest::get(url, self.timeout)).await;
        let resp = match first {
            Ok(r) => r,
            Err(e) => match swap_scheme(url) {
                Some(other) => self
                    .http
                    .send(HttpRequest::get(&other, self.timeout))
                    .await
                    .map_err(|_| SessionError::Unreachable {
                        url: url.to_string(),
                        reason: e.to_string(),
                    })?,
                None => {
                    return Err(SessionError::Unreachable {
                        url: url.to_string(),
                        reason: e.to_string(),
                    })
                }
            },
        };
        if !(200..300).contains(&resp.status) {
            // one line, whatever the body (an HTML error page has many)
            let snippet = crate::api::errors::body_excerpt(&resp.body, 75);
            return Err(SessionError::Unreachable {
                url: url.to_string(),
                reason: format!("status {}: {snippet}", resp.status),
            });
        }
        Ok(resp)
    }

    /// How many tokens this session obtained.
    pub fn tokens_fetched(&self) -> u64 {
        self.tokens_fetched.get()
    }

    async fn fetch_token(&self) -> Result<(), SessionError> {
        let api = &self.config.edfi_api;
        // say which credential is missing rather than sending it and getting a bare 401
        for (key, value) in [
            ("edfi_api.client_id", api.client_id.as_str()),
            ("edfi_api.client_secret", api.client_secret.expose()),
        ] {
            let reason = if value.trim().is_empty() {
                format!("{key} is not set")
            } else if let Some(var) = unexpanded_variable(value) {
                format!("{key} is ${{{var}}}, but the environment variable {var} is not set (nor given with -p)")
            } else {
                continue;
            };
            return Err(SessionError::Auth {
                url: self.urls.oauth.clone(),
                reason,
            });
        }
        let credentials = format!("{}:{}", api.client_id, api.client_secret.expose());
        let body = query_string(&[("grant_type", "client_credentials")]).into_bytes();
        let mut attempt = 0u32;
        let started_ms = self.clock.now_unix_ms();
        loop {
            let req = HttpRequest {
                method: Method::Post,
                url: self.urls.oauth.clone(),
                headers: vec![
                    (
                        "Authorization".into(),
                        format!("Basic {}", BASE64_STANDARD.encode(credentials.as_bytes())),
                    ),
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("Accept".into(), "application/json".into()),
                ],
                body: Some(body.clone()),
                timeout: self.timeout,
            };
            let result = self.http.send(req).await;
            if let Some(cap) = result.as_ref().ok().and_then(too_many_tokens) {
                // the client holds all the live tokens the API allows: wait for one to expire,
                // within connection.timeout, then say so
                let waited = self.clock.now_unix_ms() - started_ms;
                let delay = self.retry.backoff(attempt + 1, self.clock.random());
                if waited as f64 + delay.as_secs_f64() * 1000.0
                    <= self.timeout.as_secs_f64() * 1000.0
                {
                    self.log(
                        LogLevel::Warning,
                        format!("the API refuses more tokens for this client ({cap}); retrying in {:.1}s", delay.as_secs_f64()),
                    );
                    self.clock.sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                return Err(SessionError::Auth {
                    url: self.urls.oauth.clone(),
                    reason: format!(
                        "429 Too Many Tokens: {cap}, and none expired within connection.timeout \
                         ({:.0}s); other processes with the same client_id hold them (tokens \
                         are reused until they expire)",
                        self.timeout.as_secs_f64()
                    ),
                });
            }
            if let RetryDecision::RetryAfter(delay) = self.retry_decision(attempt, &result) {
                self.clock.sleep(delay).await;
                attempt += 1;
                continue;
            }
            let resp = result.map_err(|e| SessionError::Auth {
                url: self.urls.oauth.clone(),
                reason: e.to_string(),
            })?;
            if resp.status != 200 {
                let err: Option<Value> = serde_json::from_slice(&resp.body).ok();
                let what = err
                    .as_ref()
                    .and_then(|v| v.get("error"))
                    .and_then(Value::as_str)
                    .map(|e| format!("status {} ({e})", resp.status))
                    .unwrap_or_else(|| {
                        format!(
                            "status {} ({})",
                            resp.status,
                            crate::api::errors::body_excerpt(&resp.body, 75)
                        )
                    });
                return Err(SessionError::Auth {
                    url: self.urls.oauth.clone(),
                    reason: what,
                });
            }
            let v: Value = serde_json::from_slice(&resp.body).map_err(|e| SessionError::Auth {
                url: self.urls.oauth.clone(),
                reason: format!(
                    "the token response is {}",
                    crate::api::errors::not_json_reason(&resp.body, &e)
                ),
            })?;
            let Some(value) = v.get("access_token").and_then(Value::as_str) else {
                return Err(SessionError::Auth {
                    url: self.urls.oauth.clone(),
                    reason: "the token response has no access_token".into(),
                });
            };
            let expires_in = v
                .get("expires_in")
                .and_then(Value::as_f64)
                .unwrap_or(1800.0);
            // refresh when 90% of the lifetime has passed, and at least 5 s before expiry
            let margin = (expires_in * 0.1).max(5.0).min(expires_in / 2.0);
            let refresh_at_ms = self.clock.now_unix_ms() + ((expires_in - margin) * 1000.0) as i64;
            *self.token.borrow_mut() = Some(Token {
                value: value.to_string(),
                refresh_at_ms,
            });
            self.token_version.set(self.token_version.get() + 1);
            self.tokens_fetched.set(self.tokens_fetched.get() + 1);
            self.log(LogLevel::Debug, "obtained a new OAuth token");
            return Ok(());
        }
    }

    /// The current token and its version, fetching a new one when there is none or it is
    /// about to expire. Concurrent callers share one fetch.
    pub async fn token(&self) -> Result<(String, u64), SessionError> {
        let now = self.clock.now_unix_ms();
        if let Some(t) = self.token.borrow().as_ref() {
            if now < t.refresh_at_ms {
                return Ok((t.value.clone(), self.token_version.get()));
            }
        }
        let seen = self.token_version.get();
        let _guard = self.refreshing.lock().await;
        if self.token_version.get() == seen {
            self.fetch_token().await?;
        }
        let t = self.token.borrow();
        let t = t.as_ref().expect("a token was just fetched");
        Ok((t.value.clone(), self.token_version.get()))
    }

    /// After a 401 with token `version`: fetch a new token unless another request already did.
    /// Whether this call fetched it.
    pub async fn refresh_after_401(&self, version: u64) -> Result<bool, SessionError> {
        let _guard = self.refreshing.lock().await;
        if self.token_version.get() != version {
            return Ok(false);
        }
        self.log(
            LogLevel::Debug,
            "fetching a new OAuth token after a 401 response",
        );
        self.fetch_token().await?;
        Ok(true)
    }

    /// The flow of requests on the wire (see [`Flow`]).
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    fn retry_decision(
        &self,
        retries_done: u32,
        result: &Result<HttpResponse, TransportError>,
    ) -> RetryDecision {
        let outcome = match result {
            Ok(r) => AttemptOutcome::Status(r.status),
            Err(TransportError::Timeout) => AttemptOutcome::Timeout,
            Err(_) => AttemptOutcome::ConnectError,
        };
        let now_secs = self.clock.now_unix_ms() / 1000;
        let retry_after = result
            .as_ref()
            .ok()
            .and_then(|r| r.header("Retry-After"))
            .and_then(|v| parse_retry_after(v, now_secs));
        self.retry
            .next(retries_done, outcome, retry_after, self.clock.random())
    }

    /// One authenticated request with retries on the configured statuses, connection errors and
    /// timeouts (exponential backoff with jitter, `Retry-After` honoured), and one token refresh
    /// on 401. Returns the final response, or the transport error after the last retry.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<Result<HttpResponse, TransportError>, SessionError> {
        let mut attempt = 0u32;
        let mut refreshed = 0u32;
        let first = self.first_answers.issue(&self.urls.data, url);
        loop {
            // the token is read once the request has its place on the wire: a request may wait
            // for its place longer than a token lives
            let slot = self.flow.acquire(self.clock).await;
            let (token, version) = self.token().await?;
            let (accept, content_type) = self.media_types(method, url);
            let mut headers = vec![
                ("Authorization".to_string(), format!("Bearer {token}")),
                ("Accept".to_string(), accept),
            ];
            if body.is_some() {
                headers.push(("Content-Type".to_string(), content_type));
            }
            let req = HttpRequest {
                method,
                url: url.to_string(),
                headers,
                body: body.map(<[u8]>::to_vec),
                timeout: self.timeout,
            };
            let result = self.http.send(req).await;
            let now_ms = self.clock.now_unix_ms();
            if let Some(change) = self.flow.answered(answer_of(&result, now_ms), now_ms) {
                self.log(
                    LogLevel::Debug,
                    match change {
                        PaceChange::Paced(p) => {
                            format!("the API limits our rate: pacing requests at {p:.0}/s")
                        }
                        PaceChange::Lifted => {
                            "429s not about our rate: requests no longer paced".to_string()
                        }
                    },
                );
            }
            drop(slot);
            if let Ok(r) = &result {
                if r.status == 401 && refreshed < 2 {
                    // only a refresh of the token this request used counts: one that another
                    // request already replaced is simply retried with the new one
                    if self.refresh_after_401(version).await? {
                        refreshed += 1;
                    }
                    continue;
                }
            }
            let RetryDecision::RetryAfter(delay) = self.retry_decision(attempt, &result) else {
                if let Ok(r) = &result {
                    if self.first_answers.wrong_url(first, r.status) {
                        return Err(SessionError::NotFound {
                            url: self.urls.data.clone(),
                            first: routes::FIRST_ANSWERS,
                            hint: routes::not_found_hint(self.config, self.api_mode.as_deref()),
                        });
                    }
                }
                return Ok(result);
            };
            self.log(
                LogLevel::Debug,
                format!(
                    "retrying {} {url} in {:.2}s ({})",
                    method.as_str(),
                    delay.as_secs_f64(),
                    match &result {
                        Ok(r) => format!("status {}", r.status),
                        Err(e) => e.to_string(),
                    }
                ),
            );
            self.flow.waiting_retry(true);
            self.clock.sleep(delay).await;
            self.flow.waiting_retry(false);
            attempt += 1;
        }
    }

    /// The dependency order of the API's endpoints.
    pub async fn dependencies(&self) -> Result<Dependencies, SessionError> {
        self.log(LogLevel::Debug, "fetching resource dependencies...");
        let resp = self
            .get_with_fallback(&self.urls.dependencies)
            .await
            .map_err(|e| SessionError::Metadata {
                what: "dependencies".into(),
                url: self.urls.dependencies.clone(),
                reason: e.to_string(),
            })?;
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&resp.body) {
            return Err(SessionError::Metadata {
                what: "dependencies".into(),
                url: self.urls.dependencies.clone(),
                reason: crate::api::errors::not_json_reason(&resp.body, &e),
            });
        }
        Dependencies::parse(&resp.body, &self.config.namespaces()).map_err(|e| {
            SessionError::Metadata {
                what: "dependencies".into(),
                url: self.urls.dependencies.clone(),
                reason: e.to_string(),
            }
        })
    }

    /// The API's endpoint model (schemas, identities, references, query parameters) from its
    /// resources and descriptors OpenAPI documents (cached for a month).
    pub async fn model(
        &self,
        cache: Option<&dyn Cache>,
    ) -> Result<crate::api::openapi::Model, SessionError> {
        let (resources, descriptors) = self.openapi_documents(cache).await?;
        let parse =
            |what: &str, bytes: &[u8]| -> Result<crate::api::openapi::Document, SessionError> {
                let value: Value =
                    serde_json::from_slice(bytes).map_err(|e| SessionError::Metadata {
                        what: format!("{what} Swagger"),
                        url: self.urls.open_api_metadata.clone(),
                        reason: crate::api::errors::not_json_reason(bytes, &e),
                    })?;
                crate::api::openapi::Document::new(value).map_err(|e| SessionError::Metadata {
                    what: format!("{what} Swagger"),
                    url: self.urls.open_api_metadata.clone(),
                    reason: e.to_string(),
                })
            };
        Ok(crate::api::openapi::Model::new(vec![
            parse("resources", &resources)?,
            parse("descriptors", &descriptors)?,
        ]))
    }

    /// The resources and descriptors OpenAPI documents (from the cache when younger than a month).
    pub async fn openapi_documents(
        &self,
        cache: Option<&dyn Cache>,
    ) -> Result<(Vec<u8>, Vec<u8>), SessionError> {
        const MONTH: u64 = 2_629_800;
        let api = &self.config.edfi_api;
        let (mut resources_url, mut descriptors_url) = (
            non_empty(&api.resources_swagger_url).map(str::to_string),
            non_empty(&api.descriptors_swagger_url).map(str::to_string),
        );
        if resources_url.is_none() || descriptors_url.is_none() {
            if self.urls.open_api_metadata.is_empty() {
                return Err(SessionError::Metadata {
                    what: "Swagger docs".into(),
                    url: self.urls.base.clone(),
                    reason: "the API publishes no openApiMetadata URL: set edfi_api.descriptors_swagger_url and edfi_api.resources_swagger_url".into(),
                });
            }
            let resp = self.get_with_fallback(&self.urls.open_api_metadata).await?;
            let list: Value =
                serde_json::from_slice(&resp.body).map_err(|e| SessionError::Metadata {
                    what: "the OpenAPI metadata list".into(),
                    url: self.urls.open_api_metadata.clone(),
                    reason: e.to_string(),
                })?;
            for entry in list.as_array().into_iter().flatten() {
                let name = entry
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let uri = entry
                    .get("endpointUri")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match name.as_str() {
                    "resources" if resources_url.is_none() => resources_url = uri,
                    "descriptors" if descriptors_url.is_none() => descriptors_url = uri,
                    _ => {}
                }
            }
        }
        let mut docs = Vec::new();
        for (what, url) in [
            ("resources", resources_url),
            ("descriptors", descriptors_url),
        ] {
            let Some(url) = url else {
                return Err(SessionError::Metadata {
                    what: format!("{what} Swagger"),
                    url: self.urls.open_api_metadata.clone(),
                    reason: format!("no {what} entry in the OpenAPI metadata list"),
                });
            };
            let key = format!("swagger-{what}-{}", crate::state::md5_hex(&url));
            if let Some(cache) = cache {
                if let Some((bytes, age)) = cache.get(&key).await {
                    if age < MONTH {
                        self.log(
                            LogLevel::Debug,
                            format!("re-using cached {what} swagger doc"),
                        );
                        docs.push(bytes);
                        continue;
                    }
                }
            }
            self.log(LogLevel::Debug, format!("fetching {what} swagger doc..."));
            let resp = self.get_with_fallback(&url).await?;
            if let Some(cache) = cache {
                cache.put(&key, &resp.body).await;
            }
            docs.push(resp.body);
        }
        let descriptors = docs.pop().unwrap_or_default();
        let resources = docs.pop().unwrap_or_default();
        Ok((resources, descriptors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn basic_credentials_and_the_other_scheme() {
        assert_eq!(
            BASE64_STANDARD.encode(b"testkey:testsecret"),
            "dGVzdGtleTp0ZXN0c2VjcmV0"
        );
        assert_eq!(swap_scheme("http://x/y").as_deref(), Some("https://x/y"));
    }

    #[test]
    fn too_many_tokens_in_both_error_styles_and_nothing_else() {
        let answer = |status: u16, body: &str| HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        };
        // ODS/API 7.2+: problem details (Ed-Fi-ODS TooManyTokensException)
        let v72 = r#"{"detail":"The caller has authenticated too many times in too short of a time period.","type":"urn:ed-fi:api:security:authentication:too-many-tokens","title":"Too Many Tokens","status":429,"errors":["Too many access tokens have been requested (limit is 15). Access tokens should be reused until they expire."]}"#;
        assert_eq!(
            too_many_tokens(&answer(429, v72)).as_deref(),
            Some("the API allows 15 live tokens per client")
        );
        // a message without the limit
        let bare = r#"{"type":"urn:ed-fi:api:security:authentication:too-many-tokens"}"#;
        assert_eq!(
            too_many_tokens(&answer(429, bare)).as_deref(),
            Some("the API's limit of live tokens per client is reached")
        );
        // any other 429, or another status: not this
        assert_eq!(
            too_many_tokens(&answer(429, r#"{"message":"slow down"}"#)),
            None
        );
        assert_eq!(too_many_tokens(&answer(400, v72)), None);
        assert_eq!(too_many_tokens(&answer(429, "<html>busy</html>")), None);
    }

    #[test]
    fn an_unexpanded_variable_is_recognised_only_as_the_whole_value() {
        assert_eq!(unexpanded_variable("${EDFI_SECRET}"), Some("EDFI_SECRET"));
        assert_eq!(unexpanded_variable(" $EDFI_SECRET "), Some("EDFI_SECRET"));
        assert_eq!(unexpanded_variable("pa$$word"), None);
        assert_eq!(unexpanded_variable("abc${X}"), None);
        assert_eq!(unexpanded_variable("${}"), None);
        assert_eq!(unexpanded_variable("$"), None);
    }
}
