//! The HTTP port over reqwest, with a whole-request timeout.

use lightbeam_core::ports::{Http, HttpRequest, HttpResponse, LocalFuture, Method, TransportError};

pub struct ReqwestHttp {
    client: reqwest::Client,
    /// Parsed URLs of the endpoints (the same few URLs are used for every payload).
    urls: std::cell::RefCell<std::collections::HashMap<String, reqwest::Url>>,
}

impl ReqwestHttp {
    pub fn new(pool_size: usize, verify_ssl: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(pool_size.max(1) * 2)
            .tcp_nodelay(true)
            .danger_accept_invalid_certs(!verify_ssl)
            .user_agent(concat!("lightbeam-rs/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ReqwestHttp {
            client,
            urls: Default::default(),
        })
    }
}

fn transport_error(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_connect() {
        // the source chain says why (refused, DNS, TLS)
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg = format!("{msg}: {s}");
            src = s.source();
        }
        TransportError::Connect(msg)
    } else {
        let mut msg = e.to_string();
        if let Some(s) = std::error::Error::source(&e) {
            msg = format!("{msg}: {s}");
        }
        TransportError::Other(msg)
    }
}

impl Http for ReqwestHttp {
    fn send(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let method = match req.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
                Method::Put => reqwest::Method::PUT,
                Method::Delete => reqwest::Method::DELETE,
            };
            let url = {
                let mut urls = self.urls.borrow_mut();
                match urls.get(&req.url) {
                    Some(u) => u.clone(),
                    None => {
                        let u = reqwest::Url::parse(&req.url)
                            .map_err(|e| TransportError::Other(format!("{}: {e}", req.url)))?;
                        if urls.len() < 256 {
                            urls.insert(req.url.clone(), u.clone());
                        }
                        u
                    }
                }
            };
            let mut rb = self.client.request(method, url).timeout(req.timeout);
            for (k, v) in &req.headers {
                rb = rb.header(k, v);
            }
            if let Some(body) = req.body {
                rb = rb.body(body);
            }
            let resp = rb.send().await.map_err(transport_error)?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp.bytes().await.map_err(transport_error)?.to_vec();
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}
