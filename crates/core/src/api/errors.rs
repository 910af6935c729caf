//! Ed-Fi error response bodies → the failure messages recorded in the results file.
//!
//! The same messages as the Python tool (`send.py`) where it records one:
//! - ODS/API ≥ 7.2 problem details: one message per `validationErrors` entry,
//!   `"{error} (at {path})"`, else one per `errors` entry (as is), else `"{status}: {detail}"`;
//! - ODS/API ≤ 7.1: `"{status}: {message}"` — plus, where the Python tool dropped them, one
//!   message per `modelState` entry: `"{status}: {message} {error} (at {key})"`;
//! - `message` and `detail` are "linearized" as Python does (whitespace runs → one space,
//!   `'` → `` ` ``).
//!
//! Where the Python tool recorded nothing or crashed, we still give a message: an empty
//! `validationErrors` object (DMS) falls through to `errors`; OAuth `{"error": ...}` bodies,
//! bodies with only a `title`, non-JSON bodies (an HTML 502 page) and empty bodies become
//! `"{status}: ..."` with the (truncated) body or the status' reason phrase.

use serde_json::{Map, Value};

/// Longest excerpt of an unparseable body kept in a message, in characters.
pub const MAX_BODY_EXCERPT: usize = 200;

/// Longest message kept from a `validationErrors` or `errors` entry, in characters: some APIs
/// quote the offending value, which may be megabytes long (one huge line), and the message goes
/// into the results file and onto the console.
pub const MAX_MESSAGE: usize = 2000;

/// Python `util.linearize`: runs of whitespace → one space, `'` → `` ` ``, trimmed.
pub fn linearize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if crate::pycompat::is_whitespace(c) {
            in_space = true;
            continue;
        }
        if in_space && !out.is_empty() {
            out.push(' ');
        }
        in_space = false;
        out.push(if c == '\'' { '`' } else { c });
    }
    out
}

/// The standard reason phrase of an HTTP status.
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// A JSON value as message text: strings as they are, anything else as compact JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The entries of a `{key: [messages]}` object (`validationErrors`, `modelState`).
fn keyed_errors(obj: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, errors) in obj {
        match errors {
            Value::Array(items) => {
                out.extend(items.iter().map(|e| (key.clone(), text_of(e))));
            }
            Value::Null => {}
            other => out.push((key.clone(), text_of(other))),
        }
    }
    out
}

fn non_empty_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn from_object(status: u16, obj: &Map<String, Value>) -> Vec<String> {
    if let Some(Value::Object(v)) = obj.get("validationErrors") {
        let messages: Vec<String> = keyed_errors(v)
            .into_iter()
            .map(|(path, error)| format!("{} (at {path})", truncate(&error, MAX_MESSAGE)))
            .collect();
        if !messages.is_empty() {
            return messages;
        }
    }
    match obj.get("errors") {
        Some(Value::Array(items)) if !items.is_empty() => {
            return items
                .iter()
                .map(|e| truncate(&text_of(e), MAX_MESSAGE))
                .collect();
        }
        Some(Value::String(s)) if !s.trim().is_empty() => return vec![truncate(s, MAX_MESSAGE)],
        _ => {}
    }
    if let Some(message) = obj.get("message").filter(|m| !m.is_null()) {
        let message = linearize(&text_of(message));
        if let Some(Value::Object(model_state)) = obj.get("modelState") {
            let entries = keyed_errors(model_state);
            if !entries.is_empty() {
                return entries
                    .into_iter()
                    .map(|(key, error)| {
                        let error = linearize(&error);
                        if message.is_empty() {
                            format!("{status}: {error} (at {key})")
                        } else {
                            format!("{status}: {message} {error} (at {key})")
                        }
                    })
                    .collect();
            }
        }
        return vec![format!("{status}: {message}")];
    }
    if let Some(detail) = non_empty_str(obj, "detail") {
        return vec![format!("{status}: {}", linearize(detail))];
    }
    if let Some(error) = non_empty_str(obj, "error") {
        return vec![match non_empty_str(obj, "error_description") {
            Some(d) => format!("{status}: {error}: {}", linearize(d)),
            None => format!("{status}: {error}"),
        }];
    }
    if let Some(title) = non_empty_str(obj, "title") {
        return vec![format!("{status}: {}", linearize(title))];
    }
    vec![format!(
        "{status}: {}",
        truncate(
            &linearize(&Value::Object(obj.clone()).to_string()),
            MAX_BODY_EXCERPT
        )
    )]
}

