//! `lightbeam truncate`: delete every record of the selected endpoints, after a confirmation.
//! Without `-s` the whole API would go: then only typing `yes` on a terminal confirms it
//! (`--yes` and `force_delete` do not).

use crate::app::App;
use crate::commands::delete::confirm;
use crate::Fatal;
use lightbeam_core::results::RunResults;
use lightbeam_core::run::truncate::truncate;

pub async fn run(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    let levels = deps.levels_of(&selected);
    let mut endpoints: Vec<String> = levels.iter().flatten().cloned().collect();
    endpoints.reverse();
    let has_selector = app
        .args
        .selector
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    confirm(app, &endpoints, true, has_selector)?;
    truncate(&session, &levels, app.state_port(), results).await?;
    Ok(())
}
