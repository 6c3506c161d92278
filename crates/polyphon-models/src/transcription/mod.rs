//! The transcription networks of Kelz & Widmer 2017, "An Experimental Analysis of the
//! Entanglement Problem in Neural-Network-based Music Transcription Systems":
//!
//! - [`ConvNet`] (Table 1, 1,877,880 parameters): 5-frame context windows → 88 notes;
//! - [`SmallConvNet`] (Table 2, 5,327 parameters): the same pattern with 8 channels, 23 outputs;
//! - [`AuNet`] (Table 3, 964,673 parameters): a U-Net on 256 × 256 patches → 88 notes per frame
//!   (its layer table is derived from the published count, see the [`AuNet`] documentation).
//!
//! All take the log-filtered spectrogram of `polyphon_features::FeatureSpec::kelz2016()`
//! (229 bins, 100 frames/s) and return logits. [`TranscriptionModel`] runs one in inference
//! mode ([`TranscriptionModel::predict`]: windows, chunks, sigmoid) and saves and loads it
//! ([`store`]); [`patches`] cuts the AUNet's input.

mod arch;
mod aunet;
mod convnet;
mod inference;
pub mod native;
pub mod native_train;
mod network;
#[cfg(feature = "ort")]
pub mod onnx;
pub mod patches;
mod small_convnet;
pub mod store;

pub use arch::{Architecture, FEATURE_SPEC_NAME, INPUT_BINS};
pub use aunet::{AuNet, PATCH_BINS, PATCH_FRAMES};
pub use convnet::{ConvNet, CONTEXT_FRAMES};
pub use inference::{Engine, TranscriptionModel, DEFAULT_CHUNK_FRAMES};
pub use native::NativeConvNet;
pub use network::Network;
pub use small_convnet::SmallConvNet;
pub use store::ModelDescription;

#[cfg(test)]
mod tests;
