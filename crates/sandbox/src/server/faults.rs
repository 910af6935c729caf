//! Fault injection around the data requests (`--latency-ms`, `--latency-jitter-ms`,
//! `--fault-rate`, `--fault-statuses`, `--drop-rate`): which fault a request gets, the bodies of
//! injected error statuses, and [`handle`], which every request of a connection goes through
//! before the router (and which applies `--rate-limit` first).

use super::errors::{message, problem};
use super::ratelimit;
use super::roots::take_root;
use super::state::{Sandbox, Shared};
use crate::store::ErrorStyle;
use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::Router;
use rand::Rng;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// What happens to one data request besides its latency.
enum Fault {
    None,
    Status(u16),
    Drop { process_first: bool },
}

/// The fault and the latency of one data request, drawn from the seeded random numbers.
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

/// The answer of an injected error status, in the configured style (429 with `Retry-After`).
fn fault_response(sb: &Sandbox, status: u16) -> Response<Body> {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let resp = if sb.api.style == ErrorStyle::V72 {
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
    outside_router(resp, (status == 429).then_some(1))
}

/// An answer given before the router (which adds CORS headers to its own): its CORS headers,
/// and `Retry-After` when given (seconds).
pub(super) fn outside_router(mut resp: Response<Body>, retry_after: Option<u64>) -> Response<Body> {
    let h = resp.headers_mut();
    if let Some(secs) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
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

/// The error that makes hyper close a connection without an answer.
#[derive(Debug)]
pub(super) struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for Dropped {}

/// One request of a connection: anything but a data request goes straight to the router; a
/// data request passes the rate limit (`ratelimit.rs`, else 429), waits its latency, then is
/// answered by the router, by an injected status, or not at all (its connection dropped, after
/// or without processing it).
pub(super) async fn handle(
    sb: Shared,
    app: Router,
    mut req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Dropped> {
    let arrived = Instant::now();
    // the tenant and context segments come off the path first (roots.rs)
    let Some(root) = take_root(&sb.cfg, &mut req) else {
        let not_found = sb.error_response(&crate::store::ApiError::UnknownResource);
        return Ok(outside_router(not_found, None));
    };
    req.extensions_mut().insert(root);
    let is_data = req.uri().path().starts_with("/data/") && req.method() != Method::OPTIONS;
    if !is_data {
        return Ok(answer(app, req).await);
    }
    if let Some(limited) = rate_limited(&sb, req.method(), arrived) {
        return Ok(limited);
    }
    let (fault, latency) = pick_fault(&sb);
    if !latency.is_zero() {
        sb.delay.until(arrived + latency).await;
    }
    match fault {
        Fault::None => Ok(answer(app, req).await),
        Fault::Status(s) => {
            {
                let mut stats = sb.stats.lock();
                stats.count_request(
                    req.method(),
                    StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
                stats.count_fault(s);
            }
            Ok(fault_response(&sb, s))
        }
        Fault::Drop { process_first } => {
            if process_first {
                let _ = answer(app, req).await;
            }
            sb.stats.lock().count_dropped();
            Err(Dropped)
        }
    }
}

/// The router's answer to a request.
async fn answer(app: Router, req: Request<hyper::body::Incoming>) -> Response<Body> {
    app.oneshot(req.map(Body::new))
        .await
        .unwrap_or_else(|e| match e {})
}

/// The 429 of a data request that arrived at `arrived` and found no token (counted in the
/// statistics); `None` lets it through (also when there is no limit).
fn rate_limited(sb: &Sandbox, method: &Method, arrived: Instant) -> Option<Response<Body>> {
    let wait = sb.limiter.as_ref()?.take(arrived)?;
    {
        let mut stats = sb.stats.lock();
        stats.count_request(method, StatusCode::TOO_MANY_REQUESTS);
        stats.count_rate_limited();
    }
    let secs = ratelimit::retry_after_secs(wait);
    let resp = match sb.api.style {
        // the Ed-Fi problem type of a rate-limited request, as the Data Management Service answers it
        ErrorStyle::V72 => problem(
            StatusCode::TOO_MANY_REQUESTS,
            "urn:ed-fi:api:too-many-requests",
            "Too Many Requests",
            "The number of allowed requests has been exceeded. Retry the request later.",
            None,
        ),
        // the words of an Azure API Management rate-limit policy
        ErrorStyle::V71 => message(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Rate limit is exceeded. Try again in {secs} seconds."),
            None,
        ),
    };
    Some(outside_router(resp, Some(secs)))
}
