//! `validate`: every check of the Python tool, on lines streamed from the data files.
//!
//! - invalid JSON, always (and a line that is not UTF-8, or a payload that is not an object);
//! - `schema`: JSON Schema draft 4 from the OpenAPI documents, the Python tool's message;
//! - `descriptors`: every `...Descriptor` value must be `uri://namespace#codeValue` and exist
//!   in the local descriptor files or in the API (fetched once, cached for a month);
//! - `uniqueness`: identity keys (`x-Ed-Fi-isIdentity`) unique across the endpoint's lines and
//!   inside each payload's collections, reported at the repeat with the first one's line;
//! - `references`: every reference resolves in local data or, unless
//!   `validate.references.remote` is false, in the API (GET, `pool_size` in flight, answers
//!   kept for the run); `validate.references.selector`/`behavior` choose which are checked and
//!   `max_failures` stops the run early.
//!
//! Lines are read in batches. The checks of a line that need only read-only knowledge run on
//! [`ValidateOptions::threads`] threads (one in wasm32); uniqueness across lines, remote
//! lookups and the results are then done in line order, so the outcome does not depend on the
//! number of threads. Memory holds one batch, the identity keys of the endpoint being validated
//! (about 40 bytes each) and the keys of referenced local records (about 20 bytes each).

pub mod check;
pub mod descriptors;
pub mod keys;
pub mod references;
pub mod schema;
pub mod shape;
#[cfg(test)]
mod tests;

use crate::api::openapi::Model;
use crate::api::session::{Session, SessionError};
use crate::config::{Config, ReferenceBehavior, ValidationMethod};
use crate::data::lines::{count_lines, file_lines, FileLine, OwnedLine, ReadError};
use crate::data::plan::{DataPlan, EndpointPlan};
use crate::ports::{Cache, DataFile, DataSource, Event, EventSink, LogLevel};
use crate::results::{ResourceResults, RunResults};
use check::{par_map, EndpointChecker, LineCheck, Methods};
use descriptors::DescriptorIndex;
use futures::stream::{self, StreamExt};
use keys::{record_key, KeyMap, KeySet};
use references::{LocalIndexes, RemoteAnswer, RemoteCache};
use schema::SchemaCheck;
use shape::{IdentitySpec, RefGroups, ReferenceSelection, Shape};
use std::collections::HashSet;

/// What stops a validation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ValidateError {
    /// The API, for descriptor values and remote references.
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Read(#[from] ReadError),
    /// `validate.references.max_failures` was reached (the Python tool's message).
    #[error("... STOPPING; found {failures} >= validate.references.max_failures={max_failures} VALIDATION ERRORS.")]
    Stopped { failures: u64, max_failures: u64 },
}

/// How validation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Threads for the per-line checks (natively; always one in wasm32).
    pub threads: usize,
    /// Lines read and checked together.
    pub batch_lines: usize,
}

impl ValidateOptions {
    /// `threads` threads (at least 1), with batches big enough to keep them busy.
    pub fn for_threads(threads: usize) -> ValidateOptions {
        let threads = threads.max(1);
        if threads == 1 {
            return ValidateOptions::default();
        }
        ValidateOptions {
            threads,
            batch_lines: (2048 * threads).clamp(4096, 65_536),
        }
    }
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            threads: 1,
            batch_lines: 4096,
        }
    }
}

const LINE_MASK: u64 = (1 << 48) - 1;

/// How many failures are shown as they are found, per endpoint (the Python tool's number).
pub const FAILURES_SHOWN: u64 = 10;

/// A validation run and what it reads.
pub struct Validation<'a, 's> {
    pub config: &'a Config,
    pub model: &'a Model,
    /// The API, for descriptor values and remote references; `None` validates with local data
    /// only.
    pub session: Option<&'a Session<'s>>,
    pub events: &'a dyn EventSink,
    pub source: &'a dyn DataSource,
    /// Where the API's descriptor values are cached.
    pub cache: Option<&'a dyn Cache>,
    pub options: ValidateOptions,
}

/// The per-endpoint state of the in-order part.
struct EndpointRun {
    /// identity → where first seen: file index (high 16 bits) and line number (low 48 bits)
    seen: KeyMap<u64>,
    files: Vec<String>,
    failed: u64,
    shown: u64,
    done: u64,
}

/// What a validation keeps from one endpoint to the next.
struct RunState {
    /// The API's answers to reference lookups (asked once per run).
    remote: RemoteCache,
    /// Whether references not found locally are looked up in the API.
    remote_on: bool,
    /// Lines failed so far (for `validate.references.max_failures`).
    failures: u64,
}

