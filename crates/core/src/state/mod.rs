//! Payload hashes and the state rules that decide whether a payload is (re)sent.
//!
//! The hash is the Python tool's (`hashlog.py`): MD5 of the line stripped of surrounding
//! whitespace (Python `str.strip()`), as 16 bytes (`get_hash`, the hashlog key) or hex
//! (`get_hash_string`).
//!
//! State rules (SPEC 5.1 differs from Python on purpose): a payload never sent, or whose last
//! outcome was not a success (2xx), is sent. A payload whose last outcome was a success is
//! skipped unless a resend flag selects it; the flags are ORed as in Python `send.py`:
//! `-f/--force`, `-o/--older-than` (last sent before), `-n/--newer-than` (last sent after),
//! `-r/--resend-status-codes` (last status in the list).

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::pycompat::strip as python_strip;

mod civil;

/// MD5 of the stripped line, as the Python tool keys its hashlog.
pub fn payload_hash(line: &str) -> [u8; 16] {
    Md5::digest(python_strip(line).as_bytes()).into()
}

/// [`payload_hash`] as 32 lowercase hex digits.
pub fn payload_hash_hex(line: &str) -> String {
    hex::encode(payload_hash(line))
}

/// MD5 hex of any text, unstripped (Python `hashlog.get_hash_string`, used for cache file names).
pub fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// Whether an HTTP status is a success (2xx).
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What the state remembers of a payload's last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastOutcome {
    /// Unix seconds of the attempt.
    pub timestamp: i64,
    /// HTTP status of the attempt.
    pub status: u16,
}

/// The resend flags (`-f`, `-o`, `-n`, `-r`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResendCriteria {
    pub force: bool,
    /// Unix seconds: select payloads last sent before this.
    pub older_than: Option<f64>,
    /// Unix seconds: select payloads last sent after this.
    pub newer_than: Option<f64>,
    pub resend_status_codes: Vec<u16>,
}

impl ResendCriteria {
    /// No flag given.
    pub fn is_plain(&self) -> bool {
        !self.force
            && self.older_than.is_none()
            && self.newer_than.is_none()
            && self.resend_status_codes.is_empty()
    }

    /// Which flag selects this payload, if any (Python `meets_process_criteria`).
    pub fn selects(&self, last: &LastOutcome) -> Option<SendReason> {
        let t = last.timestamp as f64;
        if self.force {
            Some(SendReason::Forced)
        } else if self.older_than.is_some_and(|o| t < o) {
            Some(SendReason::OlderThan)
        } else if self.newer_than.is_some_and(|n| t > n) {
            Some(SendReason::NewerThan)
        } else if self.resend_status_codes.contains(&last.status) {
            Some(SendReason::StatusCode)
        } else {
            None
        }
    }
}

/// Why a payload is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendReason {
    /// Not in the state.
    New,
    /// Its last outcome was not a 2xx.
    LastFailed,
    Forced,
    OlderThan,
    NewerThan,
    StatusCode,
}

/// Send or skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send(SendReason),
    /// Its last outcome was a success and no flag selects it.
    Skip,
}

impl Decision {
    pub fn is_send(self) -> bool {
        matches!(self, Decision::Send(_))
    }
}

/// The `send` rule for one payload given its last outcome (`None`: never sent, or no state).
pub fn decide(last: Option<&LastOutcome>, criteria: &ResendCriteria) -> Decision {
    let Some(last) = last else {
        return Decision::Send(SendReason::New);
    };
    if let Some(reason) = criteria.selects(last) {
        return Decision::Send(reason);
    }
    if !is_success(last.status) {
        return Decision::Send(SendReason::LastFailed);
    }
    Decision::Skip
}

/// The `delete` rule: without flags every payload is deleted (the Python tool skipped every
/// previously sent payload unless a flag selected it, so a plain `delete` after `send` did
/// nothing); with flags, a payload in the state is deleted only when a flag selects it.
pub fn decide_delete(last: Option<&LastOutcome>, criteria: &ResendCriteria) -> Decision {
    match last {
        None => Decision::Send(SendReason::New),
        Some(_) if criteria.is_plain() => Decision::Send(SendReason::Forced),
        Some(last) => match criteria.selects(last) {
            Some(reason) => Decision::Send(reason),
            None => Decision::Skip,
        },
    }
}

/// Errors in the resend flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error("-r/--resend-status-codes: {0:?} is not an HTTP status code (expected a comma list like 409,500)")]
    StatusCode(String),
    #[error("{0:?} is not a date or timestamp (expected e.g. 2024-08-01, 2024-08-01T13:00:00 or 2024-08-01 13:00:00+02:00)")]
    Timestamp(String),
}

/// `-r/--resend-status-codes` (`"409,500"`).
pub fn parse_status_codes(list: &str) -> Result<Vec<u16>, CriteriaError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| CriteriaError::StatusCode(s.to_string()))
        })
        .collect()
}

