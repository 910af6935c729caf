//! `lightbeam delete`: remove the records of the selected payloads from the API, after a
//! confirmation (typing `yes`, or `--yes`, or `force_delete: true`).

use crate::app::App;
use crate::Fatal;
use lightbeam_cli::files::FsDataSource;
use lightbeam_core::ports::LogLevel;
use lightbeam_core::results::RunResults;
use lightbeam_core::run::delete::{confirmation_prompt, delete};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Asks the user to type `yes` before `endpoints` lose data. `--yes` and `force_delete: true`
/// answer for the user when `allow_forced`. Without a terminal to ask on, not forced is an
/// error: never a silent delete.
pub fn confirm(
    app: &App<'_>,
    endpoints: &[String],
    truncate: bool,
    allow_forced: bool,
) -> Result<(), Fatal> {
    let verb = if truncate { "truncate" } else { "delete" };
    if allow_forced && (app.args.yes || app.config.force_delete) {
        let why = if app.args.yes {
            "--yes"
        } else {
            "force_delete: true"
        };
        app.console.log(
            LogLevel::Info,
            &format!("{verb} of {} endpoints confirmed by {why}", endpoints.len()),
        );
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Fatal(if allow_forced {
            format!("refusing to {verb} without confirmation: stdin is not a terminal to type \"yes\" on; pass --yes or set `force_delete: true` in the config")
        } else {
            format!("refusing to truncate without -s/--selector: that deletes every record of all {} endpoints of the API and needs \"yes\" typed on a terminal; select endpoints with -s (-s '*' for all of them)", endpoints.len())
        }));
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(confirmation_prompt(endpoints, truncate).as_bytes());
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Fatal(format!("cannot read the confirmation: {e}")))?;
    if answer.trim() != "yes" {
        return Err(Fatal("You did not type \"yes\" - exiting.".into()));
    }
    Ok(())
}

pub async fn run(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let criteria = app.criteria()?;
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    let discovery = app.discover_data(&deps)?;
    let levels = app.data_levels(&deps, &selected, &discovery)?;
    let model = app.model(&session).await?;
    let mut endpoints: Vec<String> = levels
        .iter()
        .flatten()
        .map(|p| p.endpoint.clone())
        .collect();
    endpoints.reverse();
    confirm(app, &endpoints, false, true)?;
    // file names are data_dir-joined paths, valid from the working directory
    let source = FsDataSource::new(PathBuf::from("."));
    let report = delete(
        &session,
        &model,
        &levels,
        &source,
        app.state_port(),
        &criteria,
        results,
    )
    .await?;
    for skip in &report.skips {
        let lines: Vec<String> = skip
            .line_numbers
            .iter()
            .take(10)
            .map(u64::to_string)
            .collect();
        let more = if skip.line_numbers.len() > 10 {
            ", ..."
        } else {
            ""
        };
        app.console.log(
            LogLevel::Info,
            &format!(
                "{}: skipped x{} ({}) [{} line {}{more}]",
                skip.endpoint,
                skip.line_numbers.len(),
                skip.reason,
                skip.file,
                lines.join(", ")
            ),
        );
    }
    Ok(())
}
