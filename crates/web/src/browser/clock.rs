//! The `Clock` port: `Date.now`, the browser's time zone, `setTimeout`, `Math.random`.

use lightbeam_core::ports::{Clock, LocalFuture};
use std::time::Duration;

pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_unix_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    /// `Date.getTimezoneOffset` is in minutes, west positive.
    fn utc_offset_seconds(&self) -> i32 {
        -(js_sys::Date::new_0().get_timezone_offset() as i32) * 60
    }

    fn sleep(&self, d: Duration) -> LocalFuture<'_, ()> {
        let ms = d.as_millis().min(u32::MAX as u128) as u32;
        Box::pin(gloo_timers::future::TimeoutFuture::new(ms))
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
