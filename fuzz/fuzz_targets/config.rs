//! The config loader: any text, with `${VAR}` expansion, `-p` params and `--set` overrides, gives
//! a config or an error naming a line or key; never a panic.
//!
//! Input: YAML text, optionally followed by a line `--set` and then `key value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lightbeam_core::config::{parse_params, parse_set_args, Config, LoadOptions};

fn env(name: &str) -> Option<String> {
    // some variables exist, some do not; values that are themselves YAML-ish
    match name.len() % 4 {
        0 => None,
        1 => Some("value".to_string()),
        2 => Some("8".to_string()),
        _ => Some("{a: [1, 2]}\n  - x".to_string()),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (yaml, sets) = match text.split_once("\n--set\n") {
        Some((y, s)) => (y, Some(s)),
        None => (text.as_ref(), None),
    };
    let mut opts = LoadOptions {
        env: &env,
        current_year: Some(2025),
        home_dir: Some("/home/user".to_string()),
        ..LoadOptions::default()
    };
    if let Some(sets) = sets {
        let args: Vec<String> = sets.split_whitespace().map(str::to_string).collect();
        if let Ok(overrides) = parse_set_args(&args) {
            opts.overrides = overrides;
        }
        // the same text as `-p` JSON
        if let Ok(params) = parse_params(sets) {
            opts.params = params;
        }
    }
    match Config::from_yaml(yaml, &opts) {
        Ok(config) => {
            // a loaded config is usable: its values are within their documented ranges
            let _ = format!("{config:?}");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.trim().is_empty(), "an empty error message");
        }
    }
});
