//! URL-encoded text: the query string of a data request, the form body of a token request,
//! and the percent-decoding of a path segment.

use axum::http::Uri;
use std::collections::HashMap;

/// The fields of an `application/x-www-form-urlencoded` text (the last of a repeated name wins).
pub(super) fn url_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// One percent-encoded component, `+` read as a space.
pub(super) fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The parameters of a URL's query string.
pub(super) fn parse_query(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| url_form(q.as_bytes()).into_iter().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let f = url_form(b"grant_type=client_credentials&client_id=a%3Ab&x=1+2");
        assert_eq!(f["grant_type"], "client_credentials");
        assert_eq!(f["client_id"], "a:b");
        assert_eq!(f["x"], "1 2");
    }
}
