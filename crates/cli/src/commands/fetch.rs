//! `lightbeam fetch`: every record of the selected endpoints into `{data_dir}/{endpoint}.jsonl`.

use crate::app::App;
use crate::Fatal;
use lightbeam_cli::output::FsOutput;
use lightbeam_core::ports::LogLevel;
use lightbeam_core::results::RunResults;
use lightbeam_core::run::fetch::{fetch, parse_query, FetchOptions, MAX_PAGE_SIZE};

pub async fn run(app: &App<'_>, results: &mut RunResults) -> Result<(), Fatal> {
    let query = parse_query(app.args.query.as_deref().unwrap_or(""))?;
    let mut page_size = u64::from(app.config.fetch.page_size);
    if page_size > MAX_PAGE_SIZE {
        app.console.log(
            LogLevel::Warning,
            &format!("fetch.page_size {page_size} is more than the API's maximum of {MAX_PAGE_SIZE}; fetching pages of {MAX_PAGE_SIZE}"),
        );
        page_size = MAX_PAGE_SIZE;
    }
    let session = app.session().await?;
    let deps = session.dependencies().await?;
    let selected = app.selected(&deps)?;
    // the OpenAPI documents are needed only to vet -q keys
    let model = if query.is_empty() {
        None
    } else {
        Some(app.model(&session).await?)
    };
    let options = FetchOptions {
        page_size,
        query,
        keep_keys: app.args.keep_keys.clone().unwrap_or_default(),
        drop_keys: app.args.drop_keys.clone().unwrap_or_default(),
    };
    let out = FsOutput::new(&app.config.data_dir);
    fetch(&session, &selected, model.as_ref(), &options, &out, results).await?;
    Ok(())
}
