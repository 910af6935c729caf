//! The commands: one module each.

pub mod count;
pub mod create;
pub mod delete;
pub mod fetch;
pub mod send;
pub mod truncate;
