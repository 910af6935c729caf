//! One run of `lightbeam`: the config and the flags become the engine's job, the CLI's adapters
//! become its ports (reqwest, tokio, SQLite, files on disk, the terminal), and the outcome
//! becomes the results file, what the console shows and the exit code.

use crate::args::Args;
use crate::clock::TokioClock;
use crate::confirm::TerminalConfirm;
use crate::console::Console;
use crate::error::CliError;
use crate::http::ReqwestHttp;
use crate::report;
use lightbeam_cli::cache::FileCache;
use lightbeam_cli::files::FsDataSource;
use lightbeam_cli::output::FsOutput;
use lightbeam_cli::state::SqliteState;
use lightbeam_core::config::{
    parse_params, parse_set_args, Config, LoadOptions, DEFAULT_CONFIG_FILES,
};
use lightbeam_core::ports::{Cache, LogLevel, StateStore};
use lightbeam_core::results::Command;
use lightbeam_core::run::changes::Changes;
use lightbeam_core::run::{self, Job, Ports, RunOutcome};
use lightbeam_core::state::ResendFlags;
use std::path::Path;

/// Runs the command of `args`; the exit code, or the error that stops it.
pub fn run(args: &Args, console: &Console) -> Result<i32, CliError> {
    let command = args.command()?;
    let (config_file, config) = load_config(args, console)?;
    console.set_level(config.log_level);
    if !Path::new(&config.data_dir).is_dir() {
        return Err(CliError::DataDir(config.data_dir.clone()));
    }
    if !config.connection.verify_ssl {
        console.log(
            LogLevel::Warning,
            "connection.verify_ssl is false: TLS certificates of the API are not checked",
        );
    }
    let state = match &config.state_dir {
        Some(dir) => {
            let state = SqliteState::open(Path::new(dir)).map_err(|error| CliError::State {
                dir: dir.clone(),
                error,
            })?;
            report::hashlog_imports(console, state.imported());
            Some(state)
        }
        None => {
            console.log(
                LogLevel::Warning,
                "`state_dir` not specified in config; continuing without state-tracking",
            );
            None
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Setup(e.to_string()))?;
    let http = ReqwestHttp::new(
        config.connection.pool_size as usize,
        config.connection.verify_ssl,
    )
    .map_err(|e| CliError::Setup(e.to_string()))?;
    let cache = config
        .state_dir
        .as_ref()
        .map(|d| FileCache::new(Path::new(d)));
    // `fetch` writes into data_dir, `create` into the working directory
    let output = FsOutput::new(match command {
        Command::Fetch => config.data_dir.as_str(),
        _ => ".",
    });
    let ports = Ports {
        http: &http,
        clock: &TokioClock::new(),
        events: console,
        data: &FsDataSource::new(config.data_dir.clone()),
        state: state.as_ref().map(|s| s as &dyn StateStore),
        cache: cache.as_ref().map(|c| c as &dyn Cache),
        output: &output,
        confirm: &TerminalConfirm,
    };
    let job = job(args, command, &config, config_file);
    console.log(LogLevel::Info, "starting...");
    let outcome = rt.block_on(run::run(&config, &job, &ports));
    finish(args, &config, console, outcome)
}

/// The engine's job: the command and the flags as given.
fn job(args: &Args, command: Command, config: &Config, config_file: String) -> Job {
    let flag = |f: &Option<String>| f.clone().unwrap_or_default();
    Job {
        command,
        selector: flag(&args.selector),
        exclude: flag(&args.exclude),
        resend: ResendFlags {
            force: args.force,
            older_than: flag(&args.older_than),
            newer_than: flag(&args.newer_than),
            status_codes: flag(&args.resend_status_codes),
        },
        query: flag(&args.query),
        keep_keys: flag(&args.keep_keys),
        drop_keys: flag(&args.drop_keys),
        changes: match (
            args.changes,
            args.min_change_version,
            args.max_change_version,
        ) {
            (true, _, _) => Changes::SinceLast,
            (false, None, None) => Changes::All,
            (false, min, max) => Changes::Window { min, max },
        },
        wipe_cache: args.wipe,
        confirmed: args.yes,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        working_dir: std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config_file,
        data_dir: config.data_dir.clone(),
    }
}

/// The results file (written whatever happened, but for `count`, whose file is its table),
/// then what the console shows, and the exit code.
fn finish(
    args: &Args,
    config: &Config,
    console: &Console,
    outcome: RunOutcome,
) -> Result<i32, CliError> {
    if let Some(path) = &args.results_file {
        report::results_file(path, config, console, &outcome)?;
    }
    if let Some(e) = outcome.fatal() {
        return Err(CliError::Run(e.clone()));
    }
    match outcome.command {
        Command::Count if args.results_file.is_none() => report::count(config, &outcome)?,
        Command::Delete => report::skips(console, &outcome),
        _ => {}
    }
    report::summary(console, &outcome);
    Ok(outcome.exit_code(args.strict))
}

/// The config file (`-c`, or `./lightbeam.yaml`/`./lightbeam.yml`) with `-p` and `--set`.
fn load_config(args: &Args, console: &Console) -> Result<(String, Config), CliError> {
    let config_file = match &args.config_file {
        Some(c) => c.clone(),
        None => {
            let found = DEFAULT_CONFIG_FILES
                .iter()
                .find(|f| Path::new(".").join(f).is_file());
            let Some(f) = found else {
                return Err(CliError::ConfigFile(format!(
                    "config file not specified with `-c` flag, and no default {{{}}} found",
                    DEFAULT_CONFIG_FILES.join(", ")
                )));
            };
            console.log(
                LogLevel::Info,
                &format!("config file not specified with `-c` flag... but found and using ./{f}"),
            );
            format!("./{f}")
        }
    };
    let bytes = std::fs::read(&config_file)
        .map_err(|e| CliError::ConfigFile(format!("cannot read config file {config_file}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..bad].iter().filter(|b| **b == b'\n').count();
        let column = 1 + bad - bytes[..bad].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        CliError::ConfigFile(format!(
            "{config_file}: config error at line {line}, column {column}: the config file is not UTF-8 text"
        ))
    })?;
    let env = |k: &str| std::env::var(k).ok();
    let opts = LoadOptions {
        env: &env,
        params: parse_params(args.params.as_deref().unwrap_or("")).map_err(CliError::Flags)?,
        overrides: parse_set_args(&args.set).map_err(CliError::Flags)?,
        current_year: Some(chrono::Datelike::year(&chrono::Local::now())),
        home_dir: std::env::var("HOME").ok(),
    };
    let config = Config::from_yaml(&text, &opts).map_err(|error| CliError::Config {
        file: config_file.clone(),
        error,
    })?;
    Ok((config_file, config))
}
