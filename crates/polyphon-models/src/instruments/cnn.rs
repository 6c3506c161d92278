//! The seed's small CNN: two convolutions and a dense head.
//!
//! | layer                                   | output (channels × bands × frames) |
//! |-----------------------------------------|-------------------------------------|
//! | input                                   | 1 × 128 × 251                       |
//! | conv 3×3, 16, same → BN → ReLU          | 16 × 128 × 251                      |
//! | max-pool 4×4                            | 16 × 32 × 62                        |
//! | conv 3×3, 32, same → BN → ReLU          | 32 × 32 × 62                        |
//! | max-pool 4×4                            | 32 × 8 × 15 (flattened: 3,840)      |
//! | dense 64 → ReLU → dropout 0.5           | 64                                  |
//! | dense N                                 | N logits                            |
//!
//! 4×4 pooling rather than 2×2 keeps the flattened layer at 3,840 values; after 2×2 pooling
//! the dense layer alone would hold 4 million weights.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

const CHANNELS: [usize; 2] = [16, 32];
const POOL: usize = 4;
const HIDDEN: usize = 64;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct Cnn {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    pool: MaxPool2d,
    hidden: Linear,
    dropout: Dropout,
    output: Linear,
}

impl Cnn {
    pub fn new(bins: usize, frames: usize, classes: usize, device: &Device) -> Self {
        let conv = |channels: [usize; 2]| {
            Conv2dConfig::new(channels, [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device)
        };
        let flat = CHANNELS[1] * (bins / POOL / POOL) * (frames / POOL / POOL);
        Self {
            conv1: conv([1, CHANNELS[0]]),
            bn1: BatchNormConfig::new(CHANNELS[0]).init(device),
            conv2: conv([CHANNELS[0], CHANNELS[1]]),
            bn2: BatchNormConfig::new(CHANNELS[1]).init(device),
            pool: MaxPool2dConfig::new([POOL, POOL])
                .with_strides([POOL, POOL])
                .init(),
            hidden: LinearConfig::new(flat, HIDDEN).init(device),
            dropout: DropoutConfig::new(0.5).init(),
            output: LinearConfig::new(HIDDEN, classes).init(device),
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self
            .pool
            .forward(relu(self.bn1.forward(self.conv1.forward(images))));
        let x = self
            .pool
            .forward(relu(self.bn2.forward(self.conv2.forward(x))));
        let x: Tensor<2> = x.flatten(1, 3);
        let x = self.dropout.forward(relu(self.hidden.forward(x)));
        self.output.forward(x)
    }
}
