//! Tests across modules: train / eval behaviour, prediction, save / load.

mod modes;
mod native;
#[cfg(feature = "ort")]
mod onnx;
mod predict;
mod save_load;

use burn::tensor::{Device, Distribution, Tensor};

/// A deterministic pseudo-spectrogram `(frames, 229)`: values in [0, 2).
pub(crate) fn features(frames: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    (0..frames * crate::transcription::INPUT_BINS)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 23) as f32
        })
        .collect()
}

pub(crate) fn random_input(shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::random(shape, Distribution::Default, device)
}
