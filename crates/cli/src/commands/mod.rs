//! One module per command.

pub mod send;
