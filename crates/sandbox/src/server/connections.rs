//! Connections: the self-signed certificate of `--tls-self-signed`, and one hyper HTTP/1.1
//! connection (plain or TLS) per accepted socket, each request passed to `faults::handle`.

use super::faults::handle;
use super::state::Shared;
use axum::Router;
use std::sync::Arc;

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

/// Serve one accepted connection (HTTP/1.1, keep-alive) on a task of its own.
pub(super) fn spawn_connection<S>(sb: Shared, app: Router, io: S)
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
