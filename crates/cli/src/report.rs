//! What the console shows after a run: the count table, `delete`'s skips, the first failures
//! of each endpoint, and the closing summary.

use crate::console::Console;
use crate::error::CliError;
use lightbeam_cli::state::HashlogImport;
use lightbeam_core::config::Config;
use lightbeam_core::ports::LogLevel;
use lightbeam_core::results::{Command, RunResults};
use lightbeam_core::run::count::count_table;
use lightbeam_core::run::RunOutcome;
use std::io::Write;
use std::path::Path;

/// How many of a list are shown.
const SHOWN: usize = 10;

/// `1, 2, 3` of the first line numbers, `, ...` when there are more.
fn first_lines(lines: &[u64]) -> String {
    let shown: Vec<String> = lines.iter().take(SHOWN).map(u64::to_string).collect();
    let more = if lines.len() > SHOWN { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// `--results-file`: the results JSON, or for `count` (when it went through) every row of its
/// table, as the Python tool writes them.
pub fn results_file(
    path: &str,
    config: &Config,
    console: &Console,
    outcome: &RunOutcome,
) -> Result<(), CliError> {
    if outcome.command != Command::Count {
        return write_file(path, &outcome.results.to_json());
    }
    if outcome.fatal().is_none() {
        write_file(
            path,
            &count_table(&outcome.counts, &config.count.separator, true),
        )?;
        console.log(LogLevel::Info, &format!("results written to {path}"));
    }
    Ok(())
}

/// Writes a file, creating its folder.
fn write_file(path: &str, text: &str) -> Result<(), CliError> {
    let error = |error| CliError::ResultsFile {
        path: path.to_string(),
        error,
    };
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(error)?;
        }
    }
    std::fs::write(path, text).map_err(error)
}

/// The count table on stdout: the endpoints with records (or an error).
pub fn count(config: &Config, outcome: &RunOutcome) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(count_table(&outcome.counts, &config.count.separator, false).as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)
}

/// The Python tool's hashlogs imported into the state when it was opened (a file that could
/// not be read is tried again next time).
pub fn hashlog_imports(console: &Console, imports: &[HashlogImport]) {
    for import in imports {
        match &import.result {
            Ok(n) => console.log(
                LogLevel::Info,
                &format!(
                    "imported {n} payload outcomes of {} from the Python tool's {}",
                    import.endpoint,
                    import.file.display()
                ),
            ),
            Err(reason) => console.log(
                LogLevel::Warning,
                &format!(
                    "could not import the Python tool's {} ({reason}); it is tried again next time",
                    import.file.display()
                ),
            ),
        }
    }
}

/// The payloads `delete` skipped, by endpoint, reason and file.
pub fn skips(console: &Console, outcome: &RunOutcome) {
    for skip in &outcome.skips {
        console.log(
            LogLevel::Info,
            &format!(
                "{}: skipped x{} ({}) [{} line {}]",
                skip.endpoint,
                skip.line_numbers.len(),
                skip.reason,
                skip.file,
                first_lines(&skip.line_numbers)
            ),
        );
    }
}

/// The first failures of each endpoint (all of them are in the results file), then the totals.
pub fn summary(console: &Console, outcome: &RunOutcome) {
    let results = &outcome.results;
    if matches!(outcome.command, Command::Count | Command::Create) {
        // no payloads to summarize
        console.log(LogLevel::Info, "done!");
        return;
    }
    failures(console, results);
    let totals = results.totals();
    let runtime = results.runtime_sec;
    let rate = if runtime > 0.0 {
        (totals.processed - totals.skipped) as f64 / runtime
    } else {
        0.0
    };
    console.log(
        LogLevel::Info,
        &format!(
            "done! {} payloads: {} done, {} skipped, {} failed in {:.1}s ({:.0}/s)",
            totals.processed,
            totals.processed - totals.skipped - totals.failed,
            totals.skipped,
            totals.failed,
            runtime,
            rate
        ),
    );
    if results.exit_code(outcome.command, false) == lightbeam_core::results::EXIT_ALL_SKIPPED {
        console.log(LogLevel::Info, "all payloads skipped");
    } else if totals.processed > 0 && totals.processed == totals.failed {
        console.log(LogLevel::Info, "all payloads failed");
    }
}

fn failures(console: &Console, results: &RunResults) {
    for (endpoint, r) in &results.resources {
        let failures = r.failures();
        if failures.is_empty() {
            continue;
        }
        console.log(
            LogLevel::Warning,
            &format!("{endpoint}: {} payloads failed", r.records_failed),
        );
        for f in failures.iter().take(SHOWN) {
            console.log(
                LogLevel::Warning,
                &format!(
                    "  ({} x{}) {} [{} line {}]",
                    f.kind,
                    f.count,
                    // an API's validation message may hold line breaks: one log line each
                    f.message.replace(['\n', '\r'], " "),
                    f.file,
                    first_lines(&f.line_numbers)
                ),
            );
        }
        if failures.len() > SHOWN {
            console.log(
                LogLevel::Warning,
                &format!("  (... and {} others)", failures.len() - SHOWN),
            );
        }
    }
}
