//! The page: one component per panel, each owning its state; [`App`] composes them and shares
//! only what several panels need: the API settings, the dropped files, the notice line, and what
//! a run produces (its progress and results).

mod api_form;
mod data_files;
mod output;
mod progress;
mod results;
mod run_controls;
mod saved;

use api_form::{ApiPanel, ApiState};
use data_files::{DataPanel, DroppedFiles};
use leptos::prelude::*;
use output::RunOutput;
use progress::ProgressPanel;
use results::ResultsPanel;
use run_controls::RunPanel;
use saved::SavedPanel;

#[component]
pub fn App() -> impl IntoView {
    let notice = RwSignal::new(String::new());
    let api = ApiState::new();
    let files = DroppedFiles::new();
    let output = RunOutput::new();
    let on_check = Callback::new(move |()| files.refresh_plan(api, notice));
    let on_files = Callback::new(move |()| output.results.set(None));
    view! {
        <header class="top">
            <h1>"lightbeam"</h1>
            <p class="tagline">"Send JSONL payloads into an Ed-Fi API — right here in your browser."</p>
        </header>
        <main>
            <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
            <ApiPanel api=api notice=notice on_check=on_check />
            <DataPanel api=api files=files notice=notice on_files=on_files />
            <RunPanel api=api files=files notice=notice output=output />
            <ProgressPanel progress=output.progress />
            <ResultsPanel output=output files=files />
            <SavedPanel api=api notice=notice />
        </main>
        <footer><p class="hint">"lightbeam (Rust) — the same engine as the command-line tool, compiled to WebAssembly."</p></footer>
    }
}
