//! Runs the engine's commands in the browser: the same `send`, `delete`, `count`, `fetch` as the
//! CLI, over the browser's ports.

use super::clock::BrowserClock;
use super::files::{FileSource, PickedFile};
use super::http::FetchHttp;
use super::store::{Db, IdbCache, IdbState};
use lightbeam_core::api::dependencies::Dependencies;
use lightbeam_core::api::session::Session;
use lightbeam_core::config::Config;
use lightbeam_core::data::files::{discover, Discovery};
use lightbeam_core::data::selectors::select_endpoints;
use lightbeam_core::output::MemoryOutput;
use lightbeam_core::ports::{Cache, DataFile, EventSink, LogLevel, StateStore};
use lightbeam_core::results::{Command, FailureKind, RunMetadata, RunResults};
use lightbeam_core::run::count::{count, CountError};
use lightbeam_core::run::delete::delete;
use lightbeam_core::run::fetch::{fetch, parse_query, FetchOptions, MAX_PAGE_SIZE};
use lightbeam_core::run::send::{count_lines, plan_levels, send, EndpointPlan};
use lightbeam_core::state::ResendCriteria;
use lightbeam_core::validate::{
    validate_then_send, ValidateOptions, ValidateSendOutcome, Validation,
};
use std::rc::Rc;

/// A command the page can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Validate,
    ValidateSend,
    Send,
    Delete,
    Count,
    Fetch,
}

impl Op {
    pub fn command(self) -> Command {
        match self {
            Op::Validate => Command::Validate,
            Op::ValidateSend => Command::ValidateSend,
            Op::Send => Command::Send,
            Op::Delete => Command::Delete,
            Op::Count => Command::Count,
            Op::Fetch => Command::Fetch,
        }
    }

    /// Whether the command reads the dropped files.
    pub fn needs_files(self) -> bool {
        matches!(
            self,
            Op::Validate | Op::ValidateSend | Op::Send | Op::Delete
        )
    }
}

/// Everything a run needs from the page.
pub struct RunInput {
    pub config: Config,
    pub config_file: String,
    pub data_dir: String,
    /// Files with their paths relative to the data folder.
    pub files: Vec<PickedFile>,
    pub selector: String,
    pub exclude: String,
    pub criteria: ResendCriteria,
    pub track_state: bool,
    pub query: String,
    pub keep_keys: String,
    pub drop_keys: String,
    pub started_at: String,
    pub page_url: String,
}

/// What a run gives back.
pub struct RunOutput {
    pub results: RunResults,
    /// A fatal error (configuration, connection, credentials) with its one-line reason.
    pub fatal: Option<String>,
    /// `count`: records by endpoint (or the error text).
    pub counts: Vec<(String, Result<u64, String>)>,
    /// `fetch`: the files written.
    pub fetched: Option<MemoryOutput>,
    /// `delete`: skipped payloads (endpoint, reason, file, lines).
    pub skips: Vec<(String, String, String, Vec<u64>)>,
}

/// The data files matched to the API's endpoints.
pub fn discover_files(files: &[PickedFile], deps: &Dependencies) -> Discovery {
    let listing: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    discover(&listing, &deps.endpoints())
}

/// The selected endpoints with data files, by dependency level (files by their dropped path).
pub fn data_levels(
    deps: &Dependencies,
    selected: &[String],
    discovery: &Discovery,
) -> Vec<Vec<EndpointPlan>> {
    plan_levels(deps, selected, discovery, str::to_string)
}

/// One row of the plan shown before a run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub level: usize,
    pub endpoint: String,
    pub files: Vec<String>,
    pub lines: Option<u64>,
}

/// The API's dependency order (no credentials needed).
pub async fn dependencies(config: &Config, events: &dyn EventSink) -> Result<Dependencies, String> {
    let http = FetchHttp;
    let clock = BrowserClock;
    let session = Session::connect(config, &http, &clock, events)
        .await
        .map_err(|e| e.to_string())?;
    session.dependencies().await.map_err(|e| e.to_string())
}

