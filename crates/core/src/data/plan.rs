//! The plan of a run's data: the selected endpoints that have data files, with their files, by
//! dependency level; every data file found (validation reads local descriptors and referenced
//! records from any of them); and the files that match no endpoint.

use super::files::{discover, DataFile, Unmatched};
use crate::api::dependencies::Dependencies;
use crate::ports::{DataSource, SourceError};

/// One endpoint with its data files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPlan {
    pub endpoint: String,
    pub files: Vec<DataFile>,
}

/// The data of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataPlan {
    /// The selected endpoints with data files, by dependency level.
    pub levels: Vec<Vec<EndpointPlan>>,
    /// Every data file found, for any endpoint of the API, in dependency order.
    pub files: Vec<DataFile>,
    /// Files with a data extension that match no endpoint.
    pub unmatched: Vec<Unmatched>,
}

impl DataPlan {
    /// Lists `source` and plans the `selected` endpoints (in dependency order).
    pub async fn read(
        source: &dyn DataSource,
        deps: &Dependencies,
        selected: &[String],
    ) -> Result<DataPlan, SourceError> {
        let listing = source.list().await?;
        Ok(DataPlan::of_listing(&listing, source, deps, selected))
    }

    /// Plans from a listing already made.
    pub fn of_listing(
        listing: &[String],
        source: &dyn DataSource,
        deps: &Dependencies,
        selected: &[String],
    ) -> DataPlan {
        let discovery = discover(listing, &deps.endpoints(), &|p| source.display_name(p));
        let with_data = discovery.endpoints_with_data(selected);
        let levels = deps
            .levels_of(&with_data)
            .into_iter()
            .map(|level| {
                level
                    .into_iter()
                    .map(|endpoint| EndpointPlan {
                        files: discovery.files_for(&endpoint).cloned().collect(),
                        endpoint,
                    })
                    .collect()
            })
            .collect();
        DataPlan {
            levels,
            files: discovery.files().to_vec(),
            unmatched: discovery.unmatched().to_vec(),
        }
    }

    /// Whether no selected endpoint has data.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The planned endpoints in dependency order.
    pub fn endpoints(&self) -> impl Iterator<Item = &EndpointPlan> {
        self.levels.iter().flatten()
    }

    /// The names of the planned endpoints, by dependency level.
    pub fn level_names(&self) -> Vec<Vec<String>> {
        self.levels
            .iter()
            .map(|l| l.iter().map(|p| p.endpoint.clone()).collect())
            .collect()
    }

    /// The data files of a planned endpoint (none when it is not planned).
    pub fn files_of(&self, endpoint: &str) -> Vec<DataFile> {
        self.endpoints()
            .find(|p| p.endpoint == endpoint)
            .map(|p| p.files.clone())
            .unwrap_or_default()
    }
}
