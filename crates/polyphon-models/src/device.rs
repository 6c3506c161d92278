//! Which device the networks run on.
//!
//! burn 0.22 has no backend type parameter: a tensor's backend is carried by its
//! [`Device`], and autodiff is a property of the device (`device.autodiff()`), not a wrapper
//! type. The models of this crate are therefore plain structs that run on whatever device
//! their parameters were created on.

use burn::tensor::Device;

/// The inference device: burn's pure-Rust `flex` CPU backend, or CUDA device 0 when the crate
/// is built with the `cuda` feature.
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        Device::cuda(0)
    }
    #[cfg(not(feature = "cuda"))]
    {
        Device::flex()
    }
}

/// The training device: [`default_device`] with autodiff. A model created (or moved with
/// `Module::to_device`) here records gradients, uses batch statistics in batch norm and applies
/// dropout; `Module::valid()` returns its inference copy on the plain device.
pub fn training_device() -> Device {
    default_device().autodiff()
}
