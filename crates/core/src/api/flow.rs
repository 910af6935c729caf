//! The flow of requests to the API: how many are on the wire, and how fast they go out.
//!
//! - At most `pool_size` requests are on the wire. A request takes a [`Slot`] only for the time
//!   it is on the wire: a payload waiting out a backoff or a `Retry-After` holds none, so the
//!   next payload goes out in its place.
//! - Rate limits are honoured by everyone together. Sporadic 429s (a busy moment, a fault) are
//!   retried by their payload alone; but when 429s become frequent (more than [`DENSE`] of the
//!   recent answers), the API is limiting our rate: requests are then paced at 90% of the rate
//!   the API has been accepting, and the pace grows back by 2% a second while the API keeps
//!   accepting (AIMD on the rate, as a client in front of a token bucket needs: the window of
//!   requests on the wire alone cannot hold a rate between two of its steps). A `Retry-After` of
//!   more than a second that comes with frequent 429s pauses everyone until it has passed.
//! - Random 429s (faults, a busy moment) do not depend on our rate; a rate limit's do. So each
//!   cut is a trial: when the next [`TRIAL`] answers at the slower pace still hold a third or
//!   more of the 429s that caused the cut while the API accepts about the pace, slowing down did
//!   not help, and the pace is lifted (the share above which 429s count as frequent becomes twice
//!   that background); when more than a fifth of the trial's answers are still 429s, the cut was
//!   too small, and the pace becomes 90% of what the API accepted during the trial (known within
//!   a second, not after the whole trial: a cut that measured a full bucket's burst costs a 429
//!   for every other request until it is corrected). The pace grows
//!   back 10% a second while it is below 85% of the rate accepted at the last cut, then 2%.
//! - It counts what progress shows: requests on the wire, waiting for a retry, the pace.
//!
//! Single-threaded (the engine's futures are not `Send`): plain cells, and the wakers of the
//! requests waiting for a slot.

use crate::ports::Clock;
pub use crate::ports::Pressure;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The share of recent answers that are 429 above which the API is taken to be limiting our
/// rate (sporadic 429s below it are retried alone).
pub const DENSE: f64 = 0.05;
/// How much each answer weighs in the share of 429s (about the last 100 answers).
const SHARE_WEIGHT: f64 = 0.01;
/// After a cut, the pace is this share of the rate the API was accepting.
const CUT: f64 = 0.9;
/// Each second without frequent 429s, the pace grows by this share (and one request).
const GROWTH: f64 = 0.02;
/// How many answers after a cut tell whether slowing down made the 429s rarer.
pub const TRIAL: u32 = 300;
/// A trial with more 429s than this share still meets the limit: the cut was too small.
const STILL_LIMITED: f64 = 0.2;
/// A trial still meeting the limit ends early, once it has this many answers of which
/// [`EARLY_ACCEPTED`] were accepted (enough to measure a token bucket's steady rate) or a second
/// has passed: a cut that measured a burst (a full bucket) is corrected at once.
const EARLY_ANSWERS: u32 = 20;
const EARLY_ACCEPTED: u32 = 10;
const EARLY_MS: i64 = 1000;
/// A trial after a too-small cut whose 429s are still more than this share of the previous
/// trial's: slowing down did not make them rarer, so they are not about our rate.
const NOT_RARER: f64 = 2.0 / 3.0;
/// Below this share of the rate the API accepted at the last cut, the pace grows faster.
const FAR_BELOW: f64 = 0.85;
/// How fast the pace grows back, a second, when it is far below that rate.
const FAST_GROWTH: f64 = 0.10;

/// The answers after a cut (those of requests sent before it are not counted).
#[derive(Debug, Clone, Copy)]
struct Trial {
    share_at_cut: f64,
    /// The share of 429s in the trial before, when this one follows a too-small cut.
    previous: Option<f64>,
    skip: usize,
    answers: u32,
    limited: u32,
    /// Unix ms of the first answer counted.
    since_ms: Option<i64>,
}

