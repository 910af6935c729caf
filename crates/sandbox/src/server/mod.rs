//! The HTTP face of the sandbox: discovery, metadata, OAuth, data routes, faults, stats.

use crate::store::{Api, ApiError, ErrorStyle, Query, Store};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use parking_lot::{Mutex, RwLock};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// Everything `serve` needs, from the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub clients: Vec<(String, String)>,
    pub token_ttl: Duration,
    pub style: ErrorStyle,
    pub latency: Duration,
    pub latency_jitter: Duration,
    pub fault_rate: f64,
    pub fault_statuses: Vec<u16>,
    pub drop_rate: f64,
    pub rng_seed: u64,
    /// Data models for discovery, e.g. ("Ed-Fi", "5.0.0").
    pub data_model_version: String,
    /// Append every issued token to this file, one a line (`--log-tokens`, for secret-leak tests).
    pub token_log: Option<std::path::PathBuf>,
}

/// Raw documents served verbatim.
pub struct Documents {
    pub resources: Bytes,
    pub descriptors: Bytes,
    pub dependencies: Bytes,
}

#[derive(Default)]
struct Stats {
    requests: BTreeMap<String, BTreeMap<u16, u64>>,
    faults: BTreeMap<u16, u64>,
    dropped: u64,
    creates: u64,
    updates: u64,
}

/// Delays with sub-millisecond precision (tokio's timer rounds up to whole milliseconds, which
/// would add about a millisecond to every `--latency-ms`): one thread sleeps until the earliest
/// deadline and wakes the waiting requests.
pub struct PreciseDelay {
    tx: std::sync::mpsc::Sender<(Instant, tokio::sync::oneshot::Sender<()>)>,
}

