//! The command line, as the Python tool's: a command and its flags.

use crate::error::CliError;
use clap::Parser;
use lightbeam_core::results::Command;

/// The commands, as typed.
pub const COMMANDS: [&str; 8] = [
    "validate",
    "send",
    "validate+send",
    "delete",
    "truncate",
    "count",
    "fetch",
    "create",
];

/// Sends JSONL data into an Ed-Fi API
#[derive(Parser, Debug)]
#[command(
    name = "lightbeam",
    disable_version_flag = true,
    after_help = "Commands: validate, send, validate+send, delete, truncate, count, fetch, create"
)]
pub struct Args {
    /// the command to run: validate, send, validate+send, delete, truncate, count, fetch, create
    pub command: Option<String>,
    /// Specify YAML config file (default ./lightbeam.yaml or ./lightbeam.yml)
    #[arg(short = 'c', long = "config-file")]
    pub config_file: Option<String>,
    /// view tool version
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// a subset of resources to process (comma list, * wildcards)
    #[arg(short = 's', long)]
    pub selector: Option<String>,
    /// a subset of resources to exclude from processing
    #[arg(short = 'e', long)]
    pub exclude: Option<String>,
    /// keys to keep from fetched payloads
    #[arg(short = 'k', long = "keep-keys")]
    pub keep_keys: Option<String>,
    /// keys to remove from fetched payloads (like id,_etag,_lastModifiedDate)
    #[arg(short = 'd', long = "drop-keys")]
    pub drop_keys: Option<String>,
    /// a JSON dictionary of query parameters for GET requests of `fetch`
    #[arg(short = 'q', long)]
    pub query: Option<String>,
    /// fetch: only what changed since the last `fetch --changes` of this API and selection (the
    /// change version is kept in state_dir), and the deletes into {endpoint}.deletes.jsonl
    #[arg(long, conflicts_with_all = ["min_change_version", "max_change_version"])]
    pub changes: bool,
    /// fetch: only records changed at or after this change version (and the deletes)
    #[arg(long = "min-change-version", value_name = "N")]
    pub min_change_version: Option<u64>,
    /// fetch: only records changed at or before this change version (and the deletes)
    #[arg(long = "max-change-version", value_name = "N")]
    pub max_change_version: Option<u64>,
    /// parameters as a JSON object (override environment variables)
    #[arg(short = 'p', long)]
    pub params: Option<String>,
    /// wipe cached Swagger docs and descriptor values
    #[arg(short = 'w', long)]
    pub wipe: bool,
    /// process all payloads, ignoring history
    #[arg(short = 'f', long)]
    pub force: bool,
    /// only payloads last sent before this timestamp will be processed
    #[arg(short = 'o', long = "older-than")]
    pub older_than: Option<String>,
    /// only payloads last sent after this timestamp will be processed
    #[arg(short = 'n', long = "newer-than")]
    pub newer_than: Option<String>,
    /// only payloads that returned one of these comma-delimited HTTP status codes on last send
    #[arg(short = 'r', long = "resend-status-codes")]
    pub resend_status_codes: Option<String>,
    /// write a JSON file with structured information about the run's results
    #[arg(long = "results-file")]
    pub results_file: Option<String>,
    /// override config settings: --set fetch.page_size 1000 [key value ...]
    #[arg(long, num_args = 0..)]
    pub set: Vec<String>,
    /// exit non-zero (1) when any payload failed
    #[arg(long)]
    pub strict: bool,
    /// confirm destructive commands (delete, truncate) without a prompt
    #[arg(long)]
    pub yes: bool,
}

impl Args {
    /// The command to run.
    pub fn command(&self) -> Result<Command, CliError> {
        match self.command.as_deref() {
            None => Err(CliError::Usage(format!(
                "no command provided. Use one of ({}), see -h flag for help",
                COMMANDS.join(", ")
            ))),
            Some(c) => Command::parse(c).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown command '{c}' passed, use -h flag for help"
                ))
            }),
        }
    }
}
