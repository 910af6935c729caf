//! What stops a run: one error type for every command, carrying the typed errors of the API
//! session, the ports and the user's input until a face prints them.

use crate::api::session::SessionError;
use crate::data::lines::ReadError;
use crate::data::selectors::SelectorError;
use crate::ports::{OutputError, SourceError, StoreError};
use crate::run::create::CreateError;
use crate::run::fetch::QueryError;
use crate::state::CriteriaError;
use crate::validate::ValidateError;

/// What stops a run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    /// Discovery, credentials, the API's metadata, a request that stops the run.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// `-s`/`-e` select nothing, or name what is not there.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// `-o`, `-n`, `-r`.
    #[error(transparent)]
    Resend(#[from] CriteriaError),
    /// `-q`.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// `fetch --changes` and the change-version flags.
    #[error(transparent)]
    Changes(#[from] crate::run::changes::ChangesError),
    /// The data files could not be listed.
    #[error(transparent)]
    Listing(SourceError),
    #[error("{location} has no *.jsonl files for selected endpoints")]
    NoData { location: String },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    State(#[from] StoreError),
    #[error("cannot write {file}: {error}")]
    Write {
        file: String,
        #[source]
        error: OutputError,
    },
    #[error(transparent)]
    Create(#[from] CreateError),
    #[error("the endpoint {0} is not in the API's OpenAPI documents, so its identity is unknown")]
    UnknownEndpoint(String),
    #[error("refusing to {verb} without confirmation: stdin is not a terminal to type \"yes\" on; pass --yes or set `force_delete: true` in the config")]
    Unconfirmed { verb: &'static str },
    #[error("refusing to truncate without -s/--selector: that deletes every record of all {endpoints} endpoints of the API and needs \"yes\" typed on a terminal; select endpoints with -s (-s '*' for all of them)")]
    TruncateAllUnconfirmed { endpoints: usize },
    #[error("You did not type \"yes\" - exiting.")]
    NotConfirmed,
    /// Descriptor values or references could not be read, or `max_failures` was reached.
    #[error(transparent)]
    Validation(#[from] ValidateError),
    /// `validate+send` found invalid payloads, so it sent nothing.
    #[error("validation failed for {failed} of {processed} payloads; nothing was sent (see the failures above; `send` sends without validating)")]
    NotSent { failed: u64, processed: u64 },
}

impl RunError {
    /// `validate+send` where every payload failed validation: the results say it all (the exit
    /// code is then 1, as the Python tool's).
    pub fn every_payload_failed(&self) -> bool {
        matches!(self, RunError::NotSent { failed, processed } if failed == processed)
    }
}
