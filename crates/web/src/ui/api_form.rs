//! The API panel: the config form (or a loaded `lightbeam.yaml`), validated by the
//! core with the CLI's messages, remembered on this device (the secret only when asked to).

use crate::browser::page::{
    current_year, fetch_text, file_text, input_files, local_storage, query_param,
};
use crate::logic::form::{self, ConfigForm, FormError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use lightbeam_core::config::Config;

const STORAGE_KEY: &str = "lightbeam.form";
const REMEMBER_KEY: &str = "lightbeam.remember";

/// The API settings the other panels read: the form, its error, where it came from, and
/// whether sent payloads are remembered.
#[derive(Clone, Copy)]
pub struct ApiState {
    pub form: RwSignal<ConfigForm>,
    pub error: RwSignal<Option<FormError>>,
    /// The loaded config file's name, `(form)` when typed.
    pub config_file: RwSignal<String>,
    pub track_state: RwSignal<bool>,
}

impl ApiState {
    pub fn new() -> Self {
        ApiState {
            form: RwSignal::new(ConfigForm::default()),
            error: RwSignal::new(None),
            config_file: RwSignal::new(String::from("(form)")),
            track_state: RwSignal::new(true),
        }
    }

    /// The validated config; when the form is not valid, its error is shown and `None` returned.
    pub fn config(self) -> Option<Config> {
        let checked = self.form.with_untracked(|f| f.to_config(current_year()));
        match checked {
            Ok(c) => {
                self.error.set(None);
                Some(c)
            }
            Err(e) => {
                self.error.set(Some(e));
                None
            }
        }
    }

    /// Fills the form from a config file's text; whether it was a valid config.
    fn load(self, notice: RwSignal<String>, name: &str, text: &str) -> bool {
        match form::load_config_file(name, text, current_year()) {
            Ok(cfg) => {
                self.form.set(ConfigForm::from_config(&cfg));
                self.error.set(None);
                self.config_file.set(name.to_string());
                notice.set(format!("loaded {name}"));
                true
            }
            Err(e) => {
                self.error.set(Some(e));
                false
            }
        }
    }

    /// The remembered form (the secret only if the user ticked "remember"), then what the
    /// page's address gives: `?api=`, `?client_id=`, `?mode=`, `?config=` (a file of the site).
    fn restore(self, remember: RwSignal<bool>, notice: RwSignal<String>) {
        if let Some(storage) = local_storage() {
            let rem = storage.get_item(REMEMBER_KEY).ok().flatten().as_deref() == Some("1");
            remember.set(rem);
            let stored = storage.get_item(STORAGE_KEY).ok().flatten();
            if let Some(f) = stored.and_then(|t| ConfigForm::from_storage(&t)) {
                self.form.set(if rem { f } else { f.without_secret() });
            }
        }
        if let Some(api) = query_param("api") {
            self.form.update(|f| f.base_url = api);
        }
        if let Some(id) = query_param("client_id") {
            self.form.update(|f| f.client_id = id);
        }
        if let Some(mode) = query_param("mode") {
            self.form.update(|f| f.mode = mode);
        }
        if let Some(url) = query_param("config") {
            spawn_local(async move {
                match fetch_text(&url).await {
                    Err(e) => notice.set(format!("could not load {url}: {e}")),
                    Ok(text) => {
                        self.load(notice, &url, &text);
                    }
                }
            });
        }
    }
}

impl Default for ApiState {
    fn default() -> Self {
        Self::new()
    }
}

/// Keeps the form on this device whenever it changes; the secret only when asked to.
fn remember_form(api: ApiState, remember: RwSignal<bool>) {
    Effect::new(move |_| {
        let f = api.form.get();
        let rem = remember.get();
        if let Some(storage) = local_storage() {
            let kept = if rem { f } else { f.without_secret() };
            let _ = storage.set_item(STORAGE_KEY, &kept.to_storage());
            let _ = storage.set_item(REMEMBER_KEY, if rem { "1" } else { "0" });
        }
    });
}

type Getter = fn(&ConfigForm) -> &String;
type Setter = fn(&mut ConfigForm) -> &mut String;

/// A text field of the config form.
struct TextField {
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    get: Getter,
    set: Setter,
}

/// A labelled text field, marked invalid when the form's error is about it.
fn text_field(api: ApiState, field: TextField) -> impl IntoView {
    let TextField {
        id,
        label,
        kind,
        hint,
        get,
        set,
    } = field;
    let invalid = move || {
        api.error
            .with(|e| e.as_ref().and_then(|e| e.field) == Some(id))
    };
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
                prop:value=move || api.form.with(|f| get(f).clone())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    api.form.update(|f| *set(f) = v);
                    api.error.set(None);
                }
            />
            <small id=format!("{id}-hint") class="hint">{hint}</small>
        </div>
    }
}

