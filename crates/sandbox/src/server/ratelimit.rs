//! `--rate-limit N`: an API gateway in front of the ODS/API. One token bucket for every data
//! request (any method, client and instance/year prefix), refilled continuously at N tokens a
//! second and holding at most N (at least one); a request that finds it empty is answered 429
//! with `Retry-After`, the whole seconds until a token is free (at least 1), before latency and
//! faults apply (`faults.rs` answers it, with the requests it lets through). OAuth, discovery,
//! metadata and `/_sandbox/stats` pass untouched.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// The token bucket.
pub(super) struct RateLimiter {
    /// Tokens added a second.
    rate: f64,
    /// The most tokens it holds: the rate, at least one.
    capacity: f64,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl RateLimiter {
    /// A full bucket of `rate` (> 0) tokens a second.
    pub(super) fn new(rate: f64) -> RateLimiter {
        let capacity = rate.max(1.0);
        RateLimiter {
            rate,
            capacity,
            bucket: Mutex::new(Bucket {
                tokens: capacity,
                at: Instant::now(),
            }),
        }
    }

    /// Take a token for a request that arrived at `now`: `None` when there was one, else how
    /// long until there is.
    pub(super) fn take(&self, now: Instant) -> Option<Duration> {
        let mut b = self.bucket.lock();
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.capacity);
        b.at = b.at.max(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
        }
    }
}

/// `Retry-After` of a wait: whole seconds, rounded up, at least 1.
pub(super) fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate_and_holds_at_most_the_rate() {
        let l = RateLimiter::new(10.0);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(l.take(t0), None);
        }
        let wait = l.take(t0).expect("empty after 10");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        // 0.25 s later: 2.5 tokens, 2 of them taken
        let t1 = t0 + Duration::from_millis(250);
        assert_eq!(l.take(t1), None);
        assert_eq!(l.take(t1), None);
        assert!(l.take(t1).is_some());
        // a minute idle fills it up to 10 only
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!((0..12).filter(|_| l.take(t2).is_none()).count(), 10);
        // a request stamped before the last one neither refills nor panics
        assert!(l.take(t1).is_some());
    }

    #[test]
    fn retry_after_is_the_whole_seconds_until_a_token() {
        let l = RateLimiter::new(0.5);
        let t0 = Instant::now();
        assert_eq!(l.take(t0), None);
        let wait = l.take(t0).expect("one token only");
        assert_eq!(retry_after_secs(wait), 2);
        let wait = l
            .take(t0 + Duration::from_millis(1500))
            .expect("0.75 token");
        assert_eq!(retry_after_secs(wait), 1);
        assert_eq!(l.take(t0 + Duration::from_secs(2)), None);
        assert_eq!(retry_after_secs(Duration::from_micros(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
