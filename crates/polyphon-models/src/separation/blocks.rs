//! Encoder and decoder levels of the spectrogram U-Nets (Jansson et al. 2017, as Spleeter
//! builds them): a 5×5 convolution of stride 2 halves time and frequency, a 5×5 transposed
//! convolution of stride 2 doubles them back.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, Dropout, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::{Device, Tensor};

use crate::layers::{batch_norm, dropout};

const KERNEL: [usize; 2] = [5, 5];
const STRIDE: [usize; 2] = [2, 2];
/// Leaky ReLU slope of the encoder, Jansson et al.'s 0.2.
const LEAK: f64 = 0.2;

/// Convolution (stride 2) → batch norm → leaky ReLU: `(b, c, t, f)` → `(b, c', t/2, f/2)`.
#[derive(Module, Debug)]
pub struct Down {
    pub(super) conv: Conv2d,
    pub(super) bn: BatchNorm,
}

impl Down {
    pub fn new(channels: [usize; 2], device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new(channels, KERNEL)
                .with_stride(STRIDE)
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device),
            bn: batch_norm(channels[1], device),
        }
    }

    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        leaky_relu(self.bn.forward(self.conv.forward(input)), LEAK)
    }
}

/// Transposed convolution (stride 2) → batch norm → ReLU, optionally dropout:
/// `(b, c, t, f)` → `(b, c', 2t, 2f)`. The last level has no batch norm or activation: it
/// gives the mask logits.
#[derive(Module, Debug)]
pub struct Up {
    pub(super) conv: ConvTranspose2d,
    pub(super) bn: Option<BatchNorm>,
    dropout: Option<Dropout>,
}

impl Up {
    pub fn new(channels: [usize; 2], with_dropout: bool, device: &Device) -> Self {
        Self {
            conv: transposed(channels, device),
            bn: Some(batch_norm(channels[1], device)),
            dropout: with_dropout.then(|| dropout(0.5)),
        }
    }

    /// The output level: logits, no normalisation.
    pub fn output(channels: [usize; 2], device: &Device) -> Self {
        Self {
            conv: transposed(channels, device),
            bn: None,
            dropout: None,
        }
    }

    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward(input);
        let Some(bn) = &self.bn else { return x };
        let x = relu(bn.forward(x));
        match &self.dropout {
            Some(dropout) => dropout.forward(x),
            None => x,
        }
    }
}

/// Padding 2 and output padding 1 make the output exactly twice the input.
fn transposed(channels: [usize; 2], device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new(channels, KERNEL)
        .with_stride(STRIDE)
        .with_padding([2, 2])
        .with_padding_out([1, 1])
        .init(device)
}
