//! What a run produces (its progress, its results, `fetch`'s files): written by the Run panel,
//! shown by the Progress and Results panels.

use crate::browser::run::PageOutcome;
use crate::logic::progress::Progress;
use crate::logic::results::{fetched_files, ResultsView};
use leptos::prelude::*;
use lightbeam_core::ports::MemoryOutput;

/// What the Run panel produces and the Progress and Results panels show.
#[derive(Clone, Copy)]
pub struct RunOutput {
    pub progress: RwSignal<Progress>,
    pub results: RwSignal<Option<ResultsView>>,
    /// `fetch`'s files, offered as downloads.
    pub fetched: StoredValue<Option<MemoryOutput>, LocalStorage>,
}

impl RunOutput {
    pub fn new() -> Self {
        RunOutput {
            progress: RwSignal::new(Progress::default()),
            results: RwSignal::new(None),
            fetched: StoredValue::new_local(None),
        }
    }

    /// Whether a run is under way.
    pub fn running(self) -> bool {
        self.progress.with(|p| p.running)
    }

    /// Forgets the last results.
    pub fn clear(self) {
        self.results.set(None);
        self.fetched.set_value(None);
    }

    /// Shows the outcome of a run.
    pub fn show(self, page: PageOutcome) {
        let view = ResultsView::of(&page.outcome, fetched_files(&page.fetched));
        self.results.set(Some(view));
        self.fetched.set_value(Some(page.fetched));
    }
}
