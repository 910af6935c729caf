pub mod cache;
pub mod files;
pub mod state;
