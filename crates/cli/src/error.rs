//! Why `lightbeam` stops: every error it can print, each knowing its exit code.

use lightbeam_core::config::ConfigError;
use lightbeam_core::ports::StoreError;
use lightbeam_core::results::EXIT_FATAL;
use lightbeam_core::run::RunError;

/// A reason to stop, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No command, or an unknown one.
    #[error("{0}")]
    Usage(String),
    /// No config file given and none found, or it cannot be read.
    #[error("{0}")]
    ConfigFile(String),
    /// The config (or `-p`, `--set`) is wrong; the message names the key and its line.
    #[error("{file}: {error}")]
    Config { file: String, error: ConfigError },
    /// `-p` or `--set` cannot be parsed.
    #[error(transparent)]
    Flags(ConfigError),
    #[error("`data_dir` {0} is not a directory")]
    DataDir(String),
    #[error("state_dir {dir}: {error}")]
    State { dir: String, error: StoreError },
    /// The HTTP client or the async runtime could not be set up.
    #[error("{0}")]
    Setup(String),
    #[error("cannot write results file {path}: {error}")]
    ResultsFile { path: String, error: std::io::Error },
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    /// What stopped the run.
    #[error(transparent)]
    Run(RunError),
}

impl CliError {
    /// The process exit code: 255 for every error, as the Python tool's `exit(-1)`.
    pub fn exit_code(&self) -> i32 {
        EXIT_FATAL
    }
}
