//! The page: API form, data files, commands, progress, failures, results, saved state.

use crate::browser::files::{self, Dropped, PickedFile};
use crate::browser::run::{self, Op, PlanRow, RunInput};
use crate::browser::store::Db;
use crate::browser::{js_error_text, yield_now};
use crate::logic::{self, ConfigForm, FormError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use lightbeam_core::config::Config;
use lightbeam_core::output::MemoryOutput;
use lightbeam_core::ports::{Event, EventSink, LogLevel};
use lightbeam_core::results::{FailureKind, RunResults};
use lightbeam_core::state::{parse_status_codes, parse_timestamp, ResendCriteria};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

const STORAGE_KEY: &str = "lightbeam.form";
const REMEMBER_KEY: &str = "lightbeam.remember";
const MAX_LOG: usize = 300;

// ---------------------------------------------------------------------------------------------
// run progress, fed by the engine's events

#[derive(Debug, Clone, Default, PartialEq)]
struct EndpointView {
    endpoint: String,
    total: u64,
    done: u64,
    skipped: u64,
    failed: u64,
    started_ms: f64,
    finished_ms: Option<f64>,
}

impl EndpointView {
    fn rate(&self, now: f64) -> f64 {
        let end = self.finished_ms.unwrap_or(now);
        let secs = ((end - self.started_ms) / 1000.0).max(0.001);
        (self.done - self.skipped) as f64 / secs
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct RunView {
    label: String,
    running: bool,
    started_ms: f64,
    finished_ms: Option<f64>,
    endpoints: Vec<EndpointView>,
    logs: Vec<(String, String)>,
}

/// The `EventSink`: events land in a plain model; a ticker copies it into a signal a few
/// times a second, so a fast run does not re-render the page for every payload.
struct ModelSink(Rc<RefCell<RunView>>);

fn level_name(l: LogLevel) -> &'static str {
    match l {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warning => "warning",
        LogLevel::Error => "error",
        LogLevel::Critical => "critical",
    }
}

impl EventSink for ModelSink {
    fn emit(&self, event: Event) {
        let mut m = self.0.borrow_mut();
        let now = js_sys::Date::now();
        match event {
            Event::Log { level, message } => {
                if level >= LogLevel::Info {
                    m.logs.push((level_name(level).to_string(), message));
                    if m.logs.len() > MAX_LOG {
                        let extra = m.logs.len() - MAX_LOG;
                        m.logs.drain(..extra);
                    }
                }
            }
            Event::EndpointStarted { endpoint, total } => {
                m.endpoints.retain(|e| e.endpoint != endpoint);
                m.endpoints.push(EndpointView {
                    endpoint,
                    total,
                    started_ms: now,
                    ..EndpointView::default()
                });
            }
            Event::Progress {
                endpoint,
                done,
                skipped,
                failed,
            } => {
                if let Some(e) = m.endpoints.iter_mut().find(|e| e.endpoint == endpoint) {
                    e.done = done;
                    e.skipped = skipped;
                    e.failed = failed;
                }
            }
            Event::EndpointFinished { endpoint } => {
                if let Some(e) = m.endpoints.iter_mut().find(|e| e.endpoint == endpoint) {
                    e.finished_ms = Some(now);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// results, as shown

#[derive(Debug, Clone, PartialEq)]
struct FailureView {
    kind: String,
    message: String,
    file: String,
    lines: Vec<u64>,
    count: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct EndpointResult {
    endpoint: String,
    processed: u64,
    skipped: u64,
    failed: u64,
    statuses: Vec<(String, u64)>,
    failures: Vec<FailureView>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct ResultsView {
    command: String,
    summary: String,
    fatal: Option<String>,
    endpoints: Vec<EndpointResult>,
    counts: Vec<(String, Result<u64, String>)>,
    fetched: Vec<(String, usize)>,
    skips: Vec<(String, String, String, Vec<u64>)>,
    json: String,
}

fn kind_label(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Status(s) => s.to_string(),
        FailureKind::Method(m) => m.clone(),
    }
}

fn results_view(
    op: Op,
    out: &run::RunOutput,
    runtime: f64,
    fetched: Vec<(String, usize)>,
) -> ResultsView {
    let r: &RunResults = &out.results;
    let t = r.totals();
    let summary = match op {
        Op::Count => format!("counted {} endpoints in {runtime:.1}s", out.counts.len()),
        Op::Fetch => format!(
            "fetched {} records into {} files in {runtime:.1}s",
            logic::thousands(t.processed - t.failed),
            fetched.len()
        ),
        _ => {
            let sent = t.processed - t.skipped;
            let mut s = format!(
                "{} payloads: {} done, {} skipped, {} failed in {runtime:.1}s ({:.0}/s)",
                logic::thousands(t.processed),
                logic::thousands(t.processed - t.skipped - t.failed),
                logic::thousands(t.skipped),
                logic::thousands(t.failed),
                sent as f64 / runtime.max(0.001)
            );
            if t.processed > 0 && t.skipped == t.processed {
                s.push_str(" — all payloads skipped (already sent)");
            } else if t.processed > 0 && t.failed == t.processed {
                s.push_str(" — all payloads failed");
            }
            s
        }
    };
    ResultsView {
        command: op.command().as_str().to_string(),
        summary,
        fatal: out.fatal.clone(),
        endpoints: r
            .resources
            .iter()
            .map(|(endpoint, res)| {
                let mut statuses: Vec<(String, u64)> = res
                    .successes()
                    .iter()
                    .map(|s| (s.status_code.to_string(), s.count))
                    .collect();
                let failures: Vec<FailureView> = res
                    .failures()
                    .into_iter()
                    .map(|f| FailureView {
                        kind: kind_label(&f.kind),
                        message: f.message,
                        file: f.file,
                        lines: f.line_numbers,
                        count: f.count,
                    })
                    .collect();
                // failures are counted by message (a payload may have several): name their
                // kinds only
                let mut kinds: Vec<&str> = failures.iter().map(|f| f.kind.as_str()).collect();
                kinds.dedup();
                for k in kinds {
                    if !statuses.iter().any(|(s, _)| s == k) {
                        statuses.push((k.to_string(), 0));
                    }
                }
                EndpointResult {
                    endpoint: endpoint.clone(),
                    processed: res.records_processed,
                    skipped: res.records_skipped,
                    failed: res.records_failed,
                    statuses,
                    failures,
                }
            })
            .collect(),
        counts: out.counts.clone(),
        fetched,
        skips: out.skips.clone(),
        json: r.to_json(),
    }
}

// ---------------------------------------------------------------------------------------------
// browser helpers

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn now_iso() -> String {
    let d = js_sys::Date::new_0();
    logic::iso_local(
        d.get_full_year() as i32,
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds(),
    )
}

fn current_year() -> i32 {
    js_sys::Date::new_0().get_full_year() as i32
}

/// The browser's UTC offset in seconds (east positive).
fn local_offset_seconds() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32) * 60
}

/// Offers bytes as a download named `name`.
fn download(name: &str, bytes: &[u8], mime: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::new();
    parts.push(&js_sys::Uint8Array::from(bytes));
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &props) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = doc.create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

async fn file_text(file: &web_sys::File) -> Result<String, String> {
    let v = JsFuture::from(file.text())
        .await
        .map_err(|e| js_error_text(&e))?;
    Ok(v.as_string().unwrap_or_default())
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| js_error_text(&e))?
        .unchecked_into();
    if !resp.ok() {
        return Err(format!("{url}: status {}", resp.status()));
    }
    let text = JsFuture::from(resp.text().map_err(|e| js_error_text(&e))?)
        .await
        .map_err(|e| js_error_text(&e))?;
    Ok(text.as_string().unwrap_or_default())
}

fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|v| !v.is_empty())
}

fn input_files(ev: &web_sys::Event) -> Vec<PickedFile> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|i| i.files())
        .map(|l| files::from_file_list(&l))
        .unwrap_or_default()
}

fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

// ---------------------------------------------------------------------------------------------
// the page

#[derive(Debug, Clone, PartialEq, Default)]
struct PlanView {
    rows: Vec<PlanRow>,
    unknown: Vec<String>,
    error: Option<String>,
    loading: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct LineView {
    file: String,
    line: u64,
    text: Result<String, String>,
}

type Getter = fn(&ConfigForm) -> &String;
type Setter = fn(&mut ConfigForm) -> &mut String;

/// A labelled text field of the config form, marked invalid when the error is about it.
#[allow(clippy::too_many_arguments)]
fn text_field(
    form: RwSignal<ConfigForm>,
    error: RwSignal<Option<FormError>>,
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    get: Getter,
    set: Setter,
) -> impl IntoView {
    let invalid = move || error.with(|e| e.as_ref().and_then(|e| e.field) == Some(id));
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete="off"
                spellcheck="false"
                aria-describedby=move || if invalid() { "config-error".to_string() } else { hint_id.clone() }
                aria-invalid=move || if invalid() { "true" } else { "false" }
                prop:value=move || form.with(|f| get(f).clone())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| *set(f) = v);
                    error.set(None);
                }
            />
            <small id=format!("{id}-hint") class="hint">{hint}</small>
        </div>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let form = RwSignal::new(ConfigForm::default());
    let form_error: RwSignal<Option<FormError>> = RwSignal::new(None);
    let config_file = RwSignal::new(String::from("(form)"));
    let remember = RwSignal::new(false);
    let track_state = RwSignal::new(true);
    let data_dir = RwSignal::new(String::new());
    let files_store: StoredValue<Vec<PickedFile>, LocalStorage> =
        StoredValue::new_local(Vec::new());
    let file_count = RwSignal::new(0usize);
    let file_bytes = RwSignal::new(0f64);
    let plan = RwSignal::new(PlanView::default());
    let selector = RwSignal::new(String::new());
    let exclude = RwSignal::new(String::new());
    let force = RwSignal::new(false);
    let older_than = RwSignal::new(String::new());
    let newer_than = RwSignal::new(String::new());
    let resend_statuses = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let keep_keys = RwSignal::new(String::new());
    let drop_keys = RwSignal::new(String::new());
    let run_view = RwSignal::new(RunView::default());
    let results = RwSignal::new(Option::<ResultsView>::None);
    let fetched_store: StoredValue<Option<MemoryOutput>, LocalStorage> =
        StoredValue::new_local(None);
    let line_view = RwSignal::new(Option::<LineView>::None);
    let confirm_delete = RwSignal::new(Option::<Vec<String>>::None);
    let confirm_text = RwSignal::new(String::new());
    let abort_store: StoredValue<Option<futures::future::AbortHandle>, LocalStorage> =
        StoredValue::new_local(None);
    let saved = RwSignal::new(
        Option::<Result<(Vec<(String, usize)>, Vec<(String, u64, usize)>), String>>::None,
    );
    let dragging = RwSignal::new(false);
    let notice = RwSignal::new(String::new());

    // restore the remembered form (the secret only if the user ticked "remember")
    if let Some(storage) = local_storage() {
        let rem = storage.get_item(REMEMBER_KEY).ok().flatten().as_deref() == Some("1");
        remember.set(rem);
        if let Some(f) = storage
            .get_item(STORAGE_KEY)
            .ok()
            .flatten()
            .and_then(|t| ConfigForm::from_storage(&t))
        {
            form.set(if rem { f } else { f.without_secret() });
        }
    }
    if let Some(api) = query_param("api") {
        form.update(|f| f.base_url = api);
    }
    if let Some(id) = query_param("client_id") {
        form.update(|f| f.client_id = id);
    }
    if let Some(mode) = query_param("mode") {
        form.update(|f| f.mode = mode);
    }
    if let Some(url) = query_param("config") {
        spawn_local(async move {
            match fetch_text(&url).await {
                Err(e) => notice.set(format!("could not load {url}: {e}")),
                Ok(text) => match logic::load_config_file(&url, &text, current_year()) {
                    Ok(cfg) => {
                        form.set(ConfigForm::from_config(&cfg));
                        config_file.set(url.clone());
                        notice.set(format!("loaded {url}"));
                    }
                    Err(e) => form_error.set(Some(e)),
                },
            }
        });
    }
    // remember the form on this device; the secret only when asked to
    Effect::new(move |_| {
        let f = form.get();
        let rem = remember.get();
        if let Some(storage) = local_storage() {
            let kept = if rem { f } else { f.without_secret() };
            let _ = storage.set_item(STORAGE_KEY, &kept.to_storage());
            let _ = storage.set_item(REMEMBER_KEY, if rem { "1" } else { "0" });
        }
    });

    let config_now = move || -> Option<Config> {
        match form.with_untracked(|f| f.to_config(current_year())) {
            Ok(c) => {
                form_error.set(None);
                Some(c)
            }
            Err(e) => {
                form_error.set(Some(e));
                None
            }
        }
    };

    // the plan: which endpoint each file maps to, in dependency order, with line counts
    let refresh_plan = move || {
        let Some(config) = config_now() else {
            plan.set(PlanView::default());
            return;
        };
        if files_store.with_value(Vec::is_empty) {
            // no files yet: check the connection (discovery and dependencies)
            plan.set(PlanView::default());
            notice.set(format!("connecting to {} …", config.edfi_api.base_url));
            spawn_local(async move {
                let sink = ModelSink(Rc::new(RefCell::new(RunView::default())));
                match run::dependencies(&config, &sink).await {
                    Ok(d) => notice.set(format!(
                        "connected to {}: {} endpoints",
                        config.edfi_api.base_url,
                        d.len()
                    )),
                    Err(e) => plan.set(PlanView {
                        error: Some(e),
                        ..PlanView::default()
                    }),
                }
            });
            return;
        }
        plan.set(PlanView {
            loading: true,
            ..PlanView::default()
        });
        spawn_local(async move {
            let sink = ModelSink(Rc::new(RefCell::new(RunView::default())));
            let deps = match run::dependencies(&config, &sink).await {
                Ok(d) => d,
                Err(e) => {
                    plan.set(PlanView {
                        error: Some(e),
                        ..PlanView::default()
                    });
                    return;
                }
            };
            let files = files_store.get_value();
            let (rows, unknown) = run::plan_rows(&files, &deps);
            plan.set(PlanView {
                rows: rows.clone(),
                unknown,
                error: None,
                loading: true,
            });
            for (i, row) in rows.iter().enumerate() {
                let n = run::count_plan_lines(&files, row).await;
                plan.update(|p| {
                    if let Some(r) = p.rows.get_mut(i) {
                        if r.endpoint == row.endpoint {
                            r.lines = n.as_ref().ok().copied();
                        }
                    }
                    if let Err(e) = &n {
                        p.error = Some(e.clone());
                    }
                });
                yield_now().await;
            }
            plan.update(|p| p.loading = false);
        });
    };

    let set_files = move |picked: Vec<PickedFile>| {
        let paths: Vec<String> = picked.iter().map(|p| p.path.clone()).collect();
        let (dir, rel) = logic::relative_paths(&paths);
        let picked: Vec<PickedFile> = picked
            .into_iter()
            .zip(rel)
            .map(|(p, path)| PickedFile { path, file: p.file })
            .collect();
        file_count.set(picked.len());
        file_bytes.set(picked.iter().map(|p| p.file.size()).sum());
        data_dir.set(if dir.is_empty() {
            "(dropped files)".into()
        } else {
            dir
        });
        files_store.set_value(picked);
        results.set(None);
        refresh_plan();
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

    let on_config_file = move |ev: web_sys::Event| {
        let picked = input_files(&ev);
        let Some(p) = picked.into_iter().next() else {
            return;
        };
        spawn_local(async move {
            let name = p.file.name();
            match file_text(&p.file).await {
                Err(e) => notice.set(format!("could not read {name}: {e}")),
                Ok(text) => match logic::load_config_file(&name, &text, current_year()) {
                    Ok(cfg) => {
                        form.set(ConfigForm::from_config(&cfg));
                        form_error.set(None);
                        config_file.set(name.clone());
                        notice.set(format!("loaded {name}"));
                        refresh_plan();
                    }
                    Err(e) => form_error.set(Some(e)),
                },
            }
        });
    };

    // run a command
    let start = move |op: Op| {
        if run_view.with_untracked(|r| r.running) {
            return;
        }
        let Some(config) = config_now() else { return };
        let files = files_store.get_value();
        if op.needs_files() && files.is_empty() {
            notice.set("drop JSONL files (or a folder) first".into());
            return;
        }
        let offset = local_offset_seconds();
        let criteria = (|| -> Result<ResendCriteria, String> {
            let t = |s: String, flag: &str| -> Result<Option<f64>, String> {
                if s.trim().is_empty() {
                    Ok(None)
                } else {
                    parse_timestamp(s.trim(), offset)
                        .map(Some)
                        .map_err(|e| format!("{flag}: {e}"))
                }
            };
            Ok(ResendCriteria {
                force: force.get_untracked(),
                older_than: t(older_than.get_untracked(), "older than")?,
                newer_than: t(newer_than.get_untracked(), "newer than")?,
                resend_status_codes: match resend_statuses.get_untracked() {
                    s if s.trim().is_empty() => Vec::new(),
                    s => parse_status_codes(&s).map_err(|e| format!("resend status codes: {e}"))?,
                },
            })
        })();
        let criteria = match criteria {
            Ok(c) => c,
            Err(e) => {
                notice.set(e);
                return;
            }
        };
        notice.set(String::new());
        confirm_delete.set(None);
        results.set(None);
        fetched_store.set_value(None);
        let input = RunInput {
            config,
            config_file: config_file.get_untracked(),
            data_dir: data_dir.get_untracked(),
            files,
            selector: selector.get_untracked(),
            exclude: exclude.get_untracked(),
            criteria,
            track_state: track_state.get_untracked(),
            query: query.get_untracked(),
            keep_keys: keep_keys.get_untracked(),
            drop_keys: drop_keys.get_untracked(),
            started_at: now_iso(),
            page_url: web_sys::window()
                .and_then(|w| w.location().href().ok())
                .unwrap_or_default(),
        };
        let label = op.command().as_str().to_string();
        let model = Rc::new(RefCell::new(RunView {
            label,
            running: true,
            started_ms: js_sys::Date::now(),
            ..RunView::default()
        }));
        run_view.set(model.borrow().clone());
        let (handle, registration) = futures::future::AbortHandle::new_pair();
        abort_store.set_value(Some(handle));
        // ticker: the model into the page, 5 times a second
        let ticking = model.clone();
        spawn_local(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(200).await;
                let snapshot = ticking.borrow().clone();
                let running = snapshot.running;
                run_view.set(snapshot);
                if !running {
                    break;
                }
            }
        });
        spawn_local(async move {
            let sink = ModelSink(model.clone());
            let started = js_sys::Date::now();
            let work = futures::future::Abortable::new(run::run(op, input, &sink), registration);
            let outcome = work.await;
            let runtime = (js_sys::Date::now() - started) / 1000.0;
            abort_store.set_value(None);
            match outcome {
                Ok(mut out) => {
                    out.results.finish(op.command(), now_iso(), runtime);
                    let fetched: Vec<(String, usize)> = out
                        .fetched
                        .as_ref()
                        .map(|m| {
                            m.paths()
                                .into_iter()
                                .map(|p| {
                                    let n = m.get(&p).map(|b| b.len()).unwrap_or(0);
                                    (p, n)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    results.set(Some(results_view(op, &out, runtime, fetched)));
                    fetched_store.set_value(out.fetched.take());
                }
                Err(_) => {
                    sink.emit(Event::Log {
                        level: LogLevel::Warning,
                        message: "stopped by the user".into(),
                    });
                }
            }
            {
                let mut m = model.borrow_mut();
                m.running = false;
                m.finished_ms = Some(js_sys::Date::now());
            }
            run_view.set(model.borrow().clone());
        });
    };

    let ask_delete = move || {
        let Some(config) = config_now() else { return };
        if files_store.with_value(Vec::is_empty) {
            notice.set("drop the JSONL files whose records should be deleted first".into());
            return;
        }
        if config.force_delete {
            start(Op::Delete);
            return;
        }
        let mut endpoints: Vec<String> =
            plan.with_untracked(|p| p.rows.iter().map(|r| r.endpoint.clone()).collect());
        endpoints.reverse();
        confirm_text.set(String::new());
        confirm_delete.set(Some(endpoints));
    };

    let open_line = move |file: String, line: u64| {
        let found =
            files_store.with_value(|v| v.iter().find(|f| f.path == file).map(|f| f.file.clone()));
        spawn_local(async move {
            let text = match found {
                Some(f) => files::read_line(&f, line).await.map(|t| pretty(&t)),
                None => Err(format!("{file} is not among the dropped files")),
            };
            line_view.set(Some(LineView { file, line, text }));
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("line-close"))
            {
                let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        });
    };

    let show_saved = move || {
        let Some(config) = config_now() else { return };
        spawn_local(async move {
            let r = match Db::open(&config.data_url()).await {
                Ok(db) => db.summary().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            saved.set(Some(r));
        });
    };
    let clear_saved = move |state: bool, cache: bool| {
        let Some(config) = config_now() else { return };
        spawn_local(async move {
            let r = match Db::open(&config.data_url()).await {
                Ok(db) => db.clear(state, cache).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match r {
                Ok(()) => {
                    notice.set(
                        match (state, cache) {
                            (true, true) => "saved state and cache cleared",
                            (true, false) => "saved state cleared: the next send sends everything",
                            _ => "cache cleared",
                        }
                        .into(),
                    );
                    show_saved();
                }
                Err(e) => notice.set(e),
            }
        });
    };

    let running = move || run_view.with(|r| r.running);
    let modes = logic::modes();

    view! {
        <header class="top">
            <h1>"lightbeam"</h1>
            <p class="tagline">"Send JSONL payloads into an Ed-Fi API — right here in your browser."</p>
        </header>
        <main>
            <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>

            <section aria-labelledby="api-heading" class="card">
                <h2 id="api-heading">"1. API"</h2>
                <div class="row">
                    <div class="field">
                        <label for="config-file">"Load a lightbeam.yaml"</label>
                        <input id="config-file" type="file" accept=".yaml,.yml,text/yaml" on:change=on_config_file />
                        <small class="hint">{move || format!("config: {}", config_file.get())}</small>
                    </div>
                </div>
                <form class="grid" novalidate=true on:submit=move |ev| { ev.prevent_default(); refresh_plan(); }>
                    {text_field(form, form_error, "base_url", "Base URL", "url", "e.g. https://api.example.org/v7", |f| &f.base_url, |f| &mut f.base_url)}
                    {text_field(form, form_error, "client_id", "Client ID", "text", "OAuth client (key)", |f| &f.client_id, |f| &mut f.client_id)}
                    {text_field(form, form_error, "client_secret", "Client secret", "password", "kept in memory only, unless remembered below", |f| &f.client_secret, |f| &mut f.client_secret)}
                    <div class="field">
                        <label for="mode">"Mode"</label>
                        <select id="mode" name="mode"
                            on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.mode = v); }
                            prop:value=move || form.with(|f| f.mode.clone())>
                            {modes.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
                        </select>
                        <small class="hint">"as edfi_api.mode"</small>
                    </div>
                    {text_field(form, form_error, "year", "Year", "text", "year_specific modes (default: this year)", |f| &f.year, |f| &mut f.year)}
                    {text_field(form, form_error, "instance_code", "Instance code", "text", "instance_year_specific only", |f| &f.instance_code, |f| &mut f.instance_code)}
                    {text_field(form, form_error, "namespace", "Namespace", "text", "default ed-fi", |f| &f.namespace, |f| &mut f.namespace)}
                    <div class="field wide">
                        <label for="namespace_overrides">"Namespace overrides"</label>
                        <textarea id="namespace_overrides" rows="2" spellcheck="false"
                            aria-describedby="namespace_overrides-hint"
                            aria-invalid=move || if form_error.with(|e| e.as_ref().and_then(|e| e.field) == Some("namespace_overrides")) { "true" } else { "false" }
                            prop:value=move || form.with(|f| f.namespace_overrides.clone())
                            on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.namespace_overrides = v); }></textarea>
                        <small id="namespace_overrides-hint" class="hint">"one line per namespace: tpdm: candidates, evaluations"</small>
                    </div>
                    {text_field(form, form_error, "pool_size", "Pool size", "text", "requests in flight (the browser allows 6 per origin over HTTP/1.1)", |f| &f.pool_size, |f| &mut f.pool_size)}
                    {text_field(form, form_error, "num_retries", "Retries", "text", "per request (429, 5xx, timeouts)", |f| &f.num_retries, |f| &mut f.num_retries)}
                    {text_field(form, form_error, "timeout", "Timeout (s)", "text", "for a whole request", |f| &f.timeout, |f| &mut f.timeout)}
                    <div class="field wide checks">
                        <input id="remember" type="checkbox" prop:checked=move || remember.get()
                            on:change=move |ev| remember.set(event_target_checked(&ev)) />
                        <label for="remember">"Remember the client secret on this device"</label>
                        <input id="track_state" type="checkbox" prop:checked=move || track_state.get()
                            on:change=move |ev| track_state.set(event_target_checked(&ev)) />
                        <label for="track_state">"Remember sent payloads in this browser (skip them next time)"</label>
                    </div>
                    <div class="field wide">
                        <button type="submit" class="secondary">"Check connection"</button>
                    </div>
                </form>
                {move || form_error.get().map(|e| view! {
                    <p id="config-error" class="error" role="alert">{e.message}</p>
                })}
            </section>

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
                <p class="hint">{move || if file_count.get() == 0 { "No files yet.".to_string() } else {
                    format!("{} files, {} from {}", file_count.get(), logic::human_bytes(file_bytes.get()), data_dir.get())
                }}</p>
                {move || plan.get().error.map(|e| view! { <p class="error" role="alert">{e}</p> })}
                {move || {
                    let p = plan.get();
                    (!p.rows.is_empty()).then(|| view! {
                        <table class="plan" id="plan">
                            <caption>{if p.loading { "Files by endpoint, in dependency order (counting lines…)" } else { "Files by endpoint, in dependency order" }}</caption>
                            <thead><tr><th scope="col">"Level"</th><th scope="col">"Endpoint"</th><th scope="col">"Files"</th><th scope="col" class="num">"Lines"</th></tr></thead>
                            <tbody>
                                {p.rows.into_iter().map(|r| view! {
                                    <tr>
                                        <td>{r.level}</td>
                                        <td><code>{r.endpoint}</code></td>
                                        <td>{r.files.join(", ")}</td>
                                        <td class="num">{r.lines.map(logic::thousands).unwrap_or_else(|| "…".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })
                }}
                {move || {
                    let unknown = plan.get().unknown;
                    (!unknown.is_empty()).then(|| view! {
                        <div class="unknown" role="note">
                            <h3>"Files not matched to an endpoint (not sent)"</h3>
                            <ul>{unknown.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}</ul>
                        </div>
                    })
                }}
            </section>

            <section aria-labelledby="run-heading" class="card">
                <h2 id="run-heading">"3. Run"</h2>
                <div class="grid">
                    <div class="field">
                        <label for="selector">"Selector"</label>
                        <input id="selector" type="text" placeholder="*" spellcheck="false" prop:value=move || selector.get()
                            on:input=move |ev| selector.set(event_target_value(&ev)) />
                        <small class="hint">"endpoints to process, comma list, * wildcards (-s)"</small>
                    </div>
                    <div class="field">
                        <label for="exclude">"Exclude"</label>
                        <input id="exclude" type="text" spellcheck="false" prop:value=move || exclude.get()
                            on:input=move |ev| exclude.set(event_target_value(&ev)) />
                        <small class="hint">"endpoints to skip (-e)"</small>
                    </div>
                </div>
                <details>
                    <summary>"Resend options"</summary>
                    <div class="grid">
                        <div class="field checks">
                            <input id="force" type="checkbox" prop:checked=move || force.get()
                                on:change=move |ev| force.set(event_target_checked(&ev)) />
                            <label for="force">"Force: send everything again (-f)"</label>
                        </div>
                        <div class="field">
                            <label for="resend">"Resend status codes"</label>
                            <input id="resend" type="text" placeholder="409,500" prop:value=move || resend_statuses.get()
                                on:input=move |ev| resend_statuses.set(event_target_value(&ev)) />
                        </div>
                        <div class="field">
                            <label for="older">"Last sent before"</label>
                            <input id="older" type="text" placeholder="2024-05-01 12:00" prop:value=move || older_than.get()
                                on:input=move |ev| older_than.set(event_target_value(&ev)) />
                        </div>
                        <div class="field">
                            <label for="newer">"Last sent after"</label>
                            <input id="newer" type="text" placeholder="2024-05-01" prop:value=move || newer_than.get()
                                on:input=move |ev| newer_than.set(event_target_value(&ev)) />
                        </div>
                    </div>
                </details>
                <details>
                    <summary>"Fetch options"</summary>
                    <div class="grid">
                        <div class="field">
                            <label for="query">"Query (JSON)"</label>
                            <input id="query" type="text" placeholder=r#"{"schoolId": 255901}"# spellcheck="false" prop:value=move || query.get()
                                on:input=move |ev| query.set(event_target_value(&ev)) />
                        </div>
                        <div class="field">
                            <label for="keep-keys">"Keep keys"</label>
                            <input id="keep-keys" type="text" spellcheck="false" prop:value=move || keep_keys.get()
                                on:input=move |ev| keep_keys.set(event_target_value(&ev)) />
                        </div>
                        <div class="field">
                            <label for="drop-keys">"Drop keys"</label>
                            <input id="drop-keys" type="text" placeholder="id,_etag,_lastModifiedDate" spellcheck="false" prop:value=move || drop_keys.get()
                                on:input=move |ev| drop_keys.set(event_target_value(&ev)) />
                        </div>
                    </div>
                </details>
                <div class="actions">
                    <button type="button" disabled=running on:click=move |_| start(Op::Validate)>"Validate"</button>
                    <button type="button" disabled=running on:click=move |_| start(Op::ValidateSend)>"Validate and send"</button>
                    <button type="button" class="primary" disabled=running on:click=move |_| start(Op::Send)>"Send"</button>
                    <button type="button" disabled=running on:click=move |_| start(Op::Count)>"Count"</button>
                    <button type="button" disabled=running on:click=move |_| start(Op::Fetch)>"Fetch"</button>
                    <button type="button" class="danger" disabled=running on:click=move |_| ask_delete()>"Delete"</button>
                    <button type="button" class="secondary" disabled=move || !running()
                        on:click=move |_| abort_store.with_value(|h| if let Some(h) = h { h.abort() })>"Stop"</button>
                </div>
                {move || confirm_delete.get().map(|endpoints| view! {
                    <div class="confirm" role="alertdialog" aria-labelledby="confirm-heading">
                        <h3 id="confirm-heading">"Delete the records of these payloads from the API?"</h3>
                        <ul>{endpoints.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
                        <label for="confirm-text">"Type yes to confirm"</label>
                        <input id="confirm-text" type="text" autocomplete="off" prop:value=move || confirm_text.get()
                            on:input=move |ev| confirm_text.set(event_target_value(&ev)) />
                        <button type="button" class="danger" disabled=move || confirm_text.get().trim() != "yes"
                            on:click=move |_| start(Op::Delete)>"Confirm delete"</button>
                        <button type="button" class="secondary" on:click=move |_| confirm_delete.set(None)>"Cancel"</button>
                    </div>
                })}
            </section>

            {move || {
                let r = run_view.get();
                (!r.label.is_empty()).then(|| {
                    let now = r.finished_ms.unwrap_or_else(js_sys::Date::now);
                    let status = if r.running { format!("{}: running…", r.label) } else { format!("{}: finished", r.label) };
                    view! {
                        <section aria-labelledby="progress-heading" class="card">
                            <h2 id="progress-heading">"Progress"</h2>
                            <p class="status" role="status">{status}</p>
                            <ul class="bars">
                                {r.endpoints.iter().map(|e| {
                                    let rate = e.rate(now);
                                    let label = format!("{} of {} ({} skipped, {} failed) · {:.0}/s",
                                        logic::thousands(e.done), logic::thousands(e.total),
                                        logic::thousands(e.skipped), logic::thousands(e.failed), rate);
                                    let id = format!("bar-{}", e.endpoint.replace('/', "-"));
                                    view! {
                                        <li class:failed={e.failed > 0} class:done={e.finished_ms.is_some()}>
                                            <label for=id.clone()><code>{e.endpoint.clone()}</code></label>
                                            <progress id=id max=e.total.max(1).to_string() value=e.done.to_string()></progress>
                                            <span class="counts">{label}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <details>
                                <summary>{format!("Log ({} messages)", r.logs.len())}</summary>
                                <ol class="log">
                                    {r.logs.iter().map(|(lvl, m)| view! { <li class=lvl.clone()>{format!("{lvl}: {m}")}</li> }).collect_view()}
                                </ol>
                            </details>
                        </section>
                    }
                })
            }}

            {move || results.get().map(|res| {
                let json = res.json.clone();
                view! {
                    <section aria-labelledby="results-heading" class="card">
                        <h2 id="results-heading">"Results"</h2>
                        {res.fatal.clone().map(|f| view! { <p class="error" role="alert">{f}</p> })}
                        <p class="summary">{res.summary.clone()}</p>
                        <div class="actions">
                            <button type="button" on:click=move |_| download("results.json", json.as_bytes(), "application/json")>"Download results"</button>
                        </div>
                        {(!res.counts.is_empty()).then(|| view! {
                            <table class="plan">
                                <caption>"Records by endpoint"</caption>
                                <thead><tr><th scope="col" class="num">"Records"</th><th scope="col">"Endpoint"</th></tr></thead>
                                <tbody>{res.counts.iter().filter(|(_, n)| !matches!(n, Ok(0))).map(|(e, n)| view! {
                                    <tr><td class="num">{match n { Ok(n) => logic::thousands(*n), Err(e) => e.clone() }}</td><td><code>{e.clone()}</code></td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        })}
                        {(!res.fetched.is_empty()).then(|| view! {
                            <h3>"Fetched files"</h3>
                            <ul class="fetched">{res.fetched.iter().map(|(path, n)| {
                                let p = path.clone();
                                view! { <li>
                                    <button type="button" class="link" on:click=move |_| {
                                        let bytes = fetched_store.with_value(|m| m.as_ref().and_then(|m| m.get(&p)));
                                        if let Some(b) = bytes {
                                            let name = p.rsplit('/').next().unwrap_or(&p).to_string();
                                            download(&name, &b, "application/x-ndjson");
                                        }
                                    }>{format!("Download {path}")}</button>
                                    {format!(" ({})", logic::human_bytes(*n as f64))}
                                </li> }
                            }).collect_view()}</ul>
                        })}
                        {(res.command != "count").then(|| view! {
                            <table class="plan">
                                <caption>"By endpoint"</caption>
                                <thead><tr><th scope="col">"Endpoint"</th><th scope="col" class="num">"Processed"</th><th scope="col" class="num">"Skipped"</th><th scope="col" class="num">"Failed"</th><th scope="col">"Statuses"</th></tr></thead>
                                <tbody>{res.endpoints.iter().map(|e| view! {
                                    <tr>
                                        <td><code>{e.endpoint.clone()}</code></td>
                                        <td class="num">{logic::thousands(e.processed)}</td>
                                        <td class="num">{logic::thousands(e.skipped)}</td>
                                        <td class="num">{logic::thousands(e.failed)}</td>
                                        <td>{e.statuses.iter().map(|(s, n)| if *n > 0 { format!("{s}: {}", logic::thousands(*n)) } else { format!("{s} (failed)") }).collect::<Vec<_>>().join(", ")}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        })}
                        {res.endpoints.iter().filter(|e| !e.failures.is_empty()).map(|e| view! {
                            <div class="failures">
                                <h3>{format!("{}: {} failed", e.endpoint, logic::thousands(e.failed))}</h3>
                                <ul>{e.failures.iter().map(|f| {
                                    let file = f.file.clone();
                                    let shown: Vec<u64> = f.lines.iter().copied().take(25).collect();
                                    let more = f.lines.len().saturating_sub(shown.len());
                                    view! {
                                        <li>
                                            <p><span class="badge">{f.kind.clone()}</span>" "<strong>{format!("×{}", f.count)}</strong>" "{f.message.clone()}</p>
                                            <p class="lines">{format!("{} line ", f.file)}
                                                {shown.into_iter().map(|n| {
                                                    let file = file.clone();
                                                    view! { <button type="button" class="link" aria-label=format!("Open line {n} of {file}")
                                                        on:click=move |_| open_line(file.clone(), n)>{n.to_string()}</button>" " }
                                                }).collect_view()}
                                                {(more > 0).then(|| format!("… and {more} more"))}
                                            </p>
                                        </li>
                                    }
                                }).collect_view()}</ul>
                            </div>
                        }).collect_view()}
                        {(!res.skips.is_empty()).then(|| view! {
                            <h3>"Skipped"</h3>
                            <ul>{res.skips.iter().map(|(ep, reason, file, lines)| view! {
                                <li>{format!("{ep}: ×{} {reason} [{file} line {}]", lines.len(),
                                    lines.iter().take(10).map(u64::to_string).collect::<Vec<_>>().join(", "))}</li>
                            }).collect_view()}</ul>
                        })}
                    </section>
                }
            })}

            {move || line_view.get().map(|l| view! {
                <section class="card lineview" role="dialog" aria-labelledby="line-heading">
                    <h2 id="line-heading">{format!("{} line {}", l.file, l.line)}</h2>
                    {match l.text {
                        Ok(t) => view! { <pre>{t}</pre> }.into_any(),
                        Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    }}
                    <button id="line-close" type="button" class="secondary" on:click=move |_| line_view.set(None)>"Close"</button>
                </section>
            })}

            <section aria-labelledby="saved-heading" class="card">
                <h2 id="saved-heading">"Saved in this browser"</h2>
                <p class="hint">"Hashes of sent payloads and cached API documents, kept in IndexedDB per API URL."</p>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| show_saved()>"Show saved state"</button>
                    <button type="button" class="secondary" on:click=move |_| clear_saved(true, false)>"Clear saved state"</button>
                    <button type="button" class="secondary" on:click=move |_| clear_saved(false, true)>"Clear cache"</button>
                </div>
                {move || saved.get().map(|s| match s {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok((state, cache)) => view! {
                        <table class="plan">
                            <caption>"Sent payloads remembered"</caption>
                            <thead><tr><th scope="col">"Endpoint"</th><th scope="col" class="num">"Payloads"</th></tr></thead>
                            <tbody>{state.into_iter().map(|(e, n)| view! {
                                <tr><td><code>{e}</code></td><td class="num">{logic::thousands(n as u64)}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                        <table class="plan">
                            <caption>"Cached documents"</caption>
                            <thead><tr><th scope="col">"Document"</th><th scope="col" class="num">"Age"</th><th scope="col" class="num">"Size"</th></tr></thead>
                            <tbody>{cache.into_iter().map(|(k, age, n)| view! {
                                <tr><td><code>{k}</code></td><td class="num">{format!("{:.1} h", age as f64 / 3600.0)}</td><td class="num">{logic::human_bytes(n as f64)}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                })}
            </section>
        </main>
        <footer><p class="hint">"lightbeam (Rust) — the same engine as the command-line tool, compiled to WebAssembly."</p></footer>
    }
}