/// Plan rows (dependency order) and unknown files; lines are counted by [`count_plan_lines`].
pub fn plan_rows(files: &[PickedFile], deps: &Dependencies) -> (Vec<PlanRow>, Vec<String>) {
    let discovery = discover_files(files, deps);
    let all = deps.endpoints();
    let levels = data_levels(deps, &all, &discovery);
    let mut rows = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        for plan in level {
            rows.push(PlanRow {
                level: i + 1,
                endpoint: plan.endpoint.clone(),
                files: plan.files.iter().map(|f| f.name.clone()).collect(),
                lines: None,
            });
        }
    }
    let unknown = discovery
        .unmatched()
        .iter()
        .map(|u| u.to_string())
        .collect();
    (rows, unknown)
}

/// The non-blank lines of one plan row's files.
pub async fn count_plan_lines(files: &[PickedFile], row: &PlanRow) -> Result<u64, String> {
    let source = FileSource::new(files.iter().map(|f| (f.path.clone(), f.file.clone())));
    let data: Vec<DataFile> = row
        .files
        .iter()
        .map(|n| DataFile {
            endpoint: row.endpoint.clone(),
            name: n.clone(),
        })
        .collect();
    count_lines(&source, &data).await.map_err(|e| e.to_string())
}

/// Runs a command to the end (or to its fatal error).
pub async fn run(op: Op, input: RunInput, events: &dyn EventSink) -> RunOutput {
    let config = &input.config;
    let mut out = RunOutput {
        results: RunResults::new(RunMetadata {
            started_at: input.started_at.clone(),
            working_dir: input.page_url.clone(),
            config_file: input.config_file.clone(),
            data_dir: input.data_dir.clone(),
            api_url: config.edfi_api.base_url.clone(),
            namespace: config.namespace.clone(),
            namespace_overrides: config.namespace_overrides.clone(),
        }),
        fatal: None,
        counts: Vec::new(),
        fetched: None,
        skips: Vec::new(),
    };
    if let Err(e) = run_inner(op, &input, events, &mut out).await {
        events.emit(lightbeam_core::ports::Event::Log {
            level: LogLevel::Critical,
            message: e.clone(),
        });
        out.fatal = Some(e);
    }
    out
}

