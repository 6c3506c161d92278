pub mod bench;
pub mod eval;
pub mod features;
pub mod synth;
pub mod train;
pub mod transcribe;
