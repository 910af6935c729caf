//! The progress of a run as the page shows it, fed by the engine's events: a bar per endpoint
//! (done, skipped, failed, rate) and the log.

use super::format::thousands;
use lightbeam_core::ports::{Event, LogLevel};

/// Log lines kept (the oldest go first).
pub const MAX_LOG: usize = 300;

/// One endpoint's bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointProgress {
    pub endpoint: String,
    pub total: u64,
    pub done: u64,
    pub skipped: u64,
    pub failed: u64,
    pub started_ms: f64,
    pub finished_ms: Option<f64>,
}

impl EndpointProgress {
    /// Payloads sent (not skipped) per second, up to `now_ms` or the endpoint's end.
    pub fn rate(&self, now_ms: f64) -> f64 {
        let end = self.finished_ms.unwrap_or(now_ms);
        let secs = ((end - self.started_ms) / 1000.0).max(0.001);
        self.done.saturating_sub(self.skipped) as f64 / secs
    }

    /// `12 of 20 (2 skipped, 1 failed) · 35/s`.
    pub fn label(&self, now_ms: f64) -> String {
        format!(
            "{} of {} ({} skipped, {} failed) · {:.0}/s",
            thousands(self.done),
            thousands(self.total),
            thousands(self.skipped),
            thousands(self.failed),
            self.rate(now_ms)
        )
    }

    /// The id of the bar's element.
    pub fn bar_id(&self) -> String {
        format!("bar-{}", self.endpoint.replace('/', "-"))
    }
}

/// A line of the log: its level in lower case (also its CSS class) and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: String,
    pub message: String,
}

impl LogLine {
    /// `warning: ...`.
    pub fn text(&self) -> String {
        format!("{}: {}", self.level, self.message)
    }
}

/// A run's progress.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// The command (`send`); empty before the first run.
    pub label: String,
    pub running: bool,
    pub started_ms: f64,
    pub finished_ms: Option<f64>,
    pub endpoints: Vec<EndpointProgress>,
    pub logs: Vec<LogLine>,
    /// How the API pushes back (payloads waiting to retry, the pace after 429s), while it does.
    pub pushback: Option<String>,
}

impl Progress {
    /// A run of `label` starting at `now_ms`.
    pub fn start(label: &str, now_ms: f64) -> Progress {
        Progress {
            label: label.to_string(),
            running: true,
            started_ms: now_ms,
            ..Progress::default()
        }
    }

    /// The run ended at `now_ms`.
    pub fn finish(&mut self, now_ms: f64) {
        self.running = false;
        self.pushback = None;
        self.finished_ms = Some(now_ms);
    }

    /// Whether a run was started (the panel shows nothing before).
    pub fn started(&self) -> bool {
        !self.label.is_empty()
    }

    /// `send: running…`, `send: finished`.
    pub fn status(&self) -> String {
        let state = if self.running {
            "running…"
        } else {
            "finished"
        };
        format!("{}: {state}", self.label)
    }

    /// The log's summary line.
    pub fn log_title(&self) -> String {
        format!("Log ({} messages)", self.logs.len())
    }

    /// Adds a line to the log (debug messages are left out).
    pub fn log(&mut self, level: LogLevel, message: String) {
        if level < LogLevel::Info {
            return;
        }
        self.logs.push(LogLine {
            level: level.as_str().to_ascii_lowercase(),
            message,
        });
        if self.logs.len() > MAX_LOG {
            let extra = self.logs.len() - MAX_LOG;
            self.logs.drain(..extra);
        }
    }

    /// What an event changes, at `now_ms`.
    pub fn apply(&mut self, event: Event, now_ms: f64) {
        match event {
            Event::Log { level, message } => self.log(level, message),
            Event::EndpointStarted { endpoint, total } => {
                self.endpoints.retain(|e| e.endpoint != endpoint);
                self.endpoints.push(EndpointProgress {
                    endpoint,
                    total,
                    started_ms: now_ms,
                    ..EndpointProgress::default()
                });
            }
            Event::Progress {
                endpoint,
                done,
                skipped,
                failed,
            } => {
                if let Some(e) = self.endpoint_mut(&endpoint) {
                    e.done = done;
                    e.skipped = skipped;
                    e.failed = failed;
                }
            }
            Event::EndpointFinished { endpoint } => {
                if let Some(e) = self.endpoint_mut(&endpoint) {
                    e.finished_ms = Some(now_ms);
                }
            }
            Event::Pressure(p) => self.pushback = p.describe(),
        }
    }

