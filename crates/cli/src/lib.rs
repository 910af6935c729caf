pub mod cache;
pub mod files;
pub mod output;
pub mod state;
