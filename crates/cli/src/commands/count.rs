//! `lightbeam count`: the records of each selected endpoint. The console gets the endpoints
//! with records (or an error) as `Records{sep}Endpoint` rows on stdout; `--results-file` gets
//! every row instead (the Python tool's text file, not the JSON results of other commands).

use crate::app::App;
use crate::Fatal;
use lightbeam_core::ports::LogLevel;
use lightbeam_core::results::{FailureKind, RunResults};
use lightbeam_core::run::count::{count, count_table, CountError};
use std::io::Write;
use std::path::Path;

pub async fn run(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    let rows = count(&session, &selected).await?;
    let separator = &app.config.count.separator;
    match &app.args.results_file {
        Some(path) => {
            if let Some(parent) = Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Fatal(format!("cannot create {}: {e}", parent.display())))?;
                }
            }
            std::fs::write(path, count_table(&rows, separator, true))
                .map_err(|e| Fatal(format!("cannot write results file {path}: {e}")))?;
            app.console
                .log(LogLevel::Info, &format!("results written to {path}"));
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(count_table(&rows, separator, false).as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Fatal(format!("cannot write to stdout: {e}")))?;
        }
    }
    // endpoints that could not be counted are failures (exit 1 with --strict)
    for row in &rows {
        if let Err(e) = &row.records {
            let kind = match e {
                CountError::Status { status, .. } => FailureKind::Status(*status),
                CountError::NoTotalCount => FailureKind::Method("count".into()),
                CountError::Transport(_) => FailureKind::Method("connection".into()),
            };
            let url = app.config.resource_url(&row.endpoint);
            results
                .resource_mut(&row.endpoint)
                .record_failure(kind, &[e.to_string()], &url, 0);
        }
    }
    Ok(())
}
