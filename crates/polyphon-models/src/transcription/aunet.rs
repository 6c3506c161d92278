//! AUNet: the U-Net of Kelz & Widmer 2017 (their Table 3), on patches of 256 frames × 256
//! bins (the 229 bins of the log-filtered spectrogram zero-padded at the top), giving 88 note
//! logits for each of the 256 frames.
//!
//! # Where this layer table comes from
//!
//! What is known of the paper's network: a U-Net with ELU activations, 2×2 max-pooling on the
//! way down, upscaling (not transposed convolution) on the way up, concatenation skip
//! connections, a last layer that is a 1×41 convolution yielding 88 outputs per frame, and a
//! total of **964,673** parameters. The table itself could not be consulted while writing this
//! crate (the stored copies of the paper available here end before its appendix), so the
//! layer widths below are *derived*, not transcribed.
//!
//! The derivation: count as the paper counts its other two networks (Lasagne's
//! `count_params`: a convolution wrapped by `batch_norm` loses its bias and the batch norm
//! holds 4 values per channel) and search U-Nets of 3×3 'same' convolutions with 1–3
//! convolutions per level, 2–5 poolings, widths from {8, 16, 24, 32, 48, 64, 96, 128, 160,
//! 192, 256, 320, 384, 512} non-decreasing with depth, upscaling alone or followed by a 2×2
//! or 3×3 convolution, concatenation, and a head that is either the 1×41 convolution from the
//! top level's channels to one map or a 1×1 convolution to one map followed by it. Exactly two
//! configurations total 964,673: the one below (two convolutions per level, pure upscaling,
//! as described) and one with three convolutions per level, 3×3 convolutions after each
//! upscaling and widths 32–64–160. With plain biased convolutions and no batch norm, none
//! does. The table:
//!
//! | stage                          | channels        | count   |
//! |--------------------------------|-----------------|---------|
//! | level 0 (256×256) down         | 1→32→32         | 9,760   |
//! | level 1 (128×128) down         | 32→32→32        | 18,688  |
//! | level 2 (64×64) down           | 32→64→64        | 55,808  |
//! | level 3 (32×32) down           | 64→64→64        | 74,240  |
//! | bottleneck (16×16)             | 64→192→192      | 443,904 |
//! | level 3 up: upscale, concat    | 192+64→64→64    | 184,832 |
//! | level 2 up: upscale, concat    | 64+64→64→64     | 111,104 |
//! | level 1 up: upscale, concat    | 64+32→32→32     | 37,120  |
//! | level 0 up: upscale, concat    | 32+32→32→32     | 27,904  |
//! | head: max-pool 1×2, conv 1×41  | 32→1 (bias)     | 1,313   |
//! | total                          |                 | 964,673 |
//!
//! Each "a→b→c" is conv 3×3 (a→b) → BN → ELU → conv 3×3 (b→c) → BN → ELU; each level down
//! ends in a 2×2 max-pool, each level up starts with a ×2 nearest-neighbour upscale of the
//! level below and its concatenation (upscaled first) with the level's down output. The head
//! is our reading of "a 1×41 convolution to 88 outputs per frame": it max-pools the top
//! level's frequency axis 256 → 128, and the 1×41 'valid' convolution takes it to
//! 128 − 41 + 1 = 88, one logit per note and frame, time untouched.
//!
//! If the paper's table is found to differ, only this file changes.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2d;
use burn::nn::Initializer;
use burn::tensor::activation::elu;
use burn::tensor::{Device, Tensor};

use crate::layers::{max_pool, ConvBn, Pad};

/// Frames of one AUNet patch.
pub const PATCH_FRAMES: usize = 256;
/// Frequency bins of one AUNet patch (the input bins, zero-padded).
pub const PATCH_BINS: usize = 256;

/// Channels of levels 0–3 (down and up) and of the bottleneck.
const LEVEL_CHANNELS: [usize; 4] = [32, 32, 64, 64];
const BOTTLENECK_CHANNELS: usize = 192;
const HEAD_KERNEL: usize = 41;

/// Two 3×3 'same' convolutions, each followed by batch norm and ELU.
#[derive(Module, Debug)]
struct DoubleConv {
    first: ConvBn,
    second: ConvBn,
}

impl DoubleConv {
    fn new(inputs: usize, outputs: usize, device: &Device) -> Self {
        Self {
            first: ConvBn::new([inputs, outputs], [3, 3], Pad::Same, device),
            second: ConvBn::new([outputs, outputs], [3, 3], Pad::Same, device),
        }
    }

    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = elu(self.first.forward(input), 1.0);
        elu(self.second.forward(x), 1.0)
    }
}

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct AuNet {
    /// Levels 0–3 on the way down.
    down: Vec<DoubleConv>,
    bottleneck: DoubleConv,
    /// Levels 3–0 on the way up.
    up: Vec<DoubleConv>,
    pool: MaxPool2d,
    head_pool: MaxPool2d,
    head: Conv2d,
}

impl AuNet {
    pub const OUTPUTS: usize = 88;

    pub fn new(device: &Device) -> Self {
        let mut down = Vec::new();
        let mut inputs = 1;
        for &channels in &LEVEL_CHANNELS {
            down.push(DoubleConv::new(inputs, channels, device));
            inputs = channels;
        }
        let bottleneck = DoubleConv::new(inputs, BOTTLENECK_CHANNELS, device);
        let mut up = Vec::new();
        let mut below = BOTTLENECK_CHANNELS;
        for &channels in LEVEL_CHANNELS.iter().rev() {
            up.push(DoubleConv::new(below + channels, channels, device));
            below = channels;
        }
        let head = Conv2dConfig::new([LEVEL_CHANNELS[0], 1], [1, HEAD_KERNEL])
            .with_initializer(Initializer::XavierUniform { gain: 1.0 })
            .init(device);
        Self {
            down,
            bottleneck,
            up,
            pool: max_pool([2, 2]),
            head_pool: max_pool([1, 2]),
            head,
        }
    }

    /// Logits `(batch, 256, 88)` (frame, note) of patches `(batch, 1, 256, 256)`
    /// (time, frequency).
    pub fn forward(&self, input: Tensor<4>) -> Tensor<3> {
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = input;
        for level in &self.down {
            let features = level.forward(x);
            x = self.pool.forward(features.clone());
            skips.push(features);
        }
        x = self.bottleneck.forward(x);
        for (level, skip) in self.up.iter().zip(skips.into_iter().rev()) {
            x = level.forward(Tensor::cat(vec![upscale2(x), skip], 1));
        }
        let x = self.head.forward(self.head_pool.forward(x));
        let [batch, _, frames, notes] = x.dims();
        x.reshape([batch, frames, notes])
    }
}

/// Nearest-neighbour ×2 upscaling of both spatial axes (Lasagne's `Upscale2DLayer`, 'repeat').
fn upscale2(x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, height, width] = x.dims();
    x.reshape([batch, channels, height, 1, width, 1])
        .expand([batch, channels, height, 2, width, 2])
        .reshape([batch, channels, 2 * height, 2 * width])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn upscale_repeats_each_value_in_a_2x2_block() {
        let device = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]),
            &device,
        );
        let y: Vec<f32> = upscale2(x).into_data().try_into_vec_as().unwrap();
        assert_eq!(
            y,
            vec![
                1.0, 1.0, 2.0, 2.0, //
                1.0, 1.0, 2.0, 2.0, //
                3.0, 3.0, 4.0, 4.0, //
                3.0, 3.0, 4.0, 4.0,
            ]
        );
    }
}
