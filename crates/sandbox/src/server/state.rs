//! The shared state of a running sandbox ([`Sandbox`]) and what it is made from
//! ([`ServeConfig`] from the command line, the [`Documents`] served verbatim): one store per
//! instance/year prefix (each a copy of the seeded store), the issued tokens, the counters,
//! the random numbers of fault injection, the token bucket of the rate limit.

use super::delay::PreciseDelay;
use super::errors;
use super::ratelimit::RateLimiter;
use super::stats::Stats;
use crate::profiles::Profile;
use crate::store::{Api, ApiError, ErrorStyle, Store};
use axum::body::{Body, Bytes};
use axum::http::Response;
use parking_lot::{Mutex, RwLock};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything `serve` needs, from the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub clients: Vec<Client>,
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
    /// Data requests a second admitted by the one token bucket of `--rate-limit` (none: no limit).
    pub rate_limit: Option<f64>,
    /// Refuse payloads naming persons not yet related to the caller (`--relationship-auth`).
    pub relationship_auth: bool,
    /// Tenant segments before every route (`--tenants`), each tenant its own database.
    pub tenants: Vec<String>,
    /// Context segments (school years) before every route after the tenant (`--contexts`).
    pub contexts: Vec<String>,
    /// The Ed-Fi Data Management Service's routes and discovery instead of the ODS/API's
    /// (`--dms`): `/data/{namespace}/{endpoint}`, `/metadata/specifications`.
    pub dms: bool,
    /// Live tokens a client may hold (`--token-limit`; the ODS/API's default is 15).
    pub token_limit: usize,
    /// ODS/API 7.3's cursor paging beside offset paging (`--cursor-paging`).
    pub cursor_paging: bool,
    /// The ODS/API profiles the API knows (`--profile NAME:FILE`), for the profile media types
    /// and the clients assigned to them.
    pub profiles: Vec<Profile>,
}

impl ServeConfig {
    /// The defaults of `edfi-sandbox serve` (one client `testkey:testsecret`), for unit tests.
    pub fn for_tests() -> ServeConfig {
        ServeConfig {
            clients: vec![Client::parse("testkey:testsecret").expect("a client")],
            token_ttl: Duration::from_secs(1800),
            style: ErrorStyle::V72,
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            fault_rate: 0.0,
            fault_statuses: vec![],
            drop_rate: 0.0,
            rng_seed: 0,
            data_model_version: "5.0.0".into(),
            token_log: None,
            rate_limit: None,
            relationship_auth: false,
            tenants: vec![],
            contexts: vec![],
            dms: false,
            token_limit: 15,
            cursor_paging: false,
            profiles: vec![],
        }
    }
}

/// Client credentials the API accepts (`--client ID:SECRET[,tenant=T][,profile=P]...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub secret: String,
    /// The one tenant this client's tokens work in (none: every tenant).
    pub tenant: Option<String>,
    /// The profiles assigned to this client (`profile=P`, repeatable), as an ODS/API's admin
    /// database assigns them to an API client.
    pub profiles: Vec<String>,
}

impl Client {
    /// `ID:SECRET[,tenant=T][,profile=P]...`: the secret ends at the first comma.
    pub fn parse(text: &str) -> Result<Client, String> {
        let (head, options) = text.split_once(',').unwrap_or((text, ""));
        let Some((id, secret)) = head.split_once(':') else {
            return Err(format!(
                "--client {text:?}: expected ID:SECRET[,tenant=T][,profile=P]"
            ));
        };
        if id.is_empty() || secret.is_empty() {
            return Err(format!(
                "--client {text:?}: the ID and the SECRET must not be empty"
            ));
        }
        let mut client = Client {
            id: id.to_string(),
            secret: secret.to_string(),
            tenant: None,
            profiles: vec![],
        };
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option.split_once('=') {
                Some(("tenant", t)) if !t.is_empty() => client.tenant = Some(t.to_string()),
                Some(("profile", p)) if !p.is_empty() => client.profiles.push(p.to_string()),
                _ => {
                    return Err(format!(
                        "--client {text:?}: unknown option {option:?} (known: tenant=T, profile=P)"
                    ))
                }
            }
        }
        Ok(client)
    }
}

/// Raw documents served verbatim.
pub struct Documents {
    pub resources: Bytes,
    pub descriptors: Bytes,
    pub dependencies: Bytes,
}

