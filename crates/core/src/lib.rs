//! The lightbeam engine. It knows Ed-Fi, but does no I/O of its own: every face
//! (CLI, web app) reaches the world through the ports defined here.

pub mod api_errors;
mod civil;
pub mod config;
pub mod count;
pub mod create;
pub mod datafiles;
pub mod delete;
pub mod dependencies;
pub mod fetch;
pub mod hashing;
pub mod lines;
pub mod openapi;
pub mod output;
pub mod ports;
pub mod results;
pub mod retry;
pub mod selectors;
pub mod send;
pub mod session;
pub mod truncate;
pub mod validate;