impl PreciseDelay {
    pub fn new() -> PreciseDelay {
        let (tx, rx) = std::sync::mpsc::channel::<(Instant, tokio::sync::oneshot::Sender<()>)>();
        std::thread::spawn(move || {
            let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(Instant, u64)>> =
                Default::default();
            let mut waiting: HashMap<u64, tokio::sync::oneshot::Sender<()>> = HashMap::new();
            let mut seq = 0u64;
            loop {
                let now = Instant::now();
                while let Some(std::cmp::Reverse((at, id))) = heap.peek().copied() {
                    if at > now {
                        break;
                    }
                    heap.pop();
                    if let Some(w) = waiting.remove(&id) {
                        let _ = w.send(());
                    }
                }
                let next = match heap.peek() {
                    Some(std::cmp::Reverse((at, _))) => {
                        rx.recv_timeout(at.saturating_duration_since(Instant::now()))
                    }
                    None => rx
                        .recv()
                        .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
                };
                match next {
                    Ok((at, w)) => {
                        seq += 1;
                        heap.push(std::cmp::Reverse((at, seq)));
                        waiting.insert(seq, w);
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        PreciseDelay { tx }
    }

    /// Wait until `deadline`.
    pub async fn until(&self, deadline: Instant) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send((deadline, tx)).is_ok() {
            let _ = rx.await;
        } else {
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

impl Default for PreciseDelay {
    fn default() -> Self {
        Self::new()
    }
}

/// Shared state of a running sandbox.
pub struct Sandbox {
    pub api: Api,
    seed: Store,
    stores: Mutex<HashMap<String, Arc<RwLock<Store>>>>,
    tokens: Mutex<HashMap<String, Instant>>,
    tokens_issued: AtomicU64,
    stats: Mutex<Stats>,
    rng: Mutex<SmallRng>,
    docs: Documents,
    cfg: ServeConfig,
    base_url: RwLock<String>,
    delay: PreciseDelay,
}

fn problem(
    status: StatusCode,
    typ: &str,
    title: &str,
    detail: &str,
    extra: Option<(&str, Value)>,
) -> Response<Body> {
    let mut body = serde_json::Map::new();
    body.insert("detail".into(), json!(detail));
    body.insert("type".into(), json!(typ));
    body.insert("title".into(), json!(title));
    body.insert("status".into(), json!(status.as_u16()));
    body.insert(
        "correlationId".into(),
        json!(uuid::Uuid::new_v4().to_string()),
    );
    if let Some((k, v)) = extra {
        body.insert(k.into(), v);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        Value::Object(body).to_string(),
    )
        .into_response()
}

fn message(status: StatusCode, msg: &str, model_state: Option<Value>) -> Response<Body> {
    let mut body = json!({ "message": msg });
    if let Some(ms) = model_state {
        body["modelState"] = ms;
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Status, type, title, detail and extra member of the ODS/API 7.2+ problem details for an error.
fn problem_parts(
    e: &ApiError,
) -> (
    StatusCode,
    &'static str,
    &'static str,
    String,
    Option<(&'static str, Value)>,
) {
    const VALIDATION: &str = "urn:ed-fi:api:bad-request:data-validation-failed";
    match e {
        ApiError::Validation(m) => (
            StatusCode::BAD_REQUEST,
            VALIDATION,
            "Data Validation Failed",
            "Data validation failed. See 'validationErrors' for details.".into(),
            Some(("validationErrors", json!(m))),
        ),
        ApiError::BadRequest { detail, errors } => (
            StatusCode::BAD_REQUEST,
            "urn:ed-fi:api:bad-request",
            "Bad Request",
            detail.clone(),
            (!errors.is_empty()).then(|| ("errors", json!(errors))),
        ),
        ApiError::Parameter(msg) => (
            StatusCode::BAD_REQUEST,
            "urn:ed-fi:api:bad-request:parameter-validation-failed",
            "Parameter Validation Failed",
            "The request construction was invalid.".into(),
            Some(("errors", json!([msg]))),
        ),
        ApiError::IdInBody => (
            StatusCode::BAD_REQUEST,
            VALIDATION,
            "Data Validation Failed",
            "The request data was constructed incorrectly.".into(),
            Some(("errors", json!([ID_IN_BODY]))),
        ),
        ApiError::UnknownResource => (
            StatusCode::NOT_FOUND,
            "urn:ed-fi:api:not-found",
            "Not Found",
            "The specified data could not be found.".into(),
            None,
        ),
        ApiError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            "urn:ed-fi:api:not-found",
            "Not Found",
            "The specified item could not be found.".into(),
            None,
        ),
        ApiError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "urn:ed-fi:api:method-not-allowed",
            "Method Not Allowed",
            "The request construction was invalid.".into(),
            None,
        ),
        ApiError::UnresolvedReference { resource } => (
            StatusCode::CONFLICT,
            "urn:ed-fi:api:data-conflict:unresolved-reference",
            "Unresolved Reference",
            format!("The referenced '{resource}' item does not exist."),
            None,
        ),
        // 7.2+ reports unknown descriptor values as validation errors; kept for completeness
        ApiError::UnresolvedDescriptor { path, descriptor, value } => (
            StatusCode::BAD_REQUEST,
            VALIDATION,
            "Data Validation Failed",
            "Data validation failed. See 'validationErrors' for details.".into(),
            Some(("validationErrors", json!({ path.clone(): [format!("{descriptor} value '{value}' does not exist.")] }))),
        ),
        ApiError::DependentItemExists { entity } => (
            StatusCode::CONFLICT,
            "urn:ed-fi:api:data-conflict:dependent-item-exists",
            "Dependent Item Exists",
            format!("The requested action cannot be performed because this item is referenced by an existing '{entity}' item."),
            None,
        ),
        ApiError::OptimisticLock => (
            StatusCode::PRECONDITION_FAILED,
            "urn:ed-fi:api:optimistic-lock-failed",
            "Optimistic Lock Failed",
            "The item has been modified by another user.".into(),
            None,
        ),
    }
}

const ID_IN_BODY: &str =
    "Resource identifiers cannot be assigned by the client. The 'id' property should not be included in the request body.";

/// Status and `message` of the ODS/API up to 7.1 for an error (validation has its modelState).
fn older_message(e: &ApiError) -> (StatusCode, String) {
    match e {
        ApiError::Validation(_) => (StatusCode::BAD_REQUEST, "The request is invalid.".into()),
        ApiError::BadRequest { detail, errors } => {
            (StatusCode::BAD_REQUEST, if errors.is_empty() { detail.clone() } else { errors.join(" ") })
        }
        ApiError::Parameter(msg) => (StatusCode::BAD_REQUEST, msg.clone()),
        ApiError::IdInBody => (StatusCode::BAD_REQUEST, ID_IN_BODY.into()),
        ApiError::UnknownResource => (StatusCode::NOT_FOUND, "The specified data could not be found.".into()),
        ApiError::NotFound { entity } => (
            StatusCode::NOT_FOUND,
            format!("Entity of type '{entity}' with the specified id was not found."),
        ),
        ApiError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "The requested resource does not support this method.".into(),
        ),
        ApiError::UnresolvedReference { resource: name } | ApiError::UnresolvedDescriptor { descriptor: name, .. } => (
            StatusCode::CONFLICT,
            format!("The value supplied for the related '{name}' resource does not exist."),
        ),
        ApiError::DependentItemExists { entity } => (
            StatusCode::CONFLICT,
            format!("The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the '{entity}' entity."),
        ),
        ApiError::OptimisticLock => (StatusCode::PRECONDITION_FAILED, "Resource was modified by another consumer.".into()),
    }
}

impl Sandbox {
    pub fn new(api: Api, seed: Store, docs: Documents, cfg: ServeConfig) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            api,
            seed,
            stores: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            tokens_issued: AtomicU64::new(0),
            stats: Mutex::new(Stats::default()),
            rng: Mutex::new(SmallRng::seed_from_u64(cfg.rng_seed)),
            docs,
            cfg,
            base_url: RwLock::new(String::new()),
            delay: PreciseDelay::new(),
        })
    }

    fn store(&self, prefix: &str) -> Arc<RwLock<Store>> {
        let mut stores = self.stores.lock();
        stores
            .entry(prefix.to_string())
            .or_insert_with(|| Arc::new(RwLock::new(self.seed.clone())))
            .clone()
    }

    fn base(&self) -> String {
        self.base_url.read().clone()
    }

    fn error_response(&self, e: &ApiError) -> Response<Body> {
        if self.api.style == ErrorStyle::V71 {
            return match e {
                ApiError::Validation(m) => {
                    let ms: serde_json::Map<String, Value> = m
                        .iter()
                        .map(|(k, v)| (format!("request{}", k.trim_start_matches('$')), json!(v)))
                        .collect();
                    message(
                        StatusCode::BAD_REQUEST,
                        "The request is invalid.",
                        Some(Value::Object(ms)),
                    )
                }
                other => {
                    let (status, text) = older_message(other);
                    message(status, &text, None)
                }
            };
        }
        let (status, typ, title, detail, extra) = problem_parts(e);
        problem(status, typ, title, &detail, extra)
    }

    fn unauthorized(&self, why: &str) -> Response<Body> {
        if self.api.style == ErrorStyle::V72 {
            problem(
                StatusCode::UNAUTHORIZED,
                "urn:ed-fi:api:security:authentication",
                "Authentication Failed",
                "The caller could not be authenticated.",
                Some(("errors", json!([why]))),
            )
        } else {
            message(
                StatusCode::UNAUTHORIZED,
                "Authorization has been denied for this request.",
                None,
            )
        }
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let Some(h) = headers.get(header::AUTHORIZATION) else {
            return Err("Authorization header is missing.");
        };
        let h = h.to_str().map_err(|_| "Invalid Authorization header.")?;
        let Some((scheme, token)) = h.split_once(' ') else {
            return Err("Invalid Authorization header.");
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err("Unknown Authorization header scheme.");
        }
        let token = token.trim();
        if token.is_empty() {
            return Err("Missing Authorization header bearer token value.");
        }
        match self.tokens.lock().get(token) {
            Some(exp) if *exp > Instant::now() => Ok(()),
            _ => Err("Invalid token"),
        }
    }

    fn count_request(&self, method: &Method, status: StatusCode) {
        let mut s = self.stats.lock();
        *s.requests
            .entry(method.as_str().to_string())
            .or_default()
            .entry(status.as_u16())
            .or_default() += 1;
    }

    /// JSON of `/_sandbox/stats`.
    pub fn stats_json(&self) -> Value {
        let s = self.stats.lock();
        let mut records = serde_json::Map::new();
        let stores: Vec<(String, Arc<RwLock<Store>>)> = self
            .stores
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let default = self.store("");
        let d = default.read();
        for (i, e) in self.api.model.endpoints.iter().enumerate() {
            records.insert(format!("{}/{}", e.namespace, e.name), json!(d.count(i)));
        }
        let mut instances = serde_json::Map::new();
        for (prefix, st) in stores {
            if prefix.is_empty() {
                continue;
            }
            let st = st.read();
            let m: serde_json::Map<String, Value> = self
                .api
                .model
                .endpoints
                .iter()
                .enumerate()
                .filter(|(i, _)| st.count(*i) > 0)
                .map(|(i, e)| (format!("{}/{}", e.namespace, e.name), json!(st.count(i))))
                .collect();
            instances.insert(prefix, Value::Object(m));
        }
        let requests: serde_json::Map<String, Value> = s
            .requests
            .iter()
            .map(|(m, by)| {
                (
                    m.clone(),
                    json!(by
                        .iter()
                        .map(|(k, v)| (k.to_string(), *v))
                        .collect::<BTreeMap<_, _>>()),
                )
            })
            .collect();
        json!({
            "requests": requests,
            "faults_injected": s.faults.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "faults_injected_total": s.faults.values().sum::<u64>(),
            "connections_dropped": s.dropped,
            "tokens_issued": self.tokens_issued.load(Ordering::Relaxed),
            "creates": s.creates,
            "updates": s.updates,
            "records": records,
            "records_by_instance": instances,
        })
    }
}

type Shared = Arc<Sandbox>;

async fn discovery(axum::extract::State(sb): axum::extract::State<Shared>) -> Response<Body> {
    let base = sb.base();
    let version = match sb.api.style {
        ErrorStyle::V72 => "7.2",
        ErrorStyle::V71 => "7.1",
    };
    axum::Json(json!({
        "version": version,
        "informationalVersion": version,
        "suite": "3",
        "build": format!("{version}.0.0"),
        "apiMode": "Sandbox",
        "dataModels": [{"name": "Ed-Fi", "version": sb.cfg.data_model_version, "informationalVersion": format!("Ed-Fi Data Standard {}", sb.cfg.data_model_version)}],
        "urls": {
            "dependencies": format!("{base}/metadata/data/v3/dependencies"),
            "openApiMetadata": format!("{base}/metadata/"),
            "oauth": format!("{base}/oauth/token"),
            "dataManagementApi": format!("{base}/data/v3/"),
            "xsdMetadata": format!("{base}/metadata/xsd"),
        }
    }))
    .into_response()
}

async fn metadata_list(axum::extract::State(sb): axum::extract::State<Shared>) -> Response<Body> {
    let base = sb.base();
    axum::Json(json!([
        {"name": "Resources", "endpointUri": format!("{base}/metadata/data/v3/resources/swagger.json"), "prefix": ""},
        {"name": "Descriptors", "endpointUri": format!("{base}/metadata/data/v3/descriptors/swagger.json"), "prefix": ""},
    ]))
    .into_response()
}

fn json_bytes(b: &Bytes) -> Response<Body> {
    ([(header::CONTENT_TYPE, "application/json")], b.clone()).into_response()
}

async fn resources_doc(axum::extract::State(sb): axum::extract::State<Shared>) -> Response<Body> {
    json_bytes(&sb.docs.resources)
}
async fn descriptors_doc(axum::extract::State(sb): axum::extract::State<Shared>) -> Response<Body> {
    json_bytes(&sb.docs.descriptors)
}
async fn dependencies_doc(
    axum::extract::State(sb): axum::extract::State<Shared>,
) -> Response<Body> {
    json_bytes(&sb.docs.dependencies)
}
async fn stats(axum::extract::State(sb): axum::extract::State<Shared>) -> Response<Body> {
    axum::Json(sb.stats_json()).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: Option<&str>) -> Response<Body> {
    let mut body = json!({ "error": error });
    if let Some(d) = description {
        body["error_description"] = json!(d);
    }
    (status, axum::Json(body)).into_response()
}

async fn token(
    axum::extract::State(sb): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let fields: HashMap<String, String> = if content_type.contains("json") {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect(),
            _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", None),
        }
    } else {
        url_form(&body)
    };
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(h) => {
            let Some((scheme, value)) = h.split_once(' ') else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", None);
            };
            if !scheme.eq_ignore_ascii_case("basic") {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", None);
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((id, secret)) => Some((id.to_string(), secret.to_string())),
                None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", None),
            }
        }
        None => None,
    };
    let in_body = match (fields.get("client_id"), fields.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => None,
    };
    let creds = match (basic, in_body) {
        (Some(_), Some(_)) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", None),
        (Some(c), None) | (None, Some(c)) => c,
        (None, None) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_request", None),
    };
    if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", None);
    }
    if !sb
        .cfg
        .clients
        .iter()
        .any(|(id, secret)| *id == creds.0 && *secret == creds.1)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", None);
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    {
        let mut tokens = sb.tokens.lock();
        let now = Instant::now();
        tokens.retain(|_, exp| *exp > now);
        tokens.insert(token.clone(), now + sb.cfg.token_ttl);
    }
    sb.tokens_issued.fetch_add(1, Ordering::Relaxed);
    if let Some(path) = &sb.cfg.token_log {
        use std::io::Write;
        let logged = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{token}"));
        if let Err(e) = logged {
            eprintln!("cannot log the token to {}: {e}", path.display());
        }
    }
    let mut body = json!({"access_token": token, "expires_in": sb.cfg.token_ttl.as_secs(), "token_type": "bearer"});
    if let Some(scope) = fields.get("scope") {
        body["scope"] = json!(scope);
    }
    axum::Json(body).into_response()
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Where a data URL points: (store prefix, endpoint index, optional id).
fn route(sb: &Sandbox, path: &str) -> Option<(String, usize, Option<String>)> {
    let rest = path.strip_prefix("/data/v3/")?;
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    for i in 0..segs.len().saturating_sub(1).min(3) {
        let ns = decode_component(segs[i]).to_ascii_lowercase();
        let Some(ep) = sb.api.model.find(&ns, segs[i + 1]) else {
            continue;
        };
        let prefix_ok = match i {
            0 => true,
            1 => segs[0].bytes().all(|b| b.is_ascii_digit()),
            2 => segs[1].bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        let tail = &segs[i + 2..];
        if !prefix_ok || tail.len() > 1 {
            return None;
        }
        return Some((segs[..i].join("/"), ep, tail.first().map(|s| s.to_string())));
    }
    None
}

fn parse_query(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| url_form(q.as_bytes()).into_iter().collect())
        .unwrap_or_default()
}

async fn data(
    axum::extract::State(sb): axum::extract::State<Shared>,
    req: Request<Body>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let resp = data_inner(&sb, parts, body).await;
    sb.count_request(&method, resp.status());
    resp
}

async fn data_inner(sb: &Shared, parts: axum::http::request::Parts, body: Body) -> Response<Body> {
    let Some((prefix, ep, id)) = route(sb, parts.uri.path()) else {
        return sb.error_response(&ApiError::UnknownResource);
    };
    if let Err(why) = sb.check_token(&parts.headers) {
        return sb.unauthorized(why);
    }
    let store = sb.store(&prefix);
    let endpoint = sb.api.endpoint(ep);
    let location_base = format!(
        "{}/data/v3/{}{}/{}",
        sb.base(),
        if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        },
        endpoint.namespace,
        endpoint.name
    );
    match (parts.method.clone(), id) {
        (Method::GET, None) => {
            let mut q = Query {
                offset: 0,
                limit: 25,
                filters: vec![],
            };
            let mut total_count = false;
            for (k, v) in parse_query(&parts.uri) {
                match k.to_ascii_lowercase().as_str() {
                    "offset" => match v.parse::<usize>() {
                        Ok(n) => q.offset = n,
                        Err(_) => {
                            return sb.error_response(&ApiError::Parameter(
                                "Offset must be a non-negative integer.".into(),
                            ))
                        }
                    },
                    "limit" => match v.parse::<i64>() {
                        Ok(n) if (0..=500).contains(&n) => q.limit = n as usize,
                        _ => {
                            return sb.error_response(&ApiError::Parameter(
                                if sb.api.style == ErrorStyle::V72 {
                                    "Limit must be a value between 0 and 500.".into()
                                } else {
                                    "Limit must be omitted or set to a value between 0 and 500."
                                        .into()
                                },
                            ))
                        }
                    },
                    "totalcount" => total_count = v.eq_ignore_ascii_case("true"),
                    "minchangeversion" | "maxchangeversion" | "pagesize" | "pagetoken" => {}
                    "id" => {
                        let norm = v.replace('-', "");
                        if norm.len() != 32 || !norm.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return sb.error_response(&ApiError::Validation(BTreeMap::from([(
                                "$.id".to_string(),
                                vec![format!("The value '{v}' is not valid for Id.")],
                            )])));
                        }
                        q.filters.push((k, v));
                    }
                    _ => q.filters.push((k, v)),
                }
            }
            let (items, total) = store.read().list(&sb.api, ep, &q);
            let mut resp = axum::Json(Value::Array(items)).into_response();
            if total_count {
                resp.headers_mut()
                    .insert("Total-Count", HeaderValue::from(total));
            }
            resp
        }
        (Method::GET, Some(id)) => {
            let result = store.read().get(&sb.api, ep, &id);
            match result {
                Ok(item) => {
                    let etag = format!("\"{}\"", item["_etag"].as_str().unwrap_or_default());
                    if parts
                        .headers
                        .get(header::IF_NONE_MATCH)
                        .and_then(|v| v.to_str().ok())
                        == Some(etag.as_str())
                    {
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    let mut resp = axum::Json(item).into_response();
                    if let Ok(v) = HeaderValue::from_str(&etag) {
                        resp.headers_mut().insert(header::ETAG, v);
                    }
                    resp
                }
                Err(e) => sb.error_response(&e),
            }
        }
        (Method::POST, None) => {
            let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
                Ok(b) => b,
                Err(_) => {
                    return sb.error_response(&ApiError::BadRequest {
                        detail: "The request could not be processed.".into(),
                        errors: vec!["The request body could not be read.".into()],
                    })
                }
            };
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return sb.error_response(&ApiError::BadRequest {
                    detail: "The request could not be processed. See 'errors' for details.".into(),
                    errors: vec!["A non-empty request body is required.".into()],
                });
            }
            let mut value: Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    return sb.error_response(&ApiError::Validation(BTreeMap::from([(
                        "$".to_string(),
                        vec![format!("The request body is not valid JSON: {e}")],
                    )])))
                }
            };
            if let Err(e) = sb.api.precheck(ep, &mut value) {
                return sb.error_response(&e);
            }
            let result = store.write().upsert_checked(&sb.api, ep, value);
            match result {
                Ok(u) => {
                    {
                        let mut s = sb.stats.lock();
                        if u.created {
                            s.creates += 1;
                        } else {
                            s.updates += 1;
                        }
                    }
                    let status = if u.created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    let mut resp = status.into_response();
                    let h = resp.headers_mut();
                    if let Ok(v) = HeaderValue::from_str(&format!("{location_base}/{}", u.id)) {
                        h.insert(header::LOCATION, v);
                    }
                    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", u.etag)) {
                        h.insert(header::ETAG, v);
                    }
                    resp
                }
                Err(e) => sb.error_response(&e),
            }
        }
        (Method::PUT, Some(id)) => {
            let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
                .await
                .unwrap_or_default();
            let value: Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) => {
                    return sb.error_response(&ApiError::BadRequest {
                        detail: "The request could not be processed. See 'errors' for details."
                            .into(),
                        errors: vec!["A non-empty request body is required.".into()],
                    })
                }
            };
            let mut guard = store.write();
            if let Some(if_match) = parts
                .headers
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
            {
                if guard
                    .etag_of(ep, &id)
                    .map(|e| format!("\"{e}\""))
                    .as_deref()
                    != Some(if_match)
                {
                    return sb.error_response(&ApiError::OptimisticLock);
                }
            }
            match guard.put(&sb.api, ep, &id, value) {
                Ok(etag) => {
                    let mut resp = StatusCode::NO_CONTENT.into_response();
                    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
                        resp.headers_mut().insert(header::ETAG, v);
                    }
                    resp
                }
                Err(e) => sb.error_response(&e),
            }
        }
        (Method::DELETE, Some(id)) => {
            let mut guard = store.write();
            if let Some(if_match) = parts
                .headers
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
            {
                if guard
                    .etag_of(ep, &id)
                    .map(|e| format!("\"{e}\""))
                    .as_deref()
                    != Some(if_match)
                {
                    return sb.error_response(&ApiError::OptimisticLock);
                }
            }
            match guard.delete(&sb.api, ep, &id) {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => sb.error_response(&e),
            }
        }
        _ => sb.error_response(&ApiError::MethodNotAllowed),
    }
}

