//! A run of the engine in the page: the job and the dropped files meet the browser's ports, and
//! `lightbeam_core::run` does the rest, as it does for the CLI.

use super::clock::BrowserClock;
use super::files::FileSource;
use super::http::FetchHttp;
use super::store::{Db, IdbCache, IdbState};
use lightbeam_core::api::dependencies::Dependencies;
use lightbeam_core::config::Config;
use lightbeam_core::data::lines::{self, ReadError};
use lightbeam_core::data::plan::DataPlan;
use lightbeam_core::ports::{
    Cache, Confirm, DataFile, EventSink, LogLevel, MemoryOutput, StateStore,
};
use lightbeam_core::run::{self, Job, Ports, RunError, RunOutcome};

/// What a run gives the page: the engine's outcome, and the files `fetch` wrote (offered as
/// downloads).
pub struct PageOutcome {
    pub outcome: RunOutcome,
    pub fetched: MemoryOutput,
}

/// Runs `job` over the dropped `files` to its end (or to the error that stops it). The state is
/// kept only when `track_state`; without IndexedDB the run goes on without state and cache.
pub async fn run(
    config: &Config,
    job: &Job,
    files: &FileSource,
    track_state: bool,
    events: &dyn EventSink,
    confirm: &dyn Confirm,
) -> PageOutcome {
    let (state, cache) = open_stores(config, track_state, events).await;
    let fetched = MemoryOutput::new();
    let ports = Ports {
        http: &FetchHttp,
        clock: &BrowserClock,
        events,
        data: files,
        state: state.as_ref().map(|s| s as &dyn StateStore),
        cache: cache.as_ref().map(|c| c as &dyn Cache),
        output: &fetched,
        confirm,
    };
    let outcome = run::run(config, job, &ports).await;
    if let Some(e) = outcome.fatal() {
        events.log(LogLevel::Critical, e.to_string());
    }
    PageOutcome { outcome, fetched }
}

/// The state (when tracked) and the cache of the API, in IndexedDB.
async fn open_stores(
    config: &Config,
    track_state: bool,
    events: &dyn EventSink,
) -> (Option<IdbState>, Option<IdbCache>) {
    match Db::open(&config.data_url()).await {
        Ok(db) => (
            track_state.then(|| IdbState::new(db.clone())),
            Some(IdbCache::new(db)),
        ),
        Err(e) => {
            events.log(
                LogLevel::Warning,
                format!("{e}; continuing without state and cache"),
            );
            (None, None)
        }
    }
}

/// The API's endpoints and the plan of the dropped files (what the page shows before a run).
pub async fn preview(
    config: &Config,
    files: &FileSource,
    events: &dyn EventSink,
) -> Result<(Dependencies, DataPlan), RunError> {
    run::preview(config, &FetchHttp, &BrowserClock, events, files).await
}

/// The payload lines of some dropped files.
pub async fn count_lines(files: &FileSource, data: &[DataFile]) -> Result<u64, ReadError> {
    lines::count_lines(files, data).await
}
