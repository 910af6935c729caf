//! What `send` and `delete` work on: the payload lines of the selected endpoints' data files,
//! with the state of each payload and the resend flags.

use super::scheduler::{Prepared, Work};
use super::RunError;
use crate::api::session::Session;
use crate::data::lines::{count_lines, file_lines, LineError};
use crate::data::plan::DataPlan;
use crate::ports::{DataFile, DataSource, DigestMap, PayloadState, StateStore};
use crate::state::ResendCriteria;
use futures::stream::{LocalBoxStream, StreamExt};

/// The payloads of a run and what decides their fate.
pub struct Payloads<'a, 's> {
    pub session: &'a Session<'s>,
    pub data: &'a DataPlan,
    pub source: &'a dyn DataSource,
    pub state: Option<&'a dyn StateStore>,
    pub criteria: &'a ResendCriteria,
}

impl Payloads<'_, '_> {
    /// The last outcome of every payload of `endpoint` the state knows (none without state).
    pub(crate) async fn known(&self, endpoint: &str) -> Result<DigestMap<PayloadState>, RunError> {
        Ok(match self.state {
            Some(state) => state.load(endpoint).await?,
            None => DigestMap::default(),
        })
    }

    /// The data files of `endpoint` and how many payload lines they hold.
    pub(crate) async fn files(&self, endpoint: &str) -> Result<(Vec<DataFile>, u64), RunError> {
        let files = self.data.files_of(endpoint);
        let total = count_lines(self.source, &files).await?;
        Ok((files, total))
    }

    /// The payload lines of `files` as work items of endpoint `ep`.
    pub(crate) fn lines_of(
        &self,
        ep: usize,
        files: &[DataFile],
    ) -> LocalBoxStream<'_, Result<Work<Result<String, LineError>>, RunError>> {
        let files = files.iter().map(|f| (ep, f.clone())).collect();
        file_lines(self.source, files)
            .map(|line| {
                let line = line?;
                Ok(Work {
                    ep: line.ep,
                    file: line.file,
                    line: line.line.number,
                    item: line.line.text,
                })
            })
            .boxed_local()
    }

    /// The payload lines of a stage's endpoints (each endpoint's files, in order) as work items.
    pub(crate) fn lines<'s, C>(
        &'s self,
        stage: &'s [Prepared<C>],
        files: impl Fn(&'s Prepared<C>) -> &'s [DataFile] + 's,
    ) -> LocalBoxStream<'s, Result<Work<Result<String, LineError>>, RunError>> {
        futures::stream::iter(stage.iter().enumerate())
            .flat_map(move |(ep, p)| self.lines_of(ep, files(p)))
            .boxed_local()
    }
}