/// The axum router (CORS included); faults are applied around it by [`serve`].
pub fn router(sb: Shared) -> Router {
    use tower_http::cors::{Any, CorsLayer};
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(Any)
        .max_age(Duration::from_secs(3600));
    Router::new()
        .route("/", get(discovery))
        .route("/metadata", get(metadata_list))
        .route("/metadata/", get(metadata_list))
        .route(
            "/metadata/data/v3/resources/swagger.json",
            get(resources_doc),
        )
        .route(
            "/metadata/data/v3/descriptors/swagger.json",
            get(descriptors_doc),
        )
        .route("/metadata/data/v3/dependencies", get(dependencies_doc))
        .route("/oauth/token", post(token))
        .route("/_sandbox/stats", get(stats))
        .fallback(data)
        .layer(cors)
        .with_state(sb)
}

enum Fault {
    None,
    Status(u16),
    Drop { process_first: bool },
}

fn pick_fault(sb: &Sandbox) -> (Fault, Duration) {
    let cfg = &sb.cfg;
    let mut rng = sb.rng.lock();
    let jitter = if cfg.latency_jitter.is_zero() {
        Duration::ZERO
    } else {
        Duration::from_micros(rng.gen_range(0..=cfg.latency_jitter.as_micros() as u64))
    };
    let latency = cfg.latency + jitter;
    if cfg.drop_rate > 0.0 && rng.gen_bool(cfg.drop_rate.min(1.0)) {
        return (
            Fault::Drop {
                process_first: rng.gen_bool(0.5),
            },
            latency,
        );
    }
    if cfg.fault_rate > 0.0
        && !cfg.fault_statuses.is_empty()
        && rng.gen_bool(cfg.fault_rate.min(1.0))
    {
        let s = cfg.fault_statuses[rng.gen_range(0..cfg.fault_statuses.len())];
        return (Fault::Status(s), latency);
    }
    (Fault::None, latency)
}

