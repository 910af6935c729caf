//! The Run panel: selector and exclude, the resend and fetch options, the command
//! buttons, Stop, and the confirmation the engine asks for before it deletes.

use super::api_form::ApiState;
use super::data_files::DroppedFiles;
use super::output::RunOutput;
use crate::browser::confirm::{DialogConfirm, Reply};
use crate::browser::events::ProgressSink;
use crate::browser::page::page_url;
use crate::browser::run;
use crate::logic::job::{missing_files, Place, RunFlags};
use crate::logic::progress::Progress;
use futures::future::{AbortHandle, Abortable};
use leptos::prelude::*;
use leptos::task::spawn_local;
use lightbeam_core::ports::{Confirm, ConfirmRequest, EventSink, LogLevel};
use lightbeam_core::results::Command;
use std::cell::RefCell;
use std::rc::Rc;

/// How often the progress model is copied into the page while a run goes (ms).
const TICK_MS: u32 = 200;

/// The panel's state and what a run started from it needs.
#[derive(Clone, Copy)]
struct Runner {
    api: ApiState,
    files: DroppedFiles,
    notice: RwSignal<String>,
    output: RunOutput,
    flags: RwSignal<RunFlags>,
    stop: StoredValue<Option<AbortHandle>, LocalStorage>,
    dialog: ConfirmDialog,
}

impl Runner {
    /// Starts `command` unless a run is under way or the form or the files are not ready.
    fn start(self, command: Command) {
        let output = self.output;
        if output.progress.with_untracked(|p| p.running) {
            return;
        }
        let Some(config) = self.api.config() else {
            return;
        };
        if let Some(message) = missing_files(command, !self.files.is_empty()) {
            self.notice.set(message.into());
            return;
        }
        self.notice.set(String::new());
        output.clear();
        let place = Place {
            page_url: page_url(),
            config_file: self.api.config_file.get_untracked(),
            data_dir: self.files.data_dir(),
        };
        let job = self.flags.get_untracked().job(command, place);
        let track_state = self.api.track_state.get_untracked();
        let model = Rc::new(RefCell::new(Progress::start(
            command.as_str(),
            js_sys::Date::now(),
        )));
        output.progress.set(model.borrow().clone());
        let (handle, registration) = AbortHandle::new_pair();
        self.stop.set_value(Some(handle));
        spawn_local(tick(model.clone(), output));
        let (files, dialog, stop) = (self.files.source(), self.dialog, self.stop);
        spawn_local(async move {
            let sink = ProgressSink(model.clone());
            let confirm = dialog.port();
            let work = run::run(&config, &job, &files, track_state, &sink, &confirm);
            let result = Abortable::new(work, registration).await;
            stop.set_value(None);
            dialog.answer(String::new());
            match result {
                Ok(page) => output.show(page),
                Err(_) => sink.log(LogLevel::Warning, "stopped by the user".into()),
            }
            model.borrow_mut().finish(js_sys::Date::now());
            output.progress.set(model.borrow().clone());
        });
    }

    /// Stops the run under way.
    fn stop(self) {
        self.stop.with_value(|h| {
            if let Some(h) = h {
                h.abort();
            }
        });
    }
}

/// Copies the progress model into the page a few times a second until the run ends.
async fn tick(model: Rc<RefCell<Progress>>, output: RunOutput) {
    loop {
        gloo_timers::future::TimeoutFuture::new(TICK_MS).await;
        let snapshot = model.borrow().clone();
        let running = snapshot.running;
        output.progress.set(snapshot);
        if !running {
            break;
        }
    }
}

/// The confirmation dialog: shown when the engine asks, with the endpoints it will delete.
#[derive(Clone, Copy)]
struct ConfirmDialog {
    endpoints: RwSignal<Option<Vec<String>>>,
    text: RwSignal<String>,
    reply: StoredValue<Option<Reply>, LocalStorage>,
}

impl ConfirmDialog {
    fn new() -> Self {
        ConfirmDialog {
            endpoints: RwSignal::new(None),
            text: RwSignal::new(String::new()),
            reply: StoredValue::new_local(None),
        }
    }

    /// The `Confirm` port of a run: asking shows the dialog.
    fn port(self) -> impl Confirm {
        DialogConfirm::new(move |request: &ConfirmRequest, reply: Reply| {
            self.text.set(String::new());
            self.reply.set_value(Some(reply));
            self.endpoints.set(Some(request.endpoints.clone()));
        })
    }

    /// Closes the dialog with the user's answer (blank: cancelled).
    fn answer(self, text: String) {
        self.endpoints.set(None);
        if let Some(reply) = self.reply.try_update_value(Option::take).flatten() {
            let _ = reply.send(text);
        }
    }
}

type FlagGet = fn(&RunFlags) -> &String;
type FlagSet = fn(&mut RunFlags) -> &mut String;

/// A text option of the run.
struct FlagField {
    id: &'static str,
    label: &'static str,
    placeholder: Option<&'static str>,
    hint: Option<&'static str>,
    get: FlagGet,
    set: FlagSet,
}

