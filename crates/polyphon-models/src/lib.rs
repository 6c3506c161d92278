//! The seed transcription networks of Kelz & Widmer 2017, "An Experimental Analysis of the
//! Entanglement Problem in Neural-Network-based Music Transcription Systems", in burn 0.22:
//!
//! - [`ConvNet`] (Table 1, 1,877,880 parameters): 5-frame context windows → 88 notes;
//! - [`SmallConvNet`] (Table 2, 5,327 parameters): the same pattern with 8 channels, 23 outputs;
//! - [`AuNet`] (Table 3, 964,673 parameters): a U-Net on 256 × 256 patches → 88 notes per frame
//!   (its layer table is derived from the published count, see the [`AuNet`] documentation).
//!
//! All take the log-filtered spectrogram of `polyphon_features::FeatureSpec::kelz2016()`
//! (229 bins, 100 frames/s) and return logits. Layout, after burn's MNIST example:
//! [`model`] (the networks), [`training`] (loss, Adam, one optimisation step), [`inference`]
//! ([`TranscriptionModel::predict`]: windows, chunks, sigmoid) and [`store`] (save / load).
//!
//! Backends: burn 0.22 selects the backend through the [`Device`](burn::tensor::Device), so the
//! networks have no backend type parameter. The default is burn's `flex` CPU backend; the
//! crate feature `cuda` makes [`default_device`] CUDA device 0. Training uses the same types on
//! an autodiff device ([`training_device`]); `Module::valid()` gives the inference copy.
//!
//! [`instruments`] holds the instrument-family classifiers (MLP, CNN, ResNet-18) and
//! [`separation`] holds the source-separation networks (spectrogram U-Net, U-Net + BiLSTM).

mod arch;
mod device;
mod error;
pub mod inference;
pub mod instruments;
pub mod model;
mod params;
pub mod patches;
pub mod separation;
pub mod store;
pub mod training;

pub use arch::{Architecture, FEATURE_SPEC_NAME, INPUT_BINS};
pub use device::{default_device, training_device};
pub use error::{ModelError, Result};
pub use inference::{TranscriptionModel, DEFAULT_CHUNK_FRAMES};
pub use model::{AuNet, ConvNet, Network, SmallConvNet, CONTEXT_FRAMES, PATCH_BINS, PATCH_FRAMES};
pub use params::{lasagne_param_count, trainable_param_count, trainable_tensor_count};
pub use store::{ModelDescription, Precision};
pub use training::{adam, bce_loss, step, union_consistency_loss};

/// burn itself, so that users build tensors and devices with the same version.
pub use burn;

#[cfg(test)]
mod tests;