fn fault_response(sb: &Sandbox, status: u16) -> Response<Body> {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if sb.api.style == ErrorStyle::V72 {
        let (typ, title) = match status {
            429 => ("urn:ed-fi:api:too-many-requests", "Too Many Requests"),
            503 => ("urn:ed-fi:api:service-unavailable", "Service Unavailable"),
            _ => ("urn:ed-fi:api:system", "System Error"),
        };
        problem(
            code,
            typ,
            title,
            "An unexpected problem has occurred.",
            None,
        )
    } else {
        message(code, "An unexpected problem has occurred.", None)
    };
    let h = resp.headers_mut();
    if status == 429 {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("*"),
    );
    resp
}

#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for Dropped {}

async fn handle(
    sb: Shared,
    app: Router,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Dropped> {
    let arrived = Instant::now();
    let is_data = req.uri().path().starts_with("/data/") && req.method() != Method::OPTIONS;
    if !is_data {
        return Ok(app
            .oneshot(req.map(Body::new))
            .await
            .unwrap_or_else(|e| match e {}));
    }
    let (fault, latency) = pick_fault(&sb);
    if !latency.is_zero() {
        sb.delay.until(arrived + latency).await;
    }
    match fault {
        Fault::None => Ok(app
            .oneshot(req.map(Body::new))
            .await
            .unwrap_or_else(|e| match e {})),
        Fault::Status(s) => {
            sb.count_request(
                req.method(),
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
            *sb.stats.lock().faults.entry(s).or_default() += 1;
            Ok(fault_response(&sb, s))
        }
        Fault::Drop { process_first } => {
            if process_first {
                let _ = app.oneshot(req.map(Body::new)).await;
            }
            sb.stats.lock().dropped += 1;
            Err(Dropped)
        }
    }
}

/// A TLS configuration with a self-signed certificate for 127.0.0.1 and localhost, like a local
/// ODS/API behind a development certificate (for clients' `verify_ssl: false`).
pub fn self_signed_tls() -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    let der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.key_pair.serialize_der(),
    ));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![der], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn spawn_connection<S>(sb: Shared, app: Router, io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let io = hyper_util::rt::TokioIo::new(io);
        let svc = hyper::service::service_fn(move |req| handle(sb.clone(), app.clone(), req));
        let _ = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(io, svc)
            .await;
    });
}

/// Accept connections until the process ends (over TLS when `tls` is given).
pub async fn serve(
    sb: Shared,
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    *sb.base_url.write() = format!("{scheme}://{addr}");
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let app = router(sb.clone());
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match &acceptor {
            None => spawn_connection(sb.clone(), app.clone(), stream),
            Some(acceptor) => {
                let (acceptor, sb, app) = (acceptor.clone(), sb.clone(), app.clone());
                tokio::spawn(async move {
                    // a failed handshake (a client that does not trust the certificate) just ends
                    if let Ok(tls_stream) = acceptor.accept(stream).await {
                        spawn_connection(sb, app, tls_stream);
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let f = url_form(b"grant_type=client_credentials&client_id=a%3Ab&x=1+2");
        assert_eq!(f["grant_type"], "client_credentials");
        assert_eq!(f["client_id"], "a:b");
        assert_eq!(f["x"], "1 2");
    }
}
