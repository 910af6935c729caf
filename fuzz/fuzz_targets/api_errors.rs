//! The API error-body parser: any status and body give at least one message; never a panic.
//! Messages we compose (`"{status}: ..."` from `message`, `detail`, `title`, HTML or other
//! bodies) are one line; `validationErrors` and `errors` entries are kept verbatim, as the Python
//! tool records them (results-file parity), so they may hold line breaks.
//!
//! Input: two bytes of status, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lightbeam_core::api::errors::error_messages;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + u16::from_be_bytes([data[0], data[1]]) % 500;
    let messages = error_messages(status, &data[2..]);
    assert!(!messages.is_empty(), "no message");
    let body = String::from_utf8_lossy(&data[2..]);
    let verbatim =
        serde_json::from_str::<serde_json::Value>(body.trim_start_matches('\u{feff}').trim())
            .ok()
            .and_then(|v| {
                v.as_object()
                    .map(|o| o.contains_key("validationErrors") || o.contains_key("errors"))
            })
            .unwrap_or(false);
    for m in &messages {
        if !verbatim {
            assert!(m.starts_with(&format!("{status}: ")), "{m:?}");
            assert!(
                !m.contains(['\n', '\r']),
                "a message of several lines: {m:?}"
            );
        }
    }
});