/// The `<title>` of an HTML page, if any.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = linearize(text.get(start..end)?);
    (!title.is_empty()).then_some(title)
}

/// A one-line excerpt of a response body for a message: an HTML page's `<title>` (or "an HTML
/// page"), else the linearized text, at most `max` characters.
pub fn body_excerpt(body: &[u8], max: usize) -> String {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "an empty body".to_string();
    }
    if trimmed.starts_with('<') {
        return match html_title(trimmed) {
            Some(title) => format!("an HTML page titled \"{}\"", truncate(&title, max)),
            None => "an HTML page".to_string(),
        };
    }
    truncate(&linearize(trimmed), max)
}

/// Why a body that should be JSON is not, in one line (for discovery, token and metadata
/// responses): `an HTML page titled "Sign in", not JSON`.
pub fn not_json_reason(body: &[u8], error: &serde_json::Error) -> String {
    let excerpt = body_excerpt(body, 80);
    if excerpt.starts_with("an HTML page") || excerpt == "an empty body" {
        format!("{excerpt}, not JSON")
    } else {
        format!("not JSON ({error}): {excerpt}")
    }
}

/// What a profile error adds to its messages.
pub const PROFILE_HINT: &str =
    " [an Ed-Fi profile problem: check edfi_api.profile and edfi_api.profiles]";

/// An error about profiles (`urn:ed-fi:api:profile:...`) or data policies (the 403
/// `urn:ed-fi:api:security:data-policy:...` of a client that must use its assigned profile).
fn is_profile_error(obj: &Map<String, Value>) -> bool {
    obj.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.contains(":profile") || t.contains(":data-policy"))
}

