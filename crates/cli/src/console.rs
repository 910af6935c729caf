//! What a user sees: log lines in the Python tool's format, and a progress bar per endpoint on a
//! terminal (plain periodic log lines otherwise).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use lightbeam_core::ports::{Event, EventSink, LogLevel};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Console {
    level: RefCell<LogLevel>,
    multi: Option<MultiProgress>,
    bars: RefCell<HashMap<String, ProgressBar>>,
    plain: RefCell<HashMap<String, (u64, Instant)>>,
    /// The line under the bars that says how the API pushes back (bars only).
    pushback: RefCell<Option<ProgressBar>>,
    /// The pushback last logged without bars, and when.
    pushback_logged: RefCell<Option<(String, Instant)>>,
}

impl Console {
    pub fn new(progress_bars: bool) -> Console {
        let tty = std::io::stderr().is_terminal();
        Console {
            level: RefCell::new(LogLevel::Info),
            multi: (tty && progress_bars)
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8))),
            bars: RefCell::new(HashMap::new()),
            plain: RefCell::new(HashMap::new()),
            pushback: RefCell::new(None),
            pushback_logged: RefCell::new(None),
        }
    }

    pub fn set_level(&self, level: LogLevel) {
        *self.level.borrow_mut() = level;
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        if level < *self.level.borrow() {
            return;
        }
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
        let line = format!("{now} - lightbeam - {} - {message}", level.as_str());
        match &self.multi {
            Some(m) => {
                let _ = m.println(line);
            }
            None => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{line}");
            }
        }
    }
}

impl EventSink for Console {
    fn emit(&self, event: Event) {
        match event {
            Event::Log { level, message } => self.log(level, &message),
            Event::EndpointStarted { endpoint, total } => {
                if let Some(m) = &self.multi {
                    let bar = m.add(ProgressBar::new(total));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix:>36.bold} [{bar:30.cyan/blue}] {pos}/{len} {rate:>7} eta {eta} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", s.per_sec());
                        })
                        .progress_chars("=> "),
                    );
                    bar.set_prefix(endpoint.clone());
                    bar.enable_steady_tick(Duration::from_millis(250));
                    self.bars.borrow_mut().insert(endpoint, bar);
                } else {
                    self.plain
                        .borrow_mut()
                        .insert(endpoint, (total, Instant::now()));
                }
            }
            Event::Progress {
                endpoint,
                done,
                skipped,
                failed,
            } => {
                if let Some(bar) = self.bars.borrow().get(&endpoint) {
                    bar.set_position(done);
                    if failed > 0 || skipped > 0 {
                        bar.set_message(format!("skipped {skipped}, failed {failed}"));
                    }
                } else if let Some((total, last)) = self.plain.borrow_mut().get_mut(&endpoint) {
                    if last.elapsed() >= Duration::from_secs(10) {
                        *last = Instant::now();
                        let total = *total;
                        self.log(
                            LogLevel::Info,
                            &format!("  ({endpoint}: {done} of {total} done, {skipped} skipped, {failed} failed)"),
                        );
                    }
                }
            }
            Event::EndpointFinished { endpoint } => {
                if let Some(bar) = self.bars.borrow_mut().remove(&endpoint) {
                    bar.finish();
                }
            }
            Event::Pressure(p) => self.pushback(p.describe()),
        }
    }
}

impl Console {
    /// Says how the API pushes back: on a line under the bars, or (without bars) in the log
    /// when it starts, and every 10 s while it lasts.
    fn pushback(&self, text: Option<String>) {
        if let Some(m) = &self.multi {
            let mut line = self.pushback.borrow_mut();
            let bar = line.get_or_insert_with(|| {
                let bar = m.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{msg:.yellow}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            });
            bar.set_message(text.unwrap_or_default());
            return;
        }
        let Some(text) = text else {
            *self.pushback_logged.borrow_mut() = None;
            return;
        };
        let due = self
            .pushback_logged
            .borrow()
            .as_ref()
            .is_none_or(|(_, at)| at.elapsed() >= Duration::from_secs(10));
        if due {
            self.log(LogLevel::Info, &format!("  ({text})"));
            *self.pushback_logged.borrow_mut() = Some((text, Instant::now()));
        }
    }
}
