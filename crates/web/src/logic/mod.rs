//! The page's pure logic, built and unit-tested natively too (`cargo test -p lightbeam-web`):
//! what the panels show, computed from the form, the engine's events and its outcome. Nothing
//! here touches the browser.

pub mod files;
pub mod form;
pub mod format;
pub mod job;
pub mod plan;
pub mod progress;
pub mod results;
pub mod saved;
