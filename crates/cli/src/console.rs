//! What a user sees: log lines in the Python tool's format, and a progress bar per endpoint on a
//! terminal (plain periodic log lines otherwise).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
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
                            "{prefix:>36.bold} [{bar:30.cyan/blue}] {pos}/{len} {per_sec:>10} eta {eta} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
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
        }
    }
}