/// What an endpoint's lines are checked with.
struct EndpointChecks {
    schema: Option<SchemaCheck>,
    shape: Shape,
    identity: Option<IdentitySpec>,
    schema_name: String,
}

impl Validation<'_, '_> {
    fn log(&self, level: LogLevel, message: impl Into<String>) {
        self.events.emit(Event::Log {
            level,
            message: message.into(),
        });
    }

    fn methods(&self) -> Methods {
        let m = &self.config.validate.methods;
        Methods {
            schema: m.contains(ValidationMethod::Schema),
            descriptors: m.contains(ValidationMethod::Descriptors),
            uniqueness: m.contains(ValidationMethod::Uniqueness),
            references: m.contains(ValidationMethod::References),
        }
    }

    /// The model endpoint of a data endpoint (`students` in its configured namespace).
    fn model_endpoint(&self, endpoint: &str) -> Option<usize> {
        self.model
            .find(self.config.namespace_for(endpoint), endpoint)
    }

    /// Validates the endpoints of `data` (in dependency order) into `results`; local descriptor
    /// values and referenced records are read from any of its files. Stops with
    /// [`ValidateError::Stopped`] at `validate.references.max_failures` failed lines.
    pub async fn run(
        &self,
        data: &DataPlan,
        results: &mut RunResults,
    ) -> Result<(), ValidateError> {
        let methods = self.methods();
        let names: Vec<&str> = self
            .config
            .validate
            .methods
            .0
            .iter()
            .map(|m| m.as_str())
            .collect();
        self.log(
            LogLevel::Info,
            format!(
                "validating by methods {}...",
                crate::pycompat::str_list_repr(&names)
            ),
        );
        let refs_config = &self.config.validate.references;
        if methods.references && !refs_config.remote {
            self.log(
                LogLevel::Info,
                "(references will only be validated against local data, since `config.validate.references.remote: False`)",
            );
        }
        let selection = ReferenceSelection {
            selector: refs_config.selector.clone(),
            include: refs_config.behavior == ReferenceBehavior::Include,
        };
        if refs_config.max_failures == Some(0) {
            return Err(ValidateError::Stopped {
                failures: 0,
                max_failures: 0,
            });
        }
        let groups = RefGroups::new(self.model);
        let descriptors = match methods.descriptors {
            true => Some(self.load_descriptors(&data.files).await?),
            false => None,
        };
        let mut local = LocalIndexes::default();
        let mut run = RunState {
            remote: RemoteCache::default(),
            remote_on: refs_config.remote && self.session.is_some(),
            failures: 0,
        };
        for plan in data.endpoints() {
            let checks = self.endpoint_checks(plan, methods, &groups, &selection);
            let is_descriptor = plan.endpoint.ends_with("Descriptors");
            if methods.references && !is_descriptor {
                self.index_targets(&checks.shape, &groups, &data.files, &mut local)
                    .await?;
            }
            let checker = EndpointChecker {
                endpoint: plan.endpoint.clone(),
                methods,
                schema: checks.schema,
                shape: checks.shape,
                identity: checks.identity.filter(|i| !i.fields.is_empty()),
                is_descriptor,
                model: self.model,
                descriptors: descriptors.as_ref(),
                groups: &groups,
                local: &local,
                selection: &selection,
            };
            self.validate_endpoint(plan, &checks.schema_name, &checker, &mut run, results)
                .await?;
        }
        Ok(())
    }

    /// The schema, shape and identity an endpoint's lines are checked with (and a warning when
    /// the API's documents lack them).
    fn endpoint_checks(
        &self,
        plan: &EndpointPlan,
        methods: Methods,
        groups: &RefGroups,
        selection: &ReferenceSelection,
    ) -> EndpointChecks {
        let Some(i) = self.model_endpoint(&plan.endpoint) else {
            self.log(
                LogLevel::Warning,
                format!(
                    "{}: no schema in the API's OpenAPI documents; only JSON and descriptor values are checked",
                    plan.endpoint
                ),
            );
            return EndpointChecks {
                schema: None,
                shape: Shape::empty(),
                identity: None,
                schema_name: plan.endpoint.clone(),
            };
        };
        let e = &self.model.endpoints[i];
        let doc = self.model.document_of(e);
        let schema = match methods.schema {
            false => None,
            true => match SchemaCheck::new(doc, &e.schema_name) {
                Ok(s) => Some(s),
                Err(reason) => {
                    self.log(
                        LogLevel::Warning,
                        format!(
                            "{}: {reason}; its lines are not checked against a schema",
                            plan.endpoint
                        ),
                    );
                    None
                }
            },
        };
        EndpointChecks {
            schema,
            shape: Shape::build(doc, &e.schema_name, &plan.endpoint, groups, selection),
            identity: Some(IdentitySpec::of_endpoint(self.model, i)),
            schema_name: e.schema_name.clone(),
        }
    }

