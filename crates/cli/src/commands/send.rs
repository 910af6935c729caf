//! `lightbeam send`.

use crate::app::App;
use crate::Fatal;
use lightbeam_cli::files::FsDataSource;
use lightbeam_core::results::RunResults;
use lightbeam_core::run::send::send;
use std::path::PathBuf;

pub async fn run(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let criteria = app.criteria()?;
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    let discovery = app.discover_data(&deps)?;
    let levels = app.data_levels(&deps, &selected, &discovery)?;
    // file names are data_dir-joined paths, valid from the working directory
    let source = FsDataSource::new(PathBuf::from("."));
    send(
        &session,
        &levels,
        &source,
        app.state_port(),
        &criteria,
        results,
    )
    .await?;
    Ok(())
}
