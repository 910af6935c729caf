//! `lightbeam validate` and `lightbeam validate+send`.

use crate::app::{display_path, App};
use crate::Fatal;
use lightbeam_cli::files::FsDataSource;
use lightbeam_core::api::session::Session;
use lightbeam_core::ports::{Cache, DataFile};
use lightbeam_core::results::RunResults;
use lightbeam_core::run::send::EndpointPlan;
use lightbeam_core::validate::{
    validate_then_send, ValidateOptions, ValidateSendOutcome, Validation,
};
use std::path::PathBuf;

/// What both commands prepare: the session, the endpoints with data in dependency levels, every
/// data file, the API's model.
struct Prepared<'a> {
    session: Session<'a>,
    levels: Vec<Vec<EndpointPlan>>,
    all_files: Vec<DataFile>,
    model: lightbeam_core::api::openapi::Model,
}

async fn prepare<'a>(app: &App<'a>) -> Result<Prepared<'a>, Fatal> {
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    let discovery = app.discover_data(&deps)?;
    let levels = app.data_levels(&deps, &selected, &discovery)?;
    let all_files = discovery
        .files()
        .iter()
        .map(|f| DataFile {
            endpoint: f.endpoint.clone(),
            name: display_path(&app.config.data_dir, &f.path),
        })
        .collect();
    let model = app.model(&session).await?;
    Ok(Prepared {
        session,
        levels,
        all_files,
        model,
    })
}

/// Every CPU for the per-line checks, with batches big enough to keep them busy.
fn options() -> ValidateOptions {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    ValidateOptions {
        threads,
        batch_lines: (2048 * threads).clamp(4096, 65_536),
    }
}

pub async fn run(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let p = prepare(app).await?;
    // file names are data_dir-joined paths, valid from the working directory
    let source = FsDataSource::new(PathBuf::from("."));
    let validation = Validation {
        config: app.config,
        model: &p.model,
        session: Some(&p.session),
        events: app.console,
        source: &source,
        cache: app.cache.map(|c| c as &dyn Cache),
        options: options(),
    };
    let endpoints: Vec<EndpointPlan> = p.levels.into_iter().flatten().collect();
    let outcome = validation.run(&endpoints, &p.all_files, results).await?;
    // the process ends now: freeing the parsed OpenAPI documents would only cost time
    std::mem::forget(p.model);
    match outcome.stop_message() {
        Some(message) => Err(Fatal(message)),
        None => Ok(()),
    }
}

pub async fn run_then_send(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let criteria = app.criteria()?;
    let p = prepare(app).await?;
    let source = FsDataSource::new(PathBuf::from("."));
    let validation = Validation {
        config: app.config,
        model: &p.model,
        session: Some(&p.session),
        events: app.console,
        source: &source,
        cache: app.cache.map(|c| c as &dyn Cache),
        options: options(),
    };
    let outcome = validate_then_send(
        &validation,
        &p.session,
        &p.levels,
        &p.all_files,
        app.state_port(),
        &criteria,
        results,
    )
    .await?;
    match outcome {
        ValidateSendOutcome::Sent => Ok(()),
        // every payload failed: the results say so, and the exit code is 1 (as in Python)
        ValidateSendOutcome::NotSent { failed, processed } if failed == processed => Ok(()),
        other => Err(Fatal(other.message().unwrap_or_default())),
    }
}
