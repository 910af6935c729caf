//! The clock port over the system clock and tokio timers.

use lightbeam_core::ports::{Clock, LocalFuture};
use std::cell::Cell;
use std::time::Duration;

/// Wall-clock time, the local time zone, tokio's sleep, and a small generator for jitter.
pub struct TokioClock {
    seed: Cell<u64>,
}

impl TokioClock {
    pub fn new() -> TokioClock {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 | 1)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        TokioClock {
            seed: Cell::new(seed),
        }
    }
}

impl Clock for TokioClock {
    fn now_unix_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    fn utc_offset_seconds(&self) -> i32 {
        chrono::Local::now().offset().local_minus_utc()
    }
    fn sleep(&self, d: Duration) -> LocalFuture<'_, ()> {
        Box::pin(tokio::time::sleep(d))
    }
    fn random(&self) -> f64 {
        // xorshift64*: jitter only, no need for a crypto generator
        let mut x = self.seed.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}
