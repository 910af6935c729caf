//! Retry policy (SPEC 5.2: the Python tool effectively retried nothing but connects).
//!
//! Retried: the configured `connection.retry_statuses`, connection errors and timeouts, up to
//! `connection.num_retries` retries after the first attempt. The wait before retry `n`
//! (1-based) is `BASE_DELAY × backoff_factor^(n-1)`, capped at [`MAX_BACKOFF`], with "equal
//! jitter" (between half and all of it, from a jitter value in 0..1 that the caller draws). A
//! `Retry-After` header (seconds or an HTTP date) is honoured: the wait is at least that long
//! (capped at [`MAX_RETRY_AFTER`]). `401` is not a retry: the caller refreshes the token.

use std::time::Duration;

use crate::config::Connection;

/// Wait before the first retry (before jitter).
pub const BASE_DELAY: Duration = Duration::from_millis(500);
/// Longest computed backoff (before jitter).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest wait a `Retry-After` header can impose.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A response with this status.
    Status(u16),
    /// The connection could not be made or broke (DNS, refused, reset, TLS handshake...).
    ConnectError,
    /// The request did not complete within `connection.timeout`.
    Timeout,
    /// Anything else (a bad URL, a body that cannot be sent): not retried.
    OtherError,
}

/// Retry or give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    GiveUp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub backoff_factor: f64,
    pub retry_statuses: Vec<u16>,
    pub base_delay: Duration,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::from_connection(&Connection::default())
    }
}

impl RetryPolicy {
    /// The policy of a `connection` config section.
    pub fn from_connection(c: &Connection) -> Self {
        RetryPolicy {
            max_retries: c.num_retries,
            backoff_factor: c.backoff_factor,
            retry_statuses: c.retry_statuses.clone(),
            base_delay: BASE_DELAY,
            max_backoff: MAX_BACKOFF,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }

    /// Whether this outcome is worth another attempt.
    pub fn is_retryable(&self, outcome: AttemptOutcome) -> bool {
        match outcome {
            AttemptOutcome::Status(s) => self.retry_statuses.contains(&s),
            AttemptOutcome::ConnectError | AttemptOutcome::Timeout => true,
            AttemptOutcome::OtherError => false,
        }
    }

    /// The wait before retry number `retry` (1-based), given a jitter value in 0..1.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exponent = retry.saturating_sub(1).min(1000) as i32;
        let factor = if self.backoff_factor.is_finite() && self.backoff_factor > 0.0 {
            self.backoff_factor
        } else {
            1.0
        };
        let max = self.max_backoff.as_secs_f64();
        let raw = self.base_delay.as_secs_f64() * factor.powi(exponent);
        let capped = if raw.is_finite() { raw.min(max) } else { max };
        let jitter = if jitter.is_nan() {
            0.5
        } else {
            jitter.clamp(0.0, 1.0)
        };
        Duration::from_secs_f64((capped * (0.5 + 0.5 * jitter)).max(0.0))
    }

    /// What to do after an attempt ended with `outcome`, when `retries_done` retries have
    /// already been made; `retry_after` is the response's parsed `Retry-After` header.
    pub fn next(
        &self,
        retries_done: u32,
        outcome: AttemptOutcome,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> RetryDecision {
        if !self.is_retryable(outcome) || retries_done >= self.max_retries {
            return RetryDecision::GiveUp;
        }
        let mut wait = self.backoff(retries_done + 1, jitter);
        if let Some(ra) = retry_after {
            wait = wait.max(ra.min(self.max_retry_after));
        }
        RetryDecision::RetryAfter(wait)
    }
}

/// Parses a `Retry-After` value: delay-seconds (`120`) or an HTTP date (IMF-fixdate
/// `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime
/// `Sun Nov  6 08:49:37 1994`), the latter relative to `now_unix_secs`. A date in the past
/// is zero. Unparseable values are `None`.
pub fn parse_retry_after(value: &str, now_unix_secs: i64) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = v.parse().ok()?;
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs(
        u64::try_from(at - now_unix_secs).unwrap_or(0),
    ))
}

/// Unix seconds of an HTTP date (all three RFC 9110 forms), by the `httpdate` crate.
pub fn parse_http_date(value: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(value).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn defaults_from_config() {
        let p = policy();
        assert_eq!(p.max_retries, 10);
        assert_eq!(p.backoff_factor, 1.5);
        assert_eq!(p.retry_statuses, vec![429, 500, 501, 503, 504]);
    }

    #[test]
    fn what_is_retried() {
        let p = policy();
        for s in [429, 500, 501, 503, 504] {
            assert!(p.is_retryable(AttemptOutcome::Status(s)), "{s}");
        }
        for s in [200, 201, 400, 401, 404, 409, 502] {
            assert!(!p.is_retryable(AttemptOutcome::Status(s)), "{s}");
        }
        assert!(p.is_retryable(AttemptOutcome::ConnectError));
        assert!(p.is_retryable(AttemptOutcome::Timeout));
        assert!(!p.is_retryable(AttemptOutcome::OtherError));
    }

    #[test]
    fn exponential_backoff_with_jitter_and_cap() {
        let p = policy();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(750));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs_f64(1.125));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(250));
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(375));
        assert_eq!(p.backoff(50, 1.0), MAX_BACKOFF);
        assert_eq!(p.backoff(u32::MAX, 0.0), MAX_BACKOFF / 2);
        assert_eq!(
            p.backoff(1, 7.0),
            Duration::from_millis(500),
            "jitter clamped"
        );
        assert_eq!(p.backoff(1, f64::NAN), Duration::from_millis(375));
        let mut odd = policy();
        odd.backoff_factor = f64::INFINITY;
        assert_eq!(odd.backoff(3, 1.0), Duration::from_millis(500));
        let mut big = policy();
        big.backoff_factor = 1e300;
        assert_eq!(big.backoff(40, 1.0), MAX_BACKOFF);
    }

    #[test]
    fn gives_up_after_num_retries() {
        let mut p = policy();
        p.max_retries = 2;
        let o = AttemptOutcome::Status(503);
        assert!(matches!(
            p.next(0, o, None, 1.0),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            p.next(1, o, None, 1.0),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(p.next(2, o, None, 1.0), RetryDecision::GiveUp);
        assert_eq!(
            p.next(0, AttemptOutcome::Status(409), None, 1.0),
            RetryDecision::GiveUp
        );
        p.max_retries = 0;
        assert_eq!(
            p.next(0, AttemptOutcome::Timeout, None, 1.0),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = policy();
        let o = AttemptOutcome::Status(429);
        assert_eq!(
            p.next(0, o, Some(Duration::from_secs(7)), 1.0),
            RetryDecision::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            p.next(0, o, Some(Duration::ZERO), 1.0),
            RetryDecision::RetryAfter(Duration::from_millis(500)),
            "never sooner than the backoff"
        );
        assert_eq!(
            p.next(0, o, Some(Duration::from_secs(86_400)), 1.0),
            RetryDecision::RetryAfter(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_parsing() {
        let now = 784_111_777 - 60; // one minute before Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(date, now),
                Some(Duration::from_secs(60)),
                "{date}"
            );
        }
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 3600),
            Some(Duration::ZERO),
            "a past date means now"
        );
        for bad in [
            "",
            "-5",
            "soon",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "1e3",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
    }
}
