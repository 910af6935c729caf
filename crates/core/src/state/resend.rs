//! The rules that decide whether a payload is (re)sent or deleted, and the resend flags.
//!
//! State rules (SPEC 5.1 differs from Python on purpose): a payload never sent, or whose last
//! outcome was not a success (2xx), is sent. A payload whose last outcome was a success is
//! skipped unless a resend flag selects it; the flags are ORed as in Python `send.py`:
//! `-f/--force`, `-o/--older-than` (last sent before), `-n/--newer-than` (last sent after),
//! `-r/--resend-status-codes` (last status in the list).

use super::{is_success, PayloadState};
use crate::timestamps::parse_iso;

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
    pub fn selects(&self, last: &PayloadState) -> Option<SendReason> {
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
pub fn decide(last: Option<&PayloadState>, criteria: &ResendCriteria) -> Decision {
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
pub fn decide_delete(last: Option<&PayloadState>, criteria: &ResendCriteria) -> Decision {
    match last {
        None => Decision::Send(SendReason::New),
        Some(_) if criteria.is_plain() => Decision::Send(SendReason::Forced),
        Some(last) => match criteria.selects(last) {
            Some(reason) => Decision::Send(reason),
            None => Decision::Skip,
        },
    }
}

/// The resend flags as a user gives them (`-f`, `-o TIME`, `-n TIME`, `-r 409,500`); blank
/// text is no flag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResendFlags {
    pub force: bool,
    pub older_than: String,
    pub newer_than: String,
    pub status_codes: String,
}

impl ResendFlags {
    /// The criteria the flags select; times without an offset are in the user's local time
    /// (`utc_offset_seconds`, east positive).
    pub fn criteria(&self, utc_offset_seconds: i32) -> Result<ResendCriteria, CriteriaError> {
        let time = |text: &str, flag: &'static str| -> Result<Option<f64>, CriteriaError> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            parse_iso(text, utc_offset_seconds)
                .map(Some)
                .ok_or_else(|| CriteriaError::Timestamp {
                    flag,
                    text: text.to_string(),
                })
        };
        Ok(ResendCriteria {
            force: self.force,
            older_than: time(&self.older_than, "-o/--older-than")?,
            newer_than: time(&self.newer_than, "-n/--newer-than")?,
            resend_status_codes: parse_status_codes(&self.status_codes)?,
        })
    }
}

/// Errors in the resend flags, naming the flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error("-r/--resend-status-codes: {0:?} is not an HTTP status code (expected a comma list like 409,500)")]
    StatusCode(String),
    #[error("{flag}: {text:?} is not a date or timestamp (expected e.g. 2024-08-01, 2024-08-01T13:00:00 or 2024-08-01 13:00:00+02:00)")]
    Timestamp { flag: &'static str, text: String },
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn last(status: u16, timestamp: i64) -> PayloadState {
        PayloadState { timestamp, status }
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
    fn flags_as_given() {
        let plain = ResendFlags::default().criteria(0).unwrap();
        assert!(plain.is_plain());
        let c = ResendFlags {
            force: false,
            older_than: "2024-02-29".into(),
            newer_than: " ".into(),
            status_codes: "409, 500".into(),
        }
        .criteria(3600)
        .unwrap();
        assert_eq!(c.older_than, Some(1_709_161_200.0));
        assert_eq!(c.newer_than, None);
        assert_eq!(c.resend_status_codes, vec![409, 500]);
        let e = ResendFlags {
            newer_than: "yesterday".into(),
            ..Default::default()
        }
        .criteria(0)
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "-n/--newer-than: \"yesterday\" is not a date or timestamp (expected e.g. 2024-08-01, 2024-08-01T13:00:00 or 2024-08-01 13:00:00+02:00)"
        );
        let e = ResendFlags {
            status_codes: "409,abc".into(),
            ..Default::default()
        }
        .criteria(0)
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("-r/--resend-status-codes: \"abc\""));
    }
}
