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
//!
//! `mlp-onset` ([`OnsetMlp`]) pools in 6 segments that are short at the note's start and long
//! in its decay ([`polyphon_features::onset_segment_frames`]) instead of 4 equal ones: equal
//! segments average a plucked note's attack with its first second.

use std::ops::Range;

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use polyphon_features::{onset_segment_frames, segment_frames, ONSET_SEGMENTS};

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
        Self::with_segments(bins, hidden, classes, SEGMENTS, device)
    }

    /// As [`Self::new`], on a vector pooled in `segments` segments.
    fn with_segments(
        bins: usize,
        hidden: &[usize],
        classes: usize,
        segments: usize,
        device: &Device,
    ) -> Self {
        let mut width = segments * 2 * bins;
        let mut layers = Vec::new();
        for &units in hidden {
            layers.push(LinearConfig::new(width, units).init(device));
            width = units;
        }
        Self {
            hidden: layers,
            output: LinearConfig::new(width, classes).init(device),
            segments,
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

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct OnsetMlp {
    mlp: Mlp,
}

impl OnsetMlp {
    pub fn new(bins: usize, hidden: &[usize], classes: usize, device: &Device) -> Self {
        Self {
            mlp: Mlp::with_segments(bins, hidden, classes, ONSET_SEGMENTS, device),
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let frames = images.dims()[3];
        let segments = (0..ONSET_SEGMENTS).map(|k| onset_segment_frames(frames, k));
        self.mlp.forward_pooled(pool_in(images, segments))
    }
}

/// Per band, mean and standard deviation over `segments` equal time segments, laid out
/// segment by segment as `[means, stds]`: `(batch, segments · 2 · bins)`.
pub fn pool(images: Tensor<4>, segments: usize) -> Tensor<2> {
    let frames = images.dims()[3];
    pool_in(
        images,
        (0..segments).map(|k| segment_frames(frames, segments, k)),
    )
}

/// As [`pool`], in the given frame ranges.
fn pool_in(images: Tensor<4>, ranges: impl ExactSizeIterator<Item = Range<usize>>) -> Tensor<2> {
    let [batch, _, bins, _] = images.dims();
    let mut parts = Vec::with_capacity(2 * ranges.len());
    for range in ranges {
        let x = images.clone().slice([0..batch, 0..1, 0..bins, range]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// One band of `frames` frames: 1 in the first `lit`, 0 after.
    fn attack_image(frames: usize, lit: usize) -> Tensor<4> {
        let values: Vec<f32> = (0..frames).map(|t| f32::from(t < lit)).collect();
        Tensor::from_data(TensorData::new(values, [1, 1, 1, frames]), &Device::flex())
    }

    fn means(pooled: Tensor<2>) -> Vec<f32> {
        // Layout [mean, std] per segment, one band: the means are the even values.
        let values = pooled.into_data().try_to_vec::<f32>().unwrap();
        values.iter().step_by(2).copied().collect()
    }

    #[test]
    fn equal_segments_average_a_short_attack_away() {
        // A 64 ms attack in a 4 s clip (4 of 251 frames): a quarter's mean holds it at 1/16.
        let pooled = means(pool(attack_image(251, 4), SEGMENTS));
        assert!((pooled[0] - 4.0 / 62.0).abs() < 1e-6, "{pooled:?}");
        assert_eq!(&pooled[1..], [0.0; 3]);
    }

    #[test]
    fn onset_segments_keep_a_short_attack_whole() {
        let frames = 251;
        let ranges = (0..ONSET_SEGMENTS).map(|k| onset_segment_frames(frames, k));
        let pooled = means(pool_in(attack_image(frames, 4), ranges));
        assert_eq!(pooled, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn the_onset_mlp_reads_six_segments_of_every_band() {
        let net = OnsetMlp::new(8, &[4], 3, &Device::flex());
        let logits = net.forward(Tensor::zeros([2, 1, 8, 40], &Device::flex()));
        assert_eq!(logits.dims(), [2, 3]);
        assert_eq!(net.mlp.hidden[0].weight.dims(), [ONSET_SEGMENTS * 2 * 8, 4]);
    }
}
