//! `lightbeam`: drop-in compatible with the Python tool's commands, flags, config, results file
//! and exit codes.

mod app;
mod commands;
mod console;
mod http;

use app::App;
use clap::Parser;
use console::Console;
use lightbeam_cli::cache::FileCache;
use lightbeam_cli::state::SqliteState;
use lightbeam_core::config::{
    parse_params, parse_set_args, Config, LoadOptions, DEFAULT_CONFIG_FILES,
};
use lightbeam_core::ports::{Clock, LocalFuture, LogLevel};
use lightbeam_core::results::{Command, RunMetadata, RunResults, EXIT_FATAL};
use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

const COMMANDS: [&str; 8] = [
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

pub struct TokioClock {
    seed: Cell<u64>,
}

impl Clock for TokioClock {
    fn now_unix_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    fn sleep(&self, d: Duration) -> LocalFuture<'_, ()> {
        Box::pin(tokio::time::sleep(d))
    }
    fn random(&self) -> f64 {
        // xorshift64*: jitter only, no need for a crypto generator
        let mut x = self.seed.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A fatal error: a one-line reason (exit code 255).
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn main() {
    let args = Args::parse();
    let console = Console::new(true);
    if args.version {
        println!("lightbeam, version {}", env!("CARGO_PKG_VERSION"));
        std::process::exit(0);
    }
    let code = match run(&args, &console) {
        Ok(code) => code,
        Err(Fatal(reason)) => {
            console.log(LogLevel::Critical, &reason);
            EXIT_FATAL
        }
    };
    std::process::exit(code);
}

fn now_iso() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

fn load_config(args: &Args, console: &Console) -> Result<(String, Config), Fatal> {
    let config_file = match &args.config_file {
        Some(c) => c.clone(),
        None => {
            let found = DEFAULT_CONFIG_FILES
                .iter()
                .find(|f| Path::new(".").join(f).is_file());
            match found {
                Some(f) => {
                    console.log(
                        LogLevel::Info,
                        &format!(
                            "config file not specified with `-c` flag... but found and using ./{f}"
                        ),
                    );
                    format!("./{f}")
                }
                None => {
                    return Err(Fatal(format!(
                        "config file not specified with `-c` flag, and no default {{{}}} found",
                        DEFAULT_CONFIG_FILES.join(", ")
                    )))
                }
            }
        }
    };
    let bytes = std::fs::read(&config_file)
        .map_err(|e| Fatal(format!("cannot read config file {config_file}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..bad].iter().filter(|b| **b == b'\n').count();
        let column = 1 + bad - bytes[..bad].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        Fatal(format!(
            "{config_file}: config error at line {line}, column {column}: the config file is not UTF-8 text"
        ))
    })?;
    let env = |k: &str| std::env::var(k).ok();
    let opts = LoadOptions {
        env: &env,
        params: parse_params(args.params.as_deref().unwrap_or(""))?,
        overrides: parse_set_args(&args.set)?,
        current_year: Some(chrono::Datelike::year(&chrono::Local::now())),
        home_dir: std::env::var("HOME").ok(),
    };
    let config =
        Config::from_yaml(&text, &opts).map_err(|e| Fatal(format!("{config_file}: {e}")))?;
    Ok((config_file, config))
}

fn run(args: &Args, console: &Console) -> Result<i32, Fatal> {
    let command = match args.command.as_deref() {
        None => {
            return Err(Fatal(format!(
                "no command provided. Use one of ({}), see -h flag for help",
                COMMANDS.join(", ")
            )))
        }
        Some(c) => Command::parse(c).ok_or_else(|| {
            Fatal(format!(
                "unknown command '{c}' passed, use -h flag for help"
            ))
        })?,
    };
    let (config_file, config) = load_config(args, console)?;
    console.set_level(match config.log_level.as_str() {
        "DEBUG" => LogLevel::Debug,
        "WARNING" | "WARN" => LogLevel::Warning,
        "ERROR" => LogLevel::Error,
        "CRITICAL" => LogLevel::Critical,
        _ => LogLevel::Info,
    });
    if !Path::new(&config.data_dir).is_dir() {
        return Err(Fatal(format!(
            "`data_dir` {} is not a directory",
            config.data_dir
        )));
    }
    if !config.connection.verify_ssl {
        console.log(
            LogLevel::Warning,
            "connection.verify_ssl is false: TLS certificates of the API are not checked",
        );
    }
    let state = match &config.state_dir {
        Some(dir) => Some(
            SqliteState::open(Path::new(dir))
                .map_err(|e| Fatal(format!("state_dir {dir}: {e}")))?,
        ),
        None => {
            console.log(
                LogLevel::Warning,
                "`state_dir` not specified in config; continuing without state-tracking",
            );
            None
        }
    };
    let started_at = now_iso();
    let started = std::time::Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = http::ReqwestHttp::new(
        config.connection.pool_size as usize,
        config.connection.verify_ssl,
    )?;
    let clock = TokioClock {
        seed: Cell::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(0x9E37_79B9_7F4A_7C15),
        ),
    };
    let mut results = RunResults::new(RunMetadata {
        started_at,
        working_dir: std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config_file: config_file.clone(),
        data_dir: config.data_dir.clone(),
        api_url: config.edfi_api.base_url.clone(),
        namespace: config.namespace.clone(),
        namespace_overrides: config.namespace_overrides.clone(),
    });
    let cache = config
        .state_dir
        .as_ref()
        .map(|d| FileCache::new(Path::new(d)));
    if args.wipe {
        if let Some(cache) = &cache {
            let n = cache
                .clear()
                .map_err(|e| Fatal(format!("cannot wipe the cache: {e}")))?;
            console.log(LogLevel::Debug, &format!("wiped {n} cached files"));
        }
    }
    let app = App {
        args,
        config: &config,
        console,
        http: &http,
        clock: &clock,
        state: state.as_ref(),
        cache: cache.as_ref(),
    };
    let outcome: Result<(), Fatal> = rt.block_on(async {
        console.log(LogLevel::Info, "starting...");
        match command {
            Command::Send => commands::send::run(&app, &mut results).await,
            Command::Validate => commands::validate::run(&app, &mut results).await,
            Command::ValidateSend => commands::validate::run_then_send(&app, &mut results).await,
            Command::Delete => commands::delete::run(&app, &mut results).await,
            Command::Truncate => commands::truncate::run(&app, &mut results).await,
            Command::Count => commands::count::run(&app, &mut results).await,
            Command::Fetch => commands::fetch::run(&app, &mut results).await,
            Command::Create => commands::create::run(&app, &mut results).await,
        }
    });
    let runtime = started.elapsed().as_secs_f64();
    results.finish(command, now_iso(), runtime);
    // `count` writes its own results file (the Python tool's count table)
    if let Some(path) = args
        .results_file
        .as_ref()
        .filter(|_| command != Command::Count)
    {
        if let Some(parent) = Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        std::fs::write(path, results.to_json())
            .map_err(|e| Fatal(format!("cannot write results file {path}: {e}")))?;
    }
    outcome?;
    if matches!(command, Command::Count | Command::Create) {
        // no payloads to summarize
        console.log(LogLevel::Info, "done!");
        return Ok(results.exit_code(command, args.strict));
    }
    let totals = results.totals();
    print_failures(console, &results);
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
    let code = results.exit_code(command, args.strict);
    if code == 99 {
        console.log(LogLevel::Info, "all payloads skipped");
    } else if totals.processed > 0 && totals.processed == totals.failed {
        console.log(LogLevel::Info, "all payloads failed");
    }
    Ok(code)
}

/// The first failures of each endpoint on the console (all of them are in the results file).
fn print_failures(console: &Console, results: &RunResults) {
    const SHOWN: usize = 10;
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
            let lines: Vec<String> = f.line_numbers.iter().take(10).map(u64::to_string).collect();
            let more = if f.line_numbers.len() > 10 {
                ", ..."
            } else {
                ""
            };
            console.log(
                LogLevel::Warning,
                &format!(
                    "  ({} x{}) {} [{} line {}{more}]",
                    kind_label(&f.kind),
                    f.count,
                    // an API's validation message may hold line breaks: one log line each
                    f.message.replace(['\n', '\r'], " "),
                    f.file,
                    lines.join(", ")
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

fn kind_label(kind: &lightbeam_core::results::FailureKind) -> String {
    match kind {
        lightbeam_core::results::FailureKind::Status(s) => s.to_string(),
        lightbeam_core::results::FailureKind::Method(m) => m.clone(),
    }
}