/// A change of pace, for the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PaceChange {
    /// The API limits our rate: requests paced at this many a second.
    Paced(f64),
    /// The 429s were not about our rate: no pace any more.
    Lifted,
}

/// What became of a request on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `429 Too Many Requests`, with the `Retry-After` it gave.
    RateLimited { retry_after: Option<Duration> },
    /// Any other status.
    Other,
    /// No answer (connection error, timeout).
    NoAnswer,
}

/// Accepted answers per second, measured in whole seconds.
#[derive(Debug, Default)]
struct RateMeter {
    second: i64,
    count: u64,
    /// The last full second's count (`None` before one has passed).
    last: Option<u64>,
}

impl RateMeter {
    fn add(&mut self, now_ms: i64) {
        self.roll(now_ms);
        self.count += 1;
    }

    fn roll(&mut self, now_ms: i64) {
        let second = now_ms.div_euclid(1000);
        if second != self.second {
            // a second with no answer at all is not a measure of what the API accepts
            if second == self.second + 1 || self.count > 0 {
                self.last = Some(self.count);
            }
            self.second = second;
            self.count = 0;
        }
    }

    /// Answers a second: the last full second's, or this one's so far.
    fn rate(&mut self, now_ms: i64) -> f64 {
        self.roll(now_ms);
        let elapsed = (now_ms.rem_euclid(1000) as f64 / 1000.0).max(0.1);
        self.last
            .map(|n| n as f64)
            .unwrap_or(self.count as f64 / elapsed)
    }
}

/// Requests on the wire, and their pace.
pub struct Flow {
    max: usize,
    in_flight: Cell<usize>,
    waiting_retries: Cell<usize>,
    rate_limited: Cell<u64>,
    /// Recent answers that were 429 (a moving average).
    limited_share: Cell<f64>,
    /// The share of 429s above which the API is taken to limit our rate.
    dense: Cell<f64>,
    trial: Cell<Option<Trial>>,
    accepted: RefCell<RateMeter>,
    /// Requests a second, when paced.
    pace: Cell<Option<f64>>,
    /// The rate the API accepted when the pace was last cut.
    ceiling: Cell<f64>,
    /// Unix ms at which the next paced request may go.
    next_at_ms: Cell<f64>,
    cut_at_ms: Cell<i64>,
    grown_at_ms: Cell<i64>,
    /// Unix ms before which no new request goes out (a long `Retry-After`).
    paused_until_ms: Cell<i64>,
    waiters: RefCell<VecDeque<Waker>>,
    /// The change of pace the last answer brought, if any.
    change: Cell<Option<PaceChange>>,
}

/// A place on the wire, given back when dropped.
pub struct Slot<'f> {
    flow: &'f Flow,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let f = self.flow;
        f.in_flight.set(f.in_flight.get().saturating_sub(1));
        f.wake_waiter();
    }
}

impl Flow {
    /// A flow of at most `max` requests on the wire (at least 1).
    pub fn new(max: usize) -> Flow {
        Flow {
            max: max.max(1),
            in_flight: Cell::new(0),
            waiting_retries: Cell::new(0),
            rate_limited: Cell::new(0),
            limited_share: Cell::new(0.0),
            dense: Cell::new(DENSE),
            trial: Cell::new(None),
            accepted: RefCell::new(RateMeter::default()),
            pace: Cell::new(None),
            ceiling: Cell::new(0.0),
            next_at_ms: Cell::new(0.0),
            cut_at_ms: Cell::new(i64::MIN),
            grown_at_ms: Cell::new(i64::MIN),
            paused_until_ms: Cell::new(0),
            waiters: RefCell::new(VecDeque::new()),
            change: Cell::new(None),
        }
    }

    pub fn pressure(&self) -> Pressure {
        Pressure {
            in_flight: self.in_flight.get(),
            max: self.max,
            waiting_retries: self.waiting_retries.get(),
            paced: self.pace.get(),
            rate_limited: self.rate_limited.get(),
        }
    }

