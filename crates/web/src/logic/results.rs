//! The results of a run as the page shows them, built from the engine's [`RunOutcome`]: the
//! summary line, statuses and failures per endpoint, counts, fetched files, skipped payloads,
//! and the results file's text.

use super::format::thousands;
use lightbeam_core::ports::MemoryOutput;
use lightbeam_core::results::Command;
use lightbeam_core::run::RunOutcome;

/// Line numbers shown per failure group (the rest are counted).
pub const SHOWN_LINES: usize = 25;
/// Line numbers shown per group of skipped payloads.
pub const SHOWN_SKIPPED_LINES: usize = 10;

/// One group of failures: same kind, message and file.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureView {
    /// The status code or method (`400`, `schema`).
    pub kind: String,
    pub message: String,
    pub file: String,
    pub lines: Vec<u64>,
    pub count: u64,
}

impl FailureView {
    /// The line numbers shown as links.
    pub fn shown_lines(&self) -> &[u64] {
        &self.lines[..self.lines.len().min(SHOWN_LINES)]
    }

    /// `… and 3 more` after the shown lines, if any are left.
    pub fn more_lines(&self) -> Option<String> {
        let more = self.lines.len().saturating_sub(SHOWN_LINES);
        (more > 0).then(|| format!("… and {more} more"))
    }
}

/// One endpoint's row and failures.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointResult {
    pub endpoint: String,
    pub processed: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Status → count of successes; kinds of failures with 0 (failures are counted by message,
    /// and a payload may have several, so only their kinds are named).
    pub statuses: Vec<(String, u64)>,
    pub failures: Vec<FailureView>,
}

impl EndpointResult {
    /// `201: 20, 400 (failed)`.
    pub fn statuses_text(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| match n {
                0 => format!("{s} (failed)"),
                n => format!("{s}: {}", thousands(*n)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The heading of the endpoint's failures.
    pub fn failures_heading(&self) -> String {
        format!("{}: {} failed", self.endpoint, thousands(self.failed))
    }
}

/// A run's results, as shown.
#[derive(Debug, Clone)]
pub struct ResultsView {
    pub command: Command,
    pub summary: String,
    /// What stopped the run, as the engine words it.
    pub error: Option<String>,
    pub endpoints: Vec<EndpointResult>,
    /// `count`: (endpoint, records or why not) of the endpoints that have records.
    pub counts: Option<Vec<(String, String)>>,
    /// `fetch`: the files written, with their sizes.
    pub fetched: Vec<(String, usize)>,
    /// `delete`: skipped payloads, one line per group.
    pub skips: Vec<String>,
    /// The results file (`--results-file`).
    pub json: String,
}

impl ResultsView {
    /// The view of a finished run; `fetched` lists the files `fetch` wrote.
    pub fn of(outcome: &RunOutcome, fetched: Vec<(String, usize)>) -> ResultsView {
        let counts = (!outcome.counts.is_empty()).then(|| {
            outcome
                .counts
                .iter()
                .filter(|row| row.records != Ok(0))
                .map(|row| {
                    let cell = match &row.records {
                        Ok(n) => thousands(*n),
                        Err(e) => e.to_string(),
                    };
                    (row.endpoint.clone(), cell)
                })
                .collect()
        });
        ResultsView {
            command: outcome.command,
            summary: summary(outcome, fetched.len()),
            error: outcome.error.as_ref().map(ToString::to_string),
            endpoints: endpoints(outcome),
            counts,
            fetched,
            skips: outcome.skips.iter().map(skip_line).collect(),
            json: outcome.results.to_json(),
        }
    }

    /// Whether the per-endpoint table is shown (not for `count`, whose table is the counts).
    pub fn shows_endpoints(&self) -> bool {
        self.command != Command::Count
    }
}

/// The files `fetch` wrote, with their sizes.
pub fn fetched_files(output: &MemoryOutput) -> Vec<(String, usize)> {
    output
        .paths()
        .into_iter()
        .map(|p| {
            let n = output.get(&p).map(|b| b.len()).unwrap_or(0);
            (p, n)
        })
        .collect()
}

/// The line above the tables.
fn summary(outcome: &RunOutcome, fetched_files: usize) -> String {
    let t = outcome.results.totals();
    let runtime = outcome.results.runtime_sec;
    match outcome.command {
        Command::Count => format!(
            "counted {} endpoints in {runtime:.1}s",
            outcome.counts.len()
        ),
        Command::Fetch => format!(
            "fetched {} records into {fetched_files} files in {runtime:.1}s",
            thousands(t.processed - t.failed),
        ),
        _ => {
            let sent = t.processed - t.skipped;
            let mut s = format!(
                "{} payloads: {} done, {} skipped, {} failed in {runtime:.1}s ({:.0}/s)",
                thousands(t.processed),
                thousands(t.processed - t.skipped - t.failed),
                thousands(t.skipped),
                thousands(t.failed),
                sent as f64 / runtime.max(0.001)
            );
            if t.processed > 0 && t.skipped == t.processed {
                s.push_str(" — all payloads skipped (already sent)");
            } else if t.processed > 0 && t.failed == t.processed {
                s.push_str(" — all payloads failed");
            }
            s
        }
    }
}

fn endpoints(outcome: &RunOutcome) -> Vec<EndpointResult> {
    outcome
        .results
        .resources
        .iter()
        .map(|(endpoint, res)| {
            let mut statuses: Vec<(String, u64)> = res
                .successes()
                .iter()
                .map(|s| (s.status_code.to_string(), s.count))
                .collect();
            let failures: Vec<FailureView> = res
                .failures()
                .into_iter()
                .map(|f| FailureView {
                    kind: f.kind.to_string(),
                    message: f.message,
                    file: f.file,
                    lines: f.line_numbers,
                    count: f.count,
                })
                .collect();
            for f in &failures {
                if !statuses.iter().any(|(s, _)| *s == f.kind) {
                    statuses.push((f.kind.clone(), 0));
                }
            }
            EndpointResult {
                endpoint: endpoint.clone(),
                processed: res.records_processed,
                skipped: res.records_skipped,
                failed: res.records_failed,
                statuses,
                failures,
            }
        })
        .collect()
}

/// `grades: ×3 no identity [grades.jsonl line 1, 2, 5]`.
fn skip_line(s: &lightbeam_core::run::scheduler::SkipGroup) -> String {
    let lines: Vec<String> = s
        .line_numbers
        .iter()
        .take(SHOWN_SKIPPED_LINES)
        .map(u64::to_string)
        .collect();
    format!(
        "{}: ×{} {} [{} line {}]",
        s.endpoint,
        s.line_numbers.len(),
        s.reason,
        s.file,
        lines.join(", ")
    )
}

#[cfg(test)]
mod tests;
