//! Building blocks shared by the three networks.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Initializer, Linear, LinearConfig,
    PaddingConfig2d,
};
use burn::tensor::{Device, Tensor};

/// Lasagne's `BatchNormLayer` defaults, which the seed networks were trained with.
const BN_EPSILON: f64 = 1e-4;
const BN_MOMENTUM: f64 = 0.1;

/// Glorot-uniform initialisation (Lasagne's default) with the gain for rectifiers.
fn glorot_rectifier() -> Initializer {
    Initializer::XavierUniform {
        gain: std::f64::consts::SQRT_2,
    }
}

/// Padding of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pad {
    /// Output as large as the input (odd kernels only).
    Same,
    /// No padding.
    Valid,
}

/// Convolution without bias followed by batch normalisation: Lasagne's
/// `batch_norm(Conv2DLayer(...))`, which drops the convolution's bias because the batch norm's
/// beta takes its place. The activation is applied by the caller.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

impl ConvBn {
    pub fn new(channels: [usize; 2], kernel: [usize; 2], pad: Pad, device: &Device) -> Self {
        let padding = match pad {
            Pad::Same => {
                debug_assert!(kernel.iter().all(|k| k % 2 == 1));
                PaddingConfig2d::Explicit(
                    kernel[0] / 2,
                    kernel[1] / 2,
                    kernel[0] / 2,
                    kernel[1] / 2,
                )
            }
            Pad::Valid => PaddingConfig2d::Valid,
        };
        Self {
            conv: Conv2dConfig::new(channels, kernel)
                .with_padding(padding)
                .with_bias(false)
                .with_initializer(glorot_rectifier())
                .init(device),
            bn: batch_norm(channels[1], device),
        }
    }

    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(input))
    }
}

/// Batch normalisation with Lasagne's epsilon and running-average factor.
pub fn batch_norm(features: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(features)
        .with_epsilon(BN_EPSILON)
        .with_momentum(BN_MOMENTUM)
        .init(device)
}

/// Dense layer; `bias: false` for one followed by batch norm.
pub fn dense(
    inputs: usize,
    outputs: usize,
    bias: bool,
    rectifier: bool,
    device: &Device,
) -> Linear {
    let initializer = if rectifier {
        glorot_rectifier()
    } else {
        Initializer::XavierUniform { gain: 1.0 }
    };
    LinearConfig::new(inputs, outputs)
        .with_bias(bias)
        .with_initializer(initializer)
        .init(device)
}

/// Max pooling with stride equal to the pool size.
pub fn max_pool(size: [usize; 2]) -> MaxPool2d {
    MaxPool2dConfig::new(size).init()
}

/// Element-wise dropout (Lasagne's `DropoutLayer`, rescaling kept values by 1 / (1 - p)).
pub fn dropout(prob: f64) -> Dropout {
    DropoutConfig::new(prob).init()
}
