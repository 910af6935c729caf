//! The Progress panel: a bar per endpoint (done of total, skipped, failed, rate) and the log.

use crate::logic::progress::Progress;
use leptos::prelude::*;

#[component]
pub fn ProgressPanel(progress: RwSignal<Progress>) -> impl IntoView {
    move || {
        let r = progress.get();
        r.started().then(|| {
            let now = r.finished_ms.unwrap_or_else(js_sys::Date::now);
            view! {
                <section aria-labelledby="progress-heading" class="card">
                    <h2 id="progress-heading">"Progress"</h2>
                    <p class="status" role="status">{r.status()}</p>
                    {r.pushback.clone().map(|text| view! { <p class="pushback" role="status">{text}</p> })}
                    <ul class="bars">
                        {r.endpoints.iter().map(|e| {
                            let id = e.bar_id();
                            view! {
                                <li class:failed={e.failed > 0} class:done={e.finished_ms.is_some()}>
                                    <label for=id.clone()><code>{e.endpoint.clone()}</code></label>
                                    <progress id=id max=e.total.max(1).to_string() value=e.done.to_string()></progress>
                                    <span class="counts">{e.label(now)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <details>
                        <summary>{r.log_title()}</summary>
                        <ol class="log">
                            {r.logs.iter().map(|l| view! { <li class=l.level.clone()>{l.text()}</li> }).collect_view()}
                        </ol>
                    </details>
                </section>
            }
        })
    }
}