    fn endpoint_mut(&mut self, endpoint: &str) -> Option<&mut EndpointProgress> {
        self.endpoints.iter_mut().find(|e| e.endpoint == endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(endpoint: &str, done: u64, skipped: u64, failed: u64) -> Event {
        Event::Progress {
            endpoint: endpoint.into(),
            done,
            skipped,
            failed,
        }
    }

    #[test]
    fn events_move_the_bars() {
        let mut p = Progress::start("send", 1_000.0);
        assert!(p.started() && p.running);
        assert_eq!(p.status(), "send: running…");
        p.apply(
            Event::EndpointStarted {
                endpoint: "students".into(),
                total: 20,
            },
            1_000.0,
        );
        p.apply(progress("students", 12, 2, 1), 1_500.0);
        p.apply(progress("schools", 1, 0, 0), 1_500.0); // not started: ignored
        assert_eq!(p.endpoints.len(), 1);
        let bar = &p.endpoints[0];
        assert_eq!((bar.done, bar.skipped, bar.failed), (12, 2, 1));
        // 10 sent in 2 s
        assert_eq!(bar.label(3_000.0), "12 of 20 (2 skipped, 1 failed) · 5/s");
        p.apply(
            Event::EndpointFinished {
                endpoint: "students".into(),
            },
            2_000.0,
        );
        // finished: the rate stops at the end
        assert_eq!(p.endpoints[0].rate(9_000.0), 10.0);
        p.finish(2_500.0);
        assert_eq!(p.status(), "send: finished");
        assert_eq!(p.finished_ms, Some(2_500.0));
    }

    #[test]
    fn a_restarted_endpoint_gets_a_new_bar() {
        let mut p = Progress::start("delete", 0.0);
        for total in [5, 7] {
            p.apply(
                Event::EndpointStarted {
                    endpoint: "ed-fi/grades".into(),
                    total,
                },
                0.0,
            );
        }
        assert_eq!(p.endpoints.len(), 1);
        assert_eq!(p.endpoints[0].total, 7);
        assert_eq!(p.endpoints[0].bar_id(), "bar-ed-fi-grades");
    }

    #[test]
    fn the_log_keeps_info_and_above_and_its_last_lines() {
        let mut p = Progress::start("send", 0.0);
        p.log(LogLevel::Debug, "hidden".into());
        p.log(LogLevel::Warning, "careful".into());
        assert_eq!(p.logs.len(), 1);
        assert_eq!(p.logs[0].text(), "warning: careful");
        for i in 0..MAX_LOG + 10 {
            p.apply(
                Event::Log {
                    level: LogLevel::Info,
                    message: format!("m{i}"),
                },
                0.0,
            );
        }
        assert_eq!(p.logs.len(), MAX_LOG);
        assert_eq!(p.logs.last().unwrap().message, format!("m{}", MAX_LOG + 9));
        assert_eq!(p.log_title(), format!("Log ({MAX_LOG} messages)"));
    }

    #[test]
    fn the_api_s_pushback_shows_while_it_lasts() {
        use lightbeam_core::ports::Pressure;
        let mut p = Progress::start("send", 0.0);
        let mut pressure = Pressure {
            in_flight: 3,
            max: 8,
            waiting_retries: 5,
            paced: Some(281.4),
            rate_limited: 1204,
        };
        p.apply(Event::Pressure(pressure), 0.0);
        assert_eq!(
            p.pushback.as_deref(),
            Some("API pushing back: 5 payloads waiting to retry · paced at 281/s after 429s (1204 so far) · 3 of 8 requests on the wire")
        );
        pressure.waiting_retries = 0;
        pressure.paced = None;
        p.apply(Event::Pressure(pressure), 0.0);
        assert_eq!(p.pushback, None, "no pushback: nothing said");
        p.apply(
            Event::Pressure(Pressure {
                waiting_retries: 1,
                ..pressure
            }),
            0.0,
        );
        assert!(p
            .pushback
            .as_deref()
            .unwrap()
            .contains("1 payload waiting to retry"));
        p.finish(1.0);
        assert_eq!(p.pushback, None);
    }
}
