//! The data a run reads: which files belong to which endpoint, their lines, the endpoints a
//! selector picks, and the plan of endpoints with data by dependency level.

pub mod files;
pub mod lines;
pub mod plan;
pub mod selectors;
