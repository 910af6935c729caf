//! What the panels need of the page itself: local storage, query parameters, downloads, reading
//! a picked file or a file of the site, the year and the page's address, focus.

use super::files::{self, PickedFile};
use super::JsError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// A query parameter of the page's address, when given and not blank.
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|v| !v.is_empty())
}

/// The page's address (the results' `working_dir`).
pub fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

pub fn current_year() -> i32 {
    js_sys::Date::new_0().get_full_year() as i32
}

/// Moves the focus to the element with `id`, if it is there.
pub fn focus(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}

/// Offers bytes as a download named `name`.
pub fn download(name: &str, bytes: &[u8], mime: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::new();
    parts.push(&js_sys::Uint8Array::from(bytes));
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &props) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = doc.create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The text of a picked file.
pub async fn file_text(file: &web_sys::File) -> Result<String, JsError> {
    let v = JsFuture::from(file.text()).await?;
    Ok(v.as_string().unwrap_or_default())
}

/// The text at `url` (a file of the same site).
pub async fn fetch_text(url: &str) -> Result<String, JsError> {
    let window = web_sys::window().ok_or_else(|| JsError("no window".into()))?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await?
        .unchecked_into();
    if !resp.ok() {
        return Err(JsError(format!("{url}: status {}", resp.status())));
    }
    let text = JsFuture::from(resp.text()?).await?;
    Ok(text.as_string().unwrap_or_default())
}

/// The files picked in the file input an event comes from.
pub fn input_files(ev: &web_sys::Event) -> Vec<PickedFile> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|i| i.files())
        .map(|l| files::from_file_list(&l))
        .unwrap_or_default()
}
