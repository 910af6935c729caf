//! The Results panel: the summary and what stopped the run, the results file and fetched files as
//! downloads, counts, statuses per endpoint, failures with their lines (a click opens the line),
//! skipped payloads; and the line viewer.

use super::data_files::DroppedFiles;
use super::output::RunOutput;
use crate::browser::files::LineViewError;
use crate::browser::page::{download, focus};
use crate::logic::files::download_name;
use crate::logic::format::{human_bytes, pretty_json, thousands};
use crate::logic::results::{EndpointResult, FailureView, ResultsView};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// A line of a dropped file, opened from a failure.
#[derive(Debug, Clone)]
struct LineView {
    file: String,
    line: u64,
    text: Result<String, LineViewError>,
}

/// Opens lines of the dropped files in the line viewer.
#[derive(Clone, Copy)]
struct LineOpener {
    files: DroppedFiles,
    shown: RwSignal<Option<LineView>>,
}

impl LineOpener {
    fn open(self, file: String, line: u64) {
        let source = self.files.source();
        spawn_local(async move {
            let text = source.line(&file, line).await.map(|t| pretty_json(&t));
            self.shown.set(Some(LineView { file, line, text }));
            focus("line-close");
        });
    }
}

#[component]
pub fn ResultsPanel(output: RunOutput, files: DroppedFiles) -> impl IntoView {
    let opener = LineOpener {
        files,
        shown: RwSignal::new(None),
    };
    view! {
        {move || output.results.get().map(|res| view! { <Results res=res output=output opener=opener /> })}
        <LineViewer shown=opener.shown />
    }
}

#[component]
fn Results(res: ResultsView, output: RunOutput, opener: LineOpener) -> impl IntoView {
    let json = res.json.clone();
    view! {
        <section aria-labelledby="results-heading" class="card">
            <h2 id="results-heading">"Results"</h2>
            {res.error.clone().map(|f| view! { <p class="error" role="alert">{f}</p> })}
            <p class="summary">{res.summary.clone()}</p>
            <div class="actions">
                <button type="button" on:click=move |_| download("results.json", json.as_bytes(), "application/json")>"Download results"</button>
            </div>
            {res.counts.clone().map(|counts| view! { <Counts counts=counts /> })}
            {(!res.fetched.is_empty()).then(|| view! { <Fetched fetched=res.fetched.clone() output=output /> })}
            {res.shows_endpoints().then(|| view! { <ByEndpoint endpoints=res.endpoints.clone() /> })}
            {res.endpoints.iter().filter(|e| !e.failures.is_empty()).map(|e| view! {
                <Failures endpoint=e.clone() opener=opener />
            }).collect_view()}
            {(!res.skips.is_empty()).then(|| view! {
                <h3>"Skipped"</h3>
                <ul>{res.skips.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
            })}
        </section>
    }
}

/// `count`: records by endpoint.
#[component]
fn Counts(counts: Vec<(String, String)>) -> impl IntoView {
    view! {
        <table class="plan">
            <caption>"Records by endpoint"</caption>
            <thead><tr><th scope="col" class="num">"Records"</th><th scope="col">"Endpoint"</th></tr></thead>
            <tbody>{counts.into_iter().map(|(e, n)| view! {
                <tr><td class="num">{n}</td><td><code>{e}</code></td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// `fetch`: the files written, as downloads.
#[component]
fn Fetched(fetched: Vec<(String, usize)>, output: RunOutput) -> impl IntoView {
    view! {
        <h3>"Fetched files"</h3>
        <ul class="fetched">{fetched.into_iter().map(|(path, n)| {
            let label = format!("Download {path}");
            view! { <li>
                <button type="button" class="link" on:click=move |_| {
                    let bytes = output.fetched.with_value(|m| m.as_ref().and_then(|m| m.get(&path)));
                    if let Some(b) = bytes {
                        download(download_name(&path), &b, "application/x-ndjson");
                    }
                }>{label}</button>
                {format!(" ({})", human_bytes(n as f64))}
            </li> }
        }).collect_view()}</ul>
    }
}

/// Processed, skipped, failed and statuses per endpoint.
#[component]
fn ByEndpoint(endpoints: Vec<EndpointResult>) -> impl IntoView {
    view! {
        <table class="plan">
            <caption>"By endpoint"</caption>
            <thead><tr><th scope="col">"Endpoint"</th><th scope="col" class="num">"Processed"</th><th scope="col" class="num">"Skipped"</th><th scope="col" class="num">"Failed"</th><th scope="col">"Statuses"</th></tr></thead>
            <tbody>{endpoints.iter().map(|e| view! {
                <tr>
                    <td><code>{e.endpoint.clone()}</code></td>
                    <td class="num">{thousands(e.processed)}</td>
                    <td class="num">{thousands(e.skipped)}</td>
                    <td class="num">{thousands(e.failed)}</td>
                    <td>{e.statuses_text()}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// One endpoint's failures, grouped by message, with their lines.
#[component]
fn Failures(endpoint: EndpointResult, opener: LineOpener) -> impl IntoView {
    view! {
        <div class="failures">
            <h3>{endpoint.failures_heading()}</h3>
            <ul>{endpoint.failures.into_iter().map(|f| view! { <Failure f=f opener=opener /> }).collect_view()}</ul>
        </div>
    }
}

#[component]
fn Failure(f: FailureView, opener: LineOpener) -> impl IntoView {
    let links = f
        .shown_lines()
        .iter()
        .map(|&n| {
            let file = f.file.clone();
            let label = format!("Open line {n} of {file}");
            view! { <button type="button" class="link" aria-label=label
            on:click=move |_| opener.open(file.clone(), n)>{n.to_string()}</button>" " }
        })
        .collect_view();
    view! {
        <li>
            <p><span class="badge">{f.kind.clone()}</span>" "<strong>{format!("×{}", f.count)}</strong>" "{f.message.clone()}</p>
            <p class="lines">{format!("{} line ", f.file)}
                {links}
                {f.more_lines()}
            </p>
        </li>
    }
}

/// A line of a dropped file, pretty-printed.
#[component]
fn LineViewer(shown: RwSignal<Option<LineView>>) -> impl IntoView {
    move || {
        shown.get().map(|l| view! {
        <section class="card lineview" role="dialog" aria-labelledby="line-heading">
            <h2 id="line-heading">{format!("{} line {}", l.file, l.line)}</h2>
            {match l.text {
                Ok(t) => view! { <pre>{t}</pre> }.into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            }}
            <button id="line-close" type="button" class="secondary" on:click=move |_| shown.set(None)>"Close"</button>
        </section>
    })
    }
}