/// Where the metadata documents are below a root: the router serves them there and discovery
/// and the listing name them.
pub(super) struct DocPaths {
    /// The listing of the two OpenAPI documents.
    pub listing: &'static str,
    pub resources: &'static str,
    pub descriptors: &'static str,
    pub dependencies: &'static str,
}

/// The ODS/API's.
const ODS_DOCS: DocPaths = DocPaths {
    listing: "/metadata",
    resources: "/metadata/data/v3/resources/swagger.json",
    descriptors: "/metadata/data/v3/descriptors/swagger.json",
    dependencies: "/metadata/data/v3/dependencies",
};

/// The Ed-Fi DMS's (`--dms`).
const DMS_DOCS: DocPaths = DocPaths {
    listing: "/metadata/specifications",
    resources: "/metadata/specifications/resources-spec.json",
    descriptors: "/metadata/specifications/descriptors-spec.json",
    dependencies: "/metadata/dependencies",
};

/// A bearer token the sandbox issued.
pub(super) struct IssuedToken {
    pub expires: Instant,
    /// The tenant it was issued in (it works there only).
    pub tenant: Option<String>,
    /// The client it was issued to (for `--token-limit`).
    pub client: String,
    /// The profiles assigned to that client.
    pub profiles: Vec<String>,
}

/// Shared state of a running sandbox.
pub struct Sandbox {
    pub api: Api,
    seed: Store,
    stores: Mutex<HashMap<String, Arc<RwLock<Store>>>>,
    /// Issued bearer tokens.
    pub(super) tokens: Mutex<HashMap<String, IssuedToken>>,
    pub(super) tokens_issued: AtomicU64,
    pub(super) stats: Mutex<Stats>,
    pub(super) rng: Mutex<SmallRng>,
    pub(super) docs: Documents,
    pub(super) cfg: ServeConfig,
    pub(super) base_url: RwLock<String>,
    pub(super) delay: PreciseDelay,
    /// The token bucket of `--rate-limit`.
    pub(super) limiter: Option<RateLimiter>,
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
            limiter: cfg.rate_limit.map(RateLimiter::new),
            docs,
            cfg,
            base_url: RwLock::new(String::new()),
            delay: PreciseDelay::new(),
        })
    }

    /// The store of an instance/year prefix ("" for the default one), made on first use.
    pub(super) fn store(&self, prefix: &str) -> Arc<RwLock<Store>> {
        let mut stores = self.stores.lock();
        stores
            .entry(prefix.to_string())
            .or_insert_with(|| Arc::new(RwLock::new(self.seed.clone())))
            .clone()
    }

    /// Where the metadata documents are below a root, in this sandbox's layout.
    pub(super) fn doc_paths(&self) -> &'static DocPaths {
        if self.cfg.dms {
            &DMS_DOCS
        } else {
            &ODS_DOCS
        }
    }

    /// The path of the data API below a root: `/data/v3/` (ODS/API) or `/data/` (DMS).
    pub(super) fn data_path(&self) -> &'static str {
        if self.cfg.dms {
            "/data/"
        } else {
            "/data/v3/"
        }
    }

    /// The base URL the sandbox listens at (`http://127.0.0.1:PORT`).
    pub(super) fn base(&self) -> String {
        self.base_url.read().clone()
    }

    /// The error response of `e` in the configured style.
    pub(super) fn error_response(&self, e: &ApiError) -> Response<Body> {
        errors::api_error(self.api.style, e)
    }

    /// JSON of `/_sandbox/stats`.
    pub fn stats_json(&self) -> Value {
        let stats = self.stats.lock();
        let stores: Vec<(String, Arc<RwLock<Store>>)> = self
            .stores
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let default = self.store("");
        let default = default.read();
        let tokens_issued = self.tokens_issued.load(Ordering::Relaxed);
        stats.report(&self.api, &default, stores, tokens_issued)
    }
}

/// The sandbox as the handlers share it.
pub(super) type Shared = Arc<Sandbox>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_options() {
        let c = Client::parse("k:s,tenant=a,profile=P1,profile=P2").unwrap();
        assert_eq!(
            (c.id.as_str(), c.secret.as_str(), c.tenant.as_deref()),
            ("k", "s", Some("a"))
        );
        assert_eq!(c.profiles, ["P1", "P2"]);
        assert!(Client::parse("k:s").unwrap().profiles.is_empty());
        for bad in ["k:s,profile=", "k:s,scope=1", "k:s,profile"] {
            let e = Client::parse(bad).unwrap_err();
            assert!(e.contains("unknown option"), "{bad}: {e}");
        }
    }
}