fn flag_field(flags: RwSignal<RunFlags>, field: FlagField) -> impl IntoView {
    let FlagField {
        id,
        label,
        placeholder,
        hint,
        get,
        set,
    } = field;
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="text" placeholder=placeholder spellcheck="false"
                prop:value=move || flags.with(|f| get(f).clone())
                on:input=move |ev| { let v = event_target_value(&ev); flags.update(|f| *set(f) = v); } />
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
        </div>
    }
}

#[component]
pub fn RunPanel(
    api: ApiState,
    files: DroppedFiles,
    notice: RwSignal<String>,
    output: RunOutput,
) -> impl IntoView {
    let flags = RwSignal::new(RunFlags::default());
    let runner = Runner {
        api,
        files,
        notice,
        output,
        flags,
        stop: StoredValue::new_local(None),
        dialog: ConfirmDialog::new(),
    };
    let start = move |command: Command| runner.start(command);
    let running = move || output.running();
    view! {
        <section aria-labelledby="run-heading" class="card">
            <h2 id="run-heading">"3. Run"</h2>
            <div class="grid">
                {flag_field(flags, FlagField { id: "selector", label: "Selector", placeholder: Some("*"), hint: Some("endpoints to process, comma list, * wildcards (-s)"), get: |f| &f.selector, set: |f| &mut f.selector })}
                {flag_field(flags, FlagField { id: "exclude", label: "Exclude", placeholder: None, hint: Some("endpoints to skip (-e)"), get: |f| &f.exclude, set: |f| &mut f.exclude })}
            </div>
            <Options title="Resend options">
                <div class="field checks">
                    <input id="force" type="checkbox" prop:checked=move || flags.with(|f| f.force)
                        on:change=move |ev| { let v = event_target_checked(&ev); flags.update(|f| f.force = v); } />
                    <label for="force">"Force: send everything again (-f)"</label>
                </div>
                {flag_field(flags, FlagField { id: "resend", label: "Resend status codes", placeholder: Some("409,500"), hint: None, get: |f| &f.status_codes, set: |f| &mut f.status_codes })}
                {flag_field(flags, FlagField { id: "older", label: "Last sent before", placeholder: Some("2024-05-01 12:00"), hint: None, get: |f| &f.older_than, set: |f| &mut f.older_than })}
                {flag_field(flags, FlagField { id: "newer", label: "Last sent after", placeholder: Some("2024-05-01"), hint: None, get: |f| &f.newer_than, set: |f| &mut f.newer_than })}
            </Options>
            <Options title="Fetch options">
                {flag_field(flags, FlagField { id: "query", label: "Query (JSON)", placeholder: Some(r#"{"schoolId": 255901}"#), hint: None, get: |f| &f.query, set: |f| &mut f.query })}
                {flag_field(flags, FlagField { id: "keep-keys", label: "Keep keys", placeholder: None, hint: None, get: |f| &f.keep_keys, set: |f| &mut f.keep_keys })}
                {flag_field(flags, FlagField { id: "drop-keys", label: "Drop keys", placeholder: Some("id,_etag,_lastModifiedDate"), hint: None, get: |f| &f.drop_keys, set: |f| &mut f.drop_keys })}
            </Options>
            <div class="actions">
                <button type="button" disabled=running on:click=move |_| start(Command::Validate)>"Validate"</button>
                <button type="button" disabled=running on:click=move |_| start(Command::ValidateSend)>"Validate and send"</button>
                <button type="button" class="primary" disabled=running on:click=move |_| start(Command::Send)>"Send"</button>
                <button type="button" disabled=running on:click=move |_| start(Command::Count)>"Count"</button>
                <button type="button" disabled=running on:click=move |_| start(Command::Fetch)>"Fetch"</button>
                <button type="button" class="danger" disabled=running on:click=move |_| start(Command::Delete)>"Delete"</button>
                <button type="button" class="secondary" disabled=move || !running() on:click=move |_| runner.stop()>"Stop"</button>
            </div>
            <ConfirmBox dialog=runner.dialog />
        </section>
    }
}

/// A folded group of options.
#[component]
fn Options(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <details>
            <summary>{title}</summary>
            <div class="grid">{children()}</div>
        </details>
    }
}

/// The dialog, while the engine waits for an answer.
#[component]
fn ConfirmBox(dialog: ConfirmDialog) -> impl IntoView {
    let text = dialog.text;
    move || {
        dialog.endpoints.get().map(|endpoints| view! {
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-heading">
            <h3 id="confirm-heading">"Delete the records of these payloads from the API?"</h3>
            <ul>{endpoints.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
            <label for="confirm-text">"Type yes to confirm"</label>
            <input id="confirm-text" type="text" autocomplete="off" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev)) />
            <button type="button" class="danger" disabled=move || text.get().trim() != "yes"
                on:click=move |_| dialog.answer(text.get_untracked())>"Confirm delete"</button>
            <button type="button" class="secondary" on:click=move |_| dialog.answer(String::new())>"Cancel"</button>
        </div>
    })
    }
}