async fn run_inner(
    op: Op,
    input: &RunInput,
    events: &dyn EventSink,
    out: &mut RunOutput,
) -> Result<(), String> {
    let config = &input.config;
    let http = FetchHttp;
    let clock = BrowserClock;
    let api_key = config.data_url();
    let db: Option<Rc<Db>> = match Db::open(&api_key).await {
        Ok(db) => Some(db),
        Err(e) => {
            events.emit(lightbeam_core::ports::Event::Log {
                level: LogLevel::Warning,
                message: format!("{e}; continuing without state and cache"),
            });
            None
        }
    };
    let state = match (&db, input.track_state) {
        (Some(db), true) => Some(IdbState::new(db.clone())),
        _ => None,
    };
    let cache = db.as_ref().map(|db| IdbCache::new(db.clone()));
    let state_port = state.as_ref().map(|s| s as &dyn StateStore);
    let cache_port = cache.as_ref().map(|c| c as &dyn Cache);
    let session = Session::connect(config, &http, &clock, events)
        .await
        .map_err(|e| e.to_string())?;
    let deps = session.dependencies().await.map_err(|e| e.to_string())?;
    let all = deps.endpoints();
    let sel = if input.selector.trim().is_empty() {
        "*"
    } else {
        input.selector.as_str()
    };
    let selected = select_endpoints(&all, sel, &input.exclude).map_err(|e| e.to_string())?;
    let mut all_files: Vec<DataFile> = Vec::new();
    let levels = if op.needs_files() {
        let discovery = discover_files(&input.files, &deps);
        all_files = discovery
            .files()
            .iter()
            .map(|f| DataFile {
                endpoint: f.endpoint.clone(),
                name: f.path.clone(),
            })
            .collect();
        for u in discovery.unmatched() {
            events.emit(lightbeam_core::ports::Event::Log {
                level: LogLevel::Warning,
                message: u.to_string(),
            });
        }
        let levels = data_levels(&deps, &selected, &discovery);
        if levels.iter().all(Vec::is_empty) {
            return Err(
                "the dropped files have no *.jsonl files for the selected endpoints".into(),
            );
        }
        levels
    } else {
        Vec::new()
    };
    let source = FileSource::new(input.files.iter().map(|f| (f.path.clone(), f.file.clone())));
    match op {
        Op::Validate | Op::ValidateSend => {
            let model = session.model(cache_port).await.map_err(|e| e.to_string())?;
            let validation = Validation {
                config,
                model: &model,
                session: Some(&session),
                events,
                source: &source,
                cache: cache_port,
                options: ValidateOptions::default(),
            };
            if op == Op::Validate {
                let endpoints: Vec<EndpointPlan> = levels.iter().flatten().cloned().collect();
                let outcome = validation
                    .run(&endpoints, &all_files, &mut out.results)
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(m) = outcome.stop_message() {
                    return Err(m);
                }
            } else {
                let outcome = validate_then_send(
                    &validation,
                    &session,
                    &levels,
                    &all_files,
                    state_port,
                    &input.criteria,
                    &mut out.results,
                )
                .await
                .map_err(|e| e.to_string())?;
                match outcome {
                    ValidateSendOutcome::Sent => {}
                    other => {
                        // nothing was sent: say why where the results are shown
                        out.fatal = other.message();
                    }
                }
            }
        }
        Op::Send => send(
            &session,
            &levels,
            &source,
            state_port,
            &input.criteria,
            &mut out.results,
        )
        .await
        .map_err(|e| e.to_string())?,
        Op::Delete => {
            let model = session.model(cache_port).await.map_err(|e| e.to_string())?;
            let report = delete(
                &session,
                &model,
                &levels,
                &source,
                state_port,
                &input.criteria,
                &mut out.results,
            )
            .await
            .map_err(|e| e.to_string())?;
            out.skips = report
                .skips
                .into_iter()
                .map(|s| (s.endpoint, s.reason, s.file, s.line_numbers))
                .collect();
        }
        Op::Count => {
            let rows = count(&session, &selected)
                .await
                .map_err(|e| e.to_string())?;
            for row in rows {
                if let Err(e) = &row.records {
                    let kind = match e {
                        CountError::Status { status, .. } => FailureKind::Status(*status),
                        CountError::NoTotalCount => FailureKind::Method("count".into()),
                        CountError::Transport(_) => FailureKind::Method("connection".into()),
                    };
                    let url = config.resource_url(&row.endpoint);
                    out.results.resource_mut(&row.endpoint).record_failure(
                        kind,
                        &[e.to_string()],
                        &url,
                        0,
                    );
                }
                out.counts
                    .push((row.endpoint, row.records.map_err(|e| e.to_string())));
            }
        }
        Op::Fetch => {
            let query = parse_query(&input.query).map_err(|e| e.to_string())?;
            let page_size = u64::from(config.fetch.page_size).min(MAX_PAGE_SIZE);
            let model = if query.is_empty() {
                None
            } else {
                Some(session.model(cache_port).await.map_err(|e| e.to_string())?)
            };
            let options = FetchOptions {
                page_size,
                query,
                keep_keys: input.keep_keys.clone(),
                drop_keys: input.drop_keys.clone(),
            };
            let files = MemoryOutput::new();
            let r = fetch(
                &session,
                &selected,
                model.as_ref(),
                &options,
                &files,
                &mut out.results,
            )
            .await;
            out.fetched = Some(files);
            r.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