    /// Indexes the local records of every endpoint the checked references of `shape` point to.
    async fn index_targets(
        &self,
        shape: &Shape,
        groups: &RefGroups,
        files: &[DataFile],
        local: &mut LocalIndexes,
    ) -> Result<(), ValidateError> {
        let mut targets: Vec<usize> = shape
            .refs
            .iter()
            .filter(|r| r.checked)
            .filter_map(|r| r.group)
            .flat_map(|g| groups.endpoints(g).iter().copied())
            .collect();
        targets.sort_unstable();
        targets.dedup();
        for t in targets {
            if !local.has(t) {
                self.index_local(t, files, local).await?;
            }
        }
        Ok(())
    }

    /// Local descriptor values (the data files of descriptor endpoints), then the API's.
    async fn load_descriptors(
        &self,
        all_files: &[DataFile],
    ) -> Result<DescriptorIndex, ValidateError> {
        let mut index = DescriptorIndex::new(self.model);
        let mut local = 0usize;
        for f in all_files
            .iter()
            .filter(|f| f.endpoint.ends_with("Descriptors"))
        {
            let Some(ep) = self.model_endpoint(&f.endpoint) else {
                continue;
            };
            let mut reader = BatchReader::open(self.source, f, self.options.batch_lines);
            while let Some(batch) = reader.next_batch().await? {
                let parsed: Vec<Option<serde_json::Value>> =
                    par_map(&batch, self.options.threads, &|l: &OwnedLine| {
                        l.text
                            .as_ref()
                            .ok()
                            .and_then(|t| serde_json::from_str(t).ok())
                    });
                for p in parsed.iter().flatten() {
                    if index.add_payload(ep, p) {
                        local += 1;
                    }
                }
            }
        }
        if local > 0 {
            self.log(
                LogLevel::Debug,
                format!("loaded {local} descriptor values from local files"),
            );
        }
        if let Some(session) = self.session {
            descriptors::load_remote(session, self.model, self.cache, &mut index).await?;
        }
        Ok(index)
    }

    /// Indexes the local records of model endpoint `target` (nothing when it has no data).
    async fn index_local(
        &self,
        target: usize,
        all_files: &[DataFile],
        local: &mut LocalIndexes,
    ) -> Result<(), ValidateError> {
        let files: Vec<&DataFile> = all_files
            .iter()
            .filter(|f| self.model_endpoint(&f.endpoint) == Some(target))
            .collect();
        if files.is_empty() {
            return Ok(());
        }
        let mut keys = KeySet::default();
        for f in files {
            let mut reader = BatchReader::open(self.source, f, self.options.batch_lines);
            while let Some(batch) = reader.next_batch().await? {
                let found: Vec<Option<u128>> =
                    par_map(&batch, self.options.threads, &|l: &OwnedLine| {
                        let text = l.text.as_ref().ok()?;
                        let v: serde_json::Value = serde_json::from_str(text).ok()?;
                        references::record_values(self.model, target, &v)
                            .map(|vals| record_key(&vals))
                    });
                keys.extend(found.into_iter().flatten());
            }
        }
        self.log(
            LogLevel::Debug,
            format!(
                "(indexed {} local {} records for reference checks)",
                keys.len(),
                self.model.endpoints[target].name
            ),
        );
        local.insert(target, keys);
        Ok(())
    }

    /// Validates the files of one endpoint, batch by batch: the per-line checks on every
    /// thread, then, in line order, uniqueness across lines, remote references and the results.
    async fn validate_endpoint(
        &self,
        plan: &EndpointPlan,
        schema_name: &str,
        checker: &EndpointChecker<'_>,
        run: &mut RunState,
        results: &mut RunResults,
    ) -> Result<(), ValidateError> {
        let endpoint = &plan.endpoint;
        let total = count_lines(self.source, &plan.files).await?;
        results.resource_mut(endpoint);
        // this endpoint's results, added to `results` when it ends
        let mut res = ResourceResults::new();
        self.events.emit(Event::EndpointStarted {
            endpoint: endpoint.clone(),
            total,
        });
        let mut ep = EndpointRun {
            seen: KeyMap::default(),
            files: Vec::new(),
            failed: 0,
            shown: 0,
            done: 0,
        };
        let mut stopped = Ok(());
        for file in &plan.files {
            self.log(
                LogLevel::Info,
                format!("validating {} against {schema_name} schema...", file.name),
            );
            ep.files.push(file.name.clone());
            let (lines, failed) = match self
                .validate_file(file, checker, &mut ep, run, &mut res)
                .await
            {
                Ok(counts) => counts,
                Err(Stop::Error(e)) => return Err(e),
                Err(Stop::MaxFailures(counts, e)) => {
                    stopped = Err(e);
                    counts
                }
            };
            self.finish_file(&ep, &file.name, lines, failed);
            if stopped.is_err() {
                break;
            }
        }
        results.resource_mut(endpoint).merge(&res);
        self.finish_endpoint(endpoint, &ep);
        stopped
    }