/// The failure messages for an error response (`status` not 2xx). Never empty, never panics.
/// A profile error says so ([`PROFILE_HINT`]).
pub fn error_messages(status: u16, body: &[u8]) -> Vec<String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return vec![match reason_phrase(status) {
            Some(r) => format!("{status}: {r} (empty response body)"),
            None => format!("{status}: (empty response body)"),
        }];
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(obj)) => {
            let mut messages = from_object(status, &obj);
            if is_profile_error(&obj) {
                for m in &mut messages {
                    m.push_str(PROFILE_HINT);
                }
            }
            messages
        }
        Ok(Value::String(s)) if !s.trim().is_empty() => {
            vec![format!("{status}: {}", linearize(&s))]
        }
        Ok(other) => vec![format!(
            "{status}: {}",
            truncate(&linearize(&other.to_string()), MAX_BODY_EXCERPT)
        )],
        Err(_) => {
            if let Some(title) = html_title(trimmed) {
                return vec![format!("{status}: {}", truncate(&title, MAX_BODY_EXCERPT))];
            }
            vec![format!(
                "{status}: {}",
                truncate(&linearize(trimmed), MAX_BODY_EXCERPT)
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    // Reads the shared Ed-Fi fixtures from disk (../shared): native only, wasm32 in node has no
    // filesystem; every test using it is `cfg(not(target_arch = "wasm32"))`.
    #[cfg(not(target_arch = "wasm32"))]
    fn examples() -> Vec<(String, u16, Value)> {
        let doc: Value = serde_json::from_slice(&crate::testing::shared_file(
            "examples/error-and-auth-responses.json",
        ))
        .unwrap();
        doc["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().unwrap().to_string(),
                    e["status"].as_u64().unwrap() as u16,
                    e["response"].clone(),
                )
            })
            .collect()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn messages_of(id: &str) -> Vec<String> {
        let (_, status, body) = examples().into_iter().find(|(i, _, _)| i == id).unwrap();
        error_messages(status, body.to_string().as_bytes())
    }

    /// What Python's send.py records (computed with its code on the same bodies).
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn same_messages_as_python() {
        let cases: &[(&str, &[&str])] = &[
            (
                "v72_400_missing_required",
                &[
                    "CodeValue is required. (at $.codeValue)",
                    "ShortDescription is required. (at $.shortDescription)",
                ],
            ),
            (
                "v72_400_id_in_post_body",
                &["Resource identifiers cannot be assigned by the client. The 'id' property should not be included in the request body."],
            ),
            (
                "v72_400_descriptor_does_not_exist",
                &[
                    "CountryDescriptor value '00' is not a valid value for use as a descriptor (a '#' is expected to delineate the namespace and code value portions). (at $.birthCountryDescriptor)",
                    "StateAbbreviationDescriptor value 'uri://ed-fi.org/StateAbbreviationDescriptor#XYZ' does not exist. (at $.birthStateAbbreviationDescriptor)",
                ],
            ),
            (
                "v72_400_put_empty_body_bad_id",
                &["A non-empty request body is required. (at $)", "The value 'x' is not valid. (at $.id)"],
            ),
            (
                "v72_400_deletes_limit_offset",
                &["Limit must be omitted or set to a value between 1 and 500.", "Offset must be greater than or equal to 0."],
            ),
            (
                "v72_400_key_change_not_supported",
                &["400: Identifying values for the Program item cannot be changed. Delete and recreate the item instead."],
            ),
            (
                "v72_403_namespace",
                &["403: Access to the requested data could not be authorized. The `Namespace` value of the data does not start with any of the caller`s associated namespace prefixes (`uri://ed-fi.org`, ...)."],
            ),
            ("v72_404_id", &["404: The specified item could not be found."]),
            ("v72_409_unresolved_reference", &["409: The referenced `Student` item does not exist."]),
            (
                "v72_409_dependent_item_exists",
                &["409: The requested action cannot be performed because this item is referenced by an existing `StudentSectionAttendanceEvent` item."],
            ),
            ("v72_412_etag", &["412: The item has been modified by another user."]),
            ("pre72_400_validation_message", &["400: Validation of `Student` failed. LastSurname is required."]),
            ("pre72_400_limit", &["400: Limit must be omitted or set to a value between 0 and 500."]),
            ("pre72_409_fk_sqlserver", &["409: The value supplied for the related `school` resource does not exist."]),
            ("pre72_412", &["412: Resource was modified by another consumer."]),
            (
                "pre72_403",
                &["403: Authorization denied. No relationships have been established between the caller`s education organization id claim (255901001) and the resource item`s `StudentUniqueId` value."],
            ),
        ];
        for (id, expected) in cases {
            assert_eq!(messages_of(id), *expected, "{id}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn model_state_entries_are_kept() {
        assert_eq!(
            messages_of("pre72_400_modelstate"),
            vec!["400: The request is invalid. CalendarReference is missing the following properties: SchoolId (at request.CalendarReference)"]
        );
        assert_eq!(
            messages_of("pre72_400_empty_body"),
            vec![
                "400: The request is invalid. A non-empty request body is required. (at request.)"
            ]
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn every_example_gives_messages() {
        for (id, status, body) in examples() {
            let m = error_messages(status, body.to_string().as_bytes());
            assert!(!m.is_empty() && m.iter().all(|s| !s.is_empty()), "{id}");
        }
        assert_eq!(
            messages_of("oauth_401_invalid_client"),
            vec!["401: invalid_client"]
        );
    }

    #[test]
    fn dms_empty_members_fall_through() {
        let body = br#"{"detail":"The request could not be processed. See 'errors' for details.","type":"urn:ed-fi:api:bad-request","title":"Bad Request","status":400,"correlationId":null,"validationErrors":{},"errors":["A non-empty request body is required."]}"#;
        assert_eq!(
            error_messages(400, body),
            vec!["A non-empty request body is required."]
        );
        let body = br#"{"detail":"The referenced 'School' item does not exist.","validationErrors":{},"errors":[]}"#;
        assert_eq!(
            error_messages(409, body),
            vec!["409: The referenced `School` item does not exist."]
        );
    }

    #[test]
    fn odd_bodies_never_panic() {
        assert_eq!(
            error_messages(502, b""),
            vec!["502: Bad Gateway (empty response body)"]
        );
        assert_eq!(
            error_messages(599, b"  \n"),
            vec!["599: (empty response body)"]
        );
        assert_eq!(
            error_messages(
                502,
                b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            ),
            vec!["502: 502 Bad Gateway"]
        );
        assert_eq!(
            error_messages(500, b"Internal\n  error"),
            vec!["500: Internal error"]
        );
        let long = "x".repeat(1000);
        let m = error_messages(500, long.as_bytes());
        assert_eq!(m[0].len(), "500: ".len() + MAX_BODY_EXCERPT + 3);
        assert_eq!(
            error_messages(500, b"\xff\xfe oops"),
            vec!["500: \u{fffd}\u{fffd} oops"]
        );
        assert_eq!(error_messages(400, b"[1,2]"), vec!["400: [1,2]"]);
        assert_eq!(
            error_messages(400, b"\"just text\""),
            vec!["400: just text"]
        );
        assert_eq!(error_messages(400, b"{}"), vec!["400: {}"]);
        assert_eq!(
            error_messages(400, br#"{"title":"Bad Request"}"#),
            vec!["400: Bad Request"]
        );
        assert_eq!(
            error_messages(400, br#"{"errors":[{"code":1}], "message": "m"}"#),
            vec![r#"{"code":1}"#]
        );
        assert_eq!(
            error_messages(400, br#"{"validationErrors":{"$.a":"bad"}}"#),
            vec!["bad (at $.a)"]
        );
        assert_eq!(error_messages(400, br#"{"message": ""}"#), vec!["400: "]);
        let multibyte = "é".repeat(300);
        let m = error_messages(500, multibyte.as_bytes());
        assert!(m[0].ends_with("..."));
    }

    #[test]
    fn linearize_like_python() {
        assert_eq!(linearize("  a\n\tb  'c' "), "a b `c`");
        assert_eq!(linearize(""), "");
    }

    #[test]
    fn a_body_that_is_not_json_is_described_in_one_line() {
        let e = serde_json::from_slice::<Value>(b"<").unwrap_err();
        let html =
            b"<!DOCTYPE html>\n<html><head>\n<title>Sign in\n - Contoso</title></head></html>";
        assert_eq!(
            not_json_reason(html, &e),
            "an HTML page titled \"Sign in - Contoso\", not JSON"
        );
        assert_eq!(body_excerpt(b"<html>\n<body/>", 80), "an HTML page");
        assert_eq!(not_json_reason(b" \n", &e), "an empty body, not JSON");
        let r = not_json_reason(b"Service\nUnavailable", &e);
        assert!(r.ends_with(": Service Unavailable"), "{r}");
        assert!(!body_excerpt(&[b'x'; 500], 80).contains('\n'));
        assert_eq!(body_excerpt(&[b'x'; 500], 80).chars().count(), 83);
    }

    #[test]
    fn a_huge_validation_message_is_cut() {
        let huge = "x".repeat(3 * MAX_MESSAGE);
        let body = serde_json::json!({"validationErrors": {"$.firstName": [huge.clone()]}, "errors": [huge]});
        let m = error_messages(400, body.to_string().as_bytes());
        assert_eq!(m.len(), 1);
        assert!(
            m[0].len() < MAX_MESSAGE + 30 && m[0].ends_with("... (at $.firstName)"),
            "{}",
            m[0].len()
        );
        let body = serde_json::json!({"errors": ["y".repeat(3 * MAX_MESSAGE)]});
        assert_eq!(
            error_messages(400, body.to_string().as_bytes())[0].len(),
            MAX_MESSAGE + 3
        );
    }
}
