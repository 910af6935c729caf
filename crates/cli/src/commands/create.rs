//! `lightbeam create`: an earthmover project (`earthmover.yml`, `templates/{endpoint}.jsont`)
//! for the selected endpoints, in the working directory.

use crate::app::App;
use crate::Fatal;
use lightbeam_cli::output::FsOutput;
use lightbeam_core::results::RunResults;
use lightbeam_core::run::create::create;

pub async fn run(app: &App<'_>, _results: &mut RunResults) -> Result<(), Fatal> {
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    let model = app.model(&session).await?;
    create(&session, &model, &selected, &FsOutput::new(".")).await?;
    Ok(())
}
