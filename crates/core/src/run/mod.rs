//! The commands, one entry point for all faces: a face describes a [`Job`], lends its
//! [`Ports`], and gets one [`RunOutcome`] back from [`run`]. Everything between (discovery and
//! OAuth, the dependency order, selectors, the data files and their plan, the API's model, the
//! command itself, the results) happens here, the same in the CLI and in the web app.
//!
//! The commands that act on payloads or records one at a time (`send`, `delete`, `truncate`)
//! share one [`scheduler`]; `count`, `fetch` and `create` page or scaffold; `validate` is in
//! [`crate::validate`].

pub mod changes;
pub mod count;
pub mod create;
pub mod delete;
mod error;
pub mod fetch;
mod order;
pub mod paging;
mod payloads;
pub mod scheduler;
pub mod send;
pub mod truncate;
pub mod validate;

pub use error::RunError;
pub use payloads::Payloads;

use crate::api::dependencies::Dependencies;
use crate::api::openapi::Model;
use crate::api::session::Session;
use crate::config::{Config, SendOrder};
use crate::data::plan::DataPlan;
use crate::data::selectors::select_endpoints;
use crate::ports::{
    Cache, Clock, Confirm, ConfirmRequest, DataSource, EventSink, Http, LogLevel, OutputFiles,
    StateStore,
};
use crate::results::{Command, RunMetadata, RunResults, EXIT_FATAL};
use crate::state::ResendFlags;
use crate::timestamps::local_iso;
use crate::validate::{ValidateOptions, Validation};
use count::CountRow;
use scheduler::SkipGroup;
use validate::ValidateSendOutcome;

/// What a face asks the engine to do: the command and its flags, as the user gave them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Job {
    pub command: Command,
    /// `-s`: endpoints to process (comma list, `*` wildcards); blank: all.
    pub selector: String,
    /// `-e`: endpoints to leave out.
    pub exclude: String,
    /// `-f`, `-o`, `-n`, `-r`.
    pub resend: ResendFlags,
    /// `-q` (a JSON object of GET parameters), `-k`, `-d`: what `fetch` gets and keeps.
    pub query: String,
    pub keep_keys: String,
    pub drop_keys: String,
    /// `--changes`, `--min-change-version`, `--max-change-version`: what `fetch` asks of change
    /// versions.
    pub changes: changes::Changes,
    /// `-w`: refetch what is cached.
    pub wipe_cache: bool,
    /// `--yes`: `delete` and `truncate` (with a selector) are confirmed beforehand.
    pub confirmed: bool,
    /// Threads for validation's per-line checks (1 in the browser).
    pub threads: usize,
    /// Where the run happens, for the results file: `working_dir`, `config_file`, `data_dir`.
    pub working_dir: String,
    pub config_file: String,
    pub data_dir: String,
}

/// What the engine reaches the world through. `output` receives `fetch`'s and `create`'s files.
pub struct Ports<'a> {
    pub http: &'a dyn Http,
    pub clock: &'a dyn Clock,
    pub events: &'a dyn EventSink,
    pub data: &'a dyn DataSource,
    pub state: Option<&'a dyn StateStore>,
    pub cache: Option<&'a dyn Cache>,
    pub output: &'a dyn OutputFiles,
    pub confirm: &'a dyn Confirm,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub command: Command,
    /// The results file's content (closed: `command`, `completed_at`, `runtime_sec` set).
    pub results: RunResults,
    /// `count`: records by endpoint, in dependency order.
    pub counts: Vec<CountRow>,
    /// `delete`: payloads skipped, by reason.
    pub skips: Vec<SkipGroup>,
    /// What stopped the run, if anything did.
    pub error: Option<RunError>,
}

impl RunOutcome {
    /// The error that makes the run fail as a whole (exit code 255): every error but a
    /// `validate+send` whose every payload failed validation (its results say so: exit 1).
    pub fn fatal(&self) -> Option<&RunError> {
        self.error.as_ref().filter(|e| !e.every_payload_failed())
    }

    /// The process exit code (the Python tool's rules; `strict`: 1 when any payload failed).
    pub fn exit_code(&self, strict: bool) -> i32 {
        match self.fatal() {
            Some(_) => EXIT_FATAL,
            None => self.results.exit_code(self.command, strict),
        }
    }
}

