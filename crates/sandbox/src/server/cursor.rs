//! Cursor paging of ODS/API 7.3 (`--cursor-paging`): `pageToken` and `pageSize` instead of
//! `offset` and `limit`, a `Next-Page-Token` header on every page that has items, and
//! `/{resource}/partitions?number=N` giving the page token of each partition, as Ed-Fi-ODS does:
//! a token is base64url (no padding) of `"{first aggregate id},{last aggregate id}"`, the next
//! page's token starts after the last item of the page, and the parameters are checked with the
//! messages of its `QueryParametersValidator`. Here the aggregate id is a record's position in
//! its collection.

use super::data::{list_query, Collection};
use super::forms::parse_query;
use super::state::Sandbox;
use crate::store::ApiError;
use axum::body::Body;
use axum::http::{HeaderValue, Response, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::json;

/// The largest page (and `limit`).
const MAX_PAGE: i64 = 500;
/// The page size when `pageSize` is not given.
const DEFAULT_PAGE: usize = 25;
/// The end of the last range, as the ODS's `int.MaxValue`.
const LAST: usize = i32::MAX as usize;

/// The token of the positions `first..=last`.
pub(super) fn page_token(first: usize, last: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{first},{last}"))
}

fn invalid_token() -> ApiError {
    ApiError::Parameter("The page token provided was invalid.".into())
}

/// The positions a token stands for.
fn token_range(token: &str) -> Result<(usize, usize), ApiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid_token())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid_token())?;
    let (first, last) = text.split_once(',').ok_or_else(invalid_token)?;
    // the ODS's first partition starts at int.MinValue: nothing is before position 0
    let first = first.parse::<i64>().map_err(|_| invalid_token())?.max(0) as usize;
    let last = if last.is_empty() {
        LAST
    } else {
        last.parse::<i64>().map_err(|_| invalid_token())?.max(0) as usize
    };
    Ok((first, last))
}

/// The paging parameters of a GET, by name (case-insensitive).
#[derive(Default)]
struct Paging {
    offset: bool,
    limit: bool,
    total_count: bool,
    page_token: Option<String>,
    page_size: Option<String>,
}

fn paging(uri: &Uri) -> Paging {
    let mut p = Paging::default();
    for (k, v) in parse_query(uri) {
        match k.to_ascii_lowercase().as_str() {
            "offset" => p.offset = true,
            "limit" => p.limit = true,
            "totalcount" => p.total_count = v.eq_ignore_ascii_case("true"),
            "pagetoken" => p.page_token = Some(v),
            "pagesize" => p.page_size = Some(v),
            _ => {}
        }
    }
    p
}

/// A GET of a collection with cursor paging; None when cursor paging is off or the GET uses
/// `offset`/`limit` paging (checked by [`list_query`]).
pub(super) fn list(
    sb: &Sandbox,
    c: &Collection,
    uri: &Uri,
) -> Option<Result<Response<Body>, ApiError>> {
    if !sb.cfg.cursor_paging {
        return None;
    }
    let p = paging(uri);
    let Some(token) = p.page_token.as_deref() else {
        if p.page_size.is_some() && !p.limit {
            return Some(Err(ApiError::Parameter(if p.offset {
                "Use limit instead of pageSize when using limit/offset paging.".into()
            } else {
                "PageToken is required when pageSize is specified.".into()
            })));
        }
        return None;
    };
    Some(page(sb, c, uri, &p, token))
}

fn page(
    sb: &Sandbox,
    c: &Collection,
    uri: &Uri,
    p: &Paging,
    token: &str,
) -> Result<Response<Body>, ApiError> {
    if p.offset {
        return Err(ApiError::Parameter("Both offset and pageToken parameters were provided, but they support alternative paging approaches and cannot be used together.".into()));
    }
    if p.limit && p.page_size.is_none() {
        return Err(ApiError::Parameter(
            "Use pageSize instead of limit when using cursor paging with pageToken.".into(),
        ));
    }
    let size = match &p.page_size {
        None => DEFAULT_PAGE,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (0..=MAX_PAGE).contains(&n) => n as usize,
            _ => {
                return Err(ApiError::Parameter(format!(
                    "PageSize must be a value between 0 and {MAX_PAGE}."
                )))
            }
        },
    };
    if p.total_count {
        return Err(ApiError::Parameter("Total count cannot be determined while using cursor paging (when pageToken is specified).".into()));
    }
    let range = token_range(token)?;
    let (q, _) = list_query(sb.api.style, uri)?;
    let (items, last) = c.store.read().list_range(&sb.api, c.ep, &q, range, size);
    let mut resp = c.json(serde_json::Value::Array(c.readable(items)));
    if let Some(last) = last {
        if let Ok(v) = HeaderValue::from_str(&page_token(last + 1, range.1)) {
            resp.headers_mut().insert("Next-Page-Token", v);
        }
    }
    Ok(resp)
}

/// `GET /{resource}/partitions?number=N` (1 to 200; default up to 10): the page token of each
/// partition of the matches, each partition at least five pages of the largest size.
pub(super) fn partitions(
    sb: &Sandbox,
    c: &Collection,
    uri: &Uri,
) -> Result<Response<Body>, ApiError> {
    let mut number = None;
    for (k, v) in parse_query(uri) {
        if k.eq_ignore_ascii_case("number") {
            number = Some(v.parse::<i64>().unwrap_or(0));
        }
    }
    if number.is_some_and(|n| !(1..=200).contains(&n)) {
        return Err(ApiError::Parameter(
            "Number of partitions must be between 1 and 200.".into(),
        ));
    }
    let (mut q, _) = list_query(sb.api.style, uri)?;
    q.filters.retain(|(k, _)| !k.eq_ignore_ascii_case("number"));
    let positions = c.store.read().positions(&sb.api, c.ep, &q);
    let wanted = number.unwrap_or(10) as usize;
    let min_size = (MAX_PAGE as usize) * 5;
    let size = positions.len().div_ceil(wanted).max(min_size);
    let starts: Vec<usize> = positions.iter().step_by(size).copied().collect();
    let tokens: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let first = if i == 0 { 0 } else { start };
            let last = starts.get(i + 1).map(|next| next - 1).unwrap_or(LAST);
            page_token(first, last)
        })
        .collect();
    Ok(axum::Json(json!({ "pageTokens": tokens })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_the_ods_base64url_of_the_range() {
        // the first token of the ODS documentation's example
        assert_eq!(
            token_range("LTIxNDc0ODM2NDgsLTIxNDc0NzU1ODU").unwrap(),
            (0, 0),
            "-2147483648,-2147475585: nothing before position 0"
        );
        assert_eq!(page_token(2500, LAST), "MjUwMCwyMTQ3NDgzNjQ3");
        assert_eq!(token_range(&page_token(7, 41)).unwrap(), (7, 41));
        for bad in ["", "%%%", "MTIz", "YSxi"] {
            assert!(token_range(bad).is_err(), "{bad}");
        }
    }
}
