//! The networks of polyphon in burn 0.22, one room per job, each with its networks,
//! inference and storage:
//!
//! - [`transcription`]: the networks of Kelz & Widmer 2017 (ConvNet, SmallConvNet, AUNet) on
//!   the log-filtered spectrogram, and [`transcription::TranscriptionModel`] that runs them;
//! - [`instruments`]: the instrument-family classifiers (MLPs, frame networks, CNN,
//!   ResNet-18) and their ensembles;
//! - [`separation`]: the source-separation networks (spectrogram U-Net, U-Net + BiLSTM).
//!
//! Shared by all: [`training`] (losses, Adam, one optimisation step), the model files'
//! [`Precision`], parameter counts as Lasagne counts them, and the devices.
//!
//! Backends: burn 0.22 selects the backend through the [`Device`](burn::tensor::Device), so the
//! networks have no backend type parameter. The default is burn's `flex` CPU backend; the
//! crate feature `cuda` makes [`default_device`] CUDA device 0. Training uses the same types on
//! an autodiff device ([`training_device`]); `Module::valid()` gives the inference copy.

mod device;
mod engine;
mod error;
mod fold;
pub mod instruments;
pub(crate) mod layers;
mod matrix;
mod params;
pub mod separation;
mod storage;
pub mod training;
pub mod transcription;

pub use device::{default_device, training_device};
pub use engine::Engine;
pub use error::{ModelError, Result};
pub use params::{lasagne_param_count, trainable_param_count, trainable_tensor_count};
pub use storage::Precision;
pub use training::{adam, bce_loss, step, union_consistency_loss};

/// burn itself, so that users build tensors and devices with the same version.
pub use burn;
