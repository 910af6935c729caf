//! The lightbeam engine. It knows Ed-Fi, but does no I/O of its own: every face
//! (CLI, web app) reaches the world through the ports defined here.

pub mod config;
pub mod openapi;
