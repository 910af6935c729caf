//! The browser adapters of the core's ports (fetch, timers, IndexedDB, dropped files, the
//! confirmation dialog, the progress model), the wiring of a run over them ([`run`]), and the
//! few page services the panels use ([`page`]).

pub mod clock;
pub mod confirm;
pub mod events;
pub mod files;
pub mod http;
pub mod page;
pub mod run;
pub mod store;

use wasm_bindgen::JsValue;

/// A JS error value as one line of text.
pub fn js_error_text(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    if let Ok(m) = js_sys::Reflect::get(e, &JsValue::from_str("message")) {
        if let Some(s) = m.as_string() {
            let name = js_sys::Reflect::get(e, &JsValue::from_str("name"))
                .ok()
                .and_then(|n| n.as_string())
                .unwrap_or_default();
            return if name.is_empty() {
                s
            } else {
                format!("{name}: {s}")
            };
        }
    }
    format!("{e:?}")
}

/// What the browser threw, as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsError(pub String);

impl From<JsValue> for JsError {
    fn from(e: JsValue) -> Self {
        JsError(js_error_text(&e))
    }
}

/// Lets the browser run other tasks (render, input) before going on.
pub async fn yield_now() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}