    /// Validates one file of an endpoint; returns its lines and failed lines.
    async fn validate_file(
        &self,
        file: &DataFile,
        checker: &EndpointChecker<'_>,
        ep: &mut EndpointRun,
        run: &mut RunState,
        res: &mut ResourceResults,
    ) -> Result<(u64, u64), Stop> {
        let file_index = (ep.files.len() - 1) as u32;
        let (mut lines, mut failed) = (0u64, 0u64);
        let max_failures = self.config.validate.references.max_failures;
        let mut reader = BatchReader::open(self.source, file, self.options.batch_lines);
        while let Some(batch) = reader.next_batch().await? {
            let checks: Vec<LineCheck> = par_map(&batch, self.options.threads, &|l: &OwnedLine| {
                checker.check(l)
            });
            if run.remote_on {
                self.lookup_remote(checker.groups, &checks, &mut run.remote)
                    .await?;
            }
            for (line, check) in batch.iter().zip(checks) {
                let found = self.finish_line(checker, ep, file_index, line, check, run);
                lines += 1;
                ep.done += 1;
                if self.record_line(&found, &file.name, line.number, ep, res) {
                    failed += 1;
                    run.failures += 1;
                }
                if let Some(max) = max_failures.filter(|max| run.failures >= *max) {
                    let stop = ValidateError::Stopped {
                        failures: run.failures,
                        max_failures: max,
                    };
                    return Err(Stop::MaxFailures((lines, failed), stop));
                }
            }
            self.events.emit(Event::Progress {
                endpoint: checker.endpoint.clone(),
                done: ep.done,
                skipped: 0,
                failed: ep.failed,
            });
        }
        Ok((lines, failed))
    }

    /// Records a line's failures (the first counts the line as failed); the first ten of an
    /// endpoint are shown as they are found. Returns whether the line failed.
    fn record_line(
        &self,
        found: &[(ValidationMethod, String)],
        file: &str,
        line: u64,
        ep: &mut EndpointRun,
        res: &mut ResourceResults,
    ) -> bool {
        if found.is_empty() {
            res.record_ok();
            return false;
        }
        for (i, (method, message)) in found.iter().enumerate() {
            let messages = std::slice::from_ref(message);
            if i == 0 {
                res.record_failure((*method).into(), messages, file, line);
            } else {
                res.add_failure_lines((*method).into(), messages, file, line);
            }
            if ep.shown < FAILURES_SHOWN {
                ep.shown += 1;
                self.log(
                    LogLevel::Warning,
                    format!(
                        "... VALIDATION ERROR ({} at line {line}): {message}",
                        method.as_str()
                    ),
                );
            }
        }
        ep.failed += 1;
        true
    }

    fn finish_file(&self, ep: &EndpointRun, file: &str, lines: u64, failed: u64) {
        if failed == 0 {
            self.log(LogLevel::Info, "... all lines validate ok!");
            return;
        }
        if ep.failed > FAILURES_SHOWN && ep.shown == FAILURES_SHOWN {
            self.log(
                LogLevel::Warning,
                format!("... and {} others!", ep.failed - FAILURES_SHOWN),
            );
        }
        self.log(
            LogLevel::Warning,
            format!(
                "... VALIDATION ERRORS on {failed} of {lines} lines in {file}; see details above."
            ),
        );
    }

    fn finish_endpoint(&self, endpoint: &str, ep: &EndpointRun) {
        self.events.emit(Event::Progress {
            endpoint: endpoint.to_string(),
            done: ep.done,
            skipped: 0,
            failed: ep.failed,
        });
        self.events.emit(Event::EndpointFinished {
            endpoint: endpoint.to_string(),
        });
    }

