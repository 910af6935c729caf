//! The lightbeam engine. It knows Ed-Fi, but does no I/O of its own: every face
//! (CLI, web app) reaches the world through the ports defined in [`ports`].

pub mod api;
pub mod config;
pub mod data;
pub mod ports;
pub mod pycompat;
pub mod results;
pub mod run;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod timestamps;
pub mod uniform;
pub mod validate;