    /// Waits for a place on the wire, for the pace, and for a pause the API asked for.
    pub async fn acquire<'f>(&'f self, clock: &dyn Clock) -> Slot<'f> {
        loop {
            let now = clock.now_unix_ms();
            let paused = self.paused_until_ms.get();
            if now < paused {
                sleep_ms(clock, (paused - now) as f64).await;
                continue;
            }
            if self.in_flight.get() >= self.max {
                WaitForSlot {
                    flow: self,
                    waker: None,
                }
                .await;
                continue;
            }
            if let Some(pace) = self.pace.get() {
                let at = self.next_at_ms.get().max(now as f64);
                self.next_at_ms.set(at + 1000.0 / pace);
                if at > now as f64 {
                    // the place is kept for this request: it is the next to go
                    self.in_flight.set(self.in_flight.get() + 1);
                    let slot = Slot { flow: self };
                    sleep_ms(clock, at - now as f64).await;
                    return slot;
                }
            }
            self.in_flight.set(self.in_flight.get() + 1);
            return Slot { flow: self };
        }
    }

    /// What became of a request: the share of 429s, the accepted rate, and the pace follow it.
    /// Returns the change of pace it brought (a cut or a lift; growing back is not reported).
    pub fn answered(&self, answer: Answer, now_ms: i64) -> Option<PaceChange> {
        let limited = matches!(answer, Answer::RateLimited { .. });
        if answer != Answer::NoAnswer {
            let share = self.limited_share.get();
            let x = if limited { 1.0 } else { 0.0 };
            self.limited_share.set(share + SHARE_WEIGHT * (x - share));
            self.judge_trial(limited, now_ms);
        }
        match answer {
            Answer::RateLimited { retry_after } => {
                self.rate_limited.set(self.rate_limited.get() + 1);
                if self.limited_share.get() > self.dense.get() {
                    self.cut(now_ms, retry_after);
                }
            }
            Answer::Other => {
                self.accepted.borrow_mut().add(now_ms);
                self.grow(now_ms);
            }
            Answer::NoAnswer => {}
        }
        self.change.take()
    }

    /// The API limits our rate: pace at 90% of what it accepted (at most once a second).
    fn cut(&self, now_ms: i64, retry_after: Option<Duration>) {
        if let Some(d) = retry_after.filter(|d| *d > Duration::from_secs(1)) {
            let until = now_ms.saturating_add(d.as_millis() as i64);
            self.paused_until_ms
                .set(self.paused_until_ms.get().max(until));
        }
        if now_ms.saturating_sub(self.cut_at_ms.get()) < 1000 || self.trial.get().is_some() {
            return;
        }
        let accepted = self.accepted.borrow_mut().rate(now_ms);
        let current = self.pace.get().unwrap_or(f64::INFINITY);
        self.cut_to(now_ms, accepted.min(current), None);
    }

    /// Paces requests at 90% of `accepted` (the rate the API accepts) from now, and starts a
    /// trial of it.
    fn cut_to(&self, now_ms: i64, accepted: f64, previous: Option<f64>) {
        let pace = (accepted * CUT).max(1.0);
        self.ceiling.set(accepted);
        self.pace.set(Some(pace));
        self.change.set(Some(PaceChange::Paced(pace)));
        self.cut_at_ms.set(now_ms);
        self.trial.set(Some(Trial {
            share_at_cut: self.limited_share.get(),
            previous,
            skip: self.in_flight.get(),
            answers: 0,
            limited: 0,
            since_ms: None,
        }));
    }

    /// Counts an answer in the trial after a cut. At its end: 429s much rarer (under a third of
    /// the share at the cut), the pace is kept; over a fifth of the answers still 429s, the cut
    /// was too small (the rate measured before it held a burst) and the pace becomes 90% of what
    /// the API accepted during the trial (such a trial ends early, see [`EARLY_ANSWERS`]);
    /// otherwise, or when the trial after a too-small cut finds the 429s no
    /// rarer, they were not about our rate, and the pace is lifted.
    fn judge_trial(&self, limited: bool, now_ms: i64) {
        let Some(mut t) = self.trial.get() else {
            return;
        };
        if t.skip > 0 {
            t.skip -= 1;
        } else {
            t.since_ms.get_or_insert(now_ms);
            t.answers += 1;
            t.limited += u32::from(limited);
        }
        let share = f64::from(t.limited) / f64::from(t.answers.max(1));
        let elapsed = now_ms - t.since_ms.unwrap_or(now_ms);
        let early = share > STILL_LIMITED
            && t.answers >= EARLY_ANSWERS
            && (t.answers - t.limited >= EARLY_ACCEPTED || elapsed >= EARLY_MS);
        if t.answers < TRIAL && !early {
            self.trial.set(Some(t));
            return;
        }
        self.trial.set(None);
        if share < t.share_at_cut / 3.0 {
            return;
        }
        let secs = elapsed.max(1) as f64 / 1000.0;
        let accepted = f64::from(t.answers - t.limited) / secs;
        let not_rarer = t.previous.is_some_and(|p| share > NOT_RARER * p);
        if share > STILL_LIMITED && !not_rarer {
            self.cut_to(now_ms, accepted, Some(share));
        } else {
            self.pace.set(None);
            self.change.set(Some(PaceChange::Lifted));
            self.limited_share.set(share);
            self.dense.set(DENSE.max(2.0 * share));
        }
    }

    /// Each second the API accepts without frequent 429s, the pace grows back.
    fn grow(&self, now_ms: i64) {
        let Some(pace) = self.pace.get() else {
            return;
        };
        let since = now_ms.saturating_sub(self.cut_at_ms.get().max(self.grown_at_ms.get()));
        if since >= 1000 && self.limited_share.get() <= self.dense.get() {
            let growth = if pace < FAR_BELOW * self.ceiling.get() {
                FAST_GROWTH
            } else {
                GROWTH
            };
            self.pace.set(Some(pace * (1.0 + growth) + 1.0));
            self.grown_at_ms.set(now_ms);
        }
    }

    /// A request starts or ends waiting for its next attempt.
    pub fn waiting_retry(&self, waiting: bool) {
        let n = self.waiting_retries.get();
        self.waiting_retries
            .set(if waiting { n + 1 } else { n.saturating_sub(1) });
    }

    /// Wakes a request waiting for a place, if one is free.
    fn wake_waiter(&self) {
        if self.in_flight.get() < self.max {
            if let Some(w) = self.waiters.borrow_mut().pop_front() {
                w.wake();
            }
        }
    }
}