    /// Asks the API about every reference of the batch not found locally and not asked yet,
    /// `pool_size` requests in flight.
    async fn lookup_remote(
        &self,
        groups: &RefGroups,
        checks: &[LineCheck],
        cache: &mut RemoteCache,
    ) -> Result<(), ValidateError> {
        let Some(session) = self.session else {
            return Ok(());
        };
        let mut asked: HashSet<(usize, u128)> = HashSet::new();
        let mut todo = Vec::new();
        for c in checks.iter().filter(|c| c.failure.is_none()) {
            // a reference without values matches nothing (a GET without filters would list
            // every record)
            for p in c.pending.iter().filter(|p| !p.params.is_empty()) {
                if cache.get(p.group, p.key).is_none() && asked.insert((p.group, p.key)) {
                    todo.push(p);
                }
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        self.log(
            LogLevel::Debug,
            format!("(looking up {} references in the API...)", todo.len()),
        );
        let pool = self.config.connection.pool_size.max(1) as usize;
        let answers: Vec<(usize, u128, Result<RemoteAnswer, SessionError>)> = stream::iter(todo)
            .map(|p| async move {
                let answer =
                    references::lookup(session, self.model, groups, p.group, &p.params).await;
                (p.group, p.key, answer)
            })
            .buffer_unordered(pool)
            .collect()
            .await;
        for (group, key, answer) in answers {
            cache.insert(group, key, answer?);
        }
        Ok(())
    }

    /// The in-order checks of one line (uniqueness across lines, remote references) and all
    /// its failures, in the Python tool's order.
    fn finish_line(
        &self,
        checker: &EndpointChecker<'_>,
        ep: &mut EndpointRun,
        file_index: u32,
        line: &OwnedLine,
        check: LineCheck,
        run: &RunState,
    ) -> Vec<(ValidationMethod, String)> {
        if let Some(f) = check.failure {
            return vec![f];
        }
        let mut found = Vec::new();
        if let Some(identity) = check.identity {
            if let Some(first) = ep.seen.get(&identity).copied() {
                let (first_file, first_line) = ((first >> 48) as u32, first & LINE_MASK);
                let display = checker.identity_display(line.text.as_deref().unwrap_or(""));
                let first = if first_file == file_index {
                    format!("line {first_line}")
                } else {
                    format!("line {first_line} of {}", ep.files[first_file as usize])
                };
                found.push((
                    ValidationMethod::Uniqueness,
                    format!(
                        "duplicate value(s) for identity key(s): : {display} (first at {first})"
                    ),
                ));
            } else {
                let file = u64::from(file_index.min(0xffff));
                ep.seen
                    .insert(identity, (file << 48) | (line.number & LINE_MASK));
            }
        }
        if found.is_empty() {
            if let Some(message) = check.nested_duplicate {
                found.push((ValidationMethod::Uniqueness, message));
            }
        }
        for p in &check.pending {
            let answer = match run.remote_on {
                true => run.remote.get(p.group, p.key),
                false => None,
            };
            match answer {
                Some(RemoteAnswer::Found) => continue,
                Some(RemoteAnswer::Unknown(reason)) => {
                    found.push((ValidationMethod::References, p.unknown_message(reason)));
                }
                Some(RemoteAnswer::Missing) | None => {
                    found.push((ValidationMethod::References, p.invalid_message()));
                }
            }
            break;
        }
        found
    }
}

/// What ends the validation of a file early.
enum Stop {
    Error(ValidateError),
    /// `max_failures` reached, with the file's (lines, failed lines) so far.
    MaxFailures((u64, u64), ValidateError),
}

impl From<ValidateError> for Stop {
    fn from(e: ValidateError) -> Self {
        Stop::Error(e)
    }
}

/// Reads a data file in batches of lines (over [`crate::data::lines::file_lines`]).
pub struct BatchReader<'s> {
    lines: futures::stream::LocalBoxStream<'s, Result<FileLine, ReadError>>,
    batch: usize,
    done: bool,
}

impl<'s> BatchReader<'s> {
    pub fn open(source: &'s dyn DataSource, file: &DataFile, batch: usize) -> BatchReader<'s> {
        BatchReader {
            lines: file_lines(source, vec![(0, file.clone())]),
            batch: batch.max(1),
            done: false,
        }
    }

    /// The next non-blank lines (at most the batch size); `None` at the end of the file.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<OwnedLine>>, ValidateError> {
        let mut out = Vec::with_capacity(self.batch.min(65_536));
        while out.len() < self.batch && !self.done {
            match self.lines.next().await {
                Some(Ok(l)) => out.push(l.line),
                Some(Err(e)) => return Err(e.into()),
                None => self.done = true,
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}
