//! The HTTP face of the sandbox: discovery, metadata, OAuth, data routes, rate limit, faults, stats.
//!
//! [`serve`] accepts connections; where each part of an answer lives:
//! - `state.rs`: the shared state ([`Sandbox`]) and what it is made from ([`ServeConfig`],
//!   [`Documents`]).
//! - `connections.rs`: plain and TLS connections ([`self_signed_tls`]).
//! - `faults.rs`: latency, injected statuses and dropped connections around each data request;
//!   `delay.rs`: the precise waiting of the latency ([`PreciseDelay`]); `ratelimit.rs`: the
//!   token bucket of `--rate-limit`, applied before them, as a gateway in front of the API would.
//! - `roots.rs`: the tenant and context segments before every route (`--tenants`, `--contexts`).
//! - `routing.rs`: the [`router`], data URLs and their dispatch by method.
//! - `data.rs`: the data operations (`cursor.rs`: cursor paging and `/partitions` of 7.3;
//!   `changes.rs`: Change Queries: `availableChangeVersions`, `/deletes`, `/keyChanges`);
//!   `profiles.rs`: which ODS/API profile a data request is under (`crate::profiles` shapes
//!   its bodies); `oauth.rs`: tokens and the bearer check; `metadata.rs`: discovery, metadata
//!   and documents.
//! - `errors.rs`: error bodies in both styles; `stats.rs`: the counters of `/_sandbox/stats`;
//!   `forms.rs`: URL-encoded query strings and forms.

mod changes;
mod connections;
mod cursor;
mod data;
mod delay;
mod errors;
mod faults;
mod forms;
mod metadata;
mod oauth;
mod profiles;
mod ratelimit;
mod roots;
mod routing;
mod state;
mod stats;

pub use connections::self_signed_tls;
pub use delay::PreciseDelay;
pub use routing::router;
pub use state::{Client, Documents, Sandbox, ServeConfig};

use connections::spawn_connection;
use state::Shared;
use std::sync::Arc;
use std::time::Duration;

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