async fn sleep_ms(clock: &dyn Clock, ms: f64) {
    clock
        .sleep(Duration::from_micros((ms * 1000.0) as u64))
        .await;
}

/// Pending until a place may be free (then the caller tries again). Its waker is queued on
/// every pending poll unless already queued: a wake it got may have been for a place another
/// request took first. Dropped while waiting (a stopped run), it leaves the queue and passes a
/// wake it may have had on.
struct WaitForSlot<'f> {
    flow: &'f Flow,
    waker: Option<Waker>,
}

impl Drop for WaitForSlot<'_> {
    fn drop(&mut self) {
        if let Some(mine) = &self.waker {
            self.flow
                .waiters
                .borrow_mut()
                .retain(|w| !w.will_wake(mine));
            self.flow.wake_waiter();
        }
    }
}

impl Future for WaitForSlot<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let f = self.flow;
        if f.in_flight.get() < f.max {
            self.waker = None;
            return Poll::Ready(());
        }
        {
            let mut waiters = f.waiters.borrow_mut();
            if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                waiters.push_back(cx.waker().clone());
            }
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, FakeClock};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn limited() -> Answer {
        Answer::RateLimited {
            retry_after: Some(Duration::from_secs(1)),
        }
    }

    #[test]
    fn at_most_max_on_the_wire() {
        let flow = Flow::new(2);
        let clock = FakeClock::default();
        let a = block_on(flow.acquire(&clock));
        let _b = block_on(flow.acquire(&clock));
        assert_eq!(flow.pressure().in_flight, 2);
        let mut third = Box::pin(flow.acquire(&clock));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            third.as_mut().poll(&mut cx).is_pending(),
            "the wire is full"
        );
        drop(a);
        let Poll::Ready(c) = third.as_mut().poll(&mut cx) else {
            panic!("a place was given back");
        };
        assert_eq!(flow.pressure().in_flight, 2);
        drop(c);
        assert_eq!(flow.pressure().in_flight, 1);
    }

    #[test]
    fn sporadic_429s_do_not_slow_anyone_down() {
        let flow = Flow::new(8);
        let mut now = 0;
        // one 429 in 100 answers, for 10 s at 200 answers a second
        for i in 0..2000 {
            now += 5;
            let answer = if i % 100 == 50 {
                limited()
            } else {
                Answer::Other
            };
            flow.answered(answer, now);
        }
        let p = flow.pressure();
        assert_eq!(p.rate_limited, 20);
        assert_eq!(p.paced, None, "retried alone; no pace");
    }

    #[test]
    fn random_429s_that_slowing_down_does_not_make_rarer_do_not_slow_anyone_down() {
        let flow = Flow::new(32);
        let mut now = 0;
        let mut seed = 7u64;
        let mut cuts = 0;
        // 4% of the answers are 429s whatever the rate, for a minute at 300 answers a second
        for _ in 0..18_000 {
            now += 3;
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let answer = if (seed >> 33) % 100 < 4 {
                limited()
            } else {
                Answer::Other
            };
            let paced = flow.pressure().paced.is_some();
            flow.answered(answer, now);
            cuts += usize::from(!paced && flow.pressure().paced.is_some());
        }
        assert!(
            cuts <= 6,
            "a few trials, then the background is known: {cuts}"
        );
        assert_eq!(flow.pressure().paced, None, "not paced at the end");
    }

    /// A client that could send 1,000 requests a second, in front of a token bucket of 120 a
    /// second that starts full: the first cut measures the burst of the full bucket, the trial
    /// finds the API accepting much less, and the pace settles at about the bucket's rate.
    #[test]
    fn behind_a_token_bucket_the_pace_settles_at_its_rate() {
        let flow = Flow::new(8);
        let (mut tokens, mut sent_at) = (120.0_f64, 0.0_f64);
        let (mut late_sent, mut late_limited) = (0u32, 0u32);
        for ms in 0..30_000i64 {
            tokens = (tokens + 0.12).min(120.0);
            let rate = flow.pressure().paced.unwrap_or(1000.0).min(1000.0);
            sent_at += rate / 1000.0;
            while sent_at >= 1.0 {
                sent_at -= 1.0;
                let answer = if tokens >= 1.0 {
                    tokens -= 1.0;
                    Answer::Other
                } else {
                    limited()
                };
                if ms >= 20_000 {
                    late_sent += 1;
                    late_limited += u32::from(answer != Answer::Other);
                }
                flow.answered(answer, ms);
            }
        }
        let pace = flow.pressure().paced.expect("paced");
        assert!((95.0..=135.0).contains(&pace), "{pace}");
        assert!(
            f64::from(late_limited) < 0.05 * f64::from(late_sent),
            "{late_limited} of {late_sent} answers were 429s in the last 10 s"
        );
    }

    /// The first 533 requests of that client (the e2e journey's size): the cut that measured the
    /// full bucket's burst is corrected within a second, so only a few of them are 429s.
    #[test]
    fn behind_a_full_token_bucket_a_cut_too_small_is_corrected_within_a_second() {
        let flow = Flow::new(8);
        let (mut tokens, mut sent_at) = (120.0_f64, 0.0_f64);
        let (mut sent, mut refused) = (0u32, 0u32);
        let mut ms = 0i64;
        while sent < 533 {
            ms += 1;
            tokens = (tokens + 0.12).min(120.0);
            let rate = flow.pressure().paced.unwrap_or(1000.0).min(1000.0);
            sent_at += rate / 1000.0;
            while sent_at >= 1.0 && sent < 533 {
                sent_at -= 1.0;
                sent += 1;
                let answer = if tokens >= 1.0 {
                    tokens -= 1.0;
                    Answer::Other
                } else {
                    refused += 1;
                    limited()
                };
                flow.answered(answer, ms);
            }
        }
        assert!(refused < 100, "{refused} of {sent} answers were 429s");
    }

    /// A third of the answers are 429s whatever the rate: a cut, a too-small cut's correction,
    /// and then the 429s, no rarer at the slower pace, lift it; the pace never spirals down.
    #[test]
    fn frequent_random_429s_do_not_spiral_the_pace_down() {
        let flow = Flow::new(32);
        let mut seed = 11u64;
        let mut lowest = f64::INFINITY;
        let (mut sent_at, mut paced_ms) = (0.0_f64, 0i64);
        for ms in 0..60_000i64 {
            let rate = flow.pressure().paced.unwrap_or(300.0).min(300.0);
            lowest = lowest.min(rate);
            paced_ms += i64::from(flow.pressure().paced.is_some());
            sent_at += rate / 1000.0;
            while sent_at >= 1.0 {
                sent_at -= 1.0;
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let answer = if (seed >> 33).is_multiple_of(3) {
                    limited()
                } else {
                    Answer::Other
                };
                flow.answered(answer, ms);
            }
        }
        assert!(lowest > 50.0, "the pace fell to {lowest}/s");
        assert!(paced_ms < 3_000, "paced for {paced_ms} ms");
        assert_eq!(flow.pressure().paced, None, "not paced at the end");
    }

    #[test]
    fn frequent_429s_pace_everyone_at_what_the_api_accepts_then_the_pace_grows_back() {
        let flow = Flow::new(8);
        let mut now = 0;
        // 300 accepted a second, then every other answer refused
        for _ in 0..600 {
            now += 3;
            flow.answered(Answer::Other, now);
        }
        // (until the cut: no request is on the wire here, so the trial counts every next answer)
        for i in 0..40 {
            now += 1;
            let answer = if i % 2 == 0 { limited() } else { Answer::Other };
            flow.answered(answer, now);
            if flow.pressure().paced.is_some() {
                break;
            }
        }
        let pace = flow.pressure().paced.expect("paced");
        assert!((250.0..=300.0).contains(&pace), "{pace}");
        // a second later, and while the API accepts, a little faster each second
        for _ in 0..1000 {
            now += 4;
            flow.answered(Answer::Other, now);
        }
        let grown = flow.pressure().paced.expect("still paced");
        assert!(
            grown > pace * 1.05 && grown < pace * 1.2,
            "{pace} -> {grown}"
        );
    }

    #[test]
    fn a_paced_request_waits_its_turn() {
        let flow = Flow::new(8);
        flow.pace.set(Some(10.0));
        let clock = FakeClock::default();
        let start = clock.now_unix_ms();
        for _ in 0..5 {
            drop(block_on(flow.acquire(&clock)));
        }
        let elapsed = clock.now_unix_ms() - start;
        assert!(
            (390..=480).contains(&elapsed),
            "5 requests at 10/s: {elapsed} ms"
        );
    }

    #[test]
    fn a_long_retry_after_with_frequent_429s_pauses_everyone() {
        let flow = Flow::new(4);
        let clock = FakeClock::default();
        for _ in 0..10 {
            flow.answered(
                Answer::RateLimited {
                    retry_after: Some(Duration::from_secs(3)),
                },
                clock.now_unix_ms(),
            );
        }
        let before = clock.now_unix_ms();
        let _s = block_on(flow.acquire(&clock));
        assert!(clock.now_unix_ms() - before >= 2_990, "paused about 3 s");
        flow.waiting_retry(true);
        flow.waiting_retry(true);
        flow.waiting_retry(false);
        assert_eq!(flow.pressure().waiting_retries, 1);
    }
}
