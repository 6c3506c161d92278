//! The seed networks. Each returns logits; apply a sigmoid for note probabilities.

mod aunet;
mod convnet;
pub(crate) mod layers;
mod network;
mod small_convnet;

pub use aunet::{AuNet, PATCH_BINS, PATCH_FRAMES};
pub use convnet::{ConvNet, CONTEXT_FRAMES};
pub use network::Network;
pub use small_convnet::SmallConvNet;
