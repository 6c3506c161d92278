//! MLPs on the pooled log-mel vector: hidden 64-32 (the seed's MLP) or 256-128-64-32 (its
//! 5-layer variant).
//!
//! The network takes the same mel image as the convolutional ones and pools it itself into
//! the vector the GBDT uses (per band, the mean and standard deviation over 4 equal time
//! segments: 8 · 128 = 1024 values), so every model reads one input format. A dense layer on
//! the flattened 128 × 251 image would hold 32,128 weights per unit: most of the parameters
//! for no gain in what the seed's MLP could see.
//!
//! `mlp-norm` ([`NormalizedMlp`]) puts a batch normalisation on the pooled vector. Its two
//! halves have different scales: the means of the [-1, 1] image spread over most of that
//! range, the standard deviations over time (a note's attack and decay) stay within a few
//! tenths, so with the same initial weights the means dominate the first layer. Trees are
//! blind to a feature's scale and the MLP is not; the normalisation gives every value the
//! unit spread it has over the training set.

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use polyphon_features::segment_frames;

/// Time segments of the pooling (as `polyphon_instruments::PooledSpectrum`).
pub const SEGMENTS: usize = 4;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    output: Linear,
    segments: usize,
}

impl Mlp {
    /// `hidden`: units of each hidden layer, e.g. `[64, 32]`.
    pub fn new(bins: usize, hidden: &[usize], classes: usize, device: &Device) -> Self {
        let mut width = SEGMENTS * 2 * bins;
        let mut layers = Vec::new();
        for &units in hidden {
            layers.push(LinearConfig::new(width, units).init(device));
            width = units;
        }
        Self {
            hidden: layers,
            output: LinearConfig::new(width, classes).init(device),
            segments: SEGMENTS,
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_pooled(pool(images, self.segments))
    }

    /// Logits of pooled vectors `(batch, segments · 2 · bins)`.
    fn forward_pooled(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.hidden {
            x = relu(layer.forward(x));
        }
        self.output.forward(x)
    }
}

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct NormalizedMlp {
    norm: BatchNorm,
    mlp: Mlp,
}

impl NormalizedMlp {
    pub fn new(bins: usize, hidden: &[usize], classes: usize, device: &Device) -> Self {
        Self {
            norm: BatchNormConfig::new(SEGMENTS * 2 * bins).init(device),
            mlp: Mlp::new(bins, hidden, classes, device),
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let pooled = pool(images, self.mlp.segments);
        self.mlp.forward_pooled(self.norm.forward(pooled))
    }
}

/// Per band, mean and standard deviation over `segments` equal time segments, laid out
/// segment by segment as `[means, stds]`: `(batch, segments · 2 · bins)`.
pub fn pool(images: Tensor<4>, segments: usize) -> Tensor<2> {
    let [batch, _, bins, frames] = images.dims();
    let mut parts = Vec::with_capacity(2 * segments);
    for segment in 0..segments {
        let x = images.clone().slice([
            0..batch,
            0..1,
            0..bins,
            segment_frames(frames, segments, segment),
        ]);
        let mean = x.clone().mean_dim(3);
        // The epsilon keeps the square root's gradient finite on constant (padded) bands.
        let std = (x - mean.clone())
            .powf_scalar(2.0)
            .mean_dim(3)
            .add_scalar(1e-6)
            .sqrt();
        parts.push(mean.reshape([batch, bins]));
        parts.push(std.reshape([batch, bins]));
    }
    Tensor::cat(parts, 1)
}
