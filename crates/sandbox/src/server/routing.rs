//! Which request reaches which handler: the router of the fixed pages, and the data routes
//! `/data/v3[/instance][/year]/{namespace}/{endpoint}[/{id}]` (`/data/...` for the DMS, `--dms`)
//! and `/changeQueries/v1[/instance][/year]/availableChangeVersions`, after the tenant and
//! context segments of `roots.rs`, where the bearer token is checked and the method picks the
//! operation of `data.rs` (`cursor.rs`, `changes.rs`).

use super::changes;
use super::cursor;
use super::data::{self, Collection};
use super::errors::unauthorized;
use super::forms::decode_component;
use super::metadata::{
    dependencies_doc, descriptors_doc, discovery, dms_metadata, metadata_list, resources_doc, stats,
};
use super::oauth::{check_bearer, token};
use super::profiles;
use super::roots::Root;
use super::state::{Sandbox, Shared};
use crate::store::{Api, ApiError};
use axum::body::Body;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{Method, Request, Response};
use axum::routing::{get, post};
use axum::Router;
use std::time::Duration;

/// The axum router (CORS included); faults are applied around it by [`serve`](super::serve).
pub fn router(sb: Shared) -> Router {
    use tower_http::cors::{Any, CorsLayer};
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(Any)
        .max_age(Duration::from_secs(3600));
    let paths = sb.doc_paths();
    let mut docs = Router::new()
        .route(paths.listing, get(metadata_list))
        .route(&format!("{}/", paths.listing), get(metadata_list))
        .route(paths.resources, get(resources_doc))
        .route(paths.descriptors, get(descriptors_doc))
        .route(paths.dependencies, get(dependencies_doc));
    if sb.cfg.dms {
        // the DMS's /metadata says where its parts are; the listing is below it
        docs = docs
            .route("/metadata", get(dms_metadata))
            .route("/metadata/", get(dms_metadata));
    }
    docs.route("/", get(discovery))
        .route("/oauth/token", post(token))
        .route("/_sandbox/stats", get(stats))
        .fallback(data)
        .layer(cors)
        .with_state(sb)
}

/// Where a data URL points.
struct DataRoute {
    /// The instance/year segments before the namespace, joined by `/` ("" for none).
    prefix: String,
    ep: usize,
    id: Option<String>,
}

/// The route of a data URL: up to two numeric segments (instance, year) before
/// `{namespace}/{endpoint}`, then at most an id.
fn route(api: &Api, data: &str, path: &str) -> Option<DataRoute> {
    let rest = path.strip_prefix(data)?;
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    for i in 0..segs.len().saturating_sub(1).min(3) {
        let ns = decode_component(segs[i]).to_ascii_lowercase();
        let Some(ep) = api.model.find(&ns, segs[i + 1]) else {
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
        return Some(DataRoute {
            prefix: segs[..i].join("/"),
            ep,
            id: tail.first().map(|s| s.to_string()),
        });
    }
    None
}

/// Every request no fixed route takes: a data request, counted in the stats by its status.
async fn data(State(sb): State<Shared>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let resp = data_request(&sb, parts, body).await;
    sb.stats.lock().count_request(&method, resp.status());
    resp
}

/// The instance/year segments of `/changeQueries/v1[/instance][/year]/availableChangeVersions`
/// (joined by `/`, "" for none), the route of the database's change versions; names are
/// case-insensitive as the ODS's routes.
fn change_versions_route(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let [cq, v1, prefix @ .., last] = segs.as_slice() else {
        return None;
    };
    let named = cq.eq_ignore_ascii_case("changeQueries")
        && v1.eq_ignore_ascii_case("v1")
        && last.eq_ignore_ascii_case("availableChangeVersions");
    (named && prefix.len() <= 2).then(|| prefix.join("/"))
}

/// A data request: its route (404), its bearer token (401), then the operation of its method
/// (405 for none).
async fn data_request(sb: &Sandbox, parts: Parts, body: Body) -> Response<Body> {
    let root = parts.extensions.get::<Root>().cloned().unwrap_or_default();
    if let Some(prefix) = change_versions_route(parts.uri.path()) {
        if let Err(why) = check_bearer(sb, &root, &parts.headers) {
            return unauthorized(sb.api.style, why);
        }
        let answer = match parts.method {
            Method::GET => {
                changes::available_change_versions(&sb.store(&root.store_key(&prefix)).read())
            }
            _ => Err(ApiError::MethodNotAllowed),
        };
        return answer.unwrap_or_else(|e| sb.error_response(&e));
    }
    let Some(DataRoute { prefix, ep, id }) = route(&sb.api, sb.data_path(), parts.uri.path())
    else {
        return sb.error_response(&ApiError::UnknownResource);
    };
    let assigned = match check_bearer(sb, &root, &parts.headers) {
        Ok(assigned) => assigned,
        Err(why) => return unauthorized(sb.api.style, why),
    };
    // the operations a profile shapes: GET of the collection and by id, POST, PUT
    let special = |p: &str| {
        ["deletes", "keyChanges"]
            .iter()
            .any(|s| p.eq_ignore_ascii_case(s))
            || (p == "partitions" && sb.cfg.cursor_paging)
    };
    let shaped = match (&parts.method, id.as_deref()) {
        (&Method::GET, None) | (&Method::POST, None) | (&Method::PUT, Some(_)) => true,
        (&Method::GET, Some(p)) => !special(p),
        _ => false,
    };
    let profile = if shaped {
        profiles::negotiate(sb, &assigned, &parts.method, &parts.headers, ep)
    } else {
        profiles::check_media_type(sb, &parts.method, &parts.headers).map(|_| None)
    };
    let profile = match profile {
        Ok(p) => p,
        Err(e) => return sb.error_response(&e),
    };
    let c = Collection {
        store: sb.store(&root.store_key(&prefix)),
        root_url: root.url(sb),
        prefix,
        ep,
        profile,
    };
    let answer = match (&parts.method, id) {
        // cursor paging when it is on and asked for (cursor.rs), else offset paging
        (&Method::GET, None) => {
            cursor::list(sb, &c, &parts.uri).unwrap_or_else(|| data::list(sb, &c, &parts.uri))
        }
        (&Method::GET, Some(p)) if p == "partitions" && sb.cfg.cursor_paging => {
            cursor::partitions(sb, &c, &parts.uri)
        }
        (&Method::GET, Some(p)) if p.eq_ignore_ascii_case("deletes") => {
            changes::deletes(&c, &parts.uri)
        }
        (&Method::GET, Some(p)) if p.eq_ignore_ascii_case("keyChanges") => {
            changes::key_changes(&parts.uri)
        }
        (&Method::GET, Some(id)) => data::get(sb, &c, &id, &parts.headers),
        (&Method::POST, None) => data::post(sb, &c, body).await,
        (&Method::PUT, Some(id)) => data::put(sb, &c, &id, &parts.headers, body).await,
        (&Method::DELETE, Some(id)) => data::delete(sb, &c, &id, &parts.headers),
        _ => Err(ApiError::MethodNotAllowed),
    };
    answer.unwrap_or_else(|e| sb.error_response(&e))
}
