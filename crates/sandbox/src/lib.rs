//! `edfi-sandbox`: a local Ed-Fi ODS/API look-alike for tests, demos and dry runs.

pub mod generate;
pub mod profiles;
pub mod seed;
pub mod server;
pub mod store;