/// `-o/--older-than` and `-n/--newer-than`: a date or date-time (ISO 8601 forms, `T` or space,
/// optional fraction, optional `Z`/`±HH:MM`/`±HHMM`) to Unix seconds. A time without an offset
/// is local: `local_offset_seconds` is the caller's UTC offset (east positive).
pub fn parse_timestamp(text: &str, local_offset_seconds: i32) -> Result<f64, CriteriaError> {
    parse_iso(text.trim(), local_offset_seconds)
        .ok_or_else(|| CriteriaError::Timestamp(text.to_string()))
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_iso(s: &str, local_offset: i32) -> Option<f64> {
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = digits(parts.next()?, 2)?;
    let day = digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    let (mut h, mut m, mut sec, mut frac) = (0, 0, 0, 0.0);
    let mut offset = local_offset;
    if let Some(time) = time {
        let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
            Some(i) => (&time[..i], Some(&time[i..])),
            None => (time, None),
        };
        let mut f = clock.split(':');
        h = digits(f.next()?, 2)?;
        m = digits(f.next()?, 2)?;
        if let Some(s_part) = f.next() {
            let (whole, fraction) = match s_part.split_once('.') {
                Some((w, fr)) => (w, Some(fr)),
                None => (s_part, None),
            };
            sec = digits(whole, 2)?;
            if let Some(fr) = fraction {
                if fr.is_empty() || !fr.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                frac = format!("0.{fr}").parse().ok()?;
            }
        }
        if f.next().is_some() {
            return None;
        }
        if let Some(zone) = zone {
            offset = match zone {
                "Z" | "z" => 0,
                _ => {
                    let sign = if zone.starts_with('-') { -1 } else { 1 };
                    let z = zone[1..].replace(':', "");
                    let zh = digits(z.get(..2)?, 2)?;
                    let zm = if z.len() == 4 {
                        digits(&z[2..], 2)?
                    } else if z.len() == 2 {
                        0
                    } else {
                        return None;
                    };
                    sign * i32::try_from(zh * 3600 + zm * 60).ok()?
                }
            };
        }
    }
    let secs = civil::unix_seconds(i64::from(year), month, day, h, m, sec)?;
    Some((secs - i64::from(offset)) as f64 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn hash_matches_python() {
        // python: hashlib.md5('{"a": 1}'.encode()).hexdigest()
        assert_eq!(
            payload_hash_hex("{\"a\": 1}"),
            "42b7b4f2921788ea14dac5566e6f06d0"
        );
        assert_eq!(
            payload_hash_hex(" \u{1c}{\"a\": 1}\u{a0}\u{2028}\r\n"),
            "42b7b4f2921788ea14dac5566e6f06d0"
        );
        assert_eq!(payload_hash("x").len(), 16);
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            python_strip("\u{feff}x "),
            "\u{feff}x",
            "a BOM is not whitespace"
        );
    }

    fn last(status: u16, timestamp: i64) -> LastOutcome {
        LastOutcome { timestamp, status }
    }

    #[test]
    fn plain_run() {
        let plain = ResendCriteria::default();
        assert!(plain.is_plain());
        assert_eq!(decide(None, &plain), Decision::Send(SendReason::New));
        assert_eq!(decide(Some(&last(201, 100)), &plain), Decision::Skip);
        assert_eq!(decide(Some(&last(200, 100)), &plain), Decision::Skip);
        assert_eq!(decide(Some(&last(204, 100)), &plain), Decision::Skip);
        for failed in [400, 409, 429, 500, 503] {
            assert_eq!(
                decide(Some(&last(failed, 100)), &plain),
                Decision::Send(SendReason::LastFailed),
                "{failed}"
            );
        }
    }

    #[test]
    fn flags_are_ored() {
        let c = ResendCriteria {
            force: true,
            ..Default::default()
        };
        assert_eq!(
            decide(Some(&last(201, 1)), &c),
            Decision::Send(SendReason::Forced)
        );

        let c = ResendCriteria {
            older_than: Some(1000.0),
            newer_than: Some(5000.0),
            resend_status_codes: vec![200],
            ..Default::default()
        };
        assert_eq!(
            decide(Some(&last(201, 999)), &c),
            Decision::Send(SendReason::OlderThan)
        );
        assert_eq!(decide(Some(&last(201, 1000)), &c), Decision::Skip);
        assert_eq!(
            decide(Some(&last(201, 5001)), &c),
            Decision::Send(SendReason::NewerThan)
        );
        assert_eq!(decide(Some(&last(201, 5000)), &c), Decision::Skip);
        assert_eq!(
            decide(Some(&last(200, 3000)), &c),
            Decision::Send(SendReason::StatusCode)
        );
        assert_eq!(
            decide(Some(&last(409, 3000)), &c),
            Decision::Send(SendReason::LastFailed)
        );
        assert!(decide(None, &c).is_send());
    }

    #[test]
    fn delete_rule() {
        let plain = ResendCriteria::default();
        assert!(decide_delete(Some(&last(201, 1)), &plain).is_send());
        assert!(decide_delete(None, &plain).is_send());
        let c = ResendCriteria {
            resend_status_codes: vec![201],
            ..Default::default()
        };
        assert!(decide_delete(Some(&last(201, 1)), &c).is_send());
        assert_eq!(decide_delete(Some(&last(200, 1)), &c), Decision::Skip);
        assert!(decide_delete(None, &c).is_send());
    }

    #[test]
    fn status_codes() {
        assert_eq!(parse_status_codes("409, 500,").unwrap(), vec![409, 500]);
        assert_eq!(parse_status_codes("").unwrap(), Vec::<u16>::new());
        assert!(parse_status_codes("409,abc").is_err());
        assert!(parse_status_codes("42").is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("2024-02-29", 0).unwrap(), 1_709_164_800.0);
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00Z", 3600).unwrap(),
            1_709_208_000.0
        );
        assert_eq!(
            parse_timestamp("2024-02-29 12:00", 3600).unwrap(),
            1_709_204_400.0
        );
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00+02:00", 0).unwrap(),
            1_709_200_800.0
        );
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00-0500", 0).unwrap(),
            1_709_226_000.0
        );
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00.5Z", 0).unwrap(),
            1_709_208_000.5
        );
        for bad in [
            "",
            "yesterday",
            "2024-2-29",
            "2023-02-29",
            "2024-02-29T25:00",
            "2024-02-29T12:00:00+2",
        ] {
            assert!(parse_timestamp(bad, 0).is_err(), "{bad}");
        }
    }
}
