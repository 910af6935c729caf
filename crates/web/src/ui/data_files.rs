//! The data files panel: the drop zone and file pickers, and the plan
//! (endpoints with their files in dependency order, line counts, files that match no endpoint).

use super::api_form::ApiState;
use crate::browser::events::ProgressSink;
use crate::browser::files::{self, Dropped, FileSource, PickedFile};
use crate::browser::page::input_files;
use crate::browser::{run, yield_now};
use crate::logic::files::FilesInfo;
use crate::logic::plan::PlanView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use lightbeam_core::config::Config;

/// The dropped files (what runs read, what failures' lines are opened from) and their plan.
#[derive(Clone, Copy)]
pub struct DroppedFiles {
    source: StoredValue<FileSource, LocalStorage>,
    info: RwSignal<FilesInfo>,
    plan: RwSignal<PlanView>,
}

impl DroppedFiles {
    pub fn new() -> Self {
        DroppedFiles {
            source: StoredValue::new_local(FileSource::default()),
            info: RwSignal::new(FilesInfo::default()),
            plan: RwSignal::new(PlanView::default()),
        }
    }

    /// The files, for a run.
    pub fn source(self) -> FileSource {
        self.source.get_value()
    }

    pub fn is_empty(self) -> bool {
        self.source.with_value(FileSource::is_empty)
    }

    /// The data folder's name (the results' `data_dir`).
    pub fn data_dir(self) -> String {
        self.info.with_untracked(|i| i.data_dir.clone())
    }

    fn set(self, picked: Vec<PickedFile>) {
        let (data_dir, source) = FileSource::of_picked(picked);
        self.info.set(FilesInfo {
            count: source.len(),
            bytes: source.bytes(),
            data_dir,
        });
        self.source.set_value(source);
    }

    /// Tries the API: without files, says whether it answers; with files, shows their plan
    /// and counts their lines.
    pub fn refresh_plan(self, api: ApiState, notice: RwSignal<String>) {
        let Some(config) = api.config() else {
            self.plan.set(PlanView::default());
            return;
        };
        if self.is_empty() {
            self.plan.set(PlanView::default());
            notice.set(format!("connecting to {} …", config.edfi_api.base_url));
        } else {
            self.plan.set(PlanView::pending());
        }
        spawn_local(self.make_plan(config, notice));
    }

    /// Connects, then shows the plan of the files and counts their lines one endpoint at a time.
    async fn make_plan(self, config: Config, notice: RwSignal<String>) {
        let source = self.source();
        let (deps, plan) = match run::preview(&config, &source, &ProgressSink::default()).await {
            Ok(p) => p,
            Err(e) => {
                self.plan.set(PlanView::failed(e.to_string()));
                return;
            }
        };
        if source.is_empty() {
            let base = &config.edfi_api.base_url;
            notice.set(format!("connected to {base}: {} endpoints", deps.len()));
            return;
        }
        let view = PlanView::of(&plan);
        let rows = view.rows.clone();
        self.plan.set(view);
        for (i, row) in rows.iter().enumerate() {
            let lines = run::count_lines(&source, &row.files).await;
            self.plan
                .update(|p| p.set_lines(i, &row.endpoint, lines.map_err(|e| e.to_string())));
            yield_now().await;
        }
        self.plan.update(|p| p.loading = false);
    }
}

impl Default for DroppedFiles {
    fn default() -> Self {
        Self::new()
    }
}

/// The data files panel; `on_files` runs when other files were dropped or picked.
#[component]
pub fn DataPanel(
    api: ApiState,
    files: DroppedFiles,
    notice: RwSignal<String>,
    on_files: Callback<()>,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let set_files = move |picked: Vec<PickedFile>| {
        files.set(picked);
        on_files.run(());
        files.refresh_plan(api, notice);
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let Some(dt) = ev.data_transfer() else { return };
        match files::take_drop(&dt) {
            Dropped::Files(f) => set_files(f),
            Dropped::Entries(entries) => spawn_local(async move {
                match files::walk_entries(entries).await {
                    Ok(f) => set_files(f),
                    Err(e) => notice.set(format!("could not read the dropped folder: {e}")),
                }
            }),
        }
    };
    view! {
        <section aria-labelledby="data-heading" class="card">
            <h2 id="data-heading">"2. Data files"</h2>
            <div class="dropzone" class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <p><strong>"Drop JSONL files or a whole folder here"</strong></p>
                <p class="hint">"{endpoint}.jsonl, .ndjson or .json, and {endpoint}/*.jsonl one folder down"</p>
                <div class="row">
                    <label for="data-files" class="button secondary">"Choose files"</label>
                    <input id="data-files" class="visually-hidden" type="file" multiple accept=".jsonl,.ndjson,.json"
                        on:change=move |ev| set_files(input_files(&ev)) />
                    <label for="data-folder" class="button secondary">"Choose a folder"</label>
                    <input id="data-folder" class="visually-hidden" type="file" multiple prop:webkitdirectory=true
                        on:change=move |ev| set_files(input_files(&ev)) />
                </div>
            </div>
            <p class="hint">{move || files.info.with(FilesInfo::summary)}</p>
            {move || files.plan.with(|p| p.error.clone()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <PlanTable plan=files.plan />
            <UnknownFiles plan=files.plan />
        </section>
    }
}

/// Endpoints with their files, in dependency order, with their line counts.
#[component]
fn PlanTable(plan: RwSignal<PlanView>) -> impl IntoView {
    move || {
        let p = plan.get();
        (!p.rows.is_empty()).then(|| view! {
            <table class="plan" id="plan">
                <caption>{p.caption()}</caption>
                <thead><tr><th scope="col">"Level"</th><th scope="col">"Endpoint"</th><th scope="col">"Files"</th><th scope="col" class="num">"Lines"</th></tr></thead>
                <tbody>
                    {p.rows.iter().map(|r| view! {
                        <tr>
                            <td>{r.level}</td>
                            <td><code>{r.endpoint.clone()}</code></td>
                            <td>{r.file_names()}</td>
                            <td class="num">{r.lines_text()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })
    }
}

/// Files that match no endpoint, with why.
#[component]
fn UnknownFiles(plan: RwSignal<PlanView>) -> impl IntoView {
    move || {
        let unknown = plan.with(|p| p.unknown.clone());
        (!unknown.is_empty()).then(|| {
            view! {
                <div class="unknown" role="note">
                    <h3>"Files not matched to an endpoint (not sent)"</h3>
                    <ul>{unknown.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}</ul>
                </div>
            }
        })
    }
}