/// The API panel. `on_check` runs when the settings should be tried (Check connection, a
/// loaded config file).
#[component]
pub fn ApiPanel(api: ApiState, notice: RwSignal<String>, on_check: Callback<()>) -> impl IntoView {
    let remember = RwSignal::new(false);
    api.restore(remember, notice);
    remember_form(api, remember);
    let on_config_file = move |ev: web_sys::Event| {
        let Some(p) = input_files(&ev).into_iter().next() else {
            return;
        };
        spawn_local(async move {
            let name = p.file.name();
            match file_text(&p.file).await {
                Err(e) => notice.set(format!("could not read {name}: {e}")),
                Ok(text) => {
                    if api.load(notice, &name, &text) {
                        on_check.run(());
                    }
                }
            }
        });
    };
    view! {
        <section aria-labelledby="api-heading" class="card">
            <h2 id="api-heading">"1. API"</h2>
            <div class="row">
                <div class="field">
                    <label for="config-file">"Load a lightbeam.yaml"</label>
                    <input id="config-file" type="file" accept=".yaml,.yml,text/yaml" on:change=on_config_file />
                    <small class="hint">{move || format!("config: {}", api.config_file.get())}</small>
                </div>
            </div>
            <form class="grid" novalidate=true on:submit=move |ev| { ev.prevent_default(); on_check.run(()); }>
                <ConfigFields api=api />
                <div class="field wide checks">
                    <input id="remember" type="checkbox" prop:checked=move || remember.get()
                        on:change=move |ev| remember.set(event_target_checked(&ev)) />
                    <label for="remember">"Remember the client secret on this device"</label>
                    <input id="track_state" type="checkbox" prop:checked=move || api.track_state.get()
                        on:change=move |ev| api.track_state.set(event_target_checked(&ev)) />
                    <label for="track_state">"Remember sent payloads in this browser (skip them next time)"</label>
                </div>
                <div class="field wide">
                    <button type="submit" class="secondary">"Check connection"</button>
                </div>
            </form>
            {move || api.error.get().map(|e| view! {
                <p id="config-error" class="error" role="alert">{e.message}</p>
            })}
        </section>
    }
}

/// The fields of the config, in the order of a `lightbeam.yaml`.
#[component]
fn ConfigFields(api: ApiState) -> impl IntoView {
    let modes = form::modes();
    let overrides_invalid = move || {
        api.error
            .with(|e| e.as_ref().and_then(|e| e.field) == Some("namespace_overrides"))
    };
    view! {
        {text_field(api, TextField { id: "base_url", label: "Base URL", kind: "url", hint: "e.g. https://api.example.org/v7", get: |f| &f.base_url, set: |f| &mut f.base_url })}
        {text_field(api, TextField { id: "client_id", label: "Client ID", kind: "text", hint: "OAuth client (key)", get: |f| &f.client_id, set: |f| &mut f.client_id })}
        {text_field(api, TextField { id: "client_secret", label: "Client secret", kind: "password", hint: "kept in memory only, unless remembered below", get: |f| &f.client_secret, set: |f| &mut f.client_secret })}
        <div class="field">
            <label for="mode">"Mode"</label>
            <select id="mode" name="mode"
                on:change=move |ev| { let v = event_target_value(&ev); api.form.update(|f| f.mode = v); }
                prop:value=move || api.form.with(|f| f.mode.clone())>
                {modes.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
            </select>
            <small class="hint">"as edfi_api.mode"</small>
        </div>
        {text_field(api, TextField { id: "year", label: "Year", kind: "text", hint: "year_specific modes (default: this year)", get: |f| &f.year, set: |f| &mut f.year })}
        {text_field(api, TextField { id: "instance_code", label: "Instance code", kind: "text", hint: "instance_year_specific only", get: |f| &f.instance_code, set: |f| &mut f.instance_code })}
        {text_field(api, TextField { id: "namespace", label: "Namespace", kind: "text", hint: "default ed-fi", get: |f| &f.namespace, set: |f| &mut f.namespace })}
        <div class="field wide">
            <label for="namespace_overrides">"Namespace overrides"</label>
            <textarea id="namespace_overrides" rows="2" spellcheck="false"
                aria-describedby="namespace_overrides-hint"
                aria-invalid=move || if overrides_invalid() { "true" } else { "false" }
                prop:value=move || api.form.with(|f| f.namespace_overrides.clone())
                on:input=move |ev| { let v = event_target_value(&ev); api.form.update(|f| f.namespace_overrides = v); }></textarea>
            <small id="namespace_overrides-hint" class="hint">"one line per namespace: tpdm: candidates, evaluations"</small>
        </div>
        {text_field(api, TextField { id: "pool_size", label: "Pool size", kind: "text", hint: "requests in flight (the browser allows 6 per origin over HTTP/1.1)", get: |f| &f.pool_size, set: |f| &mut f.pool_size })}
        {text_field(api, TextField { id: "num_retries", label: "Retries", kind: "text", hint: "per request (429, 5xx, timeouts)", get: |f| &f.num_retries, set: |f| &mut f.num_retries })}
        {text_field(api, TextField { id: "timeout", label: "Timeout (s)", kind: "text", hint: "for a whole request", get: |f| &f.timeout, set: |f| &mut f.timeout })}
    }
}
