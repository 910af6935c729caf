//! `lightbeam`: drop-in compatible with the Python tool's commands, flags, config, results file
//! and exit codes. The engine (`lightbeam_core::run`) does the work; this binary lends it its
//! ports and shows the outcome.

mod args;
mod clock;
mod confirm;
mod console;
mod error;
mod http;
mod report;
mod run;

use args::Args;
use clap::Parser;
use console::Console;
use lightbeam_core::ports::LogLevel;

fn main() {
    let args = Args::parse();
    let console = Console::new(true);
    if args.version {
        // The Python tool's line first (scripts may parse it), then what this build is.
        println!(
            "lightbeam, version {} (lightbeam-rs, commit {})",
            env!("CARGO_PKG_VERSION"),
            env!("LIGHTBEAM_COMMIT")
        );
        std::process::exit(0);
    }
    let code = match run::run(&args, &console) {
        Ok(code) => code,
        Err(e) => {
            console.log(LogLevel::Critical, &e.to_string());
            e.exit_code()
        }
    };
    std::process::exit(code);
}