/// Runs a job to its end, or to the error that stops it.
pub async fn run(config: &Config, job: &Job, ports: &Ports<'_>) -> RunOutcome {
    let clock = ports.clock;
    let started_ms = clock.now_unix_ms();
    let mut outcome = RunOutcome {
        command: job.command,
        results: RunResults::new(RunMetadata {
            started_at: local_iso(started_ms, clock.utc_offset_seconds()),
            working_dir: job.working_dir.clone(),
            config_file: job.config_file.clone(),
            data_dir: job.data_dir.clone(),
            api_url: config.edfi_api.base_url.clone(),
            namespace: config.namespace.clone(),
            namespace_overrides: config.namespace_overrides.clone(),
        }),
        counts: Vec::new(),
        skips: Vec::new(),
        error: None,
    };
    let runner = Runner { config, job, ports };
    if let Err(e) = runner.run(&mut outcome).await {
        outcome.error = Some(e);
    }
    let finished_ms = clock.now_unix_ms();
    outcome.results.finish(
        job.command,
        local_iso(finished_ms, clock.utc_offset_seconds()),
        (finished_ms - started_ms) as f64 / 1000.0,
    );
    outcome
}

/// Connects to the API and plans the data of `source` for every endpoint: what a face shows
/// before a run (files by endpoint in dependency order, files that match no endpoint).
pub async fn preview(
    config: &Config,
    http: &dyn Http,
    clock: &dyn Clock,
    events: &dyn EventSink,
    source: &dyn DataSource,
) -> Result<(Dependencies, DataPlan), RunError> {
    let session = Session::connect(config, http, clock, events).await?;
    let deps = session.dependencies().await?;
    let plan = DataPlan::read(source, &deps, &deps.endpoints())
        .await
        .map_err(RunError::Listing)?;
    Ok((deps, plan))
}

struct Runner<'r> {
    config: &'r Config,
    job: &'r Job,
    ports: &'r Ports<'r>,
}

