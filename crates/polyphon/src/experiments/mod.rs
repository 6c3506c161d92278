//! The seed paper's experiments, one function each, from synthesis to a report folder.

pub mod fluid;

pub use fluid::{run_fluid_experiment, FluidProgress, FluidSettings};
