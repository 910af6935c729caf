//! The `Http` port over `fetch`, with the whole request (body included) bounded by the
//! request's timeout through an `AbortController`.

use super::js_error_text;
use lightbeam_core::ports::{Http, HttpRequest, HttpResponse, LocalFuture, TransportError};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestMode, Response};

pub struct FetchHttp;

/// Why `fetch` failed without an answer, with what a user can do about it in a browser.
fn network_error(url: &str, e: &JsValue) -> TransportError {
    TransportError::Connect(format!(
        "{} (the browser got no answer from {url}: the server is down, refused this page's origin (CORS), or has a certificate the browser does not trust yet; open the URL once in this browser to accept it)",
        js_error_text(e)
    ))
}

async fn fetch(req: &HttpRequest, signal: &web_sys::AbortSignal) -> Result<HttpResponse, JsValue> {
    let init = RequestInit::new();
    init.set_method(req.method.as_str());
    init.set_mode(RequestMode::Cors);
    init.set_signal(Some(signal));
    let headers = Headers::new()?;
    for (k, v) in &req.headers {
        headers.append(k, v)?;
    }
    init.set_headers(&headers);
    if let Some(body) = &req.body {
        let array = js_sys::Uint8Array::from(body.as_slice());
        init.set_body(&array);
    }
    let request = Request::new_with_str_and_init(&req.url, &init)?;
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let mut out_headers = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&resp.headers()) {
        for pair in iter.flatten() {
            let pair: js_sys::Array = pair.unchecked_into();
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out_headers.push((k, v));
            }
        }
    }
    let buf = JsFuture::from(resp.array_buffer()?).await?;
    let body = js_sys::Uint8Array::new(&buf).to_vec();
    Ok(HttpResponse {
        status: resp.status(),
        headers: out_headers,
        body,
    })
}

impl Http for FetchHttp {
    fn send(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let controller =
                AbortController::new().map_err(|e| TransportError::Other(js_error_text(&e)))?;
            let timed_out = Rc::new(Cell::new(false));
            let flag = timed_out.clone();
            let abort = controller.clone();
            let ms = req.timeout.as_millis().min(u32::MAX as u128) as u32;
            let timer = gloo_timers::callback::Timeout::new(ms, move || {
                flag.set(true);
                abort.abort();
            });
            let result = fetch(&req, &controller.signal()).await;
            drop(timer); // cancels the timer
            match result {
                Ok(r) => Ok(r),
                Err(_) if timed_out.get() => Err(TransportError::Timeout),
                Err(e) => Err(network_error(&req.url, &e)),
            }
        })
    }
}
