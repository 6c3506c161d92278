//! ResNet-18 (He et al. 2016): basic blocks [2, 2, 2, 2], batch norm, global average
//! pooling, then the seed's head (dense 128 → ReLU → dropout 0.5 → dense N).
//!
//! The stem is ImageNet's (7×7 convolution with stride 2, 3×3 max-pool with stride 2), which
//! turns a 128 × 251 mel image into 32 × 63 before the first block. The stage widths are
//! `width · [1, 2, 4, 8]`: the seed used torchvision's 64 (11.2 M parameters); polyphon
//! defaults to 16 (see [`DEFAULT_WIDTH`]) so that training fits a 2-core CPU.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Channels of the first stage. A quarter of torchvision's 64: one sixteenth of the
/// multiply-adds, which makes an epoch of 1,600 mixtures take about a minute on 2 cores.
pub const DEFAULT_WIDTH: usize = 16;
const HEAD: usize = 128;

fn conv(channels: [usize; 2], kernel: usize, stride: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// Two 3×3 convolutions with a shortcut; a 1×1 convolution projects the shortcut when the
/// block changes width or resolution.
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    projection: Option<(Conv2d, BatchNorm)>,
}

impl BasicBlock {
    fn new(inputs: usize, outputs: usize, stride: usize, device: &Device) -> Self {
        let projection = (stride != 1 || inputs != outputs).then(|| {
            (
                conv([inputs, outputs], 1, stride, device),
                bn(outputs, device),
            )
        });
        Self {
            conv1: conv([inputs, outputs], 3, stride, device),
            bn1: bn(outputs, device),
            conv2: conv([outputs, outputs], 3, 1, device),
            bn2: bn(outputs, device),
            projection,
        }
    }

    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let shortcut = match &self.projection {
            Some((conv, bn)) => bn.forward(conv.forward(input.clone())),
            None => input.clone(),
        };
        let x = relu(self.bn1.forward(self.conv1.forward(input)));
        let x = self.bn2.forward(self.conv2.forward(x));
        relu(x + shortcut)
    }
}

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct ResNet18 {
    stem: Conv2d,
    stem_bn: BatchNorm,
    stem_pool: MaxPool2d,
    blocks: Vec<BasicBlock>,
    hidden: Linear,
    dropout: Dropout,
    output: Linear,
}

impl ResNet18 {
    pub fn new(width: usize, classes: usize, device: &Device) -> Self {
        let mut blocks = Vec::new();
        let mut channels = width;
        for (stage, multiple) in [1, 2, 4, 8].into_iter().enumerate() {
            let outputs = width * multiple;
            let stride = if stage == 0 { 1 } else { 2 };
            blocks.push(BasicBlock::new(channels, outputs, stride, device));
            blocks.push(BasicBlock::new(outputs, outputs, 1, device));
            channels = outputs;
        }
        Self {
            stem: conv([1, width], 7, 2, device),
            stem_bn: bn(width, device),
            stem_pool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            blocks,
            hidden: LinearConfig::new(channels, HEAD).init(device),
            dropout: DropoutConfig::new(0.5).init(),
            output: LinearConfig::new(HEAD, classes).init(device),
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = relu(self.stem_bn.forward(self.stem.forward(images)));
        let mut x = self.stem_pool.forward(x);
        for block in &self.blocks {
            x = block.forward(x);
        }
        let [batch, channels, ..] = x.dims();
        let x = x.mean_dim(3).mean_dim(2).reshape([batch, channels]);
        let x = self.dropout.forward(relu(self.hidden.forward(x)));
        self.output.forward(x)
    }
}
