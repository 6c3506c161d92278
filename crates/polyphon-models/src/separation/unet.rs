//! The spectrogram U-Net of Jansson et al. (2017): seven stride-2 encoder levels, seven
//! decoder levels with skip connections, one mask per source.
//!
//! | level | encoder output (channels × frames × bins) | decoder input (after the skip) |
//! |-------|-------------------------------------------|--------------------------------|
//! | input | 1 × 128 × 512                             |                                |
//! | 1     | 8 × 64 × 256                              | 8 + 8                          |
//! | 2     | 16 × 32 × 128                             | 16 + 16                        |
//! | 3     | 32 × 16 × 64                              | 32 + 32                        |
//! | 4     | 64 × 8 × 32                               | 64 + 64                        |
//! | 5     | 64 × 4 × 16                               | 64 + 64                        |
//! | 6     | 64 × 2 × 8                                | 64 + 64                        |
//! | 7     | 64 × 1 × 4                                | (bottleneck)                   |
//!
//! The decoder mirrors the encoder with transposed convolutions; its three deepest levels
//! use dropout 0.5. The channel widths are a quarter of Jansson et al.'s (16 … 512), so the
//! network trains on a 2-core CPU (1.0 M parameters); input sizes must be multiples of 128.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{Down, Up};

/// Encoder widths, level 1 to 7.
const WIDTHS: [usize; 7] = [8, 16, 32, 64, 64, 64, 64];
/// Decoder levels (counted from the bottleneck) that use dropout.
const DROPOUT_LEVELS: usize = 3;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct UNet {
    pub(super) down: Vec<Down>,
    pub(super) up: Vec<Up>,
}

impl UNet {
    /// Frames and bins must be divisible by this.
    pub const MULTIPLE: usize = 1 << WIDTHS.len();

    pub fn new(sources: usize, device: &Device) -> Self {
        let mut inputs = 1;
        let down = WIDTHS
            .iter()
            .map(|&width| {
                let level = Down::new([inputs, width], device);
                inputs = width;
                level
            })
            .collect();
        // Decoder level i (from the bottleneck) reads the previous level's output, concatenated
        // with the encoder's skip except at the bottleneck, and writes the width of the encoder
        // level it returns to.
        let mut up = Vec::with_capacity(WIDTHS.len());
        for i in 0..WIDTHS.len() {
            let level = WIDTHS.len() - 1 - i;
            let input = if i == 0 {
                WIDTHS[level]
            } else {
                2 * WIDTHS[level]
            };
            up.push(if level == 0 {
                Up::output([input, sources], device)
            } else {
                Up::new([input, WIDTHS[level - 1]], i < DROPOUT_LEVELS, device)
            });
        }
        Self { down, up }
    }

    /// Mask logits `(batch, sources, frames, bins)` of an input `(batch, 1, frames, bins)`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = input;
        for level in &self.down {
            x = level.forward(x);
            skips.push(x.clone());
        }
        skips.pop(); // the bottleneck itself is not a skip
        for level in &self.up {
            x = level.forward(x);
            if let Some(skip) = skips.pop() {
                x = Tensor::cat(vec![x, skip], 1);
            }
        }
        x
    }
}
