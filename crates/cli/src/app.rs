//! What every command shares: the parsed flags, the config, the ports, and the common steps
//! (session, endpoint selection, data files in dependency levels).

use crate::console::Console;
use crate::http::ReqwestHttp;
use crate::{Args, Fatal, TokioClock};
use lightbeam_cli::cache::FileCache;
use lightbeam_cli::files::list_data_dir;
use lightbeam_cli::state::SqliteState;
use lightbeam_core::api::dependencies::Dependencies;
use lightbeam_core::api::session::Session;
use lightbeam_core::config::Config;
use lightbeam_core::data::files::{discover, Discovery};
use lightbeam_core::data::selectors::select_endpoints;
use lightbeam_core::ports::{Cache, LogLevel, StateStore};
use lightbeam_core::run::send::{plan_levels, EndpointPlan};
use lightbeam_core::state::{parse_status_codes, parse_timestamp, ResendCriteria};
use std::path::Path;

pub struct App<'a> {
    pub args: &'a Args,
    pub config: &'a Config,
    pub console: &'a Console,
    pub http: &'a ReqwestHttp,
    pub clock: &'a TokioClock,
    pub state: Option<&'a SqliteState>,
    /// `{state_dir}/cache` (OpenAPI documents, descriptor values); none without a state_dir.
    pub cache: Option<&'a FileCache>,
}

impl<'a> App<'a> {
    /// Connect to the API (discovery; no token yet).
    pub async fn session(&self) -> Result<Session<'a>, Fatal> {
        Ok(Session::connect(self.config, self.http, self.clock, self.console).await?)
    }

    /// The API's endpoint model from its OpenAPI documents (through the cache).
    pub async fn model(
        &self,
        session: &Session<'_>,
    ) -> Result<lightbeam_core::api::openapi::Model, Fatal> {
        Ok(session.model(self.cache.map(|c| c as &dyn Cache)).await?)
    }

    pub fn state_port(&self) -> Option<&'a dyn StateStore> {
        self.state.map(|s| s as &dyn StateStore)
    }

    /// The endpoints chosen by `-s` and `-e`, in dependency order.
    pub fn selected(&self, deps: &Dependencies) -> Result<Vec<String>, Fatal> {
        let all = deps.endpoints();
        Ok(select_endpoints(
            &all,
            self.args.selector.as_deref().unwrap_or("*"),
            self.args.exclude.as_deref().unwrap_or(""),
        )?)
    }

    /// The data files under `data_dir` for the API's endpoints; unknown files are warned about.
    pub fn discover_data(&self, deps: &Dependencies) -> Result<Discovery, Fatal> {
        let dir = &self.config.data_dir;
        if !Path::new(dir).is_dir() {
            return Err(Fatal(format!("`data_dir` {dir} is not a directory")));
        }
        let listing = list_data_dir(Path::new(dir))
            .map_err(|e| Fatal(format!("cannot read data_dir {dir}: {e}")))?;
        let discovery = discover(&listing, &deps.endpoints());
        for u in discovery.unmatched() {
            self.console.log(LogLevel::Warning, &u.to_string());
        }
        Ok(discovery)
    }

    /// The selected endpoints that have data files, with their files, by dependency level.
    pub fn data_levels(
        &self,
        deps: &Dependencies,
        selected: &[String],
        discovery: &Discovery,
    ) -> Result<Vec<Vec<EndpointPlan>>, Fatal> {
        let levels = plan_levels(deps, selected, discovery, |rel| {
            display_path(&self.config.data_dir, rel)
        });
        if levels.is_empty() {
            return Err(Fatal(format!(
                "`data_dir` {} has no *.jsonl files for selected endpoints",
                self.config.data_dir
            )));
        }
        Ok(levels)
    }

    /// The resend flags `-f`, `-o`, `-n`, `-r`.
    pub fn criteria(&self) -> Result<ResendCriteria, Fatal> {
        let args = self.args;
        let offset = chrono::Local::now().offset().local_minus_utc();
        Ok(ResendCriteria {
            force: args.force,
            older_than: args
                .older_than
                .as_deref()
                .map(|t| parse_timestamp(t, offset))
                .transpose()
                .map_err(|e| Fatal(format!("-o/--older-than: {e}")))?,
            newer_than: args
                .newer_than
                .as_deref()
                .map(|t| parse_timestamp(t, offset))
                .transpose()
                .map_err(|e| Fatal(format!("-n/--newer-than: {e}")))?,
            resend_status_codes: match args.resend_status_codes.as_deref() {
                // the error names -r/--resend-status-codes already
                Some(r) if !r.trim().is_empty() => parse_status_codes(r).map_err(Fatal::from)?,
                _ => Vec::new(),
            },
        })
    }
}

/// `data_dir` joined with a relative path, as the Python tool prints file names.
pub fn display_path(data_dir: &str, rel: &str) -> String {
    if data_dir.ends_with('/') {
        format!("{data_dir}{rel}")
    } else {
        format!("{data_dir}/{rel}")
    }
}
