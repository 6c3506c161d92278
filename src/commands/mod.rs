pub mod bench;
pub mod features;
