//! URLs and form bodies: percent-encoding (the `percent-encoding` crate, RFC 3986 unreserved
//! characters kept), query strings, and joining URL parts.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the unreserved characters `A-Z a-z 0-9 - _ . ~`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encode a query component (`uri://ed-fi.org/X#a b` → `uri%3A%2F%2Fed-fi.org%2FX%23a%20b`).
pub fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// `k=v&...` with keys and values percent-encoded.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k.as_ref()), url_encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// `{url}?k=v&...` (no `?` without parameters).
pub fn query_url<K: AsRef<str>, V: AsRef<str>>(url: &str, params: &[(K, V)]) -> String {
    if params.is_empty() {
        return url.to_string();
    }
    format!("{url}?{}", query_string(params))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn encodings() {
        assert_eq!(
            url_encode("uri://ed-fi.org/X#a b~é"),
            "uri%3A%2F%2Fed-fi.org%2FX%23a%20b~%C3%A9"
        );
        assert_eq!(
            query_string(&[("grant_type", "client_credentials")]),
            "grant_type=client_credentials"
        );
        assert_eq!(
            query_url(
                "http://x/data/v3/ed-fi/students",
                &[("studentUniqueId", "60 1"), ("limit", "0")]
            ),
            "http://x/data/v3/ed-fi/students?studentUniqueId=60%201&limit=0"
        );
        let none: [(&str, &str); 0] = [];
        assert_eq!(query_url("http://x/a", &none), "http://x/a");
    }
}
