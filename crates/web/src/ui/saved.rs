//! The "Saved in this browser" panel: the state and the cache of the API in IndexedDB, shown
//! and cleared.

use super::api_form::ApiState;
use crate::browser::store::Db;
use crate::logic::saved::{cleared_notice, SavedSummary};
use leptos::prelude::*;
use leptos::task::spawn_local;
use lightbeam_core::ports::StoreError;

#[component]
pub fn SavedPanel(api: ApiState, notice: RwSignal<String>) -> impl IntoView {
    let saved = RwSignal::new(Option::<Result<SavedSummary, StoreError>>::None);
    let show = move || {
        let Some(config) = api.config() else { return };
        spawn_local(async move {
            let summary = match Db::open(&config.data_url()).await {
                Ok(db) => db.summary().await,
                Err(e) => Err(e),
            };
            saved.set(Some(summary));
        });
    };
    let clear = move |state: bool, cache: bool| {
        let Some(config) = api.config() else { return };
        spawn_local(async move {
            let cleared = match Db::open(&config.data_url()).await {
                Ok(db) => db.clear(state, cache).await,
                Err(e) => Err(e),
            };
            match cleared {
                Ok(()) => {
                    notice.set(cleared_notice(state, cache).into());
                    show();
                }
                Err(e) => notice.set(e.to_string()),
            }
        });
    };
    view! {
        <section aria-labelledby="saved-heading" class="card">
            <h2 id="saved-heading">"Saved in this browser"</h2>
            <p class="hint">"Hashes of sent payloads and cached API documents, kept in IndexedDB per API URL."</p>
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| show()>"Show saved state"</button>
                <button type="button" class="secondary" on:click=move |_| clear(true, false)>"Clear saved state"</button>
                <button type="button" class="secondary" on:click=move |_| clear(false, true)>"Clear cache"</button>
            </div>
            {move || saved.get().map(|s| match s {
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                Ok(summary) => view! { <SavedTables summary=summary /> }.into_any(),
            })}
        </section>
    }
}

/// The payloads remembered per endpoint and the cached documents.
#[component]
fn SavedTables(summary: SavedSummary) -> impl IntoView {
    view! {
        <table class="plan">
            <caption>"Sent payloads remembered"</caption>
            <thead><tr><th scope="col">"Endpoint"</th><th scope="col" class="num">"Payloads"</th></tr></thead>
            <tbody>{summary.state_rows().into_iter().map(|(e, n)| view! {
                <tr><td><code>{e}</code></td><td class="num">{n}</td></tr>
            }).collect_view()}</tbody>
        </table>
        <table class="plan">
            <caption>"Cached documents"</caption>
            <thead><tr><th scope="col">"Document"</th><th scope="col" class="num">"Age"</th><th scope="col" class="num">"Size"</th></tr></thead>
            <tbody>{summary.cache.iter().map(|d| view! {
                <tr><td><code>{d.key.clone()}</code></td><td class="num">{d.age_text()}</td><td class="num">{d.size_text()}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}