impl Runner<'_> {
    async fn run(&self, outcome: &mut RunOutcome) -> Result<(), RunError> {
        let (config, job, ports) = (self.config, self.job, self.ports);
        // the user's flags first: a typo is reported before anything is asked of the API
        let criteria = job.resend.criteria(ports.clock.utc_offset_seconds())?;
        let query = fetch::parse_query(&job.query)?;
        if job.wipe_cache {
            if let Some(cache) = ports.cache {
                cache.wipe().await;
                ports
                    .events
                    .log(LogLevel::Debug, "wiped the cached documents".into());
            }
        }
        let session = Session::connect(config, ports.http, ports.clock, ports.events).await?;
        let deps = session.dependencies().await?;
        let selected = select_endpoints(
            &deps.endpoints(),
            if job.selector.trim().is_empty() {
                "*"
            } else {
                &job.selector
            },
            &job.exclude,
        )?;
        let results = &mut outcome.results;
        match job.command {
            Command::Send | Command::Validate | Command::ValidateSend | Command::Delete => {
                let data = self.data(&deps, &selected).await?;
                let payloads = Payloads {
                    session: &session,
                    data: &data,
                    source: ports.data,
                    state: ports.state,
                    criteria: &criteria,
                };
                match job.command {
                    Command::Send => {
                        let model = self.send_model(&session).await;
                        send::send(&payloads, model.as_ref(), results).await
                    }
                    Command::Delete => {
                        let model = self.model(&session).await?;
                        let mut endpoints: Vec<String> =
                            data.endpoints().map(|p| p.endpoint.clone()).collect();
                        endpoints.reverse();
                        self.confirm(endpoints, false).await?;
                        outcome.skips = delete::delete(&payloads, &model, results).await?;
                        Ok(())
                    }
                    _ => self.validate(&payloads, results).await,
                }
            }
            Command::Truncate => {
                let levels = deps.levels_of(&selected);
                let mut endpoints: Vec<String> = levels.iter().flatten().cloned().collect();
                endpoints.reverse();
                self.confirm(endpoints, true).await?;
                let pager = paging::Pager::choose(&session, None, ports.cache).await;
                truncate::truncate(&session, &pager, &levels, ports.state, results).await
            }
            Command::Count => {
                outcome.counts = count::count(&session, &selected, results).await?;
                Ok(())
            }
            Command::Fetch => {
                let (window, mark) = self.change_window(&session, &selected, &query).await?;
                let options = fetch::FetchOptions {
                    page_size: fetch::page_size(&session),
                    query,
                    keep_keys: job.keep_keys.clone(),
                    drop_keys: job.drop_keys.clone(),
                    changes: window,
                };
                // the OpenAPI documents are needed to vet -q keys (and tell where the API offers
                // cursor paging: Pager::choose reads them then)
                let model = match options.query.is_empty() {
                    true => None,
                    false => Some(self.model(&session).await?),
                };
                let pager = paging::Pager::choose(&session, model.as_ref(), ports.cache).await;
                fetch::fetch(
                    &session,
                    &selected,
                    model.as_ref(),
                    &pager,
                    &options,
                    ports.output,
                    results,
                )
                .await?;
                self.keep_mark(&session, mark, results).await
            }
            Command::Create => {
                let model = self.model(&session).await?;
                create::create(&session, &model, &selected, ports.output).await?;
                Ok(())
            }
        }
    }

    /// The data files of the selected endpoints (unknown files are warned about).
    async fn data(&self, deps: &Dependencies, selected: &[String]) -> Result<DataPlan, RunError> {
        let source = self.ports.data;
        let data = DataPlan::read(source, deps, selected)
            .await
            .map_err(RunError::Listing)?;
        for u in &data.unmatched {
            self.ports.events.log(LogLevel::Warning, u.to_string());
        }
        if data.is_empty() {
            return Err(RunError::NoData {
                location: source.describe(),
            });
        }
        Ok(data)
    }

    /// The model record order needs (`send.order: records`); without it (the OpenAPI documents
    /// cannot be had) `send` goes level by level, as `send.order: levels` does.
    async fn send_model(&self, session: &Session<'_>) -> Option<Model> {
        if self.config.send.order != SendOrder::Records {
            return None;
        }
        match session.model(self.ports.cache).await {
            Ok(mut model) => {
                // record order needs the endpoints, not the schemas
                model.forget_documents();
                Some(model)
            }
            Err(e) => {
                session.log(
                    LogLevel::Warning,
                    format!("sending level by level (send.order: levels): {e}"),
                );
                None
            }
        }
    }

    /// The change versions `fetch` asks for, and for `--changes` the state's mark to keep (its
    /// key and the newest change version) once every page was read.
    async fn change_window(
        &self,
        session: &Session<'_>,
        selected: &[String],
        query: &[(String, String)],
    ) -> Result<(Option<changes::Window>, Option<(String, u64)>), RunError> {
        use changes::{Changes, ChangesError, Window};
        match self.job.changes {
            Changes::All => Ok((None, None)),
            Changes::Window { min, max } => {
                if let (Some(min), Some(max)) = (min, max) {
                    if min > max {
                        return Err(ChangesError::Empty { min, max }.into());
                    }
                }
                let window = Window {
                    min,
                    max,
                    deletes: true,
                };
                Ok((Some(window), None))
            }
            Changes::SinceLast => {
                let state = self.ports.state.ok_or(ChangesError::NoState)?;
                let key = changes::mark_key(session, selected, query);
                let last = state.mark(&key).await?.and_then(|v| v.parse::<u64>().ok());
                let newest = changes::newest_change_version(session).await?;
                session.log(
                    LogLevel::Info,
                    match last {
                        Some(v) => format!("the last fetch --changes of this selection fetched up to change version {v}"),
                        None => "no earlier fetch --changes of this selection: fetching every record".to_string(),
                    },
                );
                let window = Window {
                    min: last.map(|v| v + 1),
                    max: Some(newest),
                    deletes: last.is_some(),
                };
                Ok((Some(window), Some((key, newest))))
            }
        }
    }

    /// Keeps the newest change version of a `--changes` run in the state when every page was
    /// read (else the next run fetches the same window again).
    async fn keep_mark(
        &self,
        session: &Session<'_>,
        mark: Option<(String, u64)>,
        results: &RunResults,
    ) -> Result<(), RunError> {
        let (Some((key, newest)), Some(state)) = (mark, self.ports.state) else {
            return Ok(());
        };
        if results.totals().failed > 0 {
            session.log(
                LogLevel::Warning,
                format!("not all changes could be fetched: the next fetch --changes fetches them again (change version {newest} is not kept)"),
            );
            return Ok(());
        }
        state.set_mark(&key, &newest.to_string()).await?;
        session.log(
            LogLevel::Info,
            format!("kept change version {newest}: the next fetch --changes starts after it"),
        );
        Ok(())
    }

    /// The API's model, from its OpenAPI documents (through the cache).
    async fn model(&self, session: &Session<'_>) -> Result<Model, RunError> {
        Ok(session.model(self.ports.cache).await?)
    }

    /// Asks the user before `endpoints` lose data, unless `--yes` or `force_delete: true`
    /// answered already. Truncating the whole API (no selector) is confirmed only by typing
    /// `yes`. With nobody to ask, nothing is deleted.
    async fn confirm(&self, endpoints: Vec<String>, truncate: bool) -> Result<(), RunError> {
        let (job, config) = (self.job, self.config);
        let verb = if truncate { "truncate" } else { "delete" };
        let may_be_forced = !truncate || !job.selector.trim().is_empty();
        if may_be_forced && (job.confirmed || config.force_delete) {
            let why = if job.confirmed {
                "--yes"
            } else {
                "force_delete: true"
            };
            self.ports.events.log(
                LogLevel::Info,
                format!("{verb} of {} endpoints confirmed by {why}", endpoints.len()),
            );
            return Ok(());
        }
        let count = endpoints.len();
        let request = ConfirmRequest {
            endpoints,
            truncate,
        };
        match self.ports.confirm.ask(&request).await {
            None if may_be_forced => Err(RunError::Unconfirmed { verb }),
            None => Err(RunError::TruncateAllUnconfirmed { endpoints: count }),
            Some(answer) if answer.trim() == "yes" => Ok(()),
            Some(_) => Err(RunError::NotConfirmed),
        }
    }

    /// `validate` and `validate+send`.
    async fn validate(
        &self,
        payloads: &Payloads<'_, '_>,
        results: &mut RunResults,
    ) -> Result<(), RunError> {
        let session = payloads.session;
        let model = self.model(session).await?;
        let validation = Validation {
            config: self.config,
            model: &model,
            session: Some(session),
            events: self.ports.events,
            source: self.ports.data,
            cache: self.ports.cache,
            options: ValidateOptions::for_threads(self.job.threads),
        };
        if self.job.command == Command::Validate {
            return Ok(validation.run(payloads.data, results).await?);
        }
        match validate::validate_then_send(&validation, payloads, results).await? {
            ValidateSendOutcome::Sent => Ok(()),
            ValidateSendOutcome::NotSent { failed, processed } => {
                Err(RunError::NotSent { failed, processed })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Whole jobs through [`run`], every port in memory (the `testing` kit).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::config::LoadOptions;
    use crate::results::{EXIT_ALL_SKIPPED, EXIT_FAILED, EXIT_OK};
    use crate::testing::{block_on, Answer, FakeApi, FakeClock, MemFiles, MemState, Recorder};

    struct World {
        api: FakeApi,
        clock: FakeClock,
        events: Recorder,
        files: MemFiles,
        state: MemState,
        output: crate::ports::MemoryOutput,
        answer: Answer,
    }

    impl World {
        fn new(files: MemFiles, answer: Option<&str>) -> World {
            World {
                api: FakeApi::default(),
                clock: FakeClock::default(),
                events: Recorder::default(),
                files,
                state: MemState::default(),
                output: crate::ports::MemoryOutput::new(),
                answer: Answer::new(answer),
            }
        }

        fn run(&self, config: &Config, job: &Job) -> RunOutcome {
            let ports = Ports {
                http: &self.api,
                clock: &self.clock,
                events: &self.events,
                data: &self.files,
                state: Some(&self.state),
                cache: None,
                output: &self.output,
                confirm: &self.answer,
            };
            block_on(run(config, job, &ports))
        }
    }

    fn config(extra: &str) -> Config {
        let yaml = format!("{}{extra}", FakeApi::config_yaml(4));
        Config::from_yaml(&yaml, &LoadOptions::default()).expect("config")
    }

    fn job(command: Command) -> Job {
        Job {
            command,
            threads: 1,
            ..Job::default()
        }
    }

    #[test]
    fn a_send_job_sends_then_skips_with_the_exit_codes_of_the_python_tool() {
        let files = MemFiles::new()
            .with("students.jsonl", "{\"s\":1}\n{\"s\":2}\n")
            .with("staffs/a.jsonl", "{\"t\":1}\n")
            .with("notes.jsonl", "{}\n");
        let w = World::new(files, None);
        let config = config("");
        let first = w.run(&config, &job(Command::Send));
        assert!(first.error.is_none(), "{:?}", first.error);
        assert_eq!(first.results.totals().processed, 3);
        assert_eq!(first.exit_code(false), EXIT_OK);
        assert_eq!(first.results.command, "send");
        assert_eq!(w.api.posts.borrow().len(), 3);
        assert!(w
            .events
            .logs(crate::ports::LogLevel::Warning)
            .iter()
            .any(|l| l.contains("\"notes\" is not an endpoint of the API")));
        let again = w.run(&config, &job(Command::Send));
        assert_eq!(again.results.totals().skipped, 3);
        assert_eq!(again.exit_code(false), EXIT_ALL_SKIPPED);
        // a selector that matches no data file
        let mut only = job(Command::Send);
        only.selector = "studentSchoolAssociations".into();
        let none = w.run(&config, &only);
        assert_eq!(
            none.fatal().map(ToString::to_string).as_deref(),
            Some("the test files has no *.jsonl files for selected endpoints")
        );
    }

    #[test]
    fn resend_flags_are_read_by_the_engine() {
        let w = World::new(MemFiles::new().with("students.jsonl", "{}\n"), None);
        let mut j = job(Command::Send);
        j.resend.older_than = "last week".into();
        let outcome = w.run(&config(""), &j);
        assert!(matches!(outcome.fatal(), Some(RunError::Resend(_))));
        assert_eq!(outcome.exit_code(false), EXIT_FATAL);
        assert!(w.api.posts.borrow().is_empty());
    }

    #[test]
    fn truncate_asks_and_only_yes_confirms() {
        let config = config("");
        let mut j = job(Command::Truncate);
        // the whole API: nobody to ask, and --yes is not enough
        j.confirmed = true;
        let w = World::new(MemFiles::new(), None);
        let outcome = w.run(&config, &j);
        assert!(matches!(
            outcome.fatal(),
            Some(RunError::TruncateAllUnconfirmed { endpoints: 3 })
        ));
        let asked = w.answer.asked.borrow();
        assert_eq!(
            asked[0].endpoints,
            vec!["studentSchoolAssociations", "staffs", "students"],
            "in the order they are truncated: the dependency order reversed"
        );
        assert!(asked[0].truncate);
        // a selector: --yes answers
        j.selector = "students".into();
        let w = World::new(MemFiles::new(), Some("no"));
        assert!(!matches!(
            w.run(&config, &j).fatal(),
            Some(RunError::NotConfirmed)
        ));
        assert!(w.answer.asked.borrow().is_empty());
        // not confirmed beforehand: anything but "yes" stops it
        j.confirmed = false;
        let outcome = w.run(&config, &j);
        assert!(matches!(outcome.fatal(), Some(RunError::NotConfirmed)));
        let w = World::new(MemFiles::new(), None);
        assert_eq!(
            w.run(&config, &j).fatal().map(ToString::to_string).as_deref(),
            Some("refusing to truncate without confirmation: stdin is not a terminal to type \"yes\" on; pass --yes or set `force_delete: true` in the config")
        );
        // force_delete answers too
        let w = World::new(MemFiles::new(), None);
        let forced = w.run(&crate::run::tests::config("force_delete: true\n"), &j);
        assert!(forced.fatal().is_none(), "{:?}", forced.error);
    }

    #[test]
    fn count_failures_are_results_and_fetch_caps_its_page_size() {
        // the fake API answers every GET 201 without a Total-Count
        let w = World::new(MemFiles::new(), None);
        let mut j = job(Command::Count);
        j.selector = "students".into();
        let outcome = w.run(&config(""), &j);
        assert!(outcome.error.is_none());
        assert_eq!(outcome.counts.len(), 1);
        let failures = outcome.results.resources["students"].failures();
        assert_eq!(failures[0].kind.to_string(), "count");
        assert_eq!(failures[0].message, "error: no Total-Count header");
        assert_eq!(outcome.exit_code(false), EXIT_OK);
        assert_eq!(outcome.exit_code(true), EXIT_FAILED);
        let mut j = job(Command::Fetch);
        j.selector = "students".into();
        let outcome = w.run(&config("fetch:\n  page_size: 600\n"), &j);
        assert!(outcome.error.is_none());
        assert!(w.events.logs(crate::ports::LogLevel::Warning).contains(
            &"fetch.page_size 600 is more than the API's maximum of 500; fetching pages of 500"
                .to_string()
        ));
    }
}
