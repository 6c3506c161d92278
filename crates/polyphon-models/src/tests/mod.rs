//! Tests across modules: train / eval behaviour.

mod modes;

use burn::tensor::{Device, Distribution, Tensor};

pub(crate) fn random_input(shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::random(shape, Distribution::Default, device)
}
