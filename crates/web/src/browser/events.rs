//! The `EventSink` port: the engine's events land in a plain [`Progress`] model (the page copies
//! it into a signal a few times a second, so a fast run does not re-render for every payload).

use crate::logic::progress::Progress;
use lightbeam_core::ports::{Event, EventSink};
use std::cell::RefCell;
use std::rc::Rc;

/// Feeds a shared progress model, timestamped with `Date.now`.
#[derive(Clone, Default)]
pub struct ProgressSink(pub Rc<RefCell<Progress>>);

impl EventSink for ProgressSink {
    fn emit(&self, event: Event) {
        self.0.borrow_mut().apply(event, js_sys::Date::now());
    }
}
