//! ConvNet: Table 1 of Kelz & Widmer 2017 (the frame classifier of Kelz et al. 2016).
//!
//! | layer                          | output (channels × time × frequency) |
//! |--------------------------------|---------------------------------------|
//! | input                          | 1 × 5 × 229                           |
//! | conv 3×3, 32, same → BN → ReLU | 32 × 5 × 229                          |
//! | conv 3×3, 32, valid → BN → ReLU| 32 × 3 × 227                          |
//! | max-pool 1×2 → dropout 0.25    | 32 × 3 × 113                          |
//! | conv 3×3, 64, valid → BN → ReLU| 64 × 1 × 111                          |
//! | max-pool 1×2 → dropout 0.25    | 64 × 1 × 55 (flattened: 3520)         |
//! | dense 512 → BN → ReLU → dropout 0.5 | 512                              |
//! | dense 88 → sigmoid             | 88                                    |
//!
//! Convolutions and the hidden dense layer have no bias (the batch norm's beta replaces it).
//! Parameters: 1,877,880 counted as Lasagne does (batch norm: 4 values per channel).

use burn::module::Module;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Dropout, Linear};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::layers::{batch_norm, dense, dropout, max_pool, ConvBn, Pad};

/// Context frames the ConvNets see: the centre frame and 2 on each side.
pub const CONTEXT_FRAMES: usize = 5;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct ConvNet {
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
    pool: MaxPool2d,
    conv_dropout: Dropout,
    hidden: Linear,
    hidden_bn: BatchNorm,
    hidden_dropout: Dropout,
    output: Linear,
}

impl ConvNet {
    pub const OUTPUTS: usize = 88;
    const FLAT: usize = 64 * 55;

    pub fn new(device: &Device) -> Self {
        Self {
            conv1: ConvBn::new([1, 32], [3, 3], Pad::Same, device),
            conv2: ConvBn::new([32, 32], [3, 3], Pad::Valid, device),
            conv3: ConvBn::new([32, 64], [3, 3], Pad::Valid, device),
            pool: max_pool([1, 2]),
            conv_dropout: dropout(0.25),
            hidden: dense(Self::FLAT, 512, false, true, device),
            hidden_bn: batch_norm(512, device),
            hidden_dropout: dropout(0.5),
            output: dense(512, Self::OUTPUTS, true, false, device),
        }
    }

    /// Logits `(batch, 88)` of context windows `(batch, 1, 5, 229)`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let x = relu(self.conv1.forward(input));
        let x = relu(self.conv2.forward(x));
        let x = self.conv_dropout.forward(self.pool.forward(x));
        let x = relu(self.conv3.forward(x));
        let x = self.conv_dropout.forward(self.pool.forward(x));
        let [batch, ..] = x.dims();
        let x = x.reshape([batch, Self::FLAT]);
        let x = relu(self.hidden_bn.forward(self.hidden.forward(x)));
        self.output.forward(self.hidden_dropout.forward(x))
    }
}
